package io.reskern.backend.conv;

import io.reskern.ReskernException;
import io.reskern.nativelib.CudaOps;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * Device buffers allocated through reskern's own library ({@code rk_cuda_malloc}), freed together by {@link #close()}.
 * Uploads convert fp32 host data to the requested dtype on the device. Not thread-safe.
 */
public final class DeviceMem implements AutoCloseable {
    private final List<Long> allocs = new ArrayList<>();

    public static void check(int status, String what) throws ReskernException {
        if (status != 0) {
            throw new ReskernException(ReskernException.fromNative(status), what + ": " + CudaOps.lastError());
        }
    }

    public long malloc(long bytes) throws ReskernException {
        PointerPointer<?> pp = new PointerPointer<>(1);
        check(CudaOps.malloc(pp, Math.max(bytes, 256)), "cudaMalloc " + bytes + " bytes");
        long p = pp.get(0).address();
        allocs.add(p);
        return p;
    }

    public void free(long p) {
        if (p != 0 && allocs.remove(Long.valueOf(p))) {
            CudaOps.free(p);
        }
    }

    /** fp32 host data → a new device buffer in {@code dtype} ({@code CudaOps.F32/F16/BF16}); synchronous. */
    public long upload(float[] data, int dtype, long stream) throws ReskernException {
        try (FloatPointer host = new FloatPointer(data.length)) {
            host.put(data, 0, data.length);
            long f32 = malloc(4L * data.length);
            check(CudaOps.memcpyH2D(f32, host.address(), 4L * data.length, stream), "upload");
            check(CudaOps.streamSynchronize(stream), "upload");
            if (dtype == CudaOps.F32) {
                return f32;
            }
            long out = malloc(2L * data.length);
            check(CudaOps.convert(f32, CudaOps.F32, out, dtype, data.length, stream), "convert");
            check(CudaOps.streamSynchronize(stream), "convert");
            free(f32);
            return out;
        }
    }

    @Override
    public void close() {
        for (long p : allocs) {
            CudaOps.free(p);
        }
        allocs.clear();
    }
}
