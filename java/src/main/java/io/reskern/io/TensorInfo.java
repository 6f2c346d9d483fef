package io.reskern.io;

import java.util.Arrays;

/**
 * One validated entry of a safetensors header.
 *
 * @param name       the tensor's name
 * @param dtype      its element type
 * @param shape      its dimensions (a copy is returned by {@link #shape()}; rank 0 is a scalar)
 * @param byteOffset start of its data, relative to the start of the data section (after the header)
 * @param byteLength length of its data in bytes (= elements × {@code dtype.size()})
 */
public record TensorInfo(String name, DType dtype, long[] shape, long byteOffset, long byteLength) {

    public TensorInfo {
        shape = shape.clone();
    }

    /** A copy of the dimensions. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements (the product of the dimensions; 1 for a scalar). */
    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d); // validated not to overflow when read from a file
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && byteOffset == t.byteOffset && byteLength == t.byteLength;
    }

    @Override
    public int hashCode() {
        return (name.hashCode() * 31 + dtype.hashCode()) * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + ": " + dtype + Arrays.toString(shape) + " @" + byteOffset + "+" + byteLength;
    }
}
