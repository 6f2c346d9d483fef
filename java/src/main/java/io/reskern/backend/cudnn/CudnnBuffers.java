package io.reskern.backend.cudnn;

import io.reskern.Precision;
import io.reskern.nativelib.CudaOps;

/** reskern dtype codes of a precision. */
final class CudnnBuffers {
    private CudnnBuffers() {
    }

    static int dtype(Precision p) {
        return switch (p) {
            case FP16 -> CudaOps.F16;
            case BF16 -> CudaOps.BF16;
            default -> CudaOps.F32;
        };
    }
}
