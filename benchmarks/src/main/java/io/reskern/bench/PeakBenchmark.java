package io.reskern.bench;

import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.CompilerControl;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The roof for {@link CpuConvBenchmark}'s "% of peak": a register-only fp32 FMA loop (12 independent accumulator
 * chains of the widest vector the JIT offers: 16 lanes on AVX-512, 8 on AVX2), on one core and on all cores. It
 * measures what this machine sustains now (clock, turbo, neighbours), not the datasheet number.
 * Secondary {@code gflops} = GFLOP/s (summed over threads).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class PeakBenchmark {
    private static final VectorSpecies<Float> SP = FloatVector.SPECIES_PREFERRED;
    private static final int CHAINS = 12;
    private static final int STEPS = 1 << 16;
    private static final double GFLOP_PER_CALL = 2.0 * CHAINS * SP.length() * STEPS / 1e9;

    /** GFLOP/s counter. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Rate {
        public double gflops;

        @Setup(Level.Iteration)
        public void reset() {
            gflops = 0;
        }
    }

    private float m = 0.999999f;
    private float c = 1e-7f;

    /** Warms the loop up to C2 (the Vector API is only intrinsified there) so short JMH warm-ups suffice. */
    @Setup(Level.Trial)
    public void setup() {
        long end = System.nanoTime() + 1_500_000_000L;
        float sink = 0;
        while (System.nanoTime() < end) {
            sink += fmaLoop();
        }
        if (sink == 42.4242f) {
            System.out.println();
        }
        System.out.printf("# peak: %d-lane fp32 FMA (%d-bit), %d chains, %d cores available%n", SP.length(), SP.vectorBitSize(),
                CHAINS, Runtime.getRuntime().availableProcessors());
    }

    @CompilerControl(CompilerControl.Mode.DONT_INLINE)
    private float fmaLoop() {
        FloatVector vm = FloatVector.broadcast(SP, m);
        FloatVector vc = FloatVector.broadcast(SP, c);
        FloatVector a0 = FloatVector.broadcast(SP, 1f);
        FloatVector a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (int i = 0; i < STEPS; i++) {
            a0 = a0.fma(vm, vc);
            a1 = a1.fma(vm, vc);
            a2 = a2.fma(vm, vc);
            a3 = a3.fma(vm, vc);
            a4 = a4.fma(vm, vc);
            a5 = a5.fma(vm, vc);
            a6 = a6.fma(vm, vc);
            a7 = a7.fma(vm, vc);
            a8 = a8.fma(vm, vc);
            a9 = a9.fma(vm, vc);
            a10 = a10.fma(vm, vc);
            a11 = a11.fma(vm, vc);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(VectorOperators.ADD);
    }

    /** All cores: one JMH thread per available processor. */
    @Benchmark
    @Threads(Threads.MAX)
    public float fmaAllCores(Rate rate) {
        rate.gflops += GFLOP_PER_CALL;
        return fmaLoop();
    }

    @Benchmark
    @Threads(1)
    public float fmaOneCore(Rate rate) {
        rate.gflops += GFLOP_PER_CALL;
        return fmaLoop();
    }
}
