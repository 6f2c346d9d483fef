package io.reskern.gpu;

import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.image.ResamplePlan;
import io.reskern.io.Half;
import io.reskern.nativelib.CudaOps;
import io.reskern.ops.OpRunner;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * {@link OpRunner} over {@code libreskern_cuda} in one precision: host fp32 → device (converted to the dtype) → op →
 * fp32 → host. Outputs are poisoned (NaN) before each launch; every call is checked.
 */
public final class CudaOpRunner implements OpRunner {
    private final Precision precision;
    private final int dtype;
    private final int math;
    private final List<Long> allocs = new ArrayList<>();

    public CudaOpRunner(Precision precision) {
        this.precision = precision;
        this.dtype = switch (precision) {
            case FP16 -> CudaOps.F16;
            case BF16 -> CudaOps.BF16;
            default -> CudaOps.F32;
        };
        this.math = precision == Precision.TF32 ? CudaOps.MATH_TF32 : CudaOps.MATH_EXACT;
    }

    @Override
    public String name() {
        return "cuda-" + precision;
    }

    @Override
    public double tolerance() {
        return switch (precision) {
            case FP32 -> 1e-5;
            case TF32 -> 3e-3;
            case FP16 -> 5e-3;
            case BF16 -> 2e-2;
        };
    }

    @Override
    public float round(float v) {
        return switch (precision) {
            case FP16 -> Half.halfToFloat(Half.floatToHalf(v));
            case BF16 -> Half.bf16ToFloat(Half.floatToBf16(v));
            default -> v;
        };
    }

    static void check(int st, String what) throws ReskernException {
        if (st != 0) {
            throw new ReskernException(ReskernException.fromNative(st), what + ": " + CudaOps.lastError());
        }
    }

    private long malloc(long bytes) throws ReskernException {
        PointerPointer<?> pp = new PointerPointer<>(1);
        check(CudaOps.malloc(pp, Math.max(bytes, 16)), "malloc");
        long p = pp.get(0).address();
        allocs.add(p);
        return p;
    }

    private void freeAll() {
        for (long p : allocs) {
            CudaOps.free(p);
        }
        allocs.clear();
    }

    /** fp32 host array → device buffer in {@code dt}. */
    private long up(float[] a, int dt) throws ReskernException {
        if (a == null) {
            return 0;
        }
        FloatPointer h = new FloatPointer(Math.max(1, a.length));
        h.put(a, 0, a.length);
        long f32 = malloc(4L * a.length);
        check(CudaOps.memcpyH2D(f32, h.address(), 4L * a.length, 0), "h2d");
        check(CudaOps.streamSynchronize(0), "h2d");
        h.close();
        if (dt == CudaOps.F32) {
            return f32;
        }
        long d = malloc(2L * a.length);
        check(CudaOps.convert(f32, CudaOps.F32, d, dt, a.length, 0), "convert");
        return d;
    }

    /** Device output buffer of n elements in {@code dt}, filled with NaN. */
    private long poisoned(int n, int dt) throws ReskernException {
        float[] nan = new float[n];
        Arrays.fill(nan, Float.NaN);
        return up(nan, dt);
    }

    private float[] down(long d, int n, int dt) throws ReskernException {
        long f32 = d;
        if (dt != CudaOps.F32) {
            f32 = malloc(4L * n);
            check(CudaOps.convert(d, dt, f32, CudaOps.F32, n, 0), "convert back");
        }
        FloatPointer h = new FloatPointer(Math.max(1, n));
        check(CudaOps.memcpyD2H(h.address(), f32, 4L * n, 0), "d2h");
        check(CudaOps.streamSynchronize(0), "sync");
        float[] out = new float[n];
        h.get(out, 0, n);
        h.close();
        return out;
    }

    @Override
    public float[] conv(float[] x, int n, int h, int w, int c, float[] wKrsc, int k, int r, int s, int stride, int padH,
                        int padW, int groups, float[] scale, float[] shift, float[] res, int resMode, int rh, int rw, int rc,
                        boolean relu, int p, int q) throws ReskernException {
        try {
            long y = poisoned(n * p * q * k, dtype);
            check(CudaOps.conv2d(-1, dtype, math, up(x, dtype), n, h, w, c, up(wKrsc, dtype), k, r, s, stride, padH, padW,
                    groups, 0, up(scale, CudaOps.F32), up(shift, CudaOps.F32), up(res, dtype), resMode, rh, rw, rc,
                    relu ? 1 : 0, y, p, q, 0, 0, 0, 0), "conv2d");
            return down(y, n * p * q * k, dtype);
        } finally {
            freeAll();
        }
    }

