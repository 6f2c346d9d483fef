package io.reskern.backend.cudnn;

import io.reskern.Devices;
import java.util.logging.Logger;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudnn;

/**
 * Loads cuDNN and cuBLAS through the JavaCPP presets — once per process, lazily, only after reskern's own CUDA probe
 * ({@link Devices#cuda()}) found a usable GPU — and checks their versions before any other call. Whatever fails
 * (no presets on the class path, no driver, no {@code libcudart.so.13}, no cuDNN 9 / cuBLAS 13 on the library path, a
 * version reskern does not know) becomes {@link Status#available()} = false with the reason, logged once; callers
 * then use reskern's own kernels. See {@code package-info.java} for which native libraries and symbols are involved.
 */
public final class Cudnn {
    private static final Logger LOG = Logger.getLogger(Cudnn.class.getName());
    /** cuDNN 9.0.0: every function reskern calls exists since then (the legacy conv / BN / tensor API). */
    public static final long MIN_CUDNN = 90000;
    /** cuBLAS major version of the presets' {@code libcublas.so.13}. */
    public static final int CUBLAS_MAJOR = 13;

    /** Outcome of loading. Versions: cuDNN as {@code cudnnGetVersion()} (e.g. 91300), cuBLAS as major·10000+minor·100+patch. */
    public record Status(boolean available, long cudnnVersion, long cudnnCudartVersion, int cublasVersion, String reason) {
        public String describe() {
            return available ? "cuDNN " + dotted(cudnnVersion) + " (built for CUDA " + cudnnCudartVersion + "), cuBLAS "
                    + dotted(cublasVersion) : "cuDNN not available: " + reason;
        }
    }

    private static volatile Status status;

    private Cudnn() {
    }

    /** 91300 → "9.13.0"; 130100 → "13.1.0". */
    public static String dotted(long v) {
        return (v / 10000) + "." + (v / 100 % 100) + "." + (v % 100);
    }

    /**
     * Loads the presets once (after the GPU probe) and returns the outcome; never throws. The first call logs one line:
     * INFO with the versions, or WARNING "cuDNN not available …, using reskern's own kernels".
     */
    public static Status status() {
        Status s = status;
        if (s == null) {
            synchronized (Cudnn.class) {
                s = status;
                if (s == null) {
                    s = load(true);
                    if (s.available()) {
                        LOG.info(s.describe());
                    } else {
                        LOG.warning("cuDNN not available (" + s.reason() + "): using reskern's own kernels");
                    }
                    status = s;
                }
            }
        }
        return s;
    }

    /**
     * The loading itself. {@code requireGpu = false} skips reskern's GPU gate: only for tests on machines without a
     * GPU, where loading must fail cleanly (no driver: {@code libjnicudart.so} cannot find {@code libcuda.so.1}).
     */
    static Status load(boolean requireGpu) {
        if (Boolean.getBoolean("reskern.disableCudnn")) {
            return new Status(false, 0, 0, 0, "disabled by -Dreskern.disableCudnn=true");
        }
        if (requireGpu) {
            Devices.CudaProbe p = Devices.cuda();
            if (!p.usable()) {
                return new Status(false, 0, 0, 0, "no usable GPU (" + p.reason() + "); the presets were not loaded");
            }
        }
        try {
            // Loads the presets' JNI libraries: libjnicudart.so (needs libcuda.so.1 + libcudart.so.13), libjnicublas.so
            // (libcublas.so.13, libcublasLt.so.13), libjnicudnn.so (libcudnn_{graph,ops,cnn,adv}.so.9). The JNI code is
            // bound lazily: a function the loaded library lacks fails only when called, and kills the JVM then
            // ("symbol lookup error"), so only functions present in every version accepted below are ever called.
            Class.forName("org.bytedeco.cuda.global.cudnn");
            long v = cudnn.cudnnGetVersion();                    // in every cuDNN
            long cudart = cudnn.cudnnGetCudartVersion();         // since cuDNN 6
            if (v < MIN_CUDNN || v >= 100000) {
                return new Status(false, v, cudart, 0, "cuDNN " + dotted(v) + " loaded; reskern needs cuDNN 9.x");
            }
            Class.forName("org.bytedeco.cuda.global.cublas");
            int[] maj = new int[1];
            int[] min = new int[1];
            int[] pat = new int[1];
            if (cublas.cublasGetProperty(0, maj) != 0 || cublas.cublasGetProperty(1, min) != 0
                    || cublas.cublasGetProperty(2, pat) != 0) {         // MAJOR_VERSION, MINOR_VERSION, PATCH_LEVEL
                return new Status(false, v, cudart, 0, "cublasGetProperty failed");
            }
            int cb = maj[0] * 10000 + min[0] * 100 + pat[0];
            if (maj[0] != CUBLAS_MAJOR) {
                return new Status(false, v, cudart, cb, "cuBLAS " + dotted(cb) + " loaded; reskern needs cuBLAS 13.x");
            }
            return new Status(true, v, cudart, cb, "");
        } catch (ClassNotFoundException e) {
            return new Status(false, 0, 0, 0, "the JavaCPP CUDA presets (org.bytedeco:cuda) are not on the class path");
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            String msg = String.valueOf(root.getMessage());
            return new Status(false, 0, 0, 0, e.getClass().getSimpleName() + ": " + (msg.length() > 300 ? msg.substring(0, 300) + "…" : msg));
        }
    }

    /** Tests only: loading without the GPU gate must fail cleanly on a machine without a GPU. */
    public static Status loadWithoutGpuGateForTests() {
        return load(false);
    }
}
