package io.reskern.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.ConvPolicy;
import io.reskern.Device;
import io.reskern.Model;
import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.backend.conv.ConvProblem;
import io.reskern.backend.conv.DeviceMem;
import io.reskern.backend.conv.TuneListener;
import io.reskern.backend.cudnn.Cudnn;
import io.reskern.backend.cudnn.CudnnContext;
import io.reskern.backend.cudnn.CudnnConv;
import io.reskern.backend.cudnn.CudnnMapping;
import io.reskern.graph.Node;
import io.reskern.io.Half;
import io.reskern.nativelib.CudaOps;
import io.reskern.ops.OpCases;
import io.reskern.ops.Reference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The cuDNN path on a GPU: every ResNet-50 conv shape through cuDNN (fused, each algorithm cuDNN offers; unfused, the
 * first) in fp32 / TF32 / fp16 / bf16 against the float64 reference; the v1d pre-pool and v2 dual-output mappings;
 * whole models with {@code --conv cudnn} and {@code best} against the CPU backend; the tuning cache answering a second
 * build. Skips without a GPU; with {@code -Dreskern.requireGpu=true} (the GPU bundle) a missing cuDNN fails.
 */
@Tag("gpu")
@ExtendWith(GpuCondition.class)
class CudnnTest {
    static Path cacheDir;
    static String oldCache;

    @BeforeAll
    static void gpuAndCudnn() throws Exception {
        Gpu.require();
        Cudnn.Status s = Cudnn.status();
        System.out.println("[cudnn] " + s.describe());
        if (!s.available() && Boolean.getBoolean("reskern.requireGpu")) {
            throw new AssertionError("reskern.requireGpu=true but " + s.describe());
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(s.available(), s::describe);
        cacheDir = Files.createTempDirectory("reskern-tune-test");
        oldCache = System.getProperty("reskern.tuneCache");
        System.setProperty("reskern.tuneCache", cacheDir.toString());
    }

    @AfterAll
    static void restore() {
        if (oldCache == null) {
            System.clearProperty("reskern.tuneCache");
        } else {
            System.setProperty("reskern.tuneCache", oldCache);
        }
    }

    static double tol(Precision p) {
        return switch (p) {
            case FP32 -> 1e-5;
            case TF32 -> 3e-3;
            case FP16 -> 5e-3;
            case BF16 -> 2e-2;
        };
    }

    static int dtype(Precision p) {
        return switch (p) {
            case FP16 -> CudaOps.F16;
            case BF16 -> CudaOps.BF16;
            default -> CudaOps.F32;
        };
    }

    static float round(Precision p, float v) {
        return switch (p) {
            case FP16 -> Half.halfToFloat(Half.floatToHalf(v));
            case BF16 -> Half.bf16ToFloat(Half.floatToBf16(v));
            default -> v;
        };
    }

    static float[] rand(Random r, int n, Precision p, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = round(p, (float) r.nextGaussian() * scale);
        }
        return a;
    }

    static float[] download(long d, int n, Precision p, long stream, DeviceMem mem) throws ReskernException {
        long f32 = d;
        if (dtype(p) != CudaOps.F32) {
            f32 = mem.malloc(4L * n);
            DeviceMem.check(CudaOps.convert(d, dtype(p), f32, CudaOps.F32, n, stream), "convert");
        }
        try (FloatPointer h = new FloatPointer(n)) {
            DeviceMem.check(CudaOps.memcpyD2H(h.address(), f32, 4L * n, stream), "d2h");
            DeviceMem.check(CudaOps.streamSynchronize(stream), "sync");
            float[] out = new float[n];
            h.get(out, 0, n);
            return out;
        }
    }

    static long createStream() throws ReskernException {
        PointerPointer<?> pp = new PointerPointer<>(1);
        DeviceMem.check(CudaOps.streamCreate(pp), "stream");
        return pp.get(0).address();
    }

