package io.reskern.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.reskern.TestEnv;
import io.reskern.io.DType;
import io.reskern.io.FloatTensor;
import io.reskern.io.Npy;
import io.reskern.io.NpyArray;
import io.reskern.io.SafeTensors;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The CLI as a user meets it: exit codes, one-line errors (never a stack trace), outputs. */
class CliTest {
    @TempDir
    Path tmp;

    /** Result of one in-process CLI run. */
    record Result(int code, String out, String err) {
    }

    static Result cli(String... args) {
        PrintStream oldOut = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            CommandLine cl = Main.newCommandLine();
            cl.setErr(new PrintWriter(err, true));
            int code = Main.run(cl, args);
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(oldOut);
        }
    }

    static void assertCleanError(Result r, String fragment) {
        assertTrue(r.code() != 0, "exit code should be non-zero: " + r);
        assertTrue(r.err().contains("reskern: error:"), r.err());
        assertTrue(r.err().contains(fragment), "expected '" + fragment + "' in: " + r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    private Path randomInput(int n, int h, int w) throws Exception {
        float[] x = new float[n * 3 * h * w];
        Random r = new Random(1);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        Path p = tmp.resolve("x.npy");
        Npy.write(p, new long[] {n, 3, h, w}, x);
        return p;
    }

    /** akamaster's F.avg_pool2d(out, out.size()[3]) exported at 32x32: the CLI runs it there and refuses other sizes. */
    @Test
    void anOnnxModelExactAtOneInputSizeRefusesOthers() throws Exception {
        Path f = TestEnv.goldens().resolve("onnx/var_avg_pool_k.onnx");
        TestEnv.require(Files.isRegularFile(f), "ONNX goldens missing (tests/golden/make_onnx_goldens.py)");
        String fixed = "runs only at input 32x32 (its 8x8 AveragePool is the global mean only at the 32x32 input";
        Path y = tmp.resolve("y.npy");
        assertCleanError(cli("run", "--onnx", f.toString(), "--input", randomInput(1, 16, 16).toString(), "--output",
                y.toString()), fixed);
        assertCleanError(cli("bench", "--onnx", f.toString(), "--batch", "1", "--size", "64", "--iters", "1"), fixed);
        Result r = cli("bench", "--onnx", f.toString(), "--batch", "1", "--iters", "1", "--warmup", "0", "--seconds", "0",
                "--json");
        assertEquals(0, r.code(), r.toString());
        JsonObject o = JsonParser.parseString(r.out().trim()).getAsJsonObject();
        assertEquals(32, o.get("height").getAsInt(), "bench defaults to the fixed size");
        assertEquals(32, o.get("width").getAsInt());
        r = cli("run", "--onnx", f.toString(), "--input", randomInput(2, 32, 32).toString(), "--output", y.toString());
        assertEquals(0, r.code(), r.toString());
        assertEquals(2 * 10, Npy.read(y).data().length);
    }

    @Test
    void runWritesLogits() throws Exception {
        Path x = randomInput(2, 33, 31);
        Path y = tmp.resolve("out/y.npy");
        Result r = cli("run", "--model", "cifar_resnet20", "--input", x.toString(), "--output", y.toString(), "--device", "cpu");
        assertEquals(0, r.code(), r.toString());
        NpyArray a = Npy.read(y);
        assertEquals(2, a.shape()[0]);
        assertEquals(10, a.shape()[1]);
        for (float v : a.data()) {
            assertTrue(Float.isFinite(v));
        }
    }

    @Test
    void runIsDeterministicForASeededModel() throws Exception {
        Path x = randomInput(1, 32, 32);
        Path y1 = tmp.resolve("y1.npy");
        Path y2 = tmp.resolve("y2.npy");
        assertEquals(0, cli("run", "--model", "cifar_resnet20", "--shortcut", "B", "--classes", "7", "--input", x.toString(),
                "--output", y1.toString(), "--device", "cpu").code());
        assertEquals(0, cli("run", "--model", "cifar_resnet20", "--shortcut", "B", "--classes", "7", "--input", x.toString(),
                "--output", y2.toString(), "--device", "cpu").code());
        assertTrue(Arrays.equals(Npy.read(y1).data(), Npy.read(y2).data()));
        assertEquals(7, Npy.read(y1).shape()[1]);
    }

    @Test
    void badInputsGiveOneClearMessage() throws Exception {
        Path x = randomInput(1, 32, 32);
        String in = x.toString();
        String out = tmp.resolve("y.npy").toString();
        assertCleanError(cli("run", "--model", "resnet51", "--input", in, "--output", out), "resnet51");
        assertCleanError(cli("run", "--model", "resnet18", "--input", tmp.resolve("nope.npy").toString(), "--output", out),
                "input file not found");
        assertCleanError(cli("run", "--model", "resnet18", "--input", in, "--output", out, "--device", "tpu"), "unknown device");
        assertCleanError(cli("run", "--model", "resnet18", "--input", in, "--output", out, "--precision", "fp8"),
                "unknown precision");
        assertCleanError(cli("run", "--model", "resnet18", "--input", in, "--output", out, "--device", "cpu", "--precision",
                "fp16"), "fp16 needs --device cuda");
        assertCleanError(cli("run", "--model", "resnet18", "--input", in, "--output", out, "--shortcut", "A"), "CIFAR");
        assertCleanError(cli("run", "--model", "cifar_resnet20", "--input", in, "--output", out, "--shortcut", "C"), "A or B");
        assertCleanError(cli("run", "--model", "resnet18", "--input", in, "--output", out, "--classes", "0"), "--classes");
        assertCleanError(cli("run", "--model", "resnet18", "--input", in, "--output", out, "--weights",
                tmp.resolve("missing.safetensors").toString()), "weights file not found");
        assertCleanError(cli("run", "--model", "resnet18", "--input", in), "--output");
        assertCleanError(cli("run", "--model", "resnet18", "--input", in, "--output", out, "--bogus"), "--bogus");
        assertCleanError(cli("frobnicate"), "frobnicate");
        Path bad = tmp.resolve("bad.npy");
        Npy.write(bad, new long[] {2, 4, 8, 8}, new float[2 * 4 * 64]);
        assertCleanError(cli("run", "--model", "resnet18", "--input", bad.toString(), "--output", out), "[N,3,H,W]");
        Npy.write(bad, new long[] {3, 32, 32}, new float[3 * 32 * 32]);
        assertCleanError(cli("run", "--model", "resnet18", "--input", bad.toString(), "--output", out), "[N,3,H,W]");
        Npy.write(bad, new long[] {1, 3, 0, 4}, new float[0]);
        assertCleanError(cli("run", "--model", "resnet50", "--input", bad.toString(), "--output", out, "--device", "cpu"),
                "unsupported input shape");
        Files.writeString(bad, "hello, I am not numpy");
        assertCleanError(cli("run", "--model", "resnet18", "--input", bad.toString(), "--output", out), "BAD_FILE");
    }

    @Test
    void badWeightsNameEveryProblem() throws Exception {
        Path x = randomInput(1, 32, 32);
        Path w = tmp.resolve("w.safetensors");
        LinkedHashMap<String, FloatTensor> m = new LinkedHashMap<>();
        m.put("conv1.weight", new FloatTensor(new long[] {16, 3, 5, 5}, new float[16 * 3 * 25]));
        m.put("extra.thing", new FloatTensor(new long[] {2}, new float[2]));
        SafeTensors.write(w, m, DType.F32, Map.of());
        Result r = cli("run", "--model", "cifar_resnet20", "--weights", w.toString(), "--input", x.toString(), "--output",
                tmp.resolve("y.npy").toString(), "--device", "cpu");
        assertCleanError(r, "conv1.weight expected [16, 3, 3, 3] got [16, 3, 5, 5]");
        assertTrue(r.err().contains("missing") && r.err().contains("bn1.running_var"), r.err());
        assertTrue(r.err().contains("unexpected: extra.thing"), r.err());
        Files.write(w, new byte[] {1, 2, 3});
        assertCleanError(cli("run", "--model", "cifar_resnet20", "--weights", w.toString(), "--input", x.toString(), "--output",
                tmp.resolve("y.npy").toString(), "--device", "cpu"), "BAD_FILE");
    }

    @Test
    void benchJson() {
        Result r = cli("bench", "--model", "cifar_resnet20", "--batch", "2", "--device", "cpu", "--json", "--iters", "3",
                "--seconds", "0", "--warmup", "1");
        assertEquals(0, r.code(), r.toString());
        JsonObject o = JsonParser.parseString(r.out().trim()).getAsJsonObject();
        assertTrue(o.get("median_ms").getAsDouble() > 0);
        assertTrue(o.get("images_per_s").getAsDouble() > 0);
        assertEquals("cpu", o.get("device").getAsString());
        assertCleanError(cli("bench", "--model", "cifar_resnet20", "--batch", "0"), "--batch");
    }

    @Test
    void compareWritesTableAndChart() throws Exception {
        Path chart = tmp.resolve("cmp.png");
        Result r = cli("compare", "--models", "cifar_resnet20,cifar_resnet32", "--device", "cpu", "--seconds", "0", "--batch",
                "2", "--chart", chart.toString());
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("cifar_resnet32") && r.out().contains("params(M)"), r.out());
        assertTrue(Files.size(chart) > 1000);
        assertTrue(ImageIO.read(chart.toFile()).getWidth() > 100);
        Result s = cli("compare", "--no-timing", "--chart", tmp.resolve("s.png").toString(), "--device", "cpu");
        assertEquals(0, s.code(), s.toString());
        assertTrue(s.out().contains("resnetv2_50") && s.out().contains("25.55"), s.out());
        assertCleanError(cli("compare", "--models", "resnet50,nope"), "unknown model 'nope'");
    }

    @Test
    void badOutputPathsGiveOneClearMessage() throws Exception {
        Path x = randomInput(1, 32, 32);
        Path file = tmp.resolve("plain-file");
        Files.writeString(file, "x");
        // a regular file where a folder is needed: Java's own message is only the path
        assertCleanError(cli("run", "--model", "cifar_resnet20", "--input", x.toString(), "--output",
                file.resolve("y.npy").toString(), "--device", "cpu"), "cannot create the folder " + file + " for --output: "
                + file + " exists and is not a folder");
        assertCleanError(cli("run", "--model", "cifar_resnet20", "--input", x.toString(), "--output", tmp.toString(),
                "--device", "cpu"), "--output is a folder, not a file");
        // compare checks --chart before it times anything
        assertCleanError(cli("compare", "--no-timing", "--models", "resnet18", "--device", "cpu", "--chart",
                file.resolve("c.png").toString()), "for --chart");
        assertCleanError(cli("compare", "--no-timing", "--models", "resnet18", "--device", "cpu", "--precision", "fp16",
                "--chart", tmp.resolve("c.png").toString()), "fp16 needs --device cuda");
    }

    @Test
    void compareChartNoneWritesNoChart() {
        Result r = cli("compare", "--no-timing", "--models", "cifar_resnet20", "--device", "cpu", "--chart", "none");
        assertEquals(0, r.code(), r.toString());
        assertFalse(r.out().contains("chart:"), r.out());
        assertFalse(Files.exists(Path.of("none.png")), "--chart none wrote none.png");
    }

    @Test
    void benchRejectsABatchNoArrayHolds() {
        assertCleanError(cli("bench", "--model", "resnet18", "--device", "cpu", "--batch", "20000", "--iters", "1"),
                "smaller --batch");
    }

    /** A chart name without ".png" is written as given (a PNG all the same), not with ".png" appended. */
    @Test
    void compareChartWithoutExtensionIsWrittenAsGiven() {
        Path file = tmp.resolve("chart-no-ext");
        Result r = cli("compare", "--no-timing", "--models", "cifar_resnet20", "--device", "cpu", "--chart", file.toString());
        assertEquals(0, r.code(), r.toString());
        assertTrue(Files.isRegularFile(file), "chart written as " + file);
        assertFalse(Files.exists(tmp.resolve("chart-no-ext.png")));
        assertTrue(r.out().contains("chart: " + file.toAbsolutePath()), r.out());
    }

    @Test
    void infoAndHelp() {
        Result r = cli("info");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("cpu library") && r.out().contains("cuda"), r.out());
        // the CPU precisions line says whether bf16 runs here, as the model build decides it
        assertTrue(r.out().contains(io.reskern.nativelib.CpuOps.bf16Supported() == 1 ? "cpu precisions fp32, bf16"
                : "cpu precisions fp32 (bf16 needs AVX512_BF16"), r.out());
        Result h = cli("--help");
        assertEquals(0, h.code());
        assertTrue(h.out().contains("compare") && h.out().contains("bench"), h.out());
        assertEquals(0, cli("run", "--help").code());
    }
}
