package io.reskern.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.reskern.ReskernException;
import io.reskern.TestEnv;
import io.reskern.onnx.proto.Onnx.ModelProto;
import io.reskern.onnx.proto.Onnx.NodeProto;
import io.reskern.onnx.proto.Onnx.OperatorSetIdProto;
import io.reskern.onnx.proto.Onnx.TensorProto;
import io.reskern.onnx.proto.Onnx.ValueInfoProto;
import io.reskern.ops.CpuOpRunner;
import io.reskern.ops.OpCases;
import io.reskern.ops.Reference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * ONNX's own operator tests (Debian libonnx-testdata: node tests and PyTorch-converted operator tests) as the oracle for
 * reskern's translation of each operator: per test folder, the importer's translation of the node ({@link OnnxOps}
 * for the attributes, {@link Fold} for constant nodes) either runs on reskern's CPU ops (NCHW ↔ NHWC transposes here)
 * and matches the expected output to ‖out − ref‖/‖ref‖ < 1e-5, or is rejected with code UNSUPPORTED and a message that
 * names the node and the attribute. {@link #EXPECTED} lists which folder ends which way, so coverage is explicit; the
 * test prints the table (the README's ONNX section summarises it).
 */
class OnnxNodeTest {
    static final Path DATA = Path.of("/usr/share/libonnx-testdata/data");
    static final double TOL = 1e-5;
    static final CpuOpRunner CPU = new CpuOpRunner();

    /** Folder → "ok", or the UNSUPPORTED message fragment expected. */
    static final Map<String, String> EXPECTED = new TreeMap<>(Map.ofEntries(
            // Conv
            Map.entry("node/test_basic_conv_with_padding", "ok"),
            Map.entry("node/test_basic_conv_without_padding", "ok"),
            Map.entry("node/test_conv_with_strides_padding", "ok"),
            Map.entry("node/test_conv_with_strides_no_padding", "ok"),
            Map.entry("node/test_conv_with_strides_and_asymmetric_padding", "pads [1, 0, 1, 0] differ between height and width"),
            Map.entry("node/test_conv_with_autopad_same", "auto_pad = SAME_LOWER"),
            Map.entry("pytorch-converted/test_Conv2d", "kernel_shape [3, 2] is not square"),
            Map.entry("pytorch-converted/test_Conv2d_no_bias", "kernel_shape [3, 2] is not square"),
            Map.entry("pytorch-converted/test_Conv2d_padding", "ok"),
            Map.entry("pytorch-converted/test_Conv2d_strided", "ok"),
            Map.entry("pytorch-converted/test_Conv2d_groups", "is not square"),
            Map.entry("pytorch-converted/test_Conv2d_groups_thnn", "is not square"),
            Map.entry("pytorch-converted/test_Conv2d_depthwise", "ok"),
            Map.entry("pytorch-converted/test_Conv2d_depthwise_padded", "ok"),
            Map.entry("pytorch-converted/test_Conv2d_depthwise_strided", "ok"),
            Map.entry("pytorch-converted/test_Conv2d_depthwise_with_multiplier", "ok"),
            Map.entry("pytorch-converted/test_Conv2d_dilated", "dilations [2, 2]"),
            Map.entry("pytorch-converted/test_Conv1d", "only 2-D convolutions"),
            Map.entry("pytorch-converted/test_Conv3d", "only 2-D convolutions"),
            // BatchNormalization
            Map.entry("node/test_batchnorm_example", "ok"),
            Map.entry("node/test_batchnorm_epsilon", "ok"),
            Map.entry("node/test_batchnorm_example_training_mode", "training_mode = 1"),
            Map.entry("node/test_batchnorm_epsilon_training_mode", "training_mode = 1"),
            Map.entry("pytorch-converted/test_BatchNorm2d_eval", "ok"),
            Map.entry("pytorch-converted/test_BatchNorm2d_momentum_eval", "ok"),
            Map.entry("pytorch-converted/test_BatchNorm1d_3d_input_eval", "ok"),
            Map.entry("pytorch-converted/test_BatchNorm3d_eval", "ok"),
            // MaxPool
            Map.entry("node/test_maxpool_2d_default", "ok"),
            Map.entry("node/test_maxpool_2d_pads", "pads 2 larger than half the kernel 3"),
            Map.entry("node/test_maxpool_2d_strides", "ok"),
            Map.entry("node/test_maxpool_2d_precomputed_pads", "ok"),
            Map.entry("node/test_maxpool_2d_precomputed_strides", "ok"),
            Map.entry("node/test_maxpool_2d_ceil", "ok"),
            Map.entry("node/test_maxpool_2d_dilations", "dilations [2, 2]"),
            Map.entry("node/test_maxpool_2d_same_upper", "auto_pad = SAME_UPPER"),
            Map.entry("node/test_maxpool_2d_same_lower", "auto_pad = SAME_LOWER"),
            Map.entry("node/test_maxpool_2d_precomputed_same_upper", "auto_pad = SAME_UPPER"),
            Map.entry("node/test_maxpool_2d_uint8", "type UINT8"),
            Map.entry("node/test_maxpool_1d_default", "only 2-D windows"),
            Map.entry("node/test_maxpool_3d_default", "only 2-D windows"),
            Map.entry("node/test_maxpool_with_argmax_2d_precomputed_pads", "Indices output"),
            Map.entry("pytorch-converted/test_MaxPool2d", "ok"),
            Map.entry("pytorch-converted/test_MaxPool2d_stride_padding_dilation", "kernel_shape [60, 80] is not square"),
            Map.entry("pytorch-converted/test_MaxPool1d", "only 2-D windows"),
            // AveragePool
            Map.entry("node/test_averagepool_2d_default", "ok"),
            Map.entry("node/test_averagepool_2d_strides", "ok"),
            Map.entry("node/test_averagepool_2d_ceil", "ok"),
            Map.entry("node/test_averagepool_2d_precomputed_strides", "ok"),
            Map.entry("node/test_averagepool_2d_pads", "has no padding"),
            Map.entry("node/test_averagepool_2d_pads_count_include_pad", "has no padding"),
            Map.entry("node/test_averagepool_2d_precomputed_pads", "has no padding"),
            Map.entry("node/test_averagepool_2d_precomputed_pads_count_include_pad", "has no padding"),
            Map.entry("node/test_averagepool_2d_same_upper", "auto_pad = SAME_UPPER"),
            Map.entry("node/test_averagepool_2d_same_lower", "auto_pad = SAME_LOWER"),
            Map.entry("node/test_averagepool_2d_precomputed_same_upper", "auto_pad = SAME_UPPER"),
            Map.entry("node/test_averagepool_1d_default", "only 2-D windows"),
            Map.entry("node/test_averagepool_3d_default", "only 2-D windows"),
            Map.entry("pytorch-converted/test_AvgPool2d", "ok"),
            Map.entry("pytorch-converted/test_AvgPool2d_stride", "ok"),
            // GlobalAveragePool, ReduceMean
            Map.entry("node/test_globalaveragepool", "ok"),
            Map.entry("node/test_globalaveragepool_precomputed", "ok"),
            Map.entry("node/test_reduce_mean_keepdims_random", "only the spatial mean"),
            Map.entry("node/test_reduce_mean_do_not_keepdims_random", "only the spatial mean"),
            // Gemm, MatMul (Linear)
            Map.entry("node/test_gemm_default_no_bias", "ok"),
            Map.entry("node/test_gemm_default_vector_bias", "ok"),
            Map.entry("node/test_gemm_default_scalar_bias", "ok"),
            Map.entry("node/test_gemm_default_single_elem_vector_bias", "ok"),
            Map.entry("node/test_gemm_default_zero_bias", "ok"),
            Map.entry("node/test_gemm_default_matrix_bias", "per-row bias"),
            Map.entry("node/test_gemm_transposeB", "ok"),
            Map.entry("node/test_gemm_transposeA", "transA = 1"),
            Map.entry("node/test_gemm_alpha", "alpha = 0.5"),
            Map.entry("node/test_gemm_beta", "beta = 0.5"),
            Map.entry("node/test_gemm_all_attributes", "transA = 1"),
            Map.entry("pytorch-converted/test_Linear", "ok"),
            Map.entry("pytorch-converted/test_Linear_no_bias", "ok"),
            // Relu, Add
            Map.entry("node/test_relu", "ok"),
            Map.entry("pytorch-converted/test_ReLU", "ok"),
            Map.entry("node/test_add", "ok"),
            Map.entry("node/test_add_bcast", "broadcasting"),
            Map.entry("node/test_add_uint8", "type UINT8"),
            // Flatten: reskern flattens only the 1x1 output of a global pool
            Map.entry("node/test_flatten_axis1", "of a spatial tensor"),
            Map.entry("node/test_flatten_default_axis", "of a spatial tensor"),
            Map.entry("node/test_flatten_axis0", "of a spatial tensor"),
            Map.entry("node/test_flatten_negative_axis1", "of a spatial tensor"),
            // Pad: folded into the next conv only when symmetric, constant, zero
            Map.entry("node/test_constant_pad", "Pad [0, 0, 1, 3, 0, 0, 2, 4] with value 1.2"),
            Map.entry("node/test_edge_pad", "type INT32"),
            Map.entry("node/test_reflect_pad", "type INT32"),
            Map.entry("pytorch-converted/test_ZeroPad2d", "Pad [0, 0, 3, 1, 0, 0, 4, 2] with value 0.0"),
            Map.entry("pytorch-converted/test_ConstantPad2d", "Pad [0, 0, 3, 1, 0, 0, 4, 2] with value 2.0"),
            Map.entry("pytorch-converted/test_ReflectionPad2d", "mode = \"reflect\""),
            Map.entry("pytorch-converted/test_ReplicationPad2d", "mode = \"edge\"")));

    /** A test folder loaded: its one compute node (constant nodes folded), values by name, opset, expected output. */
    record Loaded(NodeProto node, String where, Map<String, Tensor> values, long opset, Tensor expected) {
        Tensor in(int k) {
            return k < node.getInputCount() && !node.getInput(k).isEmpty() ? values.get(node.getInput(k)) : null;
        }
    }

    static Loaded load(Path dir) throws Exception {
        ModelProto m = ModelProto.parseFrom(Files.readAllBytes(dir.resolve("model.onnx")));
        long opset = m.getOpsetImportList().stream().filter(o -> o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx"))
                .mapToLong(OperatorSetIdProto::getVersion).findFirst().orElseThrow();
        Map<String, Tensor> values = new HashMap<>();
        Set<String> consts = new java.util.HashSet<>();
        for (TensorProto t : m.getGraph().getInitializerList()) {
            values.put(t.getName(), Tensor.of(t, null));
            consts.add(t.getName());
        }
        int k = 0;
        Path data = dir.resolve("test_data_set_0");
        for (ValueInfoProto vi : m.getGraph().getInputList()) {
            if (!values.containsKey(vi.getName())) {
                values.put(vi.getName(), Tensor.of(TensorProto.parseFrom(Files.readAllBytes(data.resolve("input_" + k++ + ".pb"))), null));
            }
        }
        Tensor expected = Tensor.of(TensorProto.parseFrom(Files.readAllBytes(data.resolve("output_0.pb"))), null);
        NodeProto compute = null;
        String where = null;
        List<NodeProto> nodes = m.getGraph().getNodeList();
        for (int i = 0; i < nodes.size(); i++) {
            NodeProto n = nodes.get(i);
            String w = "node " + i + " \"" + n.getName() + "\" (\"" + n.getOpType() + "\")";
            boolean allConst = n.getInputList().stream().allMatch(s -> s.isEmpty() || consts.contains(s));
            if (Fold.OPS.contains(n.getOpType()) && allConst && i < nodes.size() - 1) {
                List<Tensor> in = new ArrayList<>();
                for (String s : n.getInputList()) {
                    in.add(s.isEmpty() ? null : values.get(s));
                }
                Tensor t = Fold.eval(n, w, in, opset, null);
                values.put(n.getOutput(0), t);
                consts.add(n.getOutput(0));
            } else {
                if (compute != null) {
                    fail(dir + ": more than one compute node");
                }
                compute = n;
                where = w;
            }
        }
        return new Loaded(compute, where, values, opset, expected);
    }

    static float[] nchwToNhwc(float[] x, int n, int c, int h, int w) {
        float[] y = new float[x.length];
        for (int a = 0; a < n; a++) {
            for (int ch = 0; ch < c; ch++) {
                for (int i = 0; i < h * w; i++) {
                    y[(a * h * w + i) * c + ch] = x[(a * c + ch) * h * w + i];
                }
            }
        }
        return y;
    }

    static float[] nhwcToNchw(float[] y, int n, int c, int h, int w) {
        float[] x = new float[y.length];
        for (int a = 0; a < n; a++) {
            for (int ch = 0; ch < c; ch++) {
                for (int i = 0; i < h * w; i++) {
                    x[(a * c + ch) * h * w + i] = y[(a * h * w + i) * c + ch];
                }
            }
        }
        return x;
    }

    static void requireFloat(Tensor t, String where) throws ReskernException {
        if (t.dtype != Tensor.FLOAT) {
            throw Msg.unsupported(where + ": input of type " + Tensor.typeName(t.dtype) + " (reskern computes in FLOAT)");
        }
    }

    /** Runs the node through reskern's translation and CPU ops; returns the NCHW output. */
    static float[] run(Loaded l) throws ReskernException {
        NodeProto n = l.node();
        String w = l.where();
        Tensor x = l.in(0);
        requireFloat(x, w);
        long[] d = x.dims;
        switch (n.getOpType()) {
            case "Conv": {
                OnnxOps.ConvOp c = OnnxOps.conv(Attrs.of(n, w, OnnxOps.CONV_ATTRS), l.in(1).dims, d[1]);
                int nn = (int) d[0], ci = (int) d[1], h = (int) d[2], wd = (int) d[3];
                int k = (int) l.in(1).dims[0];
                int p = (h + 2 * c.pad() - c.kernel()) / c.stride() + 1;
                int q = (wd + 2 * c.pad() - c.kernel()) / c.stride() + 1;
                float[] krsc = krsc(l.in(1).floats(), k, ci / c.groups(), c.kernel());
                float[] y = CPU.conv(nchwToNhwc(x.floats(), nn, ci, h, wd), nn, h, wd, ci, krsc, k, c.kernel(), c.kernel(),
                        c.stride(), c.pad(), c.pad(), c.groups(), null, l.in(2) == null ? null : l.in(2).floats(), null, 0, 0, 0,
                        0, false, p, q);
                return nhwcToNchw(y, nn, k, p, q);
            }
            case "BatchNormalization": {
                double eps = OnnxOps.batchNorm(Attrs.of(n, w, OnnxOps.BN_ATTRS), l.opset(),
                        (int) n.getOutputList().stream().filter(s -> !s.isEmpty()).count());
                int c = (int) d[1];
                float[] g = l.in(1).floats(), b = l.in(2).floats(), mu = l.in(3).floats(), var = l.in(4).floats();
                float[] scale = new float[c];
                float[] shift = new float[c];
                for (int i = 0; i < c; i++) { // the same fold as FoldedWeights (float64)
                    double s = g[i] / Math.sqrt((double) var[i] + eps);
                    scale[i] = (float) s;
                    shift[i] = (float) (b[i] - mu[i] * s);
                }
                int nn = (int) d[0];
                int hw = (int) (x.elements / nn / c);
                float[] y = CPU.bnRelu(nchwToNhwc(x.floats(), nn, c, hw, 1), nn * hw, c, scale, shift, false);
                return nhwcToNchw(y, nn, c, hw, 1);
            }
            case "MaxPool": {
                OnnxOps.MaxPoolOp win = OnnxOps.maxPool(Attrs.of(n, w, OnnxOps.MAXPOOL_ATTRS),
                        n.getOutputCount() > 1 && !n.getOutput(1).isEmpty());
                int nn = (int) d[0], c = (int) d[1], h = (int) d[2], wd = (int) d[3];
                int p = win.ceilMode() ? OpCases.ceilModeOut(h, win.kernel(), win.stride(), win.pad())
                        : (h + 2 * win.pad() - win.kernel()) / win.stride() + 1;
                int q = win.ceilMode() ? OpCases.ceilModeOut(wd, win.kernel(), win.stride(), win.pad())
                        : (wd + 2 * win.pad() - win.kernel()) / win.stride() + 1;
                float[] y = CPU.maxPool(nchwToNhwc(x.floats(), nn, c, h, wd), nn, h, wd, c, win.kernel(), win.kernel(),
                        win.stride(), win.pad(), win.pad(), p, q);
                return nhwcToNchw(y, nn, c, p, q);
            }
            case "AveragePool": {
                OnnxOps.AvgPoolOp a = OnnxOps.avgPool(Attrs.of(n, w, OnnxOps.AVGPOOL_ATTRS));
                int nn = (int) d[0], c = (int) d[1], h = (int) d[2], wd = (int) d[3];
                int p = poolOut(h, a);
                int q = poolOut(wd, a);
                float[] y = CPU.avgPool(nchwToNhwc(x.floats(), nn, c, h, wd), nn, h, wd, c, a.kernel(), a.kernel(), a.stride(),
                        0, 0, a.countIncludePad(), p, q);
                return nhwcToNchw(y, nn, c, p, q);
            }
            case "GlobalAveragePool": {
                Attrs.of(n, w, Set.of());
                int nn = (int) d[0], c = (int) d[1], h = (int) d[2], wd = (int) d[3];
                return CPU.globalAvgPool(nchwToNhwc(x.floats(), nn, c, h, wd), nn, h * wd, c);
            }
            case "ReduceMean": {
                Attrs a = Attrs.of(n, w, Set.of("axes", "keepdims", "noop_with_empty_axes"));
                long[] axes = a.ints("axes", null);
                if (d.length != 4 || axes == null || !Arrays.equals(Arrays.stream(axes).map(v -> v < 0 ? v + 4 : v).sorted().toArray(),
                        new long[] {2, 3})) {
                    throw Msg.unsupported(w + ": ReduceMean over axes " + Arrays.toString(axes) + " of " + Arrays.toString(d)
                            + " (only the spatial mean over H, W of an NCHW tensor)");
                }
                int nn = (int) d[0], c = (int) d[1], h = (int) d[2], wd = (int) d[3];
                return CPU.globalAvgPool(nchwToNhwc(x.floats(), nn, c, h, wd), nn, h * wd, c);
            }
            case "Gemm": case "MatMul": {
                boolean gemm = n.getOpType().equals("Gemm");
                Tensor c = gemm ? l.in(2) : null;
                boolean transB = gemm && OnnxOps.gemm(Attrs.of(n, w, OnnxOps.GEMM_ATTRS), c != null);
                Tensor b = l.in(1);
                int m = (int) d[0];
                int kin = (int) d[1];
                int k = (int) (transB ? b.dims[0] : b.dims[1]);
                float[] wt = transB ? b.floats() : transpose(b.floats(), kin, k);
                float[] bias = null;
                if (c != null) {
                    bias = OnnxOps.fcBias(c.dims, c.elements, k, w) ? c.floats() : filled(k, c.floats()[0]);
                }
                return CPU.fc(x.floats(), m, kin, wt, bias, k);
            }
            case "Relu": {
                Attrs.of(n, w, Set.of());
                float[] ones = filled(1, 1f);
                return CPU.bnRelu(x.floats(), (int) x.elements, 1, ones, new float[1], true);
            }
            case "Add": {
                Tensor b = l.in(1);
                requireFloat(b, w);
                if (!Arrays.equals(x.dims, b.dims)) {
                    throw Msg.unsupported(w + ": Add of " + Arrays.toString(x.dims) + " and " + Arrays.toString(b.dims)
                            + " with broadcasting (reskern adds a residual of the same shape)");
                }
                return CPU.addRelu(x.floats(), b.floats(), false);
            }
            case "Flatten": {
                int axis = OnnxOps.flattenAxis(Attrs.of(n, w, Set.of("axis")), d.length);
                boolean pooled = d.length == 4 && d[2] == 1 && d[3] == 1 || d.length == 2;
                if (!pooled || axis != 1) {
                    throw Msg.unsupported(w + ": Flatten (axis " + axis + ") of a spatial tensor " + Arrays.toString(d)
                            + " (reskern flattens only the 1x1 output of a global pool)");
                }
                return x.floats();
            }
            case "Pad": {
                Attrs a = Attrs.of(n, w, Set.of("mode", "pads", "value"));
                OnnxOps.padMode(a);
                long[] pads = l.opset() < 11 ? a.ints("pads", null) : l.in(1).longs();
                float value = l.opset() < 11 ? a.f("value", 0f) : l.in(2) == null ? 0f : (float) l.in(2).scalar();
                int p = OnnxOps.symmetricSpatialPad(pads);
                if (p < 0 || value != 0f) {
                    throw Msg.unsupported(w + ": Pad " + Arrays.toString(pads) + " with value " + value + " (reskern folds "
                            + "only an equal spatial zero pad into the next Conv)");
                }
                // What the importer does with it: the next conv reads x with p more zero padding; here a 1x1
                // depthwise identity conv with padding p shows that.
                int nn = (int) d[0], c = (int) d[1], h = (int) d[2], wd = (int) d[3];
                float[] y = CPU.conv(nchwToNhwc(x.floats(), nn, c, h, wd), nn, h, wd, c, filled(c, 1f), c, 1, 1, 1, p, p, c,
                        null, null, null, 0, 0, 0, 0, false, h + 2 * p, wd + 2 * p);
                return nhwcToNchw(y, nn, c, h + 2 * p, wd + 2 * p);
            }
            default:
                throw Msg.unsupported(w + ": operator " + n.getOpType());
        }
    }

    static int poolOut(int in, OnnxOps.AvgPoolOp a) {
        int span = in - a.kernel();
        int out = (a.ceilMode() ? Math.floorDiv(span + a.stride() - 1, a.stride()) : Math.floorDiv(span, a.stride())) + 1;
        if (a.ceilMode() && (out - 1) * a.stride() >= in) {
            out--;
        }
        return out;
    }

    static float[] krsc(float[] w, int k, int cg, int r) {
        float[] out = new float[w.length];
        int rs = r * r;
        for (int o = 0; o < k; o++) {
            for (int ci = 0; ci < cg; ci++) {
                for (int t = 0; t < rs; t++) {
                    out[(o * rs + t) * cg + ci] = w[(o * cg + ci) * rs + t];
                }
            }
        }
        return out;
    }

    static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = a[r * cols + c];
            }
        }
        return t;
    }

    static float[] filled(int n, float v) {
        float[] f = new float[n];
        Arrays.fill(f, v);
        return f;
    }

    @Test
    void operatorTestsRunOrAreRejectedByName() throws Exception {
        TestEnv.require(Files.isDirectory(DATA.resolve("node")), "libonnx-testdata missing in " + DATA
                + " (apt-get install libonnx-testdata)");
        List<String> table = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        int ok = 0;
        int rejected = 0;
        for (Map.Entry<String, String> e : EXPECTED.entrySet()) {
            Path dir = DATA.resolve(e.getKey());
            String verdict;
            try {
                Loaded l = load(dir);
                float[] y = run(l);
                float[] ref = l.expected().floats();
                double err = Reference.relError(y, toDouble(ref));
                verdict = "ok " + String.format("%.1e", err);
                if (!(err < TOL) || y.length != ref.length) {
                    failures.add(e.getKey() + ": rel err " + err);
                }
                if (!e.getValue().equals("ok")) {
                    failures.add(e.getKey() + ": ran, but expected UNSUPPORTED containing '" + e.getValue() + "'");
                }
                ok++;
            } catch (ReskernException ex) {
                verdict = ex.code() + ": " + ex.getMessage();
                if (ex.code() != ReskernException.ErrorCode.UNSUPPORTED || e.getValue().equals("ok")
                        || !ex.getMessage().contains(e.getValue()) || !ex.getMessage().startsWith("node ")) {
                    failures.add(e.getKey() + ": expected " + e.getValue() + ", got " + verdict);
                }
                rejected++;
            }
            table.add(String.format("| %-62s | %s |", e.getKey(), verdict));
        }
        System.out.println("[onnx node tests] " + ok + " run, " + rejected + " rejected");
        table.forEach(System.out::println);
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        assertEquals(EXPECTED.size(), ok + rejected);
    }

    static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
