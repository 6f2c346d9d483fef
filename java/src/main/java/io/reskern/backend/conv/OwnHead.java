package io.reskern.backend.conv;

import io.reskern.ReskernException;
import io.reskern.nativelib.CudaOps;

/** reskern's fused head kernel ({@code rk_cuda_global_avgpool_fc}), as {@code CudaExecutor} calls it. */
public final class OwnHead implements HeadImpl {
    public static final String ID = Chooser.OWN_PREFIX + "global_avgpool_fc";
    private final int dtype;
    private final int n;
    private final int hw;
    private final int c;
    private final int k;
    private final long w;
    private final long bias;

    public OwnHead(int dtype, int n, int hw, int c, int k, long w, long bias) {
        this.dtype = dtype;
        this.n = n;
        this.hw = hw;
        this.c = c;
        this.k = k;
        this.w = w;
        this.bias = bias;
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public void enqueue(long x, long logits, long stream) throws ReskernException {
        DeviceMem.check(CudaOps.globalAvgPoolFc(dtype, x, n, hw, c, w, bias, k, logits, stream), "head");
    }
}
