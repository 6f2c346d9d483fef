package io.reskern.onnx;

import io.reskern.ReskernException;
import io.reskern.ReskernException.ErrorCode;

/** Error helpers of the importer: names from a file are quoted and cut (a hostile file can carry huge names). */
final class Msg {
    private Msg() {
    }

    static ReskernException bad(String message) {
        return new ReskernException(ErrorCode.BAD_FILE, message);
    }

    static ReskernException unsupported(String message) {
        return new ReskernException(ErrorCode.UNSUPPORTED, message);
    }

    /** {@code s} in double quotes, control characters and quotes escaped, cut to 120 characters. */
    static String quote(String s) {
        if (s == null) {
            return "(none)";
        }
        int n = Math.min(s.length(), 120);
        StringBuilder b = new StringBuilder(n + 24).append('"');
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        b.append('"');
        if (s.length() > n) {
            b.append("...(").append(s.length()).append(" chars)");
        }
        return b.toString();
    }
}
