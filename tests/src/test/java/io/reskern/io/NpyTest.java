package io.reskern.io;

import static io.reskern.io.IoTestUtil.assertBad;
import static io.reskern.io.IoTestUtil.assertCode;
import static io.reskern.io.IoTestUtil.concat;
import static io.reskern.io.IoTestUtil.resource;
import static io.reskern.io.IoTestUtil.write;
import static io.reskern.io.IoTestUtil.zeros;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.ReskernException.ErrorCode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Reads files written by NumPy (fixtures made by npy/gen_fixtures.py), writes files NumPy writes, rejects junk. */
class NpyTest {
    @TempDir
    Path dir;

    private static NpyArray fixture(String name) throws Exception {
        return Npy.read(resource("npy/" + name));
    }

    @Test
    void readsNumpyFloat32() throws Exception {
        NpyArray a = fixture("f4_2x3.npy");
        assertArrayEquals(new long[] {2, 3}, a.shape());
        assertEquals("f4", a.dtype());
        assertFalse(a.isBytes());
        assertArrayEquals(new float[] {-1, -0.5f, 0, 0.5f, 1, 1.5f}, a.data());
        assertThrows(IllegalStateException.class, a::bytes);

        NpyArray s = fixture("f4_scalar.npy");
        assertArrayEquals(new long[] {}, s.shape());
        assertArrayEquals(new float[] {3.25f}, s.data());
        assertArrayEquals(new long[] {3}, fixture("f4_3.npy").shape());
        assertArrayEquals(new float[] {1.5f, -2f, 7f}, fixture("f4_3.npy").data());
        assertArrayEquals(new long[] {0}, fixture("f4_empty.npy").shape());
        assertEquals(0, fixture("f4_empty.npy").size());
        assertArrayEquals(new long[] {12345678901L, 0}, fixture("f4_bigdim_0.npy").shape());
        float[] iota = new float[24];
        for (int i = 0; i < 24; i++) {
            iota[i] = i;
        }
        assertArrayEquals(iota, fixture("f4_1x2x3x4.npy").data());
    }

