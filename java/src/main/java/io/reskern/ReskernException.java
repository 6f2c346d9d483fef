package io.reskern;

import io.reskern.nativelib.NativeStatus;

/**
 * The one checked exception of reskern: something about the environment or the data went wrong (a file, the
 * weights, the GPU). It carries an {@link ErrorCode}; native failures map from their {@code rk_status}.
 * Misuse of the API (a closed model, a wrong input length) throws unchecked exceptions instead
 * ({@link IllegalStateException}, {@link IllegalArgumentException}).
 */
public class ReskernException extends Exception {
    private static final long serialVersionUID = 1L;

    /** What kind of failure this is. */
    public enum ErrorCode {
        /** A native op rejected its arguments. */
        INVALID_ARGUMENT,
        /** Valid, but not supported by this build, device or kernel. */
        UNSUPPORTED,
        /** A CUDA call or kernel launch failed. */
        CUDA_ERROR,
        /** No usable GPU (no device, no driver, or the CUDA library is not built). */
        NO_DEVICE,
        /** Host or device memory could not be allocated. */
        OUT_OF_MEMORY,
        /** A file is malformed, truncated or hostile (safetensors, ONNX, npy). */
        BAD_FILE,
        /** Weights do not match the model: missing, unexpected or mis-shaped tensors. */
        WEIGHT_MISMATCH,
        /** Reading or writing a file failed. */
        IO,
        /**
         * A predictor's queue is full ({@code Predictor.Builder.optMaxQueued}): the request was not accepted; retry
         * later or shed load.
         */
        OVERLOADED,
        /** Anything else. */
        INTERNAL
    }

    private final ErrorCode code;

    public ReskernException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    public ReskernException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }

    /** Maps a native {@code rk_status} to an error code. */
    public static ErrorCode fromNative(int status) {
        switch (NativeStatus.of(status)) {
            case INVALID_ARG: return ErrorCode.INVALID_ARGUMENT;
            case UNSUPPORTED: return ErrorCode.UNSUPPORTED;
            case CUDA: return ErrorCode.CUDA_ERROR;
            case NO_DEVICE: return ErrorCode.NO_DEVICE;
            case OUT_OF_MEMORY: return ErrorCode.OUT_OF_MEMORY;
            default: return ErrorCode.INTERNAL;
        }
    }

    @Override
    public String toString() {
        return "ReskernException[" + code + "]: " + getMessage();
    }
}
