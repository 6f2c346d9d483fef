package io.reskern.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.reskern.ResNets;
import io.reskern.graph.Graph;
import io.reskern.graph.GraphBuilder;
import io.reskern.graph.Node;
import io.reskern.graph.Plan;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The CPU weights are packed for the output size each conv has at the model's usual input size (224², CIFAR 32²): that
 * size picks the Winograd layout of the 512-channel 3×3 convs (F(2×2,3×3) at 14×14, the direct kernel at 7×7).
 */
class CpuWeightLayoutTest {
    private static List<Integer> threeByThreeSizes(String model, int channels) {
        Graph g = GraphBuilder.build(ResNets.byName(model));
        Plan p = CpuDeviceModel.nominalPlan(g);
        assertNotNull(p, model);
        List<Integer> sizes = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (n instanceof Node.Conv c && c.kernel() == 3 && c.stride() == 1 && c.cin() == channels) {
                assertEquals(p.height(c.output()), p.width(c.output()));
                sizes.add(p.height(c.output()));
            }
        }
        return sizes;
    }

    @Test
    void nominalSizesAreThoseOfA224Input() {
        // wide_resnet50_2: stage 3's 512-channel 3x3 convs run at 14x14 (5 with stride 1; the first has stride 2)
        assertEquals(List.of(14, 14, 14, 14, 14), threeByThreeSizes("wide_resnet50_2", 512));
        // resnet50: the 512-channel 3x3 convs are stage 4's, at 7x7
        assertEquals(List.of(7, 7), threeByThreeSizes("resnet50", 512));
        assertEquals(List.of(14, 14, 14, 14, 14), threeByThreeSizes("resnet50", 256));
    }

    @Test
    void cifarNetsUse32x32() {
        assertEquals(List.of(32, 32, 32, 32, 32, 32), threeByThreeSizes("cifar_resnet20", 16).subList(0, 6));
    }
}
