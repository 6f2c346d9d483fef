package io.reskern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.serve.Predictor;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * No driver, an old driver, no GPU, a build without CUDA: {@code auto} falls back to the CPU with one log line; an
 * explicit {@code cuda[:i]} is a {@link ReskernException} ({@code NO_DEVICE}) that says why. The probe results are
 * simulated (this machine has no GPU); the real no-driver case is what CI itself runs on.
 */
class DeviceFallbackTest {
    @AfterEach
    void realProbe() {
        Devices.setProbeForTesting(null);
    }

    private static List<LogRecord> capture(Runnable r) {
        List<LogRecord> seen = new ArrayList<>();
        Logger log = Logger.getLogger(Devices.class.getName());
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord rec) {
                seen.add(rec);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(h);
        try {
            r.run();
        } finally {
            log.removeHandler(h);
        }
        return seen;
    }

    @Test
    void reasonsNameTheProblem() {
        String old = Devices.noDeviceReason(3, 13000, 12020, "cudaGetDeviceCount: CUDA driver version is insufficient");
        assertTrue(old.startsWith("the NVIDIA driver is too old: it supports CUDA 12.2, reskern's CUDA runtime is 13.0"), old);
        assertTrue(Devices.noDeviceReason(4, 13000, 0, "no device").startsWith("no CUDA driver or GPU"));
        assertEquals("built without CUDA", Devices.noDeviceReason(4, 0, 0, "built without CUDA"));
        assertEquals("boom", Devices.noDeviceReason(3, 13000, 13000, "boom")); // same major: not "too old"
    }

    @Test
    void autoFallsBackToTheCpuWithOneLogLine() throws Exception {
        String why = Devices.noDeviceReason(3, 13000, 12020, "CUDA driver version is insufficient for CUDA runtime version");
        Devices.setProbeForTesting(new Devices.CudaProbe(true, List.of(), 13000, 12020, why));
        List<LogRecord> logs = capture(() -> {
            assertEquals(Device.CPU, Device.parse("auto"));
            assertEquals(Device.CPU, Device.parse("auto"));
        });
        assertEquals(1, logs.size(), "one line, not one per call");
        assertTrue(logs.get(0).getMessage().contains("driver is too old"), logs.get(0).getMessage());
        try (Model m = Model.builder().model("cifar_resnet20").optDevice(Device.parse("auto")).build()) {
            assertEquals(Device.CPU, m.device());
        }
    }

    /** {@code auto} + bf16 without a GPU: the CPU's bf16 kernel where the CPU has AVX512_BF16, else UNSUPPORTED saying so. */
    @Test
    void autoWithBf16FallsBackToTheCpuBf16KernelOrSaysWhyNot() throws Exception {
        String why = Devices.noDeviceReason(3, 13000, 12020, "CUDA driver version is insufficient for CUDA runtime version");
        Devices.setProbeForTesting(new Devices.CudaProbe(true, List.of(), 13000, 12020, why));
        Model.Builder b = Model.builder().model("cifar_resnet20").optDevice(Device.parse("auto")).optPrecision(Precision.BF16);
        if (io.reskern.nativelib.CpuOps.bf16Supported() == 1) {
            try (Model m = b.build()) {
                assertEquals(Device.CPU, m.device());
                assertEquals(Precision.BF16, m.precision());
            }
        } else {
            ReskernException e = assertThrows(ReskernException.class, b::build);
            assertEquals(ReskernException.ErrorCode.UNSUPPORTED, e.code());
            assertTrue(e.getMessage().contains("AVX512_BF16"), e.getMessage());
        }
    }

    @Test
    void explicitCudaIsACheckedErrorThatSaysWhy() {
        String why = Devices.noDeviceReason(3, 13000, 12020, "CUDA driver version is insufficient for CUDA runtime version");
        Devices.setProbeForTesting(new Devices.CudaProbe(true, List.of(), 13000, 12020, why));
        ReskernException m = assertThrows(ReskernException.class,
                () -> Model.builder().model("cifar_resnet20").optDevice(Device.cuda(0)).build());
        assertEquals(ReskernException.ErrorCode.NO_DEVICE, m.code());
        assertTrue(m.getMessage().contains("driver is too old"), m.getMessage());
        ReskernException p = assertThrows(ReskernException.class,
                () -> Predictor.builder(Model.builder().model("cifar_resnet20").optDevice(Device.cuda(0))).build());
        assertEquals(ReskernException.ErrorCode.NO_DEVICE, p.code());
        ReskernException b = assertThrows(ReskernException.class, () -> DeviceBuffer.allocate(Device.cuda(0), 16));
        assertEquals(ReskernException.ErrorCode.NO_DEVICE, b.code());
    }

    @Test
    void aGpuIndexThatDoesNotExistIsNoDevice() {
        Devices.setProbeForTesting(new Devices.CudaProbe(true,
                List.of(new Devices.GpuInfo(0, "simulated", 9, 0, 132, 80L << 30, 79L << 30)), 13000, 13000, ""));
        ReskernException e = assertThrows(ReskernException.class,
                () -> Model.builder().model("cifar_resnet20").optDevice(Device.cuda(3)).build());
        assertEquals(ReskernException.ErrorCode.NO_DEVICE, e.code());
        assertTrue(e.getMessage().contains("only 1 CUDA device"), e.getMessage());
    }

