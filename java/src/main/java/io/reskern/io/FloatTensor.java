package io.reskern.io;

import java.util.Arrays;
import java.util.Objects;

/**
 * A float32 tensor in C (row-major) order, as written by {@link SafeTensors#write}.
 *
 * <p>The constructor checks that every dimension is ≥ 0 and that their product (computed without overflow) equals
 * {@code data.length}, else it throws {@link IllegalArgumentException}. The shape is copied; the data array is
 * <em>not</em> (weights can be large), so do not modify it while the tensor is in use.
 *
 * @param shape dimensions (empty for a scalar of one element)
 * @param data  the elements
 */
public record FloatTensor(long[] shape, float[] data) {

    public FloatTensor {
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(data, "data");
        shape = shape.clone();
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("element count of shape " + Arrays.toString(shape) + " overflows");
            }
        }
        if (n != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has " + n
                    + " elements but data has " + data.length);
        }
    }

    /** A copy of the dimensions. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FloatTensor t && Arrays.equals(shape, t.shape) && Arrays.equals(data, t.data);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(shape) * 31 + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "FloatTensor" + Arrays.toString(shape);
    }
}
