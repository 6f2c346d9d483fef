package io.reskern.bench;

import io.reskern.Devices;
import io.reskern.nativelib.CpuOps;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/** Native fp32 buffers for the kernel benchmarks (JavaCPP {@link FloatPointer}s), freed together by {@link #close()}. */
final class Native implements AutoCloseable {
    private final List<FloatPointer> owned = new ArrayList<>();
    private final SplittableRandom rng;

    Native(long seed) {
        rng = new SplittableRandom(seed);
    }

    /**
     * Zeroed buffer of {@code n} floats starting on a 64-byte boundary, as the CPU executor's activation arena does
     * (malloc's 16-byte alignment would measure cache-line-split loads and stores the product never does).
     */
    FloatPointer zeros(long n) {
        FloatPointer raw = new FloatPointer(n + 16);
        if (raw.isNull()) {
            throw new OutOfMemoryError("native allocation of " + n * 4 + " bytes failed");
        }
        owned.add(raw);
        long at = (raw.address() + 63) & ~63L;
        FloatPointer p = new FloatPointer(new Pointer() {
            {
                address = at; // the inherited field: a view into raw, which owns the memory
            }
        }).capacity(n).limit(n);
        p.zero();
        return p;
    }

    /** Buffer of {@code n} floats uniform in {@code [lo, hi)}; also returned as an array for reference checks. */
    FloatPointer uniform(long n, float lo, float hi, float[][] copyOut) {
        float[] a = new float[Math.toIntExact(n)];
        for (int i = 0; i < a.length; i++) {
            a[i] = lo + (hi - lo) * (float) rng.nextDouble();
        }
        FloatPointer p = zeros(n);
        p.put(a, 0, a.length);
        if (copyOut != null) {
            copyOut[0] = a;
        }
        return p;
    }

    /** Aligned copy of {@code a}. */
    FloatPointer copy(float[] a) {
        FloatPointer p = zeros(a.length);
        p.put(a, 0, a.length);
        return p;
    }

    FloatPointer uniform(long n, float lo, float hi) {
        return uniform(n, lo, hi, null);
    }

    static float[] read(FloatPointer p, long n) {
        float[] a = new float[Math.toIntExact(n)];
        p.position(0).get(a, 0, a.length);
        return a;
    }

    static void check(int status, String what) {
        if (status != 0) {
            throw new IllegalStateException(what + " failed with status " + status + ": " + CpuOps.lastError());
        }
    }

    /** {@code @Param threads}: 0 means all available cores. */
    static int resolveThreads(int threads) {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }

    /**
     * Sets reskern's OpenMP team size. Must run on the thread that will call the kernels: libgomp keeps
     * {@code omp_set_num_threads} per calling thread. JMH runs {@code @Setup} on the benchmark thread.
     */
    static int applyThreads(int threads) {
        int t = resolveThreads(threads);
        Devices.setCpuThreads(t);
        return t;
    }

    @Override
    public void close() {
        for (FloatPointer p : owned) {
            p.close();
        }
        owned.clear();
    }
}
