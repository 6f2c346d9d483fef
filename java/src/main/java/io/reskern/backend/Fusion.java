package io.reskern.backend;

import io.reskern.graph.Graph;
import io.reskern.graph.Node;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The GPU schedule of a graph: the CPU runs one native call per {@link Node}; on the GPU three more fusions pay
 * (each saves a full read + write of an activation):
 * <ul>
 *   <li><b>avg-pool + 1×1 conv</b> (v1d shortcut): {@code y = scale ⊙ conv1x1(avgpool2x2(x)) + shift} in one kernel,
 *       the pool done while loading the conv's A operand;</li>
 *   <li><b>dual output</b> (v2): the block's last conv writes {@code y = conv + residual} and, in the same epilogue,
 *       the next block's pre-activation {@code y2 = relu(scale' ⊙ y + shift')};</li>
 *   <li><b>global pool + FC</b>: the head in one kernel.</li>
 * </ul>
 * Pure function of the graph (no CUDA), so it is unit-tested on CPU-only machines.
 */
public final class Fusion {
    private Fusion() {
    }

    /** One GPU launch. */
    public sealed interface Step permits ConvStep, NodeStep, HeadStep {
    }

    /**
     * A fused convolution.
     *
     * @param conv       the conv node
     * @param preAvgPool the avg-pool folded into its input (its input value is what the kernel reads), or null
     * @param post       the BN-ReLU written as a second output, or null
     */
    public record ConvStep(Node.Conv conv, Node.AvgPool preAvgPool, Node.BnRelu post) implements Step {
        /** The value the kernel reads. */
        public int source() {
            return preAvgPool != null ? preAvgPool.input() : conv.input();
        }
    }

    /** Any other node, launched as itself. */
    public record NodeStep(Node node) implements Step {
    }

    /** Global average pool + FC in one launch. */
    public record HeadStep(Node.GlobalAvgPool pool, Node.Fc fc) implements Step {
    }

    public static List<Step> schedule(Graph g) {
        List<Node> nodes = g.nodes();
        int[] readers = new int[g.valueCount()];
        for (Node n : nodes) {
            readers[n.input()]++;
            if (n instanceof Node.Conv c && c.residual() >= 0) {
                readers[c.residual()]++;
            }
        }
        List<Step> steps = new ArrayList<>();
        boolean[] consumed = new boolean[nodes.size()];
        for (int i = 0; i < nodes.size(); i++) {
            if (consumed[i]) {
                continue;
            }
            Node n = nodes.get(i);
            if (n instanceof Node.AvgPool a && isFusablePool(a) && readers[a.output()] == 1) {
                int j = findReader(nodes, i + 1, a.output());
                if (j >= 0 && nodes.get(j) instanceof Node.Conv c && c.kernel() == 1 && c.stride() == 1 && c.groups() == 1
                        && c.input() == a.output()) {
                    consumed[j] = true;
                    steps.add(withPost(new ConvStep(c, a, null), nodes, j, consumed));
                    continue;
                }
            }
            if (n instanceof Node.Conv c) {
                steps.add(withPost(new ConvStep(c, null, null), nodes, i, consumed));
            } else if (n instanceof Node.GlobalAvgPool p && i + 1 < nodes.size() && nodes.get(i + 1) instanceof Node.Fc f
                    && f.input() == p.output() && readers[p.output()] == 1) {
                consumed[i + 1] = true;
                steps.add(new HeadStep(p, f));
            } else {
                steps.add(new NodeStep(n));
            }
        }
        return Collections.unmodifiableList(steps);
    }

    private static boolean isFusablePool(Node.AvgPool a) {
        return a.kernel() == 2 && a.stride() == 2 && a.ceilMode() && !a.countIncludePad();
    }

    private static int findReader(List<Node> nodes, int from, int value) {
        for (int j = from; j < nodes.size(); j++) {
            if (nodes.get(j).input() == value) {
                return j;
            }
        }
        return -1;
    }

    /** Folds an immediately following BN-ReLU of the conv's output into a second output. */
    private static ConvStep withPost(ConvStep s, List<Node> nodes, int convIndex, boolean[] consumed) {
        int k = convIndex + 1;
        while (k < nodes.size() && consumed[k]) {
            k++;
        }
        if (k < nodes.size() && nodes.get(k) instanceof Node.BnRelu b && b.input() == s.conv().output() && b.relu()) {
            consumed[k] = true;
            return new ConvStep(s.conv(), s.preAvgPool(), b);
        }
        return s;
    }
}
