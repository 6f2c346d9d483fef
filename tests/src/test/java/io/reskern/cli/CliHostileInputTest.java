package io.reskern.cli;

import static io.reskern.cli.CliTest.assertCleanError;
import static io.reskern.cli.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.reskern.io.Npy;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;
import java.util.Random;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI given odd paths, flag values and output targets (audit findings, one regression test each). */
class CliHostileInputTest {
    @TempDir
    Path tmp;

    private Path input() throws Exception {
        float[] x = new float[2 * 3 * 32 * 32];
        Random r = new Random(5);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        Path p = tmp.resolve("x.npy");
        Npy.write(p, new long[] {2, 3, 32, 32}, x);
        return p;
    }

    private Path image(String name) throws Exception {
        BufferedImage bi = new BufferedImage(40, 36, BufferedImage.TYPE_INT_RGB);
        Random r = new Random(9);
        for (int y = 0; y < 36; y++) {
            for (int x = 0; x < 40; x++) {
                bi.setRGB(x, y, r.nextInt(1 << 24));
            }
        }
        Path p = tmp.resolve(name);
        Files.createDirectories(p.getParent());
        ImageIO.write(bi, "png", p.toFile());
        return p;
    }

    /** A folder given where a file is expected was reported as "file not found". */
    @Test
    void aFolderWhereAFileIsExpectedIsNamedAsAFolder() throws Exception {
        String in = input().toString();
        String out = tmp.resolve("y.npy").toString();
        String dir = tmp.toString();
        String img = image("a.png").toString();
        assertCleanError(cli("run", "--model", "cifar_resnet20", "--input", dir, "--output", out), "input file " + dir
                + " is a folder, not a file");
        assertCleanError(cli("run", "--model", "cifar_resnet20", "--input", in, "--output", out, "--weights", dir),
                "weights file " + dir + " is a folder");
        assertCleanError(cli("run", "--onnx", dir, "--input", in, "--output", out), "ONNX file " + dir + " is a folder");
        assertCleanError(cli("classify", dir, "--model", "cifar_resnet20"), "image file " + dir + " is a folder");
        assertCleanError(cli("classify", img, "--model", "cifar_resnet20", "--labels", dir), "labels file " + dir
                + " is a folder");
        assertCleanError(cli("run", "--model", "cifar_resnet20", "--input", in, "--output", ""), "--output needs a file name");
        // the plain "not found" stays as it was
        assertCleanError(cli("run", "--model", "cifar_resnet20", "--input", tmp.resolve("nope.npy").toString(), "--output",
                out), "input file not found");
    }

    /** Paths with spaces and non-ASCII letters, and missing parent folders, work as any other. */
    @Test
    void pathsWithSpacesAndUnicodeWork() throws Exception {
        Path out = tmp.resolve("sp ace/ünï cödé/y.npy");
        CliTest.Result r = cli("run", "--model", "cifar_resnet20", "--input", input().toString(), "--output", out.toString(),
                "--device", "cpu");
        assertEquals(0, r.code(), r.toString());
        assertEquals(10, Npy.read(out).shape()[1]);
        Path img = image("dïr with space/kät 1.png");
        CliTest.Result c = cli("classify", img.toString(), "--model", "cifar_resnet20", "--device", "cpu", "--top", "1");
        assertEquals(0, c.code(), c.toString());
        assertTrue(c.out().startsWith(img + ":"), c.out());
    }

    /** --output through a symbolic link used to replace the link by a file. */
    @Test
    void outputThroughASymlinkWritesTheLinkedFile() throws Exception {
        Path target = Files.writeString(tmp.resolve("target.npy"), "old");
        Path link = Files.createSymbolicLink(tmp.resolve("link.npy"), target);
        CliTest.Result r = cli("run", "--model", "cifar_resnet20", "--input", input().toString(), "--output", link.toString(),
                "--device", "cpu");
        assertEquals(0, r.code(), r.toString());
        assertTrue(Files.isSymbolicLink(link));
        assertEquals(2, Npy.read(target).shape()[0]);
    }

