package io.reskern.onnx;

import static io.reskern.onnx.Msg.bad;
import static io.reskern.onnx.Msg.quote;
import static io.reskern.onnx.Msg.unsupported;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.reskern.ReskernException;
import io.reskern.ReskernException.ErrorCode;
import io.reskern.graph.Graph;
import io.reskern.graph.GraphAssembler;
import io.reskern.graph.Node;
import io.reskern.image.Preprocess;
import io.reskern.onnx.proto.Onnx.GraphProto;
import io.reskern.onnx.proto.Onnx.ModelProto;
import io.reskern.onnx.proto.Onnx.NodeProto;
import io.reskern.onnx.proto.Onnx.OperatorSetIdProto;
import io.reskern.onnx.proto.Onnx.TensorProto;
import io.reskern.onnx.proto.Onnx.TensorShapeProto;
import io.reskern.onnx.proto.Onnx.TypeProto;
import io.reskern.onnx.proto.Onnx.ValueInfoProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Imports a ResNet-family ONNX model (as torchvision, timm or torch.onnx export them) into reskern's fused
 * {@link Graph}, with its initializers as the {@link io.reskern.weights.WeightSource}: the same
 * {@link io.reskern.weights.FoldedWeights}, {@link io.reskern.graph.Plan} and CPU / CUDA executors then run it.
 *
 * <p><b>Fusion.</b> Nodes are read in file order (ONNX requires a topological order) and mapped greedily:
 * <ul>
 *   <li>{@code Conv} [+ {@code BatchNormalization}] [+ {@code Add} of a value computed earlier → residual]
 *       [+ {@code Relu}] → one fused conv; each fused step needs the previous output to have no other reader;</li>
 *   <li>stand-alone {@code BatchNormalization} [+ {@code Relu}] → BN-ReLU (v2 pre-activation);</li>
 *   <li>{@code MaxPool} (also ceil_mode), {@code AveragePool} (v1d: 2×2/2, ceil_mode), {@code GlobalAveragePool} and
 *       {@code ReduceMean} over H, W → pools; {@code Flatten}, {@code Reshape} to [N, C], {@code Squeeze},
 *       {@code Identity}, {@code Dropout} → nothing;</li>
 *   <li>{@code Gemm} (alpha = beta = 1, transA = 0), {@code MatMul} [+ {@code Add} bias], or a 1×1 {@code Conv} on a
 *       pooled value (timm v2 head) → FC;</li>
 *   <li>{@code Pad} (constant 0) before a {@code Conv}, or (−∞, or 0 after a ReLU) before a {@code MaxPool} → their
 *       symmetric padding; {@code Slice} {@code x[:, :, ::2, ::2]} + channel {@code Pad} added to a conv → the CIFAR
 *       option-A residual;</li>
 *   <li>nodes whose inputs are all constants (Shape / Gather / Concat / Reshape / Slice / Transpose / Cast … of
 *       constants, torch's {@code F.pad} arithmetic) are folded at import;</li>
 *   <li>the same ops over an activation's Shape ({@code x.view(x.size(0), -1)}) are evaluated at three (N, H, W) and
 *       may only feed a Reshape that gives [N, C] at all three; a Reshape to a constant [B, …] is [N, C] when the
 *       input declares the fixed batch B and it gives [B, C] there;</li>
 *   <li>{@code Cast} of an activation between float types, and a FLOAT16 / BFLOAT16 / DOUBLE image input, run in fp32;</li>
 *   <li>an {@code AveragePool} flattened (or fed to an FC) as if it were global, whose window covers its whole input
 *       at the static H, W the graph input declares ({@code F.avg_pool2d(x, x.size(3))} traced) → the global pool, and
 *       the graph is exact only at that input size ({@link Graph#fixedInputSize}: other sizes do not plan).</li>
 * </ul>
 * BatchNorm epsilons are kept per BN.
 *
 * <p><b>Errors.</b> Everything else is a {@link ReskernException}: code {@code UNSUPPORTED} for a valid model reskern
 * cannot run (the message names the node — index, name, op_type — and the operator, attribute or value: dilations ≠ 1,
 * asymmetric pads, {@code auto_pad} SAME_*, non-square kernels or strides, training-mode BN, a second non-initializer
 * input, non-float or non-3-channel input, opset outside {@value #MIN_OPSET}–{@value #MAX_OPSET}); code {@code BAD_FILE}
 * for a malformed or hostile file (not protobuf, truncated, negative or overflowing dims, data size ≠ dims × element
 * size, undefined or twice-defined values, nodes out of topological order or in a cycle, external data outside the
 * model's folder); code {@code IO} when reading fails. Sizes are checked before anything is allocated, so a small
 * hostile file cannot make the importer allocate much more than its own size.
 */
public final class OnnxImporter {
    public static final long MIN_OPSET = 6;
    public static final long MAX_OPSET = 23;
    /** Most nodes accepted (a ResNet-152 export without constant folding has about 1,500). */
    public static final int MAX_NODES = 20_000;
    /** Most elements constant folding may compute in one import, all nodes together. */
    public static final long MAX_FOLDED_ELEMENTS = 1L << 22;
    /** Largest model file (protobuf's 2 GiB limit). */
    public static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 8;

    /** What an ONNX value is while importing. */
    private sealed interface Val permits Act, Const, SliceView, OptionA, PadView, Sym {
    }

    /** An activation computed by reskern value {@code id}; {@code rank} 4 (NCHW) or 2 ([N, C]). */
    private record Act(int id, int rank, boolean nonNegative) implements Val {
    }

    private record Const(Tensor t) implements Val {
    }

    /** {@code x[:, :, ::hStep, ::wStep]} of an activation (only usable as the option-A shortcut). */
    private record SliceView(Act of, int hStep, int wStep) implements Val {
    }

    /** {@code pad(x[:, :, ::2, ::2])} with {@code before}/{@code after} zero channels: an option-A residual. */
    private record OptionA(Act of, int before, int after) implements Val {
    }

    /** A symmetric spatial constant pad of an activation, to fold into the next Conv or MaxPool. */
    private record PadView(Act of, int pad, float value) implements Val {
    }

    /**
     * Shape arithmetic on an activation's shape ({@code x.view(x.size(0), -1)} exports Shape → Gather → Unsqueeze →
     * Concat → Reshape): its value in each of the {@link #WORLDS}, where the batch N and the spatial sizes H, W of
     * not-yet-pooled activations take different values. Usable only as a Reshape target that gives [N, C] in every
     * world.
     */
    private record Sym(Tensor[] at) implements Val {
    }

    /** The (N, H, W) substituted for an activation's run-time sizes when evaluating {@link Sym} values. */
    private static final long[][] WORLDS = {{1, 3, 5}, {7, 11, 2}, {4, 6, 9}};

    private final GraphProto g;
    private final long opset;
    private final Path baseDir;
    private final Map<String, Val> vals = new HashMap<>();
    private final Map<String, List<Integer>> consumers = new HashMap<>();
    private final Map<String, Integer> definedBy = new HashMap<>();
    private final Set<String> graphOutputs = new HashSet<>();
    private final Set<String> prefixes = new HashSet<>();
    private final boolean[] consumed;
    private final GraphAssembler asm;
    private final OnnxWeights weights;
    private String inputName;
    private final List<Long> inputShape = new ArrayList<>();
    /** Elements computed by constant folding so far (bounded by {@link #MAX_FOLDED_ELEMENTS}). */
    private long foldedElements;
    /** Kernel of each value computed by an AveragePool (for the error when one is flattened as if it were global). */
    private final Map<Integer, Integer> avgPoolKernel = new HashMap<>();
    /** Nesting of {@link #ensure} (each level may translate a conv that ensures again): bounded for hostile graphs. */
    private int ensureNesting;

    private OnnxImporter(GraphProto g, long opset, String name, Path baseDir, String source) {
        this.g = g;
        this.opset = opset;
        this.baseDir = baseDir;
        this.consumed = new boolean[g.getNodeCount()];
        this.asm = new GraphAssembler(name);
        this.weights = new OnnxWeights(source);
    }

    /** Imports {@code file}; external tensor data is read from files beside it. */
    public static OnnxModel load(Path file) throws ReskernException {
        byte[] bytes = readFile(file);
        String stem = file.getFileName() == null ? "onnx" : file.getFileName().toString();
        if (stem.toLowerCase(java.util.Locale.ROOT).endsWith(".onnx") && stem.length() > 5) {
            stem = stem.substring(0, stem.length() - 5);
        }
        Path dir = file.toAbsolutePath().getParent();
        return load(bytes, stem, dir, file.toString());
    }

    /**
     * Imports a model held in memory.
     *
     * @param name    the graph's name
     * @param baseDir folder for external tensor data; {@code null}: a model with external data is refused
     */
    public static OnnxModel load(byte[] bytes, String name, Path baseDir) throws ReskernException {
        return load(bytes, name, baseDir, name);
    }

    private static OnnxModel load(byte[] bytes, String name, Path baseDir, String source) throws ReskernException {
        try {
            ModelProto m = parse(bytes);
            if (!m.hasGraph()) {
                throw bad("no graph (not an ONNX model?)");
            }
            long opset = opset(m);
            OnnxImporter imp = new OnnxImporter(m.getGraph(), opset, name.isEmpty() ? "onnx" : name, baseDir, source);
            Graph graph = imp.run();
            String producer = (m.getProducerName() + " " + m.getProducerVersion()).trim();
            return new OnnxModel(graph, imp.weights, opset, producer, imp.inputName, List.copyOf(imp.inputShape),
                    m.getGraph().getOutput(0).getName());
        } catch (ReskernException e) {
            throw new ReskernException(e.code(), source + ": " + e.getMessage(), e.getCause());
        }
    }

    private static byte[] readFile(Path file) throws ReskernException {
        try {
            if (!Files.isRegularFile(file)) {
                throw new ReskernException(ErrorCode.IO, file + ": not found (or not a regular file)");
            }
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw new ReskernException(ErrorCode.UNSUPPORTED, file + ": " + size
                        + " bytes; ONNX models larger than 2 GiB keep their weights as external data");
            }
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                ByteBuffer b = ByteBuffer.allocate((int) size);
                while (b.hasRemaining() && ch.read(b) >= 0) {
                    // read fully
                }
                if (b.hasRemaining()) {
                    throw new ReskernException(ErrorCode.IO, file + ": file shrank while reading");
                }
                return b.array();
            }
        } catch (IOException e) {
            throw new ReskernException(ErrorCode.IO, file + ": cannot read: " + e, e);
        }
    }

    private static ModelProto parse(byte[] bytes) throws ReskernException {
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            in.setSizeLimit(Integer.MAX_VALUE);
            return ModelProto.parseFrom(in);
        } catch (InvalidProtocolBufferException e) {
            throw bad("not an ONNX model (protobuf: " + e.getMessage() + ")");
        } catch (IOException e) {
            throw bad("not an ONNX model (" + e + ")");
        }
    }

    private static long opset(ModelProto m) throws ReskernException {
        long v = -1;
        for (OperatorSetIdProto o : m.getOpsetImportList()) {
            if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
                if (v >= 0) {
                    throw bad("opset_import lists the default domain twice");
                }
                v = o.getVersion();
            }
        }
        if (v < 0) {
            throw bad("no opset_import for the default ONNX domain");
        }
        if (v < MIN_OPSET || v > MAX_OPSET) {
            throw unsupported("opset " + v + " (reskern imports opsets " + MIN_OPSET + " to " + MAX_OPSET + ")");
        }
        return v;
    }

    // ------------------------------------------------------------------ checks of the whole graph

    private String where(int i) {
        NodeProto n = g.getNode(i);
        return "node " + i + " " + quote(n.getName()) + " (" + quote(n.getOpType()) + ")";
    }

    private Graph run() throws ReskernException {
        if (g.getNodeCount() > MAX_NODES) {
            throw unsupported("the graph has " + g.getNodeCount() + " nodes (reskern imports at most " + MAX_NODES + ")");
        }
        Set<String> defined = new HashSet<>();
        for (TensorProto t : g.getInitializerList()) {
            if (t.getName().isEmpty()) {
                throw bad("an initializer has no name");
            }
            if (!defined.add(t.getName())) {
                throw bad("initializer " + quote(t.getName()) + " is defined twice");
            }
            vals.put(t.getName(), new Const(Tensor.of(t, baseDir)));
        }
        List<ValueInfoProto> real = new ArrayList<>();
        Set<String> inputNames = new HashSet<>();
        for (ValueInfoProto vi : g.getInputList()) {
            if (vi.getName().isEmpty()) {
                throw bad("a graph input has no name");
            }
            if (!inputNames.add(vi.getName())) {
                throw bad("graph input " + quote(vi.getName()) + " is listed twice");
            }
            if (!vals.containsKey(vi.getName())) {
                real.add(vi); // inputs that are also initializers (IR < 4 style) are constants
            }
        }
        if (real.isEmpty()) {
            throw bad("the graph has no input that is not an initializer (no image input)");
        }
        if (real.size() > 1) {
            List<String> names = real.stream().map(v -> quote(v.getName())).toList();
            boolean noWeights = g.getInitializerCount() == 0 && g.getNodeList().stream().anyMatch(nd -> nd.getOpType().equals("Conv"));
            throw unsupported("the graph has " + real.size() + " inputs that are not initializers (" + String.join(", ",
                    names.subList(0, Math.min(names.size(), 8))) + (names.size() > 8 ? ", ..." : "") + "); reskern takes one image input"
                    + (noWeights ? " (the file holds no weights: exported with export_params=False?)" : ""));
        }
        checkInput(real.get(0));
        defined.add(inputName);
        vals.put(inputName, new Act(0, 4, false));
        if (g.getOutputCount() != 1) {
            if (g.getOutputCount() == 0) {
                throw bad("the graph has no output");
            }
            throw unsupported("the graph has " + g.getOutputCount() + " outputs; reskern computes one (the logits)");
        }
        String outName = g.getOutput(0).getName();
        graphOutputs.add(outName);
        checkOrder(defined, outName);
        for (int i = 0; i < g.getNodeCount(); i++) {
            if (!consumed[i]) {
                consumed[i] = true;
                translate(i);
            }
        }
        Val out = vals.get(outName);
        if (!(out instanceof Act a) || !asm.isPooled(a.id())) {
            throw unsupported("graph output " + quote(outName) + " is not the logits [N, classes] of a global pool and FC");
        }
        Graph graph = asm.build(a.id());
        // Shapes are not known until an input size is: plan a few sizes so a residual Add of tensors of different
        // sizes (a broken file) is reported here, not at the first predict (Plan refuses it there too).
        Graph.FixedSize fixed = graph.fixedInputSize();
        int[][] sizes = fixed != null ? new int[][] {{fixed.height(), fixed.width()}}
                : new int[][] {{16, 16}, {61, 47}, {224, 224}};
        for (int[] hw : sizes) {
            try {
                graph.plan(1, hw[0], hw[1]);
            } catch (IllegalArgumentException e) {
                if (e.getMessage().startsWith("residual shape mismatch")) {
                    throw bad(e.getMessage() + " (at input " + hw[0] + "x" + hw[1] + ": the file adds tensors of different sizes)");
                }
            }
        }
        return graph;
    }

    private void checkInput(ValueInfoProto vi) throws ReskernException {
        inputName = vi.getName();
        String w = "graph input " + quote(inputName);
        TypeProto t = vi.getType();
        if (!t.hasTensorType()) {
            throw unsupported(w + " is not a tensor");
        }
        int et = t.getTensorType().getElemType();
        if (!Tensor.isFloatType(et)) {
            throw unsupported(w + " has element type " + Tensor.typeName(et) + "; reskern takes FLOAT images");
        }
        // FLOAT16 / BFLOAT16 / DOUBLE (a model.half() export): reskern computes in fp32, like its weights.
        if (t.getTensorType().hasShape()) {
            List<TensorShapeProto.Dimension> dims = t.getTensorType().getShape().getDimList();
            if (dims.size() != 4) {
                throw unsupported(w + " has rank " + dims.size() + "; reskern takes NCHW images [N, 3, H, W]");
            }
            for (TensorShapeProto.Dimension d : dims) {
                inputShape.add(d.hasDimValue() ? d.getDimValue() : -1L);
            }
            if (dims.get(1).hasDimValue() && dims.get(1).getDimValue() != 3) {
                boolean nhwc = dims.get(3).hasDimValue() && dims.get(3).getDimValue() == 3;
                throw unsupported(w + " has shape " + inputShape + (nhwc ? ", NHWC [N, H, W, 3] (a Transpose to NCHW inside "
                        + "the model?); reskern takes NCHW images [N, 3, H, W]: export without the permute and pass NCHW"
                        : ": " + dims.get(1).getDimValue() + " channels; reskern takes 3-channel images [N, 3, H, W]"));
            }
            long h = inputShape.get(2);
            long wd = inputShape.get(3);
            if (h > 0 && wd > 0 && h <= Preprocess.MAX_SIDE && wd <= Preprocess.MAX_SIDE) {
                asm.declareInputSize((int) h, (int) wd); // the export size: the default input size of Predictor, classify
            }
        }
    }

    /** SSA and order: each value defined once, each input defined by an earlier node (no cycles). */
    private void checkOrder(Set<String> defined, String outName) throws ReskernException {
        int n = g.getNodeCount();
        for (int i = 0; i < n; i++) {
            NodeProto node = g.getNode(i);
            if (node.getOutputCount() == 0 || node.getOutput(0).isEmpty()) {
                throw bad(where(i) + " has no output");
            }
            if (!node.getDomain().isEmpty() && !node.getDomain().equals("ai.onnx")) {
                throw unsupported(where(i) + ": operator domain " + quote(node.getDomain()) + " (only the default ONNX domain)");
            }
            for (String o : node.getOutputList()) {
                if (o.isEmpty()) {
                    continue; // an optional output left out
                }
                Integer prev = definedBy.putIfAbsent(o, i);
                if (prev != null || defined.contains(o)) {
                    throw bad("value " + quote(o) + " is defined twice (" + where(i) + " and "
                            + (prev != null ? where(prev) : "an initializer or input") + ")");
                }
            }
        }
        for (int i = 0; i < n; i++) {
            for (String in : g.getNode(i).getInputList()) {
                if (in.isEmpty()) {
                    continue;
                }
                if (!defined.contains(in)) {
                    Integer d = definedBy.get(in);
                    if (d == null) {
                        throw bad(where(i) + " reads " + quote(in) + ", which no node, initializer or input defines");
                    }
                    if (d >= i) {
                        throw bad("nodes are not in topological order (or form a cycle): " + where(i) + " reads "
                                + quote(in) + " before " + where(d) + " defines it");
                    }
                }
                consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(i);
            }
        }
        if (!defined.contains(outName) && !definedBy.containsKey(outName)) {
            throw bad("graph output " + quote(outName) + " is not defined by any node");
        }
    }

    // ------------------------------------------------------------------ helpers

    /** The node that is the only reader of {@code value} (and it is not a graph output), or −1. */
    private int soleConsumer(String value) {
        if (graphOutputs.contains(value)) {
            return -1;
        }
        List<Integer> c = consumers.get(value);
        return c != null && c.size() == 1 && !consumed[c.get(0)] ? c.get(0) : -1;
    }

    /**
     * How many Conv nodes computing {@code value} from what is known now would take, or {@link Integer#MAX_VALUE} when
     * it cannot be computed yet (or needs more than 64 nodes). A ResNet shortcut takes at most one conv, its main path
     * at least two: so the residual Add fuses into the main path's last conv, as {@link io.reskern.graph.GraphBuilder}
     * does, whichever branch the file lists first.
     */
    private int convsNeeded(String value, int depth, Set<Integer> seen) {
        if (vals.containsKey(value)) {
            return 0;
        }
        Integer p = definedBy.get(value);
        if (p == null || consumed[p] || depth > 32 || seen.size() > 64) {
            return Integer.MAX_VALUE;
        }
        if (!seen.add(p)) {
            return 0;
        }
        int total = op(p).equals("Conv") ? 1 : 0;
        for (String in : g.getNode(p).getInputList()) {
            if (!in.isEmpty()) {
                int c = convsNeeded(in, depth + 1, seen);
                if (c == Integer.MAX_VALUE) {
                    return c;
                }
                total += c;
            }
        }
        return total;
    }

    /**
     * Computes {@code value} now, ahead of file order, when everything it depends on is known (the residual's shortcut
     * branch, when the file lists it after the main path). Returns whether {@code value} is now known.
     */
    private boolean ensure(String value, int depth) throws ReskernException {
        if (vals.containsKey(value)) {
            return true;
        }
        Integer p = definedBy.get(value);
        if (p == null || consumed[p] || depth > 32) {
            return false;
        }
        for (String in : g.getNode(p).getInputList()) {
            if (!in.isEmpty() && !ensure(in, depth + 1) || vals.containsKey(value)) {
                return vals.containsKey(value);
            }
        }
        if (consumed[p] || ensureNesting > 16) {
            return vals.containsKey(value);
        }
        consumed[p] = true;
        ensureNesting++;
        try {
            translate(p);
        } finally {
            ensureNesting--;
        }
        return vals.containsKey(value);
    }

    private String op(int i) {
        return g.getNode(i).getOpType();
    }

    /** Input {@code k} of node {@code i}, or null when it is left out. */
    private String inName(int i, int k) {
        NodeProto n = g.getNode(i);
        return k < n.getInputCount() && !n.getInput(k).isEmpty() ? n.getInput(k) : null;
    }

    private void inputs(int i, int min, int max) throws ReskernException {
        int c = g.getNode(i).getInputCount();
        if (c < min || c > max) {
            throw bad(where(i) + " has " + c + " inputs (expected " + (min == max ? "" + min : min + " to " + max) + ")");
        }
        for (int k = 0; k < min; k++) {
            if (inName(i, k) == null) {
                throw bad(where(i) + ": required input " + k + " is empty");
            }
        }
    }

    /** Outputs with a name. */
    private int namedOutputs(int i) {
        return (int) g.getNode(i).getOutputList().stream().filter(s -> !s.isEmpty()).count();
    }

    private void outputs(int i, int max) throws ReskernException {
        if (g.getNode(i).getOutputCount() > max) {
            throw bad(where(i) + " has " + g.getNode(i).getOutputCount() + " outputs (at most " + max + ")");
        }
    }

    private Val val(String name, int i) throws ReskernException {
        Val v = vals.get(name);
        if (v == null) {
            throw unsupported(where(i) + " reads " + quote(name) + ", an output reskern does not compute");
        }
        return v;
    }

    private Act act(int i, int k) throws ReskernException {
        String name = inName(i, k);
        if (name == null) {
            throw bad(where(i) + ": input " + k + " is missing");
        }
        Val v = val(name, i);
        if (v instanceof Act a) {
            return a;
        }
        if (v instanceof Const) {
            throw unsupported(where(i) + ": input " + quote(name) + " is a constant; reskern runs this operator on activations only");
        }
        if (v instanceof Sym) {
            throw unsupported(where(i) + ": input " + quote(name) + " is computed from an activation's shape (Shape); reskern "
                    + "uses such values only as the target of a Reshape to [N, C]");
        }
        throw unsupported(where(i) + ": input " + quote(name) + " is a Slice/Pad result, which reskern fuses only into "
                + "a following Conv / MaxPool (Pad) or a residual Add (the option-A shortcut)");
    }

    private Tensor cnst(int i, int k, String role) throws ReskernException {
        String name = inName(i, k);
        if (name == null) {
            throw bad(where(i) + ": input " + k + " (" + role + ") is missing");
        }
        Val v = val(name, i);
        if (v instanceof Const c) {
            return c.t();
        }
        throw unsupported(where(i) + ": " + role + " " + quote(name) + " is computed at run time; reskern needs it as an initializer");
    }

    /** Optional constant input, or null. */
    private Tensor optConst(int i, int k, String role) throws ReskernException {
        return inName(i, k) == null ? null : cnst(i, k, role);
    }

    private void define(String name, Val v) {
        if (name != null && !name.isEmpty()) {
            vals.put(name, v);
        }
    }

    /** A unique tensor-name prefix for the reskern op made from node {@code i}. */
    private String prefix(int i) {
        String name = g.getNode(i).getName();
        String p = name.isEmpty() ? op(i) + "_" + i : name;
        if (!prefixes.add(p)) {
            p = p + "#" + i;
            prefixes.add(p);
        }
        return p;
    }

    private static void shape1(Tensor t, long c, String where, String role) throws ReskernException {
        if (t.rank() != 1 || t.dims[0] != c) {
            throw bad(where + ": " + role + " " + quote(t.name) + " has shape " + Arrays.toString(t.dims) + ", expected [" + c + "]");
        }
    }

    // ------------------------------------------------------------------ operators

    private void translate(int i) throws ReskernException {
        NodeProto n = g.getNode(i);
        String op = n.getOpType();
        if (Fold.OPS.contains(op) && allConst(i)) {
            outputs(i, 1);
            List<Tensor> in = new ArrayList<>();
            for (int k = 0; k < n.getInputCount(); k++) {
                String s = inName(i, k);
                in.add(s == null ? null : ((Const) vals.get(s)).t());
            }
            Tensor t = Fold.eval(n, where(i), in, opset, baseDir);
            countFolded(i, t);
            define(n.getOutput(0), new Const(t));
            return;
        }
        if (Fold.OPS.contains(op) && symbolic(i)) {
            return;
        }
        switch (op) {
            case "Conv" -> conv(i);
            case "BatchNormalization" -> batchNorm(i);
            case "MaxPool" -> maxPool(i);
            case "AveragePool" -> avgPool(i);
            case "GlobalAveragePool" -> globalPool(i);
            case "ReduceMean" -> reduceMean(i);
            case "Flatten" -> flatten(i);
            case "Reshape" -> reshape(i);
            case "Squeeze" -> squeeze(i);
            case "Gemm" -> gemm(i);
            case "MatMul" -> matMul(i);
            case "Identity" -> identity(i);
            case "Dropout" -> dropout(i);
            case "Slice" -> slice(i);
            case "Pad" -> pad(i);
            case "Cast" -> cast(i);
            case "Softmax", "LogSoftmax" -> throw unsupported(where(i) + ": " + op + " (reskern computes up to the logits: export "
                    + "the model without it and apply " + op + " to reskern's output)");
            case "Transpose" -> throw unsupported(where(i) + ": Transpose of an activation" + (inputName.equals(inName(i, 0))
                    ? " (of the image input: an NHWC model? reskern takes NCHW images [N, 3, H, W]; export without the "
                    + "permute and pass NCHW)" : ""));
            case "Relu" -> throw unsupported(where(i) + ": a ReLU that does not follow a Conv, BatchNormalization or "
                    + "residual Add with no other reader cannot be fused" + (afterFc(i) ? " (this one follows a fully connected "
                    + "layer: a head Linear -> ReLU -> Linear; reskern's head is one FC, or FCs without activations)" : ""));
            case "Add" -> throw unsupported(where(i) + ": an Add that is not a residual (a Conv output, with no other "
                    + "reader, plus a value computed before that Conv) or a MatMul bias");
            default -> throw unsupported(where(i) + ": operator " + quote(op) + " is not supported (reskern imports ResNet "
                    + "graphs: Conv, BatchNormalization, Relu, Add, MaxPool, AveragePool, GlobalAveragePool, ReduceMean, "
                    + "Flatten, Reshape, Squeeze, Gemm, MatMul, Pad, Slice, Identity, Dropout, Cast between float types and constant "
                    + "arithmetic)");
        }
    }

    /**
     * Shape of an activation, or shape arithmetic (the folding ops) over such shapes and constants: evaluated in each
     * of the {@link #WORLDS}. Returns false (nothing done) when node {@code i} is not one.
     */
    private boolean symbolic(int i) throws ReskernException {
        NodeProto n = g.getNode(i);
        String w = where(i);
        boolean shapeOfAct = n.getOpType().equals("Shape") && n.getInputCount() == 1 && vals.get(n.getInput(0)) instanceof Act;
        boolean anySym = false;
        for (String s : n.getInputList()) {
            Val v = s.isEmpty() ? null : vals.get(s);
            if (v instanceof Sym) {
                anySym = true;
            } else if (v != null && !(v instanceof Const) && !shapeOfAct) {
                return false;
            }
        }
        if (!shapeOfAct && !anySym) {
            return false;
        }
        outputs(i, 1);
        Tensor[] at = new Tensor[WORLDS.length];
        for (int k = 0; k < WORLDS.length; k++) {
            try {
                if (shapeOfAct) {
                    Act x = (Act) vals.get(n.getInput(0));
                    at[k] = Fold.shape(n, w, actDims(x, WORLDS[k]));
                } else {
                    List<Tensor> in = new ArrayList<>();
                    for (int j = 0; j < n.getInputCount(); j++) {
                        Val v = inName(i, j) == null ? null : vals.get(inName(i, j));
                        in.add(v == null ? null : v instanceof Sym y ? y.at()[k] : ((Const) v).t());
                    }
                    at[k] = Fold.eval(n, w, in, opset, baseDir);
                }
            } catch (ReskernException e) {
                throw unsupported(w + ": shape arithmetic on an activation's run-time shape that reskern cannot follow ("
                        + e.getMessage() + ")");
            }
        }
        for (Tensor t : at) {
            countFolded(i, t);
        }
        define(n.getOutput(0), new Sym(at));
        return true;
    }

    /**
     * Adds a folded result to the import's total: each result is at most {@link Fold#MAX_ELEMENTS}, but without a total
     * a small file of many ConstantOfShape nodes would make the importer allocate gigabytes. Constants from the file
     * and ops that only relabel a tensor (Identity, Reshape, Squeeze, Unsqueeze) do not count.
     */
    private void countFolded(int i, Tensor t) throws ReskernException {
        if (Set.of("Constant", "Identity", "Reshape", "Squeeze", "Unsqueeze").contains(op(i))) {
            return;
        }
        foldedElements += t.elements;
        if (foldedElements > MAX_FOLDED_ELEMENTS) {
            throw unsupported(where(i) + ": constant folding has computed more than " + MAX_FOLDED_ELEMENTS
                    + " elements in all (ResNet exports fold a few hundred)");
        }
    }

    /** An activation's dims with the batch and (unless pooled) spatial sizes of {@code world} = (N, H, W). */
    private long[] actDims(Act x, long[] world) {
        long c = asm.channels(x.id());
        long[] d = new long[x.rank()];
        Arrays.fill(d, 1);
        d[0] = world[0];
        d[1] = c;
        if (x.rank() == 4 && !asm.isPooled(x.id())) {
            d[2] = world[1];
            d[3] = world[2];
        }
        return d;
    }

    /** Whether node {@code i}'s first input is computed by a Gemm or MatMul (or the Add of a MatMul's bias). */
    private boolean afterFc(int i) {
        Integer p = inName(i, 0) == null ? null : definedBy.get(inName(i, 0));
        if (p != null && op(p).equals("Add") && g.getNode(p).getInputCount() == 2) {
            Integer q = definedBy.get(g.getNode(p).getInput(0));
            Integer r = definedBy.get(g.getNode(p).getInput(1));
            p = q != null && op(q).equals("MatMul") ? q : r != null && op(r).equals("MatMul") ? r : p;
        }
        return p != null && (op(p).equals("Gemm") || op(p).equals("MatMul"));
    }

    private boolean allConst(int i) {
        NodeProto n = g.getNode(i);
        for (String s : n.getInputList()) {
            if (!s.isEmpty() && !(vals.get(s) instanceof Const)) {
                return false;
            }
        }
        return n.getInputCount() > 0 || n.getOpType().equals("Constant");
    }

    private void conv(int i) throws ReskernException {
        NodeProto n = g.getNode(i);
        String w = where(i);
        inputs(i, 2, 3);
        outputs(i, 1);
        Val xv = val(inName(i, 0), i);
        int extraPad = 0;
        Act x;
        if (xv instanceof PadView p) {
            if (p.value() != 0f) {
                throw unsupported(w + ": its input is padded with " + p.value() + " (a Conv pads with zeros)");
            }
            x = p.of();
            extraPad = p.pad();
        } else {
            x = act(i, 0);
        }
        if (x.rank() != 4) {
            throw bad(w + ": input " + quote(inName(i, 0)) + " is not 4-D");
        }
        Tensor wt = cnst(i, 1, "weights W");
        Attrs a = Attrs.of(n, w, OnnxOps.CONV_ATTRS);
        OnnxOps.ConvOp c = OnnxOps.conv(a, wt.dims, asm.channels(x.id()));
        int pad = OnnxOps.range((long) c.pad() + extraPad, 0, GraphAssembler.MAX_WINDOW, w, "pads (with the Pad before it)");
        long k = wt.dims[0];
        Tensor bias = optConst(i, 2, "bias B");
        if (bias != null) {
            shape1(bias, k, w, "bias B");
        }
        String p = prefix(i);
        String cur = n.getOutput(0);
        int next = soleConsumer(cur);
        boolean fusesMore = next >= 0 && Set.of("BatchNormalization", "Add", "Relu").contains(op(next));
        if (asm.isPooled(x.id()) && c.kernel() == 1 && c.stride() == 1 && pad == 0 && c.groups() == 1 && !fusesMore) {
            // A 1x1 conv on a pooled value is a fully connected layer (timm's v2 head).
            weights.put(p + ".weight", wt, wt.dims, w + " weights");
            putBias(p, bias, k, w);
            define(cur, new Act(asm.fc(x.id(), (int) k, p), 4, false));
            return;
        }
        String bnName = null;
        double eps = Graph.DEFAULT_BN_EPS;
        if (next >= 0 && op(next).equals("BatchNormalization") && cur.equals(inName(next, 0)) && bnParamsReady(next)) {
            bnName = bnParams(next, k);
            eps = OnnxOps.batchNorm(Attrs.of(g.getNode(next), where(next), OnnxOps.BN_ATTRS), opset, namedOutputs(next));
            consumed[next] = true;
            cur = g.getNode(next).getOutput(0);
            next = soleConsumer(cur);
        }
        int residual = -1;
        Node.Residual mode = Node.Residual.NONE;
        if (next >= 0 && op(next).equals("Add") && g.getNode(next).getInputCount() == 2) {
            NodeProto add = g.getNode(next);
            String other = add.getInput(0).equals(cur) ? add.getInput(1) : add.getInput(1).equals(cur) ? add.getInput(0) : null;
            boolean ready = other != null && !other.equals(cur)
                    && (vals.containsKey(other) || convsNeeded(other, 0, new HashSet<>()) <= 1 && ensure(other, 0));
            Val ov = ready ? vals.get(other) : null;
            if (ov instanceof Act r && r.rank() == 4 && asm.channels(r.id()) == k) {
                residual = r.id();
                mode = Node.Residual.IDENTITY;
            } else if (ov instanceof OptionA r) {
                long rc = asm.channels(r.of().id());
                if (rc + r.before() + r.after() != k || r.before() != (k - rc) / 2) {
                    throw unsupported(where(next) + ": option-A shortcut pads " + rc + " channels by " + r.before() + " + "
                            + r.after() + " to add to " + k + " (reskern splits the zero channels evenly, extra one after)");
                }
                residual = r.of().id();
                mode = Node.Residual.OPTION_A;
            }
            if (residual >= 0) {
                outputs(next, 1);
                Attrs.of(add, where(next), Set.of("broadcast", "axis"));
                consumed[next] = true;
                cur = add.getOutput(0);
                next = soleConsumer(cur);
            }
        }
        boolean relu = false;
        if (next >= 0 && op(next).equals("Relu") && cur.equals(inName(next, 0))) {
            relu = absorbRelu(next);
            cur = g.getNode(next).getOutput(0);
        }
        weights.put(p + ".weight", wt, wt.dims, w + " weights");
        if (bias != null) {
            weights.put(p + ".bias", bias, new long[] {k}, w + " bias");
        }
        if (k > Integer.MAX_VALUE) {
            throw unsupported(w + ": " + k + " output channels");
        }
        int y = asm.conv(x.id(), (int) k, c.kernel(), c.stride(), pad, c.groups(), p, bnName, eps, relu, residual, mode);
        define(cur, new Act(y, 4, relu));
    }

    private boolean absorbRelu(int j) throws ReskernException {
        inputs(j, 1, 1);
        outputs(j, 1);
        Attrs.of(g.getNode(j), where(j), Set.of());
        consumed[j] = true;
        return true;
    }

    private void putBias(String p, Tensor bias, long k, String w) throws ReskernException {
        if (bias != null) {
            weights.put(p + ".bias", bias, new long[] {k}, w + " bias");
        } else {
            weights.putZeros(p + ".bias", k);
        }
    }

    /** Whether BN node {@code j}'s four parameters are already known constants (so it can fold into a conv now). */
    private boolean bnParamsReady(int j) {
        NodeProto n = g.getNode(j);
        if (n.getInputCount() != 5) {
            return false;
        }
        for (int k = 1; k < 5; k++) {
            if (!(vals.get(n.getInput(k)) instanceof Const)) {
                return false;
            }
        }
        return true;
    }

    /** Checks BN node {@code j} (inputs, outputs, parameter shapes [c]) and registers its parameters; returns its prefix. */
    private String bnParams(int j, long c) throws ReskernException {
        String w = where(j);
        inputs(j, 5, 5);
        outputs(j, 5);
        String[] roles = {"scale", "bias B", "input_mean", "input_var"};
        String[] suffix = {".weight", ".bias", ".running_mean", ".running_var"};
        Tensor[] t = new Tensor[4];
        for (int k = 0; k < 4; k++) {
            t[k] = cnst(j, k + 1, roles[k]);
            shape1(t[k], c, w, roles[k]);
        }
        String p = prefix(j);
        for (int k = 0; k < 4; k++) {
            weights.put(p + suffix[k], t[k], new long[] {c}, w + " " + roles[k]);
        }
        return p;
    }

    private void batchNorm(int i) throws ReskernException {
        Act x = act(i, 0);
        long c = asm.channels(x.id());
        String p = bnParams(i, c);
        double eps = OnnxOps.batchNorm(Attrs.of(g.getNode(i), where(i), OnnxOps.BN_ATTRS), opset, namedOutputs(i));
        String cur = g.getNode(i).getOutput(0);
        int next = soleConsumer(cur);
        boolean relu = false;
        if (next >= 0 && op(next).equals("Relu") && cur.equals(inName(next, 0))) {
            relu = absorbRelu(next);
            cur = g.getNode(next).getOutput(0);
        }
        define(cur, new Act(asm.bnRelu(x.id(), p, eps, relu), x.rank(), relu));
    }

    private void maxPool(int i) throws ReskernException {
        NodeProto n = g.getNode(i);
        String w = where(i);
        inputs(i, 1, 1);
        outputs(i, 2);
        boolean indices = n.getOutputCount() > 1 && !n.getOutput(1).isEmpty();
        Val xv = val(inName(i, 0), i);
        int extraPad = 0;
        Act x;
        if (xv instanceof PadView p) {
            boolean negInf = p.value() == Float.NEGATIVE_INFINITY;
            if (!negInf && !(p.value() == 0f && p.of().nonNegative())) {
                throw unsupported(w + ": its input is padded with " + p.value() + " (a MaxPool pads with -inf; zero "
                        + "padding is equivalent only after a ReLU)");
            }
            x = p.of();
            extraPad = p.pad();
        } else {
            x = act(i, 0);
        }
        if (x.rank() != 4) {
            throw bad(w + ": input is not 4-D");
        }
        OnnxOps.MaxPoolOp win = OnnxOps.maxPool(Attrs.of(n, w, OnnxOps.MAXPOOL_ATTRS), indices);
        long pad = (long) win.pad() + extraPad;
        if (2 * pad > win.kernel()) {
            throw unsupported(w + ": padding " + pad + " (with the Pad before it) is more than half the kernel " + win.kernel());
        }
        define(n.getOutput(0), new Act(asm.maxPool(x.id(), win.kernel(), win.stride(), (int) pad, win.ceilMode()), 4,
                x.nonNegative()));
    }

    private void avgPool(int i) throws ReskernException {
        inputs(i, 1, 1);
        outputs(i, 1);
        Act x = act(i, 0);
        if (x.rank() != 4) {
            throw bad(where(i) + ": input is not 4-D");
        }
        OnnxOps.AvgPoolOp a = OnnxOps.avgPool(Attrs.of(g.getNode(i), where(i), OnnxOps.AVGPOOL_ATTRS));
        int y = asm.avgPool(x.id(), a.kernel(), a.stride(), a.ceilMode(), a.countIncludePad());
        avgPoolKernel.put(y, a.kernel());
        define(g.getNode(i).getOutput(0), new Act(y, 4, x.nonNegative()));
    }

    private void globalPool(int i) throws ReskernException {
        inputs(i, 1, 1);
        outputs(i, 1);
        Attrs.of(g.getNode(i), where(i), Set.of());
        Act x = act(i, 0);
        if (x.rank() != 4) {
            throw bad(where(i) + ": input is not 4-D");
        }
        define(g.getNode(i).getOutput(0), new Act(asm.globalAvgPool(x.id()), 4, x.nonNegative()));
    }

    private void reduceMean(int i) throws ReskernException {
        String w = where(i);
        inputs(i, 1, 2);
        outputs(i, 1);
        Attrs a = Attrs.of(g.getNode(i), w, Set.of("axes", "keepdims", "noop_with_empty_axes"));
        Act x = act(i, 0);
        long[] axes = opset < 18 ? a.ints("axes", null) : inName(i, 1) == null ? null : cnst(i, 1, "axes").longs();
        long[] norm = axes == null ? null : Arrays.stream(axes).map(v -> v < 0 ? v + x.rank() : v).sorted().toArray();
        if (x.rank() != 4 || norm == null || !Arrays.equals(norm, new long[] {2, 3})) {
            throw unsupported(w + ": ReduceMean over axes " + (axes == null ? "(all)" : Arrays.toString(axes))
                    + " (only the spatial mean over H, W of an NCHW tensor)");
        }
        boolean keep = a.oneOf("keepdims", 1, 0, 1) == 1;
        define(g.getNode(i).getOutput(0), new Act(asm.globalAvgPool(x.id()), keep ? 4 : 2, x.nonNegative()));
    }

    private Act pooled(int i) throws ReskernException {
        Act x = act(i, 0);
        if (!asm.isPooled(x.id())) {
            int ap = asm.avgPoolBehind(x.id());
            Integer k = ap < 0 ? null : avgPoolKernel.get(ap);
            long h = inputShape.size() == 4 ? inputShape.get(2) : -1;
            long w = inputShape.size() == 4 ? inputShape.get(3) : -1;
            boolean fixedHw = h > 0 && w > 0;
            // A fixed-window AveragePool (F.avg_pool2d(x, x.size(3)) traced) flattened as if it were global: it is
            // global at the input size the file declares, where its window covers its whole input. There it is run as
            // the global pool, and the model refuses any other size (where ONNX Runtime would pool windows).
            // (H, W up to 2^20: a hostile file's huge sizes are not planned)
            if (k != null && fixedHw && h <= 1 << 20 && w <= 1 << 20 && asm.globalAtInputSize(ap, (int) h, (int) w,
                    "its " + k + "x" + k + " AveragePool is the global mean only at the " + h + "x" + w
                    + " input the file declares")) {
                return x;
            }
            throw unsupported(where(i) + ": " + op(i) + " of a spatial tensor (reskern flattens only the 1x1 output of "
                    + "a global pool" + (k == null ? ")" : "; this is a fixed " + k + "x" + k + " AveragePool, global only at "
                    + "one input size (F.avg_pool2d(x, x.size(3)) traced), " + (fixedHw ? "and not at the declared input "
                    + h + "x" + w : "and the file's input H, W are dynamic") + ": write adaptive_avg_pool2d(x, 1) or "
                    + "x.mean((2, 3)), or export with a fixed input size and no dynamic H, W axes)"));
        }
        return x;
    }

    private void flatten(int i) throws ReskernException {
        inputs(i, 1, 1);
        outputs(i, 1);
        Act x = pooled(i);
        int axis = OnnxOps.flattenAxis(Attrs.of(g.getNode(i), where(i), Set.of("axis")), x.rank());
        if (axis != 1) {
            throw unsupported(where(i) + ": Flatten axis " + axis + " (only axis 1: [N, C])");
        }
        define(g.getNode(i).getOutput(0), new Act(x.id(), 2, x.nonNegative()));
    }

    private void reshape(int i) throws ReskernException {
        inputs(i, 2, 2);
        outputs(i, 1);
        Attrs a = Attrs.of(g.getNode(i), where(i), Set.of("allowzero"));
        boolean allowZero = a.i("allowzero", 0) != 0;
        Act x = pooled(i);
        long c = asm.channels(x.id());
        Val sv = val(inName(i, 1), i);
        // The result must be [N, C] (or [N, C, 1, 1]) for every batch size N: try several (shape arithmetic on the
        // activation's shape, x.view(x.size(0), -1), is evaluated at each).
        long[][] targets = new long[WORLDS.length][];
        if (sv instanceof Sym y) {
            for (int k = 0; k < WORLDS.length; k++) {
                targets[k] = y.at()[k].longs();
            }
        } else {
            Arrays.fill(targets, cnst(i, 1, "shape").longs());
        }
        int rank = reshapedRank(x, c, targets, allowZero, i);
        long batch = inputShape.isEmpty() ? -1 : inputShape.get(0);
        if (rank < 0 && !(sv instanceof Sym) && batch > 0 && targets[0].length > 0 && targets[0][0] == batch) {
            // A file exported with a fixed batch B (no dynamic batch axis) reshapes to the constant [B, ...]
            // (x.view(x.size(0), -1) traced at batch B): exact at N = B, and reskern runs any N.
            long[] r = reshapeAt(x, c, batch, targets[0], allowZero, i);
            if (r != null && isFcShape(r, batch, c)) {
                rank = r.length;
            }
        }
        if (rank < 0) {
            String t = sv instanceof Sym y ? "a shape computed from the input's shape (" + Arrays.toString(targets[0])
                    + " at N = " + WORLDS[0][0] + ")" : Arrays.toString(targets[0]);
            throw unsupported(where(i) + ": Reshape of [N, " + c + "] to " + t + " (only to [N, C] for every batch size N)");
        }
        define(g.getNode(i).getOutput(0), new Act(x.id(), rank, x.nonNegative()));
    }

    /** The rank (2 or 4) of {@code x} reshaped to {@code targets[k]} in each world, when that is [N, C] (or [N, C, 1, 1]) in all; else −1. */
    private int reshapedRank(Act x, long c, long[][] targets, boolean allowZero, int i) {
        int rank = -1;
        for (int k = 0; k < WORLDS.length; k++) {
            long[] r = reshapeAt(x, c, WORLDS[k][0], targets[k], allowZero, i);
            if (r == null || !isFcShape(r, WORLDS[k][0], c) || rank >= 0 && r.length != rank) {
                return -1;
            }
            rank = r.length;
        }
        return rank;
    }

    /** {@code x} (pooled) at batch {@code n} reshaped to {@code target}, or null when that fails. */
    private long[] reshapeAt(Act x, long c, long n, long[] target, boolean allowZero, int i) {
        long[] d = new long[x.rank()];
        Arrays.fill(d, 1);
        d[0] = n;
        d[1] = c;
        try {
            return Fold.reshape(d, target, allowZero, where(i));
        } catch (ReskernException e) {
            return null;
        }
    }

    private static boolean isFcShape(long[] r, long n, long c) {
        return Arrays.equals(r, new long[] {n, c}) || Arrays.equals(r, new long[] {n, c, 1, 1});
    }

    private void squeeze(int i) throws ReskernException {
        inputs(i, 1, 2);
        outputs(i, 1);
        Attrs a = Attrs.of(g.getNode(i), where(i), Set.of("axes"));
        Act x = pooled(i);
        long[] axes = opset < 13 ? a.ints("axes", null) : inName(i, 1) == null ? null : cnst(i, 1, "axes").longs();
        if (axes == null) {
            throw unsupported(where(i) + ": Squeeze without axes (x.squeeze()) of [N, C, 1, 1] also drops the batch axis "
                    + "when N = 1; reskern needs the axes (2, 3) or a Flatten (torch.flatten(x, 1))");
        }
        // [N, C, 1, 1] (or [N, C, 1] after one squeeze): only the trailing size-1 axes 2, 3 may go.
        long[] norm = Arrays.stream(axes).map(v -> v < 0 ? v + x.rank() : v).sorted().distinct().toArray();
        boolean ok = norm.length == axes.length && norm.length > 0 && x.rank() > 2;
        for (long v : norm) {
            ok &= v >= 2 && v < x.rank();
        }
        if (!ok) {
            throw unsupported(where(i) + ": Squeeze of axes " + Arrays.toString(axes) + " of a " + x.rank()
                    + "-D [N, C, 1, ...] value (only the size-1 axes after N, C)");
        }
        define(g.getNode(i).getOutput(0), new Act(x.id(), x.rank() - norm.length, x.nonNegative()));
    }

    /** An FC input: pooled, 2-D. */
    private Act fcInput(int i) throws ReskernException {
        Act x = pooled(i);
        if (x.rank() != 2) {
            throw unsupported(where(i) + ": input is [N, C, 1, 1]; " + op(i) + " needs the 2-D [N, C] (Flatten first)");
        }
        return x;
    }

    private void gemm(int i) throws ReskernException {
        String w = where(i);
        inputs(i, 2, 3);
        outputs(i, 1);
        Tensor cT = optConst(i, 2, "C");
        boolean transB = OnnxOps.gemm(Attrs.of(g.getNode(i), w, OnnxOps.GEMM_ATTRS), cT != null);
        Act x = fcInput(i);
        Tensor b = cnst(i, 1, "B");
        if (b.rank() != 2) {
            throw bad(w + ": B has shape " + Arrays.toString(b.dims) + " (must be 2-D)");
        }
        long k = transB ? b.dims[0] : b.dims[1];
        long cin = transB ? b.dims[1] : b.dims[0];
        if (cin != asm.channels(x.id())) {
            throw bad(w + ": B " + Arrays.toString(b.dims) + (transB ? " (transB)" : "") + " takes " + cin
                    + " features, the input has " + asm.channels(x.id()));
        }
        fc(i, x, b, transB, k, cT, w);
    }

    private void fc(int i, Act x, Tensor b, boolean bIsKxC, long k, Tensor bias, String w) throws ReskernException {
        if (k < 1 || k > Integer.MAX_VALUE) {
            throw bad(w + ": " + k + " outputs");
        }
        String p = prefix(i);
        if (bIsKxC) {
            weights.put(p + ".weight", b, b.dims, w + " weights");
        } else {
            weights.putTransposed(p + ".weight", b, w + " weights");
        }
        if (bias == null) {
            weights.putZeros(p + ".bias", k);
        } else if (OnnxOps.fcBias(bias.dims, bias.elements, k, w)) {
            weights.put(p + ".bias", bias, new long[] {k}, w + " bias");
        } else {
            weights.putBroadcast(p + ".bias", bias, k, w + " bias");
        }
        String out = g.getNode(i).getOutput(0);
        define(out, new Act(asm.fc(x.id(), (int) k, p), 2, false));
    }

    private void matMul(int i) throws ReskernException {
        String w = where(i);
        inputs(i, 2, 2);
        outputs(i, 1);
        Attrs.of(g.getNode(i), w, Set.of());
        Act x = fcInput(i);
        Tensor b = cnst(i, 1, "B");
        if (b.rank() != 2 || b.dims[0] != asm.channels(x.id())) {
            throw bad(w + ": B has shape " + Arrays.toString(b.dims) + " for " + asm.channels(x.id()) + " input features");
        }
        long k = b.dims[1];
        String cur = g.getNode(i).getOutput(0);
        int next = soleConsumer(cur);
        Tensor bias = null;
        if (next >= 0 && op(next).equals("Add") && g.getNode(next).getInputCount() == 2) {
            NodeProto add = g.getNode(next);
            String other = add.getInput(0).equals(cur) ? add.getInput(1) : add.getInput(0);
            if (vals.get(other) instanceof Const c && c.t().elements == k && !other.equals(cur)) {
                outputs(next, 1);
                Attrs.of(add, where(next), Set.of("broadcast", "axis"));
                bias = c.t();
                consumed[next] = true;
            }
        }
        fc(i, x, b, false, k, bias, w);
        if (bias != null) {
            define(g.getNode(next).getOutput(0), vals.get(cur));
        }
    }

    private void identity(int i) throws ReskernException {
        inputs(i, 1, 1);
        outputs(i, 1);
        Attrs.of(g.getNode(i), where(i), Set.of());
        define(g.getNode(i).getOutput(0), val(inName(i, 0), i));
    }

    /** Cast of an activation between float types (an fp16 model's input / output casts): reskern computes in fp32. */
    private void cast(int i) throws ReskernException {
        inputs(i, 1, 1);
        outputs(i, 1);
        Attrs a = Attrs.of(g.getNode(i), where(i), Set.of("to", "saturate", "round_mode"));
        long to = a.i("to", 0);
        if (to != (int) to || !Tensor.isFloatType((int) to)) {
            throw unsupported(where(i) + ": Cast of an activation to " + (to == (int) to ? Tensor.typeName((int) to) : "type " + to)
                    + " (only between float types, which reskern computes in fp32)");
        }
        define(g.getNode(i).getOutput(0), act(i, 0));
    }

    private void dropout(int i) throws ReskernException {
        NodeProto n = g.getNode(i);
        inputs(i, 1, 3);
        outputs(i, 2);
        Attrs a = Attrs.of(n, where(i), Set.of("ratio", "seed", "is_test"));
        if (inName(i, 2) != null) {
            Tensor t = cnst(i, 2, "training_mode");
            if (t.elements != 1 || t.longs()[0] != 0) {
                throw unsupported(where(i) + ": training_mode is true (inference only)");
            }
        }
        if (n.getOutputCount() > 1 && !n.getOutput(1).isEmpty() && consumers.containsKey(n.getOutput(1))) {
            throw unsupported(where(i) + ": its mask output is used");
        }
        a.f("ratio", 0.5f);
        define(n.getOutput(0), val(inName(i, 0), i));
    }

    private static final String[] SLICE_INPUTS = {"data", "starts", "ends", "axes", "steps"};

    /** Slice: only {@code x[:, :, ::s, ::s]} of an activation (the option-A shortcut), as one or two Slices. */
    private void slice(int i) throws ReskernException {
        String w = where(i);
        NodeProto n = g.getNode(i);
        outputs(i, 1);
        Attrs a = Attrs.of(n, w, Set.of("starts", "ends", "axes"));
        if (opset < 10) {
            inputs(i, 1, 1);
        } else {
            inputs(i, 3, 5);
        }
        Val xv = val(inName(i, 0), i);
        Act x;
        int hs = 1;
        int ws = 1;
        if (xv instanceof SliceView s) {
            x = s.of();
            hs = s.hStep();
            ws = s.wStep();
        } else {
            x = act(i, 0);
        }
        OnnxOps.SliceArgs sa = OnnxOps.sliceArgs(opset, a,
                k -> k < 3 || inName(i, k) != null ? cnst(i, k, SLICE_INPUTS[k]).longs() : null, w);
        long[] starts = sa.starts();
        long[] ends = sa.ends();
        long[] axes = sa.axes();
        long[] steps = sa.steps();
        if (x.rank() != 4) {
            throw unsupported(w + ": Slice of a " + x.rank() + "-D value");
        }
        for (int k = 0; k < starts.length; k++) {
            long ax = axes == null ? k : axes[k] < 0 ? axes[k] + 4 : axes[k];
            long step = steps == null ? 1 : steps[k];
            boolean whole = starts[k] == 0 && ends[k] >= Integer.MAX_VALUE;
            if (!whole || step < 1 || step > GraphAssembler.MAX_WINDOW || ax < 0 || ax > 3 || ax < 2 && step != 1) {
                throw unsupported(w + ": Slice starts " + starts[k] + " ends " + ends[k] + " axis " + (axes == null ? k : axes[k])
                        + " step " + step + " (reskern supports only x[:, :, ::s, ::s], the option-A shortcut)");
            }
            if (ax == 2) {
                if (hs != 1 && step != 1) {
                    throw unsupported(w + ": height sliced twice");
                }
                hs = (int) Math.max(hs, step);
            } else if (ax == 3) {
                if (ws != 1 && step != 1) {
                    throw unsupported(w + ": width sliced twice");
                }
                ws = (int) Math.max(ws, step);
            }
        }
        define(n.getOutput(0), new SliceView(x, hs, ws));
    }

    /** Pad: constant mode; spatial symmetric (folds into the next Conv/MaxPool) or channel pad of x[:, :, ::2, ::2]. */
    private void pad(int i) throws ReskernException {
        String w = where(i);
        NodeProto n = g.getNode(i);
        outputs(i, 1);
        Attrs a = Attrs.of(n, w, Set.of("mode", "pads", "value"));
        OnnxOps.padMode(a);
        long[] pads;
        float value;
        long[] axes = null;
        if (opset < 11) {
            inputs(i, 1, 1);
            pads = a.ints("pads", null);
            value = a.f("value", 0f);
            if (pads == null) {
                throw bad(w + ": Pad needs pads");
            }
        } else {
            inputs(i, 2, 4);
            pads = cnst(i, 1, "pads").longs();
            Tensor v = optConst(i, 2, "constant_value");
            value = v == null ? 0f : (float) v.scalar();
            axes = inName(i, 3) == null ? null : cnst(i, 3, "axes").longs();
        }
        Val xv = val(inName(i, 0), i);
        int rank = xv instanceof Act ax ? ax.rank() : 4;
        long[] full = new long[2 * rank];
        if (axes == null) {
            if (pads.length != 2 * rank) {
                throw bad(w + ": pads " + Arrays.toString(pads) + " for a " + rank + "-D input (need " + 2 * rank + " values)");
            }
            full = pads;
        } else {
            if (pads.length != 2 * axes.length) {
                throw bad(w + ": pads " + Arrays.toString(pads) + " for axes " + Arrays.toString(axes));
            }
            for (int k = 0; k < axes.length; k++) {
                long ax = axes[k] < 0 ? axes[k] + rank : axes[k];
                if (ax < 0 || ax >= rank) {
                    throw bad(w + ": Pad axis " + axes[k] + " outside the rank " + rank);
                }
                full[(int) ax] = pads[k];
                full[(int) ax + rank] = pads[k + axes.length];
            }
        }
        for (long p : full) {
            if (p < 0 || p > GraphAssembler.MAX_WINDOW) {
                throw unsupported(w + ": pads " + Arrays.toString(full) + " (only 0.." + GraphAssembler.MAX_WINDOW + ")");
            }
        }
        String out = n.getOutput(0);
        if (xv instanceof SliceView s && rank == 4 && s.hStep() == 2 && s.wStep() == 2 && value == 0f
                && full[0] == 0 && full[2] == 0 && full[3] == 0 && full[4] == 0 && full[6] == 0 && full[7] == 0) {
            define(out, new OptionA(s.of(), (int) full[1], (int) full[5]));
            return;
        }
        int sp = OnnxOps.symmetricSpatialPad(full);
        if (xv instanceof Act x && rank == 4 && sp >= 0) {
            define(out, sp == 0 ? x : new PadView(x, sp, value));
            return;
        }
        throw unsupported(w + ": Pad " + Arrays.toString(full) + " with value " + value + " (reskern folds only an equal "
                + "spatial pad into the next Conv or MaxPool, and the channel pad of the option-A shortcut)");
    }
}
