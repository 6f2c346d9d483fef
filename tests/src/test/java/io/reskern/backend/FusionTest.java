package io.reskern.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.ResNets;
import io.reskern.graph.Graph;
import io.reskern.graph.GraphBuilder;
import io.reskern.graph.Node;
import io.reskern.graph.Plan;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The GPU fusion schedule (pure Java): what fuses, and that fused outputs never alias a fused step's inputs. */
class FusionTest {
    @ParameterizedTest
    @ValueSource(strings = {"resnet50", "resnet50d", "resnet18d", "resnetv2_50", "resnetv2_18", "cifar_resnet20", "resnext50_32x4d"})
    void fusedStepsNeverWriteWhatTheyRead(String name) {
        Graph g = GraphBuilder.build(ResNets.byName(name));
        Plan p = g.plan(2, 67, 53);
        for (Fusion.Step s : Fusion.schedule(g)) {
            if (s instanceof Fusion.ConvStep cs) {
                long out = p.offset(cs.conv().output());
                assertNotEquals(p.offset(cs.source()), out, s.toString());
                if (cs.post() != null) {
                    long y2 = p.offset(cs.post().output());
                    assertNotEquals(y2, out, s.toString());
                    assertNotEquals(y2, p.offset(cs.source()), s.toString());
                    if (cs.conv().residual() >= 0) {
                        assertNotEquals(y2, p.offset(cs.conv().residual()), s.toString());
                    }
                }
                if (cs.conv().residual() >= 0) {
                    assertNotEquals(p.offset(cs.conv().residual()), out, s.toString());
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet50d", "resnet18d"})
    void v1dPoolsFuseIntoTheShortcutConv(String name) {
        List<Fusion.Step> steps = Fusion.schedule(GraphBuilder.build(ResNets.byName(name)));
        long fused = steps.stream().filter(s -> s instanceof Fusion.ConvStep c && c.preAvgPool() != null).count();
        assertEquals(3, fused);
        assertTrue(steps.stream().noneMatch(s -> s instanceof Fusion.NodeStep n && n.node() instanceof Node.AvgPool));
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnetv2_50", "resnetv2_18"})
    void v2PreActivationRidesOnThePreviousConv(String name) {
        Graph g = GraphBuilder.build(ResNets.byName(name));
        List<Fusion.Step> steps = Fusion.schedule(g);
        long dual = steps.stream().filter(s -> s instanceof Fusion.ConvStep c && c.post() != null).count();
        long bn = g.nodes().stream().filter(n -> n instanceof Node.BnRelu).count();
        // every block's norm1 except the first (it follows the max-pool) plus the final norm ride on a conv
        assertEquals(bn - 1, dual);
        assertTrue(steps.get(steps.size() - 1) instanceof Fusion.HeadStep);
    }
}
