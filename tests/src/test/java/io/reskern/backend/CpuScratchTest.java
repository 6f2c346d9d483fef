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
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The CPU ops' scratch (the zero-padded input copy of convs with at most 32 channels: stems, CIFAR ResNets) lives in
 * one pool shared by all calling threads. A service calling a model from a pool of hundreds of request threads must
 * not keep one copy per thread that ever called: the pool holds at most one buffer per conv running at the same time,
 * and closing a model frees the idle ones.
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
    void callsFromManyThreadsShareOneBuffer() throws Exception {
        float[] x = input(4, 32, 11);
        try (Model m = Model.builder().model("cifar_resnet20").optDevice(Device.CPU).build()) {
            CpuOps.trimScratch();
            float[] ref = m.predict(x, 4, 32, 32);
            long one = CpuOps.scratchBytes();
            // cifar_resnet20's 16-channel convs at 32x32 take the padded path: 4 images x 34 x 34 x 16 floats at least
            assertTrue(one >= 4L * 34 * 34 * 16 * 4, "scratch after one call: " + one);
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
                assertEquals(one, CpuOps.scratchBytes(), "24 live threads called: still one buffer");
            } finally {
                pool.shutdown();
            }
        }
        assertEquals(0, CpuOps.scratchBytes(), "closing the model frees the idle scratch");
    }

    @Test
    void concurrentContextsHoldAtMostOneBufferEach() throws Exception {
        Graph g = GraphBuilder.build(ResNets.byName("cifar_resnet20"));
        int contexts = 3;
        float[] x = input(2, 32, 12);
        try (DeviceModel dm = Executors.load(g, FoldedWeights.random(g, 3), Device.CPU, Precision.FP32)) {
            float[] ref = new float[20];
            long one;
            try (Executor e = dm.newContext()) {
                CpuOps.trimScratch();
                e.run(x, 2, 32, 32, ref);
                one = CpuOps.scratchBytes();
            }
            List<Executor> ex = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            AtomicReference<Throwable> err = new AtomicReference<>();
            CyclicBarrier start = new CyclicBarrier(contexts);
            try {
                for (int c = 0; c < contexts; c++) {
                    Executor e = dm.newContext();
                    ex.add(e);
                    Thread th = new Thread(() -> {
                        try {
                            start.await();
                            float[] y = new float[20];
                            for (int i = 0; i < 20; i++) {
                                e.run(x, 2, 32, 32, y);
                                assertArrayEquals(ref, y);
                            }
                        } catch (Throwable t) {
                            err.compareAndSet(null, t);
                        }
                    });
                    threads.add(th);
                    th.start();
                }
                for (Thread th : threads) {
                    th.join();
                }
                if (err.get() != null) {
                    throw new AssertionError(err.get());
                }
                long held = CpuOps.scratchBytes();
                assertTrue(held >= one && held <= contexts * one,
                        "3 contexts running at once hold " + held + " bytes of scratch; one call needs " + one);
            } finally {
                for (Executor e : ex) {
                    e.close();
                }
            }
            assertEquals(0, CpuOps.scratchBytes());
        }
    }
}
