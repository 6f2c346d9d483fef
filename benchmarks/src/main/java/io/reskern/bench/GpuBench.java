package io.reskern.bench;

import io.reskern.Devices;
import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.backend.conv.ConvImpl;
import io.reskern.backend.conv.ConvProblem;
import io.reskern.backend.conv.ConvTuner;
import io.reskern.backend.conv.DeviceMem;
import io.reskern.backend.conv.GpuTimer;
import io.reskern.backend.conv.Measured;
import io.reskern.backend.conv.OwnConv;
import io.reskern.backend.cudnn.Cudnn;
import io.reskern.backend.cudnn.CudnnContext;
import io.reskern.backend.cudnn.CudnnConv;
import io.reskern.backend.cudnn.CudnnMapping;
import io.reskern.nativelib.CudaOps;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerPointer;

/**
 * GPU state shared by the cuDNN comparison benchmarks: a stream, device memory, the three implementations of one
 * fused conv launch, and CUDA-graph replay of a fixed number of launches (so one JMH invocation costs one graph launch
 * + one synchronisation, not per-kernel launch overhead).
 * <ul>
 *   <li>{@code own} — reskern's fused kernel, the heuristic's algo (what {@code --conv own} runs);</li>
 *   <li>{@code cudnn} — {@code cudnnConvolutionBiasActivationForward} with the scale folded into W, the fastest cuDNN
 *       algorithm (timed in setup);</li>
 *   <li>{@code cudnn_unfused} — conv, BN, add, ReLU as separate cuDNN calls (PyTorch eager's sequence), fastest
 *       conv algorithm.</li>
 * </ul>
 */
final class GpuBench implements AutoCloseable {
    final Precision precision;
    final int dtype;
    final long stream;
    final DeviceMem mem = new DeviceMem();
    final List<AutoCloseable> owned = new ArrayList<>();
    CudnnContext ctx;
    private final SplittableRandom rnd;
    private long graph;

    GpuBench(Precision precision, long seed) throws ReskernException {
        Devices.CudaProbe p = Devices.cuda();
        if (!p.usable()) {
            throw new IllegalStateException("no usable GPU (" + p.reason() + "): the GPU benchmarks need one");
        }
        this.precision = precision;
        this.dtype = switch (precision) {
            case FP16 -> CudaOps.F16;
            case BF16 -> CudaOps.BF16;
            default -> CudaOps.F32;
        };
        this.rnd = new SplittableRandom(seed);
        DeviceMem.check(CudaOps.setDevice(0), "set device");
        PointerPointer<?> pp = new PointerPointer<>(1);
        DeviceMem.check(CudaOps.streamCreate(pp), "stream");
        stream = pp.get(0).address();
    }

    int math() {
        return precision == Precision.TF32 ? CudaOps.MATH_TF32 : CudaOps.MATH_EXACT;
    }

    CudnnContext cudnn() throws ReskernException {
        if (ctx == null) {
            Cudnn.Status s = Cudnn.status();
            if (!s.available()) {
                throw new IllegalStateException(s.describe());
            }
            ctx = new CudnnContext(stream, precision == Precision.TF32);
        }
        return ctx;
    }

