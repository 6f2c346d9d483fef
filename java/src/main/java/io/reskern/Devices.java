package io.reskern;

import io.reskern.nativelib.CpuOps;
import io.reskern.nativelib.CudaOps;
import io.reskern.nativelib.NativeStatus;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;

/**
 * What this process can run on. The CUDA library links the CUDA runtime statically, so probing is safe on machines
 * with no driver or GPU: the answer is then "no CUDA devices" with the reason, never a crash.
 */
public final class Devices {
    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(Devices.class.getName());
    private static volatile CudaProbe probe;
    private static volatile boolean fallbackLogged;

    private Devices() {
    }

    /**
     * Oldest compute capability reskern's CUDA kernels run on (major version): they use sm_80 instructions (mma.sync
     * bf16/tf32, cp.async) and the library holds sm_80/86/89/90 code plus compute_90 PTX (newer GPUs JIT it).
     */
    public static final int MIN_CC_MAJOR = 8;

    /**
     * Facts about one GPU. {@code freeMem} is -1 when it was not read: the probe ({@link Devices#cuda()}) does not
     * read it, since that would create a CUDA context (memory) on every GPU of the machine. {@code ccMajor} is -1 for
     * a device whose properties could not be read at all ({@link #unavailable}; {@code name} then holds the error).
     */
    public record GpuInfo(int index, String name, int ccMajor, int ccMinor, int smCount, long totalMem, long freeMem) {
        /** A device the CUDA runtime counts but cannot describe: never {@link #supported()}. */
        static GpuInfo unavailable(int index, String error) {
            return new GpuInfo(index, "unavailable (" + error + ")", -1, -1, 0, 0, -1);
        }

        /** Whether reskern's CUDA kernels run on it (compute capability 8.0 or newer). */
        public boolean supported() {
            return ccMajor >= MIN_CC_MAJOR;
        }

        /** Why it cannot be used, or "" when {@link #supported()}. */
        public String unsupportedReason() {
            if (ccMajor < 0) {
                return "cuda:" + index + " is " + name;
            }
            return supported() ? "" : String.format(java.util.Locale.ROOT,
                    "cuda:%d %s has compute capability %d.%d; reskern's CUDA kernels need %d.0 (Ampere) or newer",
                    index, name, ccMajor, ccMinor, MIN_CC_MAJOR);
        }

        @Override
        public String toString() {
            if (ccMajor < 0) {
                return "cuda:" + index + " " + name;
            }
            return String.format(java.util.Locale.ROOT, "cuda:%d %s (sm_%d%d, %d SMs, %.1f GiB)%s", index, name, ccMajor, ccMinor,
                    smCount, totalMem / (1024.0 * 1024 * 1024), supported() ? "" : " not supported: needs sm_80 or newer");
        }
    }

    /**
     * Result of probing the CUDA library and driver. {@code gpus} lists every GPU present (index = CUDA device index),
     * supported or not; {@link #usable()} is true when at least one of them is {@link GpuInfo#supported()}.
     */
    public record CudaProbe(boolean libraryLoaded, List<GpuInfo> gpus, int runtimeVersion, int driverVersion, String reason) {
        public boolean usable() {
            return firstSupported() >= 0;
        }

        /** Index of the first supported GPU, -1 when none is. */
        public int firstSupported() {
            for (GpuInfo g : gpus) {
                if (g.supported()) {
                    return g.index();
                }
            }
            return -1;
        }
    }

    /** Probes CUDA once per process (cached). */
    public static CudaProbe cuda() {
        CudaProbe p = probe;
        if (p == null) {
            synchronized (Devices.class) {
                p = probe;
                if (p == null) {
                    p = doProbe();
                    probe = p;
                }
            }
        }
        return p;
    }