    /** Conv with every algo that can implement the problem (for the per-algo tests); null where unsupported. */
    public float[] convAlgo(int algo, float[] x, int n, int h, int w, int c, float[] wKrsc, int k, int r, int stride, int pad,
                            float[] scale, float[] shift, boolean relu, int p, int q) throws ReskernException {
        if (CudaOps.conv2dCanImplement(algo, dtype, math, n, h, w, c, k, r, r, stride, pad, pad, 1, p, q, 0, 0) != 0) {
            return null;
        }
        try {
            long y = poisoned(n * p * q * k, dtype);
            check(CudaOps.conv2d(algo, dtype, math, up(x, dtype), n, h, w, c, up(wKrsc, dtype), k, r, r, stride, pad, pad, 1,
                    0, up(scale, CudaOps.F32), up(shift, CudaOps.F32), 0, 0, 0, 0, 0, relu ? 1 : 0, y, p, q, 0, 0, 0, 0),
                    "conv2d algo " + algo);
            return down(y, n * p * q * k, dtype);
        } finally {
            freeAll();
        }
    }

    /** Dual-output conv (v2): returns {y, y2 = relu(postScale ⊙ y + postShift)}. */
    public float[][] convDual(float[] x, int n, int h, int w, int c, float[] wKrsc, int k, float[] res, float[] postScale,
                              float[] postShift) throws ReskernException {
        try {
            long y = poisoned(n * h * w * k, dtype);
            long y2 = poisoned(n * h * w * k, dtype);
            check(CudaOps.conv2d(-1, dtype, math, up(x, dtype), n, h, w, c, up(wKrsc, dtype), k, 1, 1, 1, 0, 0, 1, 0, 0, 0,
                    up(res, dtype), 1, h, w, k, 0, y, h, w, up(postScale, CudaOps.F32), up(postShift, CudaOps.F32), y2, 0),
                    "conv2d dual");
            return new float[][] {down(y, n * h * w * k, dtype), down(y2, n * h * w * k, dtype)};
        } finally {
            freeAll();
        }
    }

    /** v1d fused avg-pool 2x2/2 (ceil, no pad count) + 1x1 conv. */
    public float[] avgPoolConv(float[] x, int n, int h, int w, int c, float[] wKrsc, int k, float[] scale, float[] shift,
                               int p, int q) throws ReskernException {
        try {
            long y = poisoned(n * p * q * k, dtype);
            check(CudaOps.conv2d(-1, dtype, math, up(x, dtype), n, h, w, c, up(wKrsc, dtype), k, 1, 1, 1, 0, 0, 1, 1,
                    up(scale, CudaOps.F32), up(shift, CudaOps.F32), 0, 0, 0, 0, 0, 0, y, p, q, 0, 0, 0, 0), "avgpool+conv");
            return down(y, n * p * q * k, dtype);
        } finally {
            freeAll();
        }
    }

    @Override
    public float[] bnRelu(float[] x, int m, int c, float[] scale, float[] shift, boolean relu) throws ReskernException {
        try {
            long y = poisoned(m * c, dtype);
            check(CudaOps.bnRelu(dtype, up(x, dtype), m, c, up(scale, CudaOps.F32), up(shift, CudaOps.F32), relu ? 1 : 0, y, 0),
                    "bn_relu");
            return down(y, m * c, dtype);
        } finally {
            freeAll();
        }
    }

    @Override
    public float[] addRelu(float[] a, float[] b, boolean relu) throws ReskernException {
        try {
            long y = poisoned(a.length, dtype);
            check(CudaOps.addRelu(dtype, up(a, dtype), up(b, dtype), a.length, relu ? 1 : 0, y, 0), "add_relu");
            return down(y, a.length, dtype);
        } finally {
            freeAll();
        }
    }

    @Override
    public float[] maxPool(float[] x, int n, int h, int w, int c, int kh, int kw, int stride, int padH, int padW, int p, int q)
            throws ReskernException {
        try {
            long y = poisoned(n * p * q * c, dtype);
            check(CudaOps.maxPool2d(dtype, up(x, dtype), n, h, w, c, kh, kw, stride, padH, padW, y, p, q, 0), "maxpool");
            return down(y, n * p * q * c, dtype);
        } finally {
            freeAll();
        }
    }

