package io.reskern.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.ReskernException;
import io.reskern.ReskernException.ErrorCode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.function.Executable;

/** Helpers shared by the io tests: building files byte by byte and asserting error codes. */
final class IoTestUtil {
    private IoTestUtil() {
    }

    /** A safetensors file: 8-byte LE length of {@code json} (as UTF-8, unpadded), the JSON, then {@code data}. */
    static byte[] st(String json, byte[] data) {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        return st(h.length, h, data);
    }

    /** A safetensors file with an arbitrary declared header length. */
    static byte[] st(long declaredLength, byte[] header, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(declaredLength).array());
        out.writeBytes(header);
        out.writeBytes(data);
        return out.toByteArray();
    }

    static byte[] f32(float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            b.putFloat(x);
        }
        return b.array();
    }

    static byte[] u16(int... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : v) {
            b.putShort((short) x);
        }
        return b.array();
    }

    static byte[] zeros(int n) {
        return new byte[n];
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static Path write(Path dir, String name, byte[] bytes) {
        try {
            return Files.write(dir.resolve(name), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path resource(String name) {
        try {
            return Path.of(IoTestUtil.class.getResource(name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static ReskernException assertCode(ErrorCode code, String fragment, Executable ex) {
        ReskernException e = assertThrows(ReskernException.class, ex);
        assertEquals(code, e.code(), () -> "code of: " + e.getMessage());
        assertTrue(e.getMessage().contains(fragment),
                () -> "message should contain [" + fragment + "]: " + e.getMessage());
        return e;
    }

    static ReskernException assertBad(String fragment, Executable ex) {
        return assertCode(ErrorCode.BAD_FILE, fragment, ex);
    }
}
