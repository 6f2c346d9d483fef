/*
 * reskern CUDA ops: the C ABI that JavaCPP binds (io.reskern.nativelib.CudaOps).
 *
 * Same conventions as reskern_cpu.h (NHWC, KRSC weights, rk_status return, thread-local last error),
 * plus:
 *  - Device pointers and handles (streams, graphs, events) are passed as void* (Java: long).
 *  - dtype of activations and weights: RK_F32 / RK_F16 / RK_BF16. scale/shift are always fp32 on device.
 *    Accumulation is fp32 in every path.
 *  - math: RK_MATH_EXACT (fp32 FMA), RK_MATH_TF32 (tensor cores, fp32 in/out, opt-in); fp16/bf16 always use
 *    tensor cores where the kernel can implement the shape.
 *  - Every CUDA call and launch is checked; failures return RK_ERR_CUDA with file:line in rk_cuda_last_error().
 *    Nothing here exits or aborts: the JVM must survive any CUDA error.
 *  - The CUDA runtime is linked statically: this library loads on machines without a driver, where
 *    rk_cuda_device_count() returns RK_ERR_NO_DEVICE.
 */
#ifndef RESKERN_CUDA_H
#define RESKERN_CUDA_H
#include <stddef.h>
#include <stdint.h>
#include "reskern_cpu.h"   /* rk_status, RK_ERR_*, RK_RES_* */