    /**
     * A value the command refuses after parsing (out of range, a missing --model/--onnx, a forbidden combination) is a
     * usage error as the README says: it printed no "Try '… --help'" line, unlike picocli's own.
     */
    @Test
    void refusedFlagValuesAreUsageErrorsWithTheHelpHint() throws Exception {
        String in = input().toString();
        String out = tmp.resolve("y.npy").toString();
        String img = image("b.png").toString();
        String[][] cases = {
            {"run", "--input", in, "--output", out},
            {"run", "--model", "cifar_resnet20", "--input", in, "--output", out, "--threads", "0"},
            {"run", "--onnx", in, "--model", "resnet18", "--input", in, "--output", out},
            {"run", "--model", "resnet18", "--shortcut", "B", "--input", in, "--output", out},
            {"classify", img, "--model", "cifar_resnet20", "--top", "0"},
            {"classify", img, "--model", "cifar_resnet20", "--size", "0"},
            {"classify", img, "--model", "cifar_resnet20", "--mean", "1,2"},
            {"bench", "--model", "cifar_resnet20", "--batch", "0"},
            {"bench", "--model", "cifar_resnet20", "--batch", "1", "--seconds", "NaN"},
            {"bench", "--model", "cifar_resnet20", "--batch", "1", "--size", "-3"},
            {"compare", "--no-timing", "--models", "cifar_resnet20", "--chart", "none", "--seconds", "-1"},
            {"compare", "--no-timing", "--models", "cifar_resnet20", "--chart", "none", "--size", "8"},
        };
        for (String[] args : cases) {
            CliTest.Result r = cli(args);
            assertCleanError(r, "");
            assertEquals(2, r.code(), r.toString());
            assertTrue(r.err().contains("Try 'reskern " + args[0] + " --help' for usage."), String.join(" ", args) + ": "
                    + r.err());
        }
        // a bad file is not a usage error: no hint
        CliTest.Result f = cli("run", "--model", "cifar_resnet20", "--input", tmp.resolve("nope.npy").toString(), "--output",
                out);
        assertFalse(f.err().contains("Try '"), f.err());
    }

    /** --seconds NaN was taken as 0; Infinity ran 10,000 iterations. */
    @Test
    void benchRefusesNonFiniteSeconds() {
        assertCleanError(cli("bench", "--model", "cifar_resnet20", "--batch", "1", "--seconds", "NaN"), "--seconds finite");
        assertCleanError(cli("bench", "--model", "cifar_resnet20", "--batch", "1", "--seconds", "Infinity"), "got 3, 10, Infinity");
        assertCleanError(cli("compare", "--models", "cifar_resnet20", "--chart", "none", "--seconds", "NaN"), "--seconds");
    }