    @Test
    void readsOtherDtypesAndByteOrders() throws Exception {
        assertArrayEquals(new float[] {1f, -2.5f, Float.POSITIVE_INFINITY, 1e-40f}, fixture("f4_be_2x2.npy").data());
        NpyArray d = fixture("f8_4.npy");
        assertEquals("f8", d.dtype());
        assertArrayEquals(new float[] {0.1f, Float.POSITIVE_INFINITY, -0f, Float.NaN}, d.data());
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(d.data()[2]));
        assertArrayEquals(new float[] {Float.MIN_VALUE, -3f}, fixture("f8_be_2.npy").data());
        assertArrayEquals(new float[] {1f, 0x1p-24f, Float.NEGATIVE_INFINITY, 65504f, -0f, Float.NaN},
                fixture("f2_6.npy").data());
    }

    @Test
    void readsBytes() throws Exception {
        NpyArray u = fixture("u1_2x2x3.npy");
        assertTrue(u.isBytes());
        assertEquals("u1", u.dtype());
        assertArrayEquals(new long[] {2, 2, 3}, u.shape());
        byte[] b = u.bytes();
        float[] f = u.data();
        for (int i = 0; i < 12; i++) {
            assertEquals(i * 20, b[i] & 0xff);
            assertEquals(i * 20, f[i]);
        }
        assertEquals(220, b[11] & 0xff); // unsigned
    }

    @Test
    void transposesFortranOrder() throws Exception {
        NpyArray f = fixture("f4_fortran_2x3x4.npy");
        assertArrayEquals(new long[] {2, 3, 4}, f.shape());
        float[] iota = new float[24];
        for (int i = 0; i < 24; i++) {
            iota[i] = i;
        }
        assertArrayEquals(iota, f.data());
        assertArrayEquals(new byte[] {0, 1, 2, 3, 4, 5}, fixture("u1_fortran_3x2.npy").bytes());
    }

    @Test
    void readsVersions2And3() throws Exception {
        assertArrayEquals(fixture("f4_2x3.npy").data(), fixture("f4_v2_2x3.npy").data());
        assertArrayEquals(fixture("f4_2x3.npy").data(), fixture("f4_v3_2x3.npy").data());
    }

    @Test
    void unsupportedDtypesAreClear() {
        assertCode(ErrorCode.UNSUPPORTED, "unsupported npy dtype '<i8'", () -> fixture("i8_3.npy"));
        assertCode(ErrorCode.UNSUPPORTED, "structured", () -> fixture("structured.npy"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"f4_2x3.npy", "f4_scalar.npy", "f4_3.npy", "f4_empty.npy", "f4_1x2x3x4.npy",
        "f4_bigdim_0.npy"})
    void writerMatchesNumpyByteForByte(String name) throws Exception {
        NpyArray a = fixture(name);
        Path p = dir.resolve(name);
        Npy.write(p, a.shape(), a.data());
        assertArrayEquals(Files.readAllBytes(resource("npy/" + name)), Files.readAllBytes(p));
    }

    @Test
    void roundTripsRandomShapes() throws Exception {
        Random r = new Random(11);
        for (int k = 0; k < 30; k++) {
            int rank = r.nextInt(5);
            long[] shape = new long[rank];
            int n = 1;
            for (int i = 0; i < rank; i++) {
                shape[i] = r.nextInt(6);
                n *= (int) shape[i];
            }
            float[] data = new float[n];
            for (int i = 0; i < n; i++) {
                data[i] = (float) r.nextGaussian();
            }
            Path p = dir.resolve("rt.npy");
            Npy.write(p, shape, data);
            assertEquals(0, (Files.size(p) - 4L * n) % 64, "data 64-byte aligned");
            NpyArray a = Npy.read(p);
            assertArrayEquals(shape, a.shape());
            assertArrayEquals(data, a.data());
        }
        float[] big = new float[600_000]; // several read chunks
        for (int i = 0; i < big.length; i++) {
            big[i] = i * 0.25f;
        }
        Npy.write(dir.resolve("big.npy"), new long[] {1000, 600}, big);
        assertArrayEquals(big, Npy.read(dir.resolve("big.npy")).data());
    }

    @Test
    void writerRejectsMisuse() {
        assertThrows(IllegalArgumentException.class, () -> Npy.write(dir.resolve("x.npy"), new long[] {2}, new float[3]));
        assertThrows(IllegalArgumentException.class, () -> Npy.write(dir.resolve("x.npy"), new long[] {-1}, new float[0]));
        assertFalse(Files.exists(dir.resolve("x.npy")));
    }

    // ------------------------------------------------------------------------------------------- hostile

    /** A v1.0 file with the given header text (padded with spaces and a newline) and data. */
    static byte[] npy(String header, byte[] data) {
        return npy(1, header + "\n", data);
    }

    static byte[] npy(int major, String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer pre = ByteBuffer.allocate(major == 1 ? 10 : 12).order(ByteOrder.LITTLE_ENDIAN);
        pre.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) {
            pre.putShort((short) h.length);
        } else {
            pre.putInt(h.length);
        }
        return concat(pre.array(), h, data);
    }

    static String hdr(String descr, String fortran, String shape) {
        return "{'descr': " + descr + ", 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
    }

    private int n;

    private void rejects(byte[] file, String fragment) {
        Path p = write(dir, "h" + (n++) + ".npy", file);
        assertBad(fragment, () -> Npy.read(p));
    }

    @Test
    void handcraftedHeaderVariantsAreAccepted() throws Exception {
        byte[] f = IoTestUtil.f32(1, 2, 3, 4, 5, 6);
        Path p = write(dir, "ok.npy", npy("{\"shape\":(2,3),\"descr\":\"<f4\",\"fortran_order\":False}", f));
        assertArrayEquals(new long[] {2, 3}, Npy.read(p).shape());
        p = write(dir, "ok2.npy", npy(hdr("'<f4'", "False", "(6L,)"), f)); // Python 2 long literal
        assertArrayEquals(new long[] {6}, Npy.read(p).shape());
        p = write(dir, "ok3.npy", npy(3, hdr("'<f4'", "False", "(6,)") + "  \n", f));
        assertArrayEquals(new long[] {6}, Npy.read(p).shape());
    }

    @Test
    void tooShortOrBadMagic() {
        rejects(new byte[0], "too short for an npy preamble");
        rejects(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0}, "too short");
        rejects(concat("\u0093NUMPX".getBytes(StandardCharsets.ISO_8859_1), zeros(10)), "bad magic");
        rejects(concat("PK\u0003\u0004".getBytes(StandardCharsets.ISO_8859_1), zeros(20)), "bad magic");
        rejects(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0, 0, 0}, "too short for an npy 2.0 preamble");
    }

    @Test
    void unsupportedVersion() {
        byte[] ok = npy(hdr("'<f4'", "False", "()"), zeros(4));
        byte[] v4 = ok.clone();
        v4[6] = 4;
        rejects(v4, "unsupported npy format version 4.0");
        byte[] v11 = ok.clone();
        v11[7] = 1;
        rejects(v11, "unsupported npy format version 1.1");
    }

    @Test
    void headerLengthHugeOrPastTheEnd() {
        byte[] f = npy(hdr("'<f4'", "False", "()"), zeros(4));
        ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putShort(8, (short) 0xffff);
        rejects(f, "extends past the end of the file");
        byte[] v2 = npy(2, hdr("'<f4'", "False", "()") + "\n", zeros(4));
        ByteBuffer.wrap(v2).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 0xfffffff0);
        rejects(v2, "exceeds the limit");
    }

    @Test
    void headerNotUtf8InVersion3() {
        byte[] h = concat("{'descr': '<f4', 'fortran_order': False, 'shape': (), '".getBytes(StandardCharsets.US_ASCII),
                new byte[] {(byte) 0xff}, "': 1}\n".getBytes(StandardCharsets.US_ASCII));
        ByteBuffer pre = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN)
                .put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 3, 0}).putInt(h.length);
        rejects(concat(pre.array(), h, zeros(4)), "not valid UTF-8");
    }

    @Test
    void malformedHeaderDict() {
        byte[] d = zeros(4);
        rejects(npy("", d), "unexpected end of header");
        rejects(npy("[1]", d), "expected '{'");
        rejects(npy("{'descr': '<f4', 'shape': ()}", d), "missing 'fortran_order'");
        rejects(npy("{'fortran_order': False, 'shape': ()}", d), "missing 'descr'");
        rejects(npy("{'descr': '<f4', 'fortran_order': False}", d), "missing 'shape'");
        rejects(npy(hdr("'<f4'", "False", "()").replace("}", "'x': 1}"), d), "unexpected key 'x'");
        rejects(npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}", d), "duplicate key 'descr'");
        rejects(npy(hdr("'<f4'", "0", "()"), d), "'fortran_order' is not True or False");
        rejects(npy(hdr("'<f4'", "false", "()"), d), "not True or False");
        rejects(npy(hdr("4", "False", "()"), d), "expected 'descr'");
        rejects(npy(hdr("'<f4", "False", "()"), d), "bad npy header"); // unterminated string
        rejects(npy(hdr("'<f\\x34'", "False", "()"), d), "escapes");
        rejects(npy(hdr("'<f4'", "False", "()") + " junk", d), "trailing content after the header dict");
        rejects(npy("{'descr': '<f4' 'fortran_order': False, 'shape': ()}", d), "expected ',' or '}'");
    }

    @Test
    void malformedShape() {
        byte[] d = zeros(12);
        rejects(npy(hdr("'<f4'", "False", "(3)"), d), "is not a tuple");
        rejects(npy(hdr("'<f4'", "False", "[3]"), d), "'shape' is not a tuple");
        rejects(npy(hdr("'<f4'", "False", "3"), d), "'shape' is not a tuple");
        rejects(npy(hdr("'<f4'", "False", "(3,,)"), d), "not an integer");
        rejects(npy(hdr("'<f4'", "False", "(3 4)"), d), "expected ',' or ')'");
        rejects(npy(hdr("'<f4'", "False", "(-3,)"), d), "negative dimension -3");
        rejects(npy(hdr("'<f4'", "False", "(3.0,)"), d), "expected ',' or ')'");
        rejects(npy(hdr("'<f4'", "False", "(99999999999999999999,)"), d), "not an integer in range");
        rejects(npy(hdr("'<f4'", "False", "(" + "1, ".repeat(65) + ")"), d), "more than 64 dimensions");
    }

    @Test
    void hugeShapes() {
        rejects(npy(hdr("'<f4'", "False", "(4294967296, 4294967296)"), zeros(4)), "overflows");
        rejects(npy(hdr("'<f8'", "False", "(2305843009213693952,)"), zeros(4)), "overflows");
        // fits in a long, far larger than the file: rejected before any allocation
        rejects(npy(hdr("'<f4'", "False", "(1000000000000,)"), zeros(4)), "data truncated");
        rejects(npy(hdr("'|u1'", "False", "(3000000000,)"), zeros(4)), "data truncated");
    }

    @Test
    void truncatedOrTrailingData() {
        rejects(npy(hdr("'<f4'", "False", "(2, 3)"), zeros(23)), "data truncated: <f4[2, 3] needs 24 bytes, the file has 23");
        rejects(npy(hdr("'<f4'", "False", "(2, 3)"), zeros(25)), "1 trailing bytes");
        rejects(npy(hdr("'|u1'", "False", "(0,)"), zeros(1)), "trailing bytes");
    }

    @Test
    void missingFileIsIo() {
        assertCode(ErrorCode.IO, "cannot open", () -> Npy.read(dir.resolve("absent.npy")));
    }

    /** Written files get a new file's default permissions (the umask's), not createTempFile's owner-only 0600. */
    @org.junit.jupiter.api.Test
    void writtenFilesHaveDefaultPermissions() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.FileSystems.getDefault().supportedFileAttributeViews()
                .contains("posix"), "POSIX permissions");
        java.nio.file.Path plain = java.nio.file.Files.createFile(dir.resolve("plain"));
        java.nio.file.Path out = dir.resolve("out.npy");
        Npy.write(out, new long[] {2}, new float[] {1f, 2f});
        org.junit.jupiter.api.Assertions.assertEquals(java.nio.file.Files.getPosixFilePermissions(plain),
                java.nio.file.Files.getPosixFilePermissions(out));
        // replacing a file keeps its permissions
        java.nio.file.Files.setPosixFilePermissions(out, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r-----"));
        Npy.write(out, new long[] {2}, new float[] {3f, 4f});
        org.junit.jupiter.api.Assertions.assertEquals("rw-r-----", java.nio.file.attribute.PosixFilePermissions.toString(
                java.nio.file.Files.getPosixFilePermissions(out)));
    }

    /** A stream that hands out at most {@code step} bytes per read, as a pipe may. */
    private static java.nio.channels.ReadableByteChannel trickle(byte[] data, int step) {
        java.io.InputStream in = new java.io.ByteArrayInputStream(data);
        return new java.nio.channels.ReadableByteChannel() {
            boolean open = true;

            @Override
            public int read(ByteBuffer dst) throws java.io.IOException {
                byte[] b = new byte[Math.min(step, dst.remaining())];
                int n = in.read(b);
                if (n > 0) {
                    dst.put(b, 0, n);
                }
                return n;
            }

            @Override
            public boolean isOpen() {
                return open;
            }

            @Override
            public void close() {
                open = false;
            }
        };
    }

    @Test
    void aStreamReadsLikeTheFileEveryFixtureAndEveryRejection() throws Exception {
        // `reskern run --input -` (standard input, a pipe): the same arrays, the same error codes
        Path folder = resource("npy/f4_2x3.npy").getParent();
        java.util.List<Path> files = new java.util.ArrayList<>();
        try (var list = Files.list(folder)) {
            list.filter(f -> f.toString().endsWith(".npy")).sorted().forEach(files::add);
        }
        assertTrue(files.size() >= 10, files.toString());
        Random r = new Random(3);
        byte[] good = Files.readAllBytes(resource("npy/f4_1x2x3x4.npy"));
        java.util.List<byte[]> cases = new java.util.ArrayList<>();
        for (Path f : files) {
            cases.add(Files.readAllBytes(f));
        }
        cases.add(java.util.Arrays.copyOf(good, good.length - 1));   // truncated data
        cases.add(java.util.Arrays.copyOf(good, good.length + 3));   // trailing bytes
        cases.add(java.util.Arrays.copyOf(good, 9));                  // short preamble
        for (int k = 0; k < 200; k++) {                               // mutants
            byte[] m = good.clone();
            m[r.nextInt(m.length)] ^= (byte) (1 << r.nextInt(8));
            cases.add(r.nextBoolean() ? m : java.util.Arrays.copyOf(m, r.nextInt(m.length + 1)));
        }
        for (byte[] c : cases) {
            Path f = write(dir, "case.npy", c);
            NpyArray want = null;
            ErrorCode wantCode = null;
            try {
                want = Npy.read(f);
            } catch (io.reskern.ReskernException e) {
                wantCode = e.code();
            }
            for (int step : new int[] {1, 7, 1 << 20}) {
                try {
                    NpyArray got = Npy.read(trickle(c, step), "standard input");
                    assertTrue(want != null, "the stream read what the file refused (" + wantCode + ")");
                    assertArrayEquals(want.shape(), got.shape());
                    assertEquals(want.dtype(), got.dtype());
                    if (want.isBytes()) {
                        assertArrayEquals(want.bytes(), got.bytes());
                    } else {
                        assertArrayEquals(want.data(), got.data());
                    }
                } catch (io.reskern.ReskernException e) {
                    // a file too short for what its header promises is BAD_FILE before anything is read; a stream
                    // cannot know, and an array above a Java array's size is refused before its data is awaited
                    boolean tooBig = e.code() == ErrorCode.UNSUPPORTED && e.getMessage().contains("more than a Java array");
                    assertTrue(e.code() == wantCode || (tooBig && wantCode == ErrorCode.BAD_FILE), wantCode + " / " + e.getMessage());
                    assertTrue(e.getMessage().startsWith("standard input: "), e.getMessage());
                }
            }
        }
    }

    @Test
    void aStreamWhoseHeaderPromisesGigabytesAllocatesOnlyWhatArrives() throws Exception {
        // a file's size is checked before allocating; a stream has no size, so its arrays grow with its data
        byte[] header = "{'descr': '<f4', 'fortran_order': False, 'shape': (536870000,), }".getBytes(StandardCharsets.ISO_8859_1);
        int hlen = (header.length + 10 + 1 + 63) / 64 * 64 - 10;
        ByteBuffer b = ByteBuffer.allocate(10 + hlen + 4000).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.ISO_8859_1)).put((byte) 1).put((byte) 0).putShort((short) hlen);
        b.put(header);
        while (b.position() < 10 + hlen - 1) {
            b.put((byte) ' ');
        }
        b.put((byte) '\n');
        long before = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        io.reskern.ReskernException e = assertThrows(io.reskern.ReskernException.class,
                () -> Npy.read(trickle(b.array(), 1 << 16), "standard input"));
        assertEquals(ErrorCode.BAD_FILE, e.code());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        long after = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        assertTrue(after - before < 256L << 20, "held " + ((after - before) >> 20) + " MiB for 4000 bytes of data");
    }
}
