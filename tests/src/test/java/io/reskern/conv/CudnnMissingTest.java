package io.reskern.conv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.ConvPolicy;
import io.reskern.Device;
import io.reskern.Devices;
import io.reskern.Model;
import io.reskern.backend.cudnn.Cudnn;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Without a GPU (CI): cuDNN is reported unavailable with a reason, loading the presets anyway fails cleanly (a
 * catchable error, not a dead JVM), and a model asking for cudnn/best still builds and runs where it can.
 */
class CudnnMissingTest {
    @Test
    void withoutAGpuThePresetsAreNotEvenLoaded() {
        Assumptions.assumeFalse(Devices.cuda().usable(), "a GPU is present: covered by the gpu tests");
        Cudnn.Status s = Cudnn.status();
        assertFalse(s.available());
        assertTrue(s.reason().contains("no usable GPU"), s.reason());
        assertTrue(s.describe().startsWith("cuDNN not available"), s.describe());
    }

    @Test
    void loadingThePresetsWithoutADriverFailsCleanly() {
        Assumptions.assumeFalse(Devices.cuda().usable(), "a GPU is present: covered by the gpu tests");
        Cudnn.Status s = Cudnn.loadWithoutGpuGateForTests(); // libjnicudart.so needs libcuda.so.1: UnsatisfiedLinkError
        assertFalse(s.available());
        assertTrue(s.reason().contains("UnsatisfiedLinkError") || s.reason().contains("NoClassDefFoundError")
                || s.reason().contains("not on the class path"), s.reason());
        Cudnn.Status again = Cudnn.loadWithoutGpuGateForTests(); // a second try must not crash either
        assertFalse(again.available());
    }

    @Test
    void cpuModelsIgnoreTheConvPolicy() throws Exception {
        float[] x = new float[3 * 32 * 32];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.sin(i);
        }
        float[] ref;
        try (Model m = Model.builder().model("cifar_resnet20").optDevice(Device.CPU).build()) {
            ref = m.predict(x, 1, 32, 32);
        }
        for (ConvPolicy p : ConvPolicy.values()) {
            try (Model m = Model.builder().model("cifar_resnet20").optDevice(Device.CPU).optConv(p).build()) {
                float[] y = m.predict(x, 1, 32, 32);
                assertEquals(ref.length, y.length);
                for (int i = 0; i < y.length; i++) {
                    assertEquals(ref[i], y[i], 0f, p.toString());
                }
            }
        }
    }

    @Test
    void policyParsing() {
        assertEquals(ConvPolicy.OWN, ConvPolicy.parse("own"));
        assertEquals(ConvPolicy.CUDNN, ConvPolicy.parse(" CuDNN "));
        assertEquals(ConvPolicy.BEST, ConvPolicy.parse("BEST"));
        for (String bad : new String[] {"", "fast", "cublas", null}) {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> ConvPolicy.parse(bad));
            assertTrue(e.getMessage().contains("own, cudnn or best"), e.getMessage());
        }
        assertFalse(ConvPolicy.OWN.usesCudnn());
        assertTrue(ConvPolicy.BEST.usesCudnn());
        assertEquals("best", ConvPolicy.BEST.toString());
    }
}
