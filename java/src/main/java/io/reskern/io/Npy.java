package io.reskern.io;

import static io.reskern.io.FileIo.bad;
import static io.reskern.io.FileIo.quote;

import io.reskern.ReskernException;
import io.reskern.ReskernException.ErrorCode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;

/**
 * Reader and writer of NumPy {@code .npy} files.
 *
 * <p><b>Format.</b> Magic {@code \x93NUMPY}, a version byte pair (1.0, 2.0 or 3.0) and a little-endian header
 * length (u16 for 1.0, u32 otherwise); a Python-literal dict {@code {'descr': '<f4', 'fortran_order': False,
 * 'shape': (3, 4), }} padded with spaces and a newline (Latin-1, UTF-8 for 3.0); then the raw elements.
 *
 * <p><b>Supported.</b> dtypes {@code <f4 >f4 <f8 >f8 <f2 >f2} (converted to float32; f8 narrowed with
 * round-to-nearest-even, f2 widened exactly) and {@code |u1} (also available as bytes); either byte order.
 * {@code fortran_order: True} arrays are transposed on read, so {@link NpyArray#data()} is always C order.
 * Other dtypes (ints, structured, object/pickled) throw {@code UNSUPPORTED}.
 *
 * <p><b>Guarantees.</b> The header is parsed by a strict, bounded literal parser (no evaluation): exactly the keys
 * {@code descr}, {@code fortran_order} and {@code shape}, no duplicates, a shape tuple of ≤ 64 non-negative
 * integers whose element and byte counts do not overflow; header length ≤ {@value #MAX_HEADER_BYTES} bytes and
 * within the file; the data must be exactly the size the header implies (truncated data and trailing bytes are
 * both rejected), checked before anything is allocated (a stream, {@link #read(ReadableByteChannel, String)}:
 * checked as its bytes arrive, its arrays growing with them). Every malformed, truncated or hostile file is a
 * {@link ReskernException} with code {@code BAD_FILE}; valid but unconvertible files (dtype, more elements than a
 * Java array) {@code UNSUPPORTED}; I/O failures {@code IO}.
 */
public final class Npy {
    /** Largest header accepted, in bytes. */
    public static final int MAX_HEADER_BYTES = 1 << 20;

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int GROWTH_AXIS_MAX_DIGITS = 21;

    private Npy() {
    }

    /**
     * Reads an array.
     *
     * @throws ReskernException {@code BAD_FILE} if malformed, {@code UNSUPPORTED} for a dtype other than those
     *                          above, {@code IO} if it cannot be read
     */
    public static NpyArray read(Path path) throws ReskernException {
        Objects.requireNonNull(path, "path");
        FileChannel ch = FileIo.openRead(path);
        try {
            return read(path, new FileSource(path, ch));
        } finally {
            try {
                ch.close();
            } catch (IOException ignored) {
                // read-only: nothing lost
            }
        }
    }

    /**
     * Reads an array from a stream (standard input, a pipe, a FIFO), with the checks of {@link #read(Path)} made in
     * stream order: the memory held grows with the data that has arrived, never ahead of it (a header promising
     * gigabytes allocates nothing until they come), and the stream must end right after the data. The channel is
     * not closed.
     *
     * @param name what errors call the source, e.g. {@code "standard input"}
     * @throws ReskernException as {@link #read(Path)}; a stream that ends early is {@code BAD_FILE} ("truncated")
     */
    public static NpyArray read(ReadableByteChannel in, String name) throws ReskernException {
        Objects.requireNonNull(in, "in");
        Path label = Path.of(Objects.requireNonNull(name, "name"));
        return read(label, new StreamSource(label, in));
    }

    /** Where the bytes come from: a file (size known, read at any position) or a stream (read in order, size unknown). */
    private interface Source {
        /** Size in bytes, or -1 for a stream. */
        long size() throws ReskernException;

        /** Fills {@code buf} from byte {@code pos}; a stream only reads on from where it is. */
        void read(ByteBuffer buf, long pos, String what) throws ReskernException;

