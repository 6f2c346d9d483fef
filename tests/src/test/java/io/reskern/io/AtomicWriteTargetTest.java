package io.reskern.io;

import static io.reskern.io.IoTestUtil.assertCode;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.reskern.ReskernException.ErrorCode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the atomic writers (npy, safetensors) do with a target that is not a plain file. They used to write a sibling
 * and move it over the target: a symbolic link became a file, and a device or FIFO was replaced by a regular file
 * ({@code reskern run --output /dev/null} as root replaced /dev/null; {@code --output /dev/stdout} wrote nothing to
 * standard output). A device takes the same path as the FIFO here (not tested on /dev/null itself: a regression would
 * replace the machine's /dev/null).
 */
class AtomicWriteTargetTest {
    @TempDir
    Path tmp;

    private static final float[] DATA = {1f, -2f, 3.5f, 4f, 5f, 6f};

    @Test
    void aSymbolicLinkStaysALinkAndItsFileIsWritten() throws Exception {
        Path target = Files.writeString(tmp.resolve("target.npy"), "old");
        Path link = Files.createSymbolicLink(tmp.resolve("link.npy"), target.getFileName());
        Npy.write(link, new long[] {2, 3}, DATA);
        assertTrue(Files.isSymbolicLink(link), "the link was replaced by a file");
        assertArrayEquals(DATA, Npy.read(target).data());
        Path st = tmp.resolve("w.safetensors");
        Path stLink = Files.createSymbolicLink(tmp.resolve("w-link.safetensors"), st);
        Files.writeString(st, "old");
        LinkedHashMap<String, FloatTensor> m = new LinkedHashMap<>();
        m.put("a", new FloatTensor(new long[] {6}, DATA));
        SafeTensors.write(stLink, m, DType.F32, Map.of());
        assertTrue(Files.isSymbolicLink(stLink));
        try (SafeTensors s = SafeTensors.open(st)) {
            assertArrayEquals(DATA, s.getFloats("a"));
        }
    }

    @Test
    void aFifoIsWrittenInPlaceNotReplaced() throws Exception {
        Path fifo = tmp.resolve("out.npy");
        Process p;
        try {
            p = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        } catch (java.io.IOException e) {
            assumeTrue(false, "no mkfifo: " + e);
            return;
        }
        assumeTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0, "mkfifo failed");
        CompletableFuture<byte[]> reader = CompletableFuture.supplyAsync(() -> {
            try {
                return Files.readAllBytes(fifo);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        Npy.write(fifo, new long[] {2, 3}, DATA);
        byte[] got = reader.get(30, TimeUnit.SECONDS);
        assertTrue(Files.exists(fifo) && !Files.isRegularFile(fifo), "the FIFO was replaced by a regular file");
        Path copy = Files.write(tmp.resolve("copy.npy"), got);
        assertArrayEquals(DATA, Npy.read(copy).data());
    }

    @Test
    void aFolderIsRefusedNotReplaced() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("empty-folder"));
        assertCode(ErrorCode.IO, "is a folder", () -> Npy.write(dir, new long[] {2, 3}, DATA));
        assertTrue(Files.isDirectory(dir));
        assertEquals(0, Files.list(dir).count());
    }
}
