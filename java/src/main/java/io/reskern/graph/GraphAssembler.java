package io.reskern.graph;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Assembles a {@link Graph} op by op from a description other than a {@link io.reskern.ResNetSpec} (an imported ONNX
 * file). Every call validates its arguments against what is already there, so a finished graph is always one that
 * {@link Plan} and the executors can run; a violation is an {@link IllegalArgumentException} (the importer checks the
 * file first and reports its own errors). Value 0 is the 3-channel input image; each op returns the id of the new
 * value it produces (SSA: values are never overwritten).
 *
 * <p>Tensor names follow {@link GraphBuilder}'s convention, so {@link io.reskern.weights.FoldedWeights} loads them the
 * same way: conv {@code NAME.weight [K, C/g, k, k]} (+ optional {@code NAME.bias [K]}), BN {@code NAME.weight},
 * {@code .bias}, {@code .running_mean}, {@code .running_var} {@code [C]}, FC {@code NAME.weight [K, C]},
 * {@code NAME.bias [K]}. Not thread-safe; one graph per assembler.
 */
public final class GraphAssembler {
    /** Largest kernel, stride or padding accepted (keeps every {@link Plan} size computation far from overflow). */
    public static final int MAX_WINDOW = 1 << 12;

    private final String name;
    private final List<Node> nodes = new ArrayList<>();
    private final List<Integer> channels = new ArrayList<>();
    private final List<Node> producer = new ArrayList<>();
    private final Map<String, ParamSpec> params = new LinkedHashMap<>();
    private final Map<String, Double> bnEps = new LinkedHashMap<>();
    private Graph.FixedSize fixedSize;
    private Graph.InputSize declaredSize;
    private boolean built;

