package io.reskern.bench;

import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.backend.conv.DeviceMem;
import io.reskern.nativelib.CudaOps;
import org.bytedeco.javacpp.FloatPointer;

/** ‖a − b‖ / ‖b‖ of two device buffers of the benchmark's dtype (a sanity check before timing, not a test). */
final class GpuCheck {
    private GpuCheck() {
    }

    static float[] download(GpuBench g, long d, long n) throws ReskernException {
        long f32 = d;
        if (g.precision != Precision.FP32 && g.precision != Precision.TF32) {
            f32 = g.mem.malloc(4 * n);
            DeviceMem.check(CudaOps.convert(d, g.dtype, f32, CudaOps.F32, n, g.stream), "convert");
        }
        try (FloatPointer h = new FloatPointer(n)) {
            DeviceMem.check(CudaOps.memcpyD2H(h.address(), f32, 4 * n, g.stream), "d2h");
            DeviceMem.check(CudaOps.streamSynchronize(g.stream), "sync");
            float[] a = new float[Math.toIntExact(n)];
            h.get(a, 0, a.length);
            if (f32 != d) {
                g.mem.free(f32);
            }
            return a;
        }
    }

    static double relDiff(GpuBench g, long a, long b, long n) throws ReskernException {
        float[] x = download(g, a, n);
        float[] y = download(g, b, n);
        double num = 0;
        double den = 0;
        for (int i = 0; i < x.length; i++) {
            double d = (double) x[i] - y[i];
            num += d * d;
            den += (double) y[i] * y[i];
        }
        return Math.sqrt(num / Math.max(den, 1e-30));
    }
}
