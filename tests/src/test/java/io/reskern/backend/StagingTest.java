package io.reskern.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.reskern.Device;
import io.reskern.Precision;
import io.reskern.ResNets;
import io.reskern.graph.Graph;
import io.reskern.graph.GraphBuilder;
import io.reskern.weights.FoldedWeights;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The executor's staging calls write exactly the images they name (the Predictor zeroes padding and failed rows). */
class StagingTest {
    static final int S = 16;
    static final int IMG = 3 * S * S;

    @Test
    void stageZerosZeroesExactlyTheImagesItNames() throws Exception {
        // CpuExecutor.stageZeros zeroed from byte k instead of float k (JavaCPP's memset adds a FloatPointer's position
        // in bytes): a quarter of the way, inside the batch's first images, leaving the named ones as they were
        Graph g = GraphBuilder.build(ResNets.byName("cifar_resnet20"));
        try (DeviceModel dm = Executors.load(g, FoldedWeights.random(g, 4), Device.CPU, Precision.FP32);
                Executor e = dm.newContext()) {
            int n = 5;
            float[] x = new float[n * IMG];
            Random r = new Random(9);
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            int classes = g.classes();
            float[] one = new float[n * classes];
            float[] zero = new float[classes];
            for (int i = 0; i < n; i++) {
                float[] y = new float[classes];
                e.begin(1, S, S);
                e.stage(new InputData.HeapFloats(x, i * IMG), 0, 1);
                e.forward(y, 0);
                System.arraycopy(y, 0, one, i * classes, classes);
            }
            e.begin(1, S, S);
            e.stageZeros(0, 1);
            e.forward(zero, 0);
            for (int[] z : new int[][] {{3, 1}, {1, 2}, {4, 1}, {0, 5}}) {
                float[] out = new float[n * classes];
                e.begin(n, S, S);
                e.stage(new InputData.HeapFloats(x, 0), 0, n);
                e.stageZeros(z[0], z[1]);
                e.forward(out, 0);
                for (int i = 0; i < n; i++) {
                    boolean zeroed = i >= z[0] && i < z[0] + z[1];
                    float[] want = zeroed ? zero : Arrays.copyOfRange(one, i * classes, (i + 1) * classes);
                    assertArrayEquals(want, Arrays.copyOfRange(out, i * classes, (i + 1) * classes),
                            "image " + i + " after stageZeros(" + z[0] + ", " + z[1] + ")");
                }
            }
        }
    }
}
