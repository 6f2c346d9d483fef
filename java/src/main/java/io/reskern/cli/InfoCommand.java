package io.reskern.cli;

import io.reskern.Devices;
import io.reskern.nativelib.CpuOps;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code reskern info}: devices, native libraries, CPU features. */
@Command(name = "info", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = "Show devices, native libraries and CPU features.")
final class InfoCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.out.println(new Main.Version().getVersion()[0]);
        System.out.printf(Locale.ROOT, "java        %s (%s)%n", System.getProperty("java.version"), System.getProperty("java.vm.name"));
        System.out.printf(Locale.ROOT, "os          %s %s%n", System.getProperty("os.name"), System.getProperty("os.arch"));
        int f = CpuOps.features();
        System.out.printf(Locale.ROOT, "cpu library %s, conv kernel %s, %d threads, features:%s%s%s%n", CpuOps.version(),
                CpuOps.kernelIsa(), CpuOps.getThreads(), (f & 1) != 0 ? " avx2+fma" : "", (f & 2) != 0 ? " avx512f" : "",
                (f & 4) != 0 ? " avx512_bf16" : "");
        System.out.println("cpu precisions fp32" + (CpuOps.bf16Supported() == 1 ? ", bf16 (AVX512_BF16 kernel)"
                : " (bf16 needs AVX512_BF16 and the AVX-512 kernels)"));
        Devices.CudaProbe p = Devices.cuda();
        if (!p.libraryLoaded()) {
            System.out.println("cuda        not available: " + p.reason());
        } else if (p.runtimeVersion() == 0) { // the no-CUDA stand-in library: there is no runtime to name
            System.out.println("cuda        not built: " + p.reason());
        } else {
            System.out.printf(Locale.ROOT, "cuda        library loaded (runtime %s, driver %s)%n", version(p.runtimeVersion()),
                    p.driverVersion() == 0 ? "none" : version(p.driverVersion()));
            if (!p.usable()) {
                System.out.println("            no usable GPU: " + p.reason());
            }
            for (Devices.GpuInfo g : p.gpus()) {
                System.out.println("            " + g);
            }
        }
        System.out.println("default     --device auto = " + Devices.best());
        return 0;
    }

    private static String version(int v) {
        return v / 1000 + "." + (v % 1000) / 10;
    }
}