        /** True when nothing follows the bytes read so far (a file's size was checked up front). */
        boolean atEnd() throws ReskernException;
    }

    private record FileSource(Path path, FileChannel ch) implements Source {
        @Override
        public long size() throws ReskernException {
            return FileIo.size(path, ch);
        }

        @Override
        public void read(ByteBuffer buf, long pos, String what) throws ReskernException {
            FileIo.readFully(path, ch, buf, pos, what);
        }

        @Override
        public boolean atEnd() {
            return true;
        }
    }

    private static final class StreamSource implements Source {
        private final Path label;
        private final ReadableByteChannel in;
        private long pos;

        StreamSource(Path label, ReadableByteChannel in) {
            this.label = label;
            this.in = in;
        }

        @Override
        public long size() {
            return -1;
        }

        @Override
        public void read(ByteBuffer buf, long at, String what) throws ReskernException {
            if (at != pos) {
                throw new IllegalStateException("stream read at " + at + ", stream is at " + pos);
            }
            try {
                while (buf.hasRemaining()) {
                    int n = in.read(buf);
                    if (n < 0) {
                        throw bad(label, what + ": unexpected end of input at byte " + pos + " (truncated?)");
                    }
                    pos += n;
                }
            } catch (ClosedChannelException e) {
                throw new ReskernException(ErrorCode.IO, label + ": read failed (" + what + "): closed", e);
            } catch (IOException e) {
                throw FileIo.io(label, "read failed (" + what + ")", e);
            }
        }

        @Override
        public boolean atEnd() throws ReskernException {
            ByteBuffer one = ByteBuffer.allocate(1);
            try {
                int n;
                while ((n = in.read(one)) == 0) {
                    Thread.onSpinWait();
                }
                return n < 0;
            } catch (IOException e) {
                throw FileIo.io(label, "read failed (after the npy data)", e);
            }
        }
    }

    private record Kind(String name, int size, ByteOrder order) {
    }

