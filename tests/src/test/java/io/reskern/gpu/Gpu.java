package io.reskern.gpu;

import io.reskern.Devices;
import org.junit.jupiter.api.Assumptions;

/**
 * GPU test gate. Without a usable GPU, GPU tests SKIP with the reason (never pass vacuously). Where a GPU is
 * expected (the GPU bundle sets {@code -Dreskern.requireGpu=true}), a missing GPU fails instead.
 */
public final class Gpu {
    private Gpu() {
    }

    public static void require() {
        Devices.CudaProbe p = Devices.cuda();
        if (!p.usable() && Boolean.getBoolean("reskern.requireGpu")) {
            throw new AssertionError("reskern.requireGpu=true but no usable GPU: " + p.reason());
        }
        Assumptions.assumeTrue(p.usable(), () -> "no usable GPU: " + p.reason());
    }
}
