package io.reskern.gpu;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.Precision;
import io.reskern.image.CpuImages;
import io.reskern.image.CudaImages;
import io.reskern.image.Preprocess;
import io.reskern.image.ResamplePlan;
import io.reskern.image.RgbImage;
import io.reskern.nativelib.CudaOps;
import io.reskern.ops.OpCases;
import io.reskern.ops.Reference;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerPointer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every CUDA op against the float64 reference in fp32 / TF32 / fp16 / bf16 (tolerances in {@link CudaOpRunner}):
 * odd shapes, every ResNet-50 conv shape at batch 1 and 8, every conv algo that can implement a shape, the fused
 * v1d and v2 epilogues and the fused head, the image op through {@link CudaImages} into a batch slot on a stream.
 * Skips without a GPU. Under the host emulation ({@link Gpu#emulated}) the ResNet-50 shapes keep their channels,
 * kernel, stride and padding but shrink to at most 7×7 pixels (the stem to 29×29), at batch 1 and 2 instead of 1 and 8
 * (all algos: batch 1 instead of 2); odd shapes and other ops are unchanged.
 */
@Tag("gpu")
@ExtendWith(GpuCondition.class)
class CudaOpsTest {
    @BeforeAll
    static void gpu() {
        Gpu.require(); // class-level: without a GPU every test here is reported skipped, with the reason
    }

    /** The ResNet-50 conv shapes at batch n (emulation: spatially shrunk, see the class comment). */
    static List<OpCases.ConvCase> resnet50Shapes(int n) {
        List<OpCases.ConvCase> full = OpCases.resnet50ConvCases(n);
        if (!Gpu.emulated()) {
            return full;
        }
        List<OpCases.ConvCase> small = new ArrayList<>();
        for (OpCases.ConvCase c : full) {
            int hw = c.r() == 7 ? 29 : Math.min(c.h(), 7);
            small.add(new OpCases.ConvCase(c.name() + ".emu", c.n(), hw, hw, c.c(), c.k(), c.r(), c.stride(), c.pad(), c.groups(),
                    c.resMode(), c.relu(), c.withScaleShift()));
        }
        return small;
    }

    static Stream<Precision> precisions() {
        return Stream.of(Precision.FP32, Precision.TF32, Precision.FP16, Precision.BF16);
    }

    @TestFactory
    Stream<DynamicTest> convolutions() {
        return precisions().flatMap(p -> {
            CudaOpRunner r = new CudaOpRunner(p);
            int big = Gpu.scale(8, 2);
            Stream<DynamicTest> base = Gpu.emulated()
                    ? Stream.concat(OpCases.convTests(r, 0), resnet50Shapes(1).stream().map(cc -> DynamicTest.dynamicTest(
                            cc.toString(), () -> OpCases.runConv(r, cc, 1))))
                    : OpCases.convTests(r, 1);
            return Stream.concat(base.map(t -> DynamicTest.dynamicTest(p + " " + t.getDisplayName(), t.getExecutable())),
                    resnet50Shapes(big).stream().map(cc -> DynamicTest.dynamicTest(p + " batch" + big + " " + cc,
                            () -> OpCases.runConv(r, cc, 7))));
        });
    }

    @TestFactory
    Stream<DynamicTest> otherOps() {
        return precisions().flatMap(p -> OpCases.otherOpTests(new CudaOpRunner(p))
                .map(t -> DynamicTest.dynamicTest(p + " " + t.getDisplayName(), t.getExecutable())));
    }

    @TestFactory
    Stream<DynamicTest> everyAlgoOnEveryResNet50Shape() {
        List<DynamicTest> tests = new ArrayList<>();
        int algos = CudaOps.conv2dAlgoCount();
        for (Precision p : List.of(Precision.FP32, Precision.TF32, Precision.FP16, Precision.BF16)) {
            CudaOpRunner r = new CudaOpRunner(p);
            for (OpCases.ConvCase cc : resnet50Shapes(Gpu.scale(2, 1))) {
                tests.add(DynamicTest.dynamicTest(p + " all algos " + cc, () -> {
                    Random rnd = new Random(cc.hashCode());
                    int pp = (cc.h() + 2 * cc.pad() - cc.r()) / cc.stride() + 1;
                    int qq = (cc.w() + 2 * cc.pad() - cc.r()) / cc.stride() + 1;
                    float[] x = rounded(rnd, cc.n() * cc.h() * cc.w() * cc.c(), r, 1);
                    float[] w = rounded(rnd, cc.k() * cc.r() * cc.r() * cc.c(), r, (float) Math.sqrt(2.0 / (cc.r() * cc.r() * cc.c())));
                    float[] sc = new float[cc.k()];
                    float[] sh = new float[cc.k()];
                    for (int i = 0; i < cc.k(); i++) {
                        sc[i] = 0.5f + rnd.nextFloat();
                        sh[i] = (float) rnd.nextGaussian();
                    }
                    double[] ref = Reference.conv(x, cc.n(), cc.h(), cc.w(), cc.c(), w, cc.k(), cc.r(), cc.r(), cc.stride(),
                            cc.pad(), cc.pad(), 1, sc, sh, null, 0, 0, 0, 0, true, pp, qq);
                    int ran = 0;
                    StringBuilder errs = new StringBuilder();
                    for (int a = 0; a < algos; a++) {
                        float[] y = r.convAlgo(a, x, cc.n(), cc.h(), cc.w(), cc.c(), w, cc.k(), cc.r(), cc.stride(), cc.pad(), sc,
                                sh, true, pp, qq);
                        if (y == null) {
                            continue;
                        }
                        ran++;
                        double e = Reference.relError(y, ref);
                        errs.append(CudaOps.conv2dAlgoName(a)).append('=').append(String.format("%.2e ", e));
                        assertTrue(e <= r.tolerance(), CudaOps.conv2dAlgoName(a) + " " + cc + ": " + e);
                    }
                    assertTrue(ran > 0, "no algo implements " + cc);
                    System.out.println("[algos] " + p + " " + cc + ": " + errs);
                }));
            }
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> fusedEpilogues() {
        return precisions().flatMap(p -> {
            CudaOpRunner r = new CudaOpRunner(p);
            return Stream.of(
                    DynamicTest.dynamicTest(p + " v2 dual output", () -> {
                        Random rnd = new Random(3);
                        int n = 2, h = 7, w = 5, c = 64, k = 256;
                        float[] x = rounded(rnd, n * h * w * c, r, 1);
                        float[] wt = rounded(rnd, k * c, r, 0.125f);
                        float[] res = rounded(rnd, n * h * w * k, r, 1);
                        float[] ps = new float[k];
                        float[] ph = new float[k];
                        for (int i = 0; i < k; i++) {
                            ps[i] = 0.5f + rnd.nextFloat();
                            ph[i] = (float) rnd.nextGaussian();
                        }
                        float[][] y = r.convDual(x, n, h, w, c, wt, k, res, ps, ph);
                        double[] ref = Reference.conv(x, n, h, w, c, wt, k, 1, 1, 1, 0, 0, 1, null, null, res, 1, h, w, k, false, h, w);
                        assertTrue(Reference.relError(y[0], ref) <= r.tolerance());
                        float[] refF = new float[ref.length];
                        for (int i = 0; i < ref.length; i++) {
                            refF[i] = (float) ref[i];
                        }
                        double[] ref2 = Reference.bnRelu(refF, n * h * w, k, ps, ph, true);
                        assertTrue(Reference.relError(y[1], ref2) <= r.tolerance() * 2);
                    }),
                    DynamicTest.dynamicTest(p + " v1d avgpool+1x1", () -> {
                        Random rnd = new Random(4);
                        int n = 2, h = 15, w = 13, c = 256, k = 512;
                        int pp = 8, qq = 7; // ceil_mode
                        float[] x = rounded(rnd, n * h * w * c, r, 1);
                        float[] wt = rounded(rnd, k * c, r, 0.09f);
                        float[] sc = new float[k];
                        float[] sh = new float[k];
                        for (int i = 0; i < k; i++) {
                            sc[i] = 0.5f + rnd.nextFloat();
                            sh[i] = (float) rnd.nextGaussian();
                        }
                        double[] pooled = Reference.avgPool(x, n, h, w, c, 2, 2, 2, 0, 0, false, pp, qq);
                        float[] pf = new float[pooled.length];
                        for (int i = 0; i < pf.length; i++) {
                            pf[i] = (float) pooled[i];
                        }
                        double[] ref = Reference.conv(pf, n, pp, qq, c, wt, k, 1, 1, 1, 0, 0, 1, sc, sh, null, 0, 0, 0, 0, false, pp, qq);
                        float[] y = r.avgPoolConv(x, n, h, w, c, wt, k, sc, sh, pp, qq);
                        assertTrue(Reference.relError(y, ref) <= r.tolerance() * 2);
                    }),
                    DynamicTest.dynamicTest(p + " head gap+fc", () -> {
                        Random rnd = new Random(5);
                        int n = 3, hw = 49, c = 2048, k = 1000;
                        float[] x = rounded(rnd, n * hw * c, r, 1);
                        float[] wt = rounded(rnd, k * c, x0 -> x0, 0.02f);
                        float[] b = rounded(rnd, k, x0 -> x0, 1);
                        double[] g = Reference.globalAvgPool(x, n, hw, c);
                        float[] gf = new float[g.length];
                        for (int i = 0; i < gf.length; i++) {
                            gf[i] = (float) g[i];
                        }
                        double[] ref = Reference.fc(gf, n, c, wt, b, k);
                        float[] y = r.globalAvgPoolFc(x, n, hw, c, wt, b, k);
                        assertNotNull(y);
                        assertTrue(Reference.relError(y, ref) <= 1e-4);
                    }));
        });
    }

    /** CudaImages: taps + pixels uploaded on a stream, the op writes slot 1 of a 3-slot F32 buffer; vs the CPU twin. */
    @org.junit.jupiter.api.Test
    void imageIntoABatchSlotOnAStream() throws Exception {
        Random rnd = new Random(21);
        int h = 375;
        int w = 500;
        byte[] px = new byte[h * w * 3];
        rnd.nextBytes(px);
        RgbImage img = new RgbImage(px, 0, h, w, w * 3, 3, 2, 1, 0, "bgr");
        Preprocess pre = Preprocess.imagenet();
        ResamplePlan plan = pre.plan(h, w);
        float[] cpu = CpuImages.nhwc(img, pre);
        int per = cpu.length;
        PointerPointer<?> pp = new PointerPointer<>(1);
        CudaOpRunner.check(CudaOps.streamCreate(pp), "stream");
        long stream = pp.get(0).address();
        long[] bufs = new long[3];
        long[] sizes = {CudaImages.tapsBytes(plan), img.spanBytes(), 3L * per * 4};
        try {
            for (int i = 0; i < 3; i++) {
                PointerPointer<?> b = new PointerPointer<>(1);
                CudaOpRunner.check(CudaOps.malloc(b, sizes[i]), "malloc");
                bufs[i] = b.get(0).address();
            }
            CudaOpRunner.check(CudaOps.memset(bufs[2], 0xff, sizes[2], stream), "poison");
            CudaImages.DeviceTaps taps = CudaImages.uploadTaps(plan, bufs[0], sizes[0], stream);
            CudaImages.uploadPixels(img, bufs[1], sizes[1], stream);
            CudaImages.resampleNormalize(taps, img, bufs[1], bufs[2] + 4L * per, CudaOps.F32, stream);
            float[] all = new float[3 * per];
            try (org.bytedeco.javacpp.FloatPointer host = new org.bytedeco.javacpp.FloatPointer(3L * per)) {
                CudaOpRunner.check(CudaOps.memcpyD2H(host.address(), bufs[2], sizes[2], stream), "d2h");
                CudaOpRunner.check(CudaOps.streamSynchronize(stream), "sync");
                host.get(all);
            }
            float[] slot = java.util.Arrays.copyOfRange(all, per, 2 * per);
            double[] ref = new double[per];
            for (int i = 0; i < per; i++) {
                ref[i] = cpu[i];
            }
            double e = Reference.relError(slot, ref);
            assertTrue(e <= 1e-6, "gpu vs cpu twin: " + e);
            assertTrue(Float.isNaN(all[per - 1]) && Float.isNaN(all[2 * per]), "writes only its slot");
            System.out.printf("[image] cuda slot vs cpu twin: rel %.2e%n", e);
        } finally {
            for (long b : bufs) {
                if (b != 0) {
                    CudaOps.free(b);
                }
            }
            CudaOps.streamDestroy(stream);
        }
    }

    private interface Round {
        float round(float v);
    }

    private static float[] rounded(Random rnd, int len, CudaOpRunner r, float scale) {
        return rounded(rnd, len, r::round, scale);
    }

    private static float[] rounded(Random rnd, int len, Round r, float scale) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = r.round((float) rnd.nextGaussian() * scale);
        }
        return a;
    }
}
