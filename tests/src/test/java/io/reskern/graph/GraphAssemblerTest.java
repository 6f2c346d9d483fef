package io.reskern.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@link GraphAssembler}: every op is validated against what is there; a built graph always plans. */
class GraphAssemblerTest {
    static final Node.Residual NONE = Node.Residual.NONE;

    @Test
    void assemblesAValidGraph() {
        GraphAssembler a = new GraphAssembler("t");
        int x = a.conv(a.input(), 8, 3, 2, 1, 1, "c1", "b1", 1e-3, true, -1, NONE);
        int y = a.conv(x, 8, 3, 1, 1, 1, "c2", null, 1e-5, true, x, Node.Residual.IDENTITY);
        int z = a.conv(y, 16, 3, 2, 1, 1, "c3", "b3", 1e-5, true, y, Node.Residual.OPTION_A);
        Graph g = a.build(a.fc(a.globalAvgPool(a.bnRelu(a.avgPool(a.maxPool(z, 3, 2, 1), 2, 2, true, false), "n", 2e-5, true)), 5, "fc"));
        assertNull(g.spec());
        assertEquals("t", g.name());
        assertEquals(5, g.classes());
        assertEquals(1e-3, g.bnEpsilon("b1"));
        assertEquals(2e-5, g.bnEpsilon("n"));
        assertEquals(Graph.DEFAULT_BN_EPS, g.bnEpsilon("unknown"));
        assertTrue(g.params().containsKey("c2.bias") && g.params().get("c2.bias").optional());
        Plan p = g.plan(2, 33, 31);
        assertEquals(1, p.height(g.output()));
    }

    @Test
    void refusesInvalidOps() {
        GraphAssembler a = new GraphAssembler("t");
        int x = a.conv(a.input(), 8, 3, 1, 1, 1, "c1", null, 1e-5, false, -1, NONE);
        assertThrows(IllegalArgumentException.class, () -> a.conv(7, 8, 3, 1, 1, 1, "c", null, 1e-5, false, -1, NONE));
        assertThrows(IllegalArgumentException.class, () -> a.conv(x, 8, 3, 1, 1, 3, "c", null, 1e-5, false, -1, NONE));
        assertThrows(IllegalArgumentException.class, () -> a.conv(x, 4, 3, 1, 1, 1, "c", null, 1e-5, false, x, Node.Residual.IDENTITY));
        assertThrows(IllegalArgumentException.class, () -> a.conv(x, 4, 3, 1, 1, 1, "c", null, 1e-5, false, x, Node.Residual.OPTION_A));
        assertThrows(IllegalArgumentException.class, () -> a.conv(x, 8, 3, 1, 1, 1, "c1", null, 1e-5, false, -1, NONE));
        assertThrows(IllegalArgumentException.class, () -> a.conv(x, 8, 3, 1, 1, 1, "c", "c", 1e-5, false, -1, NONE));
        assertThrows(IllegalArgumentException.class, () -> a.conv(x, 8, 3, 1, 1, 1, "c", "b", 0.0, false, -1, NONE));
        assertThrows(IllegalArgumentException.class, () -> a.conv(x, 8, GraphAssembler.MAX_WINDOW + 1, 1, 1, 1, "c", null, 1e-5, false, -1, NONE));
        assertThrows(IllegalArgumentException.class, () -> a.maxPool(x, 3, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> a.fc(x, 2, "fc"));
        assertThrows(IllegalArgumentException.class, () -> a.build(x));
        // after the refusals the assembler is intact
        Graph g = a.build(a.fc(a.globalAvgPool(x), 2, "fc"));
        assertEquals(3, g.nodes().size());
        assertThrows(IllegalStateException.class, () -> a.globalAvgPool(x));
    }

    @Test
    void aFixedWindowAvgPoolIsGlobalOnlyAtTheSizeItCovers() {
        GraphAssembler a = new GraphAssembler("t");
        int x = a.conv(a.input(), 8, 3, 2, 1, 1, "c1", null, 1e-5, true, -1, NONE); // 32 -> 16
        int p = a.avgPool(x, 16, 16, false, false);
        int q = a.conv(p, 8, 1, 1, 0, 1, "c2", null, 1e-5, false, -1, NONE); // a 1x1 conv keeps the size
        assertEquals(p, a.avgPoolBehind(q));
        assertEquals(-1, a.avgPoolBehind(x));
        assertFalse(a.isPooled(q));
        assertFalse(a.globalAtInputSize(p, 30, 32, "r"), "15x16 is not the 16x16 window");
        assertFalse(a.globalAtInputSize(p, 1, 1, "r"), "a size that does not plan");
        assertFalse(a.isPooled(q));
        assertTrue(a.globalAtInputSize(p, 32, 32, "its 16x16 pool"));
        assertTrue(a.isPooled(q));
        assertFalse(a.globalAtInputSize(p, 64, 64, "r"), "a second size");
        Graph g = a.build(a.fc(q, 3, "fc"));
        assertEquals(new Graph.FixedSize(32, 32, "its 16x16 pool"), g.fixedInputSize());
        assertEquals(1, g.plan(4, 32, 32).height(p));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.plan(1, 64, 64));
        assertEquals("t runs only at input 32x32 (its 16x16 pool), got 64x64", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> g.plan(1, 32, 31));
        GraphAssembler b = new GraphAssembler("u");
        assertNull(b.build(b.fc(b.globalAvgPool(b.input()), 2, "fc")).fixedInputSize());
    }

    @Test
    void planRefusesResidualsOfAnotherShape() {
        GraphAssembler a = new GraphAssembler("t");
        int x = a.conv(a.input(), 8, 3, 1, 1, 1, "c1", null, 1e-5, false, -1, NONE);
        int y = a.conv(x, 8, 3, 2, 1, 1, "c2", null, 1e-5, false, x, Node.Residual.IDENTITY); // stride 2 + full-size residual
        Graph g = a.build(a.fc(a.globalAvgPool(y), 2, "fc"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.plan(1, 16, 16));
        assertTrue(e.getMessage().startsWith("residual shape mismatch"), e.getMessage());
    }
}
