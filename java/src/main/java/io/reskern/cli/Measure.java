package io.reskern.cli;

import io.reskern.Model;
import io.reskern.ReskernException;
import java.util.Arrays;
import java.util.Random;

/**
 * Wall-clock measurement of {@link Model#predict}: warm-up, then repeated runs until both a minimum count and a
 * minimum time are reached (bounded by a maximum count); reports the median and the 90th percentile.
 */
final class Measure {
    /** Result of one measurement. */
    record Result(int batch, int height, int width, int iterations, double medianMs, double p90Ms, double minMs) {
        double imagesPerSecond() {
            return batch / (medianMs / 1000.0);
        }
    }

    /** Most timed runs {@code bench} makes for {@code --seconds} (10^7: 80 MB of timings). */
    static final int MAX_RUNS = 10_000_000;

    private Measure() {
    }

    static float[] randomInput(int n, int h, int w, long seed) {
        long len = (long) n * 3 * h * w;
        if (len > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("batch " + n + " at " + h + "x" + w + " needs " + len
                    + " input floats, more than one Java array holds (2^31 - 9): use a smaller --batch or --size");
        }
        Random r = new Random(seed);
        float[] x = new float[(int) len];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    static Result time(Model model, int n, int h, int w, int warmup, int minIters, double minSeconds, int maxIters)
            throws ReskernException {
        float[] x = randomInput(n, h, w, 42);
        for (int i = 0; i < warmup; i++) {
            model.predict(x, n, h, w);
        }
        // grown as runs complete: sized by maxIters up front, `bench --iters 2000000000` allocated 16 GB before the
        // first run and died "out of memory" (MeasureTest)
        double[] ms = new double[Math.min(maxIters, 1024)];
        int k = 0;
        long start = System.nanoTime();
        while (k < maxIters && (k < minIters || (System.nanoTime() - start) / 1e9 < minSeconds)) {
            long t0 = System.nanoTime();
            model.predict(x, n, h, w);
            if (k == ms.length) {
                ms = Arrays.copyOf(ms, (int) Math.min(maxIters, 2L * ms.length));
            }
            ms[k++] = (System.nanoTime() - t0) / 1e6;
        }
        double[] s = Arrays.copyOf(ms, k);
        Arrays.sort(s);
        return new Result(n, h, w, k, median(s), s[Math.min(k - 1, (int) Math.ceil(0.9 * k) - 1)], s[0]);
    }

    /** Median of sorted values, the mean of the middle two for an even count (numpy's; it was the upper one). */
    static double median(double[] sorted) {
        int k = sorted.length;
        return k % 2 == 1 ? sorted[k / 2] : (sorted[k / 2 - 1] + sorted[k / 2]) / 2;
    }
}
