package io.reskern.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.reskern.Device;
import io.reskern.Model;
import io.reskern.ReskernException;
import io.reskern.io.Npy;
import io.reskern.io.NpyArray;
import io.reskern.ops.Reference;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The export styles users write (tests/golden/make_onnx_goldens.py {@code VARIANTS}, on a CIFAR ResNet-8): the
 * flatten written as {@code x.view(x.size(0), -1)} (a Shape → Gather → Unsqueeze → Concat → Reshape chain with a
 * dynamic batch; a constant {@code [B, -1]} when exported at a fixed batch B), {@code reshape}, two one-axis Squeezes,
 * at other batch sizes than exported; each must match PyTorch float64 (and ONNX Runtime Java where it can run the
 * input) to ‖out − ref‖/‖ref‖ < 1e-4. The others must be refused with the stated code and a message naming why
 * ({@code x.squeeze()}, a reshape of an un-pooled tensor, an NHWC input, {@code export_params=False}).
 */
class OnnxVariantsTest {
    static final double TOL = 1e-4;

    @TestFactory
    Stream<DynamicTest> exportVariants() throws Exception {
        Path d = OnnxGoldenTest.dir();
        JsonObject man = JsonParser.parseString(Files.readString(d.resolve("manifest.json"))).getAsJsonObject();
        assertTrue(man.has("variants"), "manifest.json has no variants (regenerate the ONNX goldens)");
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonElement e : man.getAsJsonArray("variants")) {
            JsonObject c = e.getAsJsonObject();
            String name = c.get("case").getAsString();
            Path file = d.resolve(c.get("file").getAsString());
            tests.add(DynamicTest.dynamicTest(name, () -> {
                NpyArray x = Npy.read(d.resolve(c.get("input").getAsString()));
                long[] s = x.shape();
                if (!c.get("expect").isJsonPrimitive()) {
                    JsonObject ex = c.getAsJsonObject("expect");
                    ReskernException err = assertThrows(ReskernException.class,
                            () -> Model.builder().onnx(file).optDevice(Device.CPU).build().close(), name);
                    System.out.printf("[onnx variant] %-26s refused: %s%n", name, err.getMessage());
                    assertEquals(ex.get("code").getAsString(), err.code().name(), name + ": " + err.getMessage());
                    assertTrue(err.getMessage().contains(ex.get("message").getAsString()), name + ": " + err.getMessage());
                    return;
                }
                float[] y;
                try (Model m = Model.builder().onnx(file).optDevice(Device.CPU).build()) {
                    y = m.predict(x.data(), (int) s[0], (int) s[2], (int) s[3]);
                }
                double eTorch = Reference.relError(y, OnnxGoldenTest.toDouble(Npy.read(d.resolve(c.get("expected").getAsString())).data()));
                String ortNote = "";
                if (c.get("ort").getAsBoolean()) {
                    OrtEnvironment env = OrtEnvironment.getEnvironment();
                    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
                        so.setIntraOpNumThreads(1);
                        try (OrtSession sess = env.createSession(file.toString(), so);
                             OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x.data()), s);
                             OrtSession.Result r = sess.run(Map.of(sess.getInputNames().iterator().next(), in))) {
                            FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
                            float[] ort = new float[fb.remaining()];
                            fb.get(ort);
                            double eOrt = Reference.relError(y, OnnxGoldenTest.toDouble(ort));
                            ortNote = String.format(", vs ORT %.2e", eOrt);
                            assertTrue(eOrt < TOL, name + ": vs ORT " + eOrt);
                        }
                    }
                }
                System.out.printf("[onnx variant] %-26s batch %d: vs torch f64 %.2e%s%n", name, s[0], eTorch, ortNote);
                assertTrue(eTorch < TOL, name + ": vs torch " + eTorch);
            }));
        }
        return tests.stream();
    }
}