    /** One problem through cuDNN in both modes; returns a log line. Fails on any error above tolerance. */
    static String runProblem(ConvProblem pr, Precision p, long seed, boolean everyAlgo) throws Exception {
        Random r = new Random(seed);
        int cg = pr.c() / pr.groups();
        float[] x = rand(r, pr.n() * pr.h() * pr.w() * pr.c(), p, 1);
        float[] w = rand(r, pr.k() * pr.r() * pr.s() * cg, p, (float) Math.sqrt(2.0 / (cg * pr.r() * pr.s())));
        float[] sc = new float[pr.k()];
        float[] sh = new float[pr.k()];
        for (int i = 0; i < pr.k(); i++) {
            sc[i] = 0.5f + r.nextFloat();
            sh[i] = round(p, (float) r.nextGaussian() * 0.5f);
        }
        float[] res = pr.hasResidual() ? rand(r, pr.n() * pr.p() * pr.q() * pr.k(), p, 1) : null;
        float[] ps = new float[pr.k()];
        float[] ph = new float[pr.k()];
        for (int i = 0; i < pr.k(); i++) {
            ps[i] = 0.5f + r.nextFloat();
            ph[i] = (float) r.nextGaussian() * 0.5f;
        }
        // reference: (pool) conv epilogue (post)
        float[] xin = x;
        int h = pr.h();
        int wd = pr.w();
        if (pr.preAvgPool()) {
            double[] pooled = Reference.avgPool(x, pr.n(), pr.h(), pr.w(), pr.c(), 2, 2, 2, 0, 0, false, pr.p(), pr.q());
            xin = new float[pooled.length];
            for (int i = 0; i < pooled.length; i++) {
                xin[i] = round(p, (float) pooled[i]); // the pooled scratch is stored in the data type
            }
            h = pr.p();
            wd = pr.q();
        }
        double[] ref = Reference.conv(xin, pr.n(), h, wd, pr.c(), w, pr.k(), pr.r(), pr.s(), pr.stride(), pr.pad(), pr.pad(),
                pr.groups(), sc, sh, res, res != null ? 1 : 0, pr.p(), pr.q(), pr.k(), pr.relu(), pr.p(), pr.q());
        double[] ref2 = null;
        if (pr.post()) {
            float[] yr = new float[ref.length];
            for (int i = 0; i < ref.length; i++) {
                yr[i] = (float) ref[i];
            }
            ref2 = Reference.bnRelu(yr, pr.n() * pr.p() * pr.q(), pr.k(), ps, ph, true);
        }
        CudnnMapping.Spec spec = CudnnMapping.map(pr, p);
        assertTrue(spec.supported(), spec.unsupported());
        long stream = createStream();
        StringBuilder log = new StringBuilder();
        try (DeviceMem mem = new DeviceMem(); CudnnContext ctx = new CudnnContext(stream, p == Precision.TF32)) {
            int dt = dtype(p);
            long dx = mem.upload(x, dt, stream);
            long dres = res != null ? mem.upload(res, dt, stream) : 0;
            int ylen = pr.n() * pr.p() * pr.q() * pr.k();
            long dy = mem.malloc((long) ylen * p.bytes());
            long dy2 = pr.post() ? mem.malloc((long) ylen * p.bytes()) : 0;
            long dps = mem.upload(ps, CudaOps.F32, stream);
            long dph = mem.upload(ph, CudaOps.F32, stream);
            float[] nan = new float[ylen];
            java.util.Arrays.fill(nan, Float.NaN);
            long poison = mem.upload(nan, dt, stream);
            for (CudnnConv.Mode mode : CudnnConv.Mode.values()) {
                try (CudnnConv.Weights wt = CudnnConv.Weights.upload(mode, w, sc, sh, pr.k(), p, stream);
                     CudnnConv conv = new CudnnConv(ctx, spec, wt, p, dps, dph)) {
                    List<CudnnConv.Algo> algos = conv.algos();
                    assertTrue(!algos.isEmpty(), mode + ": no cuDNN algorithm for " + pr);
                    int ran = 0;
                    for (CudnnConv.Algo a : everyAlgo ? algos : algos.subList(0, 1)) {
                        long ws = a.workspace() > 0 ? mem.malloc(a.workspace()) : 0;
                        DeviceMem.check(CudaOps.memcpyD2D(dy, poison, (long) ylen * p.bytes(), stream), "poison");
                        try {
                            conv.enqueue(a, ws, dx, dres, dy, dy2);
                        } catch (ReskernException e) {
                            log.append(mode).append(' ').append(a.name()).append("=unsupported ");
                            continue; // the tuner drops such candidates too
                        } finally {
                            if (ws != 0) {
                                DeviceMem.check(CudaOps.streamSynchronize(stream), "sync");
                                mem.free(ws);
                            }
                        }
                        ran++;
                        double e = Reference.relError(download(dy, ylen, p, stream, mem), ref);
                        log.append(String.format("%s %s=%.2e ", mode, a.name(), e));
                        assertTrue(e <= tol(p), mode + " " + a.name() + " " + pr + " " + p + ": rel err " + e);
                        if (ref2 != null) {
                            double e2 = Reference.relError(download(dy2, ylen, p, stream, mem), ref2);
                            assertTrue(e2 <= 2 * tol(p), "post output " + mode + " " + a.name() + ": " + e2);
                        }
                    }
                    assertTrue(ran > 0, mode + ": every cuDNN algorithm failed for " + pr + " " + p + ": " + log);
                }
            }
        } finally {
            CudaOps.streamDestroy(stream);
        }
        return log.toString();
    }

