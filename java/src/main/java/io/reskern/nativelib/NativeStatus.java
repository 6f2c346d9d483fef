package io.reskern.nativelib;

/** The {@code rk_status} codes of {@code reskern_cpu.h} / {@code reskern_cuda.h}. */
public enum NativeStatus {
    OK(0), INVALID_ARG(1), UNSUPPORTED(2), CUDA(3), NO_DEVICE(4), OUT_OF_MEMORY(5), UNKNOWN(-1);

    public final int code;

    NativeStatus(int code) {
        this.code = code;
    }

    public static NativeStatus of(int code) {
        for (NativeStatus s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        return UNKNOWN;
    }
}
