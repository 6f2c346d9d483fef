package io.reskern.bench;

import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.backend.conv.ConvImpl;
import io.reskern.backend.conv.ConvProblem;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Every distinct ResNet-50 conv shape (224², batch N) plus the v1d avg-pool shortcut and v2 dual-output launches, in
 * three implementations: {@code own} (reskern's fused kernel, the shipped heuristic), {@code cudnn} (cuDNN's fused
 * conv + bias + residual + ReLU, fastest algorithm) and {@code cudnn_unfused} (conv, BN, add, ReLU as separate cuDNN
 * calls — PyTorch eager's sequence). Same random inputs and weights; the cuDNN output is checked against reskern's
 * before timing.
 *
 * <p>Score: launches/s. Aux counters (per second, so already rates): {@code gflops} = GFLOP/s (2·N·P·Q·K·C·R·S/groups),
 * {@code roofPct} = % of the measured roofline min(peak, AI × bandwidth) ({@link GpuPeak}). One invocation replays a
 * CUDA graph of {@value #LAUNCHES} launches and synchronises. Inputs are not rotated: layers that fit in L2 run from
 * it, for every implementation alike.
 *
 * <p>Settings are small on purpose (the GPU session is short): 1 × 200 ms warm-up, 3 × 200 ms, and {@code @Fork(0)}:
 * the timed work is GPU kernels replayed from a graph, which JIT state does not change, and a fork per benchmark would
 * pay the CUDA context and cuDNN library load (seconds) 93 times. The whole sweep (31 launches × 3) takes ~2 minutes.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(0)
@Warmup(iterations = 1, time = 200, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 3, time = 200, timeUnit = TimeUnit.MILLISECONDS)
public class GpuConvBenchmark {
    static final int LAUNCHES = 20;

    @Param({"conv1",
            "layer1.0.downsample.0", "layer1.0.conv1", "layer1.0.conv2", "layer1.0.conv3", "layer1.1.conv1",
            "layer2.0.downsample.0", "layer2.0.conv1", "layer2.0.conv2", "layer2.0.conv3", "layer2.1.conv1", "layer2.1.conv2",
            "layer3.0.downsample.0", "layer3.0.conv1", "layer3.0.conv2", "layer3.0.conv3", "layer3.1.conv1", "layer3.1.conv2",
            "layer4.0.downsample.0", "layer4.0.conv1", "layer4.0.conv2", "layer4.0.conv3", "layer4.1.conv1", "layer4.1.conv2",
            "d.pool.1", "d.pool.2", "d.pool.3", "v2.post.1", "v2.post.2", "v2.post.3", "v2.post.4"})
    public String layer;

    @Param({"own", "cudnn", "cudnn_unfused"})
    public String impl;

    @Param({"fp16"})
    public String precision;

    @Param({"32"})
    public int batch;

    /** Per-second counters. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Rate {
        public double gflops;
        public double roofPct;

        @Setup(Level.Iteration)
        public void reset() {
            gflops = 0;
            roofPct = 0;
        }
    }

    private GpuBench gpu;
    private double gflopPerLaunch;
    private double roofPctPerLaunch;

    @Setup(Level.Trial)
    public void setup() throws ReskernException, NoSuchFieldException {
        String[] ids = GpuConvBenchmark.class.getField("layer").getAnnotation(Param.class).value();
        ConvShapes.checkCovers(java.util.Arrays.copyOf(ids, ConvShapes.ids().size()));
        Precision p = Precision.parse(precision);
        gpu = new GpuBench(p, layer.hashCode());
        ConvProblem pr = GpuShapes.byId(layer, batch);
        long x = gpu.activation((long) pr.n() * pr.h() * pr.w() * pr.c());
        long res = pr.hasResidual() ? gpu.activation((long) pr.n() * pr.p() * pr.q() * pr.k()) : 0;
        long ylen = (long) pr.n() * pr.p() * pr.q() * pr.k();
        long y = gpu.mem.malloc(ylen * p.bytes());
        long y2 = pr.post() ? gpu.mem.malloc(ylen * p.bytes()) : 0;
        GpuBench.ConvParams cp = gpu.params(pr);
        ConvImpl c = gpu.impl(impl, pr, cp, x, res, y, y2);
        if (!impl.equals("own")) { // correct first: the cuDNN output against reskern's on the same data
            long yRef = gpu.mem.malloc(ylen * p.bytes());
            gpu.impl("own", pr, cp, x, res, yRef, y2).enqueue(x, res, yRef, y2, gpu.stream);
            c.enqueue(x, res, y, y2, gpu.stream);
            double e = GpuCheck.relDiff(gpu, y, yRef, ylen);
            double tol = p == Precision.FP32 ? 1e-4 : p == Precision.TF32 ? 1e-2 : p == Precision.FP16 ? 1e-2 : 4e-2;
            if (!(e <= tol)) {
                throw new IllegalStateException(String.format("%s %s: cuDNN and reskern differ by %.2e (tol %.0e): not timing it",
                        layer, impl, e, tol));
            }
            System.out.printf("# %s vs own: rel diff %.2e%n", impl, e);
        }
        gpu.prepareReplay(() -> c.enqueue(x, res, y, y2, gpu.stream), LAUNCHES);
        GpuPeak.Roof roof = GpuPeak.of(p, gpu.stream);
        double flop = pr.flops();
        gflopPerLaunch = flop / 1e9;
        roofPctPerLaunch = 100 * flop / roof.roofFlops(flop, GpuShapes.bytes(pr, p.bytes()));
        System.out.printf("# %s %s [%s]: %.3f GFLOP, AI %.1f FLOP/B, roof %.0f TFLOP/s%n", layer, impl, pr, gflopPerLaunch,
                flop / GpuShapes.bytes(pr, p.bytes()), roof.roofFlops(flop, GpuShapes.bytes(pr, p.bytes())) / 1e12);
    }

    @Benchmark
    @OperationsPerInvocation(LAUNCHES)
    public void conv(Rate rate) throws ReskernException {
        gpu.replay();
        rate.gflops += gflopPerLaunch * LAUNCHES;
        rate.roofPct += roofPctPerLaunch * LAUNCHES;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (gpu != null) {
            gpu.close();
        }
    }
}