    float[] uniform(int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        }
        return a;
    }

    long upload(float[] a, int dt) throws ReskernException {
        return mem.upload(a, dt, stream);
    }

    /** Random activation buffer of {@code elems} in the benchmark's dtype. */
    long activation(long elems) throws ReskernException {
        return upload(uniform(Math.toIntExact(elems), -1, 1), dtype);
    }

    /** Host parameters of one conv (random, Kaiming-scaled). */
    record ConvParams(float[] w, float[] scale, float[] shift, float[] postScale, float[] postShift) {
    }

    ConvParams params(ConvProblem pr) {
        int cg = pr.c() / pr.groups();
        double b = Math.sqrt(6.0 / (cg * pr.r() * pr.s()));
        return new ConvParams(uniform(pr.k() * pr.r() * pr.s() * cg, -b, b), uniform(pr.k(), 0.5, 1.5), uniform(pr.k(), -0.1, 0.1),
                pr.post() ? uniform(pr.k(), 0.5, 1.5) : null, pr.post() ? uniform(pr.k(), -0.1, 0.1) : null);
    }

    /** The implementation {@code impl} (own / cudnn / cudnn_unfused) of one problem with these parameters. */
    ConvImpl impl(String impl, ConvProblem pr, ConvParams cp, long x, long res, long y, long y2) throws ReskernException {
        long ps = cp.postScale() != null ? upload(cp.postScale(), CudaOps.F32) : 0;
        long ph = cp.postShift() != null ? upload(cp.postShift(), CudaOps.F32) : 0;
        if (impl.equals("own")) {
            return new OwnConv(-1, dtype, math(), pr, upload(cp.w(), dtype), upload(cp.scale(), CudaOps.F32),
                    upload(cp.shift(), CudaOps.F32), ps, ph);
        }
        CudnnConv.Mode mode = switch (impl) {
            case "cudnn" -> CudnnConv.Mode.FUSED;
            case "cudnn_unfused" -> CudnnConv.Mode.UNFUSED;
            default -> throw new IllegalArgumentException("impl must be own, cudnn or cudnn_unfused, got " + impl);
        };
        CudnnMapping.Spec spec = CudnnMapping.map(pr, precision);
        if (!spec.supported()) {
            throw new IllegalStateException("cuDNN cannot run " + pr + ": " + spec.unsupported());
        }
        CudnnConv.Weights wt = CudnnConv.Weights.upload(mode, cp.w(), cp.scale(), cp.shift(), pr.k(), precision, stream);
        owned.add(wt);
        CudnnConv conv = new CudnnConv(cudnn(), spec, wt, precision, ps, ph);
        owned.add(conv);
        // the fastest algorithm, timed here with the tuner's timer (as --conv cudnn would pick it)
        CudnnConv.Algo best = null;
        double bestMs = Double.MAX_VALUE;
        try (GpuTimer t = new GpuTimer(stream)) {
            for (CudnnConv.Algo a : conv.algos()) {
                long ws = a.workspace() > 0 ? mem.malloc(a.workspace()) : 0;
                try {
                    Measured m = Measured.of(a.name(), t.time(() -> {
                        try {
                            conv.enqueue(a, ws, x, res, y, y2);
                            return 0;
                        } catch (ReskernException e) {
                            return 2;
                        }
                    }), a.workspace());
                    if (m.ms() < bestMs) {
                        bestMs = m.ms();
                        best = a;
                    }
                } catch (ConvTuner.CandidateFailed e) {
                    // not runnable in this configuration
                } finally {
                    DeviceMem.check(CudaOps.streamSynchronize(stream), "sync");
                    mem.free(ws);
                }
            }
        }
        if (best == null) {
            throw new IllegalStateException("no cuDNN algorithm runs " + pr + " (" + impl + ")");
        }
        CudnnConv.Algo algo = best;
        long ws = algo.workspace() > 0 ? mem.malloc(algo.workspace()) : 0;
        System.out.printf("# %s: cuDNN %s, workspace %d B, %.4f ms in setup%n", impl, algo.name(), algo.workspace(), bestMs);
        return new ConvImpl() {
            @Override
            public String id() {
                return "cudnn:" + algo.name();
            }

            @Override
            public void enqueue(long xx, long rr, long yy, long yy2, long s) throws ReskernException {
                conv.enqueue(algo, ws, xx, rr, yy, yy2);
            }
        };
    }

    /** Something to replay: enqueues one unit of work on {@link #stream}. */
    interface Work {
        void enqueue() throws ReskernException;
    }

    /**
     * Validates one run of {@code w}, then captures {@code reps} runs in a CUDA graph (falls back to direct launches when
     * capture fails); {@link #replay()} then runs them.
     */
    void prepareReplay(Work w, int reps) throws ReskernException {
        w.enqueue();
        DeviceMem.check(CudaOps.streamSynchronize(stream), "first run");
        this.work = w;
        this.reps = reps;
        DeviceMem.check(CudaOps.graphBeginCapture(stream), "begin capture");
        ReskernException failed = null;
        try {
            for (int i = 0; i < reps; i++) {
                w.enqueue();
            }
        } catch (ReskernException e) {
            failed = e;
        }
        PointerPointer<?> pp = new PointerPointer<>(1);
        int st = CudaOps.graphEndCapture(stream, pp);
        if (failed == null && st == 0) {
            graph = pp.get(0).address();
        } else {
            System.out.println("# CUDA graph capture failed (" + (failed != null ? failed.getMessage() : CudaOps.lastError())
                    + "): timing direct launches");
            CudaOps.streamSynchronize(stream);
        }
    }

    private Work work;
    private int reps;

    void replay() throws ReskernException {
        if (graph != 0) {
            DeviceMem.check(CudaOps.graphLaunch(graph, stream), "graph launch");
        } else {
            for (int i = 0; i < reps; i++) {
                work.enqueue();
            }
        }
        DeviceMem.check(CudaOps.streamSynchronize(stream), "sync");
    }

    @Override
    public void close() {
        CudaOps.streamSynchronize(stream);
        if (graph != 0) {
            CudaOps.graphDestroy(graph);
        }
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Exception ignored) {
                // best effort
            }
        }
        if (ctx != null) {
            ctx.close();
        }
        mem.close();
        CudaOps.streamDestroy(stream);
    }
}
