package io.reskern.weights;

import io.reskern.ReskernException;
import io.reskern.ReskernException.ErrorCode;
import io.reskern.graph.Graph;
import io.reskern.graph.Node;
import io.reskern.graph.ParamSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

/**
 * A graph's weights, checked against the graph and folded for inference:
 * <pre>
 *   s = γ / √(σ² + ε),  scale = s,  shift = β − μ·s + s·b     (b = conv bias if the checkpoint has one, else 0;
 *                                                              ε = {@link Graph#bnEpsilon}: 1e-5, or an imported BN's own)
 *   conv weights permuted from torch's [K, C/g, R, S] to KRSC = [K, R, S, C/g]
 * </pre>
 * Folding runs in float64. Every missing, unexpected or mis-shaped tensor is named in one {@link ReskernException}
 * ({@link ErrorCode#WEIGHT_MISMATCH}), with a last {@code hint:} line when the file is exactly another named model or
 * class count, or every name has a wrapper's prefix ({@code module.}, {@code _orig_mod.}); {@code num_batches_tracked}
 * is ignored.
 */
public final class FoldedWeights {
    /** BatchNorm epsilon of every supported checkpoint family ({@link Graph#DEFAULT_BN_EPS}). */
    public static final double BN_EPS = Graph.DEFAULT_BN_EPS;

    /** Folded conv: KRSC weights and the per-output-channel epilogue. */
    public record Conv(float[] weightKrsc, float[] scale, float[] shift) {
    }

    /** Per-channel affine (stand-alone BN). */
    public record Affine(float[] scale, float[] shift) {
    }

    /** Fully connected [K, C] + bias [K]. */
    public record Fc(float[] weight, float[] bias) {
    }

    private final Graph graph;
    private final Map<Node, Object> byNode;

    private FoldedWeights(Graph graph, Map<Node, Object> byNode) {
        this.graph = graph;
        this.byNode = byNode;
    }

    public Graph graph() {
        return graph;
    }

    public Conv conv(Node.Conv n) {
        return (Conv) byNode.get(n);
    }

    public Affine affine(Node.BnRelu n) {
        return (Affine) byNode.get(n);
    }

    public Fc fc(Node.Fc n) {
        return (Fc) byNode.get(n);
    }

    /** Checks {@code src} against the graph (names and shapes) and folds it. */
    public static FoldedWeights load(Graph graph, WeightSource src) throws ReskernException {
        check(graph, src);
        Map<Node, Object> out = new IdentityHashMap<>();
        for (Node n : graph.nodes()) {
            if (n instanceof Node.Conv c) {
                out.put(n, foldConv(c, src, graph));
            } else if (n instanceof Node.BnRelu b) {
                double[][] ss = bn(src, b.bnName(), b.channels(), null, graph.bnEpsilon(b.bnName()));
                out.put(n, new Affine(toFloat(ss[0]), toFloat(ss[1])));
            } else if (n instanceof Node.Fc f) {
                out.put(n, new Fc(src.floats(f.name() + ".weight"), src.floats(f.name() + ".bias")));
            }
        }
        return new FoldedWeights(graph, out);
    }

    /**
     * Seeded random weights as torchvision initialises them: Kaiming-normal convs (fan-out, ReLU gain), BN γ=1, β=0,
     * μ=0, σ²=1, FC uniform(±1/√C).
     */
    public static FoldedWeights random(Graph graph, long seed) {
        try {
            return load(graph, new RandomWeights(graph, seed));
        } catch (ReskernException e) {
            throw new IllegalStateException("generated weights do not match their own graph", e);
        }
    }

    private static void check(Graph graph, WeightSource src) throws ReskernException {
        Map<String, ParamSpec> expected = graph.params();
        List<String> missing = new ArrayList<>();
        List<String> misShaped = new ArrayList<>();
        for (ParamSpec p : expected.values()) {
            if (!src.names().contains(p.name())) {
                if (!p.optional()) {
                    missing.add(p.name() + " " + Arrays.toString(p.shape()));
                }
                continue;
            }
            long[] got = src.shape(p.name());
            if (!shapeMatches(p, got)) {
                misShaped.add(p.name() + " expected " + Arrays.toString(p.shape()) + " got " + Arrays.toString(got));
            }
        }
        Set<String> unexpected = new TreeSet<>();
        for (String name : src.names()) {
            if (!expected.containsKey(name) && !name.endsWith("num_batches_tracked")) {
                unexpected.add(printable(name));
            }
        }
        if (missing.isEmpty() && misShaped.isEmpty() && unexpected.isEmpty()) {
            return;
        }
        StringBuilder sb = new StringBuilder("weights in ").append(src.describe()).append(" do not match model ")
                .append(graph.name()).append(" (").append(graph.classes()).append(" classes)");
        appendList(sb, "missing", missing);
        appendList(sb, "mis-shaped", misShaped);
        appendList(sb, "unexpected", new ArrayList<>(unexpected));
        String hint = hint(graph, src);
        if (hint != null) {
            sb.append("\n  ").append(hint);
        }
        throw new ReskernException(ErrorCode.WEIGHT_MISMATCH, sb.toString());
    }

