package io.reskern.backend.cudnn;

import io.reskern.ReskernException;
import io.reskern.ReskernException.ErrorCode;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.cudnn.cudnnContext;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudnn;
import org.bytedeco.javacpp.FloatPointer;

/**
 * The cuDNN and cuBLAS handles of one execution context, bound to its stream (reskern's own stream, created by
 * {@code libreskern_cuda}: a {@code cudaStream_t} is a driver {@code CUstream}, valid in every CUDA runtime of the
 * process — the same way PyTorch hands its streams to cuDNN). Created only when {@link Cudnn#status()} is available.
 * Not thread-safe (one context = one stream).
 */
public final class CudnnContext implements AutoCloseable {
    final cudnnContext handle = new cudnnContext();
    final cublasContext blas = new cublasContext();
    final long stream;
    /** Host scalars for alpha/beta (fp32 for every configuration reskern uses). */
    final FloatPointer one = new FloatPointer(1f);
    final FloatPointer zero = new FloatPointer(0f);
    private boolean haveCudnn;
    private boolean haveBlas;

    public CudnnContext(long stream, boolean tf32) throws ReskernException {
        this.stream = stream;
        try {
            check(cudnn.cudnnCreate(handle), "cudnnCreate");
            haveCudnn = true;
            check(cudnn.cudnnSetStream(handle, new CUstream_st(DevPtr.of(stream))), "cudnnSetStream");
            checkBlas(cublas.cublasCreate_v2(blas), "cublasCreate");
            haveBlas = true;
            checkBlas(cublas.cublasSetStream_v2(blas, new CUstream_st(DevPtr.of(stream))), "cublasSetStream");
            // TF32 only when the model asked for it; CUBLAS_DEFAULT_MATH is plain fp32 FMA for sgemm.
            checkBlas(cublas.cublasSetMathMode(blas, tf32 ? cublas.CUBLAS_TF32_TENSOR_OP_MATH : cublas.CUBLAS_DEFAULT_MATH),
                    "cublasSetMathMode");
        } catch (ReskernException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Points cuBLAS at a workspace of ours (needed for CUDA-graph capture: cuBLAS must not allocate while captured). */
    public void setBlasWorkspace(long ptr, long bytes) throws ReskernException {
        checkBlas(cublas.cublasSetWorkspace_v2(blas, DevPtr.of(ptr), bytes), "cublasSetWorkspace");
    }

    static void check(int st, String what) throws ReskernException {
        if (st != cudnn.CUDNN_STATUS_SUCCESS) {
            String msg = cudnn.cudnnGetErrorString(st).getString();
            ErrorCode code = st == cudnn.CUDNN_STATUS_ALLOC_FAILED ? ErrorCode.OUT_OF_MEMORY
                    : st == cudnn.CUDNN_STATUS_NOT_SUPPORTED || st == cudnn.CUDNN_STATUS_BAD_PARAM ? ErrorCode.UNSUPPORTED
                    : ErrorCode.CUDA_ERROR;
            throw new ReskernException(code, what + ": cuDNN status " + st + " (" + msg + ")");
        }
    }

    static void checkBlas(int st, String what) throws ReskernException {
        if (st != cublas.CUBLAS_STATUS_SUCCESS) {
            ErrorCode code = st == cublas.CUBLAS_STATUS_ALLOC_FAILED ? ErrorCode.OUT_OF_MEMORY
                    : st == cublas.CUBLAS_STATUS_NOT_SUPPORTED || st == cublas.CUBLAS_STATUS_INVALID_VALUE ? ErrorCode.UNSUPPORTED
                    : ErrorCode.CUDA_ERROR;
            throw new ReskernException(code, what + ": cuBLAS status " + st);
        }
    }

    @Override
    public void close() {
        if (haveBlas) {
            cublas.cublasDestroy_v2(blas);
            haveBlas = false;
        }
        if (haveCudnn) {
            cudnn.cudnnDestroy(handle);
            haveCudnn = false;
        }
        one.close();
        zero.close();
    }
}
