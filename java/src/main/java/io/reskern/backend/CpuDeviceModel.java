package io.reskern.backend;

import io.reskern.Device;
import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.graph.Graph;
import io.reskern.graph.Node;
import io.reskern.nativelib.CpuOps;
import io.reskern.weights.FoldedWeights;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * CPU weights: conv weights packed once for the micro-kernels, epilogue and FC parameters in native memory; shared by
 * every {@link CpuExecutor} made from it.
 */
final class CpuDeviceModel implements DeviceModel {
    private final Graph graph;
    private final List<Pointer> owned = new ArrayList<>();
    private final Map<Node, long[]> params = new IdentityHashMap<>(); // conv: packed w, scale, shift; bn: scale, shift; fc: w, b
    private final List<CpuExecutor> contexts = new ArrayList<>();
    private long bytes;
    private boolean closed;

    CpuDeviceModel(Graph graph, FoldedWeights weights) throws ReskernException {
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
                    FloatPointer raw = new FloatPointer(fw.weightKrsc());
                    try {
                        FloatPointer packed = alloc(packedSize);
                        CpuExecutor.check(CpuOps.convPack(raw.address(), c.cout(), c.cin(), r, r, c.groups(), packed.address()),
                                "pack " + c.convName());
                        params.put(n, new long[] {packed.address(), copy(fw.scale()), copy(fw.shift())});
                    } finally {
                        raw.close();
                    }
                } else if (n instanceof Node.BnRelu b) {
                    FoldedWeights.Affine a = weights.affine(b);
                    params.put(n, new long[] {copy(a.scale()), copy(a.shift())});
                } else if (n instanceof Node.Fc f) {
                    FoldedWeights.Fc fc = weights.fc(f);
                    params.put(n, new long[] {copy(fc.weight()), copy(fc.bias())});
                }
            }
        } catch (ReskernException | RuntimeException | OutOfMemoryError e) {
            close();
            throw CpuExecutor.asReskern(e, "weights of " + graph.name());
        }
    }

    private FloatPointer alloc(long elems) {
        FloatPointer p = CpuExecutor.allocFloats(elems);
        owned.add(p);
        bytes += elems * 4;
        return p;
    }

    private long copy(float[] data) {
        FloatPointer p = alloc(data.length);
        p.put(data, 0, data.length);
        return p.address();
    }

    long[] params(Node n) {
        return params.get(n);
    }

    @Override
    public Graph graph() {
        return graph;
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
    public synchronized Executor newContext() {
        if (closed) {
            throw new IllegalStateException("weights are closed");
        }
        CpuExecutor e = new CpuExecutor(this);
        contexts.add(e);
        return e;
    }

    synchronized void closed(CpuExecutor e) {
        contexts.remove(e);
    }

    @Override
    public long weightBytes() {
        return bytes;
    }

    @Override
    public void close() {
        List<CpuExecutor> open;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            open = new ArrayList<>(contexts);
        }
        for (CpuExecutor e : open) {
            e.close();
        }
        for (Pointer p : owned) {
            p.close();
        }
        owned.clear();
    }
}
