package io.reskern.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.Device;
import io.reskern.Model;
import io.reskern.graph.Graph;
import io.reskern.graph.Node;
import io.reskern.serve.Predictor;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A fixed-window AveragePool flattened as if global (akamaster's {@code F.avg_pool2d(out, out.size()[3])}, traced: an
 * 8×8 AveragePool at 32×32) runs as the global pool at the input size the file declares and refuses every other size
 * by name (OnnxVariantsTest checks the values against torch float64 and ONNX Runtime at the declared size).
 */
class OnnxFixedSizeTest {
    private static Path file(String variant) {
        return OnnxGoldenTest.dir().resolve(variant + ".onnx");
    }

    @Test
    void fixedWindowPoolRunsOnlyAtTheDeclaredSize() throws Exception {
        for (String v : new String[] {"var_avg_pool_k", "var_akamaster", "var_akamaster_dyn_nofold"}) {
            Graph g = OnnxImporter.load(file(v)).graph();
            assertEquals(32, g.fixedInputSize().height(), v);
            assertEquals(32, g.fixedInputSize().width(), v);
            assertTrue(g.nodes().stream().noneMatch(n -> n instanceof Node.AvgPool), v + ": the pool runs as the global pool");
            try (Model m = Model.builder().onnx(file(v)).optDevice(Device.CPU).build()) {
                for (int[] hw : new int[][] {{16, 16}, {32, 40}, {64, 64}, {33, 33}}) {
                    int n = 2;
                    float[] x = random(n * 3 * hw[0] * hw[1]);
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                            () -> m.predict(x, n, hw[0], hw[1]), v);
                    assertTrue(e.getMessage().contains("runs only at input 32x32 (its 8x8 AveragePool is the global mean "
                            + "only at the 32x32 input the file declares), got " + hw[0] + "x" + hw[1]), e.getMessage());
                }
                assertEquals(2 * 10, m.predict(random(2 * 3 * 32 * 32), 2, 32, 32).length);
            }
        }
    }

    @Test
    void theTorchvision224AvgPool7TakesTheSamePath() throws Exception {
        Graph g = OnnxImporter.load(file("var_tv_avgpool7")).graph();
        assertEquals(new Graph.FixedSize(224, 224, "its 7x7 AveragePool is the global mean only at the 224x224 input "
                + "the file declares"), g.fixedInputSize());
        assertThrows(IllegalArgumentException.class, () -> g.plan(1, 256, 256));
    }

    @Test
    void thePredictorDefaultsToTheFixedSize() throws Exception {
        try (Predictor p = Predictor.builder(Model.builder().onnx(file("var_avg_pool_k")).optDevice(Device.CPU))
                .optWarmup(false).build()) {
            assertEquals(32, p.inputHeight());
            assertEquals(32, p.inputWidth());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Predictor.builder(Model.builder().onnx(file("var_avg_pool_k")).optDevice(Device.CPU))
                        .optInputSize(224, 224).build().close());
        assertTrue(e.getMessage().contains("runs only at input 32x32"), e.getMessage());
    }

    @Test
    void otherModelsHaveNoFixedSize() throws Exception {
        for (String v : new String[] {"var_view_dyn", "var_view_fixed1", "var_maxpool_ceil"}) {
            assertNull(OnnxImporter.load(file(v)).graph().fixedInputSize(), v);
        }
    }

    private static float[] random(int len) {
        Random r = new Random(len);
        float[] x = new float[len];
        for (int i = 0; i < len; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }
}
