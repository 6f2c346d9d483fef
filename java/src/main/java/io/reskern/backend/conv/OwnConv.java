package io.reskern.backend.conv;

import io.reskern.ReskernException;
import io.reskern.nativelib.CudaOps;

/**
 * reskern's own fused conv kernel with a fixed algo ({@code -1} = the library's heuristic): exactly the
 * {@code CudaOps.conv2d} call {@code CudaExecutor} makes. Device parameters are the executor's (not owned).
 */
public final class OwnConv implements ConvImpl {
    private final int algo;
    private final String id;
    private final int dtype;
    private final int math;
    private final ConvProblem pr;
    private final long w;
    private final long scale;
    private final long shift;
    private final long postScale;
    private final long postShift;

    /**
     * @param algo        index into {@code rk_cuda_conv2d_algo_name}, or -1 (heuristic)
     * @param w,scale,shift the conv's device weights (dtype) and fp32 scale/shift
     * @param postScale,postShift the post BN-ReLU's fp32 vectors (problem has {@code post}), else 0
     */
    public OwnConv(int algo, int dtype, int math, ConvProblem pr, long w, long scale, long shift, long postScale, long postShift) {
        this.algo = algo;
        this.id = idOf(algo);
        this.dtype = dtype;
        this.math = math;
        this.pr = pr;
        this.w = w;
        this.scale = scale;
        this.shift = shift;
        this.postScale = postScale;
        this.postShift = postShift;
    }

    /** {@code own:heuristic} for -1, else {@code own:<algo name>}. */
    public static String idOf(int algo) {
        return Chooser.OWN_PREFIX + (algo < 0 ? HEURISTIC : CudaOps.conv2dAlgoName(algo));
    }

    public static final String HEURISTIC = "heuristic";
    public static final String HEURISTIC_ID = Chooser.OWN_PREFIX + HEURISTIC;

    /** Whether {@code algo} can run the problem, v1d's pre-avg-pool included ({@code rk_cuda_conv2d_can_implement}). */
    public static boolean canImplement(int algo, int dtype, int math, ConvProblem pr) {
        return CudaOps.conv2dCanImplement(algo, dtype, math, pr.n(), pr.h(), pr.w(), pr.c(), pr.k(), pr.r(), pr.s(), pr.stride(),
                pr.pad(), pr.pad(), pr.groups(), pr.p(), pr.q(), pr.resMode().ordinal(), pr.preAvgPool() ? 1 : 0) == 0;
    }

    @Override
    public String id() {
        return id;
    }

    public int algo() {
        return algo;
    }

    /** The status of one launch (for the tuner). */
    public int launch(long x, long res, long y, long y2, long stream) {
        return CudaOps.conv2d(algo, dtype, math, x, pr.n(), pr.h(), pr.w(), pr.c(), w, pr.k(), pr.r(), pr.s(), pr.stride(), pr.pad(),
                pr.pad(), pr.groups(), pr.preAvgPool() ? 1 : 0, scale, shift, res, pr.resMode().ordinal(), pr.resH(), pr.resW(),
                pr.resC(), pr.relu() ? 1 : 0, y, pr.p(), pr.q(), postScale, postShift, y2, stream);
    }

    @Override
    public void enqueue(long x, long res, long y, long y2, long stream) throws ReskernException {
        DeviceMem.check(launch(x, res, y, y2, stream), "conv " + id);
    }
}
