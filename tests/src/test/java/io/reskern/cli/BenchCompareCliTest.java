package io.reskern.cli;

import static io.reskern.cli.CliTest.assertCleanError;
import static io.reskern.cli.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.reskern.Model;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bench} and {@code compare} as a script uses them (apiaudit). */
class BenchCompareCliTest {
    @TempDir
    Path tmp;

    /** {@link CliTest#cli} with System.err captured too (compare writes its table there with --json). */
    private static CliTest.Result cliWithStderr(String... args) {
        java.io.PrintStream old = System.err;
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        try {
            System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
            CliTest.Result r = cli(args);
            return new CliTest.Result(r.code(), r.out(), r.err() + err.toString(java.nio.charset.StandardCharsets.UTF_8));
        } finally {
            System.setErr(old);
        }
    }

    /** `compare --json | jq` failed: the header line, the table and the chart line came first on standard output. */
    @Test
    void compareJsonIsTheOnlyThingOnStandardOutput() throws Exception {
        Path chart = tmp.resolve("c.png");
        CliTest.Result r = cliWithStderr("compare", "--models", "cifar_resnet20,cifar_resnet32", "--device", "cpu", "--seconds",
                "0", "--batch", "1", "--chart", chart.toString(), "--json");
        assertEquals(0, r.code(), r.toString());
        JsonArray rows = JsonParser.parseString(r.out()).getAsJsonArray(); // the whole of stdout
        assertEquals(2, rows.size());
        JsonObject o = rows.get(1).getAsJsonObject();
        assertEquals("cifar_resnet32", o.get("model").getAsString());
        assertEquals("cifar-A", o.get("family").getAsString());
        assertEquals(0.464154, o.get("paramsM").getAsDouble(), 1e-9);
        assertTrue(o.get("latencyMs").getAsDouble() > 0 && o.get("imagesPerS").getAsDouble() > 0, o.toString());
        assertTrue(r.err().contains("params(M)") && r.err().contains("chart: " + chart.toAbsolutePath()), r.err());
        assertTrue(ImageIO.read(chart.toFile()).getWidth() > 100, "the chart is still a PNG");
        // --no-timing: nulls, still valid JSON
        CliTest.Result s = cli("compare", "--no-timing", "--models", "resnet50d", "--device", "cpu", "--chart", "none", "--json");
        assertEquals(0, s.code(), s.toString());
        JsonObject d = JsonParser.parseString(s.out()).getAsJsonArray().get(0).getAsJsonObject();
        assertTrue(d.get("latencyMs").isJsonNull(), d.toString());
        assertEquals(4.329, d.get("gmacs").getAsDouble(), 5e-4, "README: resnet50d 4.33 GMACs");
        // without --json the table stays on standard output
        CliTest.Result t = cli("compare", "--no-timing", "--models", "resnet50d", "--device", "cpu", "--chart", "none");
        assertTrue(t.out().contains("params(M)") && t.out().contains("25.58"), t.out());
        assertFalse(Files.exists(tmp.resolve("none")));
    }

    /** `--models ,` is an empty list: it used to compare the nine default models. */
    @Test
    void anEmptyModelListIsAUsageError() {
        assertCleanError(cli("compare", "--models", ",", "--no-timing", "--chart", "none"), "--models needs at least one");
        assertCleanError(cli("compare", "--models", "resnet18,,resnet34", "--no-timing", "--chart", "none"), "unknown model ''");
        assertCleanError(cli("compare", "--models", "cifar_resnet99999999999", "--no-timing", "--chart", "none"),
                "CIFAR ResNets have depth 6n+2");
        assertCleanError(cli("bench", "--model", "cifar_resnet99999999999", "--batch", "1"), "CIFAR ResNets have depth 6n+2");
    }

    /**
     * `bench --iters 2000000000` allocated the timing array for every possible run before the first one and died
     * "out of memory"; the array now grows with the runs.
     */
    @Test
    void aHugeIterationBoundAllocatesOnlyWhatRuns() throws Exception {
        try (Model m = Model.builder().model("cifar_resnet20").build()) {
            Measure.Result r = Measure.time(m, 1, 8, 8, 0, 1, 0, Integer.MAX_VALUE);
            assertEquals(1, r.iterations());
            Measure.Result g = Measure.time(m, 1, 4, 4, 0, 1500, 0, Integer.MAX_VALUE); // grows past the first 1024
            assertEquals(1500, g.iterations());
            assertTrue(g.minMs() <= g.medianMs() && g.medianMs() <= g.p90Ms(), g.toString());
        }
    }

    /** With 10 runs (bench's default) the "median" was the 6th fastest; numpy.median averages the 5th and 6th. */
    @Test
    void medianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
        assertEquals(2.5, Measure.median(new double[] {1, 2, 3, 10}));
        assertEquals(3.0, Measure.median(new double[] {1, 2, 3, 4, 10}));
        assertEquals(7.0, Measure.median(new double[] {7}));
    }

    /** `--seconds S` is "at least S seconds", but the runs were capped at 10,000 (a 9 µs model stopped after 0.1 s). */
    @Test
    void secondsAreNotCutShortAtTenThousandRuns() {
        CliTest.Result r = cli("bench", "--model", "cifar_resnet20", "--size", "1", "--batch", "1", "--device", "cpu", "--json",
                "--iters", "1", "--seconds", "1", "--warmup", "20");
        assertEquals(0, r.code(), r.toString());
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        double p90 = o.get("p90_ms").getAsDouble();
        org.junit.jupiter.api.Assumptions.assumeTrue(p90 * 20_000 < 1000, "this machine is too slow to tell: p90 " + p90 + " ms");
        assertTrue(o.get("iterations").getAsInt() > 10_000, o.toString());
    }

    /** compare's `--seconds` ("minimum timed seconds per measurement") was cut at 1,000 runs as well. */
    @Test
    void compareTimesAtLeastTheSecondsAsked() {
        long t0 = System.nanoTime();
        CliTest.Result r = cli("compare", "--models", "cifar_resnet20", "--device", "cpu", "--seconds", "1", "--batch", "1",
                "--chart", "none");
        double s = (System.nanoTime() - t0) / 1e9;
        assertEquals(0, r.code(), r.toString());
        assertTrue(s >= 2.0, "two measurements of at least 1 s each took " + s + " s");
    }

    @Test
    void benchJsonParsesAndCountsGmacs() {
        CliTest.Result r = cli("bench", "--model", "resnet18", "--batch", "1", "--size", "1", "--device", "cpu", "--json",
                "--iters", "1", "--seconds", "0", "--warmup", "0");
        assertEquals(0, r.code(), r.toString());
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        assertEquals(1, o.get("height").getAsInt());
        assertEquals(1, o.get("iterations").getAsInt());
        assertTrue(o.get("gmacs").getAsDouble() > 0 && o.get("p90_ms").getAsDouble() >= o.get("median_ms").getAsDouble());
    }
}
