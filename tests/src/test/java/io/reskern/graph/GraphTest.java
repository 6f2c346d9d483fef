package io.reskern.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.ResNetSpec;
import io.reskern.ResNets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Specs → graphs: parameter counts and MACs against torchvision/timm's published numbers (shared/docs/variants.md). */
class GraphTest {
    @ParameterizedTest(name = "{0}: {1} params")
    @CsvSource({
        "resnet18, 11689512", "resnet34, 21797672", "resnet50, 25557032", "resnet101, 44549160", "resnet152, 60192808",
        "resnet50_v1, 25557032", "resnet50c, 25576264", "resnet50d, 25576264", "resnet18d, 11708744",
        "resnetv2_50, 25549352", "resnetv2_18, 11687720", "resnext50_32x4d, 25028904", "wide_resnet50_2, 68883240",
        "cifar_resnet20, 269722", "cifar_resnet32, 464154", "cifar_resnet44, 658586", "cifar_resnet56, 853018",
        "cifar_resnet110, 1727962", "cifar_resnet1202, 19421274"})
    void parameterCounts(String name, long params) {
        assertEquals(params, GraphBuilder.build(ResNets.byName(name)).parameterCount());
    }

    @Test
    void cifarOptionBAddsProjections() {
        assertEquals(272474, GraphBuilder.build(ResNets.byName("cifar_resnet20").withShortcut(ResNetSpec.Shortcut.PROJECTION))
                .parameterCount());
    }

    @ParameterizedTest(name = "{0}: {1} GMACs at {2}px")
    @CsvSource({"resnet18, 1.814, 224", "resnet34, 3.664, 224", "resnet50, 4.089, 224", "resnet101, 7.801, 224",
        "resnet152, 11.514, 224", "cifar_resnet20, 0.04055, 32", "cifar_resnet56, 0.12549, 32", "cifar_resnet110, 0.25289, 32"})
    void macsCountConvAndFc(String name, double gmacs, int px) {
        // Conv + FC multiply-accumulates (torchvision's "GFLOPS" column convention: resnet50 4.09, CIFAR ResNet-20 40.55M).
        double got = GraphBuilder.build(ResNets.byName(name)).plan(1, px, px).macs() / 1e9;
        assertEquals(gmacs, got, gmacs * 2e-3);
    }

    @Test
    void bnFoldsIntoConvsAndTheAddIntoTheLastConv() {
        Graph g = GraphBuilder.build(ResNets.byName("resnet50"));
        assertEquals(53, g.convCount()); // 1 stem + 16 blocks x 3 + 4 projections
        long fusedResidual = g.nodes().stream().filter(n -> n instanceof Node.Conv c && c.residual() >= 0).count();
        assertEquals(16, fusedResidual);
        assertTrue(g.nodes().stream().noneMatch(n -> n instanceof Node.BnRelu));
    }

    @Test
    void v1PutsTheStrideOnTheFirst1x1AndV15OnThe3x3() {
        Node.Conv v1 = firstConv(GraphBuilder.build(ResNets.byName("resnet50_v1")), "layer2.0.conv1");
        Node.Conv v15 = firstConv(GraphBuilder.build(ResNets.byName("resnet50")), "layer2.0.conv1");
        assertEquals(2, v1.stride());
        assertEquals(1, v15.stride());
        assertEquals(1, firstConv(GraphBuilder.build(ResNets.byName("resnet50_v1")), "layer2.0.conv2").stride());
        assertEquals(2, firstConv(GraphBuilder.build(ResNets.byName("resnet50")), "layer2.0.conv2").stride());
    }

    @Test
    void v1dAvgPoolsOnlyInStridedStages() {
        Graph g = GraphBuilder.build(ResNets.byName("resnet50d"));
        assertEquals(3, g.nodes().stream().filter(n -> n instanceof Node.AvgPool).count());
        assertTrue(g.params().containsKey("layer1.0.downsample.1.weight"));
        assertTrue(g.params().containsKey("conv1.6.weight"));
    }

    @Test
    void v2PreActivatesAndEndsWithANorm() {
        Graph g = GraphBuilder.build(ResNets.byName("resnetv2_50"));
        assertEquals(17, g.nodes().stream().filter(n -> n instanceof Node.BnRelu).count()); // 16 blocks + final
        assertTrue(g.params().containsKey("stages.0.blocks.0.downsample.conv.weight"));
        assertTrue(g.params().containsKey("norm.running_var"));
        Node.Conv stem = firstConv(g, "stem.conv");
        assertTrue(!stem.relu() && !stem.hasBn());
    }