#ifdef __cplusplus
extern "C" {
#endif

#define RK_F32 0
#define RK_F16 1
#define RK_BF16 2

#define RK_MATH_EXACT 0
#define RK_MATH_TF32 1

const char* rk_cuda_last_error(void);
/* cudaRuntimeGetVersion / cudaDriverGetVersion (e.g. 13000); driver 0 when none is installed. */
rk_status rk_cuda_versions(int* runtime_version, int* driver_version);
rk_status rk_cuda_device_count(int* count);
/* Properties of device dev (any pointer may be NULL). free_mem: -1 when it cannot be read (the device's context cannot
   be made, e.g. an exclusive-process GPU that another process holds); the other fields are still filled. */
rk_status rk_cuda_device_info(int dev, char* name, int name_len, int* cc_major, int* cc_minor, int* sm_count,
                              long long* total_mem, long long* free_mem);
rk_status rk_cuda_set_device(int dev);
/* The CUDA context current on the calling thread (*ctx = NULL when it has none), and making one current again (NULL:
   none). The Java API saves it on entry and puts it back on return, so a caller's thread is left on the device (and
   with the context, or none) it had: reskern's own cudaSetDevice calls never leak into a service's other CUDA code.
   Driver API (cuCtxGetCurrent / cuCtxSetCurrent), reached through cudaGetDriverEntryPointByVersion, so the library
   still does not link libcuda. */
rk_status rk_cuda_context_get(void** ctx);
rk_status rk_cuda_context_set(void* ctx);

/* Memory (plain cudaMalloc; no managed memory). */
rk_status rk_cuda_malloc(void** ptr, size_t bytes);
rk_status rk_cuda_free(void* ptr);
rk_status rk_cuda_malloc_host(void** ptr, size_t bytes);   /* pinned */
rk_status rk_cuda_free_host(void* ptr);
rk_status rk_cuda_memcpy_h2d(void* dst, const void* src, size_t bytes, void* stream); /* async on stream */
rk_status rk_cuda_memcpy_d2h(void* dst, const void* src, size_t bytes, void* stream); /* async on stream */
rk_status rk_cuda_memcpy_d2d(void* dst, const void* src, size_t bytes, void* stream);
rk_status rk_cuda_memset(void* dst, int byte_value, size_t bytes, void* stream);

/* Streams, events, graphs. */
rk_status rk_cuda_stream_create(void** stream);
rk_status rk_cuda_stream_destroy(void* stream);
rk_status rk_cuda_stream_synchronize(void* stream);
rk_status rk_cuda_event_create(void** event);
rk_status rk_cuda_event_destroy(void* event);
rk_status rk_cuda_event_record(void* event, void* stream);
rk_status rk_cuda_event_elapsed_ms(void* start, void* stop, float* ms);
rk_status rk_cuda_graph_begin_capture(void* stream);
rk_status rk_cuda_graph_end_capture(void* stream, void** graph_exec);
rk_status rk_cuda_graph_launch(void* graph_exec, void* stream);
rk_status rk_cuda_graph_destroy(void* graph_exec);

/* Conversions: f32 <-> dtype (count elements), NCHW f32 host-layout -> NHWC dtype, image preprocessing. */
rk_status rk_cuda_convert(const void* x, int x_dtype, void* y, int y_dtype, long long count, void* stream);
rk_status rk_cuda_nchw_to_nhwc(const float* x, int N, int C, int H, int W, void* y, int dtype, void* stream);
rk_status rk_cuda_preprocess_u8(const uint8_t* x, int N, int H, int W, const float* mean, const float* std,
                                void* y, int dtype, void* stream);

/*
 * Image in, on the GPU (same formula as rk_cpu_resample_normalize_u8, vertical pass first, fp32 accumulation):
 *   t[p, j, c] = sum_{i < ny[p]} wy[p*ky + i] * x[ys[p] + i, j, c]
 *   y[p, q, c] = (sum_{j < nx[q]} wx[q*kx + j] * t[p, xs[q] + j, c] / 255 - mean[c]) / std[c]
 * Every pointer is a device pointer: x (uint8, row_stride / pixel_stride / off_* as on the CPU), the taps
 * (ys, ny, wy, xs, nx, wx) and mean/std (3 floats each) — io.reskern.image.CudaImages packs them into one device
 * buffer. y: [P, Q, 3] in dtype at any device address (a slot of a batch input buffer). The taps are not read on
 * the host, so they are not validated there: taps outside the image are skipped (never read out of bounds).
 */
rk_status rk_cuda_resample_normalize_u8(const uint8_t* x, int H, int W, long long row_stride, int pixel_stride,
                                        int off_r, int off_g, int off_b,
                                        const int* ys, const int* ny, const float* wy, int ky,
                                        const int* xs, const int* nx, const float* wx, int kx,
                                        const float* mean, const float* std, void* y, int dtype, int P, int Q,
                                        void* stream);

/* Convolution kernels ("algos") this build has; algo = -1 lets the heuristic choose. */
int rk_cuda_conv2d_algo_count(void);
const char* rk_cuda_conv2d_algo_name(int algo);
/* RK_OK if `algo` (or the heuristic, algo = -1) can run this problem, as rk_cuda_conv2d with the same arguments
 * would (pre_avgpool included: the v1d shortcut has its own *_avgpool kernels); RK_ERR_UNSUPPORTED if this algo
 * cannot, RK_ERR_INVALID_ARG if no algo can (bad shape). Host-only: needs no GPU. */
rk_status rk_cuda_conv2d_can_implement(int algo, int dtype, int math, int N, int H, int W, int C, int K, int R, int S,
                                       int stride, int pad_h, int pad_w, int groups, int P, int Q, int res_mode,
                                       int pre_avgpool);
/* The algo that algo = -1 runs for this problem on the current device (its SM count decides the tile), or -1 if the
 * problem is invalid (then rk_cuda_conv2d_can_implement says why). Host-only apart from the SM-count query. */
int rk_cuda_conv2d_heuristic(int dtype, int math, int N, int H, int W, int C, int K, int R, int S, int stride,
                             int pad_h, int pad_w, int groups, int P, int Q, int res_mode, int pre_avgpool);

/*
 * Fused convolution (same formula as rk_cpu_conv2d):
 *   y  = relu?( scale ⊙ conv(x, W) + shift + residual )
 * and, when y2 != NULL (v2 pre-activation dual output), in the same pass:
 *   y2 = relu( post_scale ⊙ y + post_shift )
 * pre_avgpool = 1 (v1d shortcut, only with R = S = 1, stride 1, no padding, P = ceil(H/2), Q = ceil(W/2)): x is
 * first average-pooled 2x2/2 with ceil_mode=True, count_include_pad=False; H, W are the un-pooled sizes and P, Q the
 * pooled output sizes.
 * w: KRSC in dtype. scale/shift/post_*: fp32 [K] (scale/shift and post_scale/post_shift may be NULL). res in dtype.
 * y2 is computed from the fp32 value of y before y is rounded to dtype.
 */
rk_status rk_cuda_conv2d(int algo, int dtype, int math,
                         const void* x, int N, int H, int W, int C,
                         const void* w, int K, int R, int S, int stride, int pad_h, int pad_w, int groups,
                         int pre_avgpool,
                         const float* scale, const float* shift,
                         const void* res, int res_mode, int res_h, int res_w, int res_c,
                         int relu, void* y, int P, int Q,
                         const float* post_scale, const float* post_shift, void* y2,
                         void* stream);

rk_status rk_cuda_bn_relu(int dtype, const void* x, long long M, int C, const float* scale, const float* shift,
                          int relu, void* y, void* stream);
rk_status rk_cuda_add_relu(int dtype, const void* a, const void* b, long long count, int relu, void* y, void* stream);
rk_status rk_cuda_maxpool2d(int dtype, const void* x, int N, int H, int W, int C, int kh, int kw, int stride,
                            int pad_h, int pad_w, void* y, int P, int Q, void* stream);
rk_status rk_cuda_avgpool2d(int dtype, const void* x, int N, int H, int W, int C, int kh, int kw, int stride,
                            int pad_h, int pad_w, int count_include_pad, void* y, int P, int Q, void* stream);
/* y[n,c] (fp32) = mean over HW of x. */
rk_status rk_cuda_global_avgpool(int dtype, const void* x, int N, int HW, int C, float* y, void* stream);
/* y[n,k] (fp32) = sum_c x[n,c] w[k,c] + bias[k]; x, w, bias fp32. */
rk_status rk_cuda_fc(const float* x, int N, int C, const float* w, const float* bias, int K, float* y, void* stream);
/* Fused head: y[n,k] = sum_c mean_hw(x[n,:,c]) * w[k,c] + bias[k] (x in dtype; w, bias, y fp32). */
rk_status rk_cuda_global_avgpool_fc(int dtype, const void* x, int N, int HW, int C, const float* w,
                                    const float* bias, int K, float* y, void* stream);

#ifdef __cplusplus
}
#endif
#endif
