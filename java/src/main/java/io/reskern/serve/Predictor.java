package io.reskern.serve;

import io.reskern.Device;
import io.reskern.Model;
import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.ResNetSpec;
import io.reskern.backend.CallerCudaContext;
import io.reskern.backend.DeviceModel;
import io.reskern.backend.Executor;
import io.reskern.backend.Executors;
import io.reskern.backend.InputData;
import io.reskern.graph.Graph;
import io.reskern.image.Preprocess;
import io.reskern.image.ResamplePlan;
import io.reskern.image.RgbImage;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Logger;
import org.bytedeco.javacpp.FloatPointer;

/**
 * A thread-safe, batching predictor for one model on one or more devices: the way a Java service should serve
 * reskern.
 *
 * <pre>{@code
 * try (Predictor p = Predictor.builder(Model.builder().model("resnet50").optWeights(path).optPrecision(Precision.FP16)
 *                                           .optDevice(Device.parse("auto")))
 *         .optMaxBatch(32)                      // images per forward pass
 *         .optMaxWait(Duration.ofMillis(2))     // how long a request may wait for others to join its batch
 *         .build()) {                           // weights loaded once per device, every batch size warmed up
 *     float[] logits = p.predict(nchw, 1);                                  // from any thread
 *     CompletableFuture<Predictions> f = p.predictAsync(Input.nchw(directBuffer, 4));
 *     List<Predictions.Top> top5 = f.join().topK(0, 5);
 * }
 * }</pre>
 *
 * <h2>How it works</h2>
 * Weights are loaded once per device ({@link DeviceModel}); each device gets {@code contexts} execution contexts, each
 * with its own activation arena, staging buffers, CUDA stream and captured CUDA graphs, reserved for
 * {@code maxBatch} images at build time and driven by one worker thread. A dispatcher thread takes requests in arrival
 * order, waits for a free context, and fills a batch with the requests that arrive within {@code maxWait} of the first
 * one (up to {@code maxBatch} images; a request is never split). On a GPU the batch is padded with zero images up to
 * the next warmed-up batch size (default: powers of two up to {@code maxBatch}) so that every forward pass replays a
 * CUDA graph captured at build time; on the CPU every size runs as it is.
 *
 * <h2>Guarantees</h2>
 * <ul>
 *   <li>Thread-safe: any number of threads may call {@code predict*} concurrently.</li>
 *   <li>On the CPU an image's logits are bit-identical whatever batch it was placed in (every op is per image with a
 *       fixed reduction order), so concurrent and batched results equal single-threaded ones. An image never affects
 *       another image of its batch (a NaN stays in its own row).</li>
 *   <li>No allocation of native or device memory after {@link Builder#build()}: memory is flat under load. The one
 *       exception: the staging of decoded images ({@link Input#images}) grows to the largest image (on a GPU: batch
 *       of images) seen, then stays.</li>
 *   <li>Misuse is reported at the call, in the calling thread: {@link IllegalArgumentException} for a wrong size, a
 *       batch above {@code maxBatch}, a non-finite input value (unless {@link Builder#optCheckFinite}(false)), a
 *       buffer on another device; {@link IllegalStateException} after {@link #close()}. Failures of the device
 *       complete the request exceptionally with a {@link ReskernException}; the JVM never dies. A request whose own
 *       input fails when its batch is staged fails alone: the other requests of its batch run.</li>
 *   <li>Backpressure: with {@link Builder#optMaxQueued} a request that would take the queue above the limit is not
 *       queued; its future fails at once with {@code ReskernException} {@code OVERLOADED}. A request whose future
 *       was cancelled (or timed out) before its batch ran is not run.</li>
 *   <li>{@link #close()} stops accepting requests, lets every request already accepted finish, then frees all native
 *       and device memory. It must not be called from a completion callback running on a reskern thread, nor may the
 *       blocking {@code predict}: both would wait for themselves, so both throw {@link IllegalStateException} there
 *       ({@code predictAsync} is fine). Closing <em>another</em> predictor from a callback returns at once and frees
 *       it in the background, so two predictors closing each other cannot deadlock.</li>
 * </ul>
 * Dependent actions attached to the returned futures with the non-async methods ({@code thenApply}, …) may run on a
 * reskern worker thread: keep them short, or use the {@code …Async} variants.
 */
