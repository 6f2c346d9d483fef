package io.reskern.bench;

import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.ResNets;
import io.reskern.backend.Fusion;
import io.reskern.backend.conv.ConvImpl;
import io.reskern.backend.conv.ConvProblem;
import io.reskern.graph.Graph;
import io.reskern.graph.GraphBuilder;
import io.reskern.graph.Plan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * Whole residual blocks, the fused conv steps of reskern's GPU schedule ({@link Fusion}) in order, each in one of the
 * three implementations of {@link GpuConvBenchmark} ({@code own}, {@code cudnn}, {@code cudnn_unfused}):
 * <ul>
 *   <li>{@code basic} — ResNet-18 {@code layer1.1}: 3×3 → 3×3 + identity;</li>
 *   <li>{@code bottleneck} — ResNet-50 {@code layer1.1}: 1×1 → 3×3 → 1×1 + identity;</li>
 *   <li>{@code v1d_down} — ResNet-50-D {@code layer2.0}: the stride-2 block with the avg-pool + 1×1 shortcut;</li>
 *   <li>{@code v2_preact} — ResNetV2-50 {@code stages.0.blocks.1}: pre-activation, the last conv with the dual output.</li>
 * </ul>
 * 224², batch N, random weights; every value has its own buffer. Score: blocks/s; {@code gflops} aux counter.
 * Same short settings and {@code @Fork(0)} as {@link GpuConvBenchmark}, for the same reasons.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(0)
@Warmup(iterations = 1, time = 200, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 3, time = 200, timeUnit = TimeUnit.MILLISECONDS)
public class GpuBlockBenchmark {
    static final int BLOCKS = 10;

    @Param({"basic", "bottleneck", "v1d_down", "v2_preact"})
    public String block;

    @Param({"own", "cudnn", "cudnn_unfused"})
    public String impl;

    @Param({"fp16"})
    public String precision;

    @Param({"32"})
    public int batch;

    /** Per-second counter. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Rate {
        public double gflops;

        @Setup(Level.Iteration)
        public void reset() {
            gflops = 0;
        }
    }

    private GpuBench gpu;
    private double gflopPerBlock;

    /** (model, conv-name prefix) of a block. */
    static String[] block(String b) {
        return switch (b) {
            case "basic" -> new String[] {"resnet18", "layer1.1."};
            case "bottleneck" -> new String[] {"resnet50", "layer1.1."};
            case "v1d_down" -> new String[] {"resnet50d", "layer2.0."};
            case "v2_preact" -> new String[] {"resnetv2_50", "stages.0.blocks.1."};
            default -> throw new IllegalArgumentException("block must be basic, bottleneck, v1d_down or v2_preact, got " + b);
        };
    }

    @Setup(Level.Trial)
    public void setup() throws ReskernException {
        String[] mb = block(block);
        Precision p = Precision.parse(precision);
        gpu = new GpuBench(p, block.hashCode());
        Graph g = GraphBuilder.build(ResNets.byName(mb[0]));
        Plan plan = g.plan(batch, ConvShapes.IMAGE, ConvShapes.IMAGE);
        List<Fusion.ConvStep> steps = new ArrayList<>();
        for (Fusion.Step st : Fusion.schedule(g)) {
            if (st instanceof Fusion.ConvStep cs && cs.conv().convName().startsWith(mb[1])) {
                steps.add(cs);
            }
        }
        if (steps.isEmpty()) {
            throw new IllegalStateException("no conv steps named " + mb[1] + "* in " + mb[0]);
        }
        Map<Integer, Long> buf = new HashMap<>();
        List<GpuBench.Work> work = new ArrayList<>();
        double flop = 0;
        StringBuilder desc = new StringBuilder();
        for (Fusion.ConvStep cs : steps) {
            ConvProblem pr = ConvProblem.of(cs, plan);
            flop += pr.flops();
            long x = value(buf, cs.source(), plan, p);
            long res = cs.conv().residual() >= 0 ? value(buf, cs.conv().residual(), plan, p) : 0;
            long y = value(buf, cs.conv().output(), plan, p);
            long y2 = cs.post() != null ? value(buf, cs.post().output(), plan, p) : 0;
            ConvImpl c = gpu.impl(impl, pr, gpu.params(pr), x, res, y, y2);
            work.add(() -> c.enqueue(x, res, y, y2, gpu.stream));
            desc.append(cs.conv().convName()).append('=').append(c.id()).append(' ');
        }
        gpu.prepareReplay(() -> {
            for (GpuBench.Work w : work) {
                w.enqueue();
            }
        }, BLOCKS);
        gflopPerBlock = flop / 1e9;
        System.out.printf("# block %s (%s %s*) %s: %d conv steps, %.3f GFLOP: %s%n", block, mb[0], mb[1], impl, steps.size(),
                gflopPerBlock, desc);
    }

    private long value(Map<Integer, Long> buf, int v, Plan plan, Precision p) throws ReskernException {
        Long a = buf.get(v);
        if (a == null) {
            a = gpu.activation((long) plan.batch() * plan.height(v) * plan.width(v) * plan.channels(v));
            buf.put(v, a);
        }
        return a;
    }

    @Benchmark
    @OperationsPerInvocation(BLOCKS)
    public void block(Rate rate) throws ReskernException {
        gpu.replay();
        rate.gflops += gflopPerBlock * BLOCKS;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (gpu != null) {
            gpu.close();
        }
    }
}
