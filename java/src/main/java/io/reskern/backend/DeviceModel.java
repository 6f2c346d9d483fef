package io.reskern.backend;

import io.reskern.Device;
import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.graph.Graph;

/**
 * A graph's folded weights resident on one device (packed for the CPU kernels, or uploaded to one GPU in the model's
 * precision), and the factory of its execution contexts. Weights are read-only after construction, so any number of
 * contexts share them. Thread-safe. {@link #close()} closes the contexts still open, then frees the weights.
 */
public interface DeviceModel extends AutoCloseable {
    Graph graph();

    Device device();

    Precision precision();

    /** A new execution context over these weights. */
    Executor newContext() throws ReskernException;

    /** Bytes of weights on the device. */
    long weightBytes();

    @Override
    void close();
}
