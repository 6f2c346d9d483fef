package io.reskern.backend.cudnn;

import io.reskern.Precision;
import io.reskern.backend.conv.ConvProblem;
import io.reskern.graph.Node;
import org.bytedeco.cuda.global.cudnn;

/**
 * From a reskern conv launch ({@link ConvProblem}) to the arguments of cuDNN's fused call — pure Java (the cuDNN
 * constants are compile-time constants, so this class loads no native code and is unit-tested on the CPU):
 * <pre>
 *   cudnnConvolutionBiasActivationForward:  y = act( alpha1 · conv(x, W') + alpha2 · z + bias )
 *   with  W'[k] = scale[k] · W[k]   (cuDNN adds a per-channel bias but has no per-channel scale: the folded BN
 *                                     scale goes into cuDNN's own copy of the weights)
 *         bias  = shift,  z = residual with alpha2 = 1 (no residual: z = y, alpha2 = 0),  alpha1 = 1,
 *         act   = RELU, or IDENTITY (cuDNN runs IDENTITY only with IMPLICIT_PRECOMP_GEMM)
 * </pre>
 * Tensors are NHWC ({@code CUDNN_TENSOR_NHWC}); the filter is KRSC = cuDNN's NHWC filter layout [K, R, S, C/groups];
 * the conv descriptor is cross-correlation, symmetric padding, dilation 1, fp32 compute, group count = groups.
 * <ul>
 *   <li>fp16 / bf16: data HALF / BFLOAT16, compute FLOAT ("pseudo half"), {@code CUDNN_TENSOR_OP_MATH}; the bias in
 *       the data type (as cuDNN's pseudo-half configuration takes it);</li>
 *   <li>TF32: data FLOAT, {@code CUDNN_DEFAULT_MATH} (tensor cores allowed, TF32 on sm_80+);</li>
 *   <li>fp32: data FLOAT, {@code CUDNN_FMA_MATH} (no TF32: the exact path).</li>
 * </ul>
 * Steps one cuDNN call cannot express, and what reskern does instead:
 * <ul>
 *   <li>option-A residual (CIFAR: zero-padded channels, strided identity): {@code z} must have y's shape → own kernel
 *       only ({@link Spec#unsupported} says so);</li>
 *   <li>v1d pre-avg-pool (2×2/2, ceil_mode, count_include_pad=False): reskern's {@code rk_cuda_avgpool2d} into a scratch
 *       buffer first, then the cuDNN 1×1 conv ({@link Spec#prePool});</li>
 *   <li>v2 dual output {@code y2 = relu(post_scale ⊙ y + post_shift)}: reskern's {@code rk_cuda_bn_relu} after the cuDNN
 *       call ({@link Spec#postBnRelu}).</li>
 * </ul>
 */
public final class CudnnMapping {
    private CudnnMapping() {
    }

    /**
     * The cuDNN view of one conv launch.
     *
     * @param unsupported null if cuDNN can run it, else why not (then every other field is meaningless)
     * @param n,c,h,w     x descriptor (NHWC): the pooled sizes when {@code prePool}
     * @param k,cPerGroup,r,s  filter descriptor (NHWC = KRSC)
     * @param p,q         y (and z) descriptor sizes: [n, k, p, q] NHWC
     * @param onlyPrecompGemm IDENTITY activation: only {@code CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM}
     */
    public record Spec(String unsupported, int dataType, int computeType, int mathType, int biasType, int elemBytes,
                       int n, int c, int h, int w, int k, int cPerGroup, int r, int s, int pad, int stride, int groups,
                       int p, int q, boolean residualAsZ, float alpha2, int activation, boolean onlyPrecompGemm,
                       boolean prePool, int poolH, int poolW, boolean postBnRelu) {

        public boolean supported() {
            return unsupported == null;
        }

        /** Bytes of the pooled input scratch ({@code prePool}), else 0. */
        public long prePoolBytes() {
            return prePool ? (long) n * h * w * c * elemBytes : 0;
        }

        /** Bytes of y. */
        public long outputBytes() {
            return (long) n * p * q * k * elemBytes;
        }
    }

    public static int dataType(Precision p) {
        return switch (p) {
            case FP16 -> cudnn.CUDNN_DATA_HALF;
            case BF16 -> cudnn.CUDNN_DATA_BFLOAT16;
            default -> cudnn.CUDNN_DATA_FLOAT;
        };
    }

    public static int mathType(Precision p) {
        return switch (p) {
            case FP16, BF16 -> cudnn.CUDNN_TENSOR_OP_MATH;
            case TF32 -> cudnn.CUDNN_DEFAULT_MATH;
            case FP32 -> cudnn.CUDNN_FMA_MATH;
        };
    }