    @Test
    void gpusOlderThanSm80AreNotUsable() {
        // the library holds sm_80/86/89/90 code + compute_90 PTX: on a T4 (7.5) or V100 (7.0) every kernel launch
        // failed with "no kernel image" after auto had picked the GPU; now auto runs on the CPU and says why
        Devices.GpuInfo t4 = new Devices.GpuInfo(0, "Tesla T4", 7, 5, 40, 15L << 30, 14L << 30);
        assertTrue(!t4.supported() && t4.unsupportedReason().contains("compute capability 7.5"), t4.unsupportedReason());
        String why = Devices.unusableReason(List.of(t4));
        Devices.setProbeForTesting(new Devices.CudaProbe(true, List.of(t4), 13000, 13000, why));
        assertTrue(!Devices.cuda().usable());
        List<LogRecord> logs = capture(() -> assertEquals(Device.CPU, Device.parse("auto")));
        assertEquals(1, logs.size());
        assertTrue(logs.get(0).getMessage().contains("no supported GPU: cuda:0 Tesla T4 has compute capability 7.5"),
                logs.get(0).getMessage());
        ReskernException m = assertThrows(ReskernException.class,
                () -> Model.builder().model("cifar_resnet20").optDevice(Device.cuda(0)).build());
        assertEquals(ReskernException.ErrorCode.NO_DEVICE, m.code());
        assertTrue(m.getMessage().contains("8.0 (Ampere) or newer"), m.getMessage());
    }

    @Test
    void autoTakesTheFirstSupportedGpuAndAnUnsupportedOneIsNoDevice() {
        Devices.GpuInfo t4 = new Devices.GpuInfo(0, "Tesla T4", 7, 5, 40, 15L << 30, 14L << 30);
        Devices.GpuInfo h100 = new Devices.GpuInfo(1, "H100", 9, 0, 132, 80L << 30, 79L << 30);
        assertEquals("", Devices.unusableReason(List.of(t4, h100)));
        Devices.setProbeForTesting(new Devices.CudaProbe(true, List.of(t4, h100), 13000, 13000, ""));
        assertEquals(Device.cuda(1), Device.parse("auto"));
        assertTrue(t4.toString().contains("not supported"), t4.toString());
        ReskernException m = assertThrows(ReskernException.class,
                () -> Model.builder().model("cifar_resnet20").optDevice(Device.cuda(0)).build());
        assertEquals(ReskernException.ErrorCode.NO_DEVICE, m.code());
        assertTrue(m.getMessage().startsWith("cannot use cuda:0: cuda:0 Tesla T4 has compute capability 7.5"), m.getMessage());
    }

    @Test
    void aGpuThatCannotBeQueriedKeepsItsIndexAndIsNotUsable() {
        // an exclusive-process GPU held by another process: device_info failed and the GPU was left out of the list,
        // so cuda:1 moved to position 0 ("only 1 CUDA device present" for cuda:1; cuda:0 meant the wrong GPU)
        Devices.GpuInfo busy = Devices.GpuInfo.unavailable(0, "cudaErrorDevicesUnavailable: CUDA-capable device(s) is/are busy");
        Devices.GpuInfo h100 = new Devices.GpuInfo(1, "H100", 9, 0, 132, 80L << 30, 79L << 30);
        assertTrue(!busy.supported() && busy.toString().startsWith("cuda:0 unavailable (cudaErrorDevicesUnavailable"),
                busy.toString());
        assertTrue(Devices.unusableReason(List.of(busy)).contains("cuda:0 is unavailable (cudaErrorDevicesUnavailable"),
                Devices.unusableReason(List.of(busy)));
        Devices.setProbeForTesting(new Devices.CudaProbe(true, List.of(busy, h100), 13000, 13000, ""));
        assertEquals(Device.cuda(1), Device.parse("auto"));
        ReskernException m = assertThrows(ReskernException.class,
                () -> Model.builder().model("cifar_resnet20").optDevice(Device.cuda(0)).build());
        assertEquals(ReskernException.ErrorCode.NO_DEVICE, m.code());
        assertTrue(m.getMessage().contains("is unavailable (cudaErrorDevicesUnavailable"), m.getMessage());
    }

    @Test
    void gpuNameStopsAtTheTerminatingNul() {
        // the device-info buffer is 256 bytes; BytePointer.getString() alone returned every one of them (the name was
        // followed by whatever the buffer held: seen under the CUDA emulation, native/lab/emu/run_java_emu.sh)
        try (org.bytedeco.javacpp.BytePointer p = new org.bytedeco.javacpp.BytePointer(16)) {
            p.put(new byte[] {'H', '1', '0', '0', 0, 'x', 'y', 'z', 1, 2, 3, 4, 5, 6, 7, 8});
            assertEquals("H100", Devices.cString(p));
        }
    }
}
