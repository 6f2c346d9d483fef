package io.reskern.backend.conv;

import io.reskern.ReskernException;

/**
 * The head of a plan ({@code Fusion.HeadStep}): {@code logits[n,k] (fp32) = mean_hw(x[n,:,c]) · W[k,c] + b[k]}, reskern's
 * fused kernel or reskern's global pool + cuBLAS. Same contract as {@link ConvImpl#enqueue}.
 */
public interface HeadImpl {
    String id();

    /** {@code x}: the pooled value (dtype, NHWC); {@code logits}: fp32 [n, k]. */
    void enqueue(long x, long logits, long stream) throws ReskernException;
}
