package io.reskern.serve;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The result of one request: {@code count()} rows of {@code classes()} logits, with probabilities
 * ({@code softmax}, computed in float64 from the logits, max-subtracted) and top-k views. Immutable.
 */
public final class Predictions {
    /** One class of a top-k list. */
    public record Top(int index, String label, float logit, double probability) {
    }

    private final float[] logits;
    private final int count;
    private final int classes;
    private final List<String> labels;

    Predictions(float[] logits, int count, int classes, List<String> labels) {
        this.logits = logits;
        this.count = count;
        this.classes = classes;
        this.labels = labels;
    }

    public int count() {
        return count;
    }

    public int classes() {
        return classes;
    }

    /** All logits, {@code [count, classes]} row-major (a copy). */
    public float[] logits() {
        return logits.clone();
    }

    /** The array itself, for callers that own this object alone. */
    float[] logitsUnsafe() {
        return logits;
    }

    /** Logits of image {@code i} (a copy). */
    public float[] logits(int i) {
        check(i);
        return Arrays.copyOfRange(logits, i * classes, (i + 1) * classes);
    }

    /**
     * softmax(logits of image i), as the limit where logits are infinite: the {@code +∞} logits share probability 1
     * equally (the others get 0), {@code −∞} logits get 0; a NaN logit, or every logit {@code −∞}, makes every
     * probability NaN.
     */
    public double[] probabilities(int i) {
        check(i);
        int o = i * classes;
        double max = Double.NEGATIVE_INFINITY;
        boolean nan = false;
        for (int k = 0; k < classes; k++) {
            float v = logits[o + k];
            nan |= Float.isNaN(v);
            max = Math.max(max, v);
        }
        double[] p = new double[classes];
        if (nan || max == Double.NEGATIVE_INFINITY) {
            Arrays.fill(p, Double.NaN);
            return p;
        }
        if (max == Double.POSITIVE_INFINITY) { // exp(∞ − ∞) would be NaN: take the limit
            int inf = 0;
            for (int k = 0; k < classes; k++) {
                inf += logits[o + k] == Float.POSITIVE_INFINITY ? 1 : 0;
            }
            for (int k = 0; k < classes; k++) {
                p[k] = logits[o + k] == Float.POSITIVE_INFINITY ? 1.0 / inf : 0.0;
            }
            return p;
        }
        double sum = 0;
        for (int k = 0; k < classes; k++) {
            p[k] = Math.exp(logits[o + k] - max);
            sum += p[k];
        }
        for (int k = 0; k < classes; k++) {
            p[k] /= sum;
        }
        return p;
    }

    /** Index of the largest logit of image {@code i} (the first on ties; -1 if a logit is NaN). */
    public int argmax(int i) {
        check(i);
        int best = 0;
        for (int k = 0; k < classes; k++) {
            float v = logits[i * classes + k];
            if (Float.isNaN(v)) {
                return -1;
            }
            if (v > logits[i * classes + best]) {
                best = k;
            }
        }
        return best;
    }

    /** The {@code k} most likely classes of image {@code i}, most likely first (ties: lower index first). */
    public List<Top> topK(int i, int k) {
        check(i);
        if (k < 1) {
            throw new IllegalArgumentException("k must be >= 1, got " + k);
        }
        double[] p = probabilities(i);
        Integer[] idx = new Integer[classes];
        for (int c = 0; c < classes; c++) {
            idx[c] = c;
        }
        int o = i * classes;
        Arrays.sort(idx, (a, b) -> {
            int cmp = Float.compare(logits[o + b], logits[o + a]);
            return cmp != 0 ? cmp : Integer.compare(a, b);
        });
        List<Top> out = new ArrayList<>();
        for (int j = 0; j < Math.min(k, classes); j++) {
            int c = idx[j];
            out.add(new Top(c, labels != null && c < labels.size() ? labels.get(c) : null, logits[o + c], p[c]));
        }
        return Collections.unmodifiableList(out);
    }

    private void check(int i) {
        if (i < 0 || i >= count) {
            throw new IndexOutOfBoundsException("image " + i + " of " + count);
        }
    }

    @Override
    public String toString() {
        return "Predictions[" + count + " x " + classes + "]";
    }
}
