package io.reskern.gpu;

import io.reskern.Devices;
import org.junit.jupiter.api.Assumptions;

/**
 * GPU test gate. Without a usable GPU, GPU tests SKIP with the reason (never pass vacuously). Where a GPU is
 * expected (the GPU bundle sets {@code -Dreskern.requireGpu=true}), a missing GPU fails instead.
 *
 * <p>{@code -Dreskern.gpuTestScale=emu} says the "GPU" is the host emulation of the CUDA library
 * ({@code native/lab/emu/run_java_emu.sh}), about 10⁴ times slower than a real one: the GPU tests then shrink their
 * input sizes, shape lists and iteration counts (each test says how), never their tolerances or assertions. Unset (the
 * default, and always on a real GPU) every test runs at full size; the property on a real GPU is an error.
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
        if (emulated() && !p.gpus().get(0).name().contains("emulation")) {
            throw new AssertionError("reskern.gpuTestScale=emu shrinks the GPU tests, but cuda:0 is a real GPU ("
                    + p.gpus().get(0) + "): unset it");
        }
    }

    /** True under {@code -Dreskern.gpuTestScale=emu} (the host emulation): use the small sizes. */
    public static boolean emulated() {
        return "emu".equals(System.getProperty("reskern.gpuTestScale"));
    }

    /** {@code full} on a GPU, {@code emu} under the host emulation. */
    public static int scale(int full, int emu) {
        return emulated() ? emu : full;
    }
}
