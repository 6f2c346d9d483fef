package io.reskern.nativelib;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JNI binding of {@code native/include/reskern_cuda.h}. Device pointers, streams, events and graph handles are
 * {@code long} addresses. Loading this class loads libreskern_cuda.so, which links the CUDA runtime statically and
 * therefore loads on machines with no driver; {@link #deviceCount} then returns {@code RK_ERR_NO_DEVICE}.
 * If the library was not built (nvcc absent, or {@code -Dreskern.cuda=OFF}), loading throws
 * {@link UnsatisfiedLinkError}; {@code io.reskern.backend.Devices} turns that into "no CUDA".
 */
@Platform(include = "reskern_cuda.h", link = "reskern_cuda")
public final class CudaOps {
    static {
        Loader.load();
    }

    private CudaOps() {
    }

    public static final int F32 = 0, F16 = 1, BF16 = 2;
    public static final int MATH_EXACT = 0, MATH_TF32 = 1;

    @Name("rk_cuda_last_error") public static native String lastError();
    @Name("rk_cuda_versions") public static native int versions(IntPointer runtimeVersion, IntPointer driverVersion);
    @Name("rk_cuda_device_count") public static native int deviceCount(IntPointer count);
    @Name("rk_cuda_device_info")
    public static native int deviceInfo(int dev, @Cast("char*") BytePointer name, int nameLen, IntPointer ccMajor,
                                        IntPointer ccMinor, IntPointer smCount, @Cast("long long*") LongPointer totalMem,
                                        @Cast("long long*") LongPointer freeMem);
    @Name("rk_cuda_set_device") public static native int setDevice(int dev);
    @Name("rk_cuda_context_get") public static native int contextGet(@Cast("void**") PointerPointer<?> ctx);
    @Name("rk_cuda_context_set") public static native int contextSet(@Cast("void*") long ctx);

    @Name("rk_cuda_malloc") public static native int malloc(@Cast("void**") PointerPointer<?> ptr, @Cast("size_t") long bytes);
    @Name("rk_cuda_free") public static native int free(@Cast("void*") long ptr);
    @Name("rk_cuda_malloc_host") public static native int mallocHost(@Cast("void**") PointerPointer<?> ptr, @Cast("size_t") long bytes);
    @Name("rk_cuda_free_host") public static native int freeHost(@Cast("void*") long ptr);
    @Name("rk_cuda_memcpy_h2d") public static native int memcpyH2D(@Cast("void*") long dst, @Cast("const void*") long src, @Cast("size_t") long bytes, @Cast("void*") long stream);
    @Name("rk_cuda_memcpy_d2h") public static native int memcpyD2H(@Cast("void*") long dst, @Cast("const void*") long src, @Cast("size_t") long bytes, @Cast("void*") long stream);
    @Name("rk_cuda_memcpy_d2d") public static native int memcpyD2D(@Cast("void*") long dst, @Cast("const void*") long src, @Cast("size_t") long bytes, @Cast("void*") long stream);
    @Name("rk_cuda_memset") public static native int memset(@Cast("void*") long dst, int byteValue, @Cast("size_t") long bytes, @Cast("void*") long stream);

    @Name("rk_cuda_stream_create") public static native int streamCreate(@Cast("void**") PointerPointer<?> stream);
    @Name("rk_cuda_stream_destroy") public static native int streamDestroy(@Cast("void*") long stream);
    @Name("rk_cuda_stream_synchronize") public static native int streamSynchronize(@Cast("void*") long stream);
    @Name("rk_cuda_event_create") public static native int eventCreate(@Cast("void**") PointerPointer<?> event);
    @Name("rk_cuda_event_destroy") public static native int eventDestroy(@Cast("void*") long event);
    @Name("rk_cuda_event_record") public static native int eventRecord(@Cast("void*") long event, @Cast("void*") long stream);
    @Name("rk_cuda_event_elapsed_ms") public static native int eventElapsedMs(@Cast("void*") long start, @Cast("void*") long stop, FloatPointer ms);
    @Name("rk_cuda_graph_begin_capture") public static native int graphBeginCapture(@Cast("void*") long stream);
    @Name("rk_cuda_graph_end_capture") public static native int graphEndCapture(@Cast("void*") long stream, @Cast("void**") PointerPointer<?> graphExec);
    @Name("rk_cuda_graph_launch") public static native int graphLaunch(@Cast("void*") long graphExec, @Cast("void*") long stream);
    @Name("rk_cuda_graph_destroy") public static native int graphDestroy(@Cast("void*") long graphExec);

    @Name("rk_cuda_convert") public static native int convert(@Cast("const void*") long x, int xDtype, @Cast("void*") long y, int yDtype, long count, @Cast("void*") long stream);
    @Name("rk_cuda_nchw_to_nhwc") public static native int nchwToNhwc(@Cast("const float*") long x, int N, int C, int H, int W, @Cast("void*") long y, int dtype, @Cast("void*") long stream);
    @Name("rk_cuda_preprocess_u8") public static native int preprocessU8(@Cast("const uint8_t*") long x, int N, int H, int W, @Cast("const float*") long mean, @Cast("const float*") long std, @Cast("void*") long y, int dtype, @Cast("void*") long stream);

    @Name("rk_cuda_resample_normalize_u8")
    public static native int resampleNormalizeU8(@Cast("const uint8_t*") long x, int H, int W, long rowStride, int pixelStride,
                                                 int offR, int offG, int offB,
                                                 @Cast("const int*") long ys, @Cast("const int*") long ny,
                                                 @Cast("const float*") long wy, int ky,
                                                 @Cast("const int*") long xs, @Cast("const int*") long nx,
                                                 @Cast("const float*") long wx, int kx,
                                                 @Cast("const float*") long mean, @Cast("const float*") long std,
                                                 @Cast("void*") long y, int dtype, int P, int Q, @Cast("void*") long stream);

    @Name("rk_cuda_conv2d_algo_count") public static native int conv2dAlgoCount();
    @Name("rk_cuda_conv2d_algo_name") public static native String conv2dAlgoName(int algo);
    @Name("rk_cuda_conv2d_can_implement")
    public static native int conv2dCanImplement(int algo, int dtype, int math, int N, int H, int W, int C, int K, int R, int S,
                                                int stride, int padH, int padW, int groups, int P, int Q, int resMode,
                                                int preAvgPool);
    @Name("rk_cuda_conv2d")
    public static native int conv2d(int algo, int dtype, int math,
                                    @Cast("const void*") long x, int N, int H, int W, int C,
                                    @Cast("const void*") long w, int K, int R, int S, int stride, int padH, int padW, int groups,
                                    int preAvgPool,
                                    @Cast("const float*") long scale, @Cast("const float*") long shift,
                                    @Cast("const void*") long res, int resMode, int resH, int resW, int resC,
                                    int relu, @Cast("void*") long y, int P, int Q,
                                    @Cast("const float*") long postScale, @Cast("const float*") long postShift, @Cast("void*") long y2,
                                    @Cast("void*") long stream);

    @Name("rk_cuda_bn_relu") public static native int bnRelu(int dtype, @Cast("const void*") long x, long M, int C, @Cast("const float*") long scale, @Cast("const float*") long shift, int relu, @Cast("void*") long y, @Cast("void*") long stream);
    @Name("rk_cuda_add_relu") public static native int addRelu(int dtype, @Cast("const void*") long a, @Cast("const void*") long b, long count, int relu, @Cast("void*") long y, @Cast("void*") long stream);
    @Name("rk_cuda_maxpool2d") public static native int maxPool2d(int dtype, @Cast("const void*") long x, int N, int H, int W, int C, int kh, int kw, int stride, int padH, int padW, @Cast("void*") long y, int P, int Q, @Cast("void*") long stream);
    @Name("rk_cuda_avgpool2d") public static native int avgPool2d(int dtype, @Cast("const void*") long x, int N, int H, int W, int C, int kh, int kw, int stride, int padH, int padW, int countIncludePad, @Cast("void*") long y, int P, int Q, @Cast("void*") long stream);
    @Name("rk_cuda_global_avgpool") public static native int globalAvgPool(int dtype, @Cast("const void*") long x, int N, int HW, int C, @Cast("float*") long y, @Cast("void*") long stream);
    @Name("rk_cuda_fc") public static native int fc(@Cast("const float*") long x, int N, int C, @Cast("const float*") long w, @Cast("const float*") long bias, int K, @Cast("float*") long y, @Cast("void*") long stream);
    @Name("rk_cuda_global_avgpool_fc") public static native int globalAvgPoolFc(int dtype, @Cast("const void*") long x, int N, int HW, int C, @Cast("const float*") long w, @Cast("const float*") long bias, int K, @Cast("float*") long y, @Cast("void*") long stream);
}
