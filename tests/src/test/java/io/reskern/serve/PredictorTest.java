package io.reskern.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.Device;
import io.reskern.DeviceBuffer;
import io.reskern.Model;
import io.reskern.ReskernException;
import io.reskern.ResNets;
import io.reskern.image.Preprocess;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The serving contract on the CPU: thread safety, bit-identity under batching, inputs, misuse, lifetime. */
class PredictorTest {
    static final int S = 32;
    static final int IMG = 3 * S * S;
    static Model reference;

    @BeforeAll
    static void setUp() throws ReskernException {
        reference = cifar().build();
    }

    @AfterAll
    static void tearDown() {
        reference.close();
    }

    static Model.Builder cifar() {
        return Model.builder().model("cifar_resnet20").optSeed(11);
    }

    static float[] images(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * IMG];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    @Test
    void eightThreadsGetBitIdenticalResultsAndRequestsAreBatched() throws Exception {
        int distinct = 24;
        List<float[]> in = new ArrayList<>();
        List<float[]> expected = new ArrayList<>();
        for (int i = 0; i < distinct; i++) {
            int n = 1 + i % 3;
            in.add(images(n, 100 + i));
            expected.add(reference.predict(in.get(i), n, S, S)); // single-threaded, one request per call
        }
        try (Predictor p = Predictor.builder(cifar()).optMaxBatch(8).optMaxWait(Duration.ofMillis(5)).build()) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<?>> fs = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    int seed = t;
                    fs.add(pool.submit(() -> {
                        Random r = new Random(seed);
                        for (int k = 0; k < 60; k++) {
                            int i = r.nextInt(distinct);
                            float[] got = p.predict(in.get(i), 1 + i % 3);
                            assertArrayEquals(expected.get(i), got, "request " + i);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : fs) {
                    f.get(2, TimeUnit.MINUTES);
                }
            } finally {
                pool.shutdown();
            }
            Predictor.Stats st = p.stats();
            assertEquals(480, st.requests());
            assertEquals(0, st.failedRequests());
            assertTrue(st.meanBatch() > 1.5, "8 concurrent callers should share forward passes, mean batch " + st.meanBatch());
        }
    }

    @Test
    void everyInputKindGivesTheSameLogits() throws Exception {
        float[] x = images(2, 5);
        float[] want = reference.predict(x, 2, S, S);
        try (Predictor p = Predictor.builder(cifar()).optMaxBatch(4).build()) {
            assertArrayEquals(want, p.predict(x, 2));
            assertArrayEquals(want, p.predict(Input.nchw(FloatBuffer.wrap(x), 2)).logits());
            // a heap FloatBuffer with a position and an array offset
            float[] padded = new float[x.length + 10];
            System.arraycopy(x, 0, padded, 7, x.length);
            FloatBuffer heap = FloatBuffer.wrap(padded, 7, x.length).slice();
            assertArrayEquals(want, p.predict(Input.nchw(heap, 2)).logits());
            // direct buffers: read in place, also from a non-zero position
            ByteBuffer bb = ByteBuffer.allocateDirect((x.length + 3) * 4).order(ByteOrder.nativeOrder());
            FloatBuffer direct = bb.asFloatBuffer();
            direct.position(3);
            direct.put(x);
            direct.position(3);
            assertArrayEquals(want, p.predict(Input.nchw(direct, 2)).logits());
            bb.position(12);
            assertArrayEquals(want, p.predict(Input.nchw(bb, 2)).logits());
            // big-endian bytes (heap): converted in one bulk copy
            ByteBuffer be = ByteBuffer.allocate(x.length * 4).order(ByteOrder.BIG_ENDIAN);
            be.asFloatBuffer().put(x);
            assertArrayEquals(want, p.predict(Input.nchw(be, 2)).logits());
            // an unaligned direct ByteBuffer
            ByteBuffer un = ByteBuffer.allocateDirect(x.length * 4 + 1).order(ByteOrder.nativeOrder());
            un.position(1);
            un.slice().order(ByteOrder.nativeOrder()).asFloatBuffer().put(x);
            assertArrayEquals(want, p.predict(Input.nchw(un, 2)).logits());
            // "device" memory of the CPU: native host memory, read without any copy
            try (DeviceBuffer db = DeviceBuffer.allocate(Device.CPU, x.length + IMG)) {
                db.copyFrom(x, 0, x.length, IMG);
                assertArrayEquals(want, p.predict(Input.of(db, IMG, 2)).logits());
                float[] back = new float[x.length];
                db.copyTo(IMG, back, 0, x.length);
                assertArrayEquals(x, back);
            }
        }
    }

    @Test
    void misuseIsReportedAtTheCallWithAClearMessage() throws Exception {
        try (Predictor p = Predictor.builder(cifar()).optMaxBatch(4).build()) {
            IllegalArgumentException len = assertThrows(IllegalArgumentException.class, () -> p.predict(new float[IMG + 1], 1));
            assertTrue(len.getMessage().contains("expected N*3*H*W = 3072"), len.getMessage());
            IllegalArgumentException big = assertThrows(IllegalArgumentException.class, () -> p.predict(images(5, 1), 5));
            assertTrue(big.getMessage().contains("maximum batch of 4"), big.getMessage());
            assertThrows(IllegalArgumentException.class, () -> p.predict(images(1, 1), 0));
            assertThrows(NullPointerException.class, () -> p.predict((float[]) null, 1));
            // wrong dtype: bytes that are not float32 (3 bytes per "value"), a direct buffer in the wrong byte order
            IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class,
                    () -> p.predict(Input.nchw(ByteBuffer.allocate(IMG * 3 + 1), 1)));
            assertTrue(dtype.getMessage().contains("multiple of 4 bytes"), dtype.getMessage());
            ByteOrder other = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
            assertThrows(IllegalArgumentException.class,
                    () -> Input.nchw(ByteBuffer.allocateDirect(IMG * 4).order(other).asFloatBuffer(), 1));
            // uint8 pixels passed as if they were floats: the size is wrong
            assertThrows(IllegalArgumentException.class, () -> p.predict(Input.nchw(ByteBuffer.allocate(IMG), 1)));
            // NaN / infinity
            float[] x = images(2, 3);
            x[IMG + 5 * S + 7] = Float.NaN;
            IllegalArgumentException nan = assertThrows(IllegalArgumentException.class, () -> p.predict(x, 2));
            assertTrue(nan.getMessage().contains("image 1, channel 0, y 5, x 7"), nan.getMessage());
            x[IMG + 5 * S + 7] = Float.POSITIVE_INFINITY;
            assertThrows(IllegalArgumentException.class, () -> p.predict(x, 2));
            // a buffer on a device the predictor does not use, a closed buffer
            DeviceBuffer gpu = DeviceBuffer.wrap(Device.cuda(0), 0x1000, IMG);
            IllegalArgumentException dev = assertThrows(IllegalArgumentException.class, () -> p.predict(Input.of(gpu, 1)));
            assertTrue(dev.getMessage().contains("runs on [cpu]"), dev.getMessage());
            DeviceBuffer db = DeviceBuffer.allocate(Device.CPU, IMG);
            db.close();
            assertThrows(IllegalStateException.class, () -> p.predict(Input.of(db, 1)));
            // the predictor still works after all that
            assertArrayEquals(reference.predict(images(1, 9), 1, S, S), p.predict(images(1, 9), 1));
            assertEquals(0, p.stats().failedRequests());
        }
    }

