package io.reskern.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.Device;
import io.reskern.Model;
import io.reskern.Precision;
import io.reskern.ResNets;
import io.reskern.graph.Graph;
import io.reskern.graph.GraphBuilder;
import io.reskern.nativelib.CpuOps;
import io.reskern.weights.FoldedWeights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The CPU ops' scratch (the zero-padded input copy of convs with at most 32 channels: stems, CIFAR ResNets). A CPU
 * context owns it as a workspace sized with its arena ({@code rk_cpu_conv2d_ws}), so a model called from a pool of
 * hundreds of request threads keeps no copy per thread and a reserved context allocates nothing per batch. Direct
 * callers of {@code rk_cpu_conv2d} share one pool instead (checked in {@code lab_cpu_conv_lab test}: one buffer per
 * call running at once, whatever the number of threads).
 */
class CpuScratchTest {
    private static float[] input(int n, int size, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * 3 * size * size];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    @Test
    void aModelCalledFromManyLiveThreadsKeepsNothingPerThread() throws Exception {
        float[] x = input(4, 32, 11);
        try (Model m = Model.builder().model("cifar_resnet20").optDevice(Device.CPU).build()) {
            CpuOps.trimScratch();
            float[] ref = m.predict(x, 4, 32, 32);
            assertEquals(0, CpuOps.scratchBytes(), "the context's own workspace, not the shared pool");
            // 24 request threads that stay alive (a server's pool), calling at once (the model serialises the calls)
            int threads = 24;
            ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
            try {
                Set<Thread> callers = ConcurrentHashMap.newKeySet();
                CountDownLatch allStarted = new CountDownLatch(threads);
                List<Future<?>> calls = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    final int batch = 1 + t % 4;
                    calls.add(pool.submit(() -> {
                        allStarted.countDown();
                        allStarted.await(); // every task on its own thread
                        callers.add(Thread.currentThread());
                        float[] y = m.predict(Arrays.copyOf(x, batch * 3 * 32 * 32), batch, 32, 32);
                        assertArrayEquals(Arrays.copyOf(ref, batch * 10), y);
                        return null;
                    }));
                }
                for (Future<?> f : calls) {
                    f.get();
                }
                assertEquals(threads, callers.size());
                assertEquals(0, CpuOps.scratchBytes(), "24 live threads called: nothing kept for any of them");
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void aReservedContextOwnsItsWorkspaceAndAllocatesNothingPerBatch() throws Exception {
        Graph g = GraphBuilder.build(ResNets.byName("cifar_resnet20"));
        float[] x = input(4, 32, 12);
        try (DeviceModel dm = Executors.load(g, FoldedWeights.random(g, 3), Device.CPU, Precision.FP32);
                Executor e = dm.newContext();
                Executor plain = dm.newContext()) {
            e.reserve(4, 32, 32);
            long reserved = e.contextBytes();
            // arena + input staging + the workspace: the 16-channel convs' padded copy, 4 x 34 x 34 x 16 floats
            long workspace = 4L * 34 * 34 * 16 * 4;
            assertTrue(reserved >= e.activationBytes() + 4L * 3 * 32 * 32 * 4 + workspace,
                    "context bytes " + reserved + " include the workspace (" + workspace + ")");
            CpuOps.trimScratch();
            for (int n : new int[] {4, 1, 3, 2, 4}) {
                float[] y = new float[n * 10];
                float[] ref = new float[n * 10];
                e.run(Arrays.copyOf(x, n * 3 * 32 * 32), n, 32, 32, y);
                plain.run(Arrays.copyOf(x, n * 3 * 32 * 32), n, 32, 32, ref);
                assertArrayEquals(ref, y, "batch " + n);
                assertEquals(reserved, e.contextBytes(), "batch " + n + " after reserve(4): no growth");
            }
            assertEquals(0, CpuOps.scratchBytes(), "no pool buffer: each context has its own workspace");
        }
    }
}
