package io.reskern.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.reskern.Device;
import io.reskern.Precision;
import io.reskern.ResNets;
import io.reskern.graph.Graph;
import io.reskern.graph.GraphBuilder;
import io.reskern.graph.Plan;
import io.reskern.weights.FoldedWeights;
import org.junit.jupiter.api.Test;

/**
 * Every CPU activation starts on a 64-byte cache line, whatever malloc returns for the arena: the conv kernels'
 * residual loads and output stores split cache lines otherwise (measured: the 64→256 expand conv up to 2× slower with
 * a 16-byte-aligned residual on Zen 3).
 */
class CpuArenaAlignmentTest {
    @Test
    void everySlotStartsOnACacheLine() throws Exception {
        Graph g = GraphBuilder.build(ResNets.byName("cifar_resnet20"));
        try (DeviceModel m = Executors.load(g, FoldedWeights.random(g, 1), Device.CPU, Precision.FP32)) {
            for (int batch : new int[] {1, 3, 7}) { // regrowing the arena re-aligns it
                try (CpuExecutor e = (CpuExecutor) m.newContext()) {
                    e.reserve(batch, 33, 31);
                    Plan p = g.plan(batch, 33, 31);
                    for (int v = 0; v < g.valueCount(); v++) {
                        assertEquals(0, e.at(p.offset(v)) % 64, "value " + v + " at batch " + batch);
                    }
                }
            }
        }
    }
}
