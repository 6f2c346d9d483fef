package io.reskern.graph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A {@link Graph} with concrete shapes for one input size {@code [N, 3, H, W]}, and activation buffers assigned by
 * liveness: a value's buffer is reused once its last reader has run, so the arena holds only what is live at once.
 * Buffers ("slots") are sized for the largest value ever placed in them. An input is freed one node after its last
 * reader, so any two consecutive nodes can be fused by a backend without aliasing. Immutable.
 */
public final class Plan {
    private final Graph graph;
    private final int batch;
    private final int[] h;
    private final int[] w;
    private final int[] slotOf;
    private final long[] slotElems;
    private final long[] slotOffset;
    private final long arenaElems;

    Plan(Graph graph, int batch, int height, int width) {
        if (batch < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException("input size must be positive, got N=" + batch + " H=" + height + " W=" + width);
        }
        Graph.FixedSize fixed = graph.fixedInputSize();
        if (fixed != null && (height != fixed.height() || width != fixed.width())) {
            throw new IllegalArgumentException(graph.name() + " runs only at input " + fixed.height() + "x" + fixed.width()
                    + " (" + fixed.reason() + "), got " + height + "x" + width);
        }
        this.graph = graph;
        this.batch = batch;
        int values = graph.valueCount();
        int[][] hw = spatial(graph.nodes(), values, height, width);
        h = hw[0];
        w = hw[1];
        // A residual must have the shape its mode reads (an imported graph could add tensors of different sizes).
        for (Node n : graph.nodes()) {
            if (n instanceof Node.Conv c && c.residual() >= 0) {
                int r = c.residual();
                int o = c.output();
                boolean fits = c.residualMode() == Node.Residual.OPTION_A
                        ? h[r] >= 2L * h[o] - 1 && w[r] >= 2L * w[o] - 1
                        : h[r] == h[o] && w[r] == w[o];
                if (!fits) {
                    throw new IllegalArgumentException("residual shape mismatch: " + c.convName() + " adds a " + h[r] + "x"
                            + w[r] + " " + c.residualMode() + " residual to its " + h[o] + "x" + w[o] + " output");
                }
            }
        }
        // Liveness: last node index reading each value (the output lives to the end).
        int[] lastUse = new int[values];
        Arrays.fill(lastUse, -1);
        List<Node> nodes = graph.nodes();
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            lastUse[n.input()] = i;
            if (n instanceof Node.Conv c && c.residual() >= 0) {
                lastUse[c.residual()] = i;
            }
        }
        lastUse[graph.output()] = Integer.MAX_VALUE;
        // Greedy slot assignment: the output of node i takes a free slot (best fit), else a new one.
        slotOf = new int[values];
        List<Long> sizes = new ArrayList<>();
        List<Boolean> free = new ArrayList<>();
        // every size is checked once here (elements() then cannot wrap): a batch of 2^22 images of 2^21 x 2^21 has
        // 3 * 2^64 input elements, which wrapped to a plan of a few MiB that the kernels would have written past
        for (int v = 0; v < values; v++) {
            try {
                Math.multiplyExact(Math.multiplyExact(Math.multiplyExact((long) batch, h[v]), w[v]), graph.channels(v));
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("a batch of " + batch + "x3x" + height + "x" + width
                        + " is too large: its activations have more than 2^63 elements");
            }
        }
        slotOf[0] = 0;
        sizes.add(elements(0));
        free.add(false);
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            int out = n.output();
            long need = elements(out);
            int best = -1;
            for (int s = 0; s < sizes.size(); s++) {
                if (free.get(s) && (best < 0 || fitScore(sizes.get(s), need) < fitScore(sizes.get(best), need))) {
                    best = s;
                }
            }
            if (best < 0) {
                sizes.add(need);
                free.add(false);
                best = sizes.size() - 1;
            } else {
                sizes.set(best, Math.max(sizes.get(best), need));
                free.set(best, false);
            }
            slotOf[out] = best;
            // Release the inputs whose last reader was the PREVIOUS node. Holding them one node longer means no
            // output ever aliases an input of its own node or of the node before it, so a backend may fuse any two
            // consecutive nodes (v1d pool+conv, v2 dual-output conv+BN-ReLU, pool+FC) on this same plan.
            if (i > 0) {
                Node prev = nodes.get(i - 1);
                releaseIfLast(prev.input(), i - 1, lastUse, free);
                if (prev instanceof Node.Conv c && c.residual() >= 0) {
                    releaseIfLast(c.residual(), i - 1, lastUse, free);
                }
            }
        }
        slotElems = sizes.stream().mapToLong(Long::longValue).toArray();
        slotOffset = new long[slotElems.length];
        long off = 0;
        for (int s = 0; s < slotElems.length; s++) {
            slotOffset[s] = off;
            try {
                off = Math.addExact(off, Math.addExact(slotElems[s], 63) / 64 * 64); // 256-byte aligned in fp32
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("a batch of " + batch + "x3x" + height + "x" + width
                        + " is too large: its activation arena has more than 2^63 elements");
            }
        }
        arenaElems = off;
    }

    /**
     * Spatial sizes {@code {h[], w[]}} of {@code values} values computed by {@code nodes} (in order) from an input of
     * {@code height x width}; IllegalArgumentException if a window does not fit.
     */
    static int[][] spatial(List<Node> nodes, int values, int height, int width) {
        int[] h = new int[values];
        int[] w = new int[values];
        h[0] = height;
        w[0] = width;
        for (Node n : nodes) {
            int in = n.input();
            int out = n.output();
            if (n instanceof Node.Conv c) {
                h[out] = convOut(h[in], c.kernel(), c.stride(), c.pad(), c);
                w[out] = convOut(w[in], c.kernel(), c.stride(), c.pad(), c);
            } else if (n instanceof Node.MaxPool m) {
                h[out] = poolOut(h[in], m.kernel(), m.stride(), m.pad(), m.ceilMode(), n);
                w[out] = poolOut(w[in], m.kernel(), m.stride(), m.pad(), m.ceilMode(), n);
            } else if (n instanceof Node.AvgPool a) {
                h[out] = poolOut(h[in], a.kernel(), a.stride(), 0, a.ceilMode(), n);
                w[out] = poolOut(w[in], a.kernel(), a.stride(), 0, a.ceilMode(), n);
            } else if (n instanceof Node.BnRelu) {
                h[out] = h[in];
                w[out] = w[in];
            } else {
                h[out] = 1;
                w[out] = 1;
            }
        }
        return new int[][] {h, w};
    }

    private static long fitScore(long size, long need) {
        return size >= need ? size - need : (need - size) * 4; // prefer slots that already fit
    }

    private void releaseIfLast(int value, int node, int[] lastUse, List<Boolean> free) {
        if (lastUse[value] == node) {
            free.set(slotOf[value], true);
        }
    }

    private static int convOut(int in, int k, int stride, int pad, Node n) {
        long span = (long) in + 2L * pad - k; // in long: near 2^31 the int sum wrapped and read as "input too small"
        if (span < 0) {
            throw new IllegalArgumentException("input too small: " + n + " gets spatial size " + in);
        }
        return (int) (span / stride + 1);
    }

    /** torch pooling output size, including ceil_mode's rule that the last window must start inside the input. */
    static int poolOut(int in, int k, int stride, int pad, boolean ceil, Node n) {
        long span = (long) in + 2L * pad - k; // in long, as convOut
        if (span < 0 && !ceil) {
            throw new IllegalArgumentException("input too small: " + n + " gets spatial size " + in);
        }
        long out = (ceil ? Math.floorDiv(span + stride - 1, stride) : Math.floorDiv(span, stride)) + 1;
        if (ceil && (out - 1) * stride >= (long) in + pad) {
            out--;
        }
        return (int) Math.max(out, 1);
    }

    public Graph graph() {
        return graph;
    }

    public int batch() {
        return batch;
    }

    public int height(int value) {
        return h[value];
    }

    public int width(int value) {
        return w[value];
    }

    public int channels(int value) {
        return graph.channels(value);
    }

    /** N·H·W·C of a value. */
    public long elements(int value) {
        return (long) batch * h[value] * w[value] * graph.channels(value);
    }

    /** Offset of a value in the activation arena, in elements. */
    public long offset(int value) {
        return slotOffset[slotOf[value]];
    }

    /** Activation arena size in elements (multiply by the element size for bytes). */
    public long arenaElements() {
        return arenaElems;
    }

    public int slotCount() {
        return slotElems.length;
    }

    /** Sum of all values' sizes (what the arena would need without reuse), in elements. */
    public long unsharedElements() {
        long n = 0;
        for (int v = 0; v < graph.valueCount(); v++) {
            n += elements(v);
        }
        return n;
    }

    /** Multiply-accumulates of one node (convs and FC; pools and BN count 0, as torchvision/timm counts do). */
    public long macs(Node n) {
        if (n instanceof Node.Conv c) {
            return (long) batch * h[c.output()] * w[c.output()] * c.cout() * (c.cin() / c.groups()) * c.kernel() * c.kernel();
        }
        if (n instanceof Node.Fc f) {
            return (long) batch * f.cin() * f.cout();
        }
        return 0L;
    }

    /** Total multiply-accumulates of a forward pass. */
    public long macs() {
        long s = 0;
        for (Node n : graph.nodes()) {
            s += macs(n);
        }
        return s;
    }
}
