package io.reskern.backend.conv;

import io.reskern.ConvPolicy;
import java.util.List;

/**
 * The per-layer choice rule, a pure function of measured times (so it is unit-tested with fake timings):
 * <ul>
 *   <li>{@code own}: reskern's heuristic algorithm, never timed;</li>
 *   <li>{@code cudnn}: the fastest cuDNN candidate, or reskern's heuristic when there is none (cuDNN missing, or it
 *       cannot express the step);</li>
 *   <li>{@code best}: the fastest own candidate (the heuristic's unless another is faster by more than the margin), and
 *       cuDNN only when it beats that by more than the margin. Margin = max({@value #MIN_MARGIN}, 2 × the larger of
 *       the two candidates' relative spreads): within noise reskern's kernel is kept, so {@code best} is never
 *       knowingly slower than {@code own} and, past the noise, never slower than {@code cudnn}.</li>
 * </ul>
 */
public final class Chooser {
    public static final String OWN_PREFIX = "own:";
    public static final String CUDNN_PREFIX = "cudnn:";
    /** Smallest relative advantage that counts as faster (3 %). */
    public static final double MIN_MARGIN = 0.03;

    private Chooser() {
    }

    /** The decision and why. {@code id} is a candidate id ({@code own:…} / {@code cudnn:…}). */
    public record Choice(String id, String reason) {
        public boolean isCudnn() {
            return id.startsWith(CUDNN_PREFIX);
        }
    }

    static double margin(Measured a, Measured b) {
        return Math.max(MIN_MARGIN, 2 * Math.max(a.spread(), b.spread()));
    }

    /** Whether {@code challenger} is faster than {@code incumbent} beyond the noise. */
    public static boolean clearlyFaster(Measured challenger, Measured incumbent) {
        return challenger.ms() < incumbent.ms() * (1 - margin(challenger, incumbent));
    }

    /** Fastest of {@code list}, or null when empty. */
    public static Measured fastest(List<Measured> list) {
        Measured best = null;
        for (Measured m : list) {
            if (best == null || m.ms() < best.ms()) {
                best = m;
            }
        }
        return best;
    }

    /**
     * The own candidate to use: the heuristic's ({@code heuristicId}) unless another own candidate is clearly faster.
     * Returns null when {@code own} is empty.
     */
    public static Measured bestOwn(List<Measured> own, String heuristicId) {
        Measured fast = fastest(own);
        if (fast == null) {
            return null;
        }
        for (Measured m : own) {
            if (m.id().equals(heuristicId)) {
                return clearlyFaster(fast, m) ? fast : m;
            }
        }
        return fast;
    }

    /**
     * @param policy      own / cudnn / best
     * @param heuristicId the id of reskern's heuristic choice ({@code own:<name>}), used when nothing was timed
     * @param own         the best measured own candidate (null: not timed)
     * @param cudnn       the best measured cuDNN candidate (null: none, cuDNN missing or not expressible)
     */
    public static Choice choose(ConvPolicy policy, String heuristicId, Measured own, Measured cudnn) {
        switch (policy) {
            case OWN:
                return new Choice(heuristicId, "policy own");
            case CUDNN:
                if (cudnn != null) {
                    return new Choice(cudnn.id(), "policy cudnn: fastest cuDNN algorithm");
                }
                return new Choice(own != null ? own.id() : heuristicId, "policy cudnn, but no cuDNN candidate: own kernel");
            case BEST:
            default:
                if (own == null && cudnn == null) {
                    return new Choice(heuristicId, "nothing measured: heuristic");
                }
                if (cudnn == null) {
                    return new Choice(own.id(), "no cuDNN candidate");
                }
                if (own == null) {
                    return new Choice(cudnn.id(), "no own candidate ran");
                }
                if (clearlyFaster(cudnn, own)) {
                    return new Choice(cudnn.id(), String.format(java.util.Locale.ROOT, "cuDNN %.4f ms < own %.4f ms by more than %.0f %%", cudnn.ms(),
                            own.ms(), 100 * margin(cudnn, own)));
                }
                return new Choice(own.id(), String.format(java.util.Locale.ROOT, "own %.4f ms vs cuDNN %.4f ms (within %.0f %% keeps own)", own.ms(),
                        cudnn.ms(), 100 * margin(cudnn, own)));
        }
    }
}