    /** Prefixes that wrappers put before every name of a state dict, and where they come from. */
    private static final Map<String, String> WRAPPER_PREFIXES = new java.util.LinkedHashMap<>(Map.of(
            "module.", "torch.nn.DataParallel / DistributedDataParallel", "_orig_mod.", "torch.compile",
            "model.", "a wrapping module"));

    /**
     * What the file is, when that is easy to tell: every name behind a wrapper's prefix ({@code module.} of
     * DataParallel, {@code _orig_mod.} of torch.compile), or exactly the tensors of another named model / class count
     * (resnet18 weights given to resnet34, a 10-class checkpoint to a 1000-class model). Null if neither.
     */
    private static String hint(Graph graph, WeightSource src) {
        List<String> names = src.names().stream().filter(n -> !n.endsWith("num_batches_tracked")).toList();
        if (names.isEmpty()) {
            return null;
        }
        for (Map.Entry<String, String> p : WRAPPER_PREFIXES.entrySet()) {
            String prefix = p.getKey();
            if (names.stream().allMatch(n -> n.startsWith(prefix))
                    && names.stream().anyMatch(n -> graph.params().containsKey(n.substring(prefix.length())))) {
                return "hint: every tensor name starts with '" + prefix + "' (" + p.getValue() + "): save the inner "
                        + "module's state_dict(), or strip the prefix from the names";
            }
        }
        if (graph.spec() == null) {
            return null; // an imported graph: its names come from the same file
        }
        List<String> matches = new ArrayList<>();
        for (io.reskern.ResNetSpec candidate : candidates()) {
            String fc = switch (candidate.naming()) {
                case CIFAR -> "linear";
                case TIMM_V2 -> "head.fc";
                default -> "fc";
            };
            if (!src.names().contains(fc + ".weight")) {
                continue;
            }
            long[] fcShape = src.shape(fc + ".weight");
            if (fcShape.length < 1 || fcShape[0] < 1 || fcShape[0] > Integer.MAX_VALUE) {
                continue;
            }
            io.reskern.ResNetSpec s = candidate.withClasses((int) fcShape[0]);
            if (matchesExactly(io.reskern.graph.GraphBuilder.build(s).params(), src)) {
                String shortcut = s.stem() == io.reskern.ResNetSpec.Stem.CIFAR
                        && s.shortcut() == io.reskern.ResNetSpec.Shortcut.PROJECTION ? ", shortcut B" : "";
                matches.add(s.name() + " (" + s.classes() + " classes" + shortcut + ")");
            }
        }
        if (matches.isEmpty()) {
            return null;
        }
        return "hint: the file matches " + String.join(" or ", matches.subList(0, Math.min(3, matches.size())));
    }

    private static List<io.reskern.ResNetSpec> candidates() {
        List<io.reskern.ResNetSpec> out = new ArrayList<>();
        for (String n : io.reskern.ResNets.names()) {
            io.reskern.ResNetSpec s = io.reskern.ResNets.byName(n);
            out.add(s);
            if (s.stem() == io.reskern.ResNetSpec.Stem.CIFAR) {
                out.add(s.withShortcut(io.reskern.ResNetSpec.Shortcut.PROJECTION));
            }
        }
        return out;
    }

    /** Whether {@code src} holds exactly these tensors (conv biases optional, num_batches_tracked ignored). */
    private static boolean matchesExactly(Map<String, ParamSpec> expected, WeightSource src) {
        for (ParamSpec p : expected.values()) {
            if (!src.names().contains(p.name())) {
                if (!p.optional()) {
                    return false;
                }
            } else if (!shapeMatches(p, src.shape(p.name()))) {
                return false;
            }
        }
        for (String name : src.names()) {
            if (!expected.containsKey(name) && !name.endsWith("num_batches_tracked")) {
                return false;
            }
        }
        return true;
    }

