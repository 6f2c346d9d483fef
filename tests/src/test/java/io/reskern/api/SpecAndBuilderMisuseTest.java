package io.reskern.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.Device;
import io.reskern.Model;
import io.reskern.ResNetSpec;
import io.reskern.ResNetSpec.Block;
import io.reskern.ResNetSpec.Naming;
import io.reskern.ResNetSpec.Shortcut;
import io.reskern.ResNetSpec.Stem;
import io.reskern.ResNetSpec.StrideAt;
import io.reskern.ResNets;
import io.reskern.graph.GraphBuilder;
import io.reskern.weights.WeightSource;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Named models and user-defined spec rows that used to fail late, obscurely or not at all (apiaudit): each is now an
 * IllegalArgumentException naming the problem, before any graph, weight or native memory exists.
 */
class SpecAndBuilderMisuseTest {
    private static IllegalArgumentException bad(Runnable r, String fragment) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(fragment), "expected '" + fragment + "' in: " + e.getMessage());
        return e;
    }

    @Test
    void cifarDepthsOutOfRangeAreNamedNotNumberFormatOrOutOfMemory() {
        // was NumberFormatException "For input string: ..." and, for 2000000000, an OutOfMemoryError building the graph
        IllegalArgumentException e = bad(() -> ResNets.byName("cifar_resnet99999999999"), "6n+2 from 8 to 10000");
        assertEquals(IllegalArgumentException.class, e.getClass(), "not a NumberFormatException");
        bad(() -> ResNets.byName("cifar_resnet2000000000"), "6n+2 from 8 to 10000");
        bad(() -> ResNets.byName("cifar_resnet10004"), "got 10004");
        bad(() -> ResNets.byName("cifar_resnet21"), "got 21");
        bad(() -> ResNets.byName("cifar_resnet2"), "got 2");
        bad(() -> ResNets.byName("cifar_resnet020"), "leading zeros");
        assertEquals(3332, ResNets.byName("cifar_resnet9998").layers()[0] * 2, "the deepest accepted: n = 1666");
        assertEquals(1, ResNets.byName("cifar_resnet8").layers()[0]);
        bad(() -> ResNets.byName("resnet99999999999"), "unknown depth 99999999999");
        bad(() -> ResNets.byName("resnet0050"), "unknown depth 0050");
        assertEquals("resnet50", ResNets.byName(" ResNet50 ").name());
    }

    private static ResNetSpec spec(Block block, int[] widths, Stem stem, int stemWidth, int groups, int widthPerGroup) {
        int[] layers = new int[widths.length];
        java.util.Arrays.fill(layers, 1);
        return new ResNetSpec("mine", block, layers, widths, stem, stemWidth, StrideAt.CONV3X3, Shortcut.PROJECTION, false,
                groups, widthPerGroup, 10, stem == Stem.DEEP ? Naming.TIMM : Naming.TORCHVISION);
    }

    @Test
    void userDefinedRowsWithZeroNegativeOrWrappingWidthsAreRejectedUpFront() {
        // a bottleneck of 8 planes, 32 groups of 4: 8 * 4 / 64 * 32 = 0 channels ("cannot pack Conv[...]" at build)
        bad(() -> spec(Block.BOTTLENECK, new int[] {8, 16}, Stem.CONV7, 64, 32, 4), "bottleneck width");
        // deep stem of width 0 ("cannot pack") or -3 (NegativeArraySizeException)
        bad(() -> spec(Block.BASIC, new int[] {8, 16}, Stem.DEEP, 0, 1, 64), "stemWidth");
        bad(() -> spec(Block.BASIC, new int[] {8, 16}, Stem.DEEP, -3, 1, 64), "stemWidth");
        // 2^30 planes * 4 wrapped to 0 output channels; widthPerGroup 2^26 wrapped to a graph of 29,514 parameters
        bad(() -> spec(Block.BOTTLENECK, new int[] {1 << 30}, Stem.CONV7, 64, 1, 64), "output channels");
        bad(() -> spec(Block.BOTTLENECK, new int[] {64}, Stem.CONV7, 64, 1, 1 << 26), "bottleneck width");
        // a classifier no Java array holds
        bad(() -> GraphBuilder.build(ResNets.byName("resnet50").withClasses(Integer.MAX_VALUE)), "fc.weight");
        // still fine: the stem width only matters for the deep stem; torchvision's widths
        assertEquals(128, spec(Block.BOTTLENECK, new int[] {64}, Stem.CONV7, 0, 32, 4).bottleneckWidth(0));
        assertEquals(2048, ResNets.byName("resnext101_32x8d").bottleneckWidth(3));
        assertEquals(1024, ResNets.byName("wide_resnet50_2").bottleneckWidth(3));
        assertEquals(68_883_240L, GraphBuilder.build(ResNets.byName("wide_resnet50_2")).parameterCount());
        assertEquals(88_791_336L, GraphBuilder.build(ResNets.byName("resnext101_32x8d")).parameterCount());
        // the README's table, against torchvision 0.14 (sum of parameters().numel()) and its GMACs
        assertEquals(126_886_696L, GraphBuilder.build(ResNets.byName("wide_resnet101_2")).parameterCount());
        assertEquals(16.41, GraphBuilder.build(ResNets.byName("resnext101_32x8d")).plan(1, 224, 224).macs() / 1e9, 0.005);
        assertEquals(22.75, GraphBuilder.build(ResNets.byName("wide_resnet101_2")).plan(1, 224, 224).macs() / 1e9, 0.005);
    }

    /** Sizes near 2^31 wrapped int in the conv / pool size formulas and were refused as "input too small". */
    @Test
    void planSizesNearIntMaxDoNotWrap() {
        var g = GraphBuilder.build(ResNets.byName("resnet18"));
        assertEquals(1, g.plan(1, Integer.MAX_VALUE, 1).height(g.output()));
        var stem = g.plan(1, Integer.MAX_VALUE, 1);
        assertEquals(Integer.MAX_VALUE / 2 + 1, stem.height(1), "7x7/2 pad 3 of 2^31-1 rows"); // (2^31-1+6-7)/2+1
        bad(() -> g.plan(1, 0, 1), "must be positive");
    }

    @Test
    void aNullWeightsPathIsAnErrorNotSilentlyRandomWeights() {
        // optWeights((Path) null) used to build the model with seeded random weights
        assertThrows(NullPointerException.class, () -> Model.builder().model("cifar_resnet20").optWeights((Path) null));
        assertThrows(NullPointerException.class, () -> Model.builder().model("cifar_resnet20").optWeights((WeightSource) null));
    }

    @Test
    void aModelSaysWhatItIs() throws Exception {
        try (Model m = Model.builder().model("cifar_resnet20").optSeed(7).build()) {
            assertEquals("Model[cifar_resnet20 on cpu, fp32, 10 classes, weights random (seed 7)]", m.toString());
        }
    }

    @Test
    void deviceIndicesAreAsciiDigits() {
        assertEquals(Device.cuda(3), Device.parse(" CUDA:3 "));
        assertEquals(Device.CPU, Device.parse(" cpu"));
        bad(() -> Device.parse("cuda:-1"), "unknown device");
        bad(() -> Device.parse("cuda:+1"), "unknown device");
        bad(() -> Device.parse("cuda:\u0661"), "unknown device"); // ARABIC-INDIC DIGIT ONE was cuda:1
        bad(() -> Device.parse("cuda:99999999999"), "unknown device");
        bad(() -> Device.parse("cuda: 1"), "unknown device");
        bad(() -> Device.parse(""), "unknown device");
    }
}