    static ConvProblem problem(OpCases.ConvCase cc) {
        int p = (cc.h() + 2 * cc.pad() - cc.r()) / cc.stride() + 1;
        int q = (cc.w() + 2 * cc.pad() - cc.r()) / cc.stride() + 1;
        boolean res = cc.resMode() == 1;
        return new ConvProblem(cc.n(), cc.h(), cc.w(), cc.c(), cc.k(), cc.r(), cc.r(), cc.stride(), cc.pad(), cc.groups(), p, q,
                false, res ? Node.Residual.IDENTITY : Node.Residual.NONE, res ? p : 0, res ? q : 0, res ? cc.k() : 0, cc.relu(),
                false);
    }

    @TestFactory
    Stream<DynamicTest> everyResNet50ShapeEveryPrecision() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Precision p : Precision.values()) {
            for (OpCases.ConvCase cc : OpCases.resnet50ConvCases(2)) {
                tests.add(DynamicTest.dynamicTest(p + " " + cc, () -> System.out.println("[cudnn] " + p + " " + cc + ": "
                        + runProblem(problem(cc), p, cc.hashCode(), p == Precision.FP16))));
            }
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> v1dPrePoolV2PostAndGroups() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Precision p : Precision.values()) {
            // v1d shortcut: avgpool 2x2/2 (odd size: ceil mode) + 1x1 256->512, no ReLU (IDENTITY)
            ConvProblem pool = new ConvProblem(2, 15, 15, 256, 512, 1, 1, 1, 0, 1, 8, 8, true, Node.Residual.NONE, 0, 0, 0, false, false);
            // v2 block end: 1x1 64->256 + identity residual, no ReLU, dual output relu(post)
            ConvProblem post = new ConvProblem(2, 14, 14, 64, 256, 1, 1, 1, 0, 1, 14, 14, false, Node.Residual.IDENTITY, 14, 14, 256,
                    false, true);
            // ResNeXt grouped 3x3
            ConvProblem grp = new ConvProblem(2, 28, 28, 256, 256, 3, 3, 1, 1, 32, 28, 28, false, Node.Residual.NONE, 0, 0, 0, true,
                    false);
            for (ConvProblem pr : List.of(pool, post, grp)) {
                tests.add(DynamicTest.dynamicTest(p + " " + pr, () -> System.out.println("[cudnn] " + p + " " + pr + ": "
                        + runProblem(pr, p, pr.hashCode(), true))));
            }
        }
        return tests.stream();
    }

    static float[] input(int n, int h, int w) {
        Random r = new Random(11);
        float[] x = new float[n * 3 * h * w];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    @TestFactory
    Stream<DynamicTest> modelsWithCudnnAndBestMatchTheCpu() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String m : List.of("resnet50", "resnet50d", "resnetv2_50", "resnext50_32x4d", "cifar_resnet20")) {
            tests.add(DynamicTest.dynamicTest(m, () -> {
                boolean cifar = m.startsWith("cifar");
                int n = 2;
                int h = cifar ? 33 : 67;
                int w = cifar ? 31 : 53;
                float[] x = input(n, h, w);
                float[] ref;
                try (Model cpu = CudaModelTest.builder(m).optDevice(Device.CPU).build()) {
                    ref = cpu.predict(x, n, h, w);
                }
                double[] refD = new double[ref.length];
                for (int i = 0; i < ref.length; i++) {
                    refD[i] = ref[i];
                }
                StringBuilder sb = new StringBuilder();
                // a short GPU session: cudnn in fp32 and fp16, best in fp16 (the tuned path)
                for (ConvPolicy cp : List.of(ConvPolicy.CUDNN, ConvPolicy.BEST)) {
                    for (Precision p : cp == ConvPolicy.CUDNN ? List.of(Precision.FP32, Precision.FP16) : List.of(Precision.FP16)) {
                        try (Model gpu = CudaModelTest.builder(m).optDevice(Device.cuda(0)).optPrecision(p).optConv(cp).build()) {
                            float[] y1 = gpu.predict(x, n, h, w); // eager (tunes)
                            float[] y2 = gpu.predict(x, n, h, w); // CUDA-graph replay
                            double e = Reference.relError(y1, refD);
                            sb.append(String.format("%s/%s=%.2e ", cp, p, e));
                            assertTrue(e <= CudaModelTest.tolerance(p), m + " " + cp + " " + p + ": rel err " + e);
                            org.junit.jupiter.api.Assertions.assertArrayEquals(y1, y2, m + " " + cp + " " + p + ": graph replay");
                        }
                    }
                }
                System.out.println("[cudnn-model] " + m + " " + sb);
            }));
        }
        return tests.stream();
    }

    @Test
    void secondBuildIsAnsweredByTheCache() throws Exception {
        Path dir = Files.createTempDirectory("reskern-tune-reuse");
        String old = System.getProperty("reskern.tuneCache");
        System.setProperty("reskern.tuneCache", dir.toString());
        try {
            int[][] seen = new int[2][2];
            long[] ms = new long[2];
            for (int run = 0; run < 2; run++) {
                int rr = run;
                TuneListener l = new TuneListener() {
                    @Override
                    public void start(int total, int cached) {
                        seen[rr][0] += total;
                        seen[rr][1] += cached;
                    }
                };
                long t0 = System.nanoTime();
                try (Model m = Model.builder().model("resnet50").optDevice(Device.cuda(0)).optPrecision(Precision.FP16)
                        .optConv(ConvPolicy.BEST).optTuneListener(l).build()) {
                    m.predict(input(8, 224, 224), 8, 224, 224);
                }
                ms[run] = (System.nanoTime() - t0) / 1_000_000;
            }
            System.out.printf("[cudnn-cache] first build+run %d ms (%d problems, %d cached), second %d ms (%d, %d cached)%n", ms[0],
                    seen[0][0], seen[0][1], ms[1], seen[1][0], seen[1][1]);
            assertTrue(seen[0][1] < seen[0][0], "the first build tunes");
            assertEquals(seen[1][0], seen[1][1], "the second build is answered by the cache");
            assertTrue(Files.size(dir.resolve("conv-tuning.json")) > 0);
        } finally {
            if (old == null) {
                System.clearProperty("reskern.tuneCache");
            } else {
                System.setProperty("reskern.tuneCache", old);
            }
        }
    }
}
