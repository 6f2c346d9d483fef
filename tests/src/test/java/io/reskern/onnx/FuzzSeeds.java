package io.reskern.onnx;

import static io.reskern.onnx.OnnxFixtures.f;
import static io.reskern.onnx.OnnxFixtures.floats;
import static io.reskern.onnx.OnnxFixtures.i;
import static io.reskern.onnx.OnnxFixtures.ints;
import static io.reskern.onnx.OnnxFixtures.node;
import static io.reskern.onnx.OnnxFixtures.positive;
import static io.reskern.onnx.OnnxFixtures.tensorInfo;

import com.google.protobuf.ByteString;
import io.reskern.io.DType;
import io.reskern.io.FloatTensor;
import io.reskern.io.SafeTensors;
import io.reskern.onnx.proto.Onnx.AttributeProto;
import io.reskern.onnx.proto.Onnx.GraphProto;
import io.reskern.onnx.proto.Onnx.ModelProto;
import io.reskern.onnx.proto.Onnx.TensorProto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Writes the seed corpora of the Jazzer fuzz tests (tests/src/test/resources/io/reskern/fuzz/*Inputs/): small valid
 * ONNX models covering every import path (fusion, option A, v2 head, MatMul, Pad/Slice, constant folding, FP16,
 * external data) and safetensors checkpoints of the fuzz tests' tiny graph. Run once when the seeds should change:
 * {@code java -cp <test classpath> io.reskern.onnx.FuzzSeeds tests/src/test/resources/io/reskern/fuzz}.
 */
public final class FuzzSeeds {
    private FuzzSeeds() {
    }

    static TensorProto ints64(String name, long... v) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(7).addDims(v.length);
        for (long x : v) {
            t.addInt64Data(x);
        }
        return t.build();
    }

    static AttributeProto tensorAttr(String name, TensorProto t) {
        return AttributeProto.newBuilder().setName(name).setType(4).setT(t).build();
    }

    /** v2-style: BN+ReLU, conv, ReduceMean keepdims, 1x1 conv head, Flatten; a Pad folded into the conv. */
    static ModelProto v2() {
        Random r = new Random(5);
        GraphProto.Builder g = GraphProto.newBuilder().setName("v2");
        g.addInput(tensorInfo("x", 1, "N", 3, "H", "W"));
        g.addOutput(tensorInfo("y", 1, "N", 2));
        g.addInitializer(positive("s", r, 3)).addInitializer(floats("b", r, 3)).addInitializer(floats("m", r, 3))
                .addInitializer(positive("v", r, 3)).addInitializer(floats("w", r, 4, 3, 3, 3))
                .addInitializer(floats("hw", r, 2, 4, 1, 1)).addInitializer(floats("hb", r, 2))
                .addInitializer(ints64("pads", 0, 0, 1, 1, 0, 0, 1, 1)).addInitializer(ints64("axes", 2, 3));
        g.addNode(node("BatchNormalization", "norm", new String[] {"x", "s", "b", "m", "v"}, new String[] {"n"}, f("epsilon", 1e-5f)));
        g.addNode(node("Relu", "act", new String[] {"n"}, new String[] {"a"}));
        g.addNode(node("Pad", "pad", new String[] {"a", "pads"}, new String[] {"p"}));
        g.addNode(node("Conv", "conv", new String[] {"p", "w"}, new String[] {"c"}, ints("kernel_shape", 3, 3)));
        g.addNode(node("ReduceMean", "mean", new String[] {"c"}, new String[] {"gm"}, ints("axes", 2, 3), i("keepdims", 1)));
        g.addNode(node("Conv", "head", new String[] {"gm", "hw", "hb"}, new String[] {"h"}));
        g.addNode(node("Flatten", "flat", new String[] {"h"}, new String[] {"y"}));
        return OnnxFixtures.model(g.build(), 13);
    }

    /** CIFAR option A: Slice ::2 on H and W, a channel Pad whose pads come from folded constant arithmetic. */
    static ModelProto optionA() {
        Random r = new Random(6);
        GraphProto.Builder g = GraphProto.newBuilder().setName("optA");
        g.addInput(tensorInfo("x", 1, "N", 3, 8, 8));
        g.addOutput(tensorInfo("y", 1, "N", 3));
        g.addInitializer(floats("w0", r, 4, 3, 3, 3)).addInitializer(floats("b0", r, 4))
                .addInitializer(floats("w1", r, 8, 4, 3, 3)).addInitializer(floats("b1", r, 8))
                .addInitializer(floats("fw", r, 3, 8)).addInitializer(floats("fb", r, 3))
                .addInitializer(ints64("zero", 0)).addInitializer(ints64("big", Long.MAX_VALUE))
                .addInitializer(ints64("ax2", 2)).addInitializer(ints64("ax3", 3)).addInitializer(ints64("two", 2));
        AttributeProto k3 = ints("kernel_shape", 3, 3);
        AttributeProto p1 = ints("pads", 1, 1, 1, 1);
        g.addNode(node("Conv", "conv0", new String[] {"x", "w0", "b0"}, new String[] {"c0"}, k3, p1));
        g.addNode(node("Relu", "relu0", new String[] {"c0"}, new String[] {"r0"}));
        g.addNode(node("Conv", "conv1", new String[] {"r0", "w1", "b1"}, new String[] {"c1"}, k3, p1, ints("strides", 2, 2)));
        g.addNode(node("Slice", "sh", new String[] {"r0", "zero", "big", "ax2", "two"}, new String[] {"s1"}));
        g.addNode(node("Slice", "sw", new String[] {"s1", "zero", "big", "ax3", "two"}, new String[] {"s2"}));
        // pads = reshape(transpose(reverse(reshape(concat([0,0,0,0,2,2], zeros(8 - len)), [-1, 2]))), [-1])
        g.addNode(node("Constant", "k", new String[0], new String[] {"base"}, tensorAttr("value", ints64("base", 0, 0, 0, 0, 2, 2))));
        g.addNode(node("Shape", "shape", new String[] {"base"}, new String[] {"len"}));
        g.addNode(node("Constant", "k8", new String[0], new String[] {"eight"}, tensorAttr("value", ints64("eight", 8))));
        g.addNode(node("Sub", "sub", new String[] {"eight", "len"}, new String[] {"rest"}));
        g.addNode(node("ConstantOfShape", "zeros", new String[] {"rest"}, new String[] {"z"},
                tensorAttr("value", ints64("v", 0))));
        g.addNode(node("Concat", "cat", new String[] {"base", "z"}, new String[] {"cc"}, i("axis", 0)));
        g.addNode(node("Constant", "k2", new String[0], new String[] {"sh2"}, tensorAttr("value", ints64("sh2", -1, 2))));
        g.addNode(node("Reshape", "rs", new String[] {"cc", "sh2"}, new String[] {"m2"}));
        g.addNode(node("Constant", "km1", new String[0], new String[] {"m1"}, tensorAttr("value", ints64("m1", -1))));
        g.addNode(node("Constant", "kmin", new String[0], new String[] {"mn"}, tensorAttr("value", ints64("mn", -Long.MAX_VALUE))));
        g.addNode(node("Slice", "rev", new String[] {"m2", "m1", "mn", "zero", "m1"}, new String[] {"rv"}));
        g.addNode(node("Transpose", "tr", new String[] {"rv"}, new String[] {"t"}, ints("perm", 1, 0)));
        g.addNode(node("Reshape", "flatp", new String[] {"t", "m1"}, new String[] {"pl"}));
        g.addNode(node("Cast", "cast", new String[] {"pl"}, new String[] {"pads"}, i("to", 7)));
        g.addNode(node("Pad", "pad", new String[] {"s2", "pads"}, new String[] {"sc"}, AttributeProto.newBuilder().setName("mode")
                .setType(3).setS(ByteString.copyFromUtf8("constant")).build()));
        g.addNode(node("Add", "add", new String[] {"c1", "sc"}, new String[] {"a"}));
        g.addNode(node("Relu", "relu1", new String[] {"a"}, new String[] {"r1"}));
        g.addNode(node("GlobalAveragePool", "gap", new String[] {"r1"}, new String[] {"g"}));
        g.addNode(node("Constant", "kshape", new String[0], new String[] {"fs"}, tensorAttr("value", ints64("fs", 0, -1))));
        g.addNode(node("Reshape", "flat", new String[] {"g", "fs"}, new String[] {"fl"}));
        g.addNode(node("Dropout", "drop", new String[] {"fl"}, new String[] {"d"}));
        g.addNode(node("Gemm", "fc", new String[] {"d", "fw", "fb"}, new String[] {"y"}, i("transB", 1)));
        return OnnxFixtures.model(g.build(), 13);
    }

    /** v1d shortcut (AveragePool ceil_mode) + MaxPool after a −∞ Pad + MatMul/Add head. */
    static ModelProto v1d() {
        Random r = new Random(7);
        GraphProto.Builder g = GraphProto.newBuilder().setName("v1d");
        g.addInput(tensorInfo("x", 1, "N", 3, "H", "W"));
        g.addOutput(tensorInfo("y", 1, "N", 2));
        g.addInitializer(floats("w0", r, 4, 3, 3, 3)).addInitializer(floats("w1", r, 4, 4, 3, 3))
                .addInitializer(floats("wd", r, 4, 4, 1, 1)).addInitializer(floats("mw", r, 4, 2)).addInitializer(floats("mb", r, 2))
                .addInitializer(ints64("pp", 0, 0, 1, 1, 0, 0, 1, 1));
        TensorProto ninf = TensorProto.newBuilder().setName("ninf").setDataType(1).addFloatData(Float.NEGATIVE_INFINITY).build();
        g.addInitializer(ninf);
        g.addNode(node("Conv", "stem", new String[] {"x", "w0"}, new String[] {"c0"}, ints("kernel_shape", 3, 3), ints("pads", 1, 1, 1, 1)));
        g.addNode(node("Pad", "pinf", new String[] {"c0", "pp", "ninf"}, new String[] {"pd"}));
        g.addNode(node("MaxPool", "pool", new String[] {"pd"}, new String[] {"mp"}, ints("kernel_shape", 3, 3), ints("strides", 2, 2)));
        g.addNode(node("Conv", "c1", new String[] {"mp", "w1"}, new String[] {"y1"}, ints("kernel_shape", 3, 3), ints("pads", 1, 1, 1, 1),
                ints("strides", 2, 2)));
        g.addNode(node("AveragePool", "avg", new String[] {"mp"}, new String[] {"ap"}, ints("kernel_shape", 2, 2), ints("strides", 2, 2),
                i("ceil_mode", 1), i("count_include_pad", 0)));
        g.addNode(node("Conv", "ds", new String[] {"ap", "wd"}, new String[] {"yd"}, ints("kernel_shape", 1, 1)));
        g.addNode(node("Add", "add", new String[] {"y1", "yd"}, new String[] {"s"}));
        g.addNode(node("Relu", "relu", new String[] {"s"}, new String[] {"rs"}));
        g.addNode(node("GlobalAveragePool", "gap", new String[] {"rs"}, new String[] {"gp"}));
        g.addNode(node("Flatten", "flat", new String[] {"gp"}, new String[] {"fl"}));
        g.addNode(node("MatMul", "mm", new String[] {"fl", "mw"}, new String[] {"mo"}));
        g.addNode(node("Add", "bias", new String[] {"mo", "mb"}, new String[] {"y"}));
        return OnnxFixtures.model(g.build(), 13);
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of(args.length > 0 ? args[0] : "tests/src/test/resources/io/reskern/fuzz");
        Path onnx = Files.createDirectories(root.resolve("OnnxFuzzTestInputs/fuzzImport"));
        ModelProto tiny = OnnxFixtures.tiny();
        Files.write(onnx.resolve("tiny.onnx"), tiny.toByteArray());
        GraphProto.Builder half = tiny.getGraph().toBuilder();
        for (int k = 0; k < half.getInitializerCount(); k++) {
            if (half.getInitializer(k).hasRawData()) {
                half.setInitializer(k, OnnxFixtures.toHalf(half.getInitializer(k)));
            }
        }
        Files.write(onnx.resolve("tiny_fp16.onnx"), tiny.toBuilder().setGraph(half).build().toByteArray());
        TensorProto w2 = tiny.getGraph().getInitializerList().stream().filter(t -> t.getName().equals("w2")).findFirst().orElseThrow();
        Files.write(onnx.resolve("tiny_external.onnx"), OnnxFixtures.withInit(tiny, "w2",
                OnnxHostileTest.external(w2, "w.bin", 64, 576)).toByteArray());
        Files.write(onnx.resolve("v2.onnx"), v2().toByteArray());
        Files.write(onnx.resolve("option_a.onnx"), optionA().toByteArray());
        Files.write(onnx.resolve("v1d.onnx"), v1d().toByteArray());
        Files.write(onnx.resolve("opset9_attrs.onnx"), OnnxFixtures.model(tiny.getGraph(), 9).toByteArray());

        Path st = Files.createDirectories(root.resolve("SafeTensorsFuzzTestInputs/fuzzSafeTensors"));
        Random r = new Random(9);
        LinkedHashMap<String, FloatTensor> t = new LinkedHashMap<>();
        t.put("conv1.weight", rnd(r, 4, 3, 3, 3));
        for (String s : new String[] {"weight", "bias", "running_mean", "running_var"}) {
            t.put("bn1." + s, rnd(r, 4));
        }
        t.put("fc.weight", rnd(r, 2, 4));
        t.put("fc.bias", rnd(r, 2));
        SafeTensors.write(st.resolve("tiny_f32.safetensors"), t, DType.F32, Map.of("format", "pt"));
        SafeTensors.write(st.resolve("tiny_f16.safetensors"), t, DType.F16, Map.of());
        SafeTensors.write(st.resolve("tiny_bf16.safetensors"), t, DType.BF16, Map.of());
        LinkedHashMap<String, FloatTensor> more = new LinkedHashMap<>(t);
        more.put("conv1.bias", rnd(r, 4));
        more.put("extra", rnd(r, 1));
        SafeTensors.write(st.resolve("tiny_bias_extra.safetensors"), more, DType.F32, Map.of());
        System.out.println("seeds written under " + root);
    }

    static FloatTensor rnd(Random r, long... shape) {
        int n = 1;
        for (long d : shape) {
            n *= (int) d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = 0.5f + r.nextFloat();
        }
        return new FloatTensor(shape, v);
    }
}
