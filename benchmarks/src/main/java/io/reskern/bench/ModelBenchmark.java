package io.reskern.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.reskern.Device;
import io.reskern.Devices;
import io.reskern.Model;
import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.io.Npy;
import io.reskern.io.NpyArray;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * A torchvision ResNet ({@code @Param model}, default resnet50) at 224², fp32 on the CPU: reskern vs ONNX Runtime Java
 * (CPU execution provider), same weights ({@code benchmarks/scripts/export_model.py --model NAME} writes one seeded
 * torchvision model as both ONNX and safetensors), same thread count, same JMH run. Other models:
 * {@code -p model=resnet18,resnet50} (any name the export script takes: resnet18/34/50/101/152, resnext50_32x4d,
 * resnext101_32x8d, wide_resnet50_2, wide_resnet101_2).
 *
 * <p>One op = one forward pass from a Java {@code float[]} NCHW batch to a Java {@code float[]} of logits, through each
 * library's public API: {@code Model.predict} for reskern; {@code OnnxTensor.createTensor} (copies the heap buffer)
 * + {@code OrtSession.run} + copying the logits out for ORT. ORT: intra-op threads = {@code threads}, inter-op 1,
 * sequential execution, graph optimisation ALL (it fuses the exported BN into the convs). reskern:
 * {@code Devices.setCpuThreads(threads)}.
 *
 * <p>Correctness before timing (a benchmark of wrong outputs is worthless): sample 0 of the batch is
 * {@code NAME.input.npy}; the other samples are seeded N(0,1). Every fork checks its runtime against
 * {@code NAME.expected.npy} (torch float64) on sample 0; the reskern fork also runs ORT on the whole batch and
 * checks the two agree on every sample (ORT is closed again before timing). Error measure:
 * {@code max|a − b| / max|b|}, limit {@value #TOLERANCE}.
 *
 * <p>{@code reskernBf16}: the same model with {@code optPrecision(BF16)} on the CPU (the dense convs on the AVX512_BF16
 * kernel: operands rounded to bfloat16, sums in fp32), checked with the bf16 limit {@value #TOLERANCE_BF16}; its setup
 * fails on a CPU without AVX512_BF16. Not in {@code run-cpu.sh}'s default set ({@code --bf16} adds it).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx4g"})
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 2)
public class ModelBenchmark {
    static final double TOLERANCE = 1e-4;
    /** bf16 keeps 8 significant bits: the logits of ResNet-50 measured ~5e-3 max-relative (2026-12-02). */
    static final double TOLERANCE_BF16 = 3e-2;
    private static final int SIZE = 224;

    /** torchvision ResNet name, also the file prefix in the models directory ({@link ModelFiles}). */
    @Param({"resnet50"})
    public String model;

    @Param({"1", "8"})
    public int batch;

    /** Threads for both runtimes; 0 = all available cores. */
    @Param({"0"})
    public int threads;

    private float[] input;
    private long[] shape;
    private Model net;
    private OrtEnvironment env;
    private OrtSession session;
    private String inputName;
    private Thread owner;

    @Setup(Level.Trial)
    public void setup(BenchmarkParams params) throws Exception {
        boolean bf16 = params.getBenchmark().endsWith(".reskernBf16");
        boolean reskern = bf16 || params.getBenchmark().endsWith(".reskern");
        int t = Native.resolveThreads(threads);
        ModelFiles.FileSet files = ModelFiles.ensure(model);
        NpyArray in0 = Npy.read(files.input());
        float[] expected = Npy.read(files.expected()).data();
        int classes = expected.length;
        int per = 3 * SIZE * SIZE;
        if (in0.size() != per) {
            throw new IllegalStateException(files.input() + " has shape " + Arrays.toString(in0.shape())
                    + ", expected [1, 3, 224, 224]");
        }
        input = new float[batch * per];
        System.arraycopy(in0.data(), 0, input, 0, per);
        SplittableRandom rng = new SplittableRandom(2024);
        for (int i = per; i < input.length; i++) {
            input[i] = (float) nextGaussian(rng);
        }
        shape = new long[] {batch, 3, SIZE, SIZE};

        openOrt(files.onnx(), t);
        float[] ort = ort();
        check(model + ": ORT vs torch float64 (sample 0)", Arrays.copyOf(ort, classes), expected, TOLERANCE);
        if (reskern) {
            Devices.setCpuThreads(t); // libgomp keeps this per calling thread: reskern() re-applies it if JMH switches
            owner = Thread.currentThread();
            net = Model.builder().model(model).optClasses(classes).optWeights(files.safetensors()).optDevice(Device.CPU)
                    .optPrecision(bf16 ? Precision.BF16 : Precision.FP32).build();
            float[] rk = reskern();
            double tol = bf16 ? TOLERANCE_BF16 : TOLERANCE;
            check(model + ": reskern " + net.precision() + " vs torch float64 (sample 0)", Arrays.copyOf(rk, classes),
                    expected, tol);
            check(model + ": reskern " + net.precision() + " vs ORT (all " + batch + " samples)", rk, ort, tol);
            session.close(); // free ORT's thread pool and memory before timing reskern
            session = null;
            System.out.printf("# reskern %s %s: %d CPU threads, conv kernel %s, weights %s%n", model, net.precision(), t,
                    Devices.cpuKernelIsa(), net.weightsDescription());
        } else {
            System.out.printf("# ORT %s %s: %d intra-op threads, CPU EP, opt level ALL%n", env.getVersion(), model, t);
        }
    }

    private void openOrt(Path onnx, int t) throws OrtException {
        env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setIntraOpNumThreads(t);
            so.setInterOpNumThreads(1);
            so.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            session = env.createSession(onnx.toString(), so);
        }
        inputName = session.getInputNames().iterator().next();
    }

    private static double nextGaussian(SplittableRandom r) {
        double u = 1 - r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    /** Throws unless max|got − want| / max|want| ≤ {@code tolerance}; prints the error either way. */
    static void check(String what, float[] got, float[] want, double tolerance) {
        if (got.length != want.length) {
            throw new IllegalStateException(what + ": " + got.length + " outputs, expected " + want.length);
        }
        double maxDiff = 0;
        double scale = 0;
        int worst = 0;
        for (int i = 0; i < got.length; i++) {
            double d = Math.abs((double) got[i] - want[i]);
            if (!(d <= maxDiff)) { // NaN-safe: a NaN difference becomes the maximum
                maxDiff = d;
                worst = i;
            }
            scale = Math.max(scale, Math.abs(want[i]));
        }
        double rel = maxDiff / Math.max(scale, 1e-30);
        System.out.printf("# check %s: max|diff| %.3g, max|ref| %.3g, rel %.3g (limit %.0e)%n", what, maxDiff, scale, rel,
                tolerance);
        if (!(rel <= tolerance)) {
            throw new IllegalStateException(String.format("%s: relative error %.3g > %.0e (element %d: %g vs %g); refusing "
                    + "to benchmark wrong outputs", what, rel, tolerance, worst, got[worst], want[worst]));
        }
    }

    @Benchmark
    public float[] reskern() throws ReskernException {
        if (Thread.currentThread() != owner) {
            Devices.setCpuThreads(Native.resolveThreads(threads));
            owner = Thread.currentThread();
        }
        return net.predict(input, batch, SIZE, SIZE);
    }

    /** {@link #reskern} on the bf16 model (setup builds it with {@code Precision.BF16}). */
    @Benchmark
    public float[] reskernBf16() throws ReskernException {
        return reskern();
    }

    @Benchmark
    public float[] ort() throws OrtException {
        try (OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(input), shape);
             OrtSession.Result r = session.run(Map.of(inputName, x))) {
            FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
            float[] out = new float[fb.remaining()];
            fb.get(out);
            return out;
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws OrtException {
        if (net != null) {
            net.close();
        }
        if (session != null) {
            session.close();
        }
    }
}
