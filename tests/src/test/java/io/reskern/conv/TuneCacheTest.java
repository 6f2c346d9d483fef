package io.reskern.conv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import io.reskern.backend.conv.Measured;
import io.reskern.backend.conv.TuneCache;
import io.reskern.backend.conv.TuneEnv;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tuning cache: keys, round trip, corrupt files, concurrent writers (threads and processes). */
class TuneCacheTest {
    @TempDir
    Path tmp;

    static final TuneEnv ENV = new TuneEnv("NVIDIA H100 80GB HBM3", 9, 0, 132, 13000, 13000, "0.1.0", "abc123-a21", 91300, 130100);

    static TuneCache.Entry entry(double ownMs, Double cudnnMs) {
        return new TuneCache.Entry(true, new Measured("own:tc_f16_128x64", ownMs, 0.01, 0), cudnnMs != null,
                cudnnMs != null ? new Measured("cudnn:IMPLICIT_PRECOMP_GEMM", cudnnMs, 0.02, 4096) : null, List.of("own:x"), 1);
    }

    /** Captures WARNING lines of the cache's logger. */
    static final class Warnings extends Handler implements AutoCloseable {
        final List<String> lines = new ArrayList<>();
        final Logger log = Logger.getLogger(TuneCache.class.getName());

        Warnings() {
            log.addHandler(this);
        }

        @Override
        public void publish(LogRecord r) {
            if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                lines.add(r.getMessage());
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            log.removeHandler(this);
        }
    }

    @Test
    void keysSeparateEverythingThatMatters() {
        String k = ENV.key("fp16", "conv n1 ...");
        assertTrue(k.contains("gpu=NVIDIA H100 80GB HBM3") && k.contains("cc=9.0") && k.contains("sm=132") && k.contains("cudnn=91300")
                && k.contains("cublas=130100") && k.contains("reskern=0.1.0+abc123-a21") && k.contains("driver=13000"), k);
        TuneEnv[] others = {
            new TuneEnv("NVIDIA H200", 9, 0, 132, 13000, 13000, "0.1.0", "abc123-a21", 91300, 130100),
            new TuneEnv("NVIDIA H100 80GB HBM3", 9, 0, 114, 13000, 13000, "0.1.0", "abc123-a21", 91300, 130100),
            new TuneEnv("NVIDIA H100 80GB HBM3", 9, 0, 132, 13010, 13000, "0.1.0", "abc123-a21", 91300, 130100),
            new TuneEnv("NVIDIA H100 80GB HBM3", 9, 0, 132, 13000, 13000, "0.1.0", "def456-a21", 91300, 130100),
            new TuneEnv("NVIDIA H100 80GB HBM3", 9, 0, 132, 13000, 13000, "0.1.0", "abc123-a21", 91400, 130100),
            new TuneEnv("NVIDIA H100 80GB HBM3", 9, 0, 132, 13000, 13000, "0.1.0", "abc123-a21", 91300, 130200),
        };
        for (TuneEnv o : others) {
            assertTrue(!o.key("fp16", "conv n1 ...").equals(k), o.toString());
        }
        assertTrue(!ENV.key("bf16", "conv n1 ...").equals(k));
    }

    @Test
    void roundTripAcrossInstances() {
        TuneCache a = new TuneCache(tmp);
        a.putAll(Map.of("k1", entry(1.5, 1.2), "k2", entry(0.5, null)));
        TuneCache b = new TuneCache(tmp);
        assertEquals(2, b.size());
        TuneCache.Entry e = b.get("k1");
        assertEquals(1.5, e.own.ms(), 0);
        assertEquals("cudnn:IMPLICIT_PRECOMP_GEMM", e.cudnn.id());
        assertEquals(4096, e.cudnn.workspace());
        assertTrue(b.get("k2").ownTimed && !b.get("k2").cudnnTimed && b.get("k2").cudnn == null);
        assertTrue(JsonParser.parseString(read(tmp.resolve(TuneCache.FILE_NAME))).getAsJsonObject().has("entries"));
    }

