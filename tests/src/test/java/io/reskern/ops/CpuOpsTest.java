package io.reskern.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.nativelib.CpuOps;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Every CPU op against its float64 reference (odd shapes, every ResNet-50 conv shape), and argument checking. */
class CpuOpsTest {
    private final CpuOpRunner cpu = new CpuOpRunner();

    @TestFactory
    Stream<DynamicTest> convolutions() {
        return OpCases.convTests(cpu, 1);
    }

    @TestFactory
    Stream<DynamicTest> otherOps() {
        return OpCases.otherOpTests(cpu);
    }

    @Test
    void convolutionsAreExactAcrossThreadCounts() throws Exception {
        OpCases.ConvCase cc = new OpCases.ConvCase("threads", 1, 14, 14, 64, 64, 3, 1, 1, 1, 1, true, true);
        int before = CpuOps.getThreads();
        try {
            CpuOps.setThreads(1);
            double e1 = OpCases.runConv(cpu, cc, 99);
            CpuOps.setThreads(2);
            double e2 = OpCases.runConv(cpu, cc, 99);
            assertTrue(e1 < 1e-5 && e2 < 1e-5);
        } finally {
            CpuOps.setThreads(before);
        }
    }

    @Test
    void badArgumentsReturnAStatusAndAMessage() {
        int st = CpuOps.conv2d(0, 1, 4, 4, 3, 0, 8, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4);
        assertEquals(1, st);
        assertNotEquals("", CpuOps.lastError());
        assertEquals(1, CpuOps.maxPool2d(0, 1, 4, 4, 3, 3, 3, 2, 1, 1, 0, 2, 2));
        assertEquals(0, CpuOps.convPackedSize(8, 6, 3, 3, 4), "groups must divide C");
    }

