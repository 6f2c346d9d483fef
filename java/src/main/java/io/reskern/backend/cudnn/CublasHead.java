package io.reskern.backend.cudnn;

import static io.reskern.backend.cudnn.CudnnContext.checkBlas;

import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.backend.conv.DeviceMem;
import io.reskern.backend.conv.HeadImpl;
import io.reskern.nativelib.CudaOps;
import org.bytedeco.cuda.global.cublas;

/**
 * The head on cuBLAS: reskern's global average pool to fp32 {@code pooled[n, c]}, then
 * <pre>
 *   logits[n, k] = Σ_c pooled[n, c] · W[k, c]  (+ b[k])
 * </pre>
 * as one {@code cublasSgemm} (row-major [N,K] = column-major [K,N]: {@code C = op_T(W) · pooled}, m = K, n = N, k = C)
 * and the bias as a rank-1 update {@code cublasSger(logits += b · 1ᵀ)} — two calls, into the same fp32 logits buffer as
 * reskern's fused head. W and b are the executor's fp32 buffers. TF32 only when the model runs TF32 (the handle's math
 * mode, {@link CudnnContext}).
 */
public final class CublasHead implements HeadImpl, AutoCloseable {
    private final CudnnContext ctx;
    private final Precision precision;
    private final int n;
    private final int hw;
    private final int c;
    private final int k;
    private final long w;
    private final long bias;
    private final DeviceMem mem = new DeviceMem();
    private final long pooled;
    private final long ones;

    public CublasHead(CudnnContext ctx, Precision precision, int n, int hw, int c, int k, long w, long bias, long stream)
            throws ReskernException {
        this.ctx = ctx;
        this.precision = precision;
        this.n = n;
        this.hw = hw;
        this.c = c;
        this.k = k;
        this.w = w;
        this.bias = bias;
        try {
            pooled = mem.malloc(4L * n * c);
            float[] one = new float[n];
            java.util.Arrays.fill(one, 1f);
            ones = mem.upload(one, CudaOps.F32, stream);
        } catch (ReskernException | RuntimeException e) {
            mem.close();
            throw e;
        }
    }

    @Override
    public String id() {
        return "cudnn:cublas_sgemm";
    }

    @Override
    public void enqueue(long x, long logits, long stream) throws ReskernException {
        DeviceMem.check(CudaOps.globalAvgPool(CudnnBuffers.dtype(precision), x, n, hw, c, pooled, stream), "global pool");
        checkBlas(cublas.cublasSgemm_v2(ctx.blas, cublas.CUBLAS_OP_T, cublas.CUBLAS_OP_N, k, n, c, ctx.one, DevPtr.floats(w), c,
                DevPtr.floats(pooled), c, ctx.zero, DevPtr.floats(logits), k), "cublasSgemm (FC)");
        if (bias != 0) {
            checkBlas(cublas.cublasSger_v2(ctx.blas, k, n, ctx.one, DevPtr.floats(bias), 1, DevPtr.floats(ones), 1,
                    DevPtr.floats(logits), k), "cublasSger (FC bias)");
        }
    }

    @Override
    public void close() {
        mem.close();
    }
}