    public GraphAssembler(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("graph name must be non-empty");
        }
        this.name = name;
        channels.add(3);
        producer.add(null);
    }

    /** The input image (3 channels). */
    public int input() {
        return 0;
    }

    public int channels(int value) {
        checkValue(value, "value");
        return channels.get(value);
    }

    /** Whether {@code value} is 1×1 spatially for every input size (a global pool or FC output, or computed from one). */
    public boolean isPooled(int value) {
        checkValue(value, "value");
        int v = value;
        while (true) { // a loop, not recursion: an imported graph may chain many 1x1 ops
            Node p = producer.get(v);
            if (p == null) {
                return false;
            }
            if (p instanceof Node.GlobalAvgPool || p instanceof Node.Fc) {
                return true;
            }
            boolean keeps = p instanceof Node.BnRelu
                    || p instanceof Node.Conv c && c.kernel() == 1 && c.stride() == 1 && c.pad() == 0;
            if (!keeps) {
                return false;
            }
            v = p.input();
        }
    }

    /**
     * Fused convolution {@code y = relu?(scale ⊙ conv(x, W) + shift + residual)} with BN {@code bnName} folded (null:
     * none) and an optional residual ({@code residual < 0}: none; {@link Node.Residual#IDENTITY}: same channels as y;
     * {@link Node.Residual#OPTION_A}: {@code pad(r[:, :, ::2, ::2])} with the missing channels split evenly).
     */
    public int conv(int x, int cout, int kernel, int stride, int pad, int groups, String convName, String bnName,
                    double bnEpsilon, boolean relu, int residual, Node.Residual mode) {
        check();
        int cin = channels(x);
        positive(cout, "conv output channels");
        window(kernel, stride, pad, "conv " + convName);
        if (groups < 1 || cin % groups != 0 || cout % groups != 0) {
            throw new IllegalArgumentException("conv " + convName + ": groups " + groups + " must divide " + cin + " and " + cout);
        }
        Node.Residual m = Node.Residual.NONE;
        if (residual >= 0) {
            checkValue(residual, "residual");
            int rc = channels.get(residual);
            if (mode == Node.Residual.IDENTITY) {
                if (rc != cout) {
                    throw new IllegalArgumentException("conv " + convName + ": identity residual has " + rc + " channels, output " + cout);
                }
            } else if (mode == Node.Residual.OPTION_A) {
                if (rc > cout) {
                    throw new IllegalArgumentException("conv " + convName + ": option-A residual has " + rc + " channels, more than " + cout);
                }
            } else {
                throw new IllegalArgumentException("conv " + convName + ": residual " + residual + " with mode " + mode);
            }
            m = mode;
        }
        requireFree(convName, ".weight", ".bias");
        if (bnName != null) {
            if (bnName.equals(convName)) {
                throw new IllegalArgumentException("conv " + convName + ": its BN needs a name of its own");
            }
            checkBn(bnName, bnEpsilon);
        }
        int y = newValue(cout, null);
        Node n = new Node.Conv(x, y, cin, cout, kernel, stride, pad, groups, convName, bnName, relu, residual < 0 ? -1 : residual, m);
        add(n, y);
        param(convName + ".weight", true, false, cout, cin / groups, kernel, kernel);
        param(convName + ".bias", true, true, cout);
        if (bnName != null) {
            bn(bnName, cout, bnEpsilon);
        }
        return y;
    }

    /** Stand-alone BN (+ReLU): {@code y = relu?(scale ⊙ x + shift)}. */
    public int bnRelu(int x, String bnName, double bnEpsilon, boolean relu) {
        check();
        int c = channels(x);
        checkBn(bnName, bnEpsilon);
        int y = newValue(c, null);
        add(new Node.BnRelu(x, y, c, bnName, relu), y);
        bn(bnName, c, bnEpsilon);
        return y;
    }

    /** Max-pool with −∞ padding, torch's floor output size. */
    public int maxPool(int x, int kernel, int stride, int pad) {
        return maxPool(x, kernel, stride, pad, false);
    }

    /**
     * Max-pool with −∞ padding; {@code ceilMode}: torch's ceil_mode output size {@code ceil((H + 2p − k)/s) + 1}, less
     * one when the last window would start beyond the input and the left padding (so every window holds an input tap).
     */
    public int maxPool(int x, int kernel, int stride, int pad, boolean ceilMode) {
        check();
        window(kernel, stride, pad, "max-pool");
        if (2 * pad > kernel) {
            throw new IllegalArgumentException("max-pool: pad " + pad + " must be at most half the kernel " + kernel);
        }
        int y = newValue(channels(x), null);
        add(new Node.MaxPool(x, y, kernel, stride, pad, ceilMode), y);
        return y;
    }

    /** Average pool without padding (torch output size, with {@code ceilMode}). */
    public int avgPool(int x, int kernel, int stride, boolean ceilMode, boolean countIncludePad) {
        check();
        window(kernel, stride, 0, "avg-pool");
        int y = newValue(channels(x), null);
        add(new Node.AvgPool(x, y, kernel, stride, ceilMode, countIncludePad), y);
        return y;
    }

    /** Global average pool to {@code [N, C]}. */
    public int globalAvgPool(int x) {
        check();
        int y = newValue(channels(x), null);
        add(new Node.GlobalAvgPool(x, y), y);
        return y;
    }

    /**
     * The value of the average pool that {@code value} is computed from through ops that keep a 1×1 size (BN, 1×1
     * conv), or -1 if there is none.
     */
    public int avgPoolBehind(int value) {
        checkValue(value, "value");
        int v = value;
        while (true) {
            Node p = producer.get(v);
            if (p instanceof Node.AvgPool) {
                return v;
            }
            boolean keeps = p instanceof Node.BnRelu
                    || p instanceof Node.Conv c && c.kernel() == 1 && c.stride() == 1 && c.pad() == 0;
            if (!keeps) {
                return -1;
            }
            v = p.input();
        }
    }

    /**
     * Makes the average pool that computes {@code pooled} a global average pool, and the graph exact only at input
     * {@code height x width} ({@link Graph#fixedInputSize}), if its window covers its whole input there (so its output
     * is 1×1 and equals the global mean at that size; stride and ceil mode then do not matter, it has no padding).
     * Readers of {@code pooled} added before see the same 1×1 value at that size.
     *
     * @return whether it did (false: the window does not cover its input at that size, or that size does not plan)
     */
    public boolean globalAtInputSize(int pooled, int height, int width, String reason) {
        check();
        checkValue(pooled, "value");
        if (fixedSize != null && (fixedSize.height() != height || fixedSize.width() != width)) {
            return false; // already exact at another size
        }
        if (!(producer.get(pooled) instanceof Node.AvgPool a)) {
            throw new IllegalArgumentException("value " + pooled + " is not computed by an average pool");
        }
        int at = nodes.indexOf(a);
        int[][] hw;
        try {
            hw = Plan.spatial(nodes.subList(0, at), channels.size(), height, width);
        } catch (IllegalArgumentException e) {
            return false;
        }
        if (hw[0][a.input()] != a.kernel() || hw[1][a.input()] != a.kernel()) {
            return false;
        }
        Node g = new Node.GlobalAvgPool(a.input(), pooled);
        nodes.set(at, g);
        producer.set(pooled, g);
        fixedSize = new Graph.FixedSize(height, width, reason);
        return true;
    }

    /** The input size the model file declares ({@link Graph#declaredInputSize}): a default, not a limit. */
    public void declareInputSize(int height, int width) {
        check();
        declaredSize = new Graph.InputSize(height, width);
    }

    /** Fully connected {@code y = x·Wᵀ + b} on a pooled value ({@link #isPooled}). */
    public int fc(int x, int cout, String fcName) {
        check();
        if (!isPooled(x)) {
            throw new IllegalArgumentException("fc " + fcName + ": input value " + x + " is not 1x1 (needs a global pool first)");
        }
        positive(cout, "fc outputs");
        requireFree(fcName, ".weight", ".bias");
        int cin = channels(x);
        int y = newValue(cout, null);
        add(new Node.Fc(x, y, cin, cout, fcName), y);
        param(fcName + ".weight", true, false, cout, cin);
        param(fcName + ".bias", true, false, cout);
        return y;
    }

    /** The finished graph; {@code output} must be pooled (the logits [N, classes]). The assembler is spent after this. */
    public Graph build(int output) {
        check();
        checkValue(output, "output");
        if (!isPooled(output)) {
            throw new IllegalArgumentException("graph output value " + output + " is not [N, classes] (no global pool/FC before it)");
        }
        built = true;
        int[] ch = channels.stream().mapToInt(Integer::intValue).toArray();
        return new Graph(null, name, nodes, ch, output, params, bnEps, fixedSize, declaredSize);
    }

    private void check() {
        if (built) {
            throw new IllegalStateException("graph already built");
        }
    }

    private void checkValue(int v, String what) {
        if (v < 0 || v >= channels.size()) {
            throw new IllegalArgumentException(what + " " + v + " is not a value of this graph (0.." + (channels.size() - 1) + ")");
        }
    }

    private static void positive(int n, String what) {
        if (n < 1) {
            throw new IllegalArgumentException(what + " must be >= 1, got " + n);
        }
    }

    private static void window(int kernel, int stride, int pad, String what) {
        if (kernel < 1 || kernel > MAX_WINDOW || stride < 1 || stride > MAX_WINDOW || pad < 0 || pad > MAX_WINDOW) {
            throw new IllegalArgumentException(what + ": kernel " + kernel + ", stride " + stride + ", pad " + pad
                    + " out of range (kernel, stride 1.." + MAX_WINDOW + ", pad 0.." + MAX_WINDOW + ")");
        }
    }

    private int newValue(int c, Node p) {
        channels.add(c);
        producer.add(p);
        return channels.size() - 1;
    }

    private void add(Node n, int y) {
        nodes.add(n);
        producer.set(y, n);
    }

    private void checkBn(String bnName, double eps) {
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("batch norm " + bnName + ": epsilon must be finite and > 0, got " + eps);
        }
        requireFree(bnName, ".weight", ".bias", ".running_mean", ".running_var");
    }

    /** Every {@code prefix + suffix} must be a new parameter name (checked before anything is added). */
    private void requireFree(String prefix, String... suffixes) {
        if (prefix == null || prefix.isEmpty()) {
            throw new IllegalArgumentException("tensor name prefix must be non-empty");
        }
        for (String s : suffixes) {
            if (params.containsKey(prefix + s)) {
                throw new IllegalArgumentException("duplicate parameter name " + prefix + s);
            }
        }
    }

    private void bn(String bnName, int c, double eps) {
        param(bnName + ".weight", true, false, c);
        param(bnName + ".bias", true, false, c);
        param(bnName + ".running_mean", false, false, c);
        param(bnName + ".running_var", false, false, c);
        bnEps.put(bnName, eps);
    }

    private void param(String n, boolean trainable, boolean optional, long... shape) {
        if (params.containsKey(n)) {
            throw new IllegalArgumentException("duplicate parameter name " + n);
        }
        params.put(n, new ParamSpec(n, shape, trainable, optional));
    }
}
