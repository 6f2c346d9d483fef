package io.reskern.io;

import java.util.Optional;

/**
 * Element types of a safetensors file, by their header name ({@code "F32"}, {@code "BF16"}, ...).
 *
 * <p>Only the floating-point types {@link #F32}, {@link #F16}, {@link #BF16} and {@link #F64} convert to
 * {@code float[]} ({@link #isFloat()}). The other names of the safetensors specification are recognised so that
 * a file holding them (e.g. a checkpoint's {@code num_batches_tracked}, an {@link #I64} scalar) still opens and
 * validates; reading such a tensor as floats is a clear {@code UNSUPPORTED} error, and callers that only want
 * weights can skip them with {@link SafeTensors#floatNames()}. Integer types can be read with
 * {@link SafeTensors#getLongs(String)}.
 */
public enum DType {
    /** IEEE 754 binary32. */
    F32(4, true),
    /** IEEE 754 binary16. */
    F16(2, true),
    /** bfloat16: the upper 16 bits of a binary32. */
    BF16(2, true),
    /** IEEE 754 binary64 (narrowed to float32 on read, round to nearest even). */
    F64(8, true),
    /** Signed 64-bit integer. */
    I64(8, false),
    /** Signed 32-bit integer. */
    I32(4, false),
    /** Signed 16-bit integer. */
    I16(2, false),
    /** Signed 8-bit integer. */
    I8(1, false),
    /** Unsigned 64-bit integer. */
    U64(8, false),
    /** Unsigned 32-bit integer. */
    U32(4, false),
    /** Unsigned 16-bit integer. */
    U16(2, false),
    /** Unsigned 8-bit integer. */
    U8(1, false),
    /** Boolean, one byte. */
    BOOL(1, false),
    /** 8-bit float E4M3 (recognised, not convertible). */
    F8_E4M3(1, false),
    /** 8-bit float E5M2 (recognised, not convertible). */
    F8_E5M2(1, false),
    /** 8-bit exponent-only scale E8M0 (recognised, not convertible). */
    F8_E8M0(1, false),
    /** Complex of two binary32 (recognised, not convertible). */
    C64(8, false);

    private final int size;
    private final boolean isFloat;

    DType(int size, boolean isFloat) {
        this.size = size;
        this.isFloat = isFloat;
    }

    /** Bytes per element. */
    public int size() {
        return size;
    }

    /** Whether {@link SafeTensors#getFloats(String)} can convert this type to float32. */
    public boolean isFloat() {
        return isFloat;
    }

    /** The type of a safetensors header name (case-sensitive, as in the specification), if it is known. */
    public static Optional<DType> fromName(String name) {
        for (DType d : values()) {
            if (d.name().equals(name)) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }
}
