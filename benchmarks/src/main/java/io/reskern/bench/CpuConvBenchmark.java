package io.reskern.bench;

import io.reskern.Devices;
import io.reskern.nativelib.CpuOps;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.FloatPointer;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code rk_cpu_conv2d} on every distinct ResNet-50 conv shape at 224² ({@link ConvShapes}), with the fused epilogue
 * the model uses: {@code y = relu?(scale ⊙ conv(x, W) + shift [+ residual])} (residual = identity, on expand layers).
 *
 * <p>Primary score: calls/s. Secondary (aux counters, already per second): {@code gflops} = GFLOP/s with
 * FLOPs = 2·N·P·Q·K·C·R·S/groups, {@code gbytes} = GB/s of compulsory traffic x + W + y (+ residual). Their ratio is
 * the arithmetic intensity. Buffers are reused across calls, so small layers run from cache (as the hot loop of a
 * model does for weights, not for activations). Setup checks 64 random outputs against a float64 reference.
 *
 * <p>{@code @Param precision}: {@code fp32} (default) or {@code bf16} (packed with {@code RK_CPU_PREC_BF16}: the
 * AVX512_BF16 kernel, x rounded inside each call; the shapes the CPU keeps in fp32 under bf16 — Winograd with C ≤ 256, grouped
 * — run as in fp32 and are marked so at setup). bf16's compulsory traffic counts its weights at 2 bytes; the reference
 * check then allows bf16's rounding. {@code run-cpu.sh --kernels --bf16} runs both.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx2g"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class CpuConvBenchmark {
    /** Distinct shapes, in network order; must equal {@link ConvShapes#ids()} (checked at setup). */
    @Param({"conv1",
            "layer1.0.downsample.0", "layer1.0.conv1", "layer1.0.conv2", "layer1.0.conv3", "layer1.1.conv1",
            "layer2.0.downsample.0", "layer2.0.conv1", "layer2.0.conv2", "layer2.0.conv3", "layer2.1.conv1", "layer2.1.conv2",
            "layer3.0.downsample.0", "layer3.0.conv1", "layer3.0.conv2", "layer3.0.conv3", "layer3.1.conv1", "layer3.1.conv2",
            "layer4.0.downsample.0", "layer4.0.conv1", "layer4.0.conv2", "layer4.0.conv3", "layer4.1.conv1", "layer4.1.conv2"})
    public String layer;

    @Param({"1", "8"})
    public int batch;

    /** fp32, or bf16 (CPUs with AVX512_BF16; setup fails elsewhere). */
    @Param({"fp32"})
    public String precision;

    /** OpenMP threads; 0 = all available cores. */
    @Param({"0"})
    public int threads;

    /** Per-second counters (JMH normalises OPERATIONS counters by time in throughput mode). */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Rate {
        /** GFLOP/s. */
        public double gflops;
        /** GB/s of compulsory traffic. */
        public double gbytes;

        @Setup(Level.Iteration)
        public void reset() {
            gflops = 0;
            gbytes = 0;
        }
    }

    private ConvShapes.Shape sh;
    private Native mem;
    private long x;
    private long w;
    private long scale;
    private long shift;
    private long res;
    private long y;
    private int resMode;
    private double gflopPerCall;
    private double gbPerCall;
    private Thread owner;
    private boolean bf16; // the weights were packed for the bf16 kernel

    @Setup(Level.Trial)
    public void setup() throws NoSuchFieldException {
        ConvShapes.checkCovers(CpuConvBenchmark.class.getField("layer").getAnnotation(Param.class).value());
        sh = ConvShapes.byId(layer);
        int t = Native.applyThreads(threads);
        owner = Thread.currentThread();
        mem = new Native(layer.hashCode() * 31L + batch);
        int n = batch;
        int cg = sh.c() / sh.groups();
        long xN = (long) n * sh.h() * sh.w() * sh.c();
        long yN = (long) n * sh.p() * sh.q() * sh.k();
        long wN = (long) sh.k() * sh.r() * sh.s() * cg;
        float bound = (float) Math.sqrt(6.0 / (cg * sh.r() * sh.s()));
        float[][] xa = new float[1][];
        float[][] wa = new float[1][];
        float[][] sa = new float[1][];
        float[][] ba = new float[1][];
        float[][] ra = new float[1][];
        x = mem.uniform(xN, -1f, 1f, xa).address();
        FloatPointer wRaw = mem.uniform(wN, -bound, bound, wa);
        // packed for its stride and output size, as the CPU backend packs (3x3 stride 1 -> Winograd where it pays)
        long pixels = (long) sh.p() * sh.q();
        int prec = switch (precision) {
            case "fp32" -> CpuOps.PREC_FP32;
            case "bf16" -> CpuOps.PREC_BF16;
            default -> throw new IllegalArgumentException("precision must be fp32 or bf16, got " + precision);
        };
        if (prec == CpuOps.PREC_BF16 && CpuOps.bf16Supported() != 1) {
            throw new IllegalStateException("bf16: this CPU has no AVX512_BF16 kernel (kernel " + CpuOps.kernelIsa() + ")");
        }
        long packedN = CpuOps.convPackedSizePrec(sh.k(), sh.c(), sh.r(), sh.s(), sh.groups(), sh.stride(), pixels, prec);
        if (packedN <= 0) {
            throw new IllegalStateException("conv_packed_size returned " + packedN + " for " + sh.describe());
        }
        w = mem.zeros(packedN).address();
        Native.check(CpuOps.convPackPrec(wRaw.address(), sh.k(), sh.c(), sh.r(), sh.s(), sh.groups(), sh.stride(), pixels,
                prec, w), "conv_pack");
        bf16 = CpuOps.convPackedPrecision(w) == CpuOps.PREC_BF16;
        scale = mem.uniform(sh.k(), 0.5f, 1.5f, sa).address();
        shift = mem.uniform(sh.k(), -0.1f, 0.1f, ba).address();
        resMode = sh.residual() ? 1 : 0; // RK_RES_IDENTITY
        res = sh.residual() ? mem.uniform(yN, -1f, 1f, ra).address() : 0L;
        FloatPointer yp = mem.zeros(yN);
        y = yp.address();
        Native.check(call(), "conv2d " + layer);
        verify(Native.read(yp, yN), xa[0], wa[0], sa[0], ba[0], sh.residual() ? ra[0] : null);
        gflopPerCall = sh.flops(n) / 1e9;
        gbPerCall = (sh.bytes(n) - (bf16 ? 2.0 * wN : 0)) / 1e9; // bf16 weights: 2 bytes each
        System.out.printf("# conv %s [%s] %s, N=%d, %s%s: %.3f GFLOP, %.2f MB compulsory, AI %.1f FLOP/B, %d threads, "
                        + "kernel %s, 64 outputs match the float64 reference%n", layer, sh.role(), sh.describe(), n, precision,
                prec == CpuOps.PREC_BF16 && !bf16 ? " (kept in fp32 by the bf16 packing)" : "", gflopPerCall,
                gbPerCall * 1e3, gflopPerCall / gbPerCall, t, Devices.cpuKernelIsa() + (bf16 ? " bf16" : ""));
    }

    private int call() {
        return CpuOps.conv2d(x, batch, sh.h(), sh.w(), sh.c(), w, sh.k(), sh.r(), sh.s(), sh.stride(), sh.pad(), sh.pad(),
                sh.groups(), scale, shift, res, resMode, sh.p(), sh.q(), sh.k(), sh.relu() ? 1 : 0, y, sh.p(), sh.q());
    }

    /** Spot check: 64 random outputs against a float64 reference (tolerance relative to the sum of |terms|). */
    private void verify(float[] got, float[] xa, float[] wa, float[] sa, float[] ba, float[] ra) {
        SplittableRandom r = new SplittableRandom(7);
        int cg = sh.c() / sh.groups();
        int kg = sh.k() / sh.groups();
        for (int t = 0; t < 64; t++) {
            int n = r.nextInt(batch);
            int p = r.nextInt(sh.p());
            int q = r.nextInt(sh.q());
            int k = r.nextInt(sh.k());
            int g = k / kg;
            double acc = 0;
            double mag = 0;
            for (int rr = 0; rr < sh.r(); rr++) {
                int hi = p * sh.stride() - sh.pad() + rr;
                if (hi < 0 || hi >= sh.h()) {
                    continue;
                }
                for (int ss = 0; ss < sh.s(); ss++) {
                    int wi = q * sh.stride() - sh.pad() + ss;
                    if (wi < 0 || wi >= sh.w()) {
                        continue;
                    }
                    for (int c = 0; c < cg; c++) {
                        double term = (double) xa[((n * sh.h() + hi) * sh.w() + wi) * sh.c() + g * cg + c]
                                * wa[((k * sh.r() + rr) * sh.s() + ss) * cg + c];
                        acc += term;
                        mag += Math.abs(term);
                    }
                }
            }
            int yi = ((n * sh.p() + p) * sh.q() + q) * sh.k() + k;
            double v = acc * sa[k] + ba[k] + (ra != null ? ra[yi] : 0);
            if (sh.relu()) {
                v = Math.max(v, 0);
            }
            // bf16 rounds x and w to 8 significant bits: each product is off by up to ~2^-8 of its magnitude
            double tol = (bf16 ? 8e-3 : 1e-4) * (mag * sa[k] + Math.abs(ba[k]) + (ra != null ? Math.abs(ra[yi]) : 0)) + 1e-6;
            if (!(Math.abs(got[yi] - v) <= tol)) {
                throw new IllegalStateException(String.format("conv %s N=%d: y[%d,%d,%d,%d] = %g, reference %g (tol %.2g): "
                        + "the kernel is wrong, not benchmarking it", layer, batch, n, p, q, k, got[yi], v, tol));
            }
        }
    }

    @Benchmark
    public int conv(Rate rate) {
        if (Thread.currentThread() != owner) { // libgomp's team size is per calling thread
            Native.applyThreads(threads);
            owner = Thread.currentThread();
        }
        int st = call();
        if (st != 0) {
            throw new IllegalStateException("conv2d failed: " + CpuOps.lastError());
        }
        rate.gflops += gflopPerCall;
        rate.gbytes += gbPerCall;
        return st;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (mem != null) {
            mem.close();
        }
    }
}
