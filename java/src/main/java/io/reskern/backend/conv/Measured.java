package io.reskern.backend.conv;

import java.util.Arrays;

/**
 * The timing of one candidate: median milliseconds per call and the relative spread of the samples
 * ({@code (p75 − p25) / median}), from CUDA events around {@code reps} back-to-back calls per sample.
 *
 * @param id       candidate id: {@code own:<algo name>} or {@code cudnn:<algo name>}
 * @param ms       median ms per call
 * @param spread   relative inter-quartile spread of the samples (0 for a single sample)
 * @param workspace device bytes the candidate needs besides its inputs/outputs (cuDNN workspace; 0 for own kernels)
 */
public record Measured(String id, double ms, double spread, long workspace) {
    public Measured {
        if (!(ms > 0) || Double.isInfinite(ms)) {
            throw new IllegalArgumentException("time must be positive and finite, got " + ms + " for " + id);
        }
        if (!(spread >= 0)) {
            throw new IllegalArgumentException("spread must be >= 0, got " + spread);
        }
    }

    /** From raw per-call samples (ms); at least one, all positive. */
    public static Measured of(String id, double[] samplesMs, long workspace) {
        if (samplesMs.length == 0) {
            throw new IllegalArgumentException("no samples for " + id);
        }
        double[] s = samplesMs.clone();
        Arrays.sort(s);
        double med = quantile(s, 0.5);
        double spread = s.length < 2 ? 0 : (quantile(s, 0.75) - quantile(s, 0.25)) / med;
        return new Measured(id, med, spread, workspace);
    }

    /** Linear-interpolated quantile of sorted data. */
    static double quantile(double[] sorted, double f) {
        double pos = f * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    public boolean isCudnn() {
        return id.startsWith(Chooser.CUDNN_PREFIX);
    }
}
