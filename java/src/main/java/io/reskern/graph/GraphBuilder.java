package io.reskern.graph;

import io.reskern.ResNetSpec;
import io.reskern.ResNetSpec.Block;
import io.reskern.ResNetSpec.Naming;
import io.reskern.ResNetSpec.Shortcut;
import io.reskern.ResNetSpec.StrideAt;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a {@link ResNetSpec} into a {@link Graph} of fused ops. BatchNorm after a conv always folds into that conv's
 * epilogue; the residual add and the ReLU after it fold into the last conv of the block. What stays stand-alone:
 * max-pool, v1d's avg-pool, v2's pre-activation BN-ReLU, global pool, FC.
 */
public final class GraphBuilder {
    private final ResNetSpec spec;
    private final List<Node> nodes = new ArrayList<>();
    private final List<Integer> channels = new ArrayList<>();
    private final Map<String, ParamSpec> params = new LinkedHashMap<>();

    private GraphBuilder(ResNetSpec spec) {
        this.spec = spec;
    }

    public static Graph build(ResNetSpec spec) {
        return new GraphBuilder(spec).run();
    }

    private int newValue(int c) {
        channels.add(c);
        return channels.size() - 1;
    }

    private Graph run() {
        int x = newValue(3);
        x = stem(x);
        int inplanes = channels.get(x);
        int[] layers = spec.layers();
        int[] widths = spec.widths();
        for (int s = 0; s < layers.length; s++) {
            int stageStride = s == 0 ? 1 : 2;
            for (int b = 0; b < layers[s]; b++) {
                x = spec.preActivation() ? preActBlock(x, s, b, widths[s], b == 0 ? stageStride : 1)
                        : block(x, s, b, widths[s], b == 0 ? stageStride : 1);
            }
            inplanes = channels.get(x);
        }
        if (spec.preActivation()) {
            x = bnRelu(x, "norm", true);
        }
        int pooled = newValue(inplanes);
        nodes.add(new Node.GlobalAvgPool(x, pooled));
        String fc = switch (spec.naming()) {
            case CIFAR -> "linear";
            case TIMM_V2 -> "head.fc";
            default -> "fc";
        };
        int logits = newValue(spec.classes());
        nodes.add(new Node.Fc(pooled, logits, inplanes, spec.classes(), fc));
        param(fc + ".weight", true, false, spec.classes(), inplanes);
        param(fc + ".bias", true, false, spec.classes());
        return new Graph(spec, nodes, channels.stream().mapToInt(Integer::intValue).toArray(), logits, params);
    }

    private int stem(int x) {
        switch (spec.stem()) {
            case CONV7 -> {
                x = conv(x, 64, 7, 2, 1, "conv1", "bn1", true, -1, Node.Residual.NONE);
                return maxPool(x);
            }
            case DEEP -> {
                int w = spec.stemWidth();
                x = conv(x, w, 3, 2, 1, "conv1.0", "conv1.1", true, -1, Node.Residual.NONE);
                x = conv(x, w, 3, 1, 1, "conv1.3", "conv1.4", true, -1, Node.Residual.NONE);
                x = conv(x, 64, 3, 1, 1, "conv1.6", "bn1", true, -1, Node.Residual.NONE);
                return maxPool(x);
            }
            case CONV7_PREACT -> {
                x = conv(x, 64, 7, 2, 1, "stem.conv", null, false, -1, Node.Residual.NONE);
                return maxPool(x);
            }
            case CIFAR -> {
                return conv(x, 16, 3, 1, 1, "conv1", "bn1", true, -1, Node.Residual.NONE);
            }
            default -> throw new IllegalStateException("unknown stem " + spec.stem());
        }
    }

    private String blockPrefix(int stage, int block) {
        return spec.naming() == Naming.TIMM_V2 ? "stages." + stage + ".blocks." + block + "."
                : "layer" + (stage + 1) + "." + block + ".";
    }

