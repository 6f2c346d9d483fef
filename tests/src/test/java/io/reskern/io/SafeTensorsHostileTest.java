package io.reskern.io;

import static io.reskern.io.IoTestUtil.assertBad;
import static io.reskern.io.IoTestUtil.concat;
import static io.reskern.io.IoTestUtil.f32;
import static io.reskern.io.IoTestUtil.st;
import static io.reskern.io.IoTestUtil.write;
import static io.reskern.io.IoTestUtil.zeros;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One malformed file per validation rule: each must be BAD_FILE with a message naming the problem. */
class SafeTensorsHostileTest {
    @TempDir
    Path dir;

    private int n;

    private void rejects(byte[] file, String fragment) {
        Path p = write(dir, "h" + (n++) + ".safetensors", file);
        assertBad(fragment, () -> SafeTensors.open(p).close());
    }

    private void rejectsJson(String json, byte[] data, String fragment) {
        rejects(st(json, data), fragment);
    }

    private static String entry(String name, String dtype, String shape, String offsets) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets
                + "}";
    }

    @Test
    void fileShorterThan8Bytes() {
        rejects(new byte[0], "shorter than the 8-byte header length");
        rejects(new byte[] {2, 0, 0, 0, 0}, "shorter than the 8-byte header length");
    }

    @Test
    void headerLengthNegative() {
        rejects(st(-1L, "{}".getBytes(StandardCharsets.US_ASCII), zeros(0)), "header length 18446744073709551615 out of range");
        rejects(st(Long.MIN_VALUE, new byte[8], zeros(0)), "out of range");
    }

    @Test
    void headerLengthOver100MiB() {
        rejects(st((100L << 20) + 1, "{}".getBytes(StandardCharsets.US_ASCII), zeros(0)), "out of range");
    }

    @Test
    void headerLengthBeyondTheFile() {
        rejects(st(1000, "{}".getBytes(StandardCharsets.US_ASCII), zeros(10)), "exceeds the file");
    }

    @Test
    void headerNotUtf8() {
        rejects(st(4, new byte[] {'{', (byte) 0xff, (byte) 0xfe, '}'}, zeros(0)), "not valid UTF-8");
        rejects(st(5, new byte[] {'{', '"', (byte) 0xc3, '"', '}'}, zeros(0)), "not valid UTF-8"); // truncated seq
    }

    @Test
    void headerNotJson() {
        rejectsJson("{\"a\":", zeros(0), "not valid JSON");
        rejectsJson("", zeros(0), "not valid JSON");
        rejectsJson("{'a':{}}", zeros(0), "not valid JSON"); // lenient syntax refused
        rejectsJson("{/*c*/}", zeros(0), "not valid JSON");
        rejectsJson("{}{}", zeros(0), "JSON");
        rejectsJson("{} x", zeros(0), "JSON");
    }

    @Test
    void headerNotAnObject() {
        rejectsJson("[1,2]", zeros(0), "header is not a JSON object");
        rejectsJson("\"x\"", zeros(0), "header is not a JSON object");
        rejectsJson("null", zeros(0), "header is not a JSON object");
    }

    @Test
    void duplicateKeys() {
        String a = entry("a", "F32", "[1]", "[0,4]");
        rejectsJson("{" + a + "," + entry("a", "F32", "[1]", "[4,8]") + "}", zeros(8), "duplicate key \"a\"");
        rejectsJson("{\"__metadata__\":{},\"__metadata__\":{}}", zeros(0), "duplicate key \"__metadata__\"");
        rejectsJson("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", zeros(0), "duplicate key \"k\" in __metadata__");
        rejectsJson("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", zeros(4),
                "tensor \"a\": duplicate field \"dtype\"");
    }

    @Test
    void missingFields() {
        rejectsJson("{\"t\":{\"shape\":[1],\"data_offsets\":[0,4]}}", zeros(4), "tensor \"t\": missing \"dtype\"");
        rejectsJson("{\"t\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", zeros(4), "tensor \"t\": missing \"shape\"");
        rejectsJson("{\"t\":{\"dtype\":\"F32\",\"shape\":[1]}}", zeros(4), "tensor \"t\": missing \"data_offsets\"");
    }

    @Test
    void wrongJsonTypes() {
        rejectsJson("{\"t\":[]}", zeros(0), "tensor \"t\": entry is not a JSON object");
        rejectsJson("{\"t\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", zeros(4),
                "tensor \"t\": \"dtype\" is not a string");
        rejectsJson("{" + entry("t", "F32", "\"1\"", "[0,4]") + "}", zeros(4), "tensor \"t\": \"shape\" is not an array");
        rejectsJson("{" + entry("t", "F32", "[\"1\"]", "[0,4]") + "}", zeros(4), "\"shape\" element 0 is not a number");
        rejectsJson("{" + entry("t", "F32", "[1.5]", "[0,4]") + "}", zeros(4), "\"shape\" element '1.5' is not an integer");
        rejectsJson("{" + entry("t", "F32", "[1e0]", "[0,4]") + "}", zeros(4), "is not an integer");
        rejectsJson("{" + entry("t", "F32", "[99999999999999999999]", "[0,4]") + "}", zeros(4), "not an integer in range");
        rejectsJson("{" + entry("t", "F32", "[1]", "null") + "}", zeros(4), "\"data_offsets\" is not an array");
        rejectsJson("{" + entry("t", "F32", "[[1]]", "[0,4]") + "}", zeros(4), "is not a number");
    }

    @Test
    void unknownDtype() {
        rejectsJson("{" + entry("t", "F99", "[1]", "[0,4]") + "}", zeros(4), "tensor \"t\": unknown dtype \"F99\"");
        rejectsJson("{" + entry("t", "f32", "[1]", "[0,4]") + "}", zeros(4), "unknown dtype \"f32\"");
    }

    @Test
    void negativeDimension() {
        rejectsJson("{" + entry("t", "F32", "[2,-1]", "[0,0]") + "}", zeros(0), "tensor \"t\": negative dimension");
    }

    @Test
    void elementCountOverflow() {
        rejectsJson("{" + entry("t", "F32", "[4294967296,4294967296]", "[0,0]") + "}", zeros(0),
                "tensor \"t\": element count of shape [4294967296, 4294967296] overflows");
        // element count fits, byte count does not
        rejectsJson("{" + entry("t", "F64", "[2305843009213693952]", "[0,0]") + "}", zeros(0), "overflows");
        // a zero dimension does not excuse an overflowing prefix: same as the reference (checked_mul left to right)
        rejectsJson("{" + entry("t", "F32", "[4294967296,4294967296,0]", "[0,0]") + "}", zeros(0), "overflows");
    }

    @Test
    void tooManyDimensions() {
        String shape = "[" + "1,".repeat(64) + "1]";
        rejectsJson("{" + entry("t", "F32", shape, "[0,4]") + "}", zeros(4), "\"shape\" has more than 64 elements");
    }

    @Test
    void dataOffsetsNotBeginEnd() {
        rejectsJson("{" + entry("t", "F32", "[1]", "[4]") + "}", zeros(4), "tensor \"t\": data_offsets must be [begin, end]");
        rejectsJson("{" + entry("t", "F32", "[1]", "[]") + "}", zeros(4), "must be [begin, end]");
        rejectsJson("{" + entry("t", "F32", "[1]", "[0,4,8]") + "}", zeros(8), "more than 2 elements");
        rejectsJson("{" + entry("t", "F32", "[1]", "[8,4]") + "}", zeros(8), "tensor \"t\": data_offsets [8, 4] are not 0 <= begin <= end");
        rejectsJson("{" + entry("t", "F32", "[1]", "[-4,0]") + "}", zeros(4), "are not 0 <= begin <= end");
        rejectsJson("{" + entry("t", "F32", "[1]", "[0,4]") + "}", zeros(3), "tensor \"t\": data_offsets [0, 4] extend past the data section (3 bytes");
        rejectsJson("{" + entry("t", "F32", "[1]", "[9223372036854775803,9223372036854775807]") + "}", zeros(4), "extend past");
    }

    @Test
    void byteLengthNotElementsTimesDtypeSize() {
        rejectsJson("{" + entry("t", "F32", "[3]", "[0,8]") + "}", zeros(8),
                "tensor \"t\": data_offsets [0, 8] span 8 bytes but F32[3] needs 12");
        rejectsJson("{" + entry("t", "F16", "[2,2]", "[0,16]") + "}", zeros(16), "needs 8");
    }

    @Test
    void overlappingTensors() {
        rejectsJson("{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("b", "F32", "[2]", "[4,12]") + "}",
                zeros(12), "tensor \"b\" overlaps tensor \"a\"");
        rejectsJson("{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("b", "F32", "[2]", "[0,8]") + "}",
                zeros(8), "overlaps");
        rejectsJson("{" + entry("a", "F32", "[4]", "[0,16]") + "," + entry("z", "F32", "[0]", "[8,8]") + "}",
                zeros(16), "tensor \"z\" overlaps tensor \"a\"");
    }

    @Test
    void holesAndTrailingBytes() {
        rejectsJson("{" + entry("a", "F32", "[1]", "[0,4]") + "," + entry("b", "F32", "[1]", "[8,12]") + "}",
                zeros(12), "tensor \"b\": gap of 4 unused bytes");
        rejectsJson("{" + entry("a", "F32", "[1]", "[0,4]") + "}", zeros(6), "trailing bytes are not allowed");
    }

    @Test
    void metadataNotAStringMap() {
        rejectsJson("{\"__metadata__\":[]}", zeros(0), "__metadata__ is not a JSON object");
        rejectsJson("{\"__metadata__\":null,\"__metadata__\":{}}", zeros(0), "duplicate key \"__metadata__\"");
        rejectsJson("{\"__metadata__\":\"x\"}", zeros(0), "__metadata__ is not a JSON object");
        rejectsJson("{\"__metadata__\":{\"k\":1}}", zeros(0), "__metadata__ value of \"k\" is not a string");
        rejectsJson("{\"__metadata__\":{\"k\":null}}", zeros(0), "is not a string");
        rejectsJson("{\"__metadata__\":{\"k\":{\"x\":\"y\"}}}", zeros(0), "is not a string");
    }

    @Test
    void hostileNamesAreCutAndEscapedInMessages() {
        String longName = "x".repeat(1 << 20);
        Path p = write(dir, "long.safetensors", st("{" + entry(longName, "F99", "[1]", "[0,4]") + "}", zeros(4)));
        var e = assertBad("unknown dtype", () -> SafeTensors.open(p));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().length() < 1000, "message is bounded");
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("...(1048576 chars)"));
        rejectsJson("{" + entry("a\\u001b[31m\\n", "F99", "[1]", "[0,4]") + "}", zeros(4),
                "tensor \"a\\u001b[31m\\u000a\": unknown dtype");
        Path p2 = write(dir, "longjson.safetensors", st("{\"" + longName + "\":{\"dtype\":\"F32\",\"shape\":[1}}", zeros(4)));
        var e2 = assertBad("not valid JSON", () -> SafeTensors.open(p2));
        org.junit.jupiter.api.Assertions.assertTrue(e2.getMessage().length() < 1000, "message is bounded");
    }

    @Test
    void validFileStillOpensAfterAllThat() throws Exception {
        byte[] ok = st("{" + entry("a", "F32", "[1]", "[0,4]") + "," + entry("e", "F32", "[0]", "[4,4]") + "}",
                concat(f32(1f)));
        try (SafeTensors st = SafeTensors.open(write(dir, "ok.safetensors", ok))) {
            org.junit.jupiter.api.Assertions.assertEquals(2, st.names().size());
        }
    }

    /** {@code "__metadata__": null} was refused; the reference reader (an Option of a map) takes it as no metadata. */
    @Test
    void nullMetadataIsNoMetadata() throws Exception {
        byte[] data = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f).array();
        Path p = write(dir, "null-meta.safetensors",
                st("{\"__metadata__\":null," + entry("w", "F32", "[2]", "[0,8]") + "}", data));
        try (SafeTensors t = SafeTensors.open(p)) {
            org.junit.jupiter.api.Assertions.assertTrue(t.metadata().isEmpty());
            org.junit.jupiter.api.Assertions.assertArrayEquals(new float[] {1.5f, -2f}, t.getFloats("w"));
        }
    }
}
