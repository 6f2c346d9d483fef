package io.reskern.backend;

import io.reskern.Device;
import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.ReskernException.ErrorCode;
import io.reskern.backend.conv.ConvSelector;
import io.reskern.graph.Graph;
import io.reskern.graph.Node;
import io.reskern.graph.Plan;
import io.reskern.image.CudaImages;
import io.reskern.image.ResamplePlan;
import io.reskern.image.RgbImage;
import io.reskern.nativelib.CudaOps;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * A CUDA execution context: the {@link Fusion} schedule of a graph on one GPU, over the weights of a
 * {@link CudaDeviceModel}, with its own stream, device arena planned per input size, pinned host staging buffers, and
 * CUDA Graph capture of the network body (first layer's input → logits D2H) per input size, replayed on later calls
 * (the {@link #GRAPH_CACHE} most recently used sizes keep theirs).
 * Staging (H2D copy + layout/precision conversion, or a preprocessing kernel) is launched eagerly before the replay.
 *
 * <p>Every native call is checked; a CUDA error becomes a {@link ReskernException} ({@link ErrorCode#CUDA_ERROR},
 * {@link ErrorCode#OUT_OF_MEMORY}); the JVM never dies. Not thread-safe (see {@link Executor}).
 */
final class CudaExecutor extends BaseExecutor {
    private static final Logger LOG = Logger.getLogger(CudaExecutor.class.getName());

    private final CudaDeviceModel weights;
    private final Device device;
    private final int dtype;
    private final int math;
    private final int elemBytes;
    private final List<Fusion.Step> steps;
    private final int maxChannels;
    private final boolean useGraphs = !"false".equalsIgnoreCase(System.getProperty("reskern.cudaGraphs", "true"));
    private final List<Long> deviceAllocs = new ArrayList<>();
    /**
     * Captured CUDA graphs kept per context, least recently used destroyed beyond this: a {@code Model} called with ever
     * new input sizes must not hold one graph (host and device memory) per size forever; the {@code Predictor} replays
     * a handful of warmed sizes. A destroyed size is captured again when it comes back. Evicting happens only after
     * the stream was synchronised, so no evicted graph is still running.
     */
    static final int GRAPH_CACHE = 32;

    private final Map<Shape, Long> graphs = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Shape, Long> eldest) {
            if (size() <= GRAPH_CACHE) {
                return false;
            }
            CudaOps.graphDestroy(eldest.getValue());
            return true;
        }
    };
    private final java.util.Set<Shape> uncapturable = new java.util.HashSet<>();
    private long stream;
    private long arena;
    private long arenaBytes;
    private long inputDev;   // NCHW fp32 staging on the device
    private long pooledDev;
    private long logitsDev;
    private long pinnedIn;
    private long pinnedOut;
    private long ioCapacity; // elements of input staging
    private long outCapacity;
    private long imagePinned;  // pixels + taps of the images of the current batch, pinned ...
    private long imageDev;     // ... and on the device (same layout); grown to the largest batch of images seen
    private long imageCapacity;
    private long imageCursor;  // bytes used by the current batch (reset by begin: the last forward synchronised)
    private long peakBytes;
    // [cudnn hook] which implementation runs each conv step / the head (own kernels, cuDNN, cuBLAS); see ConvSelector
    private ConvSelector convs;

    CudaExecutor(CudaDeviceModel weights) throws ReskernException {
        super(weights.graph());
        this.weights = weights;
        this.device = weights.device();
        this.dtype = weights.dtype;
        this.math = weights.math;
        this.elemBytes = weights.precision().bytes();
        this.steps = Fusion.schedule(graph);
        int maxC = 0;
        for (int v = 0; v < graph.valueCount(); v++) {
            maxC = Math.max(maxC, graph.channels(v));
        }
        this.maxChannels = maxC;
        try {
            check(CudaOps.setDevice(device.index()), "select " + device);
            PointerPointer<?> pp = new PointerPointer<>(1);
            check(CudaOps.streamCreate(pp), "create stream");
            stream = pp.get(0) == null ? 0 : pp.get(0).address();
            // [cudnn hook] per context (stream): handles, workspace and, for cudnn/best, cuDNN's folded weight copy
            convs = ConvSelector.create(weights.policy, graph, steps, weights.foldedForCudnn, weights.precision(), device,
                    stream, weights::params, weights.tuneListener);
        } catch (ReskernException | RuntimeException e) {
            close();
            throw e;
        }
    }

    static void check(int status, String what) throws ReskernException {
        if (status != 0) {
            throw new ReskernException(ReskernException.fromNative(status), what + ": " + CudaOps.lastError());
        }
    }

    private long malloc(long bytes) throws ReskernException {
        PointerPointer<?> pp = new PointerPointer<>(1);
        check(CudaOps.malloc(pp, Math.max(bytes, 256)), "cudaMalloc " + bytes + " bytes on " + device);
        long p = pp.get(0).address();
        deviceAllocs.add(p);
        return p;
    }

    private void free(long p) {
        if (p != 0 && deviceAllocs.remove(Long.valueOf(p))) {
            CudaOps.free(p);
        }
    }

    private long mallocHost(long bytes) throws ReskernException {
        PointerPointer<?> pp = new PointerPointer<>(1);
        check(CudaOps.mallocHost(pp, bytes), "cudaMallocHost " + bytes + " bytes");
        return pp.get(0).address();
    }

    private static void freeHost(long p) {
        if (p != 0) {
            CudaOps.freeHost(p);
        }
    }

    private static FloatPointer view(long hostAddress, long elems) {
        Pointer raw = new Pointer() {
            {
                address = hostAddress; // the inherited field; named apart from the parameter on purpose
            }
        };
        return new FloatPointer(raw).capacity(elems).limit(elems);
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public Precision precision() {
        return weights.precision();
    }

    @Override
    public long activationBytes() {
        return peakBytes;
    }

    @Override
    public long contextBytes() {
        return arenaBytes + ioCapacity * 4 * 2 + outCapacity * 4 * 3 + imageCapacity * 2;
    }

    @Override
    public void reserve(int maxBatch, int h, int w) throws ReskernException {
        open();
        check(CudaOps.setDevice(device.index()), "select " + device);
        grow(planFor(maxBatch, h, w));
    }

    private void grow(Plan p) throws ReskernException {
        long need = p.arenaElements() * elemBytes;
        long inElems = (long) p.batch() * 3 * p.height(0) * p.width(0);
        long outElems = (long) p.batch() * Math.max(graph.classes(), maxChannels);
        if (need > arenaBytes || inElems > ioCapacity || outElems > outCapacity) {
            destroyGraphs(); // captured graphs hold the old addresses
            if (need > arenaBytes) {
                free(arena);
                arena = 0;
                arenaBytes = 0;
                arena = malloc(need);
                arenaBytes = need;
            }
            if (inElems > ioCapacity) {
                free(inputDev);
                freeHost(pinnedIn);
                inputDev = 0;
                pinnedIn = 0;
                ioCapacity = 0;
                inputDev = malloc(inElems * 4);
                pinnedIn = mallocHost(inElems * 4);
                ioCapacity = inElems;
            }
            if (outElems > outCapacity) {
                free(pooledDev);
                free(logitsDev);
                freeHost(pinnedOut);
                pooledDev = 0;
                logitsDev = 0;
                pinnedOut = 0;
                outCapacity = 0;
                pooledDev = malloc(outElems * 4);
                logitsDev = malloc(outElems * 4);
                pinnedOut = mallocHost(outElems * 4);
                outCapacity = outElems;
            }
        }
        peakBytes = Math.max(peakBytes, need);
    }

    @Override
    public void begin(int n, int h, int w) throws ReskernException {
        open();
        check(CudaOps.setDevice(device.index()), "select " + device);
        plan = planFor(n, h, w);
        grow(plan);
        imageCursor = 0;
        // [cudnn hook] bind (and for cudnn/best tune, once per size, cached) every conv step on this plan's buffers
        if (convs.prepare(plan, this::addr)) {
            destroyGraphs(); // the cuDNN workspace grew: captured graphs hold the old one
        }
    }

    private long addr(int value) {
        return arena + plan.offset(value) * elemBytes;
    }

    @Override
    public void stage(InputData src, int first, int count) throws ReskernException {
        Plan p = current();
        checkRange(p, first, count);
        if (count == 0) {
            return;
        }
        long img = imageElems(p);
        long len = count * img;
        long from;
        if (src instanceof InputData.DeviceAddress da) {
            if (!da.device().equals(device)) {
                throw new IllegalArgumentException("input on " + da.device() + " cannot be read by a context on " + device);
            }
            from = da.address();
        } else {
            long pinned = pinnedIn + first * img * 4;
            if (src instanceof InputData.HeapFloats hf) {
                if (hf.offset() < 0 || hf.offset() + len > hf.data().length) {
                    throw new IllegalArgumentException("input array too short for " + count + " images");
                }
                view(pinned, len).put(hf.data(), hf.offset(), (int) len);
            } else {
                Pointer.memcpy(view(pinned, len), view(((InputData.HostAddress) src).address(), len), len * 4);
            }
            from = inputDev + first * img * 4;
            check(CudaOps.memcpyH2D(from, pinned, len * 4, stream), "input H2D");
        }
        check(CudaOps.nchwToNhwc(from, count, 3, p.height(0), p.width(0), addr(0) + first * img * elemBytes, dtype, stream),
                "input layout");
    }

    @Override
    public void stageImage(RgbImage image, ResamplePlan plan, int index) throws ReskernException {
        Plan p = current();
        checkImage(p, plan, index);
        long span = (image.spanBytes() + 255) / 256 * 256;
        long need = span + (CudaImages.tapsBytes(plan) + 255) / 256 * 256;
        if (imageCursor + need > imageCapacity) {
            // the copies already queued read the staging: let them finish before it is reused or replaced
            check(CudaOps.streamSynchronize(stream), "image staging");
            imageCursor = 0;
            if (need > imageCapacity) {
                free(imageDev);
                freeHost(imagePinned);
                imageDev = 0;
                imagePinned = 0;
                imageCapacity = 0;
                long cap = Math.max(need, 4L << 20);
                imageDev = malloc(cap);
                imagePinned = mallocHost(cap);
                imageCapacity = cap;
            }
        }
        long at = imageCursor;
        imageCursor += need;
        CudaImages.writePixels(image, imagePinned + at);
        CudaImages.writeTaps(plan, imagePinned + at + span);
        check(CudaOps.memcpyH2D(imageDev + at, imagePinned + at, need, stream), "image H2D");
        CudaImages.resampleNormalize(CudaImages.deviceTaps(plan, imageDev + at + span), image, imageDev + at,
                addr(0) + index * imageElems(p) * elemBytes, dtype, stream);
    }

    @Override
    public void stageZeros(int first, int count) throws ReskernException {
        Plan p = current();
        checkRange(p, first, count);
        long img = imageElems(p);
        check(CudaOps.memset(addr(0) + first * img * elemBytes, 0, count * img * elemBytes, stream), "zero padding");
    }

    @Override
    public void forward(float[] out, int outOffset) throws ReskernException {
        Plan p = current();
        int n = p.batch();
        int outLen = n * graph.classes();
        checkOut(p, out, outOffset);
        Shape key = key(n, p.height(0), p.width(0));
        Long exec = graphs.get(key);
        if (exec == null) {
            enqueueNetwork(); // the first call of a size runs eagerly (and validates every launch)
            check(CudaOps.streamSynchronize(stream), "forward");
            if (useGraphs && !uncapturable.contains(key)) {
                exec = capture();
                if (exec != null) {
                    graphs.put(key, exec);
                } else {
                    uncapturable.add(key); // logged once; this size runs eagerly from now on
                }
            }
        } else {
            check(CudaOps.graphLaunch(exec, stream), "graph launch");
            check(CudaOps.streamSynchronize(stream), "forward (graph)");
        }
        view(pinnedOut, outLen).get(out, outOffset, outLen);
    }

    /** Captures the network body as a CUDA graph; null (logged) if capture fails, then this size runs eagerly. */
    private Long capture() {
        try {
            check(CudaOps.graphBeginCapture(stream), "begin capture");
            try {
                enqueueNetwork();
            } catch (ReskernException | RuntimeException | Error e) {
                // leave capture mode whatever happened, and never keep a graph of part of the network
                try {
                    CudaOps.graphDestroy(endCapture());
                } catch (ReskernException ignored) {
                    // the capture was invalidated: nothing to destroy
                }
                throw e;
            }
            return endCapture();
        } catch (ReskernException e) {
            LOG.warning("CUDA graph capture failed, running without graphs for " + plan.batch() + "x3x" + plan.height(0)
                    + "x" + plan.width(0) + ": " + e.getMessage());
            return null;
        }
    }

    private long endCapture() throws ReskernException {
        PointerPointer<?> pp = new PointerPointer<>(1);
        check(CudaOps.graphEndCapture(stream, pp), "end capture");
        return pp.get(0).address();
    }

    /** Every step of the schedule on the staged input, then the logits D2H — all async on the stream. */
    private void enqueueNetwork() throws ReskernException {
        Plan p = plan;
        int n = p.batch();
        for (Fusion.Step s : steps) {
            if (s instanceof Fusion.ConvStep cs) {
                // [cudnn hook] the chosen implementation (OwnConv(-1) = reskern's heuristic CudaOps.conv2d call)
                Node.Conv c = cs.conv();
                long res = c.residual() >= 0 ? addr(c.residual()) : 0;
                long y2 = cs.post() != null ? addr(cs.post().output()) : 0;
                try {
                    convs.conv(cs).enqueue(addr(cs.source()), res, addr(c.output()), y2, stream);
                } catch (ReskernException e) {
                    throw new ReskernException(e.code(), c.convName() + ": " + e.getMessage(), e);
                }
            } else if (s instanceof Fusion.HeadStep hs) {
                // [cudnn hook] reskern's fused head or global pool + cuBLAS
                convs.head(hs).enqueue(addr(hs.pool().input()), logitsDev, stream);
            } else {
                enqueueNode(((Fusion.NodeStep) s).node(), n);
            }
        }
        check(CudaOps.memcpyD2H(pinnedOut, logitsDev, 4L * n * graph.classes(), stream), "logits D2H");
    }

    private void enqueueNode(Node node, int n) throws ReskernException {
        Plan p = plan;
        int in = node.input();
        int o = node.output();
        if (node instanceof Node.MaxPool m) {
            check(CudaOps.maxPool2d(dtype, addr(in), n, p.height(in), p.width(in), p.channels(in), m.kernel(), m.kernel(),
                    m.stride(), m.pad(), m.pad(), addr(o), p.height(o), p.width(o), stream), "maxpool");
        } else if (node instanceof Node.AvgPool a) {
            check(CudaOps.avgPool2d(dtype, addr(in), n, p.height(in), p.width(in), p.channels(in), a.kernel(), a.kernel(),
                    a.stride(), 0, 0, a.countIncludePad() ? 1 : 0, addr(o), p.height(o), p.width(o), stream), "avgpool");
        } else if (node instanceof Node.BnRelu b) {
            long[] prm = weights.params(node);
            check(CudaOps.bnRelu(dtype, addr(in), (long) n * p.height(in) * p.width(in), b.channels(), prm[0], prm[1],
                    b.relu() ? 1 : 0, addr(o), stream), b.bnName());
        } else if (node instanceof Node.GlobalAvgPool) {
            check(CudaOps.globalAvgPool(dtype, addr(in), n, p.height(in) * p.width(in), p.channels(in), pooledDev, stream),
                    "global pool");
        } else if (node instanceof Node.Fc f) {
            long[] prm = weights.params(node);
            check(CudaOps.fc(pooledDev, n, f.cin(), prm[0], prm[1], f.cout(), logitsDev, stream), f.name());
        } else {
            throw new IllegalStateException("unscheduled node " + node);
        }
    }

    /** Captured graphs held now (tests). */
    int cachedGraphs() {
        return graphs.size();
    }

    private void destroyGraphs() {
        for (long g : graphs.values()) {
            CudaOps.graphDestroy(g);
        }
        graphs.clear();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        CudaOps.setDevice(device.index());
        destroyGraphs();
        if (stream != 0) {
            CudaOps.streamSynchronize(stream);
        }
        if (convs != null) { // [cudnn hook] before the buffers it points at are freed
            convs.close();
            convs = null;
        }
        for (long p : new ArrayList<>(deviceAllocs)) {
            CudaOps.free(p);
        }
        deviceAllocs.clear();
        freeHost(pinnedIn);
        freeHost(pinnedOut);
        freeHost(imagePinned);
        pinnedIn = 0;
        pinnedOut = 0;
        imagePinned = 0;
        if (stream != 0) {
            CudaOps.streamDestroy(stream);
            stream = 0;
        }
        weights.closed(this);
    }
}
