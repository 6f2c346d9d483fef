package io.reskern.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Predictions}' softmax, argmax and top-k, including the infinite and NaN logits a model can produce. */
class PredictionsTest {
    private static Predictions of(float... row) {
        return new Predictions(row, 1, row.length, List.of());
    }

    @Test
    void softmaxMatchesTheFormulaInFloat64() {
        float[] z = {1.5f, -2f, 0.25f, 30f, -80f};
        double max = 30, sum = 0;
        double[] want = new double[z.length];
        for (int k = 0; k < z.length; k++) {
            want[k] = Math.exp(z[k] - max);
            sum += want[k];
        }
        for (int k = 0; k < z.length; k++) {
            want[k] /= sum;
        }
        assertArrayEquals(want, of(z).probabilities(0), 1e-15);
        assertEquals(3, of(z).argmax(0));
    }

    @Test
    void infiniteLogitsTakeTheLimitInsteadOfNaN() {
        Predictions p = of(1f, Float.POSITIVE_INFINITY, -3f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY);
        assertArrayEquals(new double[] {0, 0.5, 0, 0.5, 0}, p.probabilities(0), 0);
        assertEquals(1, p.argmax(0));
        assertEquals(List.of(1, 3), p.topK(0, 2).stream().map(Predictions.Top::index).toList());
        assertEquals(0.5, p.topK(0, 1).get(0).probability(), 0);

        double[] q = of(2f, Float.NEGATIVE_INFINITY, 2f).probabilities(0);
        assertArrayEquals(new double[] {0.5, 0, 0.5}, q, 1e-15);
    }

    @Test
    void nanOrAllMinusInfinityIsUndefined() {
        for (double v : of(1f, Float.NaN, Float.POSITIVE_INFINITY).probabilities(0)) {
            assertTrue(Double.isNaN(v));
        }
        for (double v : of(Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY).probabilities(0)) {
            assertTrue(Double.isNaN(v));
        }
        assertEquals(-1, of(1f, Float.NaN).argmax(0));
        assertThrows(IllegalArgumentException.class, () -> of(1f).topK(0, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> of(1f).probabilities(1));
    }
}
