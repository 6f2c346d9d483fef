package io.reskern.onnx;

import static io.reskern.onnx.OnnxFixtures.floats;
import static io.reskern.onnx.OnnxFixtures.i;
import static io.reskern.onnx.OnnxFixtures.ints;
import static io.reskern.onnx.OnnxFixtures.node;
import static io.reskern.onnx.OnnxFixtures.tensorInfo;
import static io.reskern.onnx.OnnxFixtures.tiny;
import static io.reskern.onnx.OnnxFixtures.withInit;
import static io.reskern.onnx.OnnxFixtures.withNode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import io.reskern.Device;
import io.reskern.Model;
import io.reskern.ReskernException;
import io.reskern.ReskernException.ErrorCode;
import io.reskern.cli.Main;
import io.reskern.graph.Node;
import io.reskern.onnx.proto.Onnx.GraphProto;
import io.reskern.onnx.proto.Onnx.ModelProto;
import io.reskern.onnx.proto.Onnx.NodeProto;
import io.reskern.onnx.proto.Onnx.OperatorSetIdProto;
import io.reskern.onnx.proto.Onnx.StringStringEntryProto;
import io.reskern.onnx.proto.Onnx.TensorProto;
import io.reskern.ops.Reference;
import io.reskern.weights.FoldedWeights;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The importer on hostile and unsupported files: every case must end in a {@link ReskernException} with the documented
 * code (BAD_FILE for malformed files, UNSUPPORTED for valid models reskern cannot run) whose message names the node,
 * the tensor or the attribute; the valid variants (FP16 weights, external data) must run and agree with ONNX Runtime.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OnnxHostileTest {
    @TempDir
    Path dir;

    static ReskernException fails(ErrorCode code, byte[] bytes, String... fragments) {
        ReskernException e = assertThrows(ReskernException.class, () -> {
            OnnxModel m = OnnxImporter.load(bytes, "hostile", null);
            FoldedWeights.load(m.graph(), m.weights());
        });
        assertEquals(code, e.code(), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
        return e;
    }

    static ReskernException fails(ErrorCode code, ModelProto m, String... fragments) {
        return fails(code, m.toByteArray(), fragments);
    }

    static float[] input(int n, int h, int w) {
        Random r = new Random(7);
        float[] x = new float[n * 3 * h * w];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    static float[] ort(Path file, float[] x, long... shape) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(file.toString(), new OrtSession.SessionOptions());
             OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
             OrtSession.Result r = s.run(Map.of("x", in))) {
            FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
            float[] y = new float[fb.remaining()];
            fb.get(y);
            return y;
        }
    }

    static float[] reskern(Path file, float[] x, int n, int h, int w) throws Exception {
        try (Model m = Model.builder().onnx(file).optDevice(Device.CPU).build()) {
            return m.predict(x, n, h, w);
        }
    }

    static double[] d(float[] f) {
        double[] r = new double[f.length];
        for (int k = 0; k < f.length; k++) {
            r[k] = f[k];
        }
        return r;
    }

    @Test
    void tinyNetFusesAndMatchesOrt() throws Exception {
        Path f = OnnxFixtures.write(dir, "tiny.onnx", tiny());
        OnnxModel m = OnnxImporter.load(f);
        assertEquals("tiny", m.graph().name());
        assertEquals(2, m.graph().classes());
        assertEquals(13, m.opset());
        assertEquals(Arrays.asList(-1L, 3L, -1L, -1L), m.inputShape());
        // conv1+bn1+relu1, conv2+add+relu2 (identity residual), maxpool, gap, fc
        assertEquals(5, m.graph().nodes().size(), m.graph().nodes().toString());
        Node.Conv c2 = (Node.Conv) m.graph().nodes().get(1);
        assertEquals(Node.Residual.IDENTITY, c2.residualMode());
        assertTrue(c2.relu());
        assertEquals(1e-3, m.graph().bnEpsilon("bn1"), 1e-9); // the file's epsilon, not the checkpoint default
        float[] x = input(2, 9, 7);
        double e = Reference.relError(reskern(f, x, 2, 9, 7), d(ort(f, x, 2, 3, 9, 7)));
        System.out.printf("[onnx hostile] tiny net vs ORT: %.2e%n", e);
        assertTrue(e < 1e-5, "vs ORT " + e);
    }

    @Test
    void fp16InitializersAreConverted() throws Exception {
        ModelProto m = tiny();
        GraphProto.Builder g = m.getGraph().toBuilder();
        for (int k = 0; k < g.getInitializerCount(); k++) {
            TensorProto t = g.getInitializer(k);
            if (t.hasRawData()) {
                g.setInitializer(k, OnnxFixtures.toHalf(t));
            }
        }
        // ORT needs the graph in FP16 too; compare against the FP32 file instead (weights rounded to FP16 ~ 1e-3).
        Path f16 = OnnxFixtures.write(dir, "tiny16.onnx", m.toBuilder().setGraph(g).build());
        Path f32 = OnnxFixtures.write(dir, "tiny32.onnx", m);
        float[] x = input(1, 8, 8);
        double e = Reference.relError(reskern(f16, x, 1, 8, 8), d(reskern(f32, x, 1, 8, 8)));
        assertTrue(e < 5e-3, "fp16 vs fp32 weights " + e);
    }

    /** {@code t} (FLOAT, raw or float_data) rounded to FP16: as FLOAT16 (half = true) or back in FLOAT. */
    static TensorProto rounded(TensorProto t, boolean half) {
        java.nio.ByteBuffer in = t.hasRawData() ? t.getRawData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN) : null;
        int n = in != null ? in.remaining() / 4 : t.getFloatDataCount();
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(n * (half ? 2 : 4)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int k = 0; k < n; k++) {
            short h = io.reskern.io.Half.floatToHalf(in != null ? in.getFloat() : t.getFloatData(k));
            if (half) {
                out.putShort(h);
            } else {
                out.putFloat(io.reskern.io.Half.halfToFloat(h));
            }
        }
        return t.toBuilder().clearFloatData().setDataType(half ? 10 : 1).setRawData(ByteString.copyFrom(out.array())).build();
    }

    @Test
    void halfModelsRunInFp32() throws Exception {
        // What model.half() exports: FLOAT16 input, weights and output. ORT's CPU kernels do not all run FP16, so the
        // reference is ORT on the FP32 file holding the same FP16-rounded weights (reskern computes in fp32).
        ModelProto m = tiny();
        GraphProto.Builder h = m.getGraph().toBuilder();
        GraphProto.Builder r = m.getGraph().toBuilder();
        for (int k = 0; k < h.getInitializerCount(); k++) {
            h.setInitializer(k, rounded(h.getInitializer(k), true));
            r.setInitializer(k, rounded(r.getInitializer(k), false));
        }
        h.setInput(0, tensorInfo("x", 10, "N", 3, "H", "W")).setOutput(0, tensorInfo("y", 10, "N", 2));
        Path f16 = OnnxFixtures.write(dir, "half.onnx", m.toBuilder().setGraph(h).build());
        Path ref = OnnxFixtures.write(dir, "rounded32.onnx", m.toBuilder().setGraph(r).build());
        float[] x = input(2, 9, 7);
        float[] want = ort(ref, x, 2, 3, 9, 7);
        double e = Reference.relError(reskern(f16, x, 2, 9, 7), d(want));
        System.out.printf("[onnx hostile] model.half()-style file vs ORT on its FP32 twin: %.2e%n", e);
        assertTrue(e < 1e-5, "half model " + e);
        // FP16 weights between input and output Casts (a float16 conversion that keeps FLOAT I/O).
        GraphProto.Builder c = h.clone().setInput(0, tensorInfo("x", 1, "N", 3, "H", "W")).setOutput(0, tensorInfo("y", 1, "N", 2));
        for (int k = 0; k < c.getNodeCount(); k++) {
            NodeProto.Builder nb = c.getNode(k).toBuilder();
            for (int j = 0; j < nb.getInputCount(); j++) {
                if (nb.getInput(j).equals("x")) {
                    nb.setInput(j, "x16");
                }
            }
            for (int j = 0; j < nb.getOutputCount(); j++) {
                if (nb.getOutput(j).equals("y")) {
                    nb.setOutput(j, "y16");
                }
            }
            c.setNode(k, nb);
        }
        c.addNode(0, node("Cast", "cast_in", new String[] {"x"}, new String[] {"x16"}, i("to", 10)));
        c.addNode(node("Cast", "cast_out", new String[] {"y16"}, new String[] {"y"}, i("to", 1)));
        Path fc = OnnxFixtures.write(dir, "casts.onnx", m.toBuilder().setGraph(c).build());
        double ec = Reference.relError(reskern(fc, x, 2, 9, 7), d(want));
        assertTrue(ec < 1e-5, "half model with casts " + ec);
        // A Cast of an activation to an integer type is not a precision change: refused by name.
        GraphProto.Builder bad = c.clone().setNode(0, node("Cast", "cast_int", new String[] {"x"}, new String[] {"x16"}, i("to", 7)));
        fails(ErrorCode.UNSUPPORTED, m.toBuilder().setGraph(bad).build(), "\"cast_int\"", "INT64");
    }

    @Test
    void manySmallFoldsAreBounded() {
        // 19,000 ConstantOfShape nodes of 65,536 elements each: a ~1 MB file that made the importer allocate ~5 GB
        // (OutOfMemoryError) before folding had a total budget.
        ModelProto m = tiny();
        GraphProto.Builder g = m.getGraph().toBuilder();
        g.addInitializer(TensorProto.newBuilder().setName("bomb.shape").setDataType(7).addDims(1).addInt64Data(65536));
        for (int k = 0; k < 19_000; k++) {
            g.addNode(0, node("ConstantOfShape", "bomb" + k, new String[] {"bomb.shape"}, new String[] {"bomb.out" + k}));
        }
        ModelProto bomb = m.toBuilder().setGraph(g).build();
        assertTrue(bomb.getSerializedSize() < 2 << 20, "file size " + bomb.getSerializedSize());
        fails(ErrorCode.UNSUPPORTED, bomb, "ConstantOfShape", "constant folding has computed more than");
    }

    @Test
    void externalDataInsideTheFolderLoads() throws Exception {
        ModelProto m = tiny();
        TensorProto w2 = m.getGraph().getInitializerList().stream().filter(t -> t.getName().equals("w2")).findFirst().orElseThrow();
        byte[] raw = w2.getRawData().toByteArray();
        byte[] file = new byte[16 + raw.length];
        System.arraycopy(raw, 0, file, 16, raw.length);
        Files.createDirectories(dir.resolve("data"));
        Files.write(dir.resolve("data/w.bin"), file);
        Path f = OnnxFixtures.write(dir, "ext.onnx", withInit(m, "w2", external(w2, "data/w.bin", 16, raw.length)));
        float[] x = input(1, 8, 8);
        double e = Reference.relError(reskern(f, x, 1, 8, 8), d(ort(f, x, 1, 3, 8, 8)));
        assertTrue(e < 1e-5, "external data vs ORT " + e);
    }

    static TensorProto external(TensorProto t, String location, long offset, long length) {
        return t.toBuilder().clearRawData().setDataLocation(1)
                .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue(location))
                .addExternalData(StringStringEntryProto.newBuilder().setKey("offset").setValue("" + offset))
                .addExternalData(StringStringEntryProto.newBuilder().setKey("length").setValue("" + length)).build();
    }

    @Test
    void externalDataOutsideTheFolderIsRefused() throws Exception {
        ModelProto m = tiny();
        TensorProto w2 = m.getGraph().getInitializerList().stream().filter(t -> t.getName().equals("w2")).findFirst().orElseThrow();
        Path inner = Files.createDirectories(dir.resolve("model"));
        Files.write(dir.resolve("secret.bin"), new byte[1 << 12]);
        for (String[] c : new String[][] {{"../secret.bin", "leaves the model's folder"},
                {dir.resolve("secret.bin").toString(), "must be relative"}, {"missing.bin", "not found"},
                {"sub/../../secret.bin", "leaves the model's folder"}}) {
            Path f = OnnxFixtures.write(inner, "m.onnx", withInit(m, "w2", external(w2, c[0], 0, 576)));
            ReskernException e = assertThrows(ReskernException.class, () -> OnnxImporter.load(f));
            assertEquals(ErrorCode.BAD_FILE, e.code(), e.getMessage());
            assertTrue(e.getMessage().contains(c[1]) && e.getMessage().contains("\"w2\""), e.getMessage());
        }
        Files.createSymbolicLink(inner.resolve("link.bin"), dir.resolve("secret.bin"));
        Path f = OnnxFixtures.write(inner, "m.onnx", withInit(m, "w2", external(w2, "link.bin", 0, 576)));
        ReskernException e = assertThrows(ReskernException.class, () -> OnnxImporter.load(f));
        assertTrue(e.code() == ErrorCode.BAD_FILE && e.getMessage().contains("link"), e.getMessage());
        Files.write(inner.resolve("short.bin"), new byte[100]);
        Path g = OnnxFixtures.write(inner, "m2.onnx", withInit(m, "w2", external(w2, "short.bin", 0, 576)));
        e = assertThrows(ReskernException.class, () -> OnnxImporter.load(g));
        assertTrue(e.code() == ErrorCode.BAD_FILE && e.getMessage().contains("beyond the end"), e.getMessage());
        // From memory (no folder), external data is refused as unsupported
        fails(ErrorCode.UNSUPPORTED, withInit(m, "w2", external(w2, "w.bin", 0, 576)), "external data");
    }

    @Test
    void notProtobufAndTruncations() {
        fails(ErrorCode.BAD_FILE, "hello, I am not an ONNX file\n".getBytes(StandardCharsets.UTF_8), "hostile");
        fails(ErrorCode.BAD_FILE, new byte[0], "no graph");
        fails(ErrorCode.BAD_FILE, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f}, "not an ONNX model");
        byte[] good = tiny().toByteArray();
        int bad = 0;
        for (int len = 1; len < good.length; len += 7) {
            byte[] cut = Arrays.copyOf(good, len);
            ReskernException e = assertThrows(ReskernException.class, () -> {
                OnnxModel m = OnnxImporter.load(cut, "cut", null);
                FoldedWeights.load(m.graph(), m.weights());
            }, "truncated to " + len);
            assertTrue(e.code() == ErrorCode.BAD_FILE || e.code() == ErrorCode.UNSUPPORTED, e.toString());
            bad += e.code() == ErrorCode.BAD_FILE ? 1 : 0;
        }
        assertTrue(bad > 0);
    }

    @Test
    void badTensors() {
        ModelProto m = tiny();
        Random rnd = new Random(1);
        TensorProto w1 = floats("w1", rnd, 4, 3, 3, 3);
        fails(ErrorCode.BAD_FILE, withInit(m, "w1", w1.toBuilder().setDims(0, -4).build()), "\"w1\"", "negative dimension");
        fails(ErrorCode.BAD_FILE, withInit(m, "w1", w1.toBuilder().setDims(0, 1L << 40).setDims(1, 1L << 40).build()),
                "\"w1\"", "more than");
        fails(ErrorCode.BAD_FILE, withInit(m, "w1", w1.toBuilder().setDims(0, 5).build()), "\"w1\"", "raw_data");
        fails(ErrorCode.BAD_FILE, withInit(m, "w1", w1.toBuilder().setRawData(ByteString.copyFrom(new byte[3])).build()),
                "\"w1\"", "needs 432 bytes of raw_data, has 3");
        fails(ErrorCode.BAD_FILE, withInit(m, "w1", w1.toBuilder().clearRawData().addFloatData(1f).build()), "needs 108 values, has 1");
        fails(ErrorCode.UNSUPPORTED, withInit(m, "w1", w1.toBuilder().setDataType(8).build()), "STRING");
        fails(ErrorCode.UNSUPPORTED, withInit(m, "w1", w1.toBuilder().setDataType(7)
                .setRawData(ByteString.copyFrom(new byte[108 * 8])).build()), "\"w1\"", "INT64", "weights must be FLOAT");
        fails(ErrorCode.BAD_FILE, withInit(m, "w1", w1.toBuilder().setDataLocation(7).build()), "data_location 7");
        // weights of the wrong shape for the input channels
        fails(ErrorCode.BAD_FILE, withInit(m, "w1", floats("w1", rnd, 4, 2, 3, 3)), "conv1", "input channels");
        fails(ErrorCode.BAD_FILE, withInit(m, "bn.v", floats("bn.v", rnd, 5)), "bn1", "input_var", "[4]");
        // a BN variance that is not one
        fails(ErrorCode.BAD_FILE, withInit(m, "bn.v", OnnxFixtures.floats("bn.v", new Random(3), 4).toBuilder()
                .setRawData(ByteString.copyFrom(new byte[] {0, 0, (byte) 0x80, (byte) 0xbf, 0, 0, (byte) 0x80, (byte) 0xbf,
                        0, 0, (byte) 0x80, (byte) 0xbf, 0, 0, (byte) 0x80, (byte) 0xbf})).build()), "running_var", "is not a variance");
    }

    @Test
    void badGraphs() {
        ModelProto m = tiny();
        // missing initializer
        GraphProto.Builder g = m.getGraph().toBuilder();
        g.removeInitializer(0);
        fails(ErrorCode.BAD_FILE, m.toBuilder().setGraph(g).build(), "conv1", "\"w1\"", "no node, initializer or input defines");
        // cycle: relu1 reads the output of a later node
        fails(ErrorCode.BAD_FILE, withNode(m, 2, node("Relu", "relu1", new String[] {"r2"}, new String[] {"r1"})),
                "not in topological order (or form a cycle)", "relu1");
        // unsorted nodes
        GraphProto.Builder u = m.getGraph().toBuilder();
        u.setNode(0, m.getGraph().getNode(1)).setNode(1, m.getGraph().getNode(0));
        fails(ErrorCode.BAD_FILE, m.toBuilder().setGraph(u).build(), "not in topological order");
        // SSA: a value defined twice
        fails(ErrorCode.BAD_FILE, withNode(m, 2, node("Relu", "relu1", new String[] {"b1"}, new String[] {"c1"})),
                "\"c1\" is defined twice");
        // a residual Add of tensors of different sizes (conv2 strided, r1 not): found by planning at import
        fails(ErrorCode.BAD_FILE, withNode(m, 3, m.getGraph().getNode(3).toBuilder().addAttribute(ints("strides", 2, 2)).build()),
                "residual shape mismatch", "conv2");
        // no opset / graph / output
        fails(ErrorCode.BAD_FILE, m.toBuilder().clearOpsetImport().build(), "no opset_import");
        fails(ErrorCode.BAD_FILE, m.toBuilder().clearGraph().build(), "no graph");
        fails(ErrorCode.BAD_FILE, m.toBuilder().setGraph(m.getGraph().toBuilder().clearOutput()).build(), "no output");
        fails(ErrorCode.BAD_FILE, withNode(m, 0, m.getGraph().getNode(0).toBuilder().addAttribute(i("group", 1))
                .addAttribute(i("group", 1)).build()), "\"group\" is given twice");
        fails(ErrorCode.BAD_FILE, withNode(m, 0, m.getGraph().getNode(0).toBuilder().addAttribute(
                OnnxFixtures.f("group", 1f)).build()), "\"group\" has type 1, expected INT");
    }

    @Test
    void unsupportedModelsAreNamed() {
        ModelProto m = tiny();
        fails(ErrorCode.UNSUPPORTED, withNode(m, 2, node("Sigmoid", "sig", new String[] {"b1"}, new String[] {"r1"})),
                "node 2 \"sig\" (\"Sigmoid\")", "operator \"Sigmoid\" is not supported");
        fails(ErrorCode.UNSUPPORTED, withNode(m, 0, m.getGraph().getNode(0).toBuilder().addAttribute(ints("dilations", 2, 2))
                .build()), "\"conv1\" (\"Conv\")", "dilations [2, 2]");
        fails(ErrorCode.UNSUPPORTED, withNode(m, 0, m.getGraph().getNode(0).toBuilder().setAttribute(1, ints("pads", 1, 1, 0, 0))
                .build()), "conv1", "pads [1, 1, 0, 0] are asymmetric");
        fails(ErrorCode.UNSUPPORTED, withNode(m, 0, m.getGraph().getNode(0).toBuilder().addAttribute(
                io.reskern.onnx.proto.Onnx.AttributeProto.newBuilder().setName("auto_pad").setType(3)
                        .setS(ByteString.copyFromUtf8("SAME_UPPER"))).build()), "conv1", "auto_pad = SAME_UPPER");
        fails(ErrorCode.UNSUPPORTED, withNode(m, 0, m.getGraph().getNode(0).toBuilder().setAttribute(2, ints("strides", 2, 1))
                .build()), "conv1", "strides [2, 1] are not equal");
        fails(ErrorCode.UNSUPPORTED, withNode(m, 1, m.getGraph().getNode(1).toBuilder().addAttribute(i("training_mode", 1))
                .build()), "\"bn1\" (\"BatchNormalization\")", "training_mode = 1");
        fails(ErrorCode.UNSUPPORTED, withNode(m, 0, m.getGraph().getNode(0).toBuilder().addAttribute(i("frobnicate", 1))
                .build()), "conv1", "\"frobnicate\" is not one reskern knows");
        fails(ErrorCode.UNSUPPORTED, withNode(m, 0, m.getGraph().getNode(0).toBuilder().setDomain("com.microsoft").build()),
                "conv1", "domain \"com.microsoft\"");
        // inputs: a second non-initializer input, an int input, a 1-channel input
        fails(ErrorCode.UNSUPPORTED, m.toBuilder().setGraph(m.getGraph().toBuilder().addInput(tensorInfo("mask", 1, 1))).build(),
                "2 inputs that are not initializers", "\"mask\"");
        fails(ErrorCode.UNSUPPORTED, m.toBuilder().setGraph(m.getGraph().toBuilder().setInput(0, tensorInfo("x", 7, "N", 3, 8, 8)))
                .build(), "\"x\"", "INT64", "FLOAT images");
        fails(ErrorCode.UNSUPPORTED, m.toBuilder().setGraph(m.getGraph().toBuilder().setInput(0, tensorInfo("x", 1, "N", 1, 8, 8)))
                .build(), "1 channels", "3-channel");
        fails(ErrorCode.UNSUPPORTED, m.toBuilder().clearOpsetImport().addOpsetImport(OperatorSetIdProto.newBuilder()
                .setVersion(99)).build(), "opset 99");
        fails(ErrorCode.UNSUPPORTED, m.toBuilder().setGraph(m.getGraph().toBuilder().addOutput(tensorInfo("c1", 1))).build(),
                "2 outputs");
        // the logits must come out of a pool + FC: cut the graph after conv2
        fails(ErrorCode.UNSUPPORTED, m.toBuilder().setGraph(m.getGraph().toBuilder().setOutput(0, tensorInfo("r2", 1))).build(),
                "\"r2\" is not the logits");
    }

    @Test
    void cliReportsOnnxErrorsOnOneLine() throws Exception {
        Path bad = dir.resolve("bad.onnx");
        Files.writeString(bad, "garbage");
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int rc1;
        int rc2;
        int rc3;
        try {
            rc1 = Main.execute("bench", "--onnx", bad.toString(), "--batch", "1", "--device", "cpu");
            rc2 = Main.execute("bench", "--onnx", bad.toString(), "--model", "resnet18", "--batch", "1");
            rc3 = Main.execute("bench", "--batch", "1");
        } finally {
            System.setErr(old);
        }
        String s = err.toString(StandardCharsets.UTF_8);
        assertTrue(rc1 != 0 && rc2 != 0 && rc3 != 0, s);
        assertTrue(s.contains("reskern: error: ") && s.contains("bad.onnx") && s.contains("not an ONNX model"), s);
        assertTrue(s.contains("does not combine with --model"), s);
        assertTrue(s.contains("--model NAME or --onnx FILE is required"), s);
        assertTrue(s.lines().noneMatch(l -> l.startsWith("\tat ")), "no stack trace: " + s);
    }

    /** The fuzz seeds are valid models that exercise every import path; each must agree with ONNX Runtime. */
    @Test
    void fuzzSeedsImportAndMatchOrt() throws Exception {
        Path seeds = Path.of("src/test/resources/io/reskern/fuzz/OnnxFuzzTestInputs/fuzzImport");
        int n = 0;
        try (var files = Files.list(seeds)) {
            for (Path f : files.sorted().toList()) {
                if (f.getFileName().toString().contains("external") || f.getFileName().toString().contains("fp16")) {
                    continue; // external: its data file lives in the fuzz test's folder; fp16: ORT needs an fp16 graph (both tested above)
                }
                Path copy = Files.copy(f, dir.resolve(f.getFileName()));
                float[] x = input(2, 8, 8);
                double e = Reference.relError(reskern(copy, x, 2, 8, 8), d(ort(copy, x, 2, 3, 8, 8)));
                System.out.printf("[onnx hostile] seed %-20s vs ORT %.2e%n", f.getFileName(), e);
                assertTrue(e < 1e-5, f + " vs ORT " + e);
                n++;
            }
        }
        assertTrue(n >= 5, "seeds found: " + n);
    }

    @Test
    void cliBenchOnnx() throws Exception {
        Path f = OnnxFixtures.write(dir, "tiny.onnx", tiny());
        assertEquals(0, Main.execute("bench", "--onnx", f.toString(), "--batch", "2", "--size", "19", "--warmup", "0",
                "--iters", "1", "--seconds", "0", "--device", "cpu", "--json"));
    }

    @Test
    void builderRefusesOnnxWithSpec() {
        assertThrows(IllegalStateException.class, () -> Model.builder().onnx(dir.resolve("x.onnx")).model("resnet18").build());
    }
}
