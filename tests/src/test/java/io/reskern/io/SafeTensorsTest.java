package io.reskern.io;

import static io.reskern.io.IoTestUtil.assertCode;
import static io.reskern.io.IoTestUtil.concat;
import static io.reskern.io.IoTestUtil.f32;
import static io.reskern.io.IoTestUtil.st;
import static io.reskern.io.IoTestUtil.u16;
import static io.reskern.io.IoTestUtil.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.reskern.ReskernException;
import io.reskern.ReskernException.ErrorCode;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SafeTensorsTest {
    @TempDir
    Path dir;

    /** A file written by hand from the specification: u64 LE length, JSON (padded with spaces to 8), data. */
    static final String SPEC_JSON = "{\"__metadata__\":{\"format\":\"pt\"},"
            + "\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]}} "; // 143 + 1 pad = 144

    static byte[] specBytes() {
        return concat(
                new byte[] {(byte) 144, 0, 0, 0, 0, 0, 0, 0},
                SPEC_JSON.getBytes(StandardCharsets.US_ASCII),
                hex("0000803f00000040000080bf0000003f"), // 1, 2, -1, 0.5
                hex("0000803e000040c0")); // 0.25, -3
    }

    static byte[] hex(String s) {
        byte[] out = new byte[s.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }

    @Test
    void readsHandcraftedSpecFile() throws Exception {
        assertEquals(144, SPEC_JSON.length());
        Path p = write(dir, "spec.safetensors", specBytes());
        try (SafeTensors st = SafeTensors.open(p)) {
            assertEquals(List.of("w", "b"), new ArrayList<>(st.names()));
            assertEquals(Map.of("format", "pt"), st.metadata());
            TensorInfo w = st.info("w");
            assertEquals(DType.F32, w.dtype());
            assertArrayEquals(new long[] {2, 2}, w.shape());
            assertEquals(0, w.byteOffset());
            assertEquals(16, w.byteLength());
            assertEquals(4, w.elementCount());
            assertEquals(new TensorInfo("b", DType.F32, new long[] {2}, 16, 8), st.info("b"));
            assertArrayEquals(new float[] {1, 2, -1, 0.5f}, st.getFloats("w"));
            assertArrayEquals(new float[] {0.25f, -3}, st.getFloats("b"));
            assertArrayEquals(hex("0000803e000040c0"), st.getBytes("b"));
            assertTrue(st.contains("w"));
            assertFalse(st.contains("x"));
        }
    }

    @Test
    void writerProducesTheSpecBytesExactly() throws Exception {
        LinkedHashMap<String, FloatTensor> t = new LinkedHashMap<>();
        t.put("w", new FloatTensor(new long[] {2, 2}, new float[] {1, 2, -1, 0.5f}));
        t.put("b", new FloatTensor(new long[] {2}, new float[] {0.25f, -3}));
        Path p = dir.resolve("out.safetensors");
        SafeTensors.write(p, t, DType.F32, Map.of("format", "pt"));
        assertArrayEquals(specBytes(), Files.readAllBytes(p));
        try (var dirs = Files.list(dir)) {
            assertEquals(1, dirs.count(), "no temporary file left behind");
        }
    }

    @Test
    void mixedDtypesAndNumBatchesTracked() throws Exception {
        String json = "{\"x\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                + "\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[4,10]},"
                + "\"d\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[10,18]},"
                + "\"num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[18,26]}}";
        byte[] data = ByteBuffer.allocate(26).order(ByteOrder.LITTLE_ENDIAN)
                .putShort((short) 0x3f80).putShort((short) 0xc0a0) // 1, -5
                .putShort((short) 0x0001).putShort((short) 0xfc00).putShort((short) 0x8000) // 2^-24, -inf, -0
                .putDouble(1e300) // -> +inf in float
                .putLong(123456789012L).array();
        Path p = write(dir, "mixed.safetensors", st(json, data));
        try (SafeTensors st = SafeTensors.open(p)) {
            assertEquals(List.of("x", "h", "d", "num_batches_tracked"), new ArrayList<>(st.names()));
            assertEquals(List.of("x", "h", "d"), new ArrayList<>(st.floatNames()));
            assertTrue(st.metadata().isEmpty());
            assertArrayEquals(new float[] {1, -5}, st.getFloats("x"));
            float[] h = st.getFloats("h");
            assertEquals(0x1p-24f, h[0]);
            assertEquals(Float.NEGATIVE_INFINITY, h[1]);
            assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(h[2]));
            assertArrayEquals(new float[] {Float.POSITIVE_INFINITY}, st.getFloats("d"));
            assertEquals(0, st.info("d").shape().length);
            assertArrayEquals(new long[] {123456789012L}, st.getLongs("num_batches_tracked"));
            assertCode(ErrorCode.UNSUPPORTED, "unsupported dtype I64 for tensor \"num_batches_tracked\"",
                    () -> st.getFloats("num_batches_tracked"));
            assertCode(ErrorCode.UNSUPPORTED, "unsupported dtype F16", () -> st.getLongs("h"));
        }
    }

    @Test
    void f16AndBf16SpecialValuesFromAFile() throws Exception {
        int[] half = {0x0000, 0x8000, 0x3c00, 0x0001, 0x03ff, 0x0400, 0x7bff, 0x7c00, 0xfc00, 0x7e00};
        int[] bf = {0x0000, 0x8000, 0x3f80, 0x0001, 0x007f, 0x0080, 0x7f7f, 0x7f80, 0xff80, 0x7fc0};
        String json = "{\"h\":{\"dtype\":\"F16\",\"shape\":[10],\"data_offsets\":[0,20]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[10],\"data_offsets\":[20,40]}}";
        Path p = write(dir, "special.safetensors", st(json, concat(u16(half), u16(bf))));
        float[] expHalf = {0f, -0f, 1f, 0x1p-24f, 1023 * 0x1p-24f, 0x1p-14f, 65504f,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};
        float[] expBf = {0f, -0f, 1f, Float.intBitsToFloat(0x10000), Float.intBitsToFloat(0x7f0000), 0x1p-126f,
            Float.intBitsToFloat(0x7f7f0000), Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};
        try (SafeTensors st = SafeTensors.open(p)) {
            assertArrayEquals(expHalf, st.getFloats("h")); // assertArrayEquals compares floats bitwise-ish (NaN=NaN)
            assertArrayEquals(expBf, st.getFloats("b"));
            float[] h = st.getFloats("h");
            assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(h[1]));
        }
    }

    static float[] interesting(int n, long seed) {
        float[] base = {0f, -0f, 1f, -1f, 0.1f, 3.14159f, 65504f, 70000f, 1e-5f, 6e-8f, 1e-30f, Float.MIN_VALUE,
            Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};
        float[] out = new float[n];
        Random r = new Random(seed);
        for (int i = 0; i < n; i++) {
            out[i] = i < base.length ? base[i] : (float) (r.nextGaussian() * Math.pow(10, r.nextInt(10) - 5));
        }
        return out;
    }

    static float expected(DType storeAs, float x) {
        switch (storeAs) {
            case F16: return Half.halfToFloat(Half.floatToHalf(x));
            case BF16: return Half.bf16ToFloat(Half.floatToBf16(x));
            default: return x;
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16", "F64"})
    void roundTrip(DType storeAs) throws Exception {
        LinkedHashMap<String, FloatTensor> t = new LinkedHashMap<>();
        t.put("conv.weight", new FloatTensor(new long[] {4, 3, 3, 3}, interesting(108, 1)));
        t.put("big", new FloatTensor(new long[] {700_001}, interesting(700_001, 2))); // spans several read chunks
        t.put("scalar", new FloatTensor(new long[] {}, new float[] {-2.5f}));
        t.put("empty", new FloatTensor(new long[] {0, 3}, new float[0]));
        t.put("ünïcode \"quoted\"\n", new FloatTensor(new long[] {1}, new float[] {7f}));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("note", "ä \"x\" \\ </script>");
        Path p = dir.resolve("rt-" + storeAs + ".safetensors");
        SafeTensors.write(p, t, storeAs, meta);
        byte[] raw = Files.readAllBytes(p);
        long hlen = ByteBuffer.wrap(raw, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, hlen % 8, "header padded to 8 bytes");
        try (SafeTensors st = SafeTensors.open(p)) {
            assertEquals(new ArrayList<>(t.keySet()), new ArrayList<>(st.names()));
            assertEquals(meta, st.metadata());
            for (Map.Entry<String, FloatTensor> e : t.entrySet()) {
                TensorInfo info = st.info(e.getKey());
                assertEquals(storeAs, info.dtype());
                assertArrayEquals(e.getValue().shape(), info.shape());
                float[] want = e.getValue().data().clone();
                for (int i = 0; i < want.length; i++) {
                    want[i] = expected(storeAs, want[i]);
                }
                assertArrayEquals(want, st.getFloats(e.getKey()), e.getKey());
            }
        }
    }

    @Test
    void writerRejectsMisuse() {
        LinkedHashMap<String, FloatTensor> t = new LinkedHashMap<>();
        t.put("a", new FloatTensor(new long[] {1}, new float[] {1}));
        Path p = dir.resolve("x.safetensors");
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(p, t, DType.I64, null));
        assertThrows(IllegalArgumentException.class, () -> new FloatTensor(new long[] {2, 3}, new float[5]));
        assertThrows(IllegalArgumentException.class, () -> new FloatTensor(new long[] {-1}, new float[0]));
        assertThrows(IllegalArgumentException.class,
                () -> new FloatTensor(new long[] {1L << 32, 1L << 32, 1L << 32}, new float[0]));
        LinkedHashMap<String, FloatTensor> bad = new LinkedHashMap<>();
        bad.put("__metadata__", new FloatTensor(new long[] {1}, new float[] {1}));
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(p, bad, DType.F32, null));
        assertFalse(Files.exists(p));
    }

    @Test
    void unknownNameAndClosedAreProgrammingErrors() throws Exception {
        Path p = write(dir, "spec.safetensors", specBytes());
        SafeTensors st = SafeTensors.open(p);
        assertThrows(IllegalArgumentException.class, () -> st.info("nope"));
        assertThrows(IllegalArgumentException.class, () -> st.getFloats("nope"));
        st.close();
        st.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> st.getFloats("w"));
        assertEquals(2, st.names().size(), "the header stays readable");
    }

    @Test
    void missingFileOrNotARegularFileIsIo() throws Exception {
        assertCode(ErrorCode.IO, "cannot open", () -> SafeTensors.open(dir.resolve("absent.safetensors")));
        assertCode(ErrorCode.IO, "not a regular file", () -> SafeTensors.open(dir));
        assertCode(ErrorCode.IO, "not a regular file", () -> Npy.read(dir));
    }

    @Test
    @org.junit.jupiter.api.Timeout(10)
    void aFifoIsRefusedWithoutBlocking() throws Exception {
        Path fifo = dir.resolve("fifo");
        Process mk;
        try {
            mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
        } catch (java.io.IOException e) {
            mk = null;
        }
        assumeTrue(mk != null && mk.waitFor() == 0, "mkfifo not available");
        assertCode(ErrorCode.IO, "not a regular file", () -> SafeTensors.open(fifo));
        assertCode(ErrorCode.IO, "not a regular file", () -> Npy.read(fifo));
    }

    @Test
    void concurrentReadsAgree() throws Exception {
        LinkedHashMap<String, FloatTensor> t = new LinkedHashMap<>();
        float[] big = interesting(1_500_000, 3);
        t.put("big", new FloatTensor(new long[] {big.length}, big));
        t.put("small", new FloatTensor(new long[] {3}, new float[] {1, 2, 3}));
        Path p = dir.resolve("c.safetensors");
        SafeTensors.write(p, t, DType.F32, null);
        ExecutorService ex = Executors.newFixedThreadPool(8);
        try (SafeTensors st = SafeTensors.open(p)) {
            List<Future<float[]>> fs = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                String name = i % 2 == 0 ? "big" : "small";
                fs.add(ex.submit(() -> st.getFloats(name)));
            }
            for (int i = 0; i < fs.size(); i++) {
                assertArrayEquals(i % 2 == 0 ? big : new float[] {1, 2, 3}, fs.get(i).get());
            }
        } finally {
            ex.shutdownNow();
        }
    }

    @Test
    void anInterruptedReadDoesNotBreakTheInstance() throws Exception {
        Path p = write(dir, "spec.safetensors", specBytes());
        try (SafeTensors st = SafeTensors.open(p)) {
            Thread.currentThread().interrupt();
            try {
                assertCode(ErrorCode.IO, "interrupted", () -> st.getFloats("w"));
            } finally {
                Thread.interrupted(); // clear
            }
            assertArrayEquals(new float[] {1, 2, -1, 0.5f}, st.getFloats("w"));
        }
    }

    @Test
    void fileTruncatedAfterOpenIsBadFile() throws Exception {
        Path p = write(dir, "spec.safetensors", specBytes());
        try (SafeTensors st = SafeTensors.open(p)) {
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                ch.truncate(8 + 144 + 10);
            }
            IoTestUtil.assertBad("tensor \"b\": unexpected end of file", () -> st.getFloats("b"));
        }
    }

    @Test
    void tensorTooLargeForAJavaArrayIsAClearError() throws Exception {
        // A sparse 4 GiB file: valid, but 2^31 elements do not fit a float[].
        String json = "{\"huge\":{\"dtype\":\"BF16\",\"shape\":[2147483648],\"data_offsets\":[0,4294967296]}}";
        byte[] head = st(json, new byte[0]);
        Path p = write(dir, "huge.safetensors", head);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(head.length + (1L << 32));
        }
        try (SafeTensors st = SafeTensors.open(p)) {
            assertEquals(1L << 31, st.info("huge").elementCount());
            assertCode(ErrorCode.UNSUPPORTED, "more than a Java array can hold", () -> st.getFloats("huge"));
            assertCode(ErrorCode.UNSUPPORTED, "more than a Java array can hold", () -> st.getBytes("huge"));
        } finally {
            Files.delete(p);
        }
    }

    @Test
    void unknownFieldsInAnEntryAreIgnored() throws Exception {
        String json = "{\"a\":{\"extra\":[{\"x\":[1,2]}],\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        try (SafeTensors st = SafeTensors.open(write(dir, "u.safetensors", st(json + "    ", f32(9f))))) {
            assertArrayEquals(new float[] {9f}, st.getFloats("a"));
        }
    }

    @Test
    void cifarResnet20Opens() throws Exception {
        Path p = io.reskern.TestEnv.models().resolve("cifar10-resnet").resolve("resnet20.safetensors");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(p), "no " + p);
        try (SafeTensors st = SafeTensors.open(p)) {
            assertTrue(st.names().contains("linear.weight"));
            assertArrayEquals(new long[] {10, 64}, st.info("linear.weight").shape());
            assertEquals(DType.F32, st.info("linear.weight").dtype());
            float[] w = st.getFloats("linear.weight");
            assertEquals(640, w.length);
            for (float x : w) {
                assertTrue(Float.isFinite(x));
            }
            assertEquals(10, st.getFloats("linear.bias").length);
            for (String name : st.names()) {
                assertEquals(st.info(name).elementCount(), st.getFloats(name).length);
            }
        }
    }
}
