package io.reskern.onnx;

import static io.reskern.onnx.Msg.bad;
import static io.reskern.onnx.Msg.quote;
import static io.reskern.onnx.Msg.unsupported;

import com.google.protobuf.ByteString;
import io.reskern.ReskernException;
import io.reskern.ReskernException.ErrorCode;
import io.reskern.io.Half;
import io.reskern.onnx.proto.Onnx.StringStringEntryProto;
import io.reskern.onnx.proto.Onnx.TensorProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * A constant tensor of an ONNX graph: an initializer, a {@code Constant} node's value, or a small tensor computed from
 * constants. Shape and data size are validated when it is made (so a hostile file fails before anything big is
 * allocated); the data is decoded on demand, as float32 ({@link #floats}) or int64 ({@link #longs}).
 */
abstract class Tensor {
    // ONNX TensorProto.DataType values used here.
    static final int FLOAT = 1, UINT8 = 2, INT8 = 3, UINT16 = 4, INT16 = 5, INT32 = 6, INT64 = 7, STRING = 8, BOOL = 9,
            FLOAT16 = 10, DOUBLE = 11, UINT32 = 12, UINT64 = 13, BFLOAT16 = 16;
    /** Largest rank accepted. */
    static final int MAX_RANK = 16;
    /** Largest element count of one tensor (a Java array). */
    static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    final String name;
    final long[] dims;
    final int dtype;
    final long elements;

    Tensor(String name, long[] dims, int dtype) throws ReskernException {
        this.name = name;
        this.dims = dims;
        this.dtype = dtype;
        this.elements = elements(dims, "tensor " + quote(name));
    }

    /** Product of {@code dims}, each ≥ 0 and the product ≤ {@link #MAX_ELEMENTS}, else BAD_FILE/UNSUPPORTED. */
    static long elements(long[] dims, String what) throws ReskernException {
        if (dims.length > MAX_RANK) {
            throw unsupported(what + " has rank " + dims.length + " (at most " + MAX_RANK + ")");
        }
        long n = 1;
        boolean zero = false;
        for (long d : dims) {
            if (d < 0) {
                throw bad(what + " has a negative dimension in " + Arrays.toString(dims));
            }
            zero |= d == 0;
        }
        if (zero) {
            return 0;
        }
        for (long d : dims) {
            if (n > MAX_ELEMENTS / d) {
                throw bad(what + " has shape " + Arrays.toString(dims) + ": more than " + MAX_ELEMENTS + " elements");
            }
            n *= d;
        }
        return n;
    }

    static boolean isFloatType(int t) {
        return t == FLOAT || t == FLOAT16 || t == BFLOAT16 || t == DOUBLE;
    }

    static boolean isIntType(int t) {
        return t == INT64 || t == INT32 || t == INT16 || t == INT8 || t == UINT8 || t == UINT16 || t == UINT32
                || t == UINT64 || t == BOOL;
    }

    /** Bytes per element of a numeric type, 0 for types reskern does not read. */
    static int elemSize(int t) {
        switch (t) {
            case FLOAT: case INT32: case UINT32: return 4;
            case INT64: case UINT64: case DOUBLE: return 8;
            case FLOAT16: case BFLOAT16: case INT16: case UINT16: return 2;
            case INT8: case UINT8: case BOOL: return 1;
            default: return 0;
        }
    }

    static String typeName(int t) {
        switch (t) {
            case FLOAT: return "FLOAT";
            case UINT8: return "UINT8";
            case INT8: return "INT8";
            case UINT16: return "UINT16";
            case INT16: return "INT16";
            case INT32: return "INT32";
            case INT64: return "INT64";
            case STRING: return "STRING";
            case BOOL: return "BOOL";
            case FLOAT16: return "FLOAT16";
            case DOUBLE: return "DOUBLE";
            case UINT32: return "UINT32";
            case UINT64: return "UINT64";
            case BFLOAT16: return "BFLOAT16";
            default: return "type " + t;
        }
    }

    /** float32 values (FLOAT, FLOAT16, BFLOAT16, DOUBLE; integers converted). */
    abstract float[] floats() throws ReskernException;

    /** int64 values (integer types; floats truncated toward zero). */
    abstract long[] longs() throws ReskernException;

    /** The value as a number, for scalars and one-element tensors. */
    double scalar() throws ReskernException {
        if (elements != 1) {
            throw bad("tensor " + quote(name) + " of shape " + Arrays.toString(dims) + " must hold exactly one value");
        }
        return isFloatType(dtype) ? floats()[0] : (double) longs()[0];
    }

    int rank() {
        return dims.length;
    }

    /** Same data, other dims (element count unchanged): Reshape, Squeeze, Unsqueeze, Identity of any size. */
    Tensor reshaped(String newName, long[] newDims) throws ReskernException {
        Tensor base = this;
        return new Tensor(newName, newDims, dtype) {
            @Override
            float[] floats() throws ReskernException {
                return base.floats();
            }

            @Override
            long[] longs() throws ReskernException {
                return base.longs();
            }
        };
    }

    /** A small computed tensor (constant folding). */
    static Tensor ofLongs(String name, long[] dims, long[] v) throws ReskernException {
        return new Tensor(name, dims, INT64) {
            @Override
            float[] floats() {
                float[] f = new float[v.length];
                for (int i = 0; i < v.length; i++) {
                    f[i] = v[i];
                }
                return f;
            }

            @Override
            long[] longs() {
                return v.clone();
            }
        };
    }

    static Tensor ofFloats(String name, long[] dims, float[] v) throws ReskernException {
        return new Tensor(name, dims, FLOAT) {
            @Override
            float[] floats() {
                return v.clone();
            }

            @Override
            long[] longs() {
                long[] l = new long[v.length];
                for (int i = 0; i < v.length; i++) {
                    l[i] = (long) v[i];
                }
                return l;
            }
        };
    }

    /**
     * A TensorProto, checked: non-negative dims, a known numeric type, and exactly {@code elements} values in the one
     * place the data lies (raw_data, the typed field, or an external file inside {@code baseDir}).
     */
    static Tensor of(TensorProto t, Path baseDir) throws ReskernException {
        String name = t.getName();
        String what = "tensor " + quote(name);
        if (t.getDimsCount() > MAX_RANK) {
            throw unsupported(what + " has rank " + t.getDimsCount() + " (at most " + MAX_RANK + ")");
        }
        long[] dims = new long[t.getDimsCount()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = t.getDims(i);
        }
        int dtype = t.getDataType();
        if (t.hasSegment()) {
            throw unsupported(what + " is segmented (TensorProto.segment)");
        }
        long n = elements(dims, what);
        int es = elemSize(dtype);
        if (es == 0) {
            throw unsupported(what + " has data type " + typeName(dtype) + " (reskern reads float and integer tensors)");
        }
        long bytes = n * es; // n ≤ 2^31, es ≤ 8: no overflow
        int location = t.getDataLocation();
        if (location != 0 && location != 1) {
            throw bad(what + " has data_location " + location + " (0 = in the file, 1 = external)");
        }
        if (location == 1) {
            if (t.hasRawData() || typedCount(t) > 0) {
                throw bad(what + " is external but also carries data in the model file");
            }
            return external(t, name, dims, dtype, bytes, baseDir);
        }
        if (!t.getExternalDataList().isEmpty()) {
            throw bad(what + " has external_data entries but data_location is not EXTERNAL");
        }
        int typed = typedCount(t);
        if (t.hasRawData()) {
            if (typed > 0) {
                throw bad(what + " has both raw_data and typed data fields");
            }
            if (t.getRawData().size() != bytes) {
                throw bad(what + " of shape " + Arrays.toString(dims) + " and type " + typeName(dtype) + " needs "
                        + bytes + " bytes of raw_data, has " + t.getRawData().size());
            }
            ByteString raw = t.getRawData();
            return new Tensor(name, dims, dtype) {
                @Override
                float[] floats() {
                    return decodeFloats(raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN), dtype, (int) elements);
                }

                @Override
                long[] longs() {
                    return decodeLongs(raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN), dtype, (int) elements);
                }
            };
        }
        int expected = typedField(dtype);
        if (typed != countOf(t, expected)) {
            throw bad(what + " of type " + typeName(dtype) + " has data in a field that does not belong to its type");
        }
        if (typed != n) {
            throw bad(what + " of shape " + Arrays.toString(dims) + " needs " + n + " values, has " + typed);
        }
        return new Tensor(name, dims, dtype) {
            @Override
            float[] floats() {
                int m = (int) elements;
                float[] f = new float[m];
                for (int i = 0; i < m; i++) {
                    switch (expected) {
                        case 4 -> f[i] = t.getFloatData(i);
                        case 10 -> f[i] = (float) t.getDoubleData(i);
                        case 7 -> f[i] = t.getInt64Data(i);
                        case 11 -> f[i] = (float) unsigned(t.getUint64Data(i));
                        default -> f[i] = int32ToFloat(t.getInt32Data(i), dtype);
                    }
                }
                return f;
            }

            @Override
            long[] longs() {
                int m = (int) elements;
                long[] l = new long[m];
                for (int i = 0; i < m; i++) {
                    switch (expected) {
                        case 4 -> l[i] = (long) t.getFloatData(i);
                        case 10 -> l[i] = (long) t.getDoubleData(i);
                        case 7 -> l[i] = t.getInt64Data(i);
                        case 11 -> l[i] = t.getUint64Data(i);
                        default -> l[i] = dtype == FLOAT16 || dtype == BFLOAT16 ? (long) int32ToFloat(t.getInt32Data(i), dtype)
                                : dtype == UINT16 ? t.getInt32Data(i) & 0xffff : dtype == UINT8 ? t.getInt32Data(i) & 0xff
                                : t.getInt32Data(i);
                    }
                }
                return l;
            }
        };
    }

    private static double unsigned(long v) {
        return v >= 0 ? v : (double) (v >>> 1) * 2.0 + (v & 1);
    }

    private static float int32ToFloat(int v, int dtype) {
        switch (dtype) {
            case FLOAT16: return Half.halfToFloat((short) v);
            case BFLOAT16: return Half.bf16ToFloat((short) v);
            case UINT8: return v & 0xff;
            case UINT16: return v & 0xffff;
            default: return v;
        }
    }

    /** Field number of TensorProto where values of {@code dtype} go when not in raw_data. */
    private static int typedField(int dtype) {
        switch (dtype) {
            case FLOAT: return 4;
            case INT64: return 7;
            case DOUBLE: return 10;
            case UINT32: case UINT64: return 11;
            default: return 5; // int32_data: INT32, INT16, INT8, UINT16, UINT8, BOOL, FLOAT16, BFLOAT16
        }
    }

    private static int countOf(TensorProto t, int field) {
        switch (field) {
            case 4: return t.getFloatDataCount();
            case 7: return t.getInt64DataCount();
            case 10: return t.getDoubleDataCount();
            case 11: return t.getUint64DataCount();
            default: return t.getInt32DataCount();
        }
    }

    private static int typedCount(TensorProto t) {
        return t.getFloatDataCount() + t.getInt32DataCount() + t.getInt64DataCount() + t.getDoubleDataCount()
                + t.getUint64DataCount() + t.getStringDataCount();
    }

    static float[] decodeFloats(ByteBuffer b, int dtype, int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            switch (dtype) {
                case FLOAT -> f[i] = b.getFloat();
                case DOUBLE -> f[i] = (float) b.getDouble();
                case FLOAT16 -> f[i] = Half.halfToFloat(b.getShort());
                case BFLOAT16 -> f[i] = Half.bf16ToFloat(b.getShort());
                case INT64 -> f[i] = b.getLong();
                case UINT64 -> f[i] = (float) unsigned(b.getLong());
                case INT32 -> f[i] = b.getInt();
                case UINT32 -> f[i] = b.getInt() & 0xffffffffL;
                case INT16 -> f[i] = b.getShort();
                case UINT16 -> f[i] = b.getShort() & 0xffff;
                case INT8 -> f[i] = b.get();
                default -> f[i] = b.get() & 0xff; // UINT8, BOOL
            }
        }
        return f;
    }

    static long[] decodeLongs(ByteBuffer b, int dtype, int n) {
        long[] l = new long[n];
        for (int i = 0; i < n; i++) {
            switch (dtype) {
                case FLOAT -> l[i] = (long) b.getFloat();
                case DOUBLE -> l[i] = (long) b.getDouble();
                case FLOAT16 -> l[i] = (long) Half.halfToFloat(b.getShort());
                case BFLOAT16 -> l[i] = (long) Half.bf16ToFloat(b.getShort());
                case INT64, UINT64 -> l[i] = b.getLong();
                case INT32 -> l[i] = b.getInt();
                case UINT32 -> l[i] = b.getInt() & 0xffffffffL;
                case INT16 -> l[i] = b.getShort();
                case UINT16 -> l[i] = b.getShort() & 0xffff;
                case INT8 -> l[i] = b.get();
                default -> l[i] = b.get() & 0xff;
            }
        }
        return l;
    }

    /**
     * External data: {@code location} must name a regular file inside {@code baseDir} (the model's folder; no absolute
     * paths, no "..", no symbolic link leading out), and {@code [offset, offset + length)} must lie inside it.
     */
    private static Tensor external(TensorProto t, String name, long[] dims, int dtype, long bytes, Path baseDir)
            throws ReskernException {
        String what = "tensor " + quote(name);
        String location = null;
        long offset = 0;
        long length = -1;
        for (StringStringEntryProto e : t.getExternalDataList()) {
            switch (e.getKey()) {
                case "location" -> location = e.getValue();
                case "offset" -> offset = parseNonNegative(e.getValue(), what + " external offset");
                case "length" -> length = parseNonNegative(e.getValue(), what + " external length");
                case "checksum" -> { } // SHA-1 of the data; not verified
                default -> throw bad(what + ": unknown external_data key " + quote(e.getKey()));
            }
        }
        if (location == null || location.isEmpty()) {
            throw bad(what + " is external but has no location");
        }
        if (baseDir == null) {
            throw unsupported(what + " has external data (" + quote(location) + "), which needs the model loaded from a file");
        }
        if (length >= 0 && length != bytes) {
            throw bad(what + ": external length " + length + " but shape " + Arrays.toString(dims) + " of type "
                    + typeName(dtype) + " needs " + bytes + " bytes");
        }
        Path file;
        try {
            Path rel = Path.of(location);
            if (rel.isAbsolute() || location.indexOf('\0') >= 0) {
                throw bad(what + ": external location " + quote(location) + " must be relative to the model's folder");
            }
            for (Path part : rel) {
                if (part.toString().equals("..")) {
                    throw bad(what + ": external location " + quote(location) + " leaves the model's folder");
                }
            }
            Path base = baseDir.toAbsolutePath().normalize();
            file = base.resolve(rel).normalize();
            if (!file.startsWith(base)) {
                throw bad(what + ": external location " + quote(location) + " leaves the model's folder");
            }
            if (!Files.isRegularFile(file)) {
                throw bad(what + ": external data file " + quote(location) + " not found (or not a regular file) in " + base);
            }
            if (!file.toRealPath().startsWith(base.toRealPath())) {
                throw bad(what + ": external location " + quote(location) + " is a link that leaves the model's folder");
            }
            long size = Files.size(file);
            if (offset > size || bytes > size - offset) {
                throw bad(what + ": external data [" + offset + ", " + offset + "+" + bytes + ") lies beyond the end of "
                        + quote(location) + " (" + size + " bytes)");
            }
        } catch (InvalidPathException e) {
            throw bad(what + ": external location " + quote(location) + " is not a valid path");
        } catch (IOException e) {
            throw new ReskernException(ErrorCode.IO, what + ": cannot read external data " + quote(location) + ": " + e, e);
        }
        Path f = file;
        long off = offset;
        return new Tensor(name, dims, dtype) {
            @Override
            float[] floats() throws ReskernException {
                return decodeFloats(read(f, off, bytes, name), dtype, (int) elements);
            }

            @Override
            long[] longs() throws ReskernException {
                return decodeLongs(read(f, off, bytes, name), dtype, (int) elements);
            }
        };
    }

    private static long parseNonNegative(String s, String what) throws ReskernException {
        try {
            long v = Long.parseLong(s.trim());
            if (v < 0) {
                throw bad(what + " " + quote(s) + " is negative");
            }
            return v;
        } catch (NumberFormatException e) {
            throw bad(what + " " + quote(s) + " is not an integer");
        }
    }

    private static ByteBuffer read(Path file, long offset, long bytes, String name) throws ReskernException {
        if (bytes > Integer.MAX_VALUE - 8) {
            throw unsupported("tensor " + quote(name) + ": " + bytes + " bytes of external data is more than a Java array holds");
        }
        ByteBuffer b = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long pos = offset;
            while (b.hasRemaining()) {
                int r = ch.read(b, pos);
                if (r < 0) {
                    throw bad("tensor " + quote(name) + ": external data file " + file + " ended early (it changed?)");
                }
                pos += r;
            }
        } catch (IOException e) {
            throw new ReskernException(ErrorCode.IO, "tensor " + quote(name) + ": cannot read " + file + ": " + e, e);
        }
        return b.flip();
    }
}
