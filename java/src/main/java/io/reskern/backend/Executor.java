package io.reskern.backend;

import io.reskern.Device;
import io.reskern.Precision;
import io.reskern.ReskernException;

/**
 * Runs a compiled graph with its folded weights on one device. One executor is one execution context (its own
 * buffers; on CUDA its own stream and captured graphs): it is NOT thread-safe; {@link io.reskern.Model} serialises
 * calls (and pools executors for concurrency).
 */
public interface Executor extends AutoCloseable {
    Device device();

    Precision precision();

    /**
     * Forward pass.
     *
     * @param nchw  input, float32 NCHW, length n·3·h·w
     * @param out   logits destination, length n·classes
     */
    void run(float[] nchw, int n, int h, int w, float[] out) throws ReskernException;

    /** Bytes of activation memory planned for the largest input run so far. */
    long activationBytes();

    @Override
    void close();
}
