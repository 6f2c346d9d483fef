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
    }
}