    /** --chart naming a folder wrote FOLDER.png beside it. */
    @Test
    void compareRefusesAFolderAsTheChart() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("charts"));
        assertCleanError(cli("compare", "--no-timing", "--models", "cifar_resnet20", "--device", "cpu", "--chart",
                dir.toString()), "--chart is a folder, not a file");
        assertFalse(Files.exists(tmp.resolve("charts.png")));
    }

    /**
     * --size whose default resize exceeds the limit was reported with an internal name ("resizeShorter must be in …");
     * --batch far above the number of images allocated (and failed) for the whole batch.
     */
    @Test
    void classifySizeAndBatchLimitsSpeakInFlags() throws Exception {
        String img = image("c.png").toString();
        CliTest.Result r = cli("classify", img, "--model", "cifar_resnet20", "--size", "15000");
        assertCleanError(r, "--size 15000 resizes the shorter side to 17143 by default");
        assertFalse(r.err().contains("resizeShorter"), r.err());
        assertCleanError(cli("classify", img, "--model", "cifar_resnet20", "--resize", "20000"), "--resize must be in [0, 16384]");
        assertCleanError(cli("classify", img, "--model", "cifar_resnet20", "--size", "20000"), "--size must be in [1, 16384]");
        CliTest.Result big = cli("classify", img, "--model", "cifar_resnet20", "--device", "cpu", "--batch", "100000000",
                "--top", "1");
        assertEquals(0, big.code(), big.toString());
        assertTrue(big.out().contains("1. class "), big.out());
    }

    /** A read-only output folder was found only after the model ran, in a message naming a temporary file. */
    @Test
    void aReadOnlyOutputFolderFailsBeforeTheModelRuns() throws Exception {
        Path ro = Files.createDirectory(tmp.resolve("ro"));
        Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            assumeFalse(Files.isWritable(ro), "running as root: a read-only folder is writable");
            CliTest.Result r = cli("run", "--model", "resnet152", "--input", input().toString(), "--output",
                    ro.resolve("y.npy").toString(), "--device", "cpu");
            assertCleanError(r, "cannot write --output " + ro.resolve("y.npy") + ": no permission to write in the folder");
            assertFalse(r.err().contains(".tmp") || r.err().contains("AccessDeniedException"), r.err());
            assertCleanError(cli("run", "--model", "cifar_resnet20", "--input", input().toString(), "--output",
                    ro.resolve("sub/y.npy").toString()), "for --output: permission denied");
            assertCleanError(cli("compare", "--no-timing", "--models", "cifar_resnet20", "--device", "cpu", "--chart",
                    ro.resolve("c.png").toString()), "cannot write --chart");
        } finally {
            Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    /**
     * Output lost on standard output ({@code > /dev/full}, a closed descriptor) exited 0: PrintStream swallows the
     * error. Now exit 1 with one line; on a pipe whose reader left ({@code | head -1}) exit 1 quietly.
     */
    @Test
    void aFailedWriteToStandardOutputIsNotASuccess() {
        PrintStream broken = new PrintStream(new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("No space left on device");
            }
        }, true);
        broken.println("result");
        StringWriter err = new StringWriter();
        assertEquals(1, Main.finish(0, broken, new PrintWriter(err, true), false));
        assertTrue(err.toString().startsWith("reskern: error: cannot write to standard output"), err.toString());
        StringWriter quiet = new StringWriter();
        assertEquals(1, Main.finish(0, broken, new PrintWriter(quiet, true), true));
        assertEquals("", quiet.toString());
        assertEquals(2, Main.finish(2, broken, new PrintWriter(new StringWriter(), true), false), "a failure keeps its code");
        PrintStream fine = new PrintStream(new ByteArrayOutputStream(), true);
        fine.println("result");
        assertEquals(0, Main.finish(0, fine, new PrintWriter(new StringWriter(), true), false));
    }

    /** With the no-CUDA stand-in library, info said "cuda library loaded (runtime 0.0, driver none)". */
    @Test
    void infoDoesNotCallTheStandInLibraryACudaRuntime() {
        CliTest.Result r = cli("info");
        assertEquals(0, r.code(), r.toString());
        assertFalse(r.out().contains("runtime 0.0"), r.out());
        assertTrue(r.out().contains("cuda "), r.out());
    }

    /** "-V, --version" is in every subcommand's help, but printed nothing there (no version provider). */
    @Test
    void everySubcommandPrintsItsVersion() {
        for (String c : new String[] {"run", "classify", "bench", "compare", "info"}) {
            CliTest.Result r = cli(c, "--version");
            assertEquals(0, r.code(), r.toString());
            assertTrue(r.out().startsWith("reskern "), c + " --version printed: '" + r.out() + "'");
        }
    }

    /**
     * picocli hands only exceptions to the CLI's handler: an OutOfMemoryError (run --classes 30000000) printed a raw
     * stack trace, and an overflowing size (--classes 2000000000) printed "reskern: error: integer overflow".
     */
    @Test
    void hugeSizesGiveOneLineNotAStackTrace() throws Exception {
        String in = input().toString();
        String out = tmp.resolve("y.npy").toString();
        CliTest.Result overflow = cli("run", "--model", "cifar_resnet20", "--classes", "2000000000", "--input", in, "--output",
                out, "--device", "cpu");
        // the graph now refuses a classifier no Java array holds, naming the tensor (was "a size is too large (integer
        // overflow)" from Math.toIntExact while generating weights)
        assertCleanError(overflow, "tensor linear.weight [2000000000, 64] has 128000000000 elements, more than a Java array");
        CliTest.Result oom = cli("run", "--model", "cifar_resnet20", "--classes", "30000000", "--input", in, "--output", out,
                "--device", "cpu");
        assertCleanError(oom, "out of memory");
        assertEquals(1, oom.code());
    }

    /** Numbers in text output followed the JVM's default locale: de_DE printed "12,5 ms", ar_EG Arabic-Indic digits. */
    @Test
    void numbersInTextOutputDoNotFollowTheDefaultLocale() throws Exception {
        String in = input().toString();
        Locale saved = Locale.getDefault();
        for (Locale l : new Locale[] {Locale.GERMANY, Locale.forLanguageTag("ar-EG")}) {
            Locale.setDefault(l);
            try {
                if (l == Locale.GERMANY) {
                    assertEquals("12,5", String.format("%.1f", 12.5), "the default locale is in effect");
                }
                CliTest.Result run = cli("run", "--model", "cifar_resnet20", "--input", in, "--output",
                        tmp.resolve("y.npy").toString(), "--device", "cpu");
                CliTest.Result bench = cli("bench", "--model", "cifar_resnet20", "--device", "cpu", "--batch", "1",
                        "--warmup", "0", "--iters", "1", "--seconds", "0");
                CliTest.Result compare = cli("compare", "--models", "cifar_resnet20", "--device", "cpu", "--seconds", "0",
                        "--chart", tmp.resolve("c.png").toString());
                for (CliTest.Result r : new CliTest.Result[] {run, bench, compare}) {
                    assertEquals(0, r.code(), l + ": " + r);
                    assertFalse(Pattern.compile("\\d,\\d").matcher(r.out()).find(), l + ": decimal comma in " + r.out());
                    assertFalse(Pattern.compile("[\\u0660-\\u0669\\u06f0-\\u06f9]").matcher(r.out()).find(),
                            l + ": non-ASCII digits in " + r.out());
                    assertTrue(Pattern.compile("\\d\\.\\d").matcher(r.out()).find(), l + ": " + r.out());
                }
                assertTrue(bench.out().matches("(?s).*median \\d+\\.\\d\\d ms.*"), bench.out());
                CompareCommand.Row row = new CompareCommand.Row("m", "f", "own", 1.5, 2.5, 3.5, 4.5, 5.5);
                for (org.knowm.xchart.CategoryChart c : CompareCommand.charts(java.util.List.of(row), io.reskern.Device.CPU,
                        io.reskern.Precision.FP32, 8, false)) {
                    assertEquals(Locale.ROOT, c.getStyler().getLocale(), "chart axis labels");
                }
                assertTrue(new io.reskern.Devices.GpuInfo(0, "G", 9, 0, 132, 141L << 30, 0).toString().contains("141.0 GiB"));
            } finally {
                Locale.setDefault(saved);
            }
        }
    }

    /** classify --json left a file that failed to decode out of the array (its error went to stderr only). */
    @Test
    void classifyJsonHasAnEntryForAFailedFile() throws Exception {
        Path good = image("good.png");
        Path bad = Files.writeString(tmp.resolve("bad.png"), "not an image");
        CliTest.Result r = cli("classify", bad.toString(), good.toString(), "--model", "cifar_resnet20", "--device", "cpu",
                "--top", "2", "--json");
        assertEquals(2, r.code(), r.toString());
        com.google.gson.JsonArray a = com.google.gson.JsonParser.parseString(r.out()).getAsJsonArray();
        assertEquals(2, a.size(), r.out());
        com.google.gson.JsonObject e = a.get(0).getAsJsonObject();
        assertEquals(bad.toString(), e.get("file").getAsString());
        assertTrue(e.get("error").getAsString().contains("BAD_FILE"), r.out());
        assertFalse(e.has("top"), r.out());
        com.google.gson.JsonObject ok = a.get(1).getAsJsonObject();
        assertEquals(good.toString(), ok.get("file").getAsString());
        assertEquals(2, ok.getAsJsonArray("top").size());
        assertFalse(ok.has("error"));
        assertTrue(r.err().contains("reskern: error: " + bad), r.err());
    }

    /**
     * --chart x.jpg wrote x.jpg.png (and /dev/null would have been /dev/null.png): the chart is a PNG at exactly the path
     * given. --output DIR/ wrote a file named DIR; a dangling symbolic link was replaced by a file.
     */
    @Test
    void outputsGoToExactlyThePathGiven() throws Exception {
        Path jpg = tmp.resolve("x.jpg");
        CliTest.Result c = cli("compare", "--no-timing", "--models", "cifar_resnet20", "--device", "cpu", "--chart",
                jpg.toString());
        assertEquals(0, c.code(), c.toString());
        assertFalse(Files.exists(tmp.resolve("x.jpg.png")));
        byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(jpg), 8);
        assertEquals("\u0089PNG", new String(head, 0, 4, java.nio.charset.StandardCharsets.ISO_8859_1));
        assertTrue(c.out().contains("chart: " + jpg), c.out());
        boolean hadNullPng = Files.exists(Path.of("/dev/null.png"));
        CliTest.Result n = cli("compare", "--no-timing", "--models", "cifar_resnet20", "--device", "cpu", "--chart",
                "/dev/null");
        assertEquals(0, n.code(), n.toString());
        assertEquals(hadNullPng, Files.exists(Path.of("/dev/null.png")), "nothing beside /dev/null");

        String in = input().toString();
        Path dir = tmp.resolve("outdir");
        CliTest.Result slash = cli("run", "--model", "cifar_resnet20", "--input", in, "--output", dir + "/", "--device", "cpu");
        assertCleanError(slash, "names a folder (it ends with '/')");
        assertEquals(2, slash.code());
        assertTrue(slash.err().contains("Try 'reskern run --help'"), slash.err());
        assertFalse(Files.exists(dir), "no file named like the folder");
        Files.createDirectory(dir);
        CliTest.Result folder = cli("run", "--model", "cifar_resnet20", "--input", in, "--output", dir.toString());
        assertCleanError(folder, "--output is a folder, not a file");
        assertTrue(folder.err().contains("Try 'reskern run --help'"), folder.err());
        assertCleanError(cli("compare", "--no-timing", "--models", "cifar_resnet20", "--device", "cpu", "--chart",
                dir + "/"), "names a folder");

        Path link = Files.createSymbolicLink(tmp.resolve("dangling.npy"), Path.of("made/y.npy"));
        Files.createDirectory(tmp.resolve("made"));
        CliTest.Result d = cli("run", "--model", "cifar_resnet20", "--input", in, "--output", link.toString(), "--device", "cpu");
        assertEquals(0, d.code(), d.toString());
        assertTrue(Files.isSymbolicLink(link), "the link stays a link");
        assertEquals(2, Npy.read(tmp.resolve("made/y.npy")).shape()[0]);
        Path nowhere = Files.createSymbolicLink(tmp.resolve("nowhere.npy"), tmp.resolve("missing/y.npy"));
        assertCleanError(cli("run", "--model", "cifar_resnet20", "--input", in, "--output", nowhere.toString()),
                "it is a symbolic link to " + tmp.resolve("missing/y.npy") + ", whose folder does not exist");
        Path chartLink = Files.createSymbolicLink(tmp.resolve("chart.png"), Path.of("made/chart.png"));
        assertEquals(0, cli("compare", "--no-timing", "--models", "cifar_resnet20", "--device", "cpu", "--chart",
                chartLink.toString()).code());
        assertTrue(Files.isSymbolicLink(chartLink) && Files.size(tmp.resolve("made/chart.png")) > 0);
    }

    /** NaN or infinite input values gave NaN logits without a word; now one warning line, and the run goes on. */
    @Test
    void nonFiniteInputIsWarnedAboutOnce() throws Exception {
        float[] x = new float[2 * 3 * 8 * 8];
        Random rnd = new Random(3);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        long[] shape = {2, 3, 8, 8};
        x[((1 * 3 + 2) * 8 + 3) * 8 + 4] = Float.NaN;
        x[((1 * 3 + 2) * 8 + 5) * 8 + 0] = Float.POSITIVE_INFINITY;
        Path p = tmp.resolve("nan.npy");
        Npy.write(p, shape, x);
        Path out = tmp.resolve("y.npy");
        CliTest.Result r = cli("run", "--model", "cifar_resnet20", "--input", p.toString(), "--output", out.toString(),
                "--device", "cpu");
        assertEquals(0, r.code(), r.toString());
        assertTrue(Files.exists(out));
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("reskern: warning: 2 of 384 input values are NaN or infinite (the first at [1, 2, 3, "
                + "4], NaN)"), r.err());
        assertEquals(null, RunCommand.nonFiniteWarning(new float[] {1, 2, 3}, new long[] {1, 3, 1, 1}));
        // finite input, non-finite logits (NaN weights, fp16 overflow) are named in [n, class] terms
        assertEquals("2 of 6 logits are NaN or infinite (the first at [1, 0], -Infinity)", RunCommand.nonFinite(
                new float[] {1, 2, 3, Float.NEGATIVE_INFINITY, 5, Float.NaN}, new long[] {2, 3}, "logits"));
        CliTest.Result fine = cli("run", "--model", "cifar_resnet20", "--input", input().toString(), "--output",
                out.toString(), "--device", "cpu");
        assertEquals("", fine.err());
    }

    /** --threads 100000 started 100,000 native threads; above the limit it is a usage error naming the limit. */
    @Test
    void threadsAboveTheLimitAreAUsageError() throws Exception {
        int limit = Math.max(1024, 4 * Runtime.getRuntime().availableProcessors());
        assertEquals(limit, ModelOptions.maxThreads());
        for (String[] a : new String[][] {
            {"run", "--model", "cifar_resnet20", "--input", input().toString(), "--output", tmp.resolve("y.npy").toString()},
            {"run", "--onnx", input().toString(), "--input", input().toString(), "--output", tmp.resolve("y.npy").toString()},
            {"bench", "--model", "cifar_resnet20", "--batch", "1"}}) {
            String[] args = java.util.Arrays.copyOf(a, a.length + 2);
            args[a.length] = "--threads";
            args[a.length + 1] = "100000";
            CliTest.Result r = cli(args);
            assertCleanError(r, "--threads must be in [1, " + limit + "]");
            assertEquals(2, r.code());
            assertTrue(r.err().contains("Try 'reskern"), r.err());
        }
    }

    /**
     * run --input /dev/stdin (or a FIFO, or {@code <(…)}) was refused as "not a regular file", and there was no
     * {@code -}: a pipeline had to write a temporary file. Now both read the stream, with the file's checks.
     */
    @Test
    void runReadsItsInputFromStandardInputOrAFifo() throws Exception {
        Path in = input();
        byte[] bytes = Files.readAllBytes(in);
        Path want = tmp.resolve("want.npy");
        assertEquals(0, cli("run", "--model", "cifar_resnet20", "--input", in.toString(), "--output", want.toString()).code());
        float[] expected = Npy.read(want).data();

        java.io.InputStream saved = System.in;
        try {
            System.setIn(new java.io.ByteArrayInputStream(bytes));
            Path got = tmp.resolve("stdin.npy");
            CliTest.Result r = cli("run", "--model", "cifar_resnet20", "--input", "-", "--output", got.toString());
            assertEquals(0, r.code(), r.toString());
            assertArrayEquals(expected, Npy.read(got).data());
            System.setIn(new java.io.ByteArrayInputStream(java.util.Arrays.copyOf(bytes, bytes.length - 5)));
            CliTest.Result bad = cli("run", "--model", "cifar_resnet20", "--input", "-", "--output", got.toString());
            assertCleanError(bad, "standard input: npy data: unexpected end of input");
        } finally {
            System.setIn(saved);
        }

        Path fifo = tmp.resolve("x.fifo");
        org.junit.jupiter.api.Assumptions.assumeTrue(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0,
                "mkfifo");
        Thread writer = new Thread(() -> {
            try {
                Files.write(fifo, bytes);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        writer.start();
        Path got = tmp.resolve("fifo.npy");
        CliTest.Result r = cli("run", "--model", "cifar_resnet20", "--input", fifo.toString(), "--output", got.toString());
        writer.join(60_000);
        assertEquals(0, r.code(), r.toString());
        assertArrayEquals(expected, Npy.read(got).data());
    }

    /**
     * run --output /dev/stdout wrote its "wrote …" line on standard output too, after the .npy bytes (so {@code > y.npy}
     * or a pipe got a file with text at its end): that line goes to stderr when the output is standard output.
     */
    @Test
    void theStatusLineStaysOutOfAnNpyOnStandardOutput() throws Exception {
        assertTrue(RunCommand.isStandardOutput(Path.of("/dev/stdout")));
        assertTrue(RunCommand.isStandardOutput(Path.of("/dev/fd/1")));
        assertFalse(RunCommand.isStandardOutput(input()));
        assertFalse(RunCommand.isStandardOutput(tmp.resolve("missing.npy")));
    }

    /** Log lines began with the level's localized name: "INFORMATION:" / "WARNUNG:" under de_DE, not "INFO:". */
    @Test
    void logLevelsAreNotTranslated() {
        Locale saved = Locale.getDefault();
        Locale.setDefault(Locale.GERMANY);
        try {
            java.util.logging.LogRecord r = new java.util.logging.LogRecord(java.util.logging.Level.WARNING, "reskern: x");
            assertEquals("WARNING: reskern: x" + System.lineSeparator(), Main.ONE_LINE_LOGS.format(r));
            r.setThrown(new IllegalStateException("boom"));
            assertTrue(Main.ONE_LINE_LOGS.format(r).startsWith("WARNING: reskern: x" + System.lineSeparator()
                    + "java.lang.IllegalStateException: boom"));
        } finally {
            Locale.setDefault(saved);
        }
    }

    /** bench --batch 1 --size 100000 said "use a smaller --batch", which cannot help at batch 1. */
    @Test
    void aTooLargeBenchInputNamesTheSizeToo() {
        assertCleanError(cli("bench", "--model", "cifar_resnet20", "--device", "cpu", "--batch", "1", "--size", "100000",
                "--iters", "1", "--seconds", "0"), "use a smaller --batch or --size");
    }
}
