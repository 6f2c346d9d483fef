package io.reskern.nativelib;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JNI binding of {@code native/include/reskern_cpu.h} (one binding class per native library; JavaCPP generates
 * the JNI glue from this class at build time). Tensor arguments are native addresses ({@code long}), so one
 * call costs no Java allocation. Every function returns an {@code rk_status}; see {@link NativeStatus}.
 *
 * <p>Not for application code: use {@code io.reskern.Model}. Callers must pass valid addresses and shapes;
 * {@code io.reskern.backend.CpuBackend} checks them before calling.
 */
@Platform(include = "reskern_cpu.h", link = "reskern_cpu")
public final class CpuOps {
    static {
        Loader.load();
    }

    private CpuOps() {
    }

    @Name("rk_cpu_last_error") public static native String lastError();
    @Name("rk_cpu_version") public static native String version();
    @Name("rk_cpu_features") public static native int features();
    @Name("rk_cpu_kernel_isa") public static native String kernelIsa();
    @Name("rk_cpu_set_threads") public static native void setThreads(int n);
    @Name("rk_cpu_get_threads") public static native int getThreads();

    /** Bytes of scratch the ops keep between calls, in one pool shared by all threads (see reskern_cpu.h). */
    @Name("rk_cpu_scratch_bytes") public static native @Cast("size_t") long scratchBytes();
    /** Frees the idle scratch buffers; ops in flight keep theirs. */
    @Name("rk_cpu_trim_scratch") public static native void trimScratch();

    @Name("rk_cpu_conv_packed_size") public static native @Cast("size_t") long convPackedSize(int K, int C, int R, int S, int groups);

    @Name("rk_cpu_conv_pack")
    public static native int convPack(@Cast("const float*") long wKrsc, int K, int C, int R, int S, int groups,
                                      @Cast("float*") long packed);

    /** Packed size for a conv that runs with {@code stride} (0 = unknown): 3x3 stride-1 convs may get the Winograd layout. */
    @Name("rk_cpu_conv_packed_size_ex")
    public static native @Cast("size_t") long convPackedSizeEx(int K, int C, int R, int S, int groups, int stride);

    /** {@link #convPack} for a conv that runs with {@code stride}; such weights are rejected at any other stride. */
    @Name("rk_cpu_conv_pack_ex")
    public static native int convPackEx(@Cast("const float*") long wKrsc, int K, int C, int R, int S, int groups, int stride,
                                        @Cast("float*") long packed);

    /** {@link #convPackedSizeEx} with the output pixels per image the conv usually sees (0 = unknown; a layout hint only). */
    @Name("rk_cpu_conv_packed_size_hint")
    public static native @Cast("size_t") long convPackedSizeHint(int K, int C, int R, int S, int groups, int stride,
                                                                 long pixels);

    /** {@link #convPackEx} with the pixel hint of {@link #convPackedSizeHint} (same hint for both calls). */
    @Name("rk_cpu_conv_pack_hint")
    public static native int convPackHint(@Cast("const float*") long wKrsc, int K, int C, int R, int S, int groups, int stride,
                                          long pixels, @Cast("float*") long packed);

    /** {@code RK_CPU_PREC_FP32} / {@code RK_CPU_PREC_BF16} of reskern_cpu.h. */
    public static final int PREC_FP32 = 0, PREC_BF16 = 1;

    /** 1 when this CPU and the current kernel ISA run bf16 convs (AVX-512 kernels and AVX512_BF16), else 0. */
    @Name("rk_cpu_bf16_supported") public static native int bf16Supported();

    /** {@link #convPackedSizeHint} for a precision ({@link #PREC_FP32}, {@link #PREC_BF16}); 0 if it cannot be packed. */
    @Name("rk_cpu_conv_packed_size_prec")
    public static native @Cast("size_t") long convPackedSizePrec(int K, int C, int R, int S, int groups, int stride,
                                                                 long pixels, int precision);

    /** {@link #convPackHint} for a precision: bf16 rounds the weights (and, at each call, x) to bfloat16. */
    @Name("rk_cpu_conv_pack_prec")
    public static native int convPackPrec(@Cast("const float*") long wKrsc, int K, int C, int R, int S, int groups, int stride,
                                          long pixels, int precision, @Cast("float*") long packed);

