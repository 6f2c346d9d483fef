package io.reskern.io;

/**
 * An array read by {@link Npy#read}: its shape (C order) and its elements, as float32 ({@link #data()}) or, for
 * {@code u1} files, also as the raw bytes ({@link #bytes()}).
 *
 * <p>The arrays returned are the instance's own (no copy; they can be large): treat them as read-only or take
 * ownership.
 */
public final class NpyArray {
    private final long[] shape;
    private final String dtype;
    private final byte[] bytes;
    private volatile float[] data;

    NpyArray(long[] shape, String dtype, float[] data, byte[] bytes) {
        this.shape = shape.clone();
        this.dtype = dtype;
        this.data = data;
        this.bytes = bytes;
    }

    /** A copy of the dimensions (C order; empty for a 0-d array). */
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements. */
    public int size() {
        return bytes != null ? bytes.length : data.length;
    }

    /**
     * The element type as stored in the file, normalised: {@code "f2"}, {@code "f4"}, {@code "f8"} or
     * {@code "u1"} (byte order is applied on read).
     */
    public String dtype() {
        return dtype;
    }

    /** Whether this array came from a {@code u1} file, i.e. {@link #bytes()} is available. */
    public boolean isBytes() {
        return bytes != null;
    }

    /** The elements as float32 in C order ({@code u1} values as 0..255, converted on first call). */
    public float[] data() {
        float[] d = data;
        if (d == null) {
            d = new float[bytes.length];
            for (int i = 0; i < d.length; i++) {
                d[i] = bytes[i] & 0xff;
            }
            data = d;
        }
        return d;
    }

    /**
     * The raw unsigned bytes of a {@code u1} array in C order.
     *
     * @throws IllegalStateException if the file was not {@code u1}
     */
    public byte[] bytes() {
        if (bytes == null) {
            throw new IllegalStateException("not a u1 array (dtype " + dtype + ")");
        }
        return bytes;
    }

    @Override
    public String toString() {
        return "NpyArray[" + dtype + java.util.Arrays.toString(shape) + "]";
    }
}
