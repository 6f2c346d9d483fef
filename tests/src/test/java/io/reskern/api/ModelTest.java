package io.reskern.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.Device;
import io.reskern.Devices;
import io.reskern.Model;
import io.reskern.Precision;
import io.reskern.ReskernException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The Java API contract on the CPU: determinism, thread safety, misuse errors, lifetime. */
class ModelTest {
    static float[] input(int n, int h, int w, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * 3 * h * w];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    @Test
    void concurrentCallsAreBitIdenticalToSequentialOnes() throws Exception {
        try (Model m = Model.builder().model("cifar_resnet20").optDevice(Device.CPU).build()) {
            List<float[]> inputs = new ArrayList<>();
            List<float[]> expected = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                inputs.add(input(1 + i % 3, 32 + i % 2, 32, i));
                expected.add(m.predict(inputs.get(i), 1 + i % 3, 32 + i % 2, 32));
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<float[]>> got = new ArrayList<>();
                for (int rep = 0; rep < 5; rep++) {
                    for (int i = 0; i < 8; i++) {
                        int k = i;
                        got.add(pool.submit(() -> m.predict(inputs.get(k), 1 + k % 3, 32 + k % 2, 32)));
                    }
                }
                for (int j = 0; j < got.size(); j++) {
                    assertArrayEquals(expected.get(j % 8), got.get(j).get(), "call " + j);
                }
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void misuseIsAClearUncheckedException() throws Exception {
        long bytes = org.bytedeco.javacpp.Pointer.totalBytes();
        Model m = Model.builder().model("cifar_resnet20").build();
        m.predict(input(2, 32, 32, 1), 2, 32, 32);
        assertThrows(IllegalArgumentException.class, () -> m.predict(new float[10], 1, 32, 32));
        assertThrows(IllegalArgumentException.class, () -> m.predict(new float[0], 0, 32, 32));
        assertThrows(NullPointerException.class, () -> m.predict(null, 1, 32, 32));
        // n·3·h·w wraps around a long to 0 here: must still be a size error, not an attempt to plan it
        IllegalArgumentException huge = assertThrows(IllegalArgumentException.class,
                () -> m.predict(new float[0], 1 << 22, 1 << 21, 1 << 21));
        assertTrue(huge.getMessage().contains("4194304x3x2097152x2097152"), huge.getMessage());
        m.close();
        assertEquals(bytes, org.bytedeco.javacpp.Pointer.totalBytes(), "close() frees every native byte");
        m.close(); // idempotent
        Throwable[] fromOther = new Throwable[1];
        Thread other = new Thread(() -> {
            try {
                m.predict(input(1, 32, 32, 1), 1, 32, 32);
            } catch (Throwable t) {
                fromOther[0] = t;
            }
        });
        other.start();
        other.join();
        assertTrue(fromOther[0] instanceof IllegalStateException, "closed, seen from another thread: " + fromOther[0]);
        assertThrows(IllegalStateException.class, () -> m.predict(input(1, 32, 32, 1), 1, 32, 32));
        assertThrows(IllegalStateException.class, () -> Model.builder().build());
    }

    @Test
    void deviceAndPrecisionErrorsAreCheckedExceptionsWithCodes() {
        ReskernException e = assertThrows(ReskernException.class,
                () -> Model.builder().model("cifar_resnet20").optPrecision(Precision.FP16).build());
        assertEquals(ReskernException.ErrorCode.UNSUPPORTED, e.code());
        if (!Devices.cuda().usable()) {
            ReskernException g = assertThrows(ReskernException.class,
                    () -> Model.builder().model("cifar_resnet20").optDevice(Device.cuda(0)).build());
            assertEquals(ReskernException.ErrorCode.NO_DEVICE, g.code());
            assertEquals(Device.CPU, Device.parse("auto"));
        }
    }

    @Test
    void nanInputsPropagateInsteadOfCrashing() throws Exception {
        try (Model m = Model.builder().model("cifar_resnet20").build()) {
            float[] x = input(1, 32, 32, 3);
            x[5] = Float.NaN;
            float[] y = m.predict(x, 1, 32, 32);
            boolean anyNaN = false;
            for (float v : y) {
                anyNaN |= Float.isNaN(v);
            }
            assertTrue(anyNaN, "a NaN pixel must not silently vanish");
        }
    }

    @Test
    void activationMemoryIsPlannedAndReported() throws Exception {
        try (Model m = Model.builder().model("resnet18").optClasses(10).build()) {
            m.predict(input(1, 64, 64, 1), 1, 64, 64);
            long a = m.activationBytes();
            assertTrue(a > 0);
            m.predict(input(2, 64, 64, 1), 2, 64, 64);
            assertTrue(m.activationBytes() >= 2 * a - 4096);
        }
    }
}
