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
    void reportsItsKernel() {
        assertTrue(Stream.of("avx512", "avx2", "scalar").anyMatch(s -> CpuOps.kernelIsa().startsWith(s)), CpuOps.kernelIsa());
    }
}