public final class Predictor implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Predictor.class.getName());
    private static final AtomicInteger IDS = new AtomicInteger();
    /**
     * Which predictor a thread belongs to: set by the dispatcher and worker threads themselves when they start. Not the
     * thread group: threads started from a callback (and ForkJoinPool workers spawned there) inherit the group, and
     * may well block on or close the predictor.
     */
    private static final ThreadLocal<Object> OWNER = new ThreadLocal<>();

    /**
     * Counters since build (warm-up excluded): requests answered, their images, forward passes, padding images (GPU),
     * requests that failed, and requests refused because the queue was full ({@link Builder#optMaxQueued}); and a
     * gauge: the images waiting in the queue now (not yet in a batch), for monitoring and load shedding.
     */
    public record Stats(long requests, long images, long batches, long paddedImages, long failedRequests,
                        long rejectedRequests, long queuedImages) {
        /** Mean number of request images per forward pass. */
        public double meanBatch() {
            return batches == 0 ? 0 : (double) images / batches;
        }
    }

    private static final class Context {
        final Executor executor;
        final Device device;
        final int[] sizes; // ascending; null: any size runs as it is
        final ExecutorService worker;

        Context(Executor executor, int[] sizes, ExecutorService worker) {
            this.executor = executor;
            this.device = executor.device();
            this.sizes = sizes;
            this.worker = worker;
        }

        int sizeFor(int n) {
            if (sizes == null) {
                return n;
            }
            for (int s : sizes) {
                if (s >= n) {
                    return s;
                }
            }
            throw new IllegalStateException("no warmed batch size >= " + n);
        }
    }

    private static final class Request {
        final Input input;
        final CompletableFuture<Predictions> future = new CompletableFuture<>();
        final long enqueued = System.nanoTime();
        final Device affinity; // null: any context
        ResamplePlan[] plans;  // images: one per image, made in the calling thread

        Request(Input input, Device affinity) {
            this.input = input;
            this.affinity = affinity;
        }
    }

    private static final Request POISON = new Request(null, null);

    /** Free contexts; a request with a device affinity waits for a context on that device. */
    private static final class Pool {
        private final ArrayDeque<Context> free = new ArrayDeque<>();

        /** Waits for a free context; interrupts are ignored (see {@link #dispatch}). */
        synchronized Context acquire(Device affinity) {
            while (true) {
                for (Context c : free) {
                    if (affinity == null || c.device.equals(affinity)) {
                        free.remove(c);
                        return c;
                    }
                }
                try {
                    wait();
                } catch (InterruptedException ignored) {
                    // keep waiting
                }
            }
        }

        synchronized void release(Context c) {
            free.add(c);
            notifyAll();
        }
    }

    private final Graph graph;
    private final Precision precision;
    private final int height;
    private final int width;
    private final int maxBatch;
    private final long maxWaitNanos;
    private final boolean checkFinite;
    private final Preprocess preprocess;
    private final List<String> labels;
    private final List<Device> devices;
    private final List<DeviceModel> deviceModels;
    private final List<Context> contexts;
    private final Pool pool = new Pool();
    private final LinkedBlockingQueue<Request> queue = new LinkedBlockingQueue<>();
    private final ThreadGroup threads;
    private final Object owner; // OWNER of this predictor's threads
    private final Thread dispatcher;
    private final Object submitLock = new Object();
    private final LongAdder requests = new LongAdder();
    private final LongAdder images = new LongAdder();
    private final LongAdder batches = new LongAdder();
    private final LongAdder padded = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final int maxQueued; // images waiting in the queue (not yet taken into a batch); Integer.MAX_VALUE: no limit
    private final java.util.concurrent.atomic.AtomicLong queuedImages = new java.util.concurrent.atomic.AtomicLong();
    private boolean closed; // guarded by submitLock
    private Throwable stopped; // guarded by submitLock: why the dispatcher ended before close(), or null
    private boolean released; // guarded by this

    private Predictor(Builder b, Graph graph, List<DeviceModel> deviceModels, List<Context> contexts, ThreadGroup threads,
                      Object owner) {
        this.graph = graph;
        this.precision = b.model.precision();
        this.height = b.height;
        this.width = b.width;
        this.maxBatch = b.maxBatch;
        this.maxWaitNanos = nanos(b.maxWait);
        this.maxQueued = b.maxQueued;
        this.checkFinite = b.checkFinite;
        this.preprocess = b.preprocess;
        this.labels = b.labels;
        this.deviceModels = deviceModels;
        this.contexts = contexts;
        this.threads = threads;
        this.owner = owner;
        Set<Device> ds = new LinkedHashSet<>();
        for (Context c : contexts) {
            ds.add(c.device);
            pool.release(c);
        }
        this.devices = List.copyOf(ds);
        this.dispatcher = new Thread(threads, () -> {
            OWNER.set(owner);
            dispatch();
        }, threads.getName() + "-dispatch");
        dispatcher.setDaemon(true);
        dispatcher.start();
    }

    /** A builder serving the model {@code model} defines (its device and precision are the defaults here). */
    public static Builder builder(Model.Builder model) {
        return new Builder(model);
    }

    public String name() {
        return graph.name();
    }

    public int classes() {
        return graph.classes();
    }

    public int inputHeight() {
        return height;
    }

    public int inputWidth() {
        return width;
    }

    public int maxBatch() {
        return maxBatch;
    }

    public Precision precision() {
        return precision;
    }

    /** How {@link Input#images} are resized, cropped and normalised. */
    public Preprocess preprocess() {
        return preprocess;
    }

    /** The class labels, or null. */
    public List<String> labels() {
        return labels;
    }

    /** The devices this predictor runs on. */
    public List<Device> devices() {
        return devices;
    }

    /** Number of execution contexts (over all devices). */
    public int contextCount() {
        return contexts.size();
    }

    /** Native/device memory held: weights once per device plus every context's arena and staging buffers (0 after close). */
    public synchronized long memoryBytes() {
        if (released) {
            return 0;
        }
        long b = 0;
        for (DeviceModel dm : deviceModels) {
            b += dm.weightBytes();
        }
        for (Context c : contexts) {
            b += c.executor.contextBytes();
        }
        return b;
    }

    public Stats stats() {
        return new Stats(requests.sum(), images.sum(), batches.sum(), padded.sum(), failed.sum(), rejected.sum(),
                Math.max(0, queuedImages.get()));
    }

    /**
     * Logits of {@code count} images, float32 NCHW {@code [count, 3, H, W]} (H, W: the predictor's input size).
     *
     * @return {@code [count, classes]} row-major
     * @throws ReskernException {@code INTERNAL} when the waiting thread is interrupted (its interrupt flag stays set; the
     *                          request itself still runs)
     * @throws IllegalStateException after {@link #close()}, or when called from a completion callback running on a
     *                               reskern thread (it would wait for itself: use {@link #predictAsync} there)
     */
    public float[] predict(float[] nchw, int count) throws ReskernException {
        refuseOnOwnThread("predict()");
        return await(predictAsync(Input.nchw(nchw, count))).logitsUnsafe();
    }

    /** Runs one request and waits for it (errors as {@link #predict(float[], int)}). */
    public Predictions predict(Input input) throws ReskernException {
        refuseOnOwnThread("predict()");
        return await(predictAsync(input));
    }

    /** A blocking call on one of this predictor's threads would wait for that thread: a deadlock, so refuse it. */
    private void refuseOnOwnThread(String what) {
        if (OWNER.get() == owner) {
            throw new IllegalStateException("Predictor." + what + " called from a reskern thread (a completion callback): "
                    + "it would wait for itself; use predictAsync there, or a ...Async callback");
        }
    }

    /** {@link Duration#toNanos()}, saturated: a wait longer than ~292 years is forever. */
    static long nanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /** Queues {@code count} images (float32 NCHW); the future completes with their predictions. */
    public CompletableFuture<Predictions> predictAsync(float[] nchw, int count) {
        return predictAsync(Input.nchw(nchw, count));
    }

    /**
     * Queues one request. Misuse throws here, in the calling thread; failures while running complete the future
     * exceptionally with a {@link ReskernException}, and so does a full queue: {@code OVERLOADED} when
     * {@link Builder#optMaxQueued} images are already waiting (the request is not queued). The input is not copied here: it is read when its batch is
     * staged, so do not modify it before the future completes.
     *
     * @throws IllegalArgumentException wrong size, more than {@code maxBatch} images, a non-finite value, a buffer on a
     *                                  device this predictor does not use
     * @throws IllegalStateException    after {@link #close()}
     */
    public CompletableFuture<Predictions> predictAsync(Input input) {
        Objects.requireNonNull(input, "input");
        Device affinity = validate(input);
        Request r = new Request(input, affinity);
        if (input.kind == Input.Kind.IMAGES) {
            r.plans = new ResamplePlan[input.count];
            for (int i = 0; i < input.count; i++) {
                RgbImage im = input.images.get(i);
                r.plans[i] = preprocess.plan(im.height(), im.width());
            }
        }
        synchronized (submitLock) {
            if (closed) {
                throw new IllegalStateException(stopped != null ? "predictor stopped: its dispatcher failed (" + stopped + ")"
                        : "predictor is closed");
            }
            if (queuedImages.get() + input.count > maxQueued) {
                rejected.increment();
                return CompletableFuture.failedFuture(new ReskernException(ReskernException.ErrorCode.OVERLOADED,
                        "predictor overloaded: " + queuedImages.get() + " images are queued, the limit is " + maxQueued
                        + " (Builder.optMaxQueued); retry later"));
            }
            queuedImages.addAndGet(input.count);
            queue.add(r);
        }
        return r.future;
    }

    private long imageFloats() {
        return 3L * height * width;
    }

    private Device validate(Input in) {
        if (in.count > maxBatch) {
            throw new IllegalArgumentException("a request of " + in.count + " images is above this predictor's maximum batch of "
                    + maxBatch + " (Builder.optMaxBatch)");
        }
        if (in.kind == Input.Kind.IMAGES) {
            return null;
        }
        long need = in.count * imageFloats();
        String shape = in.count + "x3x" + height + "x" + width;
        if (in.kind == Input.Kind.DEVICE) {
            if (in.floats < need) {
                throw new IllegalArgumentException(in.device + " from element " + in.deviceOffset + " holds " + in.floats
                        + " floats, fewer than " + need + " for " + shape);
            }
            if (!devices.contains(in.device.device())) {
                throw new IllegalArgumentException("input buffer is on " + in.device.device() + ", but this predictor runs on "
                        + devices);
            }
            in.device.address(); // throws if closed
            // on one device every context can read it, so it batches with the other requests; spread over several
            // devices it needs a context on its own device (and then runs in a batch of its own)
            return devices.size() == 1 ? null : in.device.device();
        }
        if (in.floats != need) {
            throw new IllegalArgumentException("input has " + in.floats + " floats, expected N*3*H*W = " + need + " for "
                    + shape + " (this predictor takes " + height + "x" + width + " images)");
        }
        if (checkFinite) {
            long bad = in.kind == Input.Kind.ARRAY ? firstNonFinite(in.array, in.arrayOffset, (int) need)
                    : firstNonFinite(in.direct, (int) need);
            if (bad >= 0) {
                long hw = (long) height * width;
                float v = in.kind == Input.Kind.ARRAY ? in.array[in.arrayOffset + (int) bad] : in.direct.get((int) bad);
                throw new IllegalArgumentException("input value " + v + " at image " + bad / (3 * hw) + ", channel "
                        + bad / hw % 3 + ", y " + bad % hw / width + ", x " + bad % width
                        + " is not finite (Builder.optCheckFinite(false) lets it through: its image's logits become NaN)");
            }
        }
        return null;
    }

    private static long firstNonFinite(float[] a, int off, int len) {
        for (int i = 0; i < len; i++) {
            if (!Float.isFinite(a[off + i])) {
                return i;
            }
        }
        return -1;
    }

    private static long firstNonFinite(java.nio.FloatBuffer b, int len) {
        for (int i = 0; i < len; i++) {
            if (!Float.isFinite(b.get(i))) {
                return i;
            }
        }
        return -1;
    }

    private static Predictions await(CompletableFuture<Predictions> f) throws ReskernException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ReskernException(ReskernException.ErrorCode.INTERNAL, "interrupted while waiting for a prediction", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof ReskernException r) {
                throw new ReskernException(r.code(), r.getMessage(), r);
            }
            if (c instanceof RuntimeException r) {
                throw r;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new ReskernException(ReskernException.ErrorCode.INTERNAL, String.valueOf(c), c);
        }
    }

    // ------------------------------------------------------------------------------------------------ batching

    /**
     * Forms batches until the poison request {@link #close()} queues. Interrupts are ignored: close() never interrupts,
     * and an interrupt from elsewhere used to end this thread silently, after which every request waited forever. If
     * it fails anyway (out of memory), every request it holds or that is queued fails, and new ones are refused.
     */
    private void dispatch() {
        Request pending = null;
        List<Request> forming = null; // taken from the queue, not yet handed to a worker
        try {
            while (true) {
                Request first = pending != null ? pending : taken(take());
                pending = null;
                if (first == POISON) {
                    return;
                }
                forming = new ArrayList<>();
                forming.add(first);
                Context ctx = pool.acquire(first.affinity);
                int total = first.input.count;
                if (first.affinity == null) {
                    long deadline = first.enqueued + maxWaitNanos;
                    while (total < maxBatch) {
                        long left = deadline - System.nanoTime();
                        Request r;
                        try {
                            r = taken(left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : queue.poll());
                        } catch (InterruptedException e) {
                            continue; // ignored; the time left is recomputed
                        }
                        if (r == null) {
                            break;
                        }
                        if (r == POISON || r.affinity != null || total + r.input.count > maxBatch) {
                            pending = r;
                            break;
                        }
                        forming.add(r);
                        total += r.input.count;
                    }
                }
                List<Request> batch = forming;
                int n = total;
                ctx.worker.execute(() -> runBatch(ctx, batch, n));
                forming = null;
            }
        } catch (Throwable t) {
            LOG.severe("reskern predictor dispatcher failed: " + t);
            synchronized (submitLock) {
                closed = true;
                stopped = t;
            }
            ReskernException e = new ReskernException(ReskernException.ErrorCode.INTERNAL,
                    "the predictor's dispatcher failed: " + t, t);
            if (forming != null) {
                for (Request r : forming) {
                    r.future.completeExceptionally(e);
                }
            }
            failAll(pending, e);
        }
    }

    /** A request leaves the queue: its images no longer count against {@link Builder#optMaxQueued}. */
    private Request taken(Request r) {
        if (r != null && r != POISON) {
            queuedImages.addAndGet(-r.input.count);
        }
        return r;
    }

    private Request take() {
        while (true) {
            try {
                return queue.take();
            } catch (InterruptedException ignored) {
                // see dispatch()
            }
        }
    }

    private void failAll(Request pending, Throwable t) {
        if (pending != null && pending != POISON) {
            pending.future.completeExceptionally(t);
        }
        for (Request r; (r = queue.poll()) != null; ) {
            if (r != POISON) {
                r.future.completeExceptionally(t);
            }
        }
    }

    private void runBatch(Context ctx, List<Request> batch, int total) {
        Executor ex = ctx.executor;
        int classes = graph.classes();
        try {
            int n = ctx.sizeFor(total);
            ex.begin(n, height, width);
            int off = 0;
            int staged = 0; // requests staged; the others failed on their own or were cancelled, and hold zeros
            int stagedImages = 0;
            for (Request r : batch) {
                if (r.future.isDone()) { // cancelled by its caller (cancel(), orTimeout()) while it waited: not run
                    ex.stageZeros(off, r.input.count);
                    off += r.input.count;
                    continue;
                }
                try {
                    stageRequest(ex, r, off);
                    staged++;
                    stagedImages += r.input.count;
                } catch (ReskernException | RuntimeException | OutOfMemoryError e) {
                    // This request's own input failed (a buffer released meanwhile, an image too large to stage):
                    // only it fails. Its rows run on zeros, which no other row sees (images are independent).
                    failed.increment();
                    r.future.completeExceptionally(e);
                    ex.stageZeros(off, r.input.count);
                }
                off += r.input.count;
            }
            if (staged == 0) {
                return;
            }
            if (n > total) {
                ex.stageZeros(total, n - total);
            }
            float[] out = new float[n * classes];
            ex.forward(out, 0);
            requests.add(staged); // counted before completing, so a caller that saw its result sees it counted
            images.add(stagedImages);
            batches.increment();
            padded.add(n - total);
            off = 0;
            for (Request r : batch) {
                int c = r.input.count;
                if (!r.future.isDone()) {
                    r.future.complete(new Predictions(Arrays.copyOfRange(out, off * classes, (off + c) * classes), c, classes, labels));
                }
                off += c;
            }
        } catch (Throwable t) {
            int done = 0;
            for (Request r : batch) {
                done += r.future.isDone() ? 1 : 0;
            }
            failed.add(batch.size() - done);
            for (Request r : batch) {
                r.future.completeExceptionally(t);
            }
            if (t instanceof Error e && !(t instanceof OutOfMemoryError)) {
                throw e;
            }
        } finally {
            pool.release(ctx);
        }
    }

    /**
     * Test seam, null in use: runs before each request is staged, so a test can fail one request's staging (in use:
     * an image too large to stage, out of memory) without allocating gigabytes.
     */
    static volatile java.util.function.Consumer<Input> beforeStaging;

    private static void stageRequest(Executor ex, Request r, int off) throws ReskernException {
        java.util.function.Consumer<Input> hook = beforeStaging;
        if (hook != null) {
            hook.accept(r.input);
        }
        if (r.input.kind == Input.Kind.IMAGES) {
            for (int i = 0; i < r.input.count; i++) {
                ex.stageImage(r.input.images.get(i), r.plans[i], off + i);
            }
        } else {
            ex.stage(source(r.input), off, r.input.count);
        }
    }

    private static InputData source(Input in) {
        return switch (in.kind) {
            case ARRAY -> new InputData.HeapFloats(in.array, in.arrayOffset);
            case DIRECT -> new InputData.HostAddress(new FloatPointer(in.direct).address());
            case DEVICE -> new InputData.DeviceAddress(in.device.device(), in.device.address() + in.deviceOffset * 4);
            case IMAGES -> throw new IllegalStateException("images are staged one by one");
        };
    }

    // ------------------------------------------------------------------------------------------------ lifetime

    /**
     * Stops accepting requests, waits for every accepted request to finish, and frees all native and device memory.
     * Idempotent; concurrent callers all wait.
     *
     * <p>Called from a completion callback of <em>another</em> predictor (a reskern thread), it stops accepting
     * requests and returns at once; a reskern thread finishes the close, freeing the memory once the accepted requests
     * are done. Waiting there could deadlock: two predictors whose callbacks close each other would each wait for the
     * other's callback to return.
     *
     * @throws IllegalStateException when called from one of this predictor's own threads (its completion callback): it
     *     would wait for itself
     */
    @Override
    public void close() {
        if (OWNER.get() == owner) {
            throw new IllegalStateException("Predictor.close() called from a reskern thread (a completion callback): "
                    + "it would wait for itself; close it from another thread");
        }
        synchronized (submitLock) {
            if (!closed) {
                closed = true;
                queue.add(POISON);
            }
        }
        if (OWNER.get() != null) { // another predictor's thread: finish on a thread of our own, do not wait here
            Thread t = new Thread(this::finishClose, "reskern-close-" + graph.name());
            t.setDaemon(true);
            t.start();
            return;
        }
        finishClose();
    }

    private void finishClose() {
        boolean interrupted = false;
        while (dispatcher.isAlive()) {
            try {
                dispatcher.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        for (Context c : contexts) {
            c.worker.shutdown();
            while (!c.worker.isTerminated()) {
                try {
                    c.worker.awaitTermination(1, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        synchronized (this) {
            if (!released) {
                released = true;
                try (CallerCudaContext saved = CallerCudaContext.save(devices)) {
                    for (Context c : contexts) {
                        c.executor.close();
                    }
                    for (DeviceModel dm : deviceModels) {
                        dm.close();
                    }
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "Predictor[" + graph.name() + " on " + devices + ", " + precision + ", " + height + "x" + width + ", max batch "
                + maxBatch + ", " + contexts.size() + " context(s)]";
    }

    // ------------------------------------------------------------------------------------------------ builder

    /**
     * Options of a {@link Predictor}; the model (name or spec, weights, classes, device, precision) comes from the
     * {@link Model.Builder} given to {@link Predictor#builder}. Every {@code opt…} has a default.
     */
    public static final class Builder {
        private final Model.Builder model;
        private List<Device> devices;
        private Integer contextsPerDevice;
        private int maxBatch = -1;
        private Duration maxWait = Duration.ofMillis(2);
        private int maxQueued = Integer.MAX_VALUE;
        private int height = -1;
        private int width = -1;
        private int[] batchSizes;
        private boolean checkFinite = true;
        private boolean warmup = true;
        private List<String> labels;
        private Preprocess preprocess;

        private Builder(Model.Builder model) {
            this.model = Objects.requireNonNull(model, "model");
        }

        /** Devices to spread contexts over (default: the model builder's device). */
        public Builder optDevices(List<Device> ds) {
            if (ds.isEmpty()) {
                throw new IllegalArgumentException("at least one device");
            }
            this.devices = List.copyOf(new LinkedHashSet<>(ds));
            return this;
        }

        public Builder optDevices(Device... ds) {
            return optDevices(Arrays.asList(ds));
        }

        /** Execution contexts per device (default: 1 on the CPU, 2 on a GPU so copies and compute of two batches overlap). */
        public Builder optContexts(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("contexts must be >= 1, got " + n);
            }
            this.contextsPerDevice = n;
            return this;
        }

        /** Most images per forward pass, and per request (default: 8 on the CPU, 32 on a GPU). */
        public Builder optMaxBatch(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("max batch must be >= 1, got " + n);
            }
            this.maxBatch = n;
            return this;
        }

        /** How long the first request of a batch may wait for others (default 2 ms; 0 = take only what is queued). */
        public Builder optMaxWait(Duration d) {
            if (d.isNegative()) {
                throw new IllegalArgumentException("max wait must be >= 0, got " + d);
            }
            this.maxWait = d;
            return this;
        }

        /**
         * Most images waiting in the queue for a batch (default: no limit). Above it {@code predictAsync} returns a
         * future failed with {@code ReskernException} {@code OVERLOADED} (and {@code predict} throws it) instead of
         * queueing: asynchronous callers faster than the model otherwise grow the queue, its latency and the memory
         * of the inputs it holds without bound. Requests already running or in the batch being formed do not count.
         */
        public Builder optMaxQueued(int images) {
            if (images < 1) {
                throw new IllegalArgumentException("max queued must be >= 1 image, got " + images);
            }
            this.maxQueued = images;
            return this;
        }

        /**
         * Input image size (default: the size an ONNX file declares for its input, if fixed; else 32×32 for CIFAR nets,
         * 224×224 for the others).
         */
        public Builder optInputSize(int h, int w) {
            if (h < 1 || w < 1) {
                throw new IllegalArgumentException("input size must be positive, got " + h + "x" + w);
            }
            this.height = h;
            this.width = w;
            return this;
        }

        /**
         * GPU batch sizes warmed up (CUDA graphs captured) at build; a batch is padded up to the next one
         * (default: powers of two below max batch, and max batch). Ignored on the CPU, where every size runs as it is.
         */
        public Builder optBatchSizes(int... sizes) {
            for (int s : sizes) {
                if (s < 1) {
                    throw new IllegalArgumentException("batch sizes must be >= 1, got " + s);
                }
            }
            this.batchSizes = sizes.clone();
            return this;
        }

        /** Reject inputs with NaN or ±∞ (default true; device buffers are never scanned). */
        public Builder optCheckFinite(boolean b) {
            this.checkFinite = b;
            return this;
        }

        /** Run every batch size once at build (default true), so that no request pays the first-run cost. */
        public Builder optWarmup(boolean b) {
            this.warmup = b;
            return this;
        }

        /**
         * How {@link Input#images decoded images} become model input: resize of the shorter side, centre crop, mean/std
         * (default: {@link Preprocess#cifar()} for CIFAR nets, else {@link Preprocess#imagenet()} scaled to the input size:
         * shorter side → size·256/224, crop = the input size). The crop must equal the input size.
         */
        public Builder optPreprocess(Preprocess p) {
            this.preprocess = Objects.requireNonNull(p);
            return this;
        }

        /** Class labels for {@link Predictions#topK} (index → label). */
        public Builder optLabels(List<String> l) {
            this.labels = List.copyOf(l);
            return this;
        }

        private int[] gpuSizes() {
            TreeSet<Integer> s = new TreeSet<>();
            if (batchSizes != null) {
                for (int b : batchSizes) {
                    if (b <= maxBatch) {
                        s.add(b);
                    }
                }
            } else {
                for (int b = 1; b < maxBatch; b *= 2) {
                    s.add(b);
                }
            }
            s.add(maxBatch);
            return s.stream().mapToInt(Integer::intValue).toArray();
        }

        /**
         * Loads the weights on every device, reserves and warms up every context. The defaults (max batch, input size,
         * preprocessing) are resolved for this build only: the builder is left as it was, so it can build again after
         * an option changed.
         */
        public Predictor build() throws ReskernException {
            Builder b = new Builder(model);
            b.devices = devices;
            b.contextsPerDevice = contextsPerDevice;
            b.maxBatch = maxBatch;
            b.maxWait = maxWait;
            b.maxQueued = maxQueued;
            b.height = height;
            b.width = width;
            b.batchSizes = batchSizes;
            b.checkFinite = checkFinite;
            b.warmup = warmup;
            b.labels = labels;
            b.preprocess = preprocess;
            return b.resolveAndBuild();
        }

        /**
         * The preprocessing of a predictor built without {@code optPreprocess}: CIFAR's for a CIFAR net at 32x32, else
         * ImageNet's evaluation transform scaled to the input (shorter side → side·256/224, at most
         * {@link Preprocess#MAX_SIDE}, then the centre crop).
         */
        static Preprocess defaultPreprocess(ResNetSpec spec, int height, int width) {
            if (spec != null && spec.stem() == ResNetSpec.Stem.CIFAR && height == 32 && width == 32) {
                return Preprocess.cifar();
            }
            long resize = Math.min(Preprocess.MAX_SIDE, Math.round(Math.min(height, width) * 256.0 / 224));
            return new Preprocess((int) resize, height, width, Preprocess.IMAGENET_MEAN, Preprocess.IMAGENET_STD);
        }

        private Predictor resolveAndBuild() throws ReskernException {
            List<Device> ds = devices != null ? devices : List.of(model.device());
            boolean anyGpu = ds.stream().anyMatch(Device::isCuda);
            if (maxBatch < 0) {
                maxBatch = anyGpu ? 32 : 8;
            }
            Model.Definition def = model.define();
            Graph graph = def.graph();
            if (height < 0 && graph.fixedInputSize() != null) { // an import exact at one input size only
                height = graph.fixedInputSize().height();
                width = graph.fixedInputSize().width();
            } else if (height < 0 && graph.declaredInputSize() != null) { // the size the model file was exported at
                height = graph.declaredInputSize().height();
                width = graph.declaredInputSize().width();
            } else if (height < 0) {
                ResNetSpec spec = graph.spec();
                int px = spec != null && spec.stem() == ResNetSpec.Stem.CIFAR ? 32 : 224;
                height = px;
                width = px;
            }
            graph.plan(1, height, width); // IllegalArgumentException if the input is too small for the network
            if (preprocess == null) {
                preprocess = defaultPreprocess(graph.spec(), height, width);
            } else if (preprocess.cropHeight() != height || preprocess.cropWidth() != width) {
                throw new IllegalArgumentException("the preprocessing crops " + preprocess.cropHeight() + "x"
                        + preprocess.cropWidth() + ", but the predictor's input is " + height + "x" + width);
            }
            if (labels != null && labels.size() != graph.classes()) {
                throw new IllegalArgumentException(labels.size() + " labels for a model with " + graph.classes() + " classes");
            }
            long t0 = System.nanoTime();
            ThreadGroup group = new ThreadGroup("reskern-" + graph.name() + "-" + IDS.incrementAndGet());
            Object owner = new Object();
            List<DeviceModel> dms = new ArrayList<>();
            List<Context> ctxs = new ArrayList<>();
            Predictor p;
            // the caller's CUDA context is put back after the clean-up below too (catch runs inside this scope)
            try (CallerCudaContext saved = CallerCudaContext.save(ds)) {
                try {
                    for (Device d : ds) {
                        DeviceModel dm = Executors.load(graph, def.weights(), d, model.precision(), model.conv(),
                                model.tuneListener());
                        dms.add(dm);
                        int k = contextsPerDevice != null ? contextsPerDevice : d.isCuda() ? 2 : 1;
                        int[] sizes = d.isCuda() ? gpuSizes() : null;
                        for (int i = 0; i < k; i++) {
                            Executor ex = dm.newContext();
                            ExecutorService worker = java.util.concurrent.Executors.newSingleThreadExecutor(
                                    namedThreads(group, group.getName() + "-" + d + "-" + i, owner));
                            ctxs.add(new Context(ex, sizes, worker));
                            ex.reserve(maxBatch, height, width);
                            if (warmup) {
                                int[] warm = sizes != null ? sizes : (maxBatch > 1 ? new int[] {1, maxBatch} : new int[] {1});
                                float[] out = new float[maxBatch * graph.classes()];
                                for (int s : warm) {
                                    ex.begin(s, height, width);
                                    ex.stageZeros(0, s);
                                    ex.forward(out, 0);
                                }
                            }
                        }
                    }
                    p = new Predictor(this, graph, dms, Collections.unmodifiableList(ctxs), group, owner);
                } catch (ReskernException | RuntimeException | Error e) {
                    for (Context c : ctxs) {
                        c.worker.shutdownNow();
                        c.executor.close();
                    }
                    for (DeviceModel dm : dms) {
                        dm.close();
                    }
                    throw e;
                }
            }
            LOG.info(String.format(java.util.Locale.ROOT, "reskern: %s ready in %.2f s (%d MiB native/device memory)", p,
                    (System.nanoTime() - t0) / 1e9, p.memoryBytes() >> 20));
            return p;
        }

        private static ThreadFactory namedThreads(ThreadGroup group, String name, Object owner) {
            return r -> {
                Thread t = new Thread(group, () -> {
                    OWNER.set(owner);
                    r.run();
                }, name);
                t.setDaemon(true);
                return t;
            };
        }
    }
}
