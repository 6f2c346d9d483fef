package io.reskern.io;

/**
 * Exact conversions between float32 and the 16-bit float formats (binary16, bfloat16). Widening is exact for
 * every input (subnormals, ±0, ±inf, NaN payloads kept in the upper bits); narrowing rounds to nearest, ties to
 * even, overflows to ±inf, and keeps NaN a (quiet) NaN.
 */
public final class Half {
    private Half() {
    }

    /** binary16 bits → float32, exact. */
    public static float halfToFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0) {
            // ±0 or subnormal: mant × 2^-24, exact in float32.
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13)); // ±inf, or NaN with its payload
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** float32 → binary16 bits, round to nearest even. */
    public static short floatToHalf(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7fffffff;
        if (abs >= 0x7f800000) {
            if (abs == 0x7f800000) {
                return (short) (sign | 0x7c00);
            }
            return (short) (sign | 0x7e00 | ((abs >>> 13) & 0x3ff)); // quiet NaN, upper payload kept
        }
        if (abs >= 0x477ff000) { // ≥ 65520 rounds (ties to even) to infinity
            return (short) (sign | 0x7c00);
        }
        if (abs >= 0x38800000) { // ≥ 2^-14: normal
            int mant = abs & 0x7fffff;
            int h = ((((abs >>> 23) - 127 + 15)) << 10) | (mant >>> 13);
            int rem = mant & 0x1fff;
            if (rem > 0x1000 || (rem == 0x1000 && (h & 1) != 0)) {
                h++; // a carry into the exponent is the correct result
            }
            return (short) (sign | h);
        }
        int e = (abs >>> 23) - 127;
        if (e < -25) {
            return (short) sign; // below half the smallest subnormal (float32 subnormals included): ±0
        }
        int m = (abs & 0x7fffff) | 0x800000;
        int shift = -e - 1; // 14..24: units of 2^-24
        int h = m >>> shift;
        int rem = m & ((1 << shift) - 1);
        int half = 1 << (shift - 1);
        if (rem > half || (rem == half && (h & 1) != 0)) {
            h++;
        }
        return (short) (sign | h);
    }

    /** bfloat16 bits → float32, exact. */
    public static float bf16ToFloat(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }

    /** float32 → bfloat16 bits, round to nearest even. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x0040); // quiet NaN, never rounded into infinity
        }
        int lsb = (bits >>> 16) & 1;
        return (short) ((bits + 0x7fff + lsb) >>> 16);
    }
}
