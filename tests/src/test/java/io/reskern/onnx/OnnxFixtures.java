package io.reskern.onnx;

import com.google.protobuf.ByteString;
import io.reskern.io.Half;
import io.reskern.onnx.proto.Onnx.AttributeProto;
import io.reskern.onnx.proto.Onnx.GraphProto;
import io.reskern.onnx.proto.Onnx.ModelProto;
import io.reskern.onnx.proto.Onnx.NodeProto;
import io.reskern.onnx.proto.Onnx.OperatorSetIdProto;
import io.reskern.onnx.proto.Onnx.TensorProto;
import io.reskern.onnx.proto.Onnx.TensorShapeProto;
import io.reskern.onnx.proto.Onnx.TypeProto;
import io.reskern.onnx.proto.Onnx.ValueInfoProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Small ONNX models built with the generated protobuf classes, for the hostile-file and fuzz tests: a valid tiny
 * ResNet-shaped net (Conv+BN+ReLU → Conv+Add+ReLU → MaxPool → GlobalAveragePool → Flatten → Gemm) and ways to break it.
 */
final class OnnxFixtures {
    private OnnxFixtures() {
    }

    static TensorProto floats(String name, Random rnd, long... dims) {
        int n = 1;
        for (long d : dims) {
            n *= (int) d;
        }
        ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.putFloat((float) rnd.nextGaussian() * 0.5f);
        }
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(1).setRawData(ByteString.copyFrom(b.array()));
        for (long d : dims) {
            t.addDims(d);
        }
        return t.build();
    }

    /** Positive values in [0.5, 1.5) (BN variance, scale). */
    static TensorProto positive(String name, Random rnd, long c) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(1).addDims(c);
        for (int i = 0; i < c; i++) {
            t.addFloatData(0.5f + rnd.nextFloat());
        }
        return t.build();
    }

    static TensorProto toHalf(TensorProto f) {
        ByteBuffer in = f.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer out = ByteBuffer.allocate(in.remaining() / 2).order(ByteOrder.LITTLE_ENDIAN);
        while (in.hasRemaining()) {
            out.putShort(Half.floatToHalf(in.getFloat()));
        }
        return f.toBuilder().setDataType(10).setRawData(ByteString.copyFrom(out.array())).build();
    }

    static AttributeProto ints(String name, long... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(7);
        for (long x : v) {
            a.addInts(x);
        }
        return a.build();
    }

    static AttributeProto i(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(2).setI(v).build();
    }

    static AttributeProto f(String name, float v) {
        return AttributeProto.newBuilder().setName(name).setType(1).setF(v).build();
    }

    static NodeProto node(String op, String name, String[] in, String[] out, AttributeProto... attrs) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(name);
        for (String s : in) {
            n.addInput(s);
        }
        for (String s : out) {
            n.addOutput(s);
        }
        for (AttributeProto a : attrs) {
            n.addAttribute(a);
        }
        return n.build();
    }

    static ValueInfoProto tensorInfo(String name, int elemType, Object... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            if (d instanceof String p) {
                s.addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(p));
            } else {
                s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(((Number) d).longValue()));
            }
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(s))).build();
    }

    /** The valid tiny net: 3 → 4 channels, 2 classes, ~1.3 KB. */
    static ModelProto tiny() {
        Random rnd = new Random(42);
        GraphProto.Builder g = GraphProto.newBuilder().setName("tiny");
        g.addInput(tensorInfo("x", 1, "N", 3, "H", "W"));
        g.addOutput(tensorInfo("y", 1, "N", 2));
        g.addInitializer(floats("w1", rnd, 4, 3, 3, 3));
        g.addInitializer(positive("bn.s", rnd, 4));
        g.addInitializer(floats("bn.b", rnd, 4));
        g.addInitializer(floats("bn.m", rnd, 4));
        g.addInitializer(positive("bn.v", rnd, 4));
        g.addInitializer(floats("w2", rnd, 4, 4, 3, 3));
        g.addInitializer(floats("b2", rnd, 4));
        g.addInitializer(floats("fc.w", rnd, 2, 4));
        g.addInitializer(floats("fc.b", rnd, 2));
        AttributeProto k3 = ints("kernel_shape", 3, 3);
        AttributeProto p1 = ints("pads", 1, 1, 1, 1);
        g.addNode(node("Conv", "conv1", new String[] {"x", "w1"}, new String[] {"c1"}, k3, p1, ints("strides", 2, 2)));
        g.addNode(node("BatchNormalization", "bn1", new String[] {"c1", "bn.s", "bn.b", "bn.m", "bn.v"}, new String[] {"b1"},
                f("epsilon", 1e-3f)));
        g.addNode(node("Relu", "relu1", new String[] {"b1"}, new String[] {"r1"}));
        g.addNode(node("Conv", "conv2", new String[] {"r1", "w2", "b2"}, new String[] {"c2"}, k3, p1));
        g.addNode(node("Add", "add", new String[] {"c2", "r1"}, new String[] {"a2"}));
        g.addNode(node("Relu", "relu2", new String[] {"a2"}, new String[] {"r2"}));
        g.addNode(node("MaxPool", "pool", new String[] {"r2"}, new String[] {"m"}, k3, ints("strides", 2, 2), p1));
        g.addNode(node("GlobalAveragePool", "gap", new String[] {"m"}, new String[] {"gp"}));
        g.addNode(node("Flatten", "flat", new String[] {"gp"}, new String[] {"fl"}, i("axis", 1)));
        g.addNode(node("Gemm", "fc", new String[] {"fl", "fc.w", "fc.b"}, new String[] {"y"}, i("transB", 1)));
        return model(g.build(), 13);
    }

    static ModelProto model(GraphProto g, long opset) {
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("reskern-tests")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset)).setGraph(g).build();
    }

    /** The tiny net with one node replaced. */
    static ModelProto withNode(ModelProto m, int index, NodeProto n) {
        return m.toBuilder().setGraph(m.getGraph().toBuilder().setNode(index, n)).build();
    }

    /** The tiny net with one initializer replaced. */
    static ModelProto withInit(ModelProto m, String name, TensorProto t) {
        GraphProto.Builder g = m.getGraph().toBuilder();
        for (int k = 0; k < g.getInitializerCount(); k++) {
            if (g.getInitializer(k).getName().equals(name)) {
                g.setInitializer(k, t);
            }
        }
        return m.toBuilder().setGraph(g).build();
    }

    static Path write(Path dir, String name, ModelProto m) throws Exception {
        Path p = dir.resolve(name);
        Files.write(p, m.toByteArray());
        return p;
    }
}