    /** Whether cuDNN can run this node at any size (the weights copy is made only for these). */
    public static String unsupportedReason(Node.Conv c) {
        if (c.residual() >= 0 && c.residualMode() == Node.Residual.OPTION_A) {
            return "option-A residual (zero-padded, strided identity) is not a cuDNN z input";
        }
        return null;
    }

    public static Spec map(ConvProblem pr, Precision precision) {
        if (pr.resMode() == Node.Residual.OPTION_A) {
            return unsupported("option-A residual (zero-padded, strided identity) is not a cuDNN z input");
        }
        if (pr.hasResidual() && (pr.resH() != pr.p() || pr.resW() != pr.q() || pr.resC() != pr.k())) {
            return unsupported("identity residual of another shape than y (" + pr.resH() + "x" + pr.resW() + "x" + pr.resC()
                    + " vs " + pr.p() + "x" + pr.q() + "x" + pr.k() + ")");
        }
        int dt = dataType(precision);
        int h = pr.convH();
        int w = pr.convW();
        if (pr.preAvgPool() && (pr.r() != 1 || pr.s() != 1 || pr.stride() != 1 || pr.pad() != 0)) {
            return unsupported("pre-avg-pool with a conv other than 1x1/1 unpadded");
        }
        int act = pr.relu() ? cudnn.CUDNN_ACTIVATION_RELU : cudnn.CUDNN_ACTIVATION_IDENTITY;
        return new Spec(null, dt, cudnn.CUDNN_DATA_FLOAT, mathType(precision), dt, precision.bytes(), pr.n(), pr.c(), h, w,
                pr.k(), pr.c() / pr.groups(), pr.r(), pr.s(), pr.pad(), pr.stride(), pr.groups(), pr.p(), pr.q(),
                pr.hasResidual(), pr.hasResidual() ? 1f : 0f, act, !pr.relu(), pr.preAvgPool(), pr.h(), pr.w(), pr.post());
    }

    private static Spec unsupported(String why) {
        return new Spec(why, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, 0, 0, false, false, 0, 0, false);
    }

    /**
     * cuDNN's copy of the weights: {@code W'[k, r, s, c] = scale[k] · W[k, r, s, c]} (KRSC, {@code C/groups} inner);
     * {@code scale == null} means 1.
     */
    public static float[] foldScale(float[] wKrsc, float[] scale, int k) {
        if (wKrsc.length % k != 0) {
            throw new IllegalArgumentException("weights length " + wKrsc.length + " is not a multiple of K=" + k);
        }
        float[] out = wKrsc.clone();
        if (scale == null) {
            return out;
        }
        if (scale.length != k) {
            throw new IllegalArgumentException("scale has " + scale.length + " values, K=" + k);
        }
        int per = wKrsc.length / k;
        for (int kk = 0; kk < k; kk++) {
            float sc = scale[kk];
            for (int i = kk * per; i < (kk + 1) * per; i++) {
                out[i] *= sc;
            }
        }
        return out;
    }

    /** cuDNN forward-algorithm names (index = {@code cudnnConvolutionFwdAlgo_t}). */
    public static String algoName(int algo) {
        return switch (algo) {
            case cudnn.CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM -> "IMPLICIT_GEMM";
            case cudnn.CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM -> "IMPLICIT_PRECOMP_GEMM";
            case cudnn.CUDNN_CONVOLUTION_FWD_ALGO_GEMM -> "GEMM";
            case cudnn.CUDNN_CONVOLUTION_FWD_ALGO_DIRECT -> "DIRECT";
            case cudnn.CUDNN_CONVOLUTION_FWD_ALGO_FFT -> "FFT";
            case cudnn.CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING -> "FFT_TILING";
            case cudnn.CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD -> "WINOGRAD";
            case cudnn.CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED -> "WINOGRAD_NONFUSED";
            default -> "ALGO_" + algo;
        };
    }

    /** Inverse of {@link #algoName}; -1 when unknown. */
    public static int algoByName(String name) {
        for (int a = 0; a < cudnn.CUDNN_CONVOLUTION_FWD_ALGO_COUNT; a++) {
            if (algoName(a).equals(name)) {
                return a;
            }
        }
        return -1;
    }

    /** Whether the fused call may use {@code algo} for this spec (IDENTITY → IMPLICIT_PRECOMP_GEMM only). */
    public static boolean fusedAllows(Spec s, int algo) {
        return !s.onlyPrecompGemm() || algo == cudnn.CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
    }
}
