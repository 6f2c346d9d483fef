package io.reskern.cli;

import static io.reskern.cli.CliTest.assertCleanError;
import static io.reskern.cli.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonParser;
import io.reskern.Model;
import io.reskern.image.CpuImages;
import io.reskern.image.ImageDecoder;
import io.reskern.image.Preprocess;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code reskern classify} on the CPU: top-k per image, labels, JSON, bad images. */
class ClassifyCliTest {
    @TempDir
    Path tmp;

    Path image(String name, int w, int h, long seed) throws Exception {
        BufferedImage bi = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Random r = new Random(seed);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                bi.setRGB(x, y, r.nextInt(1 << 24));
            }
        }
        Path p = tmp.resolve(name);
        ImageIO.write(bi, name.endsWith(".png") ? "png" : "jpg", p.toFile());
        return p;
    }

    @Test
    void topKWithLabelsMatchesTheModel() throws Exception {
        Path a = image("a.png", 50, 40, 1);
        Path b = image("b.jpg", 31, 33, 2);
        Path labels = Files.writeString(tmp.resolve("labels.txt"),
                "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n");
        CliTest.Result r = cli("classify", a.toString(), b.toString(), "--model", "cifar_resnet20", "--device", "cpu",
                "--labels", labels.toString(), "--top", "2");
        assertEquals(0, r.code(), r.toString());
        String[] lines = r.out().strip().split("\n");
        assertEquals(2, lines.length, r.out());
        // the same answer as decoding + preprocessing + Model.predict by hand
        float[] x = CpuImages.loadNchw(List.of(a, b), Preprocess.cifar(), ImageDecoder.defaults());
        float[] logits;
        try (Model m = Model.builder().model("cifar_resnet20").build()) {
            logits = m.predict(x, 2, 32, 32);
        }
        String[] names = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
        for (int i = 0; i < 2; i++) {
            int best = 0;
            for (int k = 1; k < 10; k++) {
                if (logits[i * 10 + k] > logits[i * 10 + best]) {
                    best = k;
                }
            }
            assertTrue(lines[i].contains("1. " + names[best] + " ("), lines[i]);
        }
        CliTest.Result j = cli("classify", a.toString(), "--model", "cifar_resnet20", "--device", "cpu", "--json", "--top", "3");
        assertEquals(0, j.code(), j.toString());
        JsonArray arr = JsonParser.parseString(j.out()).getAsJsonArray();
        assertEquals(1, arr.size());
        assertEquals(3, arr.get(0).getAsJsonObject().getAsJsonArray("top").size());
    }

    @Test
    void aBadImageIsReportedAndTheOthersStillClassified() throws Exception {
        Path good = image("good.png", 32, 32, 3);
        Path bad = Files.write(tmp.resolve("bad.jpg"), new byte[] {(byte) 0xff, (byte) 0xd8, 1, 2, 3});
        CliTest.Result r = cli("classify", good.toString(), bad.toString(), "--model", "cifar_resnet20", "--device", "cpu");
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.out().contains("good.png:"), r.out());
        assertCleanError(r, "bad.jpg");
        assertCleanError(cli("classify", tmp.resolve("missing.png").toString(), "--model", "cifar_resnet20"), "not found");
        Path two = Files.writeString(tmp.resolve("two.txt"), "a\nb\n");
        assertCleanError(cli("classify", good.toString(), "--model", "cifar_resnet20", "--labels", two.toString()),
                "--labels has 2 labels, but the model has 10 classes");
        assertCleanError(cli("classify", good.toString(), "--model", "cifar_resnet20", "--top", "0"), "--top");
        assertCleanError(cli("classify", good.toString(), "--model", "cifar_resnet20", "--mean", "1,2"), "three values");
    }

    /**
     * An ONNX CIFAR net exported at 32x32 was classified at the 224 defaults (an upscaled crop: the wrong logits, no
     * warning); it runs at the size its file declares, as decoding + ImageNet preprocessing at 32 + Model.predict do.
     */
    @Test
    void anOnnxFileIsClassifiedAtTheSizeItDeclares() throws Exception {
        Path f = io.reskern.TestEnv.goldens().resolve("onnx/onnx_cifar_resnet20_B_folded.onnx"); // [batch, 3, 32, 32]
        io.reskern.TestEnv.require(Files.isRegularFile(f), "ONNX goldens missing (tests/golden/make_onnx_goldens.py)");
        Path a = image("a.png", 50, 40, 3);
        CliTest.Result r = cli("classify", a.toString(), "--onnx", f.toString(), "--device", "cpu", "--json", "--top", "1");
        assertEquals(0, r.code(), r.toString());
        float logit = JsonParser.parseString(r.out()).getAsJsonArray().get(0).getAsJsonObject().getAsJsonArray("top").get(0)
                .getAsJsonObject().get("logit").getAsFloat();
        Preprocess at32 = new Preprocess(37, 32, 32, Preprocess.IMAGENET_MEAN, Preprocess.IMAGENET_STD); // 32*256/224
        float[] x = CpuImages.loadNchw(List.of(a), at32, ImageDecoder.defaults());
        float max;
        try (Model m = Model.builder().onnx(f).build()) {
            float[] y = m.predict(x, 1, 32, 32);
            max = y[0];
            for (float v : y) {
                max = Math.max(max, v);
            }
        }
        assertEquals(max, logit, 1e-6f * Math.max(1, Math.abs(max)));
        // --mean etc. crop at 224 unless --size says otherwise: a clear usage error, not a silent 224 run
        CliTest.Result bad = cli("classify", a.toString(), "--onnx", f.toString(), "--device", "cpu", "--mean", "0.5,0.5,0.5");
        assertCleanError(bad, "--resize/--mean/--std crop 224x224 without --size, but this model's input is 32x32: give --size");
        assertEquals(0, cli("classify", a.toString(), "--onnx", f.toString(), "--device", "cpu", "--mean", "0.5,0.5,0.5",
                "--size", "32").code());
    }
}