    private static CudaProbe doProbe() {
        if (Boolean.getBoolean("reskern.disableCuda")) {
            return new CudaProbe(false, List.of(), 0, 0, "disabled by -Dreskern.disableCuda=true");
        }
        try {
            IntPointer rt = new IntPointer(1);
            IntPointer drv = new IntPointer(1);
            CudaOps.versions(rt, drv);
            IntPointer count = new IntPointer(1);
            int st = CudaOps.deviceCount(count);
            if (st != 0) {
                String why = noDeviceReason(st, rt.get(), drv.get(), CudaOps.lastError());
                return new CudaProbe(true, List.of(), rt.get(), drv.get(), why);
            }
            List<GpuInfo> gpus = new ArrayList<>();
            for (int i = 0; i < count.get(); i++) {
                BytePointer name = new BytePointer(256);
                IntPointer ma = new IntPointer(1);
                IntPointer mi = new IntPointer(1);
                IntPointer sm = new IntPointer(1);
                LongPointer tot = new LongPointer(1);
                // free memory is not asked for: reading it needs a CUDA context on that GPU (~0.5 GiB of its
                // memory, kept for the life of the process), and the probe would make one on every GPU of the machine
                if (CudaOps.deviceInfo(i, name, 256, ma, mi, sm, tot, null) == 0) {
                    gpus.add(new GpuInfo(i, cString(name), ma.get(), mi.get(), sm.get(), tot.get(), -1));
                } else { // keep list position == device index (cuda:i looks up gpus().get(i)); unusable
                    gpus.add(GpuInfo.unavailable(i, CudaOps.lastError()));
                }
            }
            return new CudaProbe(true, gpus, rt.get(), drv.get(), unusableReason(gpus));
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
            return new CudaProbe(false, List.of(), 0, 0, "CUDA library not available in this build ("
                    + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
        }
    }

    /** "" when a GPU of the list is supported, else why none can be used. */
    static String unusableReason(List<GpuInfo> gpus) {
        if (gpus.isEmpty()) {
            return "no CUDA devices";
        }
        List<String> why = new ArrayList<>();
        for (GpuInfo g : gpus) {
            if (g.supported()) {
                return "";
            }
            why.add(g.unsupportedReason());
        }
        return "no supported GPU: " + String.join("; ", why);
    }

    /** The NUL-terminated string in a sized buffer (getString() would return all of its bytes, garbage included). */
    static String cString(BytePointer p) {
        String s = p.getString();
        int end = s.indexOf('\0');
        return end >= 0 ? s.substring(0, end) : s;
    }

    /**
     * The best device present: the first supported GPU (compute capability 8.0+), else the CPU. Falling back to the
     * CPU logs one line with the reason (once per process): no driver, a driver too old for the CUDA runtime, no GPU,
     * only GPUs older than sm_80, or a build without CUDA.
     */
    public static Device best() {
        CudaProbe p = cuda();
        if (p.usable()) {
            return Device.cuda(p.firstSupported());
        }
        if (!fallbackLogged) {
            fallbackLogged = true;
            LOG.info("reskern: no usable GPU (" + p.reason() + "): running on the CPU");
        }
        return Device.CPU;
    }

    /** Replaces the probe result (tests simulate drivers and GPUs with it); {@code null} probes again. */
    static synchronized void setProbeForTesting(CudaProbe p) {
        probe = p;
        fallbackLogged = false;
    }

    /**
     * Why a device count query failed, in words: the no-CUDA stand-in library (runtime version 0), a driver older than
     * the runtime, no driver or no GPU, or the CUDA error itself.
     */
    static String noDeviceReason(int status, int runtime, int driver, String lastError) {
        if (runtime == 0) {
            return lastError;
        }
        if (driverTooOld(runtime, driver)) {
            return "the NVIDIA driver is too old: it supports CUDA " + version(driver) + ", reskern's CUDA runtime is "
                    + version(runtime) + " (update the driver; " + lastError + ")";
        }
        if (NativeStatus.of(status) == NativeStatus.NO_DEVICE) {
            return "no CUDA driver or GPU (" + lastError + ")";
        }
        return lastError;
    }

    /** A driver that supports an older CUDA major version than the runtime's cannot run it (no minor-version compat). */
    static boolean driverTooOld(int runtime, int driver) {
        return driver > 0 && runtime > 0 && driver / 1000 < runtime / 1000;
    }

    static String version(int v) {
        return v / 1000 + "." + v % 1000 / 10;
    }

    /** Name of the CPU conv micro-kernel the native library dispatches to. */
    public static String cpuKernelIsa() {
        return CpuOps.kernelIsa();
    }

    /** Number of CPU threads the native kernels use. */
    public static int cpuThreads() {
        return CpuOps.getThreads();
    }

    /** Sets the number of CPU threads the native kernels use (0 = all cores). Process-wide. */
    public static void setCpuThreads(int n) {
        CpuOps.setThreads(n);
    }
}
