package io.reskern.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.Device;
import io.reskern.Precision;
import io.reskern.ResNets;
import io.reskern.graph.Graph;
import io.reskern.graph.GraphBuilder;
import io.reskern.gpu.Gpu;
import io.reskern.weights.FoldedWeights;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A context called with ever new input sizes keeps a bounded number of plans (and, on a GPU, of captured CUDA graphs):
 * least recently used ones are dropped and made again when their size comes back, with the same results.
 */
class ExecutorCacheTest {
    private static float[] input(int n, int h, int w, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * 3 * h * w];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    @Test
    void cpuPlansAreBounded() throws Exception {
        Graph g = GraphBuilder.build(ResNets.byName("cifar_resnet20"));
        try (DeviceModel dm = Executors.load(g, FoldedWeights.random(g, 4), Device.CPU, Precision.FP32);
                CpuExecutor e = (CpuExecutor) dm.newContext()) {
            float[] first = new float[10];
            float[] x0 = input(1, 8, 8, 1);
            e.run(x0, 1, 8, 8, first);
            int sizes = BaseExecutor.PLAN_CACHE + 36;
            for (int i = 1; i < sizes; i++) { // 100 distinct input sizes
                int h = 8 + i % 10, w = 8 + i / 10;
                e.run(input(1, h, w, i), 1, h, w, new float[10]);
                assertTrue(e.cachedPlans() <= BaseExecutor.PLAN_CACHE, "plans cached: " + e.cachedPlans());
            }
            assertEquals(BaseExecutor.PLAN_CACHE, e.cachedPlans());
            float[] again = new float[10];
            e.run(x0, 1, 8, 8, again); // its plan was dropped long ago
            assertArrayEquals(first, again);
        }
    }

    @Test
    void everyInputSizeGetsItsOwnPlan() throws Exception {
        // the cache key used to be (n << 40) | (h << 20) | w: 1 x 64 x (2^20 + 64) found the plan of 1 x 65 x 64 and
        // ran on it (logits of the wrong pixels), 2^24 + 1 x 1 x 1 found batch 1's ("images outside the batch of 1")
        Graph g = GraphBuilder.build(ResNets.byName("cifar_resnet20"));
        try (DeviceModel dm = Executors.load(g, FoldedWeights.random(g, 4), Device.CPU, Precision.FP32);
                CpuExecutor e = (CpuExecutor) dm.newContext()) {
            e.planFor(1, 65, 64);
            io.reskern.graph.Plan wide = e.planFor(1, 64, (1 << 20) + 64);
            assertEquals(64, wide.height(0));
            assertEquals((1 << 20) + 64, wide.width(0));
            e.planFor(1, 1, 1);
            assertEquals((1 << 24) + 1, e.planFor((1 << 24) + 1, 1, 1).batch());
            assertEquals(4, e.cachedPlans());
        }
    }

    @Test
    @Tag("gpu")
    void cudaGraphsAreBounded() throws Exception {
        Gpu.require();
        Graph g = GraphBuilder.build(ResNets.byName("cifar_resnet20"));
        try (DeviceModel dm = Executors.load(g, FoldedWeights.random(g, 4), Device.cuda(0), Precision.FP32);
                CudaExecutor e = (CudaExecutor) dm.newContext()) {
            e.reserve(1, 14, 14); // no buffer growth below (growing drops every graph: they hold the old addresses)
            float[] first = new float[10];
            float[] x0 = input(1, 8, 8, 1);
            e.run(x0, 1, 8, 8, first);
            e.run(x0, 1, 8, 8, first); // the first call of a size ran eagerly and captured its graph: this one replays it
            int sizes = CudaExecutor.GRAPH_CACHE + 4;
            for (int i = 1; i < sizes; i++) {
                int h = 8 + i % 6, w = 8 + i / 6;
                float[] x = input(1, h, w, i);
                e.run(x, 1, h, w, new float[10]);
                e.run(x, 1, h, w, new float[10]);
                assertTrue(e.cachedGraphs() <= CudaExecutor.GRAPH_CACHE, "graphs held: " + e.cachedGraphs());
            }
            assertEquals(CudaExecutor.GRAPH_CACHE, e.cachedGraphs());
            float[] again = new float[10];
            e.run(x0, 1, 8, 8, again); // destroyed: runs eagerly again, then is captured again
            e.run(x0, 1, 8, 8, again);
            assertArrayEquals(first, again);
        }
    }
}
