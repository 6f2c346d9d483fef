package io.reskern.ops;

import io.reskern.ReskernException;
import io.reskern.image.ResamplePlan;
import io.reskern.nativelib.CpuOps;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

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

    /**
     * The native buffers of one call. Every buffer stays reachable until the scope closes (after the native call):
     * a Pointer whose {@code address()} alone is passed on can be collected, and its memory freed, while the native
     * code still reads it (this happened: garbage outputs once in a few hundred runs).
     */
    static final class Scope implements AutoCloseable {
        private final java.util.List<Pointer> held = new java.util.ArrayList<>();

        <P extends Pointer> P hold(P p) {
            held.add(p);
            return p;
        }

        /** A native copy of {@code a} (0 for null). */
        long in(float[] a) {
            if (a == null) {
                return 0;
            }
            FloatPointer p = hold(new FloatPointer(Math.max(1, a.length)));
            p.put(a, 0, a.length);
            return p.address();
        }

        /** An output buffer poisoned with NaN, so that an unwritten element fails the comparison. */
        FloatPointer poisoned(int n) {
            FloatPointer p = hold(new FloatPointer(Math.max(1, n)));
            float[] nan = new float[n];
            java.util.Arrays.fill(nan, Float.NaN);
            p.put(nan, 0, n);
            return p;
        }

        /**
         * {@link #poisoned} starting on a 64-byte line, as the CPU executor's activations do (so large conv outputs take
         * the kernel's non-temporal-store path; inputs stay at malloc's alignment, which covers unaligned loads).
         */
        FloatPointer poisonedAligned(int n) {
            FloatPointer raw = hold(new FloatPointer(Math.max(1, n) + 16L));
            long at = (raw.address() + 63) & ~63L;
            FloatPointer p = new FloatPointer(new Pointer() {
                {
                    address = at; // the inherited field: a view into raw, which this scope keeps alive
                }
            }).capacity(Math.max(1, n)).limit(Math.max(1, n));
            float[] nan = new float[n];
            java.util.Arrays.fill(nan, Float.NaN);
            p.put(nan, 0, n);
            return p;
        }

        @Override
        public void close() {
            held.forEach(Pointer::close);
        }
    }

    static float[] out(FloatPointer p, int n) {
        float[] a = new float[n];
        p.get(a, 0, n);
        return a;
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
        try (Scope g = new Scope()) {
            long px = g.in(x);
            long pw = g.in(wKrsc);
            // packed for the stride and output size it runs with, as the CPU backend does (3x3 stride 1 -> Winograd
            // where it pays)
            long pixels = (long) p * q;
            FloatPointer packed = g.hold(new FloatPointer(CpuOps.convPackedSizeHint(k, c, r, s, groups, stride, pixels)));
            check(CpuOps.convPackHint(pw, k, c, r, s, groups, stride, pixels, packed.address()));
            FloatPointer py = g.poisonedAligned(n * p * q * k);
            check(CpuOps.conv2d(px, n, h, w, c, packed.address(), k, r, s, stride, padH, padW, groups, g.in(scale),
                    g.in(shift), g.in(res), resMode, rh, rw, rc, relu ? 1 : 0, py.address(), p, q));
            return out(py, n * p * q * k);
        }
    }

    @Override
    public float[] bnRelu(float[] x, int m, int c, float[] scale, float[] shift, boolean relu) throws ReskernException {
        try (Scope g = new Scope()) {
            FloatPointer py = g.poisoned(m * c);
            check(CpuOps.bnRelu(g.in(x), m, c, g.in(scale), g.in(shift), relu ? 1 : 0, py.address()));
            return out(py, m * c);
        }
    }

    @Override
    public float[] addRelu(float[] a, float[] b, boolean relu) throws ReskernException {
        try (Scope g = new Scope()) {
            FloatPointer py = g.poisoned(a.length);
            check(CpuOps.addRelu(g.in(a), g.in(b), a.length, relu ? 1 : 0, py.address()));
            return out(py, a.length);
        }
    }

    @Override
    public float[] maxPool(float[] x, int n, int h, int w, int c, int kh, int kw, int stride, int padH, int padW, int p, int q)
            throws ReskernException {
        try (Scope g = new Scope()) {
            FloatPointer py = g.poisoned(n * p * q * c);
            check(CpuOps.maxPool2d(g.in(x), n, h, w, c, kh, kw, stride, padH, padW, py.address(), p, q));
            return out(py, n * p * q * c);
        }
    }

    @Override
    public float[] avgPool(float[] x, int n, int h, int w, int c, int kh, int kw, int stride, int padH, int padW,
                           boolean countIncludePad, int p, int q) throws ReskernException {
        try (Scope g = new Scope()) {
            FloatPointer py = g.poisoned(n * p * q * c);
            check(CpuOps.avgPool2d(g.in(x), n, h, w, c, kh, kw, stride, padH, padW, countIncludePad ? 1 : 0, py.address(), p, q));
            return out(py, n * p * q * c);
        }
    }

    @Override
    public float[] globalAvgPool(float[] x, int n, int hw, int c) throws ReskernException {
        try (Scope g = new Scope()) {
            FloatPointer py = g.poisoned(n * c);
            check(CpuOps.globalAvgPool(g.in(x), n, hw, c, py.address()));
            return out(py, n * c);
        }
    }

    @Override
    public float[] fc(float[] x, int n, int c, float[] w, float[] bias, int k) throws ReskernException {
        try (Scope g = new Scope()) {
            FloatPointer py = g.poisoned(n * k);
            check(CpuOps.fc(g.in(x), n, c, g.in(w), g.in(bias), k, py.address()));
            return out(py, n * k);
        }
    }

    @Override
    public float[] nchwToNhwc(float[] x, int n, int c, int h, int w) throws ReskernException {
        try (Scope g = new Scope()) {
            FloatPointer py = g.poisoned(x.length);
            check(CpuOps.nchwToNhwc(g.in(x), n, c, h, w, py.address()));
            return out(py, x.length);
        }
    }

    @Override
    public float[] preprocessU8(byte[] x, int n, int h, int w, float[] mean, float[] std) throws ReskernException {
        try (Scope g = new Scope()) {
            BytePointer px = g.hold(new BytePointer(x));
            FloatPointer py = g.poisoned(x.length);
            check(CpuOps.preprocessU8(px.address(), n, h, w, g.in(mean), g.in(std), py.address()));
            return out(py, x.length);
        }
    }

    @Override
    public float[] resampleNormalizeU8(byte[] x, int h, int w, int rowStride, int pixelStride, int[] off, ResamplePlan plan)
            throws ReskernException {
        int n = plan.outHeight() * plan.outWidth() * 3;
        try (Scope g = new Scope()) {
            BytePointer px = g.hold(new BytePointer(x));
            BytePointer taps = g.hold(new BytePointer(plan.packedBytes()));
            plan.pack(taps.asBuffer());
            ResamplePlan.Addresses a = plan.addresses(taps.address());
            FloatPointer py = g.poisoned(n);
            check(CpuOps.resampleNormalizeU8(px.address(), h, w, rowStride, pixelStride, off[0], off[1], off[2], a.ys(), a.ny(),
                    a.wy(), plan.rows().maxTaps(), a.xs(), a.nx(), a.wx(), plan.cols().maxTaps(), a.mean(), a.std(),
                    py.address(), plan.outHeight(), plan.outWidth()));
            return out(py, n);
        }
    }
}
