package io.reskern.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.Device;
import io.reskern.Model;
import io.reskern.Precision;
import io.reskern.ResNetSpec;
import io.reskern.ReskernException;
import io.reskern.e2e.Goldens;
import io.reskern.io.Npy;
import io.reskern.io.NpyArray;
import io.reskern.ops.Reference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every variant end-to-end on CUDA against the CPU backend (same seeded weights, odd input sizes) in every
 * precision; CUDA-graph replay is bit-identical to the eager run; PyTorch/timm goldens (when the GPU bundle made them)
 * on CUDA fp32. Skips without a GPU. Under the host emulation ({@link Gpu#emulated}) the ImageNet variants run at
 * 35×29 instead of 67×53 and the graph-replay test at 32×32 instead of 224×224; every variant, precision, tolerance
 * and golden case stays.
 */
@Tag("gpu")
@ExtendWith(GpuCondition.class)
class CudaModelTest {
    static final List<String> MODELS = List.of("resnet18", "resnet50", "resnet50_v1", "resnet50c", "resnet50d", "resnet18d",
            "resnetv2_50", "resnetv2_18", "cifar_resnet20", "cifar_resnet20:B", "resnext50_32x4d", "wide_resnet50_2");

    @BeforeAll
    static void gpu() {
        Gpu.require(); // class-level: without a GPU every test here is reported skipped, with the reason
    }

    static double tolerance(Precision p) {
        return switch (p) {
            case FP32 -> 1e-4;
            case TF32 -> 1e-2;
            case FP16 -> 2e-2;
            case BF16 -> 6e-2;
        };
    }

    static Model.Builder builder(String name) {
        String[] parts = name.split(":");
        Model.Builder b = Model.builder().model(parts[0]).optSeed(7);
        if (parts.length > 1) {
            b.optShortcut(ResNetSpec.Shortcut.PROJECTION);
        }
        if (!parts[0].startsWith("cifar")) {
            b.optClasses(100);
        }
        return b;
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
    Stream<DynamicTest> everyVariantMatchesTheCpuBackend() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String m : MODELS) {
            boolean cifar = m.startsWith("cifar");
            int n = 2;
            int h = cifar ? 33 : Gpu.scale(67, 35);
            int w = cifar ? 31 : Gpu.scale(53, 29);
            tests.add(DynamicTest.dynamicTest(m, () -> {
                float[] x = input(n, h, w);
                float[] ref;
                try (Model cpu = builder(m).optDevice(Device.CPU).build()) {
                    ref = cpu.predict(x, n, h, w);
                }
                double[] refD = new double[ref.length];
                for (int i = 0; i < ref.length; i++) {
                    refD[i] = ref[i];
                }
                StringBuilder sb = new StringBuilder();
                for (Precision p : Precision.values()) {
                    try (Model gpu = builder(m).optDevice(Device.cuda(0)).optPrecision(p).build()) {
                        float[] y = gpu.predict(x, n, h, w);
                        double e = Reference.relError(y, refD);
                        sb.append(String.format("%s=%.2e ", p, e));
                        assertTrue(e <= tolerance(p), m + " " + p + ": rel err " + e);
                    }
                }
                System.out.println("[cuda-vs-cpu] " + m + " " + sb);
            }));
        }
        return tests.stream();
    }

    @Test
    void graphReplayIsBitIdenticalAndBatchSizesCanChange() throws Exception {
        int s = Gpu.scale(224, 32);
        try (Model m = Model.builder().model("resnet50").optDevice(Device.cuda(0)).optPrecision(Precision.FP16).build()) {
            float[] x = input(4, s, s);
            float[] first = m.predict(x, 4, s, s);   // eager
            float[] second = m.predict(x, 4, s, s);  // captured graph
            float[] third = m.predict(x, 4, s, s);
            assertArrayEquals(first, second);
            assertArrayEquals(second, third);
            float[] one = m.predict(java.util.Arrays.copyOf(x, 3 * s * s), 1, s, s);
            for (int i = 0; i < one.length; i++) {
                assertEquals(first[i], one[i], 2e-2 * (1 + Math.abs(first[i])), "batch 1 vs row 0 of batch 4");
            }
            float[] again = m.predict(x, 4, s, s);
            assertArrayEquals(first, again);
        }
    }

    @Test
    void buffersGrowAndTheGraphsCapturedBeforeAreReplaced() throws Exception {
        // batch 1 is captured; a bigger batch, then a bigger image, grow the arena and the staging buffers (the graphs
        // captured so far hold the old addresses); every size must still give its first logits, eager and replayed
        int s = Gpu.scale(96, 32);
        int big = s + 17;
        try (Model m = Model.builder().model("resnet18").optClasses(10).optSeed(5).optDevice(Device.cuda(0))
                .optPrecision(Precision.FP16).build();
             Model cpu = Model.builder().model("resnet18").optClasses(10).optSeed(5).optDevice(Device.CPU).build()) {
            float[] x1 = input(1, s, s);
            float[] x4 = input(4, s, s);
            float[] xb = input(1, big, big);
            float[] a = m.predict(x1, 1, s, s);
            assertArrayEquals(a, m.predict(x1, 1, s, s), "batch 1 replayed");
            float[] c = m.predict(x4, 4, s, s);
            float[] d = m.predict(xb, 1, big, big);
            for (int k = 0; k < 2; k++) { // eager after the growth, then the re-captured graph
                assertArrayEquals(a, m.predict(x1, 1, s, s), "batch 1 after the buffers grew, run " + k);
                assertArrayEquals(c, m.predict(x4, 4, s, s), "batch 4, run " + k);
                assertArrayEquals(d, m.predict(xb, 1, big, big), big + "x" + big + ", run " + k);
            }
            for (float[][] yx : new float[][][] {{a, x1}, {c, x4}}) {
                int n = yx[1].length / (3 * s * s);
                double[] ref = toDouble(cpu.predict(yx[1], n, s, s));
                assertTrue(Reference.relError(yx[0], ref) <= tolerance(Precision.FP16), "batch " + n + " vs the CPU");
            }
            assertTrue(Reference.relError(d, toDouble(cpu.predict(xb, 1, big, big))) <= tolerance(Precision.FP16));
            // a replay reads the newly staged input (and waits for its own logits): another image, not the last one
            float[] other = java.util.Arrays.copyOfRange(x4, 3 * 3 * s * s, 4 * 3 * s * s);
            double[] ref = toDouble(cpu.predict(other, 1, s, s));
            assertTrue(Reference.relError(m.predict(other, 1, s, s), ref) <= tolerance(Precision.FP16), "replay, new input");
        }
    }

    static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    @Test
    void closedModelAndBadDevice() throws Exception {
        Model m = Model.builder().model("cifar_resnet20").optDevice(Device.cuda(0)).build();
        m.close();
        assertThrows(IllegalStateException.class, () -> m.predict(input(1, 32, 32), 1, 32, 32));
        ReskernException e = assertThrows(ReskernException.class,
                () -> Model.builder().model("cifar_resnet20").optDevice(Device.cuda(99)).build());
        assertEquals(ReskernException.ErrorCode.NO_DEVICE, e.code());
    }

    @TestFactory
    Stream<DynamicTest> pytorchGoldensOnCuda() throws Exception {
        Path dir = Path.of(System.getProperty("reskern.gpuGoldens", System.getProperty("reskern.goldens", "target/goldens")));
        if (!Files.isRegularFile(dir.resolve("manifest.json"))) {
            return Stream.of(DynamicTest.dynamicTest("no goldens in " + dir, () -> org.junit.jupiter.api.Assumptions.assumeTrue(false,
                    "no PyTorch goldens in " + dir)));
        }
        System.setProperty("reskern.goldens", dir.toString());
        List<DynamicTest> tests = new ArrayList<>();
        for (Goldens.Case c : Goldens.load()) {
            tests.add(DynamicTest.dynamicTest("cuda fp32 " + c.caseName(), () -> {
                NpyArray x = Npy.read(dir.resolve(c.input()));
                NpyArray ref = Npy.read(dir.resolve(c.expected()));
                long[] s = x.shape();
                Model.Builder b = Model.builder().model(c.model()).optClasses(c.classes()).optWeights(c.weightsPath(dir))
                        .optDevice(Device.cuda(0));
                if ("B".equals(c.shortcut())) {
                    b.optShortcut(ResNetSpec.Shortcut.PROJECTION);
                }
                try (Model m = b.build()) {
                    float[] y = m.predict(x.data(), (int) s[0], (int) s[2], (int) s[3]);
                    double[] r = new double[ref.data().length];
                    for (int i = 0; i < r.length; i++) {
                        r[i] = ref.data()[i];
                    }
                    double e = Reference.relError(y, r);
                    System.out.printf("[golden-cuda] %-28s rel err %.2e%n", c.caseName(), e);
                    assertTrue(e < 1e-4, c.caseName() + ": " + e);
                }
            }));
        }
        return tests.stream();
    }
}
