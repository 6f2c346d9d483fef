package io.reskern.graph;

import io.reskern.ResNetSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A ResNet as an ordered list of fused ops ({@link Node}) over activation values. Value 0 is the input image
 * (3 channels); {@link #output()} holds the logits {@code [N, classes]}. Built from a {@link ResNetSpec} by
 * {@link GraphBuilder}, or from another description of the network (an imported file), in which case
 * {@link #spec()} is {@code null}; immutable.
 */
public final class Graph {
    /** BatchNorm epsilon of every supported checkpoint family (torchvision, timm, CIFAR): what a BN without its own uses. */
    public static final double DEFAULT_BN_EPS = 1e-5;

    private final ResNetSpec spec;
    private final String name;
    private final int classes;
    private final List<Node> nodes;
    private final int[] channels;
    private final int output;
    private final Map<String, ParamSpec> params;
    private final Map<String, Double> bnEps;
    private final FixedSize fixedSize;
    private final InputSize declaredSize;

    /**
     * The one input size a graph is exact at: an imported fixed-window average pool that covers its whole input only
     * at the size the file declares (akamaster's {@code F.avg_pool2d(x, x.size(3))}, traced), run as a global pool.
     *
     * @param reason why, for the error at any other size
     */
    public record FixedSize(int height, int width, String reason) {
        public FixedSize {
            if (height < 1 || width < 1) {
                throw new IllegalArgumentException("fixed input size must be positive, got " + height + "x" + width);
            }
        }
    }

    /** An input height and width. */
    public record InputSize(int height, int width) {
        public InputSize {
            if (height < 1 || width < 1) {
                throw new IllegalArgumentException("input size must be positive, got " + height + "x" + width);
            }
        }
    }

    Graph(ResNetSpec spec, List<Node> nodes, int[] channels, int output, Map<String, ParamSpec> params) {
        this(spec, spec.name(), nodes, channels, output, params, Map.of(), null, null);
    }

    Graph(ResNetSpec spec, String name, List<Node> nodes, int[] channels, int output, Map<String, ParamSpec> params,
          Map<String, Double> bnEps, FixedSize fixedSize, InputSize declaredSize) {
        this.spec = spec;
        this.fixedSize = fixedSize;
        this.declaredSize = declaredSize;
        this.bnEps = Map.copyOf(bnEps);
        this.name = name;
        this.classes = channels[output];
        this.nodes = Collections.unmodifiableList(new ArrayList<>(nodes));
        this.channels = channels.clone();
        this.output = output;
        this.params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
    }

    /** The spec this graph was built from; {@code null} for a graph imported from a file. */
    public ResNetSpec spec() {
        return spec;
    }

    /** Model name (the spec's name, or what the importer calls it). */
    public String name() {
        return name;
    }

    /** Number of logits per image: the channel count of {@link #output()}. */
    public int classes() {
        return classes;
    }

    public List<Node> nodes() {
        return nodes;
    }

    /** Channel count of each value. */
    public int channels(int value) {
        return channels[value];
    }

    public int valueCount() {
        return channels.length;
    }

    public int input() {
        return 0;
    }

    public int output() {
        return output;
    }

    /** Every tensor the checkpoint should contain, by name, in graph order. */
    public Map<String, ParamSpec> params() {
        return params;
    }

    /** Epsilon of the BatchNorm {@code bnName} (an imported BN's own; {@link #DEFAULT_BN_EPS} otherwise). */
    public double bnEpsilon(String bnName) {
        return bnEps.getOrDefault(bnName, DEFAULT_BN_EPS);
    }

    /** Trainable parameter count, as torchvision/timm count it (BN running statistics excluded, no conv biases). */
    public long parameterCount() {
        long n = 0;
        for (ParamSpec p : params.values()) {
            if (p.trainable() && !p.optional()) {
                n += p.elements();
            }
        }
        return n;
    }

    /** Number of fused convolutions (including the projection shortcuts). */
    public int convCount() {
        return (int) nodes.stream().filter(n -> n instanceof Node.Conv).count();
    }

    /**
     * The only input size this graph may be planned at (any other is an IllegalArgumentException naming it), or null:
     * any size large enough.
     */
    public FixedSize fixedInputSize() {
        return fixedSize;
    }

    /**
     * The input height and width the model file declares (an ONNX graph input with fixed H, W dims: the size it was
     * exported at), or null (dynamic H, W; graphs built from a spec). Any size still runs; the {@code Predictor},
     * {@code classify} and {@code bench} take it as their default input size.
     */
    public InputSize declaredInputSize() {
        return declaredSize;
    }

    /** Shapes and buffers for one input size. */
    public Plan plan(int batch, int height, int width) {
        return new Plan(this, batch, height, width);
    }
}
