package io.reskern.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.reskern.Device;
import io.reskern.Model;
import io.reskern.cli.Main;
import io.reskern.graph.Graph;
import io.reskern.serve.Predictor;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * An ONNX file exported at a fixed H×W (torch.onnx.export with a dummy input, dynamic batch at most) is run at that
 * size by default: the Predictor, classify and bench used 224 for every ONNX file, so a CIFAR net exported at 32×32
 * ran at 224 (logits of an upscaled crop) unless told. Any size still runs.
 */
class OnnxDeclaredSizeTest {
    private static Path file(String name) {
        return OnnxGoldenTest.dir().resolve(name + ".onnx");
    }

    @Test
    void theDeclaredInputSizeIsKeptAndIsOnlyADefault() throws Exception {
        Graph g = OnnxImporter.load(file("onnx_resnet18_folded")).graph(); // declared [batch, 3, 61, 47]
        assertEquals(new Graph.InputSize(61, 47), g.declaredInputSize());
        assertNull(g.fixedInputSize(), "any size runs");
        g.plan(2, 96, 80);
        assertNull(OnnxImporter.load(OnnxGoldenTest.dir().resolve("var_maxpool_ceil.onnx")).graph().declaredInputSize(),
                "dynamic H, W: nothing declared");
    }

    @Test
    void thePredictorDefaultsToTheDeclaredSize() throws Exception {
        try (Predictor p = Predictor.builder(Model.builder().onnx(file("onnx_cifar_resnet20_B_folded")).optDevice(Device.CPU))
                .optWarmup(false).build()) {
            assertEquals(32, p.inputHeight());
            assertEquals(32, p.inputWidth());
        }
        try (Predictor p = Predictor.builder(Model.builder().onnx(file("onnx_resnet18_folded")).optDevice(Device.CPU))
                .optWarmup(false).build()) {
            assertEquals(61, p.inputHeight());
            assertEquals(47, p.inputWidth());
        }
        try (Predictor p = Predictor.builder(Model.builder().onnx(file("onnx_resnet18_folded")).optDevice(Device.CPU))
                .optInputSize(64, 64).optWarmup(false).build()) {
            assertEquals(64, p.inputHeight(), "an explicit size wins");
        }
    }

    @Test
    void benchDefaultsToTheDeclaredSize() throws Exception {
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int rc;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            rc = Main.execute("bench", "--onnx", file("onnx_resnet18_folded").toString(), "--batch", "1", "--device", "cpu",
                    "--warmup", "0", "--iters", "1", "--seconds", "0", "--json");
        } finally {
            System.setOut(old);
        }
        assertEquals(0, rc, out.toString(StandardCharsets.UTF_8));
        JsonObject o = JsonParser.parseString(out.toString(StandardCharsets.UTF_8)).getAsJsonObject();
        assertEquals(61, o.get("height").getAsInt());
        assertEquals(47, o.get("width").getAsInt());
        assertTrue(o.get("median_ms").getAsDouble() > 0);
    }
}
