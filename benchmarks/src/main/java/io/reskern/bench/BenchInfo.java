package io.reskern.bench;

import ai.onnxruntime.OrtEnvironment;
import io.reskern.Devices;
import io.reskern.nativelib.CpuOps;
import java.util.StringJoiner;
import org.openjdk.jmh.annotations.Param;

/**
 * {@code java -cp benchmarks.jar io.reskern.bench.BenchInfo}: one JSON object describing the software side of a run
 * (JVM, reskern native library and kernel ISA, ONNX Runtime version, cores) and the ResNet-50 conv shape table the
 * summary joins with {@link CpuConvBenchmark}'s results. Exits 1 if the benchmark's {@code @Param} list has drifted
 * from the shapes in reskern's graph.
 */
public final class BenchInfo {
    private BenchInfo() {
    }

    public static void main(String[] args) throws Exception {
        ConvShapes.checkCovers(CpuConvBenchmark.class.getField("layer").getAnnotation(Param.class).value());
        StringJoiner shapes = new StringJoiner(",\n    ", "[\n    ", "\n  ]");
        ConvShapes.all().forEach(s -> shapes.add(ConvShapes.json(s)));
        int f = CpuOps.features();
        String ort;
        try {
            ort = OrtEnvironment.getEnvironment().getVersion();
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            ort = "unavailable: " + e;
        }
        System.out.printf("{%n  \"java\": \"%s %s\",%n  \"available_processors\": %d,%n  \"reskern_cpu\": \"%s\",%n"
                        + "  \"reskern_kernel_isa\": \"%s\",%n  \"cpu_features\": \"%s\",%n  \"default_cpu_threads\": %d,%n"
                        + "  \"onnxruntime\": \"%s\",%n  \"conv_shapes\": %s%n}%n",
                System.getProperty("java.vm.name"), System.getProperty("java.runtime.version"),
                Runtime.getRuntime().availableProcessors(), CpuOps.version(), Devices.cpuKernelIsa(),
                ((f & 1) != 0 ? "avx2+fma " : "") + ((f & 2) != 0 ? "avx512f" : ""), Devices.cpuThreads(), ort, shapes);
    }
}
