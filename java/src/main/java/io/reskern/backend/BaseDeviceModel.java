package io.reskern.backend;

import io.reskern.Device;
import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.graph.Graph;
import io.reskern.graph.Node;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/** What every {@link DeviceModel} shares: per-node parameter addresses, the open contexts, closing order. */
abstract class BaseDeviceModel implements DeviceModel {
    private final Graph graph;
    private final Device device;
    private final Precision precision;
    private final Map<Node, long[]> params = new IdentityHashMap<>();
    private final List<Executor> contexts = new ArrayList<>();
    long bytes;
    private boolean closed;

    BaseDeviceModel(Graph graph, Device device, Precision precision) {
        this.graph = graph;
        this.device = device;
        this.precision = precision;
    }

    /** Addresses of a node's parameters (conv: weights, scale, shift; BN: scale, shift; FC: weights, bias). */
    final long[] params(Node n) {
        return params.get(n);
    }

    final void putParams(Node n, long... addresses) {
        params.put(n, addresses);
    }

    @Override
    public final Graph graph() {
        return graph;
    }

    @Override
    public final Device device() {
        return device;
    }

    @Override
    public final Precision precision() {
        return precision;
    }

    @Override
    public final long weightBytes() {
        return bytes;
    }

    /** A new context over these weights (called under this object's lock, weights open). */
    abstract Executor createContext() throws ReskernException;

    /** Frees the weights (every context is closed by then). */
    abstract void freeWeights();

    @Override
    public final synchronized Executor newContext() throws ReskernException {
        if (closed) {
            throw new IllegalStateException("weights are closed");
        }
        Executor e = createContext();
        contexts.add(e);
        return e;
    }

    final synchronized void closed(Executor e) {
        contexts.remove(e);
    }

    @Override
    public final void close() {
        List<Executor> open;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            open = new ArrayList<>(contexts);
        }
        for (Executor e : open) {
            e.close();
        }
        freeWeights();
    }
}