    /**
     * 3x3 stride-1 convs of 64..256 channels are packed for Winograd: F(4x4,3x3) up to 128 channels (36 transformed
     * taps per 4x4 output tile), F(2x2,3x3) above (16 per 2x2 tile; the wino* conv cases above run through both);
     * every other conv keeps the direct layout; Winograd weights refuse to run at another stride instead of computing
     * garbage.
     */
    @Test
    void winogradLayoutIsChosenForStride1ThreeByThreeOnly() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv("RESKERN_CPU_WINOGRAD") == null
                || "1".equals(System.getenv("RESKERN_CPU_WINOGRAD")), "the default tile choice (RESKERN_CPU_WINOGRAD unset or 1)");
        long hdr = 32;
        assertEquals(36L * 64 * 64 + hdr, CpuOps.convPackedSizeEx(64, 64, 3, 3, 1, 1), "3x3/1 C=64: Winograd F(4x4,3x3)");
        assertEquals(36L * 128 * 128 + hdr, CpuOps.convPackedSizeEx(128, 128, 3, 3, 1, 1), "3x3/1 C=128: Winograd F(4x4,3x3)");
        assertEquals(16L * 192 * 192 + hdr, CpuOps.convPackedSizeEx(192, 192, 3, 3, 1, 1), "3x3/1 C=192: Winograd F(2x2,3x3)");
        assertEquals(16L * 256 * 256 + hdr, CpuOps.convPackedSizeEx(256, 256, 3, 3, 1, 1), "3x3/1 C=256: Winograd F(2x2,3x3)");
        assertEquals(9L * 64 * 64 + hdr, CpuOps.convPackedSizeEx(64, 64, 3, 3, 1, 2), "stride 2: direct");
        assertEquals(9L * 64 * 64 + hdr, CpuOps.convPackedSize(64, 64, 3, 3, 1), "stride unknown: direct");
        assertEquals(9L * 512 * 512 + hdr, CpuOps.convPackedSizeEx(512, 512, 3, 3, 1, 1), "C=512 (weight-bound at 7x7): direct");
        assertEquals(9L * 16 * 32 + hdr, CpuOps.convPackedSizeEx(16, 32, 3, 3, 1, 1), "C=32: direct");
        assertEquals(64L * 64 + hdr, CpuOps.convPackedSizeEx(64, 64, 1, 1, 1, 1), "1x1: direct");
        // the output-size hint: 256 < C <= 512 gets F(2x2,3x3) from 196 pixels (14x14) on, nothing else changes
        assertEquals(16L * 512 * 512 + hdr, CpuOps.convPackedSizeHint(512, 512, 3, 3, 1, 1, 196), "C=512 at 14x14: F(2x2,3x3)");
        assertEquals(16L * 320 * 320 + hdr, CpuOps.convPackedSizeHint(320, 320, 3, 3, 1, 1, 28 * 28), "C=320 at 28x28: F(2x2,3x3)");
        assertEquals(9L * 512 * 512 + hdr, CpuOps.convPackedSizeHint(512, 512, 3, 3, 1, 1, 49), "C=512 at 7x7: direct");
        assertEquals(9L * 512 * 512 + hdr, CpuOps.convPackedSizeHint(512, 512, 3, 3, 1, 1, 195), "C=512, 195 pixels: direct");
        assertEquals(9L * 512 * 512 + hdr, CpuOps.convPackedSizeHint(512, 512, 3, 3, 1, 1, 0), "C=512, size unknown: direct");
        assertEquals(9L * 576 * 576 + hdr, CpuOps.convPackedSizeHint(576, 576, 3, 3, 1, 1, 196), "C=576: direct");
        assertEquals(9L * 512 * 512 + hdr, CpuOps.convPackedSizeHint(512, 512, 3, 3, 1, 2, 196), "C=512 stride 2: direct");
        assertEquals(16L * 256 * 256 + hdr, CpuOps.convPackedSizeHint(256, 256, 3, 3, 1, 1, 49), "C=256 at 7x7: F(2x2,3x3) as before");
        assertEquals(36L * 64 * 64 + hdr, CpuOps.convPackedSizeHint(64, 64, 3, 3, 1, 1, 196), "C=64 with a hint: F(4x4,3x3)");
        int k = 64;
        int c = 64;
        try (org.bytedeco.javacpp.FloatPointer w = new org.bytedeco.javacpp.FloatPointer(k * 9 * c);
             org.bytedeco.javacpp.FloatPointer packed = new org.bytedeco.javacpp.FloatPointer(CpuOps.convPackedSizeEx(k, c, 3, 3, 1, 1));
             org.bytedeco.javacpp.FloatPointer x = new org.bytedeco.javacpp.FloatPointer(8 * 8 * c);
             org.bytedeco.javacpp.FloatPointer y = new org.bytedeco.javacpp.FloatPointer(8 * 8 * k)) {
            w.zero();
            x.zero();
            assertEquals(0, CpuOps.convPackEx(w.address(), k, c, 3, 3, 1, 1, packed.address()), CpuOps.lastError());
            assertEquals(0, CpuOps.conv2d(x.address(), 1, 8, 8, c, packed.address(), k, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0,
                    y.address(), 8, 8), CpuOps.lastError());
            assertEquals(1, CpuOps.conv2d(x.address(), 1, 8, 8, c, packed.address(), k, 3, 3, 2, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0,
                    y.address(), 4, 4));
            assertTrue(CpuOps.lastError().contains("stride-1"), CpuOps.lastError());
        }
    }

    @Test
    void resampleRejectsTapsOutsideTheImage() {
        // 4x4 RGB image, 2x2 output; taps in one native block: ys, ny, xs, nx (2 ints each), wy, wx (2x1), mean, std
        try (org.bytedeco.javacpp.BytePointer x = new org.bytedeco.javacpp.BytePointer(48);
             org.bytedeco.javacpp.IntPointer ti = new org.bytedeco.javacpp.IntPointer(0, 1, 1, 1, 0, 1, 1, 1);
             org.bytedeco.javacpp.FloatPointer tw = new org.bytedeco.javacpp.FloatPointer(1, 1, 1, 1, 0, 0, 0, 1, 1, 1);
             org.bytedeco.javacpp.FloatPointer y = new org.bytedeco.javacpp.FloatPointer(12)) {
            long ys = ti.address();
            long ny = ys + 8;
            long xs = ys + 16;
            long nx = ys + 24;
            long wy = tw.address();
            long wx = wy + 8;
            long mean = wy + 16;
            long std = wy + 28;
            assertEquals(0, CpuOps.resampleNormalizeU8(x.address(), 4, 4, 12, 3, 0, 1, 2, ys, ny, wy, 1, xs, nx, wx, 1, mean, std,
                    y.address(), 2, 2), CpuOps.lastError());
            ti.put(1, 4); // second row tap starts at row 4 of 4
            assertEquals(1, CpuOps.resampleNormalizeU8(x.address(), 4, 4, 12, 3, 0, 1, 2, ys, ny, wy, 1, xs, nx, wx, 1, mean, std,
                    y.address(), 2, 2));
            assertTrue(CpuOps.lastError().contains("row tap 1"), CpuOps.lastError());
            ti.put(1, 1);
            assertEquals(1, CpuOps.resampleNormalizeU8(x.address(), 4, 4, 11, 3, 0, 1, 2, ys, ny, wy, 1, xs, nx, wx, 1, mean, std,
                    y.address(), 2, 2), "row stride below W * pixel stride");
            assertEquals(1, CpuOps.resampleNormalizeU8(x.address(), 4, 4, 12, 3, 0, 1, 3, ys, ny, wy, 1, xs, nx, wx, 1, mean, std,
                    y.address(), 2, 2), "channel offset outside the pixel");
        }
    }

    @Test
    void reportsItsKernel() {
        assertTrue(Stream.of("avx512", "avx2", "scalar").anyMatch(s -> CpuOps.kernelIsa().startsWith(s)), CpuOps.kernelIsa());
        // the narrowed runs (tests/pom.xml: cpu-isa-avx2, cpu-isa-scalar) must really run the narrower kernel
        String want = System.getenv("RESKERN_CPU_ISA");
        if (want != null && !want.isEmpty()) {
            String got = CpuOps.kernelIsa();
            assertTrue(got.startsWith(want) || got.startsWith("scalar"), "RESKERN_CPU_ISA=" + want + " but the kernel is " + got);
            System.out.println("[cpu-isa] RESKERN_CPU_ISA=" + want + ": kernel " + got);
        }
        // the run on the AVX-512-emulation test build (tests/pom.xml: cpu-isa-avx512-emulated, which preloads
        // native/lab/avx512emu's library) must really have that library and its AVX-512 kernels
        if ("avx512-emulated".equals(System.getenv("RESKERN_EXPECT_KERNEL"))) {
            assertTrue(CpuOps.version().contains("emulated"), "expected the AVX-512-emulation test build of libreskern_cpu "
                    + "(LD_PRELOAD; needs libsimde-dev: scripts/install-deps.sh), got " + CpuOps.version());
            assertEquals("avx512", CpuOps.kernelIsa(), CpuOps.version());
            System.out.println("[cpu-isa] " + CpuOps.version() + ": kernel " + CpuOps.kernelIsa());
        }
    }
}
