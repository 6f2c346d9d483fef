package io.reskern.backend;

import io.reskern.Device;
import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.graph.Graph;
import io.reskern.graph.Node;
import io.reskern.graph.Plan;
import io.reskern.nativelib.CpuOps;
import io.reskern.weights.FoldedWeights;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * CPU backend: each graph node is one call into {@code libreskern_cpu} (NHWC fp32, OpenMP). Weights are packed once
 * at construction; activations live in one native arena sized by the {@link Plan} and grown when a larger input
 * arrives. Not thread-safe (see {@link Executor}).
 */
public final class CpuExecutor implements Executor {
    private final Graph graph;
    private final List<Pointer> owned = new ArrayList<>();
    private final Map<Node, long[]> convParams = new IdentityHashMap<>(); // packed w, scale, shift
    private final Map<Node, long[]> affineParams = new IdentityHashMap<>(); // scale, shift / fc w, bias
    private FloatPointer arena;
    private long arenaElems;
    private FloatPointer input;
    private long inputElems;
    private Plan plan;
    private long peakBytes;
    private boolean closed;

    public CpuExecutor(Graph graph, FoldedWeights weights) throws ReskernException {
        this.graph = graph;
        try {
            for (Node n : graph.nodes()) {
                if (n instanceof Node.Conv c) {
                    FoldedWeights.Conv fw = weights.conv(c);
                    int r = c.kernel();
                    long packedSize = CpuOps.convPackedSize(c.cout(), c.cin(), r, r, c.groups());
                    if (packedSize <= 0) {
                        throw new ReskernException(ReskernException.ErrorCode.INVALID_ARGUMENT, "cannot pack " + c);
                    }
                    FloatPointer raw = native_(fw.weightKrsc());
                    FloatPointer packed = alloc(packedSize);
                    check(CpuOps.convPack(raw.address(), c.cout(), c.cin(), r, r, c.groups(), packed.address()), "pack " + c.convName());
                    raw.close();
                    owned.remove(raw);
                    convParams.put(n, new long[] {packed.address(), native_(fw.scale()).address(), native_(fw.shift()).address()});
                } else if (n instanceof Node.BnRelu b) {
                    FoldedWeights.Affine a = weights.affine(b);
                    affineParams.put(n, new long[] {native_(a.scale()).address(), native_(a.shift()).address()});
                } else if (n instanceof Node.Fc f) {
                    FoldedWeights.Fc fc = weights.fc(f);
                    affineParams.put(n, new long[] {native_(fc.weight()).address(), native_(fc.bias()).address()});
                }
            }
        } catch (ReskernException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private FloatPointer alloc(long elems) {
        FloatPointer p = new FloatPointer(elems);
        if (p.isNull()) {
            throw new OutOfMemoryError("native allocation of " + elems * 4 + " bytes failed");
        }
        owned.add(p);
        return p;
    }

    private FloatPointer native_(float[] data) {
        FloatPointer p = alloc(data.length);
        p.put(data, 0, data.length);
        return p;
    }

    static void check(int status, String what) throws ReskernException {
        if (status != 0) {
            throw new ReskernException(ReskernException.fromNative(status), what + ": " + CpuOps.lastError());
        }
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public Precision precision() {
        return Precision.FP32;
    }

    @Override
    public long activationBytes() {
        return peakBytes;
    }

    private void prepare(int n, int h, int w) {
        if (plan == null || plan.batch() != n || plan.height(0) != h || plan.width(0) != w) {
            plan = graph.plan(n, h, w);
        }
        if (plan.arenaElements() > arenaElems) {
            if (arena != null) {
                owned.remove(arena);
                arena.close();
            }
            arena = alloc(plan.arenaElements());
            arenaElems = plan.arenaElements();
        }
        long inElems = (long) n * 3 * h * w;
        if (inElems > inputElems) {
            if (input != null) {
                owned.remove(input);
                input.close();
            }
            input = alloc(inElems);
            inputElems = inElems;
        }
        peakBytes = Math.max(peakBytes, plan.arenaElements() * 4);
    }

    @Override
    public void run(float[] nchw, int n, int h, int w, float[] out) throws ReskernException {
        if (closed) {
            throw new IllegalStateException("executor is closed");
        }
        prepare(n, h, w);
        Plan p = plan;
        long base = arena.address();
        input.put(nchw, 0, n * 3 * h * w);
        check(CpuOps.nchwToNhwc(input.address(), n, 3, h, w, base + p.offset(0) * 4), "input layout");
        for (Node node : graph.nodes()) {
            long x = base + p.offset(node.input()) * 4;
            long y = base + p.offset(node.output()) * 4;
            int in = node.input();
            int o = node.output();
            if (node instanceof Node.Conv c) {
                long[] prm = convParams.get(node);
                int resMode = c.residualMode().ordinal();
                long res = c.residual() >= 0 ? base + p.offset(c.residual()) * 4 : 0;
                int rv = Math.max(c.residual(), 0);
                check(CpuOps.conv2d(x, n, p.height(in), p.width(in), c.cin(), prm[0], c.cout(), c.kernel(), c.kernel(),
                        c.stride(), c.pad(), c.pad(), c.groups(), prm[1], prm[2], res, resMode, p.height(rv), p.width(rv),
                        p.channels(rv), c.relu() ? 1 : 0, y, p.height(o), p.width(o)), c.convName());
            } else if (node instanceof Node.MaxPool m) {
                check(CpuOps.maxPool2d(x, n, p.height(in), p.width(in), p.channels(in), m.kernel(), m.kernel(), m.stride(),
                        m.pad(), m.pad(), y, p.height(o), p.width(o)), "maxpool");
            } else if (node instanceof Node.AvgPool a) {
                check(CpuOps.avgPool2d(x, n, p.height(in), p.width(in), p.channels(in), a.kernel(), a.kernel(), a.stride(),
                        0, 0, a.countIncludePad() ? 1 : 0, y, p.height(o), p.width(o)), "avgpool");
            } else if (node instanceof Node.BnRelu b) {
                long[] prm = affineParams.get(node);
                check(CpuOps.bnRelu(x, (long) n * p.height(in) * p.width(in), b.channels(), prm[0], prm[1], b.relu() ? 1 : 0, y),
                        b.bnName());
            } else if (node instanceof Node.GlobalAvgPool) {
                check(CpuOps.globalAvgPool(x, n, p.height(in) * p.width(in), p.channels(in), y), "global pool");
            } else if (node instanceof Node.Fc f) {
                long[] prm = affineParams.get(node);
                check(CpuOps.fc(x, n, f.cin(), prm[0], prm[1], f.cout(), y), f.name());
            }
        }
        FloatPointer logits = new FloatPointer(arena).position(p.offset(graph.output()));
        logits.get(out, 0, n * graph.classes());
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Pointer p : owned) {
            p.close();
        }
        owned.clear();
    }
}
