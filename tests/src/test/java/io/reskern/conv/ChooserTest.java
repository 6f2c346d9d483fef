package io.reskern.conv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.ConvPolicy;
import io.reskern.backend.conv.Chooser;
import io.reskern.backend.conv.Measured;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The per-layer choice rule with fake timings: cuDNN missing, slower, faster, ties within noise, noisy samples. */
class ChooserTest {
    static final String H = "own:heuristic";

    static Measured own(String name, double ms, double spread) {
        return new Measured("own:" + name, ms, spread, 0);
    }

    static Measured cud(String name, double ms, double spread) {
        return new Measured("cudnn:" + name, ms, spread, 1 << 20);
    }

    @Test
    void ownPolicyNeverLooksAtTimes() {
        Chooser.Choice c = Chooser.choose(ConvPolicy.OWN, H, own("tc_f16_128x64", 2, 0), cud("IMPLICIT_GEMM", 0.1, 0));
        assertEquals(H, c.id());
    }

    @Test
    void cudnnMissingFallsBackToOwn() {
        assertEquals(H, Chooser.choose(ConvPolicy.CUDNN, H, null, null).id());
        assertEquals("own:tc_f16_64x64", Chooser.choose(ConvPolicy.CUDNN, H, own("tc_f16_64x64", 1, 0), null).id());
        assertEquals("own:tc_f16_64x64", Chooser.choose(ConvPolicy.BEST, H, own("tc_f16_64x64", 1, 0), null).id());
        assertEquals(H, Chooser.choose(ConvPolicy.BEST, H, null, null).id());
    }

    @Test
    void cudnnPolicyTakesCudnnEvenWhenSlower() {
        Chooser.Choice c = Chooser.choose(ConvPolicy.CUDNN, H, own("a", 1, 0), cud("IMPLICIT_GEMM", 5, 0));
        assertEquals("cudnn:IMPLICIT_GEMM", c.id());
        assertTrue(c.isCudnn());
    }

    @Test
    void bestKeepsOwnWhenCudnnIsSlower() {
        assertEquals("own:a", Chooser.choose(ConvPolicy.BEST, H, own("a", 1.0, 0.01), cud("X", 1.5, 0.01)).id());
    }

    @Test
    void bestTakesCudnnOnlyWhenClearlyFaster() {
        assertEquals("cudnn:X", Chooser.choose(ConvPolicy.BEST, H, own("a", 1.0, 0.005), cud("X", 0.90, 0.005)).id());
        // 2 % faster: within the 3 % minimum margin, own stays
        assertEquals("own:a", Chooser.choose(ConvPolicy.BEST, H, own("a", 1.0, 0.0), cud("X", 0.98, 0.0)).id());
        // exact tie: own
        assertEquals("own:a", Chooser.choose(ConvPolicy.BEST, H, own("a", 1.0, 0.0), cud("X", 1.0, 0.0)).id());
    }

    @Test
    void noisySamplesWidenTheMargin() {
        // 10 % faster, but the cuDNN samples spread 8 %: margin 16 % -> own
        assertEquals("own:a", Chooser.choose(ConvPolicy.BEST, H, own("a", 1.0, 0.01), cud("X", 0.90, 0.08)).id());
        // 25 % faster beats that margin
        assertEquals("cudnn:X", Chooser.choose(ConvPolicy.BEST, H, own("a", 1.0, 0.01), cud("X", 0.75, 0.08)).id());
    }

    @Test
    void bestOwnPrefersTheHeuristicWithinNoise() {
        List<Measured> l = List.of(own("heuristic", 1.00, 0), own("tc_f16_128x64", 0.99, 0), own("tc_f16_64x64", 1.3, 0));
        assertEquals(H, Chooser.bestOwn(l, H).id());
        List<Measured> l2 = List.of(own("heuristic", 1.00, 0), own("tc_f16_128x64", 0.80, 0));
        assertEquals("own:tc_f16_128x64", Chooser.bestOwn(l2, H).id());
        // heuristic not among them (it failed): the fastest
        assertEquals("own:tc_f16_128x64", Chooser.bestOwn(List.of(own("tc_f16_64x64", 2, 0), own("tc_f16_128x64", 1, 0)), H).id());
        assertNull(Chooser.bestOwn(List.of(), H));
    }

    @Test
    void bestIsNeverSlowerThanEitherBeyondNoise() {
        java.util.Random r = new java.util.Random(5);
        for (int i = 0; i < 10_000; i++) {
            Measured o = own("a", 0.01 + r.nextDouble(), r.nextDouble() * 0.05);
            Measured c = cud("X", 0.01 + r.nextDouble(), r.nextDouble() * 0.05);
            Chooser.Choice ch = Chooser.choose(ConvPolicy.BEST, H, o, c);
            double chosen = ch.isCudnn() ? c.ms() : o.ms();
            double margin = Math.max(Chooser.MIN_MARGIN, 2 * Math.max(o.spread(), c.spread()));
            assertTrue(chosen <= o.ms(), "never slower than own");
            assertTrue(chosen <= c.ms() * (1 + margin) / (1 - margin) + 1e-12, "slower than cudnn only within noise");
        }
    }

    @Test
    void measuredFromSamples() {
        Measured m = Measured.of("own:a", new double[] {1.0, 1.2, 0.9, 1.1, 5.0}, 0);
        assertEquals(1.1, m.ms(), 1e-12);
        assertTrue(m.spread() > 0);
        assertFalse(m.isCudnn());
        assertThrows(IllegalArgumentException.class, () -> Measured.of("own:a", new double[0], 0));
        assertThrows(IllegalArgumentException.class, () -> new Measured("own:a", Double.NaN, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Measured("own:a", -1, 0, 0));
    }
}