    /** v1 / v1.5 / v1c / v1d / CIFAR block: relu(main(x) + shortcut(x)), the add and ReLU fused into the last conv. */
    private int block(int x, int stage, int blockIdx, int planes, int stride) {
        String p = blockPrefix(stage, blockIdx);
        int in = channels.get(x);
        int out = planes * spec.block().expansion;
        int shortcut = x;
        Node.Residual mode = Node.Residual.IDENTITY;
        if (stride != 1 || in != out) {
            switch (spec.shortcut()) {
                case PROJECTION -> {
                    String ds = spec.naming() == Naming.CIFAR ? p + "shortcut." : p + "downsample.";
                    shortcut = conv(x, out, 1, stride, 1, ds + "0", ds + "1", false, -1, Node.Residual.NONE);
                }
                case AVG_DOWN -> {
                    int pooled = x;
                    if (stride != 1) {
                        pooled = newValue(in);
                        nodes.add(new Node.AvgPool(x, pooled, 2, stride, true, false));
                    }
                    shortcut = conv(pooled, out, 1, 1, 1, p + "downsample.1", p + "downsample.2", false, -1, Node.Residual.NONE);
                }
                case OPTION_A -> {
                    if (stride != 2 || out < in) {
                        throw new IllegalArgumentException(spec.name() + ": option A needs stride 2 and widening, got stride "
                                + stride + ", " + in + "->" + out);
                    }
                    mode = Node.Residual.OPTION_A;
                }
                default -> throw new IllegalStateException("shortcut " + spec.shortcut() + " in a v1 block");
            }
        }
        if (spec.block() == Block.BASIC) {
            int h = conv(x, planes, 3, stride, 1, p + "conv1", p + "bn1", true, -1, Node.Residual.NONE);
            return conv(h, out, 3, 1, 1, p + "conv2", p + "bn2", true, shortcut, mode);
        }
        int width = spec.bottleneckWidth(stage);
        int s1 = spec.strideAt() == StrideAt.FIRST_1X1 ? stride : 1;
        int s3 = spec.strideAt() == StrideAt.CONV3X3 ? stride : 1;
        int h = conv(x, width, 1, s1, 1, p + "conv1", p + "bn1", true, -1, Node.Residual.NONE);
        h = conv(h, width, 3, s3, spec.groups(), p + "conv2", p + "bn2", true, -1, Node.Residual.NONE);
        return conv(h, out, 1, 1, 1, p + "conv3", p + "bn3", true, shortcut, mode);
    }

    /**
     * v2 pre-activation block: {@code xp = relu(norm1(x)); s = proj(xp) or x; y = main(xp) + s}. Each later norm+ReLU
     * folds into the epilogue of the conv before it; the add (no ReLU) folds into the last conv.
     */
    private int preActBlock(int x, int stage, int blockIdx, int planes, int stride) {
        String p = blockPrefix(stage, blockIdx);
        int in = channels.get(x);
        int out = planes * spec.block().expansion;
        int xp = bnRelu(x, p + "norm1", true);
        int shortcut = x;
        if (stride != 1 || in != out) {
            shortcut = conv(xp, out, 1, stride, 1, p + "downsample.conv", null, false, -1, Node.Residual.NONE);
        }
        if (spec.block() == Block.BASIC) {
            int h = conv(xp, planes, 3, stride, 1, p + "conv1", p + "norm2", true, -1, Node.Residual.NONE);
            return conv(h, out, 3, 1, 1, p + "conv2", null, false, shortcut, Node.Residual.IDENTITY);
        }
        int width = spec.bottleneckWidth(stage);
        int h = conv(xp, width, 1, 1, 1, p + "conv1", p + "norm2", true, -1, Node.Residual.NONE);
        h = conv(h, width, 3, stride, spec.groups(), p + "conv2", p + "norm3", true, -1, Node.Residual.NONE);
        return conv(h, out, 1, 1, 1, p + "conv3", null, false, shortcut, Node.Residual.IDENTITY);
    }

    private int conv(int x, int cout, int k, int stride, int groups, String convName, String bnName, boolean relu,
                     int residual, Node.Residual mode) {
        int cin = channels.get(x);
        if (cin % groups != 0 || cout % groups != 0) {
            throw new IllegalArgumentException(spec.name() + ": groups " + groups + " must divide " + cin + " and " + cout);
        }
        int y = newValue(cout);
        nodes.add(new Node.Conv(x, y, cin, cout, k, stride, k / 2, groups, convName, bnName, relu, residual,
                residual < 0 ? Node.Residual.NONE : mode));
        param(convName + ".weight", true, false, cout, cin / groups, k, k);
        param(convName + ".bias", true, true, cout);
        if (bnName != null) {
            bnParams(bnName, cout);
        }
        return y;
    }

    private int bnRelu(int x, String bnName, boolean relu) {
        int c = channels.get(x);
        int y = newValue(c);
        nodes.add(new Node.BnRelu(x, y, c, bnName, relu));
        bnParams(bnName, c);
        return y;
    }

    private int maxPool(int x) {
        int y = newValue(channels.get(x));
        nodes.add(new Node.MaxPool(x, y, 3, 2, 1, false));
        return y;
    }

    private void bnParams(String bn, int c) {
        param(bn + ".weight", true, false, c);
        param(bn + ".bias", true, false, c);
        param(bn + ".running_mean", false, false, c);
        param(bn + ".running_var", false, false, c);
    }

    private void param(String name, boolean trainable, boolean optional, long... shape) {
        long elements = 1;
        for (long d : shape) {
            elements *= d; // each factor <= 2^16 (ResNetSpec.MAX_CHANNELS, kernel 7) or classes < 2^31: no wrap
        }
        if (elements > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(spec.name() + ": tensor " + name + " " + java.util.Arrays.toString(shape)
                    + " has " + elements + " elements, more than a Java array holds");
        }
        if (params.put(name, new ParamSpec(name, shape, trainable, optional)) != null) {
            throw new IllegalStateException("duplicate parameter " + name);
        }
    }
}
