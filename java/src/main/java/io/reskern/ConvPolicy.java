package io.reskern;

import java.util.Locale;

/**
 * Which convolution implementation a CUDA model uses, per conv layer of its plan.
 * <ul>
 *   <li>{@link #OWN} (default): reskern's own kernels, the algorithm picked by the library's heuristic; no timing,
 *       no cuDNN, nothing extra loaded. The default until the cuDNN path has been verified on a GPU.</li>
 *   <li>{@link #CUDNN}: cuDNN's fused {@code cudnnConvolutionBiasActivationForward} wherever cuDNN can express the
 *       step (its fastest algorithm, timed once and cached), cuBLAS for the FC head; reskern's kernels where it
 *       cannot (CIFAR option-A shortcuts) or when cuDNN is not installed (one log line).</li>
 *   <li>{@link #BEST}: times reskern's kernel configurations and cuDNN's algorithms for every conv shape, keeps the
 *       fastest and persists the choice ({@code ~/.cache/reskern/}, {@code -Dreskern.tuneCache=DIR}); reskern's
 *       kernel wins ties (times within the measured noise).</li>
 * </ul>
 * The CPU backend ignores the policy (it has one implementation).
 */
public enum ConvPolicy {
    OWN, CUDNN, BEST;

    /** Parses {@code own}, {@code cudnn} or {@code best} (case-insensitive). */
    public static ConvPolicy parse(String s) {
        if (s != null) {
            switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "own": return OWN;
                case "cudnn": return CUDNN;
                case "best": return BEST;
                default: break;
            }
        }
        throw new IllegalArgumentException("unknown conv implementation '" + s + "': use own, cudnn or best");
    }

    /** Whether this policy may use cuDNN / cuBLAS (and so loads the JavaCPP presets on a GPU). */
    public boolean usesCudnn() {
        return this != OWN;
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
