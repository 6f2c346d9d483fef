package io.reskern.image;

import java.util.Arrays;

/**
 * Resampling taps along one axis: output index {@code o} reads input indices {@code start[o] .. start[o]+count[o]}
 * with weights {@code weights[o*maxTaps .. o*maxTaps+count[o]]} (rows padded to {@code maxTaps} with zeros).
 * {@code count[o] == 0} marks a zero-padded output (a centre crop larger than the resized image).
 *
 * <p>{@link #antialiasBilinear} reproduces {@code torch.nn.functional.interpolate(mode="bilinear", antialias=True,
 * align_corners=False)} (designed to match PIL's {@code BILINEAR}), derived from its definition: for a resize of
 * {@code in} samples to {@code out}, scale {@code s = in/out}; the triangle filter {@code f(d) = max(0, 1 − |d|)} is
 * stretched by {@code max(s, 1)} when downscaling (the antialias part), so its support is {@code σ = max(s, 1)};
 * output {@code r} is centred at {@code c = s·(r + ½)} and reads inputs {@code [max(⌊c − σ + ½⌋, 0),
 * min(⌊c + σ + ½⌋, in))}, input {@code i} weighted {@code f((i − c + ½) / max(s, 1))}, the weights normalised to sum
 * 1 (which is what clips the filter at the image edges). Weights are computed in double, stored as float; zero
 * weights at either end are trimmed (no change to the result, fewer taps).
 */
public record Taps(int[] start, int[] count, float[] weights, int maxTaps) {
    public Taps {
        if (start.length != count.length || maxTaps < 1 || weights.length != (long) start.length * maxTaps) {
            throw new IllegalArgumentException("inconsistent taps: " + start.length + " starts, " + count.length
                    + " counts, " + weights.length + " weights, maxTaps " + maxTaps);
        }
    }

    /** Number of outputs. */
    public int size() {
        return start.length;
    }

    /**
     * Taps that resize {@code inSize} samples to {@code resizedSize} (torch antialiased bilinear) and then take
     * {@code outSize} outputs starting at resized index {@code offset} (the crop; a negative offset or one past the
     * end pads with zeros, i.e. outputs whose resized index falls outside {@code [0, resizedSize)} get no taps).
     */
    public static Taps antialiasBilinear(int inSize, int resizedSize, int outSize, int offset) {
        if (inSize < 1 || resizedSize < 1 || outSize < 1) {
            throw new IllegalArgumentException("sizes must be positive: in " + inSize + ", resized " + resizedSize
                    + ", out " + outSize);
        }
        double scale = (double) inSize / resizedSize;
        double support = Math.max(scale, 1.0);
        double invScale = 1.0 / support;
        int[] start = new int[outSize];
        int[] count = new int[outSize];
        double[][] w = new double[outSize][];
        int maxTaps = 1;
        for (int o = 0; o < outSize; o++) {
            long r = (long) o + offset;
            if (r < 0 || r >= resizedSize) {
                w[o] = new double[0];
                continue;
            }
            double center = scale * (r + 0.5);
            int lo = Math.max((int) (center - support + 0.5), 0);
            int hi = Math.min((int) (center + support + 0.5), inSize);
            double[] ww = new double[Math.max(hi - lo, 0)];
            double total = 0;
            for (int i = 0; i < ww.length; i++) {
                double d = (i + lo - center + 0.5) * invScale;
                ww[i] = Math.max(0.0, 1.0 - Math.abs(d));
                total += ww[i];
            }
            int a = 0;
            int b = ww.length;
            while (a < b && ww[a] == 0) {
                a++;
            }
            while (b > a && ww[b - 1] == 0) {
                b--;
            }
            if (a == b || total == 0) { // cannot happen for in, out >= 1 (the centre tap always has weight > 0)
                throw new IllegalStateException("no taps for output " + o + " of " + inSize + " -> " + resizedSize);
            }
            double[] t = new double[b - a];
            for (int i = a; i < b; i++) {
                t[i - a] = ww[i] / total;
            }
            start[o] = lo + a;
            count[o] = t.length;
            w[o] = t;
            maxTaps = Math.max(maxTaps, t.length);
        }
        float[] weights = new float[Math.multiplyExact(outSize, maxTaps)];
        for (int o = 0; o < outSize; o++) {
            for (int i = 0; i < w[o].length; i++) {
                weights[o * maxTaps + i] = (float) w[o][i];
            }
        }
        return new Taps(start, count, weights, maxTaps);
    }

    /** Weight of tap {@code i} of output {@code o}. */
    public float weight(int o, int i) {
        return weights[o * maxTaps + i];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Taps t && maxTaps == t.maxTaps && Arrays.equals(start, t.start) && Arrays.equals(count, t.count)
                && Arrays.equals(weights, t.weights);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(start) * 31 + Arrays.hashCode(weights);
    }

    @Override
    public String toString() {
        return "Taps[" + size() + " outputs, maxTaps " + maxTaps + "]";
    }
}