    private static NpyArray read(Path path, Source src) throws ReskernException {
        long size = src.size(); // -1: a stream, whose size checks are made as its bytes arrive (or fail to)
        if (size >= 0 && size < 10) {
            throw bad(path, "file is " + size + " bytes, too short for an npy preamble");
        }
        ByteBuffer pre = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        pre.limit(10);
        src.read(pre, 0, "npy preamble");
        for (int i = 0; i < MAGIC.length; i++) {
            if (pre.get(i) != MAGIC[i]) {
                throw bad(path, "bad magic: not an npy file");
            }
        }
        int major = pre.get(6) & 0xff;
        int minor = pre.get(7) & 0xff;
        long hlen;
        int prefix;
        if (major == 1 && minor == 0) {
            hlen = pre.getShort(8) & 0xffff;
            prefix = 10;
        } else if ((major == 2 || major == 3) && minor == 0) {
            if (size >= 0 && size < 12) {
                throw bad(path, "file is " + size + " bytes, too short for an npy " + major + ".0 preamble");
            }
            pre.limit(12);
            src.read(pre, 10, "npy preamble");
            hlen = pre.getInt(8) & 0xffffffffL;
            prefix = 12;
        } else {
            throw bad(path, "unsupported npy format version " + major + "." + minor);
        }
        if (hlen > MAX_HEADER_BYTES) {
            throw bad(path, "header length " + hlen + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        if (size >= 0 && prefix + hlen > size) {
            throw bad(path, "header length " + hlen + " extends past the end of the file (" + size + " bytes)");
        }
        ByteBuffer hb = ByteBuffer.allocate((int) hlen);
        src.read(hb, prefix, "npy header");
        hb.flip();
        String header;
        if (major == 3) {
            try {
                header = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(hb).toString();
            } catch (CharacterCodingException e) {
                throw bad(path, "npy 3.0 header is not valid UTF-8");
            }
        } else {
            header = StandardCharsets.ISO_8859_1.decode(hb).toString();
        }
        Header h = new HeaderParser(path, header).parse();
        Kind kind = kindOf(path, h.descr);

        long count;
        long bytes;
        try {
            count = FileIo.elementCount(h.shape);
            bytes = Math.multiplyExact(count, (long) kind.size);
        } catch (ArithmeticException e) {
            throw bad(path, "element count of shape " + Arrays.toString(h.shape) + " overflows");
        }
        long dataStart = prefix + hlen;
        if (size >= 0) {
            long avail = size - dataStart;
            if (avail < bytes) {
                throw bad(path, "data truncated: " + h.descr + Arrays.toString(h.shape) + " needs " + bytes
                        + " bytes, the file has " + avail + " after the header");
            }
            if (avail > bytes) {
                throw bad(path, (avail - bytes) + " trailing bytes after the data of " + h.descr
                        + Arrays.toString(h.shape));
            }
        }
        if (count > FileIo.MAX_ARRAY) {
            throw FileIo.unsupported(path, "array has " + count + " elements, more than a Java array can hold");
        }
        int n = (int) count;
        // a file's size was checked: allocate it all; a stream's arrays grow as its data arrives
        int first = size >= 0 ? n : (int) Math.min(n, FileIo.CHUNK);
        boolean bytesOut = kind.size == 1;
        byte[] b = bytesOut ? new byte[first] : null;
        float[] out = bytesOut ? null : new float[first];
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(bytes, FileIo.CHUNK)).order(kind.order);
        long done = 0;
        while (done < bytes) {
            int len = (int) Math.min(bytes - done, buf.capacity());
            buf.clear().limit(len);
            src.read(buf, dataStart + done, "npy data");
            buf.flip();
            int base = (int) (done / kind.size);
            int m = len / kind.size;
            int cap = bytesOut ? b.length : out.length;
            if (base + m > cap) {
                int grown = (int) Math.min(n, Math.max((long) base + m, 2L * cap));
                if (bytesOut) {
                    b = Arrays.copyOf(b, grown);
                } else {
                    out = Arrays.copyOf(out, grown);
                }
            }
            switch (kind.name) {
                case "u1":
                    buf.get(b, base, m);
                    break;
                case "f4":
                    buf.asFloatBuffer().get(out, base, m);
                    break;
                case "f8":
                    for (int i = 0; i < m; i++) {
                        out[base + i] = (float) buf.getDouble(i * 8);
                    }
                    break;
                default: // f2
                    for (int i = 0; i < m; i++) {
                        out[base + i] = Half.halfToFloat(buf.getShort(i * 2));
                    }
            }
            done += len;
        }
        if (!src.atEnd()) {
            throw bad(path, "trailing bytes after the data of " + h.descr + Arrays.toString(h.shape));
        }
        if (bytesOut) {
            byte[] all = b;
            if (h.fortranOrder && h.shape.length > 1) {
                byte[] c = new byte[n];
                fortranToC(h.shape, (from, to) -> c[to] = all[from]);
                return new NpyArray(h.shape, kind.name, null, c);
            }
            return new NpyArray(h.shape, kind.name, null, all);
        }
        float[] all = out;
        if (h.fortranOrder && h.shape.length > 1) {
            float[] c = new float[n];
            fortranToC(h.shape, (from, to) -> c[to] = all[from]);
            return new NpyArray(h.shape, kind.name, c, null);
        }
        return new NpyArray(h.shape, kind.name, all, null);
    }

    private static Kind kindOf(Path path, String descr) throws ReskernException {
        switch (descr) {
            case "<f4": return new Kind("f4", 4, ByteOrder.LITTLE_ENDIAN);
            case ">f4": return new Kind("f4", 4, ByteOrder.BIG_ENDIAN);
            case "<f8": return new Kind("f8", 8, ByteOrder.LITTLE_ENDIAN);
            case ">f8": return new Kind("f8", 8, ByteOrder.BIG_ENDIAN);
            case "<f2": return new Kind("f2", 2, ByteOrder.LITTLE_ENDIAN);
            case ">f2": return new Kind("f2", 2, ByteOrder.BIG_ENDIAN);
            case "|u1": case "<u1": case ">u1": return new Kind("u1", 1, ByteOrder.LITTLE_ENDIAN);
            default:
                throw FileIo.unsupported(path, "unsupported npy dtype " + quote(descr, '\'')
                        + " (supported: <f4 >f4 <f8 >f8 <f2 >f2 |u1)");
        }
    }

    private interface Move {
        void move(int src, int dst);
    }

    /** Visits every element in Fortran order (first index fastest), giving its Fortran and C offsets. */
    private static void fortranToC(long[] shape, Move m) {
        int r = shape.length;
        int[] dims = new int[r];
        int[] cStride = new int[r];
        int s = 1;
        for (int k = r - 1; k >= 0; k--) {
            dims[k] = (int) shape[k]; // the element count fits an int, so does each dimension
            cStride[k] = s;
            s *= Math.max(dims[k], 1);
        }
        int n = 1;
        for (int d : dims) {
            n *= d;
        }
        int[] idx = new int[r];
        int c = 0;
        for (int f = 0; f < n; f++) {
            m.move(f, c);
            for (int k = 0; k < r; k++) {
                idx[k]++;
                c += cStride[k];
                if (idx[k] < dims[k]) {
                    break;
                }
                c -= dims[k] * cStride[k];
                idx[k] = 0;
            }
        }
    }

    private record Header(String descr, boolean fortranOrder, long[] shape) {
    }

    /** Strict parser of the header's Python literal dict; no evaluation, linear time. */
    private static final class HeaderParser {
        private final Path path;
        private final String s;
        private int i;

        HeaderParser(Path path, String s) {
            this.path = path;
            this.s = s;
        }

        Header parse() throws ReskernException {
            String descr = null;
            Boolean fortran = null;
            long[] shape = null;
            Set<String> seen = new HashSet<>();
            ws();
            expect('{');
            ws();
            while (peek() != '}') {
                String key = string("a key");
                if (!seen.add(key)) {
                    throw err("duplicate key " + quote(key, '\''));
                }
                ws();
                expect(':');
                ws();
                switch (key) {
                    case "descr":
                        if (peek() == '[') {
                            throw FileIo.unsupported(path, "unsupported npy dtype: structured (record) arrays");
                        }
                        descr = string("'descr' (a dtype string)");
                        break;
                    case "fortran_order":
                        fortran = bool();
                        break;
                    case "shape":
                        shape = tuple();
                        break;
                    default:
                        throw err("unexpected key " + quote(key, '\''));
                }
                ws();
                if (peek() == ',') {
                    i++;
                    ws();
                } else if (peek() != '}') {
                    throw err("expected ',' or '}' at offset " + i);
                }
            }
            i++;
            ws();
            if (i != s.length()) {
                throw err("trailing content after the header dict at offset " + i);
            }
            if (descr == null) {
                throw err("missing 'descr'");
            }
            if (fortran == null) {
                throw err("missing 'fortran_order'");
            }
            if (shape == null) {
                throw err("missing 'shape'");
            }
            return new Header(descr, fortran, shape);
        }

        private ReskernException err(String msg) {
            return bad(path, "bad npy header: " + msg);
        }

        private int peek() throws ReskernException {
            if (i >= s.length()) {
                throw err("unexpected end of header");
            }
            return s.charAt(i);
        }

        private void ws() {
            while (i < s.length()) {
                char c = s.charAt(i);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                    break;
                }
                i++;
            }
        }

        private void expect(char c) throws ReskernException {
            if (peek() != c) {
                throw err("expected '" + c + "' at offset " + i);
            }
            i++;
        }

        private String string(String what) throws ReskernException {
            int q = peek();
            if (q != '\'' && q != '"') {
                throw err("expected " + what + " at offset " + i);
            }
            int start = ++i;
            while (true) {
                int c = peek();
                if (c == q) {
                    break;
                }
                if (c == '\\' || c == '\n') {
                    throw err("escapes and newlines are not allowed in strings (offset " + i + ")");
                }
                i++;
            }
            return s.substring(start, i++);
        }

        private boolean bool() throws ReskernException {
            if (s.startsWith("True", i)) {
                i += 4;
                return true;
            }
            if (s.startsWith("False", i)) {
                i += 5;
                return false;
            }
            throw err("'fortran_order' is not True or False");
        }

        private long[] tuple() throws ReskernException {
            if (peek() != '(') {
                throw err("'shape' is not a tuple");
            }
            i++;
            ws();
            long[] dims = new long[8];
            int n = 0;
            boolean comma = false;
            while (peek() != ')') {
                if (n == FileIo.MAX_RANK) {
                    throw err("'shape' has more than " + FileIo.MAX_RANK + " dimensions");
                }
                long d = integer();
                if (n == dims.length) {
                    dims = Arrays.copyOf(dims, Math.min(FileIo.MAX_RANK, dims.length * 2));
                }
                dims[n++] = d;
                ws();
                comma = false;
                if (peek() == ',') {
                    i++;
                    comma = true;
                    ws();
                } else if (peek() != ')') {
                    throw err("expected ',' or ')' in 'shape' at offset " + i);
                }
            }
            i++;
            if (n == 1 && !comma) {
                throw err("'shape' (" + dims[0] + ") is not a tuple (a 1-d shape is written (" + dims[0] + ",))");
            }
            return Arrays.copyOf(dims, n);
        }

        private long integer() throws ReskernException {
            int start = i;
            if (peek() == '-') {
                i++;
            }
            while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
                i++;
            }
            String lit = s.substring(start, i);
            if (i < s.length() && (s.charAt(i) == 'L' || s.charAt(i) == 'l')) {
                i++; // Python 2 long literal, as old numpy wrote
            }
            long v;
            try {
                v = Long.parseLong(lit);
            } catch (NumberFormatException e) {
                throw err("'shape' element " + quote(lit, '\'') + " at offset " + start + " is not an integer in range");
            }
            if (v < 0) {
                throw err("negative dimension " + v + " in 'shape'");
            }
            return v;
        }
    }

    /**
     * Writes a float32 array ({@code <f4}, C order) as an npy 1.0 file with NumPy's own header layout (64-byte
     * aligned data), through a temporary sibling moved into place.
     *
     * @throws IllegalArgumentException if the shape has a negative dimension, more than 64 dimensions, or its
     *                                  element count is not {@code data.length}
     * @throws ReskernException         {@code IO} if writing fails
     */
    public static void write(Path path, long[] shape, float[] data) throws ReskernException {
        Objects.requireNonNull(path, "path");
        long[] dims = new FloatTensor(shape, data).shape(); // validates
        if (dims.length > FileIo.MAX_RANK) {
            throw new IllegalArgumentException("rank " + dims.length + " > " + FileIo.MAX_RANK);
        }
        StringBuilder sb = new StringBuilder("{'descr': '<f4', 'fortran_order': False, 'shape': (");
        for (int k = 0; k < dims.length; k++) {
            sb.append(k > 0 ? ", " : "").append(dims[k]);
        }
        sb.append(dims.length == 1 ? ",)" : ")").append(", }");
        if (dims.length > 0) {
            sb.append(" ".repeat(GROWTH_AXIS_MAX_DIGITS - Long.toString(dims[0]).length()));
        }
        int hlen = sb.length() + 1;
        int pad = 64 - ((MAGIC.length + 4 + hlen) % 64);
        sb.append(" ".repeat(pad)).append('\n');
        byte[] header = sb.toString().getBytes(StandardCharsets.ISO_8859_1);
        FileIo.writeAtomically(path, ch -> {
            ByteBuffer pre = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
            pre.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length).flip();
            FileIo.writeFully(ch, pre);
            FileIo.writeFully(ch, ByteBuffer.wrap(header));
            ByteBuffer buf = ByteBuffer.allocate(FileIo.CHUNK).order(ByteOrder.LITTLE_ENDIAN);
            int per = FileIo.CHUNK / 4;
            for (int k = 0; k < data.length; k += per) {
                int m = Math.min(per, data.length - k);
                buf.clear();
                buf.asFloatBuffer().put(data, k, m);
                buf.limit(m * 4);
                FileIo.writeFully(ch, buf);
            }
        });
    }
}
