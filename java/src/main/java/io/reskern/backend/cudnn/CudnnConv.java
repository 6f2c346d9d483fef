package io.reskern.backend.cudnn;

import static io.reskern.backend.cudnn.CudnnContext.check;

import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.ReskernException.ErrorCode;
import io.reskern.backend.conv.DeviceMem;
import io.reskern.nativelib.CudaOps;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.cuda.cudnn.cudnnActivationStruct;
import org.bytedeco.cuda.cudnn.cudnnConvolutionFwdAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionStruct;
import org.bytedeco.cuda.cudnn.cudnnFilterStruct;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.cuda.global.cudnn;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * One conv launch on cuDNN, for one problem size ({@link CudnnMapping.Spec}), in one of two modes:
 * <ul>
 *   <li>{@link Mode#FUSED} — {@code y = act(conv(x, scale⊙W) + z + shift)} in one {@code
 *       cudnnConvolutionBiasActivationForward}; (v1d) reskern's avg-pool first, (v2) reskern's BN-ReLU after;</li>
 *   <li>{@link Mode#UNFUSED} — the sequence PyTorch eager runs, one call each: {@code t = conv(x, W)}
 *       ({@code cudnnConvolutionForward}), {@code y = BN(t)} ({@code cudnnBatchNormalizationForwardInference} with
 *       mean 0, variance 1 − ε, γ = scale, β = shift: exactly {@code scale ⊙ t + shift}), {@code y += residual}
 *       ({@code cudnnAddTensor}), {@code y = relu(y)} ({@code cudnnActivationForward}, in place) — the benchmark
 *       baseline.</li>
 * </ul>
 * Descriptors are made once; {@link #enqueue} only launches (graph-capturable given a fixed algo and workspace).
 */
public final class CudnnConv implements AutoCloseable {
    /** Fused (one call) or the unfused eager sequence. */
    public enum Mode { FUSED, UNFUSED }

    /** Upper bound of the workspace a candidate may ask for ({@code -Dreskern.cudnnWorkspaceMiB}, default 256). */
    public static long workspaceLimit() {
        return Long.getLong("reskern.cudnnWorkspaceMiB", 256) << 20;
    }

    /** cuDNN's own device copy of one conv's parameters (shareable by every context of a model). */
    public static final class Weights implements AutoCloseable {
        final Mode mode;
        final int k;
        final DeviceMem mem = new DeviceMem();
        long w;
        long bias;
        long bnScale;
        long bnShift;
        long bnMean;
        long bnVar;

        private Weights(Mode mode, int k) {
            this.mode = mode;
            this.k = k;
        }

        /**
         * @param wKrsc KRSC weights (fp32 host), scale/shift the folded BN (null scale = 1, null shift = 0)
         */
        public static Weights upload(Mode mode, float[] wKrsc, float[] scale, float[] shift, int k, Precision p, long stream)
                throws ReskernException {
            Weights wt = new Weights(mode, k);
            try {
                int dt = CudnnBuffers.dtype(p);
                float[] sh = shift != null ? shift : new float[k];
                if (mode == Mode.FUSED) {
                    wt.w = wt.mem.upload(CudnnMapping.foldScale(wKrsc, scale, k), dt, stream);
                    wt.bias = wt.mem.upload(sh, dt, stream); // bias in the data type (pseudo-half configuration)
                } else {
                    float[] sc = scale != null ? scale : ones(k);
                    float[] var = new float[k];
                    java.util.Arrays.fill(var, (float) (1 - BN_EPS));
                    wt.w = wt.mem.upload(wKrsc, dt, stream);
                    wt.bnScale = wt.mem.upload(sc, CudaOps.F32, stream);
                    wt.bnShift = wt.mem.upload(sh, CudaOps.F32, stream);
                    wt.bnMean = wt.mem.upload(new float[k], CudaOps.F32, stream);
                    wt.bnVar = wt.mem.upload(var, CudaOps.F32, stream);
                }
                return wt;
            } catch (ReskernException | RuntimeException e) {
                wt.close();
                throw e;
            }
        }

        private static float[] ones(int k) {
            float[] a = new float[k];
            java.util.Arrays.fill(a, 1f);
            return a;
        }

        @Override
        public void close() {
            mem.close();
        }
    }

    /** ε of the unfused BN (≥ CUDNN_BN_MIN_EPSILON of every cuDNN version). */
    static final double BN_EPS = 1e-5;

    private final CudnnContext ctx;
    private final CudnnMapping.Spec spec;
    private final Weights wt;
    private final Precision precision;
    private final long postScale;
    private final long postShift;
    private final DeviceMem scratch = new DeviceMem();
    private final cudnnTensorStruct xDesc = new cudnnTensorStruct();
    private final cudnnTensorStruct yDesc = new cudnnTensorStruct();
    private final cudnnTensorStruct biasDesc = new cudnnTensorStruct();
    private final cudnnFilterStruct wDesc = new cudnnFilterStruct();
    private final cudnnConvolutionStruct convDesc = new cudnnConvolutionStruct();
    private final cudnnActivationStruct actDesc = new cudnnActivationStruct();
    private final cudnnActivationStruct reluDesc = new cudnnActivationStruct();
    private final List<Runnable> destroy = new ArrayList<>();
    private long pooled;   // prePool scratch (x pooled 2x2/2)
    private long tmp;      // unfused: conv output before BN

    /**
     * @param postScale,postShift fp32 device vectors of the v2 post BN-ReLU (when {@code spec.postBnRelu()}), else 0
     */
    public CudnnConv(CudnnContext ctx, CudnnMapping.Spec spec, Weights wt, Precision precision, long postScale, long postShift)
            throws ReskernException {
        if (!spec.supported()) {
            throw new ReskernException(ErrorCode.UNSUPPORTED, "cuDNN cannot run this conv: " + spec.unsupported());
        }
        this.ctx = ctx;
        this.spec = spec;
        this.wt = wt;
        this.precision = precision;
        this.postScale = postScale;
        this.postShift = postShift;
        try {
            check(cudnn.cudnnCreateTensorDescriptor(xDesc), "create x descriptor");
            destroy.add(() -> cudnn.cudnnDestroyTensorDescriptor(xDesc));
            check(cudnn.cudnnCreateTensorDescriptor(yDesc), "create y descriptor");
            destroy.add(() -> cudnn.cudnnDestroyTensorDescriptor(yDesc));
            check(cudnn.cudnnCreateTensorDescriptor(biasDesc), "create bias descriptor");
            destroy.add(() -> cudnn.cudnnDestroyTensorDescriptor(biasDesc));
            check(cudnn.cudnnCreateFilterDescriptor(wDesc), "create filter descriptor");
            destroy.add(() -> cudnn.cudnnDestroyFilterDescriptor(wDesc));
            check(cudnn.cudnnCreateConvolutionDescriptor(convDesc), "create conv descriptor");
            destroy.add(() -> cudnn.cudnnDestroyConvolutionDescriptor(convDesc));
            check(cudnn.cudnnCreateActivationDescriptor(actDesc), "create activation descriptor");
            destroy.add(() -> cudnn.cudnnDestroyActivationDescriptor(actDesc));
            check(cudnn.cudnnCreateActivationDescriptor(reluDesc), "create activation descriptor");
            destroy.add(() -> cudnn.cudnnDestroyActivationDescriptor(reluDesc));

            check(cudnn.cudnnSetTensor4dDescriptor(xDesc, cudnn.CUDNN_TENSOR_NHWC, spec.dataType(), spec.n(), spec.c(), spec.h(),
                    spec.w()), "x descriptor " + spec.n() + "x" + spec.c() + "x" + spec.h() + "x" + spec.w());
            check(cudnn.cudnnSetTensor4dDescriptor(yDesc, cudnn.CUDNN_TENSOR_NHWC, spec.dataType(), spec.n(), spec.k(), spec.p(),
                    spec.q()), "y descriptor");
            int biasType = wt.mode == Mode.FUSED ? spec.biasType() : cudnn.CUDNN_DATA_FLOAT; // unfused: BN parameter descriptor
            check(cudnn.cudnnSetTensor4dDescriptor(biasDesc, cudnn.CUDNN_TENSOR_NCHW, biasType, 1, spec.k(), 1, 1), "bias descriptor");
            check(cudnn.cudnnSetFilter4dDescriptor(wDesc, spec.dataType(), cudnn.CUDNN_TENSOR_NHWC, spec.k(), spec.cPerGroup(),
                    spec.r(), spec.s()), "filter descriptor");
            check(cudnn.cudnnSetConvolution2dDescriptor(convDesc, spec.pad(), spec.pad(), spec.stride(), spec.stride(), 1, 1,
                    cudnn.CUDNN_CROSS_CORRELATION, spec.computeType()), "conv descriptor");
            check(cudnn.cudnnSetConvolutionGroupCount(convDesc, spec.groups()), "group count");
            check(cudnn.cudnnSetConvolutionMathType(convDesc, spec.mathType()), "math type");
            check(cudnn.cudnnSetActivationDescriptor(actDesc, spec.activation(), cudnn.CUDNN_NOT_PROPAGATE_NAN, 0.0),
                    "activation descriptor");
            check(cudnn.cudnnSetActivationDescriptor(reluDesc, cudnn.CUDNN_ACTIVATION_RELU, cudnn.CUDNN_NOT_PROPAGATE_NAN, 0.0),
                    "relu descriptor");
            if (spec.prePool()) {
                pooled = scratch.malloc(spec.prePoolBytes());
            }
            if (wt.mode == Mode.UNFUSED) {
                tmp = scratch.malloc(spec.outputBytes());
            }
        } catch (ReskernException | RuntimeException e) {
            close();
            throw e;
        }
    }

    public CudnnMapping.Spec spec() {
        return spec;
    }

    /** One cuDNN algorithm that can run this conv, with its workspace. */
    public record Algo(int algo, long workspace) {
        public String name() {
            return CudnnMapping.algoName(algo);
        }
    }

    /**
     * The algorithms cuDNN's heuristics offer for this problem ({@code cudnnGetConvolutionForwardAlgorithm_v7}: every
     * algorithm with its status and workspace, no launches), those it reports as runnable, within
     * {@link #workspaceLimit()}, allowed for the fused call (IDENTITY → IMPLICIT_PRECOMP_GEMM), and for fp32-exact not
     * a tensor-op variant. Timing them is the tuner's job.
     */
    public List<Algo> algos() throws ReskernException {
        int max = cudnn.CUDNN_CONVOLUTION_FWD_ALGO_COUNT * 2;
        List<Algo> out = new ArrayList<>();
        try (cudnnConvolutionFwdAlgoPerf_t perf = new cudnnConvolutionFwdAlgoPerf_t(max); IntPointer got = new IntPointer(1)) {
            check(cudnn.cudnnGetConvolutionForwardAlgorithm_v7(ctx.handle, xDesc, wDesc, convDesc, yDesc, max, got, perf),
                    "cudnnGetConvolutionForwardAlgorithm_v7");
            for (int i = 0; i < got.get(); i++) {
                cudnnConvolutionFwdAlgoPerf_t p = perf.getPointer(i);
                int a = p.algo();
                if (p.status() != cudnn.CUDNN_STATUS_SUCCESS || p.memory() > workspaceLimit()) {
                    continue;
                }
                if (wt.mode == Mode.FUSED && !CudnnMapping.fusedAllows(spec, a)) {
                    continue;
                }
                if (precision == Precision.FP32 && p.mathType() == cudnn.CUDNN_TENSOR_OP_MATH) {
                    continue;
                }
                boolean dup = false;
                for (Algo o : out) {
                    dup |= o.algo() == a;
                }
                if (!dup) {
                    out.add(new Algo(a, p.memory()));
                }
            }
        }
        if (wt.mode == Mode.FUSED && spec.onlyPrecompGemm() && out.isEmpty()) {
            // the heuristics may not list it; the fused IDENTITY call can still try it (the tuner drops it if it fails)
            try (org.bytedeco.javacpp.SizeTPointer ws = new org.bytedeco.javacpp.SizeTPointer(1)) {
                int a = cudnn.CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
                if (cudnn.cudnnGetConvolutionForwardWorkspaceSize(ctx.handle, xDesc, wDesc, convDesc, yDesc, a, ws)
                        == cudnn.CUDNN_STATUS_SUCCESS && ws.get() <= workspaceLimit()) {
                    out.add(new Algo(a, ws.get()));
                }
            }
        }
        return out;
    }

    /** Enqueues the launch(es) on the context's stream; see the class comment for what runs in each mode. */
    public void enqueue(Algo algo, long workspace, long x, long res, long y, long y2) throws ReskernException {
        long stream = ctx.stream;
        long src = x;
        if (spec.prePool()) {
            DeviceMem.check(CudaOps.avgPool2d(CudnnBuffers.dtype(precision), x, spec.n(), spec.poolH(), spec.poolW(), spec.c(), 2,
                    2, 2, 0, 0, 0, pooled, spec.h(), spec.w(), stream), "pre avg-pool (v1d)");
            src = pooled;
        }
        Pointer ws = DevPtr.of(workspace);
        if (wt.mode == Mode.FUSED) {
            // z = residual with alpha2 = 1; without a residual z = y with alpha2 = 0 (cuDNN then ignores it)
            long z = spec.residualAsZ() ? res : y;
            check(cudnn.cudnnConvolutionBiasActivationForward(ctx.handle, ctx.one, xDesc, DevPtr.of(src), wDesc, DevPtr.of(wt.w),
                    convDesc, algo.algo(), ws, algo.workspace(), spec.residualAsZ() ? ctx.one : ctx.zero, yDesc, DevPtr.of(z),
                    biasDesc, DevPtr.of(wt.bias), actDesc, yDesc, DevPtr.of(y)), "cudnnConvolutionBiasActivationForward "
                    + algo.name());
        } else {
            check(cudnn.cudnnConvolutionForward(ctx.handle, ctx.one, xDesc, DevPtr.of(src), wDesc, DevPtr.of(wt.w), convDesc,
                    algo.algo(), ws, algo.workspace(), ctx.zero, yDesc, DevPtr.of(tmp)), "cudnnConvolutionForward " + algo.name());
            check(cudnn.cudnnBatchNormalizationForwardInference(ctx.handle, cudnn.CUDNN_BATCHNORM_SPATIAL, ctx.one, ctx.zero, yDesc,
                    DevPtr.of(tmp), yDesc, DevPtr.of(y), biasDesc, DevPtr.of(wt.bnScale), DevPtr.of(wt.bnShift),
                    DevPtr.of(wt.bnMean), DevPtr.of(wt.bnVar), BN_EPS), "cudnnBatchNormalizationForwardInference");
            if (spec.residualAsZ()) {
                check(cudnn.cudnnAddTensor(ctx.handle, ctx.one, yDesc, DevPtr.of(res), ctx.one, yDesc, DevPtr.of(y)),
                        "cudnnAddTensor (residual)");
            }
            if (spec.activation() == cudnn.CUDNN_ACTIVATION_RELU) {
                check(cudnn.cudnnActivationForward(ctx.handle, reluDesc, ctx.one, yDesc, DevPtr.of(y), ctx.zero, yDesc,
                        DevPtr.of(y)), "cudnnActivationForward (relu)");
            }
        }
        if (spec.postBnRelu()) {
            DeviceMem.check(CudaOps.bnRelu(CudnnBuffers.dtype(precision), y, (long) spec.n() * spec.p() * spec.q(), spec.k(),
                    postScale, postShift, 1, y2, stream), "post BN-ReLU (v2)");
        }
    }

    @Override
    public void close() {
        for (int i = destroy.size() - 1; i >= 0; i--) {
            destroy.get(i).run();
        }
        destroy.clear();
        scratch.close();
    }
}
