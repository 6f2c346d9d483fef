package io.reskern.onnx;

import static io.reskern.onnx.OnnxFixtures.i;
import static io.reskern.onnx.OnnxFixtures.node;
import static io.reskern.onnx.OnnxFixtures.tensorInfo;
import static io.reskern.onnx.OnnxFixtures.tiny;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.ReskernException.ErrorCode;
import io.reskern.onnx.proto.Onnx.GraphProto;
import io.reskern.onnx.proto.Onnx.ModelProto;
import io.reskern.onnx.proto.Onnx.NodeProto;
import io.reskern.onnx.proto.Onnx.TensorProto;
import io.reskern.ops.Reference;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The flatten written as {@code x.view(x.size(0), -1)}: the tiny net's Flatten replaced by Shape → Gather →
 * Unsqueeze → Concat → Reshape (with a dynamic batch), or by a Reshape to a constant [B, -1] (a fixed-batch export).
 * Must match ONNX Runtime at several batch sizes; shape arithmetic whose result depends on the run-time H, W (or a
 * constant batch the input does not declare) must be refused, never guessed.
 */
class OnnxShapeChainTest {
    @TempDir
    Path dir;

    static TensorProto longs(String name, long... v) {
        return FuzzSeeds.ints64(name, v);
    }

    static TensorProto scalar(String name, long v) {
        return TensorProto.newBuilder().setName(name).setDataType(7).addInt64Data(v).build();
    }

    /** The tiny net with its Flatten (node 8, gp → fl) replaced by {@code nodes}, plus {@code inits}. */
    static ModelProto withFlatten(ModelProto m, List<NodeProto> nodes, TensorProto... inits) {
        GraphProto.Builder g = m.getGraph().toBuilder();
        assertTrue(g.getNode(8).getOpType().equals("Flatten"));
        g.removeNode(8);
        for (int k = nodes.size() - 1; k >= 0; k--) {
            g.addNode(8, nodes.get(k));
        }
        for (TensorProto t : inits) {
            g.addInitializer(t);
        }
        return m.toBuilder().setGraph(g).build();
    }

    /** Shape(of) → Gather(index) → Unsqueeze(0) → Concat(·, [-1]) → Reshape(gp) → fl. */
    static ModelProto viewChain(String of, long index) {
        return withFlatten(tiny(), List.of(
                node("Shape", "shape", new String[] {of}, new String[] {"s"}),
                node("Gather", "gather", new String[] {"s", "idx"}, new String[] {"n"}, i("axis", 0)),
                node("Unsqueeze", "unsq", new String[] {"n", "ax0"}, new String[] {"n1"}),
                node("Concat", "cat", new String[] {"n1", "minus1"}, new String[] {"shp"}, i("axis", 0)),
                node("Reshape", "reshape", new String[] {"gp", "shp"}, new String[] {"fl"})),
                scalar("idx", index), longs("ax0", 0), longs("minus1", -1));
    }

    void matchesOrt(ModelProto m, String name, int... batches) throws Exception {
        Path f = OnnxFixtures.write(dir, name + ".onnx", m);
        for (int n : batches) {
            float[] x = OnnxHostileTest.input(n, 11, 9);
            double e = Reference.relError(OnnxHostileTest.reskern(f, x, n, 11, 9), OnnxHostileTest.d(OnnxHostileTest.ort(f, x, n, 3, 11, 9)));
            System.out.printf("[onnx shape chain] %s batch %d vs ORT: %.2e%n", name, n, e);
            assertTrue(e < 1e-5, name + " batch " + n + " vs ORT " + e);
        }
    }

    @Test
    void batchFromThePooledShape() throws Exception {
        matchesOrt(viewChain("gp", 0), "view_pooled", 1, 3);
    }

    @Test
    void batchFromAnUnpooledShape() throws Exception {
        matchesOrt(viewChain("m", 0), "view_unpooled", 1, 2); // m: the max pool's output, H and W unknown at import
    }

    @Test
    void heightOfAnUnpooledShapeIsRefused() {
        // Reshape(gp, [H_m, -1]): right only where H_m happens to equal N; must be refused, not guessed.
        OnnxHostileTest.fails(ErrorCode.UNSUPPORTED, viewChain("m", 2), "\"reshape\"", "computed from the input's shape");
    }

    @Test
    void shapeValuesAreNotActivations() {
        // The batch size fed to an operator that needs an activation or an initializer.
        ModelProto m = withFlatten(tiny(), List.of(
                node("Shape", "shape", new String[] {"gp"}, new String[] {"s"}),
                node("Flatten", "flat", new String[] {"gp"}, new String[] {"f0"}, i("axis", 1)),
                node("Relu", "relu_s", new String[] {"s"}, new String[] {"fl_bad"}),
                node("Identity", "id", new String[] {"f0"}, new String[] {"fl"})));
        OnnxHostileTest.fails(ErrorCode.UNSUPPORTED, m, "\"relu_s\"");
    }

    @Test
    void constantBatchOfAFixedBatchExport() throws Exception {
        // x.view(x.size(0), -1) traced without a dynamic batch: Reshape to the constant [2, -1]; the input declares
        // batch 2. Exact at N = 2 (ORT runs only that); reskern runs other batches too.
        ModelProto m = withFlatten(tiny(), List.of(node("Reshape", "reshape", new String[] {"gp", "shp"}, new String[] {"fl"})),
                longs("shp", 2, -1));
        GraphProto.Builder g = m.getGraph().toBuilder().setInput(0, tensorInfo("x", 1, 2, 3, "H", "W"));
        ModelProto fixed = m.toBuilder().setGraph(g).build();
        matchesOrt(fixed, "view_fixed2", 2);
        Path f = OnnxFixtures.write(dir, "view_fixed2.onnx", fixed);
        float[] x2 = OnnxHostileTest.input(2, 11, 9);
        float[] y2 = OnnxHostileTest.reskern(f, x2, 2, 11, 9);
        float[] x1 = java.util.Arrays.copyOf(x2, x2.length / 2);
        float[] y1 = OnnxHostileTest.reskern(f, x1, 1, 11, 9);
        assertTrue(Reference.relError(y1, OnnxHostileTest.d(java.util.Arrays.copyOf(y2, y1.length))) < 1e-6, "batch 1 = first row of batch 2");
        // The same constant with a dynamic batch in the input: [2, -1] is not [N, C] for every N.
        OnnxHostileTest.fails(ErrorCode.UNSUPPORTED, m, "\"reshape\"", "[2, -1]", "every batch size");
    }
}
