package io.reskern.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Known-value and exhaustive checks of the binary16 / bfloat16 conversions. */
class HalfTest {

    private static int bits(float f) {
        return Float.floatToRawIntBits(f);
    }

    private static int h(float f) {
        return Half.floatToHalf(f) & 0xffff;
    }

    private static int b(float f) {
        return Half.floatToBf16(f) & 0xffff;
    }

    @Test
    void halfToFloatKnownValues() {
        assertEquals(bits(0f), bits(Half.halfToFloat((short) 0x0000)));
        assertEquals(bits(-0f), bits(Half.halfToFloat((short) 0x8000)));
        assertEquals(1f, Half.halfToFloat((short) 0x3c00));
        assertEquals(-2f, Half.halfToFloat((short) 0xc000));
        assertEquals(0.333251953125f, Half.halfToFloat((short) 0x3555));
        assertEquals(65504f, Half.halfToFloat((short) 0x7bff));
        assertEquals(0x1p-14f, Half.halfToFloat((short) 0x0400)); // smallest normal
        assertEquals(0x1p-24f, Half.halfToFloat((short) 0x0001)); // smallest subnormal
        assertEquals(-0x1p-24f, Half.halfToFloat((short) 0x8001));
        assertEquals(1023 * 0x1p-24f, Half.halfToFloat((short) 0x03ff)); // largest subnormal
        assertEquals(Float.POSITIVE_INFINITY, Half.halfToFloat((short) 0x7c00));
        assertEquals(Float.NEGATIVE_INFINITY, Half.halfToFloat((short) 0xfc00));
        assertTrue(Float.isNaN(Half.halfToFloat((short) 0x7e00)));
        assertTrue(Float.isNaN(Half.halfToFloat((short) 0x7c01))); // signalling payload stays NaN
        assertTrue(Float.isNaN(Half.halfToFloat((short) 0xffff)));
    }

    @Test
    void floatToHalfRoundsToNearestEven() {
        assertEquals(0x3c00, h(1f));
        assertEquals(0x8000, h(-0f));
        assertEquals(0x0000, h(0f));
        assertEquals(0x7bff, h(65504f));
        assertEquals(0x7bff, h(65519.996f)); // just below the midpoint to infinity
        assertEquals(0x7c00, h(65520f)); // midpoint: ties to even = infinity
        assertEquals(0xfc00, h(-65520f));
        assertEquals(0x7c00, h(Float.MAX_VALUE));
        assertEquals(0x7c00, h(Float.POSITIVE_INFINITY));
        assertEquals(0xfc00, h(Float.NEGATIVE_INFINITY));
        assertEquals(0x3c00, h(1f + 0x1p-11f)); // tie, 1.0 is even
        assertEquals(0x3c02, h(1f + 3 * 0x1p-11f)); // tie, rounds up to even
        assertEquals(0x3c01, h(1f + 0x1p-11f + 0x1p-20f)); // above the tie
        assertEquals(0x0000, h(0x1p-25f)); // half the smallest subnormal: tie to 0
        assertEquals(0x0001, h(Math.nextUp(0x1p-25f)));
        assertEquals(0x0002, h(3 * 0x1p-25f)); // tie between 1 and 2 units: 2
        assertEquals(0x0001, h(0x1p-24f));
        assertEquals(0x0400, h(0x1p-14f));
        assertEquals(0x0400, h(1023.5f * 0x1p-24f)); // largest subnormal + half unit: ties to even (normal)
        assertEquals(0x0000, h(1e-10f));
        assertEquals(0x8000, h(-Float.MIN_VALUE)); // float32 subnormal
        int nan = h(Float.NaN);
        assertEquals(0x7c00, nan & 0x7c00);
        assertTrue((nan & 0x3ff) != 0);
        assertTrue((h(Float.intBitsToFloat(0x7f800001)) & 0x3ff) != 0, "low-payload NaN must not become inf");
    }

    @Test
    void everyHalfRoundTripsExactly() {
        for (int i = 0; i < 0x10000; i++) {
            float f = Half.halfToFloat((short) i);
            int bitsIn = i;
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(Half.halfToFloat(Half.floatToHalf(f))));
            } else {
                assertEquals(i, h(f), () -> Integer.toHexString(bitsIn));
            }
        }
    }

    @Test
    void randomFloatsRoundToTheNearestHalf() {
        Random r = new Random(7);
        for (int k = 0; k < 200_000; k++) {
            float f = Float.intBitsToFloat((r.nextInt(0x4780_0000 - 0x3000_0000) + 0x3000_0000)
                    | (r.nextBoolean() ? 0x8000_0000 : 0));
            int hb = h(f);
            double x = f;
            double got = Half.halfToFloat((short) hb);
            double err = Math.abs(got - x);
            for (int nb : new int[] {hb - 1, hb + 1}) {
                if ((nb & 0x7c00) == 0x7c00 && (nb & 0x3ff) != 0) {
                    continue; // NaN neighbour
                }
                double alt = Half.halfToFloat((short) nb);
                double altErr = Math.abs(alt - x);
                assertTrue(err < altErr || (err == altErr && (hb & 1) == 0) || Double.isInfinite(alt)
                        || Double.isInfinite(got), () -> "f=" + f + " got " + Integer.toHexString(hb));
            }
        }
    }

    @Test
    void bf16KnownValues() {
        assertEquals(1f, Half.bf16ToFloat((short) 0x3f80));
        assertEquals(-2f, Half.bf16ToFloat((short) 0xc000));
        assertEquals(bits(-0f), bits(Half.bf16ToFloat((short) 0x8000)));
        assertEquals(Float.intBitsToFloat(0x00010000), Half.bf16ToFloat((short) 0x0001)); // subnormal
        assertEquals(Float.POSITIVE_INFINITY, Half.bf16ToFloat((short) 0x7f80));
        assertEquals(Float.NEGATIVE_INFINITY, Half.bf16ToFloat((short) 0xff80));
        assertTrue(Float.isNaN(Half.bf16ToFloat((short) 0x7fc0)));

        assertEquals(0x3f80, b(1f));
        assertEquals(0x8000, b(-0f));
        assertEquals(0x3f80, b(1f + 0x1p-8f)); // tie to even
        assertEquals(0x3f82, b(1f + 3 * 0x1p-8f)); // tie up to even
        assertEquals(0x3f81, b(1f + 0x1p-8f + 0x1p-20f));
        assertEquals(0x0001, b(Float.intBitsToFloat(0x00010000)));
        assertEquals(0x0000, b(Float.intBitsToFloat(0x00008000))); // subnormal tie to even 0
        assertEquals(0x7f80, b(Float.MAX_VALUE)); // rounds to infinity
        assertEquals(0xff80, b(Float.NEGATIVE_INFINITY));
        assertTrue(Float.isNaN(Half.bf16ToFloat(Half.floatToBf16(Float.intBitsToFloat(0x7f800001)))));
        assertTrue(Float.isNaN(Half.bf16ToFloat(Half.floatToBf16(Float.NaN))));
        for (int i = 0; i < 0x10000; i++) {
            float f = Half.bf16ToFloat((short) i);
            if (!Float.isNaN(f)) {
                assertEquals(i, b(f));
            }
        }
    }
}
