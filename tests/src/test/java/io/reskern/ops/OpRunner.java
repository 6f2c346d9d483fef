package io.reskern.ops;

import io.reskern.ReskernException;
import io.reskern.image.ResamplePlan;

/**
 * One backend's ops on host arrays (fp32 in, fp32 out; a backend may store and compute in lower precision inside).
 * Implemented for the CPU ({@link CpuOpRunner}) and CUDA ({@code CudaOpRunner}); {@link OpCases} runs every op of a
 * runner against {@link Reference}.
 */
public interface OpRunner {
    String name();

    /** Relative-error tolerance for conv-like ops (fp32 ~1e-5, tf32 ~3e-3, fp16/bf16 ~1e-2). */
    double tolerance();

    /** Rounds a value as the backend's storage type would (identity for fp32). */
    default float round(float v) {
        return v;
    }

    float[] conv(float[] x, int n, int h, int w, int c, float[] wKrsc, int k, int r, int s, int stride, int padH, int padW,
                 int groups, float[] scale, float[] shift, float[] res, int resMode, int rh, int rw, int rc, boolean relu,
                 int p, int q) throws ReskernException;

    float[] bnRelu(float[] x, int m, int c, float[] scale, float[] shift, boolean relu) throws ReskernException;

    float[] addRelu(float[] a, float[] b, boolean relu) throws ReskernException;

    float[] maxPool(float[] x, int n, int h, int w, int c, int kh, int kw, int stride, int padH, int padW, int p, int q)
            throws ReskernException;

    float[] avgPool(float[] x, int n, int h, int w, int c, int kh, int kw, int stride, int padH, int padW,
                    boolean countIncludePad, int p, int q) throws ReskernException;

    float[] globalAvgPool(float[] x, int n, int hw, int c) throws ReskernException;

    float[] fc(float[] x, int n, int c, float[] w, float[] bias, int k) throws ReskernException;

    float[] nchwToNhwc(float[] x, int n, int c, int h, int w) throws ReskernException;

    float[] preprocessU8(byte[] x, int n, int h, int w, float[] mean, float[] std) throws ReskernException;

    /**
     * {@code resample_normalize_u8} on one image: pixel bytes {@code x} (from offset 0) in the layout
     * {@code (rowStride, pixelStride, channelOffsets)}, taps and mean/std from {@code plan}; returns {@code [P, Q, 3]}.
     */
    float[] resampleNormalizeU8(byte[] x, int h, int w, int rowStride, int pixelStride, int[] channelOffsets, ResamplePlan plan)
            throws ReskernException;
}
