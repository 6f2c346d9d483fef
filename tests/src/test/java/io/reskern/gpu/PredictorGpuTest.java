package io.reskern.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.Device;
import io.reskern.DeviceBuffer;
import io.reskern.Devices;
import io.reskern.Model;
import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.nativelib.CudaOps;
import io.reskern.serve.Input;
import io.reskern.serve.Predictions;
import io.reskern.serve.Predictor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The serving Predictor on a GPU: batching, bit-identity, device-resident inputs, out-of-memory, lifetime. Under the
 * host emulation ({@link Gpu#emulated}) images are 32×32 instead of 64×64 and the request counts are smaller (each
 * test says); the emulation can also present two devices ({@code RK_EMU_DEVICES=2}) for the multi-GPU test.
 */
@Tag("gpu")
@ExtendWith(GpuCondition.class)
class PredictorGpuTest {
    static final int S = Gpu.scale(64, 32);
    static final int IMG = 3 * S * S;

    @BeforeAll
    static void gpu() {
        Gpu.require();
    }

    static Model.Builder model(Precision p) {
        return Model.builder().model("resnet18").optClasses(100).optSeed(3).optDevice(Device.cuda(0)).optPrecision(p);
    }

    static float[] images(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * IMG];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    static long freeMemory() {
        LongPointer free = new LongPointer(1);
        assertEquals(0, CudaOps.deviceInfo(0, null, 0, new IntPointer(1), new IntPointer(1), new IntPointer(1),
                new LongPointer(1), free));
        assertTrue(free.get() >= 0, "free memory of cuda:0 could not be read (-1)");
        return free.get();
    }

    @Test
    void batchedResultsMatchTheCpuAndAreBitIdenticalAcrossThreadsAtOneBatchSize() throws Exception {
        int distinct = Gpu.scale(12, 6);
        int perThread = Gpu.scale(100, 4);
        List<float[]> in = new ArrayList<>();
        List<float[]> cpu = new ArrayList<>();
        try (Model ref = Model.builder().model("resnet18").optClasses(100).optSeed(3).build()) {
            for (int i = 0; i < distinct; i++) {
                in.add(images(1 + i % 2, i));
                cpu.add(ref.predict(in.get(i), 1 + i % 2, S, S));
            }
        }
        // one warmed batch size: every forward pass runs the same kernels, so a result cannot depend on its batch
        try (Predictor p = Predictor.builder(model(Precision.FP16)).optMaxBatch(8).optBatchSizes(8)
                .optInputSize(S, S).optMaxWait(Duration.ofMillis(2)).build()) {
            List<float[]> alone = new ArrayList<>();
            for (int i = 0; i < distinct; i++) {
                float[] g = p.predict(in.get(i), 1 + i % 2);
                double err = io.reskern.ops.Reference.relError(g, toDouble(cpu.get(i)));
                assertTrue(err < 3e-2, "fp16 vs CPU fp32 relative error " + err);
                alone.add(g);
            }
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<?>> fs = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    int seed = t;
                    fs.add(pool.submit(() -> {
                        Random r = new Random(seed);
                        for (int k = 0; k < perThread; k++) {
                            int i = r.nextInt(distinct);
                            assertArrayEquals(alone.get(i), p.predict(in.get(i), 1 + i % 2), "request " + i);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : fs) {
                    f.get(5, TimeUnit.MINUTES);
                }
            } finally {
                pool.shutdown();
            }
            assertTrue(p.stats().meanBatch() > 1.5, "mean batch " + p.stats().meanBatch());
            assertEquals(0, p.stats().failedRequests());
        }
    }

    @Test
    void deviceResidentInputNeedsNoHostCopyAndGivesTheSameLogits() throws Exception {
        float[] x = images(3, 17);
        try (Predictor p = Predictor.builder(model(Precision.FP32)).optMaxBatch(4).optBatchSizes(4).optInputSize(S, S).build();
             DeviceBuffer db = DeviceBuffer.allocate(Device.cuda(0), x.length)) {
            db.copyFrom(x, 0, x.length, 0);
            float[] back = new float[x.length];
            db.copyTo(0, back, 0, x.length);
            assertArrayEquals(x, back);
            float[] expected = p.predict(x, 3);
            assertArrayEquals(expected, p.predict(Input.of(db, 3)).logits());
            // a direct buffer is staged from native memory (no heap copy), at a non-zero position too
            java.nio.FloatBuffer direct = java.nio.ByteBuffer.allocateDirect((x.length + 5) * 4)
                    .order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
            direct.position(5);
            direct.put(x).position(5);
            assertArrayEquals(expected, p.predict(Input.nchw(direct, 3)).logits());
            // images further into a device buffer: one garbage image first
            try (DeviceBuffer db2 = DeviceBuffer.allocate(Device.cuda(0), x.length + IMG)) {
                db2.copyFrom(images(1, 99), 0, IMG, 0);
                db2.copyFrom(x, 0, x.length, IMG);
                assertArrayEquals(expected, p.predict(Input.of(db2, IMG, 3)).logits());
            }
        }
    }

    @Test
    void gpuOutOfMemoryAtBuildIsACheckedErrorAndLeaksNothing() throws Exception {
        long before = freeMemory();
        ReskernException e = assertThrows(ReskernException.class, () -> Predictor.builder(
                Model.builder().model("resnet50").optDevice(Device.cuda(0)).optPrecision(Precision.FP16))
                .optMaxBatch(1 << 16).optWarmup(false).build());
        assertEquals(ReskernException.ErrorCode.OUT_OF_MEMORY, e.code(), e.getMessage());
        long after = freeMemory();
        assertTrue(before - after < (64L << 20), "device memory leaked: " + ((before - after) >> 20) + " MiB");
        try (Predictor p = Predictor.builder(model(Precision.FP16)).optMaxBatch(2).optInputSize(S, S).build()) {
            assertEquals(100, p.predict(images(1, 1), 1).length); // the device is fine afterwards
        }
    }

    @Test
    void memoryIsFlatAfterWarmupAndCloseWaitsForInFlightRequests() throws Exception {
        Predictor p = Predictor.builder(model(Precision.BF16)).optMaxBatch(8).optInputSize(S, S).build();
        float[] x = images(1, 5);
        p.predict(x, 1);
        long warm = freeMemory();
        List<CompletableFuture<Predictions>> fs = new ArrayList<>();
        int requests = Gpu.scale(2000, 24);
        for (int i = 0; i < requests; i++) {
            fs.add(p.predictAsync(x, 1));
        }
        p.close(); // waits for every accepted request
        for (CompletableFuture<Predictions> f : fs) {
            assertTrue(f.isDone() && !f.isCompletedExceptionally());
        }
        long closed = freeMemory();
        assertTrue(closed >= warm, "closing must free the predictor's memory");
        assertThrows(IllegalStateException.class, () -> p.predict(x, 1));
    }

    @Test
    void decodedImagesArePreprocessedOnTheGpuLikeOnTheCpu() throws Exception {
        List<io.reskern.image.RgbImage> imgs = new ArrayList<>();
        Random r = new Random(8);
        int[][] sizes = {{300, 200}, {97, 131}, {64, 64}, {40, 500}};
        for (int[] hw : sizes) {
            byte[] px = new byte[hw[0] * hw[1] * 3];
            r.nextBytes(px);
            imgs.add(io.reskern.image.RgbImage.ofRgb(px, hw[0], hw[1]));
        }
        float[] cpu;
        try (Predictor p = Predictor.builder(Model.builder().model("resnet18").optClasses(100).optSeed(3))
                .optInputSize(S, S).optMaxBatch(4).build()) {
            cpu = p.predict(Input.images(imgs)).logits();
        }
        try (Predictor p = Predictor.builder(model(Precision.FP32)).optInputSize(S, S).optMaxBatch(4).build()) {
            float[] gpu = p.predict(Input.images(imgs)).logits();
            double err = io.reskern.ops.Reference.relError(gpu, toDouble(cpu));
            assertTrue(err < 1e-4, "GPU preprocessing + fp32 model vs CPU: relative error " + err);
            // one image per request, concurrently: the staging of one image never overwrites another's
            List<CompletableFuture<Predictions>> fs = new ArrayList<>();
            for (int rep = 0; rep < 4; rep++) {
                for (io.reskern.image.RgbImage im : imgs) {
                    fs.add(p.predictAsync(Input.image(im)));
                }
            }
            for (int i = 0; i < fs.size(); i++) {
                int k = i % imgs.size();
                double e = io.reskern.ops.Reference.relError(fs.get(i).get().logits(),
                        toDouble(java.util.Arrays.copyOfRange(cpu, k * 100, k * 100 + 100)));
                assertTrue(e < 1e-4, "request " + i + ": " + e);
            }
        }
    }

    @Test
    void onePredictorOverSeveralGpus() throws Exception {
        int gpus = Devices.cuda().gpus().size();
        Assumptions.assumeTrue(gpus >= 2, "needs two GPUs, found " + gpus);
        try (Predictor p = Predictor.builder(model(Precision.FP16)).optDevices(Device.cuda(0), Device.cuda(1))
                .optMaxBatch(4).optInputSize(S, S).build()) {
            assertEquals(List.of(Device.cuda(0), Device.cuda(1)), p.devices());
            for (int i = 0; i < Gpu.scale(50, 8); i++) {
                assertEquals(100, p.predict(images(1, i), 1).length);
            }
        }
    }

    /** The calling thread's current CUDA context (0: none). */
    static long currentContext() {
        try (PointerPointer<?> pp = new PointerPointer<>(1)) {
            assertEquals(0, CudaOps.contextGet(pp), CudaOps::lastError);
            return pp.get(0) == null ? 0 : pp.get(0).address();
        }
    }

    /** Every public entry point that runs CUDA on the caller's thread; after each, the thread's context must be as before. */
    static void useEveryEntryPoint(long expected) throws Exception {
        float[] x = images(2, 11);
        try (Model m = model(Precision.FP16).build()) {
            assertEquals(expected, currentContext(), "after Model.build");
            m.predict(x, 2, S, S);
            assertEquals(expected, currentContext(), "after Model.predict");
        }
        assertEquals(expected, currentContext(), "after Model.close");
        try (DeviceBuffer db = DeviceBuffer.allocate(Device.cuda(0), x.length)) {
            assertEquals(expected, currentContext(), "after DeviceBuffer.allocate");
            db.copyFrom(x, 0, x.length, 0);
            assertEquals(expected, currentContext(), "after DeviceBuffer.copyFrom");
            float[] back = new float[x.length];
            db.copyTo(0, back, 0, back.length);
            assertEquals(expected, currentContext(), "after DeviceBuffer.copyTo");
            assertArrayEquals(x, back);
            try (Predictor p = Predictor.builder(model(Precision.FP16)).optMaxBatch(2).optBatchSizes(2)
                    .optInputSize(S, S).build()) {
                assertEquals(expected, currentContext(), "after Predictor build");
                assertEquals(2 * 100, p.predict(x, 2).length);
                assertEquals(2 * 100, p.predict(Input.of(db, 2)).logits().length);
                assertEquals(expected, currentContext(), "after Predictor.predict");
            }
            assertEquals(expected, currentContext(), "after Predictor.close");
        }
        assertEquals(expected, currentContext(), "after DeviceBuffer.close");
    }

    static void onFreshThread(String name, org.junit.jupiter.api.function.Executable body) throws Exception {
        Throwable[] failure = new Throwable[1];
        Thread t = new Thread(() -> {
            try {
                body.execute();
            } catch (Throwable e) {
                failure[0] = e;
            }
        }, name);
        t.start();
        t.join();
        if (failure[0] instanceof Exception e) {
            throw e;
        } else if (failure[0] instanceof Error e) {
            throw e;
        }
    }

    @Test
    void callerThreadKeepsItsCudaContext() throws Exception {
        // a thread that never used CUDA has no context, and must not be given one (a context costs device memory)
        onFreshThread("no-context", () -> {
            assertEquals(0, currentContext(), "a new thread has no current CUDA context");
            useEveryEntryPoint(0);
        });
        // a thread on another device (with one GPU: on cuda:0's primary context) stays there
        int other = Devices.cuda().gpus().size() > 1 ? 1 : 0;
        onFreshThread("on-cuda" + other, () -> {
            assertEquals(0, CudaOps.setDevice(other), CudaOps::lastError);
            long mine = currentContext();
            assertTrue(mine != 0, "cudaSetDevice made a context current");
            useEveryEntryPoint(mine);
        });
    }
}
