package io.reskern.conv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.backend.conv.ConvProblem;
import io.reskern.backend.conv.OwnConv;
import io.reskern.graph.Node;
import io.reskern.nativelib.CudaOps;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@code rk_cuda_conv2d_can_implement} is a host-only shape rule, so it is checked here without a GPU: the per-layer
 * tuner ({@code ConvSelector}, {@code --conv best}) builds its candidate list from it, and for v1d's avg-pool + 1x1
 * shortcut it must offer the {@code *_avgpool} kernels and no others (it used to answer as if pre_avgpool were 0:
 * the avgpool kernels were never timed and the im2col ones were offered and failed at launch).
 */
class OwnConvCanImplementTest {
    private static int algo(String name) {
        for (int a = 0; a < CudaOps.conv2dAlgoCount(); a++) {
            if (name.equals(CudaOps.conv2dAlgoName(a))) {
                return a;
            }
        }
        throw new AssertionError("no conv algo named " + name);
    }

    /** v1d shortcut of ResNet-50d's stage 2 at batch 2: 56x56x256 avg-pooled to 28x28, then 1x1 to 512, no residual. */
    private static ConvProblem shortcut(boolean preAvgPool) {
        int p = preAvgPool ? 28 : 56;
        return new ConvProblem(2, 56, 56, 256, 512, 1, 1, 1, 0, 1, p, p, preAvgPool, Node.Residual.NONE, 0, 0, 0, false, false);
    }

    @Test
    void preAvgPoolIsPartOfTheQuery() {
        Assumptions.assumeTrue(CudaOps.conv2dAlgoCount() > 0, "reskern was built without CUDA (the stand-in library has no algos)");
        int avgF16 = algo("tc_f16_64x64_avgpool");
        int avgBf16 = algo("tc_bf16_64x64_avgpool");
        int im2colF16 = algo("tc_f16_128x64");
        int simt = algo("simt_f32_generic");
        ConvProblem pooled = shortcut(true);
        ConvProblem plain = shortcut(false);
        assertTrue(OwnConv.canImplement(avgF16, CudaOps.F16, CudaOps.MATH_EXACT, pooled), CudaOps.lastError());
        assertFalse(OwnConv.canImplement(avgBf16, CudaOps.F16, CudaOps.MATH_EXACT, pooled), "bf16 kernel for an fp16 problem");
        assertFalse(OwnConv.canImplement(im2colF16, CudaOps.F16, CudaOps.MATH_EXACT, pooled), "im2col kernel with pre_avgpool");
        assertTrue(CudaOps.lastError().contains("avgpool"), CudaOps.lastError());
        assertTrue(OwnConv.canImplement(simt, CudaOps.F16, CudaOps.MATH_EXACT, pooled), CudaOps.lastError());
        assertTrue(OwnConv.canImplement(-1, CudaOps.F16, CudaOps.MATH_EXACT, pooled), "the heuristic can run it");
        // the same conv without the pool: the other way round
        assertTrue(OwnConv.canImplement(im2colF16, CudaOps.F16, CudaOps.MATH_EXACT, plain), CudaOps.lastError());
        assertFalse(OwnConv.canImplement(avgF16, CudaOps.F16, CudaOps.MATH_EXACT, plain), "avgpool kernel without pre_avgpool");
        // every algo the tuner would list for the pooled problem is an avgpool kernel, simt or the heuristic
        for (int a = 1; a < CudaOps.conv2dAlgoCount(); a++) {
            if (OwnConv.canImplement(a, CudaOps.F16, CudaOps.MATH_EXACT, pooled)) {
                assertTrue(CudaOps.conv2dAlgoName(a).endsWith("_avgpool"), CudaOps.conv2dAlgoName(a));
            }
        }
    }

    @Test
    void badPoolShapesAreInvalidNotUnsupported() {
        Assumptions.assumeTrue(CudaOps.conv2dAlgoCount() > 0, "reskern was built without CUDA (the stand-in library has no algos)");
        // pre_avgpool with P = H (not ceil(H/2)): no algo can run it, and the answer says why
        int st = CudaOps.conv2dCanImplement(-1, CudaOps.F16, CudaOps.MATH_EXACT, 2, 56, 56, 256, 512, 1, 1, 1, 0, 0, 1, 56, 56, 0, 1);
        assertEquals(1, st, "RK_ERR_INVALID_ARG");
        assertTrue(CudaOps.lastError().contains("pre_avgpool"), CudaOps.lastError());
        assertEquals(1, CudaOps.conv2dCanImplement(-1, CudaOps.F16, CudaOps.MATH_EXACT, 2, 56, 56, 256, 512, 1, 1, 1, 0, 0, 1, 28, 28,
                0, 2), "pre_avgpool must be 0 or 1");
    }
}