    /**
     * A name from the file as it may appear in a one-line message: control characters escaped (a terminal escape in
     * a hostile file's tensor name reached the terminal raw) and cut at 120 characters (a 1 MB name made a 1 MB line).
     */
    private static String printable(String name) {
        StringBuilder b = new StringBuilder();
        int n = Math.min(name.length(), 120);
        for (int i = 0; i < n; i++) {
            char c = name.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                b.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        if (name.length() > n) {
            b.append("...(").append(name.length()).append(" chars)");
        }
        return b.toString();
    }

    private static void appendList(StringBuilder sb, String what, List<String> items) {
        if (items.isEmpty()) {
            return;
        }
        sb.append("\n  ").append(items.size()).append(' ').append(what).append(": ");
        int shown = Math.min(items.size(), 12);
        sb.append(String.join(", ", items.subList(0, shown)));
        if (items.size() > shown) {
            sb.append(", … (").append(items.size() - shown).append(" more)");
        }
    }

    private static boolean shapeMatches(ParamSpec p, long[] got) {
        if (Arrays.equals(p.shape(), got)) {
            return true;
        }
        // An FC stored as a 1x1 conv (timm v2 head) is the same tensor.
        long[] e = p.shape();
        return e.length == 2 && got.length == 4 && got[0] == e[0] && got[1] == e[1] && got[2] == 1 && got[3] == 1;
    }

    private static Conv foldConv(Node.Conv c, WeightSource src, Graph graph) throws ReskernException {
        int k = c.cout();
        int cg = c.cin() / c.groups();
        int rs = c.kernel() * c.kernel();
        float[] w = src.floats(c.convName() + ".weight"); // [K][Cg][R][S]
        float[] krsc = new float[w.length];
        for (int o = 0; o < k; o++) {
            for (int ci = 0; ci < cg; ci++) {
                for (int t = 0; t < rs; t++) {
                    krsc[(o * rs + t) * cg + ci] = w[(o * cg + ci) * rs + t];
                }
            }
        }
        String biasName = c.convName() + ".bias";
        double[] bias = src.names().contains(biasName) ? toDouble(src.floats(biasName)) : null;
        double[] scale;
        double[] shift;
        if (c.hasBn()) {
            double[][] ss = bn(src, c.bnName(), k, bias, graph.bnEpsilon(c.bnName()));
            scale = ss[0];
            shift = ss[1];
        } else {
            scale = new double[k];
            Arrays.fill(scale, 1.0);
            shift = bias != null ? bias : new double[k];
        }
        return new Conv(krsc, toFloat(scale), toFloat(shift));
    }

    /** scale = γ/√(σ²+ε); shift = β − μ·scale + scale·bias. */
    private static double[][] bn(WeightSource src, String bn, int c, double[] bias, double eps) throws ReskernException {
        float[] gamma = src.floats(bn + ".weight");
        float[] beta = src.floats(bn + ".bias");
        float[] mean = src.floats(bn + ".running_mean");
        float[] var = src.floats(bn + ".running_var");
        double[] scale = new double[c];
        double[] shift = new double[c];
        for (int i = 0; i < c; i++) {
            if (var[i] < 0 || Float.isNaN(var[i])) {
                throw new ReskernException(ErrorCode.BAD_FILE, bn + ".running_var[" + i + "] = " + var[i]
                        + " is not a variance (must be >= 0)");
            }
            double s = gamma[i] / Math.sqrt((double) var[i] + eps);
            scale[i] = s;
            shift[i] = beta[i] - mean[i] * s + (bias != null ? s * bias[i] : 0.0);
        }
        return new double[][] {scale, shift};
    }

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /** torchvision-style initialisation as a weight source (so it goes through the same checks and folding). */
    static final class RandomWeights implements WeightSource {
        private final Map<String, ParamSpec> params;
        private final Map<String, float[]> data = new java.util.HashMap<>();

        RandomWeights(Graph graph, long seed) {
            this.params = new java.util.LinkedHashMap<>();
            Random rnd = new Random(seed);
            for (ParamSpec p : graph.params().values()) {
                if (p.optional()) {
                    continue;
                }
                params.put(p.name(), p);
                float[] d = new float[Math.toIntExact(p.elements())];
                String n = p.name();
                long[] s = p.shape();
                if (s.length == 4) {
                    double std = Math.sqrt(2.0 / (s[0] * s[2] * s[3]));
                    for (int i = 0; i < d.length; i++) {
                        d[i] = (float) (rnd.nextGaussian() * std);
                    }
                } else if (n.endsWith("running_var") || (n.endsWith(".weight") && s.length == 1)) {
                    Arrays.fill(d, 1f);
                } else if (s.length == 2 || isFcBias(graph, n)) {
                    double bound = 1.0 / Math.sqrt(s.length == 2 ? s[1] : fcIn(graph));
                    for (int i = 0; i < d.length; i++) {
                        d[i] = (float) ((rnd.nextDouble() * 2 - 1) * bound);
                    }
                }
                data.put(n, d);
            }
        }

        private static boolean isFcBias(Graph g, String n) {
            return g.nodes().stream().anyMatch(x -> x instanceof Node.Fc f && n.equals(f.name() + ".bias"));
        }

        private static long fcIn(Graph g) {
            return g.nodes().stream().filter(x -> x instanceof Node.Fc).mapToLong(x -> ((Node.Fc) x).cin()).findFirst()
                    .orElse(1);
        }

        @Override
        public Set<String> names() {
            return params.keySet();
        }

        @Override
        public long[] shape(String name) {
            return params.get(name).shape();
        }

        @Override
        public float[] floats(String name) {
            return data.get(name);
        }

        @Override
        public String describe() {
            return "seeded random initialisation";
        }
    }
}