    static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void corruptFilesAreIgnoredWithOneLineAndReplaced() throws Exception {
        String[] bad = {"{not json", "", "[1,2,3]", "{\"format\":\"other\",\"entries\":{}}",
            "{\"format\":\"reskern-conv-tuning-1\",\"entries\":{\"k\":{\"ownTimed\":true,\"own\":{\"id\":\"own:a\",\"ms\":-1,\"spread\":0}}}}",
            "{\"format\":\"reskern-conv-tuning-1\",\"entries\":{\"k\":{\"ownTimed\":true,\"own\":{\"id\":\"cudnn:a\",\"ms\":1,\"spread\":0}}}}",
            "{\"format\":\"reskern-conv-tuning-1\",\"entries\":{\"k\":{\"own\":{\"id\":\"own:a\",\"ms\":1,\"spread\":0}}}}",
            "{\"format\":\"reskern-conv-tuning-1\",\"entries\":{\"k\":{\"ownTimed\":true,\"own\":{\"id\":\"own:a\",\"ms\":1,\"spr"};
        for (String content : bad) {
            Path d = Files.createTempDirectory(tmp, "c");
            Files.writeString(d.resolve(TuneCache.FILE_NAME), content);
            try (Warnings w = new Warnings()) {
                TuneCache c = new TuneCache(d);
                assertNull(c.get("k"), content);
                c.get("k2");
                assertTrue(w.lines.size() <= 1, "at most one log line: " + w.lines);
                c.putAll(Map.of("k3", entry(1, 2.0)));
            }
            assertNotNull(new TuneCache(d).get("k3"), "rewritten after " + content);
        }
    }

    @Test
    void unwritableFolderIsReportedOnceAndKeptInMemory() throws Exception {
        Path file = tmp.resolve("not-a-dir");
        Files.writeString(file, "x");
        try (Warnings w = new Warnings()) {
            TuneCache c = new TuneCache(file.resolve("sub"));
            c.putAll(Map.of("k1", entry(1, null)));
            c.putAll(Map.of("k2", entry(1, null)));
            assertNotNull(c.get("k1"));
            assertNotNull(c.get("k2"));
            assertEquals(1, w.lines.size(), w.lines.toString());
        }
        TuneCache mem = new TuneCache(null);
        mem.putAll(Map.of("k", entry(1, null)));
        assertNotNull(mem.get("k"));
        assertNull(mem.file());
    }

    @Test
    void defaultFolderFollowsTheProperty() {
        String old = System.getProperty("reskern.tuneCache");
        try {
            System.setProperty("reskern.tuneCache", tmp.toString());
            assertEquals(tmp, TuneCache.defaultDir());
            System.setProperty("reskern.tuneCache", "off");
            assertNull(TuneCache.defaultDir());
        } finally {
            if (old == null) {
                System.clearProperty("reskern.tuneCache");
            } else {
                System.setProperty("reskern.tuneCache", old);
            }
        }
    }

    @Test
    void concurrentThreadsLoseNothing() throws Exception {
        int threads = 8;
        int each = 25;
        ExecutorService ex = java.util.concurrent.Executors.newFixedThreadPool(threads);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> fs = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int tt = t;
            fs.add(ex.submit(() -> {
                TuneCache c = new TuneCache(tmp);
                go.await();
                for (int i = 0; i < each; i++) {
                    c.putAll(Map.of("t" + tt + "-" + i, entry(1 + i, null)));
                }
                return null;
            }));
        }
        go.countDown();
        for (Future<?> f : fs) {
            f.get(60, TimeUnit.SECONDS);
        }
        ex.shutdown();
        assertEquals(threads * each, new TuneCache(tmp).size());
    }

    /** Child process: writes N entries one by one into the cache folder (argv: dir prefix n). */
    public static void main(String[] args) {
        TuneCache c = new TuneCache(Path.of(args[0]));
        int n = Integer.parseInt(args[2]);
        for (int i = 0; i < n; i++) {
            c.putAll(Map.of(args[1] + i, entry(1 + i, 0.5 + i)));
        }
    }

    @Test
    void concurrentProcessesLoseNothingAndNeverTearTheFile() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("java.class.path");
        int procs = 3;
        int each = 30;
        List<Process> ps = new ArrayList<>();
        for (int p = 0; p < procs; p++) {
            ps.add(new ProcessBuilder(java, "-cp", cp, TuneCacheTest.class.getName(), tmp.toString(), "p" + p + "-", "" + each)
                    .redirectErrorStream(true).redirectOutput(new File(tmp.toFile(), "child" + p + ".log")).start());
        }
        // meanwhile this process reads the file again and again: it must always parse
        Path f = tmp.resolve(TuneCache.FILE_NAME);
        int reads = 0;
        while (ps.stream().anyMatch(Process::isAlive)) {
            if (Files.exists(f)) {
                JsonParser.parseString(read(f)); // a torn file would throw here
                reads++;
            }
            Thread.sleep(2);
        }
        for (int p = 0; p < procs; p++) {
            assertEquals(0, ps.get(p).waitFor(), read(tmp.resolve("child" + p + ".log")));
        }
        assertEquals(procs * each, new TuneCache(tmp).size(), "entries of every process (" + reads + " reads while writing)");
    }
}