    @Test
    void nanPassesWhenAskedAndStaysInItsOwnImage() throws Exception {
        float[] clean = images(3, 8);
        float[] want = reference.predict(clean, 3, S, S);
        float[] x = clean.clone();
        x[IMG + 100] = Float.NaN;
        try (Predictor p = Predictor.builder(cifar()).optCheckFinite(false).optMaxBatch(8).build()) {
            Predictions got = p.predict(Input.nchw(x, 3));
            assertArrayEquals(Arrays.copyOfRange(want, 0, 10), got.logits(0));
            assertArrayEquals(Arrays.copyOfRange(want, 20, 30), got.logits(2));
            assertTrue(Float.isNaN(got.logits(1)[0]));
            assertEquals(-1, got.argmax(1));
            assertTrue(Double.isNaN(got.probabilities(1)[3]));
        }
    }

    @Test
    void closeWaitsForAcceptedRequestsAndRejectsNewOnes() throws Exception {
        Predictor p = Predictor.builder(cifar()).optMaxBatch(2).optMaxWait(Duration.ZERO).build();
        float[] x = images(1, 4);
        float[] want = reference.predict(x, 1, S, S);
        List<CompletableFuture<Predictions>> accepted = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            accepted.add(p.predictAsync(x, 1));
        }
        CountDownLatch started = new CountDownLatch(1);
        Thread closer = new Thread(() -> {
            started.countDown();
            p.close();
        });
        closer.start();
        started.await();
        closer.join(60_000);
        assertTrue(!closer.isAlive(), "close() must return once accepted requests are done");
        for (CompletableFuture<Predictions> f : accepted) {
            assertTrue(f.isDone());
            assertArrayEquals(want, f.get().logits());
        }
        assertThrows(IllegalStateException.class, () -> p.predict(x, 1));
        assertThrows(IllegalStateException.class, () -> p.predictAsync(x, 1));
        p.close(); // idempotent
    }

    @Test
    void closeFromSeveralThreadsWhileOthersSubmitNeverLosesARequest() throws Exception {
        Predictor p = Predictor.builder(cifar()).optContexts(2).optMaxBatch(4).optMaxWait(Duration.ofMillis(1)).build();
        float[] x = images(1, 17);
        float[] want = reference.predict(x, 1, S, S);
        List<CompletableFuture<Predictions>> accepted = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> submitters = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread th = new Thread(() -> {
                try {
                    while (true) {
                        accepted.add(p.predictAsync(x, 1));
                        Thread.sleep(1);
                    }
                } catch (IllegalStateException | InterruptedException closed) {
                    // refused after close: the expected end
                }
            });
            submitters.add(th);
            th.start();
        }
        Thread.sleep(300);
        List<Thread> closers = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
            Thread th = new Thread(p::close);
            closers.add(th);
            th.start();
        }
        for (Thread th : closers) {
            th.join(60_000);
            assertTrue(!th.isAlive(), "close() returned in every thread");
        }
        for (Thread th : submitters) {
            th.join(60_000);
            assertTrue(!th.isAlive(), "every submitter was refused after close");
        }
        assertTrue(accepted.size() > 4, "requests were accepted: " + accepted.size());
        for (CompletableFuture<Predictions> f : accepted) {
            assertTrue(f.isDone(), "an accepted request is done when close() returns");
            assertArrayEquals(want, f.get().logits());
        }
        assertEquals(accepted.size(), p.stats().requests());
    }

    /**
     * A predictor whose requests run in pairs: a callback attached to the first of two requests surely runs on a
     * reskern worker (attached to a request that may already be done, it runs in the attaching thread instead).
     */
    static Predictor pairs() throws ReskernException {
        return Predictor.builder(cifar()).optMaxBatch(2).optMaxWait(Duration.ofDays(1)).build();
    }

    /** Runs {@code callback} on a reskern worker thread of {@code p} (a {@link #pairs()} predictor). */
    static void onWorker(Predictor p, Runnable callback) {
        p.predictAsync(images(1, 1), 1).whenComplete((r, e) -> callback.run());
        p.predictAsync(images(1, 1), 1); // completes the pair
    }

    @Test
    void closeFromACompletionCallbackIsRefusedInsteadOfDeadlocking() throws Exception {
        try (Predictor p = pairs()) {
            CompletableFuture<Throwable> seen = new CompletableFuture<>();
            onWorker(p, () -> {
                try {
                    p.close();
                    seen.complete(null);
                } catch (Throwable t) {
                    seen.complete(t);
                }
            });
            Throwable t = seen.get(1, TimeUnit.MINUTES);
            assertTrue(t instanceof IllegalStateException, String.valueOf(t));
            CompletableFuture<Predictions> a = p.predictAsync(images(1, 2), 1); // still open
            assertEquals(10, p.predict(images(1, 2), 1).length);
            assertEquals(10, a.get(1, TimeUnit.MINUTES).logits().length);
        }
    }

    @Test
    void closeFromAThreadACallbackStartedIsAllowed() throws Exception {
        // threads started on a reskern thread inherit its thread group (so do ForkJoinPool workers spawned there):
        // only the predictor's own threads may be refused
        Predictor p = pairs();
        CompletableFuture<Throwable> seen = new CompletableFuture<>();
        onWorker(p, () -> new Thread(() -> {
            try {
                p.close();
                seen.complete(null);
            } catch (Throwable t) {
                seen.complete(t);
            }
        }).start());
        assertEquals(null, seen.get(1, TimeUnit.MINUTES));
        assertThrows(IllegalStateException.class, () -> p.predictAsync(images(1, 1), 1));
    }

    @Test
    void twoPredictorsWhoseCallbacksCloseEachOtherDoNotDeadlock() throws Exception {
        // A's callback closing B while B's callback closes A: each close() used to wait for the other's callback
        Predictor a = pairs();
        Predictor b = pairs();
        java.util.concurrent.CyclicBarrier both = new java.util.concurrent.CyclicBarrier(2);
        CompletableFuture<Throwable> fromA = new CompletableFuture<>();
        CompletableFuture<Throwable> fromB = new CompletableFuture<>();
        onWorker(a, () -> {
            try {
                both.await(1, TimeUnit.MINUTES);
                b.close();
                fromA.complete(null);
            } catch (Throwable t) {
                fromA.complete(t);
            }
        });
        onWorker(b, () -> {
            try {
                both.await(1, TimeUnit.MINUTES);
                a.close();
                fromB.complete(null);
            } catch (Throwable t) {
                fromB.complete(t);
            }
        });
        assertEquals(null, fromA.get(1, TimeUnit.MINUTES));
        assertEquals(null, fromB.get(1, TimeUnit.MINUTES));
        assertThrows(IllegalStateException.class, () -> a.predictAsync(images(1, 1), 1), "closed at once");
        assertThrows(IllegalStateException.class, () -> b.predictAsync(images(1, 1), 1));
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while ((a.memoryBytes() != 0 || b.memoryBytes() != 0) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(0, a.memoryBytes(), "freed once its callback returned");
        assertEquals(0, b.memoryBytes());
        a.close(); // and a close from an ordinary thread afterwards waits for nothing more
        b.close();
    }

    @Test
    void blockingPredictFromACompletionCallbackIsRefusedInsteadOfDeadlocking() throws Exception {
        try (Predictor p = pairs()) { // one context: a blocking call there waits for itself
            float[] x = images(1, 1);
            CompletableFuture<Object> seen = new CompletableFuture<>();
            onWorker(p, () -> {
                try {
                    seen.complete(p.predict(x, 1));
                } catch (Throwable t) {
                    seen.complete(t);
                }
            });
            Object got = seen.get(1, TimeUnit.MINUTES);
            assertTrue(got instanceof IllegalStateException, String.valueOf(got));
            assertTrue(((Throwable) got).getMessage().contains("predictAsync"), ((Throwable) got).getMessage());
            // predictAsync from a callback is fine: it does not wait
            CompletableFuture<Predictions> chained = new CompletableFuture<>();
            onWorker(p, () -> p.predictAsync(x, 1).whenComplete((r, e) -> chained.complete(r)));
            p.predictAsync(x, 1); // the chained request's partner
            assertArrayEquals(reference.predict(x, 1, S, S), chained.get(1, TimeUnit.MINUTES).logits());
        }
    }

    @Test
    void aHugeMaxWaitMeansWaitForAFullBatch() throws Exception {
        // Duration.toNanos() overflows above ~292 years: that used to fail build() after the weights were loaded
        // (and leak them)
        try (Predictor p = Predictor.builder(cifar()).optMaxBatch(2).optMaxWait(Duration.ofDays(365L * 1000)).build()) {
            float[] x = images(1, 6);
            CompletableFuture<Predictions> first = p.predictAsync(x, 1);
            Thread.sleep(200);
            assertTrue(!first.isDone(), "a lone request waits for the batch to fill");
            CompletableFuture<Predictions> second = p.predictAsync(x, 1);
            float[] want = reference.predict(x, 1, S, S);
            assertArrayEquals(want, first.get(1, TimeUnit.MINUTES).logits());
            assertArrayEquals(want, second.get(1, TimeUnit.MINUTES).logits());
            assertEquals(1, p.stats().batches());
        }
    }

    @Test
    void aRequestWhoseStagingFailsFailsAloneNotItsBatch() throws Exception {
        // one request's staging failure (e.g. an image too large to stage: out of memory) used to fail every
        // request of its batch
        try (Predictor p = Predictor.builder(cifar()).optMaxBatch(3).optMaxWait(Duration.ofDays(1)).build()) {
            float[] a = images(1, 21);
            float[] c = images(1, 22);
            Input bad = Input.nchw(images(1, 23), 1);
            java.util.Set<Input> failing = java.util.concurrent.ConcurrentHashMap.newKeySet();
            failing.add(bad);
            Predictor.beforeStaging = in -> {
                if (failing.contains(in)) {
                    throw new OutOfMemoryError("test: staging " + in);
                }
            };
            CompletableFuture<Predictions> fa = p.predictAsync(a, 1);
            CompletableFuture<Predictions> fb = p.predictAsync(bad);
            CompletableFuture<Predictions> fc = p.predictAsync(c, 1); // the batch is full at 3 images
            assertArrayEquals(reference.predict(a, 1, S, S), fa.get(1, TimeUnit.MINUTES).logits());
            assertArrayEquals(reference.predict(c, 1, S, S), fc.get(1, TimeUnit.MINUTES).logits());
            ExecutionException e = assertThrows(ExecutionException.class, () -> fb.get(1, TimeUnit.MINUTES));
            assertTrue(e.getCause() instanceof OutOfMemoryError, e.getCause().toString());
            Predictor.Stats st = p.stats();
            assertEquals(1, st.batches(), "one pass for the two good requests");
            assertEquals(2, st.requests());
            assertEquals(2, st.images());
            assertEquals(1, st.failedRequests());
            // a batch whose every request fails runs no pass, and the predictor keeps serving
            List<CompletableFuture<Predictions>> all = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Input in = Input.nchw(images(1, 30 + i), 1);
                failing.add(in);
                all.add(p.predictAsync(in));
            }
            for (CompletableFuture<Predictions> g : all) {
                assertThrows(ExecutionException.class, () -> g.get(1, TimeUnit.MINUTES));
            }
            assertEquals(1, p.stats().batches(), "a batch whose every request failed runs no pass");
            assertEquals(4, p.stats().failedRequests());
            float[] x = images(3, 24);
            assertArrayEquals(reference.predict(x, 3, S, S), p.predict(Input.nchw(x, 3)).logits(), "still serving");
        } finally {
            Predictor.beforeStaging = null;
        }
    }

    @Test
    void aFullQueueRefusesRequestsAsOverloadedInsteadOfGrowing() throws Exception {
        // asynchronous callers faster than the model grew the queue (and the inputs it holds) without bound
        try (Predictor p = Predictor.builder(cifar()).optMaxBatch(2).optMaxWait(Duration.ofDays(1)).optMaxQueued(2).build()) {
            CountDownLatch hold = new CountDownLatch(1);
            float[] x = images(1, 40);
            float[] want = reference.predict(x, 1, S, S);
            CompletableFuture<Predictions> a1 = p.predictAsync(x, 1); // waits for a partner: its callback is registered first
            a1.whenComplete((r, e) -> { // runs on the worker: the only context stays busy until the latch opens
                try {
                    hold.await(1, TimeUnit.MINUTES);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                }
            });
            CompletableFuture<Predictions> a2 = p.predictAsync(x, 1); // the pair runs
            Thread.sleep(200);
            CompletableFuture<Predictions> b = p.predictAsync(x, 1); // taken by the dispatcher, which waits for the context
            Thread.sleep(300);
            CompletableFuture<Predictions> c = p.predictAsync(x, 1); // queued: 1 image
            CompletableFuture<Predictions> d = p.predictAsync(x, 1); // queued: 2 images, the limit
            CompletableFuture<Predictions> e = p.predictAsync(x, 1); // refused
            ExecutionException ee = assertThrows(ExecutionException.class, () -> e.get(1, TimeUnit.SECONDS));
            ReskernException re = (ReskernException) ee.getCause();
            assertEquals(ReskernException.ErrorCode.OVERLOADED, re.code());
            assertTrue(re.getMessage().contains("optMaxQueued"), re.getMessage());
            ReskernException blocking = assertThrows(ReskernException.class, () -> p.predict(Input.nchw(x, 1)));
            assertEquals(ReskernException.ErrorCode.OVERLOADED, blocking.code(), "predict() throws it at once");
            assertTrue(!b.isDone() && !c.isDone() && !d.isDone());
            assertEquals(2, p.stats().queuedImages(), "c and d wait in the queue");
            hold.countDown();
            for (CompletableFuture<Predictions> g : List.of(a1, a2, b, c)) { // b and c make the next pair
                assertArrayEquals(want, g.get(1, TimeUnit.MINUTES).logits());
            }
            CompletableFuture<Predictions> f = p.predictAsync(x, 1); // d's partner: accepted again, the queue drained
            assertArrayEquals(want, d.get(1, TimeUnit.MINUTES).logits());
            assertArrayEquals(want, f.get(1, TimeUnit.MINUTES).logits());
            assertEquals(2, p.stats().rejectedRequests());
            assertEquals(0, p.stats().failedRequests());
            assertEquals(0, p.stats().queuedImages());
        }
        assertThrows(IllegalArgumentException.class, () -> Predictor.builder(cifar()).optMaxQueued(0));
    }

    @Test
    void aRequestCancelledWhileItWaitsIsNotRun() throws Exception {
        // a caller that gave up (cancel(), orTimeout()) still had its images run: wasted work when overloaded
        try (Predictor p = pairs()) {
            float[] x = images(1, 41);
            CompletableFuture<Predictions> gaveUp = p.predictAsync(x, 1);
            assertTrue(gaveUp.cancel(false));
            CompletableFuture<Predictions> kept = p.predictAsync(x, 1); // completes the pair
            assertArrayEquals(reference.predict(x, 1, S, S), kept.get(1, TimeUnit.MINUTES).logits());
            assertEquals(1, p.stats().requests(), "only the kept request counts as answered");
            assertEquals(1, p.stats().images());
            CompletableFuture<Predictions> c1 = p.predictAsync(x, 1).orTimeout(1, TimeUnit.MILLISECONDS);
            assertThrows(ExecutionException.class, () -> c1.get(1, TimeUnit.MINUTES)); // timed out: done
            CompletableFuture<Predictions> c2 = p.predictAsync(x, 1); // the pair's second
            assertArrayEquals(reference.predict(x, 1, S, S), c2.get(1, TimeUnit.MINUTES).logits());
            assertEquals(2, p.stats().requests());
            assertEquals(2, p.stats().images());
            assertEquals(0, p.stats().failedRequests());
        }
    }

    @Test
    void aDeviceBufferRequestSharesABatchOnASingleDevicePredictor() throws Exception {
        // a DeviceBuffer input used to run in a batch of its own, even when the predictor has one device
        try (Predictor p = pairs(); DeviceBuffer db = DeviceBuffer.allocate(Device.CPU, IMG)) {
            float[] x = images(1, 42);
            float[] y = images(1, 43);
            db.copyFrom(y, 0, IMG, 0);
            CompletableFuture<Predictions> a = p.predictAsync(x, 1);
            CompletableFuture<Predictions> b = p.predictAsync(Input.of(db, 1)); // completes the pair
            assertArrayEquals(reference.predict(x, 1, S, S), a.get(1, TimeUnit.MINUTES).logits());
            assertArrayEquals(reference.predict(y, 1, S, S), b.get(1, TimeUnit.MINUTES).logits());
            assertEquals(1, p.stats().batches(), "one pass for both");
        }
    }

    @Test
    void anInterruptedDispatcherKeepsServing() throws Exception {
        // an interrupt (a framework interrupting every thread, a callback on the dispatcher) used to end the
        // dispatcher silently: the request it held and every later one waited forever
        java.util.Set<Thread> before = Thread.getAllStackTraces().keySet();
        try (Predictor p = Predictor.builder(cifar()).optMaxBatch(2).optMaxWait(Duration.ofDays(1)).build()) {
            Thread dispatcher = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> !before.contains(t) && t.getName().startsWith("reskern-") && t.getName().endsWith("-dispatch"))
                    .findFirst().orElseThrow();
            float[] x = images(1, 13);
            float[] want = reference.predict(x, 1, S, S);
            CompletableFuture<Predictions> first = p.predictAsync(x, 1); // held while the batch fills
            Thread.sleep(100);
            dispatcher.interrupt();
            Thread.sleep(100);
            assertTrue(dispatcher.isAlive());
            CompletableFuture<Predictions> second = p.predictAsync(x, 1);
            assertArrayEquals(want, first.get(1, TimeUnit.MINUTES).logits());
            assertArrayEquals(want, second.get(1, TimeUnit.MINUTES).logits());
            dispatcher.interrupt(); // while it waits for a request
            Thread.sleep(100);
            assertArrayEquals(want, p.predictAsync(x, 1).thenCombine(p.predictAsync(x, 1), (a, b) -> b).get(1, TimeUnit.MINUTES)
                    .logits());
        }
    }

    @Test
    void closeFreesEveryNativeByteAndEndsEveryThread() throws Exception {
        java.util.Set<Thread> before = Thread.getAllStackTraces().keySet();
        long bytes = org.bytedeco.javacpp.Pointer.totalBytes();
        Predictor p = Predictor.builder(cifar()).optContexts(2).optMaxBatch(4).build();
        List<CompletableFuture<Predictions>> fs = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            fs.add(p.predictAsync(images(1 + i % 2, i), 1 + i % 2));
        }
        for (CompletableFuture<Predictions> f : fs) {
            f.get(1, TimeUnit.MINUTES);
        }
        List<Thread> ours = new ArrayList<>(Thread.getAllStackTraces().keySet());
        ours.removeAll(before);
        ours.removeIf(t -> !t.getName().startsWith("reskern-"));
        assertEquals(3, ours.size(), "a dispatcher and one worker per context: " + ours);
        for (Thread t : ours) {
            assertTrue(t.isDaemon(), t + " must not keep the JVM alive");
        }
        assertTrue(p.memoryBytes() > 0);
        p.close();
        assertEquals(0, p.memoryBytes(), "nothing is held after close");
        assertEquals(bytes, org.bytedeco.javacpp.Pointer.totalBytes(), "native bytes (JavaCPP) back to where they were");
        for (Thread t : ours) {
            t.join(10_000); // a pool's worker is still leaving run() for a moment after the pool reports terminated
            assertTrue(!t.isAlive(), t + " still alive after close");
        }
    }

    @Test
    void aFailingCallbackIsNotAFailedRequest() throws Exception {
        try (Predictor p = Predictor.builder(cifar()).optMaxBatch(1).build()) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> p.predictAsync(Input.nchw(images(1, 1), 1)).thenApply(r -> {
                        throw new IllegalStateException("callback failure");
                    }).get());
            assertTrue(e.getCause() instanceof IllegalStateException);
            assertEquals(0, p.stats().failedRequests(), "a failing callback is not a failed request");
        }
    }

    @Test
    void predictionsGiveProbabilitiesAndTopK() throws Exception {
        List<String> labels = List.of("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck");
        try (Predictor p = Predictor.builder(cifar()).optLabels(labels).build()) {
            Predictions r = p.predict(Input.nchw(images(2, 12), 2));
            assertEquals(2, r.count());
            for (int i = 0; i < 2; i++) {
                double[] pr = r.probabilities(i);
                assertEquals(1.0, Arrays.stream(pr).sum(), 1e-12);
                List<Predictions.Top> top = r.topK(i, 3);
                assertEquals(3, top.size());
                assertEquals(r.argmax(i), top.get(0).index());
                assertEquals(labels.get(top.get(0).index()), top.get(0).label());
                assertTrue(top.get(0).probability() >= top.get(1).probability());
                assertTrue(top.get(1).logit() >= top.get(2).logit());
            }
            assertEquals(10, r.topK(0, 50).size());
            assertThrows(IllegalArgumentException.class, () -> r.topK(0, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> r.logits(2));
        }
        assertThrows(IllegalArgumentException.class, () -> Predictor.builder(cifar()).optLabels(List.of("a", "b")).build());
    }

    @Test
    void builderRejectsBadOptions() {
        assertThrows(IllegalArgumentException.class, () -> Predictor.builder(cifar()).optMaxBatch(0));
        assertThrows(IllegalArgumentException.class, () -> Predictor.builder(cifar()).optContexts(0));
        assertThrows(IllegalArgumentException.class, () -> Predictor.builder(cifar()).optMaxWait(Duration.ofMillis(-1)));
        assertThrows(IllegalArgumentException.class, () -> Predictor.builder(cifar()).optInputSize(0, 5));
        ReskernException gpu = assertThrows(ReskernException.class,
                () -> Predictor.builder(cifar().optDevice(Device.cuda(0))).build());
        assertEquals(ReskernException.ErrorCode.NO_DEVICE, gpu.code());
    }

    @Test
    void aBuilderBuildsAgainAfterAnOptionChanged() throws Exception {
        // build() used to write its resolved defaults (input size, preprocessing, max batch) into the builder: a
        // second build at another input size failed with "the preprocessing crops 32x32, but the input is 64x64"
        Predictor.Builder b = Predictor.builder(cifar()).optWarmup(false);
        try (Predictor p = b.build()) {
            assertEquals(32, p.inputHeight());
            assertEquals(8, p.maxBatch());
        }
        b.optInputSize(64, 48);
        try (Predictor p = b.build()) {
            assertEquals(64, p.inputHeight());
            assertEquals(48, p.preprocess().cropWidth());
            float[] x = new float[3 * 64 * 48];
            Random r = new Random(3);
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            assertArrayEquals(reference.predict(x, 1, 64, 48), p.predict(x, 1));
        }
    }

    @Test
    void theDefaultPreprocessingFollowsTheInputSize() {
        assertEquals(Preprocess.cifar(), Predictor.Builder.defaultPreprocess(ResNets.byName("cifar_resnet20"), 32, 32));
        Preprocess p = Predictor.Builder.defaultPreprocess(ResNets.byName("resnet50"), 224, 160);
        assertEquals(183, p.resizeShorter()); // round(160 * 256 / 224)
        assertEquals(224, p.cropHeight());
        assertEquals(160, p.cropWidth());
        // an input above 14,336 pixels used to fail build() with "resizeShorter must be in [0, 16384]" even for a
        // caller who never sends images: the resize is capped, the crop still covers the input
        Preprocess big = Predictor.Builder.defaultPreprocess(null, 15000, 16000);
        assertEquals(Preprocess.MAX_SIDE, big.resizeShorter());
        assertEquals(15000, big.cropHeight());
    }

    @Test
    void severalContextsOnTheCpuShareOneCopyOfTheWeights() throws Exception {
        try (Predictor one = Predictor.builder(cifar()).optContexts(1).optMaxBatch(4).build();
             Predictor three = Predictor.builder(cifar()).optContexts(3).optMaxBatch(4).build()) {
            assertEquals(3, three.contextCount());
            long perContext = (three.memoryBytes() - one.memoryBytes()) / 2;
            assertTrue(perContext > 0 && perContext < one.memoryBytes(), "contexts add arenas, not weights");
            float[] x = images(4, 21);
            assertArrayEquals(one.predict(x, 4), three.predict(x, 4));
        }
    }

    @Test
    void activationMemoryCannotBeAllocatedIsAnOutOfMemoryError() {
        ReskernException e = assertThrows(ReskernException.class, () -> Predictor.builder(Model.builder().model("resnet18"))
                .optMaxBatch(1 << 20).optInputSize(1024, 1024).optWarmup(false).build());
        assertEquals(ReskernException.ErrorCode.OUT_OF_MEMORY, e.code());
        assertTrue(e.getMessage().contains("MiB"), e.getMessage());
    }
}