    @Test
    void optionAHasNoParametersAndUsesThePaddedView() {
        Graph g = GraphBuilder.build(ResNets.byName("cifar_resnet20"));
        assertEquals(2, g.nodes().stream().filter(n -> n instanceof Node.Conv c && c.residualMode() == Node.Residual.OPTION_A).count());
        assertTrue(g.params().keySet().stream().noneMatch(k -> k.contains("shortcut")));
    }

    @Test
    void buffersAreReused() {
        Plan p = GraphBuilder.build(ResNets.byName("resnet152")).plan(1, 224, 224);
        assertTrue(p.arenaElements() * 5 < p.unsharedElements(), "liveness reuse should shrink the arena");
        assertTrue(p.slotCount() <= 4);
        // No node reads a buffer another live value overwrote: outputs never share a slot with their inputs.
        for (Node n : p.graph().nodes()) {
            assertTrue(p.offset(n.output()) != p.offset(n.input()), n.toString());
        }
    }

    @Test
    void poolOutputSizesFollowTorchCeilMode() {
        assertEquals(4, Plan.poolOut(7, 2, 2, 0, true, null));
        assertEquals(3, Plan.poolOut(6, 2, 2, 0, true, null));
        assertEquals(1, Plan.poolOut(1, 2, 2, 0, true, null));
        assertEquals(56, Plan.poolOut(112, 3, 2, 1, false, null));
        assertEquals(33, Plan.poolOut(65, 3, 2, 1, false, null));
    }

    /** torch 1.13 {@code F.max_pool2d(x, k, s, p, ceil_mode=True / False).shape[2]} for an H x H input. */
    @ParameterizedTest(name = "H {0}, k {1}, s {2}, p {3}: ceil {4}, floor {5}")
    @CsvSource({"16,3,2,0,8,7", "17,3,2,0,8,8", "112,3,2,0,56,55", "15,3,2,1,8,8", "16,3,2,1,9,8", "17,3,3,1,6,6",
        "5,3,3,1,2,2", "4,2,2,1,3,3", "7,2,2,0,4,3", "3,3,2,1,2,2", "1,3,2,1,1,1", "6,3,3,1,3,2", "11,5,4,2,4,3"})
    void maxPoolCeilModeSizesAreTorchs(int h, int k, int s, int p, int ceil, int floor) {
        // 17/3/3/1, 5/3/3/1: plain ceil would give one more window, starting in the right padding; torch drops it
        assertEquals(ceil, Plan.poolOut(h, k, s, p, true, null));
        assertEquals(floor, Plan.poolOut(h, k, s, p, false, null));
        GraphAssembler a = new GraphAssembler("t");
        Graph g = a.build(a.fc(a.globalAvgPool(a.maxPool(a.input(), k, s, p, true)), 2, "fc"));
        assertEquals(ceil, g.plan(1, h, h).height(1));
    }

    @Test
    void badNamesAndSpecsAreClearErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ResNets.byName("resnet51"));
        assertTrue(e.getMessage().contains("resnet51"));
        assertThrows(IllegalArgumentException.class, () -> ResNets.byName("cifar_resnet21"));
        assertThrows(IllegalArgumentException.class, () -> ResNets.byName("vgg16"));
        assertThrows(IllegalArgumentException.class, () -> ResNets.byName("resnet50").withClasses(0));
        assertThrows(IllegalArgumentException.class, () -> GraphBuilder.build(ResNets.byName("resnet50")).plan(1, 0, 8));
        // sizes that wrap a long must not become a small plan the kernels write past
        IllegalArgumentException big = assertThrows(IllegalArgumentException.class,
                () -> GraphBuilder.build(ResNets.byName("cifar_resnet20")).plan(1 << 22, 1 << 21, 1 << 21));
        assertTrue(big.getMessage().contains("too large"), big.getMessage());
    }

    @Test
    void everyNamedModelBuilds() {
        for (String n : ResNets.names()) {
            Graph g = GraphBuilder.build(ResNets.byName(n));
            assertTrue(g.parameterCount() > 0, n);
        }
        Map<String, String> families = Map.of("resnet50_v1", "v1", "resnet50", "v1.5", "resnet50c", "v1c", "resnet50d", "v1d",
                "resnetv2_50", "v2", "cifar_resnet20", "cifar-A", "resnext50_32x4d", "resnext", "wide_resnet50_2", "wide");
        families.forEach((m, f) -> assertEquals(f, ResNets.family(ResNets.byName(m)), m));
    }

    private static Node.Conv firstConv(Graph g, String name) {
        return g.nodes().stream().filter(n -> n instanceof Node.Conv c && c.convName().equals(name)).map(n -> (Node.Conv) n)
                .findFirst().orElseThrow();
    }
}
