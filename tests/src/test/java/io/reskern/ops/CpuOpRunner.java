package io.reskern.ops;

import io.reskern.ReskernException;
import io.reskern.image.ResamplePlan;
import io.reskern.nativelib.CpuOps;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;

/** {@link OpRunner} over {@code libreskern_cpu} (fp32). */
public final class CpuOpRunner implements OpRunner {
    @Override
    public String name() {
        return "cpu-" + CpuOps.kernelIsa();
    }

    @Override
    public double tolerance() {
        return 1e-5;
    }

    static FloatPointer in(float[] a) {
        if (a == null) {
            return null;
        }
        FloatPointer p = new FloatPointer(Math.max(1, a.length));
        p.put(a, 0, a.length);
        return p;
    }

    static long addr(FloatPointer p) {
        return p == null ? 0 : p.address();
    }

    static float[] out(FloatPointer p, int n) {
        float[] a = new float[n];
        p.get(a, 0, n);
        p.close();
        return a;
    }

    /** Output buffer poisoned with NaN so an unwritten element fails the comparison. */
    static FloatPointer poisoned(int n) {
        FloatPointer p = new FloatPointer(Math.max(1, n));
        float[] nan = new float[n];
        java.util.Arrays.fill(nan, Float.NaN);
        p.put(nan, 0, n);
        return p;
    }

    static void check(int st) throws ReskernException {
        if (st != 0) {
            throw new ReskernException(ReskernException.fromNative(st), CpuOps.lastError());
        }
    }

    @Override
    public float[] conv(float[] x, int n, int h, int w, int c, float[] wKrsc, int k, int r, int s, int stride, int padH,
                        int padW, int groups, float[] scale, float[] shift, float[] res, int resMode, int rh, int rw, int rc,
                        boolean relu, int p, int q) throws ReskernException {
        FloatPointer px = in(x);
        FloatPointer pw = in(wKrsc);
        FloatPointer packed = new FloatPointer(CpuOps.convPackedSize(k, c, r, s, groups));
        check(CpuOps.convPack(pw.address(), k, c, r, s, groups, packed.address()));
        FloatPointer psc = in(scale);
        FloatPointer psh = in(shift);
        FloatPointer pr = in(res);
        FloatPointer py = poisoned(n * p * q * k);
        check(CpuOps.conv2d(px.address(), n, h, w, c, packed.address(), k, r, s, stride, padH, padW, groups, addr(psc),
                addr(psh), addr(pr), resMode, rh, rw, rc, relu ? 1 : 0, py.address(), p, q));
        return out(py, n * p * q * k);
    }

    @Override
    public float[] bnRelu(float[] x, int m, int c, float[] scale, float[] shift, boolean relu) throws ReskernException {
        FloatPointer py = poisoned(m * c);
        check(CpuOps.bnRelu(in(x).address(), m, c, in(scale).address(), in(shift).address(), relu ? 1 : 0, py.address()));
        return out(py, m * c);
    }

    @Override
    public float[] addRelu(float[] a, float[] b, boolean relu) throws ReskernException {
        FloatPointer py = poisoned(a.length);
        check(CpuOps.addRelu(in(a).address(), in(b).address(), a.length, relu ? 1 : 0, py.address()));
        return out(py, a.length);
    }

    @Override
    public float[] maxPool(float[] x, int n, int h, int w, int c, int kh, int kw, int stride, int padH, int padW, int p, int q)
            throws ReskernException {
        FloatPointer py = poisoned(n * p * q * c);
        check(CpuOps.maxPool2d(in(x).address(), n, h, w, c, kh, kw, stride, padH, padW, py.address(), p, q));
        return out(py, n * p * q * c);
    }

    @Override
    public float[] avgPool(float[] x, int n, int h, int w, int c, int kh, int kw, int stride, int padH, int padW,
                           boolean countIncludePad, int p, int q) throws ReskernException {
        FloatPointer py = poisoned(n * p * q * c);
        check(CpuOps.avgPool2d(in(x).address(), n, h, w, c, kh, kw, stride, padH, padW, countIncludePad ? 1 : 0, py.address(), p, q));
        return out(py, n * p * q * c);
    }

    @Override
    public float[] globalAvgPool(float[] x, int n, int hw, int c) throws ReskernException {
        FloatPointer py = poisoned(n * c);
        check(CpuOps.globalAvgPool(in(x).address(), n, hw, c, py.address()));
        return out(py, n * c);
    }

    @Override
    public float[] fc(float[] x, int n, int c, float[] w, float[] bias, int k) throws ReskernException {
        FloatPointer py = poisoned(n * k);
        check(CpuOps.fc(in(x).address(), n, c, in(w).address(), addr(in(bias)), k, py.address()));
        return out(py, n * k);
    }

    @Override
    public float[] nchwToNhwc(float[] x, int n, int c, int h, int w) throws ReskernException {
        FloatPointer py = poisoned(x.length);
        check(CpuOps.nchwToNhwc(in(x).address(), n, c, h, w, py.address()));
        return out(py, x.length);
    }

    @Override
    public float[] preprocessU8(byte[] x, int n, int h, int w, float[] mean, float[] std) throws ReskernException {
        BytePointer px = new BytePointer(x);
        FloatPointer py = poisoned(x.length);
        check(CpuOps.preprocessU8(px.address(), n, h, w, in(mean).address(), in(std).address(), py.address()));
        return out(py, x.length);
    }

    @Override
    public float[] resampleNormalizeU8(byte[] x, int h, int w, int rowStride, int pixelStride, int[] off, ResamplePlan plan)
            throws ReskernException {
        int n = plan.outHeight() * plan.outWidth() * 3;
        try (BytePointer px = new BytePointer(x); BytePointer taps = new BytePointer(plan.packedBytes())) {
            plan.pack(taps.asBuffer());
            ResamplePlan.Addresses a = plan.addresses(taps.address());
            FloatPointer py = poisoned(n);
            check(CpuOps.resampleNormalizeU8(px.address(), h, w, rowStride, pixelStride, off[0], off[1], off[2], a.ys(), a.ny(),
                    a.wy(), plan.rows().maxTaps(), a.xs(), a.nx(), a.wx(), plan.cols().maxTaps(), a.mean(), a.std(),
                    py.address(), plan.outHeight(), plan.outWidth()));
            return out(py, n);
        }
    }
}
