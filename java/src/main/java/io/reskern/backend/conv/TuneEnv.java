package io.reskern.backend.conv;

/**
 * Everything besides the problem that decides which kernel is fastest, so a cached choice is reused only where it
 * was measured: the GPU (name, compute capability, SM count), the driver and reskern's CUDA runtime, reskern's
 * version and a hash of its CUDA library (a rebuilt kernel invalidates the cache), cuDNN and cuBLAS versions (0 when
 * absent). Pure data.
 */
public record TuneEnv(String gpu, int ccMajor, int ccMinor, int smCount, int driverVersion, int runtimeVersion,
                      String reskernVersion, String kernelHash, long cudnnVersion, int cublasVersion) {

    /** Stable text form, the first part of every cache key. */
    public String canonical() {
        return "gpu=" + gpu + ";cc=" + ccMajor + "." + ccMinor + ";sm=" + smCount + ";driver=" + driverVersion + ";cudart="
                + runtimeVersion + ";reskern=" + reskernVersion + "+" + kernelHash + ";cudnn=" + cudnnVersion + ";cublas="
                + cublasVersion;
    }

    /** The cache key of one problem in one precision: {@code env | precision | problem}. */
    public String key(String precision, String problemCanonical) {
        return canonical() + "|" + precision + "|" + problemCanonical;
    }
}
