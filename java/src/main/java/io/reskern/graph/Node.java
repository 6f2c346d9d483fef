package io.reskern.graph;

/**
 * One operation of a {@link Graph}, in SSA form over activation values (ids into {@link Graph#channels}). Nodes are
 * size-independent; a {@link Plan} gives them shapes for one input size. Every node is an op of the native ABI
 * ({@code native/include/reskern_cpu.h}).
 */
public sealed interface Node permits Node.Conv, Node.MaxPool, Node.AvgPool, Node.BnRelu, Node.GlobalAvgPool, Node.Fc {

    int input();

    int output();

    /** How the residual of a fused conv is read. */
    enum Residual { NONE, IDENTITY, OPTION_A }

    /**
     * Fused convolution: {@code y = relu?(scale ⊙ conv(x, W) + shift + residual)}, where scale/shift fold the BN named
     * {@code bnName} (and the conv bias, if the checkpoint has one); without a BN, scale = 1 and shift = bias or 0.
     */
    record Conv(int input, int output, int cin, int cout, int kernel, int stride, int pad, int groups,
                String convName, String bnName, boolean relu, int residual, Residual residualMode) implements Node {
        public boolean hasBn() {
            return bnName != null;
        }
    }

    /**
     * Max-pool with −∞ padding; {@code ceilMode}: torch's ceil_mode output size (the last window may overhang the
     * input and is clipped to it; it must start inside the input or the left padding).
     */
    record MaxPool(int input, int output, int kernel, int stride, int pad, boolean ceilMode) implements Node {
    }

    /** Average pool (v1d shortcut: 2×2/2, ceil_mode=True, count_include_pad=False). */
    record AvgPool(int input, int output, int kernel, int stride, boolean ceilMode, boolean countIncludePad) implements Node {
    }

    /** Stand-alone BN (+ReLU): {@code y = relu?(scale ⊙ x + shift)} — v2 pre-activation and its final norm. */
    record BnRelu(int input, int output, int channels, String bnName, boolean relu) implements Node {
    }

    /** Global average pool to [N, C]. */
    record GlobalAvgPool(int input, int output) implements Node {
    }

    /** Fully connected: {@code y = x·Wᵀ + b}; W may be stored as [K, C] or as a 1×1 conv [K, C, 1, 1] (timm v2 head). */
    record Fc(int input, int output, int cin, int cout, String name) implements Node {
    }
}
