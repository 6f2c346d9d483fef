package io.reskern.backend.conv;

import io.reskern.backend.Fusion;
import io.reskern.graph.Node;
import io.reskern.graph.Plan;

/**
 * The numbers of one fused conv launch of a plan — what {@code rk_cuda_conv2d} receives, and what a tuning result is
 * keyed by:
 * <pre>
 *   y  = relu?( scale ⊙ conv(pool?(x), W) + shift + residual )      (pool: v1d 2×2/2 avg-pool, ceil, exclude pad)
 *   y2 = relu( post_scale ⊙ y + post_shift )                        (v2 dual output, when {@code post})
 * </pre>
 * {@code h, w} are the sizes of the value the kernel reads (un-pooled with {@code preAvgPool}), {@code p, q} the output
 * sizes; {@code pad} is 0 with {@code preAvgPool} (the executor passes it so). Pure data; unit-tested on the CPU.
 */
public record ConvProblem(int n, int h, int w, int c, int k, int r, int s, int stride, int pad, int groups, int p, int q,
                          boolean preAvgPool, Node.Residual resMode, int resH, int resW, int resC, boolean relu,
                          boolean post) {

    public ConvProblem {
        if (n < 1 || h < 1 || w < 1 || c < 1 || k < 1 || r < 1 || s < 1 || stride < 1 || pad < 0 || groups < 1 || p < 1
                || q < 1) {
            throw new IllegalArgumentException("bad conv problem: N=" + n + " H=" + h + " W=" + w + " C=" + c + " K=" + k
                    + " R=" + r + " S=" + s + " stride=" + stride + " pad=" + pad + " groups=" + groups + " P=" + p + " Q=" + q);
        }
        if (c % groups != 0 || k % groups != 0) {
            throw new IllegalArgumentException("groups=" + groups + " must divide C=" + c + " and K=" + k);
        }
        if (resMode == null) {
            throw new IllegalArgumentException("resMode must not be null (use NONE)");
        }
    }

    /** The launch of a {@link Fusion.ConvStep} at the sizes of {@code plan} (what the executor passes). */
    public static ConvProblem of(Fusion.ConvStep step, Plan plan) {
        Node.Conv c = step.conv();
        int src = step.source();
        int rv = Math.max(c.residual(), 0);
        boolean pool = step.preAvgPool() != null;
        boolean res = c.residual() >= 0;
        return new ConvProblem(plan.batch(), plan.height(src), plan.width(src), c.cin(), c.cout(), c.kernel(), c.kernel(),
                c.stride(), pool ? 0 : c.pad(), c.groups(), plan.height(c.output()), plan.width(c.output()), pool,
                res ? c.residualMode() : Node.Residual.NONE, res ? plan.height(rv) : 0, res ? plan.width(rv) : 0,
                res ? plan.channels(rv) : 0, c.relu(), step.post() != null);
    }

    public boolean hasResidual() {
        return resMode != Node.Residual.NONE;
    }

    /** Multiply-adds ×2: {@code 2·N·P·Q·K·(C/groups)·R·S} (the pool and the epilogue are not counted). */
    public double flops() {
        return 2.0 * n * p * q * k * (double) (c / groups) * r * s;
    }

    /** Input sizes of the conv proper: the pooled sizes with {@code preAvgPool}. */
    public int convH() {
        return preAvgPool ? p : h;
    }

    public int convW() {
        return preAvgPool ? q : w;
    }

    /** Stable text form, part of the tuning-cache key: every field that changes which kernel is fastest. */
    public String canonical() {
        StringBuilder b = new StringBuilder();
        b.append("conv n").append(n).append(" h").append(h).append(" w").append(w).append(" c").append(c).append(" k").append(k)
                .append(" r").append(r).append(" s").append(s).append(" st").append(stride).append(" pad").append(pad)
                .append(" g").append(groups).append(" p").append(p).append(" q").append(q)
                .append(" res=").append(resMode.name().toLowerCase(java.util.Locale.ROOT));
        if (hasResidual()) {
            b.append('(').append(resH).append('x').append(resW).append('x').append(resC).append(')');
        }
        b.append(relu ? " relu" : " linear");
        if (preAvgPool) {
            b.append(" +avgpool2x2");
        }
        if (post) {
            b.append(" +post-bnrelu");
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return canonical();
    }
}
