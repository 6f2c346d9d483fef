package io.reskern.io;

import static io.reskern.io.FileIo.bad;
import static io.reskern.io.FileIo.quote;

import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import io.reskern.ReskernException;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Reader and writer of <a href="https://github.com/huggingface/safetensors">safetensors</a> files.
 *
 * <p><b>Format.</b> An unsigned 64-bit little-endian header length {@code N}; {@code N} bytes of UTF-8 JSON
 * mapping each tensor name to {@code {"dtype", "shape", "data_offsets": [begin, end]}} (plus an optional
 * {@code "__metadata__"} string→string map); then the data section, little-endian, offsets relative to its start.
 *
 * <p><b>Guarantees.</b> {@link #open} reads and validates the whole header before returning, and no tensor data
 * (that is read on demand, with bounded positional reads, never memory-mapped). Every malformed, truncated or
 * hostile file yields a {@link ReskernException} with code {@code BAD_FILE} and a message naming the tensor and
 * the problem — never an out-of-bounds read, an unbounded allocation or a hang. Checked: header length within
 * the file and ≤ {@value #MAX_HEADER_BYTES} bytes; strict UTF-8 and strict JSON (no duplicate keys, no trailing
 * content); every entry has a known dtype, a shape of ≤ 64 non-negative integer dimensions whose element and byte
 * counts do not overflow, and {@code data_offsets = [begin, end]} with {@code 0 ≤ begin ≤ end ≤ data size} and
 * {@code end − begin = elements × dtype size}; as in the reference implementation, the tensors must tile the data
 * section exactly (no overlap, no gap, no trailing bytes); {@code __metadata__} is a string→string object (or null: none, as the reference reader takes it). Unknown
 * fields inside a tensor entry are ignored. Valid files that this class cannot convert (a non-float dtype in
 * {@link #getFloats}, a tensor larger than a Java array) throw code {@code UNSUPPORTED}; I/O failures code
 * {@code IO}. Asking for a name that is not in the file, or using a closed instance, is a programming error
 * ({@link IllegalArgumentException}, {@link IllegalStateException}).
 *
 * <p>Instances are immutable after {@link #open} and safe for concurrent reads; {@link #close()} releases the file.
 */
public final class SafeTensors implements AutoCloseable {
    /** Largest header accepted, in bytes (100 MiB). */
    public static final long MAX_HEADER_BYTES = 100L << 20;

    private static final String METADATA_KEY = "__metadata__";

    private final Path path;
    private final long fileSize;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;
    private volatile FileChannel channel;
    private volatile boolean closed;

    private SafeTensors(Path path, FileChannel channel, long fileSize, long dataStart, Map<String, TensorInfo> tensors,
            Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.fileSize = fileSize;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /**
     * Opens a file and validates its header; the file stays open until {@link #close()}.
     *
     * @throws ReskernException {@code BAD_FILE} if the file is malformed, {@code IO} if it cannot be read
     */
    public static SafeTensors open(Path path) throws ReskernException {
        Objects.requireNonNull(path, "path");
        FileChannel ch = FileIo.openRead(path);
        try {
            SafeTensors st = parse(path, ch);
            ch = null;
            return st;
        } finally {
            if (ch != null) {
                closeQuietly(ch);
            }
        }
    }

    private static SafeTensors parse(Path path, FileChannel ch) throws ReskernException {
        long fileSize = FileIo.size(path, ch);
        if (fileSize < 8) {
            throw bad(path, "file is " + fileSize + " bytes, shorter than the 8-byte header length");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        FileIo.readFully(path, ch, lenBuf, 0, "header length");
        long n = lenBuf.getLong(0);
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw bad(path, "header length " + Long.toUnsignedString(n) + " out of range (max " + MAX_HEADER_BYTES
                    + " bytes)");
        }
        if (n > fileSize - 8) {
            throw bad(path, "header length " + n + " exceeds the file (" + fileSize + " bytes)");
        }
        ByteBuffer headerBuf = ByteBuffer.allocate((int) n);
        FileIo.readFully(path, ch, headerBuf, 8, "header");
        headerBuf.flip();
        String json;
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(headerBuf);
            json = chars.toString();
        } catch (CharacterCodingException e) {
            throw bad(path, "header is not valid UTF-8");
        }
        long dataStart = 8 + n;
        long dataSize = fileSize - dataStart;
        Header h;
        try {
            h = parseHeader(path, json, dataSize);
        } catch (IOException | IllegalStateException | NumberFormatException e) {
            throw bad(path, "header is not valid JSON: " + jsonError(e));
        }
        checkTiling(path, h.tensors, dataSize);
        Map<String, TensorInfo> map = new LinkedHashMap<>();
        for (TensorInfo t : h.tensors) {
            map.put(t.name(), t);
        }
        return new SafeTensors(path, ch, fileSize, dataStart, Collections.unmodifiableMap(map),
                Collections.unmodifiableMap(h.metadata));
    }

    /** Gson's message without its advice to parse leniently and its troubleshooting link. */
    private static String jsonError(Exception e) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        int nl = m.indexOf('\n');
        if (nl >= 0) {
            m = m.substring(0, nl);
        }
        m = m.replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON", "malformed JSON");
        return m.length() > 300 ? m.substring(0, 300) + "..." : m; // Gson's path can quote long hostile names
    }

    private record Header(List<TensorInfo> tensors, Map<String, String> metadata) {
    }

    private static Header parseHeader(Path path, String json, long dataSize) throws IOException, ReskernException {
        JsonReader r = new JsonReader(new StringReader(json));
        r.setStrictness(Strictness.STRICT);
        if (r.peek() != JsonToken.BEGIN_OBJECT) {
            throw bad(path, "header is not a JSON object");
        }
        r.beginObject();
        Set<String> seen = new HashSet<>();
        List<TensorInfo> list = new ArrayList<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        while (r.hasNext()) {
            String key = r.nextName();
            if (!seen.add(key)) {
                throw bad(path, "duplicate key " + quote(key) + " in header");
            }
            if (key.equals(METADATA_KEY)) {
                parseMetadata(path, r, metadata);
            } else {
                list.add(parseEntry(path, r, key, dataSize));
            }
        }
        r.endObject();
        if (r.peek() != JsonToken.END_DOCUMENT) {
            throw bad(path, "trailing content after the header's JSON object");
        }
        return new Header(list, metadata);
    }

    private static void parseMetadata(Path path, JsonReader r, Map<String, String> out)
            throws IOException, ReskernException {
        if (r.peek() == JsonToken.NULL) { // the reference reader's Option<HashMap>: null is no metadata
            r.nextNull();
            return;
        }
        if (r.peek() != JsonToken.BEGIN_OBJECT) {
            throw bad(path, "__metadata__ is not a JSON object (got " + r.peek() + ")");
        }
        r.beginObject();
        while (r.hasNext()) {
            String k = r.nextName();
            if (out.containsKey(k)) {
                throw bad(path, "duplicate key " + quote(k) + " in __metadata__");
            }
            if (r.peek() != JsonToken.STRING) {
                throw bad(path, "__metadata__ value of " + quote(k) + " is not a string (got " + r.peek() + ")");
            }
            out.put(k, r.nextString());
        }
        r.endObject();
    }

    private static TensorInfo parseEntry(Path path, JsonReader r, String name, long dataSize)
            throws IOException, ReskernException {
        String t = "tensor " + quote(name) + ": ";
        if (r.peek() != JsonToken.BEGIN_OBJECT) {
            throw bad(path, t + "entry is not a JSON object (got " + r.peek() + ")");
        }
        r.beginObject();
        String dtypeName = null;
        long[] shape = null;
        long[] offsets = null;
        Set<String> fields = new HashSet<>();
        while (r.hasNext()) {
            String k = r.nextName();
            if (!fields.add(k)) {
                throw bad(path, t + "duplicate field " + quote(k));
            }
            switch (k) {
                case "dtype":
                    if (r.peek() != JsonToken.STRING) {
                        throw bad(path, t + "\"dtype\" is not a string (got " + r.peek() + ")");
                    }
                    dtypeName = r.nextString();
                    break;
                case "shape":
                    shape = parseLongArray(path, r, t, "shape", FileIo.MAX_RANK);
                    break;
                case "data_offsets":
                    offsets = parseLongArray(path, r, t, "data_offsets", 2);
                    break;
                default:
                    r.skipValue();
            }
        }
        r.endObject();
        if (dtypeName == null) {
            throw bad(path, t + "missing \"dtype\"");
        }
        if (shape == null) {
            throw bad(path, t + "missing \"shape\"");
        }
        if (offsets == null) {
            throw bad(path, t + "missing \"data_offsets\"");
        }
        String dn = dtypeName;
        DType dtype = DType.fromName(dtypeName).orElseThrow(() -> bad(path, t + "unknown dtype " + quote(dn)));
        long count;
        long bytes;
        try {
            count = FileIo.elementCount(shape);
            if (count < 0) {
                throw bad(path, t + "negative dimension in shape " + Arrays.toString(shape));
            }
            bytes = Math.multiplyExact(count, (long) dtype.size());
        } catch (ArithmeticException e) {
            throw bad(path, t + "element count of shape " + Arrays.toString(shape) + " overflows");
        }
        if (offsets.length != 2) {
            throw bad(path, t + "data_offsets must be [begin, end], got " + Arrays.toString(offsets));
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (begin < 0 || end < begin) {
            throw bad(path, t + "data_offsets " + Arrays.toString(offsets) + " are not 0 <= begin <= end");
        }
        if (end > dataSize) {
            throw bad(path, t + "data_offsets " + Arrays.toString(offsets) + " extend past the data section ("
                    + dataSize + " bytes; truncated file?)");
        }
        if (end - begin != bytes) {
            throw bad(path, t + "data_offsets " + Arrays.toString(offsets) + " span " + (end - begin)
                    + " bytes but " + dtype + Arrays.toString(shape) + " needs " + bytes);
        }
        return new TensorInfo(name, dtype, shape, begin, bytes);
    }

    private static long[] parseLongArray(Path path, JsonReader r, String t, String field, int max)
            throws IOException, ReskernException {
        if (r.peek() != JsonToken.BEGIN_ARRAY) {
            throw bad(path, t + "\"" + field + "\" is not an array (got " + r.peek() + ")");
        }
        r.beginArray();
        long[] out = new long[Math.min(max, 8)];
        int n = 0;
        while (r.hasNext()) {
            if (n == max) {
                throw bad(path, t + "\"" + field + "\" has more than " + max + " elements");
            }
            if (r.peek() != JsonToken.NUMBER) {
                throw bad(path, t + "\"" + field + "\" element " + n + " is not a number (got " + r.peek() + ")");
            }
            String s = r.nextString();
            long v;
            try {
                v = Long.parseLong(s);
            } catch (NumberFormatException e) {
                throw bad(path, t + "\"" + field + "\" element " + quote(s, '\'') + " is not an integer in range");
            }
            if (n == out.length) {
                out = Arrays.copyOf(out, Math.min(max, out.length * 2));
            }
            out[n++] = v;
        }
        r.endArray();
        return Arrays.copyOf(out, n);
    }

    /** As in the reference implementation: sorted by offsets, the tensors must cover the data section exactly. */
    private static void checkTiling(Path path, List<TensorInfo> list, long dataSize) throws ReskernException {
        List<TensorInfo> sorted = new ArrayList<>(list);
        sorted.sort(Comparator.comparingLong(TensorInfo::byteOffset)
                .thenComparingLong(x -> x.byteOffset() + x.byteLength()));
        long pos = 0;
        TensorInfo prev = null;
        for (TensorInfo t : sorted) {
            if (t.byteOffset() < pos) {
                throw bad(path, "tensor " + quote(t.name()) + " overlaps tensor " + quote(prev.name()) + " (bytes "
                        + t.byteOffset() + ".." + (t.byteOffset() + t.byteLength()) + " vs "
                        + prev.byteOffset() + ".." + pos + ")");
            }
            if (t.byteOffset() > pos) {
                throw bad(path, "tensor " + quote(t.name()) + ": gap of " + (t.byteOffset() - pos)
                        + " unused bytes before its data_offsets (holes are not allowed)");
            }
            pos = t.byteOffset() + t.byteLength();
            prev = t;
        }
        if (pos != dataSize) {
            throw bad(path, "data section is " + dataSize + " bytes but the tensors cover " + pos
                    + " (trailing bytes are not allowed)");
        }
    }

    /** The file this was opened from. */
    public Path path() {
        return path;
    }

    /** Tensor names, in header order. */
    public Set<String> names() {
        return tensors.keySet();
    }

    /** Names of the tensors whose dtype converts to float ({@link DType#isFloat()}), in header order. */
    public Set<String> floatNames() {
        Set<String> out = new LinkedHashSet<>();
        for (TensorInfo t : tensors.values()) {
            if (t.dtype().isFloat()) {
                out.add(t.name());
            }
        }
        return Collections.unmodifiableSet(out);
    }

    /** Whether the file has a tensor of this name. */
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /**
     * The validated header entry of a tensor.
     *
     * @throws IllegalArgumentException if there is no such tensor (see {@link #contains})
     */
    public TensorInfo info(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException(path + ": no tensor " + quote(name));
        }
        return t;
    }

    /** The {@code __metadata__} map (empty if absent), in header order. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * Reads a tensor as float32, converting F16/BF16 exactly and narrowing F64 with round-to-nearest-even.
     *
     * @throws ReskernException {@code UNSUPPORTED} for a non-float dtype or more elements than a Java array holds;
     *                          {@code BAD_FILE} if the file was truncated after opening; {@code IO} on read errors
     */
    public float[] getFloats(String name) throws ReskernException {
        TensorInfo t = info(name);
        if (!t.dtype().isFloat()) {
            throw FileIo.unsupported(path, "unsupported dtype " + t.dtype() + " for tensor " + quote(name)
                    + " (only F32, F16, BF16, F64 convert to float)");
        }
        float[] out = new float[checkedArrayLength(t)];
        DType dt = t.dtype();
        readChunks(t, (buf, index, count) -> {
            switch (dt) {
                case F32:
                    buf.asFloatBuffer().get(out, index, count);
                    break;
                case F64:
                    for (int i = 0; i < count; i++) {
                        out[index + i] = (float) buf.getDouble(i * 8);
                    }
                    break;
                case F16:
                    for (int i = 0; i < count; i++) {
                        out[index + i] = Half.halfToFloat(buf.getShort(i * 2));
                    }
                    break;
                case BF16:
                    for (int i = 0; i < count; i++) {
                        out[index + i] = Half.bf16ToFloat(buf.getShort(i * 2));
                    }
                    break;
                default:
                    throw new AssertionError(dt);
            }
        });
        return out;
    }

    /**
     * Reads an integer or boolean tensor (I64, I32, I16, I8, U32, U16, U8, BOOL) as longs — e.g. a checkpoint's
     * {@code num_batches_tracked}.
     *
     * @throws ReskernException {@code UNSUPPORTED} for float, U64 and the other dtypes, or too many elements;
     *                          {@code BAD_FILE} / {@code IO} as for {@link #getFloats}
     */
    public long[] getLongs(String name) throws ReskernException {
        TensorInfo t = info(name);
        DType dt = t.dtype();
        switch (dt) {
            case I64: case I32: case I16: case I8: case U32: case U16: case U8: case BOOL:
                break;
            default:
                throw FileIo.unsupported(path, "unsupported dtype " + dt + " for tensor " + quote(name)
                        + " (getLongs reads I64, I32, I16, I8, U32, U16, U8, BOOL)");
        }
        long[] out = new long[checkedArrayLength(t)];
        readChunks(t, (buf, index, count) -> {
            for (int i = 0; i < count; i++) {
                long v;
                switch (dt) {
                    case I64: v = buf.getLong(i * 8); break;
                    case I32: v = buf.getInt(i * 4); break;
                    case U32: v = buf.getInt(i * 4) & 0xffffffffL; break;
                    case I16: v = buf.getShort(i * 2); break;
                    case U16: v = buf.getShort(i * 2) & 0xffff; break;
                    case I8: v = buf.get(i); break;
                    default: v = buf.get(i) & 0xff; break; // U8, BOOL
                }
                out[index + i] = v;
            }
        });
        return out;
    }

    /**
     * The raw little-endian bytes of a tensor, whatever its dtype.
     *
     * @throws ReskernException {@code UNSUPPORTED} if larger than a Java array; {@code BAD_FILE} / {@code IO} as
     *                          for {@link #getFloats}
     */
    public byte[] getBytes(String name) throws ReskernException {
        TensorInfo t = info(name);
        if (t.byteLength() > FileIo.MAX_ARRAY) {
            throw FileIo.unsupported(path, "tensor " + quote(name) + " has " + t.byteLength()
                    + " bytes, more than a Java array can hold");
        }
        byte[] out = new byte[(int) t.byteLength()];
        readAt(ByteBuffer.wrap(out), dataStart + t.byteOffset(), "tensor " + quote(name));
        return out;
    }

    private int checkedArrayLength(TensorInfo t) throws ReskernException {
        long n = t.elementCount();
        if (n > FileIo.MAX_ARRAY) {
            throw FileIo.unsupported(path, "tensor " + quote(t.name()) + " has " + n
                    + " elements, more than a Java array can hold (" + FileIo.MAX_ARRAY + ")");
        }
        return (int) n;
    }

    private interface ChunkSink {
        /** {@code buf} holds {@code count} little-endian elements, position 0; they go to {@code index}. */
        void accept(ByteBuffer buf, int index, int count);
    }

    private void readChunks(TensorInfo t, ChunkSink sink) throws ReskernException {
        int es = t.dtype().size();
        long total = t.byteLength();
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(total, FileIo.CHUNK)).order(ByteOrder.LITTLE_ENDIAN);
        long done = 0;
        while (done < total) {
            int len = (int) Math.min(total - done, buf.capacity());
            buf.clear().limit(len);
            readAt(buf, dataStart + t.byteOffset() + done, "tensor " + quote(t.name()));
            buf.flip();
            sink.accept(buf, (int) (done / es), len / es);
            done += len;
        }
    }

    /** Fills {@code buf} from {@code pos}, retrying on a channel closed by another thread's interrupt. */
    private void readAt(ByteBuffer buf, long pos, String what) throws ReskernException {
        int start = buf.position();
        for (int attempt = 0;; attempt++) {
            FileChannel ch = channel();
            try {
                FileIo.readFully(path, ch, buf, pos, what);
                return;
            } catch (IllegalStateException e) {
                if (closed || attempt >= 2) {
                    throw e;
                }
                buf.position(start);
            }
        }
    }

    /**
     * The open channel. An interrupt during a read closes a {@link FileChannel} for every thread; the next read
     * reopens the file (if it still has the size it had when opened, else {@code BAD_FILE}).
     */
    private FileChannel channel() throws ReskernException {
        FileChannel ch = channel;
        if (closed) {
            throw new IllegalStateException(path + ": closed");
        }
        if (ch.isOpen()) {
            return ch;
        }
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException(path + ": closed");
            }
            if (!channel.isOpen()) {
                FileChannel fresh = FileIo.openRead(path);
                long size;
                try {
                    size = FileIo.size(path, fresh);
                } catch (ReskernException e) {
                    closeQuietly(fresh);
                    throw e;
                }
                if (size != fileSize) {
                    closeQuietly(fresh);
                    throw bad(path, "file changed size since it was opened (" + fileSize + " -> " + size + " bytes)");
                }
                channel = fresh;
            }
            return channel;
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    /** Closes the file; later reads throw {@link IllegalStateException}. Idempotent. */
    @Override
    public void close() throws ReskernException {
        synchronized (this) {
            closed = true;
        }
        try {
            channel.close();
        } catch (IOException e) {
            throw FileIo.io(path, "close failed", e);
        }
    }

    @Override
    public String toString() {
        return "SafeTensors[" + path + ", " + tensors.size() + " tensors]";
    }

    // ---------------------------------------------------------------------------------------------- writing

    /**
     * Writes a safetensors file: the tensors in map order, contiguous, converted from float32 to {@code storeAs}
     * (F32, F16, BF16 or F64; narrowing rounds to nearest even); the JSON header padded with spaces to a multiple
     * of 8 bytes, {@code __metadata__} first when {@code metadata} is non-empty. The file is written to a
     * temporary sibling and moved into place.
     *
     * @param metadata may be {@code null}
     * @throws IllegalArgumentException if {@code storeAs} is not a float type, a name is {@code __metadata__}, a
     *                                  rank exceeds 64 ({@code null} names, tensors or metadata entries:
     *                                  {@link NullPointerException})
     * @throws ReskernException         {@code IO} if writing fails
     */
    public static void write(Path path, LinkedHashMap<String, FloatTensor> tensors, DType storeAs,
            Map<String, String> metadata) throws ReskernException {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(tensors, "tensors");
        Objects.requireNonNull(storeAs, "storeAs");
        if (!storeAs.isFloat()) {
            throw new IllegalArgumentException("storeAs must be F32, F16, BF16 or F64, not " + storeAs);
        }
        List<Map.Entry<String, FloatTensor>> entries = new ArrayList<>(tensors.entrySet());
        byte[] header;
        try {
            StringWriter sw = new StringWriter();
            JsonWriter w = new JsonWriter(sw);
            w.setHtmlSafe(false);
            w.beginObject();
            if (metadata != null && !metadata.isEmpty()) {
                w.name(METADATA_KEY).beginObject();
                for (Map.Entry<String, String> e : metadata.entrySet()) {
                    w.name(Objects.requireNonNull(e.getKey(), "metadata key"))
                            .value(Objects.requireNonNull(e.getValue(), "metadata value"));
                }
                w.endObject();
            }
            long offset = 0;
            for (Map.Entry<String, FloatTensor> e : entries) {
                String name = Objects.requireNonNull(e.getKey(), "tensor name");
                FloatTensor ft = Objects.requireNonNull(e.getValue(), "tensor " + name);
                if (name.equals(METADATA_KEY)) {
                    throw new IllegalArgumentException("a tensor cannot be named " + METADATA_KEY);
                }
                long[] shape = ft.shape();
                if (shape.length > FileIo.MAX_RANK) {
                    throw new IllegalArgumentException("tensor " + name + ": rank " + shape.length + " > "
                            + FileIo.MAX_RANK);
                }
                long bytes = (long) ft.data().length * storeAs.size();
                w.name(name).beginObject();
                w.name("dtype").value(storeAs.name());
                w.name("shape").beginArray();
                for (long d : shape) {
                    w.value(d);
                }
                w.endArray();
                w.name("data_offsets").beginArray().value(offset).value(offset + bytes).endArray();
                w.endObject();
                offset += bytes;
            }
            w.endObject();
            w.flush();
            byte[] json = sw.toString().getBytes(StandardCharsets.UTF_8);
            int padded = (json.length + 7) & ~7;
            if (padded > MAX_HEADER_BYTES) {
                throw new IllegalArgumentException("header would be " + padded + " bytes (max " + MAX_HEADER_BYTES
                        + ")");
            }
            header = Arrays.copyOf(json, padded);
            Arrays.fill(header, json.length, padded, (byte) ' ');
        } catch (IOException e) {
            throw new AssertionError(e); // StringWriter does not fail
        }
        FileIo.writeAtomically(path, ch -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            FileIo.writeFully(ch, len);
            FileIo.writeFully(ch, ByteBuffer.wrap(header));
            ByteBuffer buf = ByteBuffer.allocate(FileIo.CHUNK).order(ByteOrder.LITTLE_ENDIAN);
            int per = FileIo.CHUNK / storeAs.size();
            for (Map.Entry<String, FloatTensor> e : entries) {
                float[] data = e.getValue().data();
                for (int i = 0; i < data.length; i += per) {
                    int n = Math.min(per, data.length - i);
                    buf.clear();
                    switch (storeAs) {
                        case F32:
                            buf.asFloatBuffer().put(data, i, n);
                            buf.position(n * 4);
                            break;
                        case F64:
                            for (int k = 0; k < n; k++) {
                                buf.putDouble(data[i + k]);
                            }
                            break;
                        case F16:
                            for (int k = 0; k < n; k++) {
                                buf.putShort(Half.floatToHalf(data[i + k]));
                            }
                            break;
                        case BF16:
                            for (int k = 0; k < n; k++) {
                                buf.putShort(Half.floatToBf16(data[i + k]));
                            }
                            break;
                        default:
                            throw new AssertionError(storeAs);
                    }
                    buf.flip();
                    FileIo.writeFully(ch, buf);
                }
            }
        });
    }
}
