package io.reskern.backend.conv;

import io.reskern.ReskernException;

/**
 * <b>The hook of {@code CudaExecutor}</b>: one fused conv step of one plan, bound to an implementation (reskern's
 * kernel with a fixed algo, or cuDNN with a fixed algorithm and workspace). Made by {@link ConvSelector#prepare};
 * the executor's conv step calls {@link #enqueue} instead of {@code CudaOps.conv2d}.
 *
 * <p>Contract of {@code enqueue}: asynchronous on {@code stream} (the executor's), no host synchronisation, no
 * allocation, capturable in a CUDA graph (every buffer it touches besides the arguments is owned by the selector and
 * lives until the selector is closed or reports a change from {@link ConvSelector#prepare}). Addresses are the
 * executor's current buffers: {@code x} = the step's source value ({@code ConvStep.source()}, un-pooled for v1d),
 * {@code res} = the residual value or 0, {@code y} = the conv's output, {@code y2} = the post BN-ReLU output or 0.
 * Computes exactly what {@code rk_cuda_conv2d} computes for the step (formula in {@link ConvProblem}).
 */
public interface ConvImpl {
    /** {@code own:<algo>} or {@code cudnn:<algorithm>} (a {@link Measured#id()}). */
    String id();

    void enqueue(long x, long res, long y, long y2, long stream) throws ReskernException;
}
