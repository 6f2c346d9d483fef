package io.reskern.backend;

import io.reskern.ConvPolicy;
import io.reskern.Device;
import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.ReskernException.ErrorCode;
import io.reskern.backend.conv.ConvSelector;
import io.reskern.backend.conv.TuneListener;
import io.reskern.graph.Graph;
import io.reskern.graph.Node;
import io.reskern.graph.Plan;
import io.reskern.nativelib.CudaOps;
import io.reskern.weights.FoldedWeights;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * CUDA backend: the {@link Fusion} schedule of a graph on one GPU, one stream, one device arena planned per input
 * size, pinned host staging buffers, and CUDA Graph capture of the whole forward (copies included) per input size,
 * replayed on later calls. Weights are uploaded once in the model's precision (scale/shift stay fp32).
 *
 * <p>Every native call is checked; a CUDA error becomes a {@link ReskernException} ({@link ErrorCode#CUDA_ERROR},
 * {@link ErrorCode#OUT_OF_MEMORY}); the JVM never dies. Not thread-safe (see {@link Executor}).
 */
final class CudaExecutor implements Executor {
    private static final Logger LOG = Logger.getLogger(CudaExecutor.class.getName());

    private final Graph graph;
    private final Device device;
    private final Precision precision;
    private final int dtype;
    private final int math;
    private final int elemBytes;
    private final List<Fusion.Step> steps;
    private final boolean useGraphs = !"false".equalsIgnoreCase(System.getProperty("reskern.cudaGraphs", "true"));
    private final List<Long> deviceAllocs = new ArrayList<>();
    private final Map<Node, long[]> params = new IdentityHashMap<>();
    private final Map<Long, Long> graphs = new HashMap<>();
    private long stream;
    private Plan plan;
    private long arena;
    private long arenaBytes;
    private long inputDev;
    private long pooledDev;
    private long logitsDev;
    private long pinnedIn;
    private long pinnedOut;
    private long ioCapacity; // elements of input staging
    private long outCapacity;
    private long peakBytes;
    private boolean closed;
    // [cudnn hook] which implementation runs each conv step / the head (own kernels, cuDNN, cuBLAS); see ConvSelector
    private ConvSelector convs;

    CudaExecutor(Graph graph, FoldedWeights weights, Device device, Precision precision) throws ReskernException {
        this(graph, weights, device, precision, ConvPolicy.OWN, TuneListener.NONE);
    }

    CudaExecutor(Graph graph, FoldedWeights weights, Device device, Precision precision, ConvPolicy policy,
                 TuneListener tuneListener) throws ReskernException {
        this.graph = graph;
        this.device = device;
        this.precision = precision;
        this.dtype = switch (precision) {
            case FP16 -> CudaOps.F16;
            case BF16 -> CudaOps.BF16;
            default -> CudaOps.F32;
        };
        this.math = precision == Precision.TF32 ? CudaOps.MATH_TF32 : CudaOps.MATH_EXACT;
        this.elemBytes = precision.bytes();
        this.steps = Fusion.schedule(graph);
        try {
            check(CudaOps.setDevice(device.index()), "select " + device);
            PointerPointer<?> pp = new PointerPointer<>(1);
            check(CudaOps.streamCreate(pp), "create stream");
            stream = pp.get(0) == null ? 0 : pp.get(0).address();
            upload(weights);
            check(CudaOps.streamSynchronize(stream), "upload weights");
            // [cudnn hook] after the weights are on the device; cuDNN's folded copy is made here for cudnn/best
            convs = ConvSelector.create(policy, graph, steps, weights, precision, device, stream, params::get, tuneListener);
        } catch (ReskernException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private static void check(int status, String what) throws ReskernException {
        if (status != 0) {
            throw new ReskernException(ReskernException.fromNative(status), what + ": " + CudaOps.lastError());
        }
    }

    private long malloc(long bytes) throws ReskernException {
        PointerPointer<?> pp = new PointerPointer<>(1);
        check(CudaOps.malloc(pp, Math.max(bytes, 256)), "cudaMalloc " + bytes + " bytes");
        long p = pp.get(0).address();
        deviceAllocs.add(p);
        return p;
    }

    private void free(long p) {
        if (p != 0 && deviceAllocs.remove(Long.valueOf(p))) {
            CudaOps.free(p);
        }
    }

    /** Copies fp32 host data to a new device buffer, converted to {@code toDtype}. */
    private long upload(float[] data, int toDtype) throws ReskernException {
        FloatPointer host = new FloatPointer(data.length);
        try {
            host.put(data, 0, data.length);
            long f32 = malloc(4L * data.length);
            check(CudaOps.memcpyH2D(f32, host.address(), 4L * data.length, stream), "upload");
            check(CudaOps.streamSynchronize(stream), "upload");
            if (toDtype == CudaOps.F32) {
                return f32;
            }
            long out = malloc((long) data.length * 2);
            check(CudaOps.convert(f32, CudaOps.F32, out, toDtype, data.length, stream), "convert weights");
            check(CudaOps.streamSynchronize(stream), "convert weights");
            free(f32);
            return out;
        } finally {
            host.close();
        }
    }

    private void upload(FoldedWeights w) throws ReskernException {
        for (Node n : graph.nodes()) {
            if (n instanceof Node.Conv c) {
                FoldedWeights.Conv fw = w.conv(c);
                params.put(n, new long[] {upload(fw.weightKrsc(), dtype), upload(fw.scale(), CudaOps.F32),
                    upload(fw.shift(), CudaOps.F32)});
            } else if (n instanceof Node.BnRelu b) {
                FoldedWeights.Affine a = w.affine(b);
                params.put(n, new long[] {upload(a.scale(), CudaOps.F32), upload(a.shift(), CudaOps.F32)});
            } else if (n instanceof Node.Fc f) {
                FoldedWeights.Fc fc = w.fc(f);
                params.put(n, new long[] {upload(fc.weight(), CudaOps.F32), upload(fc.bias(), CudaOps.F32)});
            }
        }
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public Precision precision() {
        return precision;
    }

    @Override
    public long activationBytes() {
        return peakBytes;
    }

    private void prepare(int n, int h, int w) throws ReskernException {
        if (plan == null || plan.batch() != n || plan.height(0) != h || plan.width(0) != w) {
            plan = graph.plan(n, h, w);
        }
        long need = plan.arenaElements() * elemBytes;
        long inElems = (long) n * 3 * h * w;
        int maxC = 0;
        for (int v = 0; v < graph.valueCount(); v++) {
            maxC = Math.max(maxC, graph.channels(v));
        }
        long outElems = (long) n * Math.max(graph.classes(), maxC);
        if (need > arenaBytes || inElems > ioCapacity || outElems > outCapacity) {
            destroyGraphs(); // captured graphs hold the old addresses
            if (need > arenaBytes) {
                free(arena);
                arena = malloc(need);
                arenaBytes = need;
            }
            if (inElems > ioCapacity) {
                free(inputDev);
                freeHost(pinnedIn);
                inputDev = malloc(inElems * 4);
                pinnedIn = mallocHost(inElems * 4);
                ioCapacity = inElems;
            }
            if (outElems > outCapacity) {
                free(pooledDev);
                free(logitsDev);
                freeHost(pinnedOut);
                pooledDev = malloc(outElems * 4);
                logitsDev = malloc(outElems * 4);
                pinnedOut = mallocHost(outElems * 4);
                outCapacity = outElems;
            }
        }
        peakBytes = Math.max(peakBytes, need);
        // [cudnn hook] bind (and for cudnn/best tune, once per size, cached) every conv step on this plan's buffers
        if (convs.prepare(plan, this::addr)) {
            destroyGraphs(); // the cuDNN workspace grew: captured graphs hold the old one
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

    private long addr(int value) {
        return arena + plan.offset(value) * elemBytes;
    }

    @Override
    public void run(float[] nchw, int n, int h, int w, float[] out) throws ReskernException {
        if (closed) {
            throw new IllegalStateException("executor is closed");
        }
        check(CudaOps.setDevice(device.index()), "select " + device);
        prepare(n, h, w);
        int inLen = n * 3 * h * w;
        int outLen = n * graph.classes();
        view(pinnedIn, inLen).put(nchw, 0, inLen);
        long key = ((long) n << 40) | ((long) h << 20) | w;
        Long exec = graphs.get(key);
        if (exec == null) {
            enqueueForward(n, h, w); // first call of this size runs eagerly (and validates every launch)
            check(CudaOps.streamSynchronize(stream), "forward");
            if (useGraphs) {
                exec = capture(n, h, w);
                if (exec != null) {
                    graphs.put(key, exec);
                }
            }
        } else {
            check(CudaOps.graphLaunch(exec, stream), "graph launch");
            check(CudaOps.streamSynchronize(stream), "forward (graph)");
        }
        view(pinnedOut, outLen).get(out, 0, outLen);
    }

    private Long capture(int n, int h, int w) {
        try {
            check(CudaOps.graphBeginCapture(stream), "begin capture");
            try {
                enqueueForward(n, h, w);
            } finally {
                PointerPointer<?> pp = new PointerPointer<>(1);
                int st = CudaOps.graphEndCapture(stream, pp);
                check(st, "end capture");
                return pp.get(0).address();
            }
        } catch (ReskernException e) {
            LOG.warning("CUDA graph capture failed, running without graphs for " + n + "x3x" + h + "x" + w + ": "
                    + e.getMessage());
            return null;
        }
    }

    /** H2D copy, layout conversion, every step of the schedule, D2H copy — all async on the stream. */
    private void enqueueForward(int n, int h, int w) throws ReskernException {
        Plan p = plan;
        check(CudaOps.memcpyH2D(inputDev, pinnedIn, 4L * n * 3 * h * w, stream), "input H2D");
        check(CudaOps.nchwToNhwc(inputDev, n, 3, h, w, addr(0), dtype, stream), "input layout");
        for (Fusion.Step s : steps) {
            if (s instanceof Fusion.ConvStep cs) {
                // [cudnn hook] the chosen implementation (OwnConv(-1) = the former CudaOps.conv2d(-1, ...) call)
                Node.Conv c = cs.conv();
                long res = c.residual() >= 0 ? addr(c.residual()) : 0;
                long y2 = cs.post() != null ? addr(cs.post().output()) : 0;
                try {
                    convs.conv(cs).enqueue(addr(cs.source()), res, addr(c.output()), y2, stream);
                } catch (ReskernException e) {
                    throw new ReskernException(e.code(), c.convName() + ": " + e.getMessage());
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
            long[] prm = params.get(node);
            check(CudaOps.bnRelu(dtype, addr(in), (long) n * p.height(in) * p.width(in), b.channels(), prm[0], prm[1],
                    b.relu() ? 1 : 0, addr(o), stream), b.bnName());
        } else if (node instanceof Node.GlobalAvgPool) {
            check(CudaOps.globalAvgPool(dtype, addr(in), n, p.height(in) * p.width(in), p.channels(in), pooledDev, stream),
                    "global pool");
        } else if (node instanceof Node.Fc f) {
            long[] prm = params.get(node);
            check(CudaOps.fc(pooledDev, n, f.cin(), prm[0], prm[1], f.cout(), logitsDev, stream), f.name());
        } else {
            throw new IllegalStateException("unscheduled node " + node);
        }
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
        destroyGraphs();
        if (stream != 0) {
            CudaOps.streamSynchronize(stream);
        }
        if (convs != null) { // [cudnn hook] before the weights it points at are freed
            convs.close();
            convs = null;
        }
        for (long p : new ArrayList<>(deviceAllocs)) {
            CudaOps.free(p);
        }
        deviceAllocs.clear();
        freeHost(pinnedIn);
        freeHost(pinnedOut);
        pinnedIn = 0;
        pinnedOut = 0;
        if (stream != 0) {
            CudaOps.streamDestroy(stream);
            stream = 0;
        }
    }
}
