package io.reskern.conv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.Precision;
import io.reskern.ResNets;
import io.reskern.backend.Fusion;
import io.reskern.backend.conv.ConvProblem;
import io.reskern.backend.cudnn.CudnnMapping;
import io.reskern.graph.Graph;
import io.reskern.graph.GraphBuilder;
import io.reskern.graph.Node;
import io.reskern.graph.Plan;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The mapping from a plan's fused conv steps to cuDNN descriptor arguments, for every variant's graph (pure Java;
 * cuDNN's enum values are the presets' compile-time constants, checked against cudnn.h's numbers here).
 */
class CudnnMappingTest {
    // cudnn.h (cuDNN 9): cudnnDataType_t, cudnnMathType_t, cudnnActivationMode_t, cudnnConvolutionFwdAlgo_t
    static final int FLOAT = 0;
    static final int HALF = 2;
    static final int BFLOAT16 = 9;
    static final int DEFAULT_MATH = 0;
    static final int TENSOR_OP_MATH = 1;
    static final int FMA_MATH = 3;
    static final int RELU = 1;
    static final int IDENTITY = 5;
    static final int PRECOMP_GEMM = 1;

    record Step(Fusion.ConvStep step, ConvProblem problem) {
    }

    static List<Step> steps(String model, int n, int px) {
        Graph g = GraphBuilder.build(ResNets.byName(model));
        Plan p = g.plan(n, px, px);
        List<Step> out = new ArrayList<>();
        for (Fusion.Step s : Fusion.schedule(g)) {
            if (s instanceof Fusion.ConvStep cs) {
                out.add(new Step(cs, ConvProblem.of(cs, p)));
            }
        }
        return out;
    }

    @Test
    void everyResNet50ConvMapsToNhwcDescriptors() {
        List<Step> st = steps("resnet50", 8, 224);
        assertEquals(53, st.size());
        for (Step s : st) {
            Node.Conv c = s.step().conv();
            ConvProblem pr = s.problem();
            for (Precision prec : Precision.values()) {
                CudnnMapping.Spec m = CudnnMapping.map(pr, prec);
                assertTrue(m.supported(), c.convName() + ": " + m.unsupported());
                assertEquals(8, m.n());
                assertEquals(c.cin(), m.c());
                assertEquals(pr.h(), m.h());
                assertEquals(c.cout(), m.k());
                assertEquals(c.cin(), m.cPerGroup());
                assertEquals(c.kernel(), m.r());
                assertEquals(c.kernel(), m.s());
                assertEquals(c.pad(), m.pad());
                assertEquals(c.stride(), m.stride());
                assertEquals(1, m.groups());
                assertEquals((pr.h() + 2 * c.pad() - c.kernel()) / c.stride() + 1, m.p(), c.convName());
                assertEquals(FLOAT, m.computeType());
                assertEquals(m.dataType(), m.biasType(), "bias in the data type");
                assertEquals(c.residual() >= 0, m.residualAsZ());
                assertEquals(c.residual() >= 0 ? 1f : 0f, m.alpha2());
                assertEquals(c.relu() ? RELU : IDENTITY, m.activation());
                assertEquals(!c.relu(), m.onlyPrecompGemm(), "IDENTITY only with IMPLICIT_PRECOMP_GEMM");
                assertFalse(m.prePool());
                assertFalse(m.postBnRelu());
                assertEquals((long) 8 * m.p() * m.q() * m.k() * prec.bytes(), m.outputBytes());
            }
        }
        // the projection shortcuts have no ReLU: IDENTITY
        assertTrue(st.stream().anyMatch(s -> s.step().conv().convName().endsWith("downsample.0")
                && CudnnMapping.map(s.problem(), Precision.FP16).activation() == IDENTITY));
    }

    @Test
    void precisionsMapToDataAndMathTypes() {
        assertEquals(HALF, CudnnMapping.dataType(Precision.FP16));
        assertEquals(BFLOAT16, CudnnMapping.dataType(Precision.BF16));
        assertEquals(FLOAT, CudnnMapping.dataType(Precision.FP32));
        assertEquals(FLOAT, CudnnMapping.dataType(Precision.TF32));
        assertEquals(TENSOR_OP_MATH, CudnnMapping.mathType(Precision.FP16));
        assertEquals(TENSOR_OP_MATH, CudnnMapping.mathType(Precision.BF16));
        assertEquals(DEFAULT_MATH, CudnnMapping.mathType(Precision.TF32), "TF32 allowed");
        assertEquals(FMA_MATH, CudnnMapping.mathType(Precision.FP32), "exact fp32: no TF32");
    }

    @Test
    void resnextGroupsMapToGroupCount() {
        boolean grouped = false;
        for (Step s : steps("resnext50_32x4d", 2, 224)) {
            CudnnMapping.Spec m = CudnnMapping.map(s.problem(), Precision.FP16);
            assertTrue(m.supported());
            assertEquals(s.step().conv().groups(), m.groups());
            assertEquals(s.step().conv().cin() / s.step().conv().groups(), m.cPerGroup());
            grouped |= m.groups() == 32;
        }
        assertTrue(grouped);
    }

    @Test
    void v1dPrePoolRunsOurPoolThenThe1x1() {
        int pooled = 0;
        for (Step s : steps("resnet50d", 2, 224)) {
            CudnnMapping.Spec m = CudnnMapping.map(s.problem(), Precision.BF16);
            assertTrue(m.supported());
            if (s.step().preAvgPool() != null) {
                pooled++;
                assertTrue(m.prePool());
                assertEquals(s.problem().h(), m.poolH(), "our pool reads the un-pooled value");
                assertEquals(s.problem().p(), m.h(), "cuDNN's x is the pooled tensor");
                assertEquals(m.p(), m.h());
                assertEquals(1, m.r());
                assertEquals(0, m.pad());
                assertEquals((long) 2 * m.h() * m.w() * m.c() * 2, m.prePoolBytes());
            } else {
                assertFalse(m.prePool());
            }
        }
        assertEquals(3, pooled, "layers 2-4 of ResNet-50-D have the avg-pool shortcut");
    }

    @Test
    void v2DualOutputRunsOurBnReluAfter() {
        int post = 0;
        for (Step s : steps("resnetv2_50", 2, 224)) {
            CudnnMapping.Spec m = CudnnMapping.map(s.problem(), Precision.FP16);
            assertTrue(m.supported());
            assertEquals(s.step().post() != null, m.postBnRelu());
            post += m.postBnRelu() ? 1 : 0;
        }
        assertTrue(post > 0);
    }

    @Test
    void optionAResidualIsOwnKernelOnly() {
        int optA = 0;
        for (Step s : steps("cifar_resnet20", 2, 32)) {
            CudnnMapping.Spec m = CudnnMapping.map(s.problem(), Precision.FP16);
            Node.Conv c = s.step().conv();
            if (c.residual() >= 0 && c.residualMode() == Node.Residual.OPTION_A) {
                optA++;
                assertFalse(m.supported());
                assertTrue(m.unsupported().contains("option-A"), m.unsupported());
                assertNotNull(CudnnMapping.unsupportedReason(c));
            } else {
                assertTrue(m.supported());
                assertNull(CudnnMapping.unsupportedReason(c));
            }
        }
        assertEquals(2, optA);
    }

    @Test
    void scaleIsFoldedIntoTheWeights() {
        int k = 3;
        int per = 4;
        float[] w = new float[k * per];
        for (int i = 0; i < w.length; i++) {
            w[i] = i + 1;
        }
        float[] sc = {2f, -1f, 0.5f};
        float[] f = CudnnMapping.foldScale(w, sc, k);
        for (int kk = 0; kk < k; kk++) {
            for (int i = 0; i < per; i++) {
                assertEquals(w[kk * per + i] * sc[kk], f[kk * per + i], 0f);
            }
        }
        assertArrayEquals(w, CudnnMapping.foldScale(w, null, k));
        assertEquals(1f, w[0], "input untouched");
        assertThrows(IllegalArgumentException.class, () -> CudnnMapping.foldScale(w, new float[2], k));
        assertThrows(IllegalArgumentException.class, () -> CudnnMapping.foldScale(new float[7], sc, k));
    }

    @Test
    void algoNamesRoundTrip() {
        Set<String> names = new HashSet<>();
        for (int a = 0; a < 8; a++) {
            String n = CudnnMapping.algoName(a);
            assertEquals(a, CudnnMapping.algoByName(n));
            names.add(n);
        }
        assertEquals(8, names.size());
        assertEquals("IMPLICIT_PRECOMP_GEMM", CudnnMapping.algoName(PRECOMP_GEMM));
        assertEquals(-1, CudnnMapping.algoByName("nope"));
    }

    @Test
    void problemsMatchWhatTheExecutorPassesAndKeysDiffer() {
        Set<String> keys = new HashSet<>();
        for (Step s : steps("resnet50d", 2, 160)) {
            ConvProblem pr = s.problem();
            if (s.step().preAvgPool() != null) {
                assertEquals(0, pr.pad());
                assertTrue(pr.preAvgPool());
                assertEquals((pr.h() + 1) / 2, pr.p());
            }
            keys.add(pr.canonical());
        }
        assertTrue(keys.size() > 10);
        ConvProblem a = steps("resnet50", 1, 224).get(1).problem();
        ConvProblem b = steps("resnet50", 2, 224).get(1).problem();
        assertNotEquals(a.canonical(), b.canonical(), "batch is part of the key");
        assertThrows(IllegalArgumentException.class, () -> new ConvProblem(1, 1, 1, 3, 4, 1, 1, 1, 0, 2, 1, 1, false,
                Node.Residual.NONE, 0, 0, 0, true, false));
    }
}