    @Override
    public float[] avgPool(float[] x, int n, int h, int w, int c, int kh, int kw, int stride, int padH, int padW,
                           boolean countIncludePad, int p, int q) throws ReskernException {
        try {
            long y = poisoned(n * p * q * c, dtype);
            check(CudaOps.avgPool2d(dtype, up(x, dtype), n, h, w, c, kh, kw, stride, padH, padW, countIncludePad ? 1 : 0, y, p,
                    q, 0), "avgpool");
            return down(y, n * p * q * c, dtype);
        } finally {
            freeAll();
        }
    }

    @Override
    public float[] globalAvgPool(float[] x, int n, int hw, int c) throws ReskernException {
        try {
            long y = poisoned(n * c, CudaOps.F32);
            check(CudaOps.globalAvgPool(dtype, up(x, dtype), n, hw, c, y, 0), "global pool");
            return down(y, n * c, CudaOps.F32);
        } finally {
            freeAll();
        }
    }

    @Override
    public float[] fc(float[] x, int n, int c, float[] w, float[] bias, int k) throws ReskernException {
        try {
            long y = poisoned(n * k, CudaOps.F32);
            check(CudaOps.fc(up(x, CudaOps.F32), n, c, up(w, CudaOps.F32), up(bias, CudaOps.F32), k, y, 0), "fc");
            return down(y, n * k, CudaOps.F32);
        } finally {
            freeAll();
        }
    }

    /** Fused head: mean over HW then FC. */
    public float[] globalAvgPoolFc(float[] x, int n, int hw, int c, float[] w, float[] bias, int k) throws ReskernException {
        try {
            long y = poisoned(n * k, CudaOps.F32);
            check(CudaOps.globalAvgPoolFc(dtype, up(x, dtype), n, hw, c, up(w, CudaOps.F32), up(bias, CudaOps.F32), k, y, 0),
                    "gap+fc");
            return down(y, n * k, CudaOps.F32);
        } finally {
            freeAll();
        }
    }

    @Override
    public float[] nchwToNhwc(float[] x, int n, int c, int h, int w) throws ReskernException {
        try {
            long y = poisoned(x.length, dtype);
            check(CudaOps.nchwToNhwc(up(x, CudaOps.F32), n, c, h, w, y, dtype, 0), "nchw_to_nhwc");
            return down(y, x.length, dtype);
        } finally {
            freeAll();
        }
    }

    @Override
    public float[] preprocessU8(byte[] x, int n, int h, int w, float[] mean, float[] std) throws ReskernException {
        try (BytePointer hb = new BytePointer(x)) { // reachable (not freed) until the copy has finished
            long d = malloc(x.length);
            check(CudaOps.memcpyH2D(d, hb.address(), x.length, 0), "h2d");
            check(CudaOps.streamSynchronize(0), "h2d");
            long y = poisoned(x.length, dtype);
            check(CudaOps.preprocessU8(d, n, h, w, up(mean, CudaOps.F32), up(std, CudaOps.F32), y, dtype, 0), "preprocess");
            return down(y, x.length, dtype);
        } finally {
            freeAll();
        }
    }

    @Override
    public float[] resampleNormalizeU8(byte[] x, int h, int w, int rowStride, int pixelStride, int[] off, ResamplePlan plan)
            throws ReskernException {
        int n = plan.outHeight() * plan.outWidth() * 3;
        byte[] packed = plan.packed();
        try (BytePointer hb = new BytePointer(x); BytePointer ht = new BytePointer(packed)) { // reachable until synced
            long dx = malloc(x.length);
            check(CudaOps.memcpyH2D(dx, hb.address(), x.length, 0), "h2d");
            long dt = malloc(packed.length);
            check(CudaOps.memcpyH2D(dt, ht.address(), packed.length, 0), "h2d taps");
            check(CudaOps.streamSynchronize(0), "h2d");
            ResamplePlan.Addresses a = plan.addresses(dt);
            long y = poisoned(n, dtype);
            check(CudaOps.resampleNormalizeU8(dx, h, w, rowStride, pixelStride, off[0], off[1], off[2], a.ys(), a.ny(), a.wy(),
                    plan.rows().maxTaps(), a.xs(), a.nx(), a.wx(), plan.cols().maxTaps(), a.mean(), a.std(), y, dtype,
                    plan.outHeight(), plan.outWidth(), 0), "resample_normalize_u8");
            return down(y, n, dtype);
        } finally {
            freeAll();
        }
    }
}
