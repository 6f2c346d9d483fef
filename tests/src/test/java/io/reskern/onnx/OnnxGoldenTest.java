package io.reskern.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.reskern.Device;
import io.reskern.Model;
import io.reskern.ResNetSpec;
import io.reskern.ResNets;
import io.reskern.TestEnv;
import io.reskern.cli.Main;
import io.reskern.graph.Graph;
import io.reskern.graph.GraphBuilder;
import io.reskern.graph.Node;
import io.reskern.io.Npy;
import io.reskern.io.NpyArray;
import io.reskern.ops.Reference;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * ONNX import end to end: torch.onnx exports (tests/golden/make_onnx_goldens.py) of torchvision resnet18 / resnet50 and
 * of golden_models.py's v1c, v1d, v2 and CIFAR option A / B nets, each as a folded (Conv + bias) and an unfolded
 * (Conv + BatchNormalization, F.pad arithmetic kept) file, with seeded random weights whose BN statistics do not
 * normalise, at odd input sizes. reskern's import on the CPU must match PyTorch float64 and ONNX Runtime Java on the
 * same file to ‖out − ref‖/‖ref‖ < 1e-4, and fuse to the same ops as the graph reskern builds from the spec.
 */
class OnnxGoldenTest {
    static final double TOL = 1e-4;

    @TempDir
    Path tmp;

    static Path dir() {
        Path p = TestEnv.goldens().resolve("onnx");
        TestEnv.require(Files.isRegularFile(p.resolve("manifest.json")), "ONNX goldens missing in " + p
                + " (tests/golden/make_onnx_goldens.py makes them; needs python3-onnx)");
        return p;
    }

    static List<JsonObject> cases() throws Exception {
        JsonArray a = JsonParser.parseString(Files.readString(dir().resolve("manifest.json"))).getAsJsonObject()
                .getAsJsonArray("cases");
        List<JsonObject> out = new ArrayList<>();
        for (JsonElement e : a) {
            out.add(e.getAsJsonObject());
        }
        return out;
    }

    /** The reskern spec each case's net corresponds to (for the fusion comparison). */
    static ResNetSpec spec(String c, int classes) {
        String name = c.replaceFirst("^onnx_", "");
        ResNetSpec s;
        if (name.startsWith("cifar_resnet20")) {
            s = ResNets.byName("cifar_resnet20");
            if (name.endsWith("_B")) {
                s = s.withShortcut(ResNetSpec.Shortcut.PROJECTION);
            }
        } else {
            s = ResNets.byName(name);
        }
        return s.withClasses(classes);
    }

    /** Count of each op kind (convs split by residual mode and by BN-fused / bias-only). */
    static Map<String, Integer> opCounts(Graph g) {
        Map<String, Integer> m = new TreeMap<>();
        for (Node n : g.nodes()) {
            String k = n.getClass().getSimpleName();
            if (n instanceof Node.Conv c) {
                k += "/" + c.residualMode() + (c.relu() ? "/relu" : "") + "/k" + c.kernel() + "s" + c.stride() + "g" + c.groups();
            } else if (n instanceof Node.BnRelu b) {
                k += b.relu() ? "/relu" : "";
            }
            m.merge(k, 1, Integer::sum);
        }
        return m;
    }

    @TestFactory
    Stream<DynamicTest> importMatchesPyTorchAndOrt() throws Exception {
        Path d = dir();
        List<DynamicTest> tests = new ArrayList<>();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        for (JsonObject c : cases()) {
            String name = c.get("case").getAsString();
            for (String form : List.of("folded", "bn")) {
                Path file = d.resolve(c.getAsJsonObject("files").get(form).getAsString());
                tests.add(DynamicTest.dynamicTest(name + " " + form, () -> {
                    NpyArray x = Npy.read(d.resolve(c.get("input").getAsString()));
                    NpyArray ref = Npy.read(d.resolve(c.get("expected").getAsString()));
                    long[] s = x.shape();
                    float[] y;
                    try (Model m = Model.builder().onnx(file).optDevice(Device.CPU).build()) {
                        assertNull(m.spec());
                        assertEquals(c.get("classes").getAsInt(), m.classes());
                        // Same fused ops as the graph built from the spec (the residual may sit on the other conv).
                        Graph fromSpec = GraphBuilder.build(spec(name, m.classes()));
                        assertEquals(opCounts(fromSpec), opCounts(m.graph()), "fused ops of " + file.getFileName());
                        if (form.equals("bn")) { // folded files trade each BN's γ, β for a conv bias
                            assertEquals(fromSpec.parameterCount(), m.graph().parameterCount(), "parameter count");
                        }
                        y = m.predict(x.data(), (int) s[0], (int) s[2], (int) s[3]);
                    }
                    double eTorch = Reference.relError(y, toDouble(ref.data()));
                    float[] ort;
                    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
                        so.setIntraOpNumThreads(2);
                        try (OrtSession sess = env.createSession(file.toString(), so);
                             OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x.data()), s);
                             OrtSession.Result r = sess.run(Map.of(sess.getInputNames().iterator().next(), in))) {
                            FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
                            ort = new float[fb.remaining()];
                            fb.get(ort);
                        }
                    }
                    double eOrt = Reference.relError(y, toDouble(ort));
                    double ortTorch = Reference.relError(ort, toDouble(ref.data()));
                    System.out.printf("[onnx golden] %-26s %-6s reskern vs torch f64 %.2e, vs ORT %.2e (ORT vs torch %.2e)%n",
                            name, form, eTorch, eOrt, ortTorch);
                    assertTrue(eTorch < TOL, name + " " + form + ": vs torch ‖out−ref‖/‖ref‖ = " + eTorch);
                    assertTrue(eOrt < TOL, name + " " + form + ": vs ORT ‖out−ref‖/‖ref‖ = " + eOrt);
                }));
            }
        }
        return tests.stream();
    }

    /** {@code reskern run --onnx} on one case: same logits as PyTorch, written as .npy. */
    @Test
    void cliRunOnnx() throws Exception {
        Path d = dir();
        JsonObject c = cases().stream().filter(o -> o.get("case").getAsString().equals("onnx_cifar_resnet20_A")).findFirst()
                .orElseThrow();
        Path out = tmp.resolve("y.npy");
        int rc = Main.execute("run", "--onnx", d.resolve(c.getAsJsonObject("files").get("bn").getAsString()).toString(),
                "--input", d.resolve(c.get("input").getAsString()).toString(), "--output", out.toString(), "--device", "cpu");
        assertEquals(0, rc);
        double e = Reference.relError(Npy.read(out).data(), toDouble(Npy.read(d.resolve(c.get("expected").getAsString())).data()));
        assertTrue(e < TOL, "reskern run --onnx: " + e);
    }

    static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