    /** The precision packed weights run in ({@link #PREC_FP32}, {@link #PREC_BF16}), -1 if not packed weights. */
    @Name("rk_cpu_conv_packed_precision")
    public static native int convPackedPrecision(@Cast("const float*") long wPacked);

    @Name("rk_cpu_conv2d")
    public static native int conv2d(@Cast("const float*") long x, int N, int H, int W, int C,
                                    @Cast("const float*") long wPacked, int K, int R, int S, int stride, int padH, int padW,
                                    int groups, @Cast("const float*") long scale, @Cast("const float*") long shift,
                                    @Cast("const float*") long res, int resMode, int resH, int resW, int resC,
                                    int relu, @Cast("float*") long y, int P, int Q);

    /** Bytes of workspace {@link #conv2dWs} needs for this conv (0 for most; see reskern_cpu.h). */
    @Name("rk_cpu_conv2d_workspace_size")
    public static native @Cast("size_t") long conv2dWorkspaceSize(int N, int H, int W, int C, @Cast("const float*") long wPacked,
                                                                 int K, int R, int S, int stride, int padH, int padW,
                                                                 int groups, int P, int Q);

    /** {@link #conv2d} with a caller-owned workspace ({@code 0}: the shared scratch pool). */
    @Name("rk_cpu_conv2d_ws")
    public static native int conv2dWs(@Cast("const float*") long x, int N, int H, int W, int C,
                                      @Cast("const float*") long wPacked, int K, int R, int S, int stride, int padH, int padW,
                                      int groups, @Cast("const float*") long scale, @Cast("const float*") long shift,
                                      @Cast("const float*") long res, int resMode, int resH, int resW, int resC,
                                      int relu, @Cast("float*") long y, int P, int Q, @Cast("void*") long workspace,
                                      @Cast("size_t") long workspaceBytes);

    @Name("rk_cpu_bn_relu")
    public static native int bnRelu(@Cast("const float*") long x, long M, int C, @Cast("const float*") long scale,
                                    @Cast("const float*") long shift, int relu, @Cast("float*") long y);

    @Name("rk_cpu_add_relu")
    public static native int addRelu(@Cast("const float*") long a, @Cast("const float*") long b, long count, int relu,
                                     @Cast("float*") long y);

    @Name("rk_cpu_maxpool2d")
    public static native int maxPool2d(@Cast("const float*") long x, int N, int H, int W, int C, int kh, int kw, int stride,
                                       int padH, int padW, @Cast("float*") long y, int P, int Q);

    @Name("rk_cpu_avgpool2d")
    public static native int avgPool2d(@Cast("const float*") long x, int N, int H, int W, int C, int kh, int kw, int stride,
                                       int padH, int padW, int countIncludePad, @Cast("float*") long y, int P, int Q);

    @Name("rk_cpu_global_avgpool")
    public static native int globalAvgPool(@Cast("const float*") long x, int N, int HW, int C, @Cast("float*") long y);

    @Name("rk_cpu_fc")
    public static native int fc(@Cast("const float*") long x, int N, int C, @Cast("const float*") long w,
                                @Cast("const float*") long bias, int K, @Cast("float*") long y);

    @Name("rk_cpu_nchw_to_nhwc")
    public static native int nchwToNhwc(@Cast("const float*") long x, int N, int C, int H, int W, @Cast("float*") long y);

    @Name("rk_cpu_preprocess_u8")
    public static native int preprocessU8(@Cast("const uint8_t*") long x, int N, int H, int W, @Cast("const float*") long mean,
                                          @Cast("const float*") long std, @Cast("float*") long y);

    @Name("rk_cpu_resample_normalize_u8")
    public static native int resampleNormalizeU8(@Cast("const uint8_t*") long x, int H, int W, long rowStride, int pixelStride,
                                                 int offR, int offG, int offB,
                                                 @Cast("const int*") long ys, @Cast("const int*") long ny,
                                                 @Cast("const float*") long wy, int ky,
                                                 @Cast("const int*") long xs, @Cast("const int*") long nx,
                                                 @Cast("const float*") long wx, int kx,
                                                 @Cast("const float*") long mean, @Cast("const float*") long std,
                                                 @Cast("float*") long y, int P, int Q);
}
