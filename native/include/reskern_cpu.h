/*
 * reskern CPU ops: the C ABI that JavaCPP binds (io.reskern.nativelib.CpuOps).
 *
 * Conventions (shared with reskern_cuda.h):
 *  - Activations are NHWC, fp32, densely packed. Tensor pointers are plain addresses.
 *  - Convolution weights are given as KRSC = [K][R][S][C/groups] (torch's KCRS permuted) and
 *    pre-packed once with rk_cpu_conv_pack() into an opaque layout the kernel likes.
 *  - Every function returns an rk_status (0 = OK). On error, rk_cpu_last_error() describes it
 *    (thread-local). No function aborts, exits or prints.
 *  - Threads: one process-wide work-sharing pool (native/cpu/thread_pool.cpp); rk_cpu_set_threads(n) sets how many
 *    threads an op uses, for calls from any thread (0 = all cores; before the first call: OMP_NUM_THREADS if set,
 *    else all cores). Concurrent callers are allowed.
 */
#ifndef RESKERN_CPU_H
#define RESKERN_CPU_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int rk_status;
#define RK_OK 0
#define RK_ERR_INVALID_ARG 1   /* bad shape, null pointer, unsupported parameter combination */
#define RK_ERR_UNSUPPORTED 2   /* valid request this build/kernel cannot do (can_implement == false) */
#define RK_ERR_CUDA 3          /* a CUDA runtime call or launch failed */
#define RK_ERR_NO_DEVICE 4     /* no usable GPU / driver */
#define RK_ERR_OUT_OF_MEMORY 5

/* Residual modes of the fused epilogue. */
#define RK_RES_NONE 0
#define RK_RES_IDENTITY 1      /* residual has y's shape [N,P,Q,K] */
#define RK_RES_OPTION_A 2      /* residual [N,RH,RW,RC] viewed as pad(x[:, ::2, ::2, :]) with
                                  (K-RC)/2 zero channels before and K-RC-(K-RC)/2 after; RH>=2P-1, RW>=2Q-1 */

const char* rk_cpu_last_error(void);
const char* rk_cpu_version(void);
/* Bitmask of CPU features the dispatcher found: 1 = AVX2+FMA, 2 = AVX-512F. */
int rk_cpu_features(void);
/* Name of the conv micro-kernel the dispatcher uses ("avx512", "avx2", "scalar"). */
const char* rk_cpu_kernel_isa(void);
void rk_cpu_set_threads(int n);
int rk_cpu_get_threads(void);

/*
 * Scratch memory the ops keep between calls when the caller gives no workspace (today: the zero-padded input copy of
 * convs with <= 32 channels, e.g. stems and CIFAR ResNets, and the bf16 convs' rounded input, in rk_cpu_conv2d; see
 * rk_cpu_conv2d_ws), in one pool shared
 * by all calling threads: at most one buffer per op running at the same time, each as large as the largest request
 * it served, so a service calling from many threads holds no more than (concurrent calls) x (largest request).
 * rk_cpu_scratch_bytes: bytes held (in use or idle). rk_cpu_trim_scratch: frees the idle buffers (e.g. after a
 * batch much larger than usual); ops in flight keep theirs.
 */
size_t rk_cpu_scratch_bytes(void);
void rk_cpu_trim_scratch(void);

/* Size in floats of the packed weights of a conv with K outputs, C inputs (total), RxS window, groups. */
size_t rk_cpu_conv_packed_size(int K, int C, int R, int S, int groups);
/* Pack KRSC weights [K][R][S][C/groups] into `packed` (rk_cpu_conv_packed_size floats). */
rk_status rk_cpu_conv_pack(const float* w_krsc, int K, int C, int R, int S, int groups, float* packed);
/*
 * The same for a conv known to run with `stride` (0 = not known, as rk_cpu_conv_pack): 3x3 stride-1 dense convs
 * with 64 <= C <= 256 and K >= 16 are then packed for a Winograd kernel: F(4x4,3x3) for C <= 128 (36/9 the floats
 * of the direct layout, 4x fewer multiply-adds), F(2x2,3x3) above (16/9, 2.25x fewer); such weights only run with
 * stride 1. RESKERN_CPU_WINOGRAD=0 keeps the direct layout, =2 / =4 uses only that tile (on by default with every
 * kernel ISA; where it was measured: cpu_ops.cpp, pack_layout).
 */
size_t rk_cpu_conv_packed_size_ex(int K, int C, int R, int S, int groups, int stride);
rk_status rk_cpu_conv_pack_ex(const float* w_krsc, int K, int C, int R, int S, int groups, int stride,
                              float* packed);
/*
 * The same with the output pixels per image the conv will usually see (P*Q at the model's usual input size;
 * 0 = not known, as rk_cpu_conv_pack_ex): 3x3 stride-1 dense convs with 256 < C <= 512 also get the F(2x2,3x3)
 * layout when pixels >= 196 (14x14 and up, e.g. wide ResNets' stage 3; at 7x7 the direct kernel is faster). The
 * hint only picks the layout: the weights run correctly at any input size.
 */
size_t rk_cpu_conv_packed_size_hint(int K, int C, int R, int S, int groups, int stride, long long pixels);
rk_status rk_cpu_conv_pack_hint(const float* w_krsc, int K, int C, int R, int S, int groups, int stride,
                                long long pixels, float* packed);

/*
 * Precision of a packed conv. RK_CPU_PREC_BF16: dense (groups == 1) convs round their weights (at pack time) and their
 * input x (in rk_cpu_conv2d, into the workspace) to bfloat16, round to nearest even, and sum the products in fp32 on
 * the AVX512_BF16 kernel (vdpbf16ps); scale, shift, residual, ReLU and y stay fp32, so only the conv's operands lose
 * precision (relative error per conv ~ 2^-9 of the terms' magnitudes). Grouped convs stay fp32 (no bf16 kernel), and so
 * do convs that get a Winograd layout with C <= 256 (3x3 stride 1, 64..256 channels: as fast as or faster than the bf16
 * kernel there, and fp32 accurate); rk_cpu_conv_packed_precision() tells which one a conv got. rk_cpu_bf16_supported(): 1 when this CPU and
 * the current kernel ISA can run them (AVX-512 kernels and AVX512_BF16: AMD Zen 4 and later, Intel Cooper Lake,
 * Sapphire Rapids and later); else packing for bf16 is RK_ERR_UNSUPPORTED and its size 0.
 */
#define RK_CPU_PREC_FP32 0
#define RK_CPU_PREC_BF16 1
int rk_cpu_bf16_supported(void);
size_t rk_cpu_conv_packed_size_prec(int K, int C, int R, int S, int groups, int stride, long long pixels, int precision);
rk_status rk_cpu_conv_pack_prec(const float* w_krsc, int K, int C, int R, int S, int groups, int stride,
                                long long pixels, int precision, float* packed);
/* RK_CPU_PREC_* the weights were packed for, -1 if w_packed is not packed weights. */
int rk_cpu_conv_packed_precision(const float* w_packed);

/*
 * Fused convolution:
 *   y[n,p,q,k] = relu?( scale[k] * sum_{r,s,c in group(k)} x[n, p*stride-pad_h+r, q*stride-pad_w+s, c] * W[k,r,s,c]
 *                       + shift[k] + residual[n,p,q,k] )
 * x: [N,H,W,C]; y: [N,P,Q,K] with P, Q given by the caller (pad_h/pad_w are the top/left pads; the
 * bottom/right pads are implied by P, Q; out-of-range taps read zero). scale may be NULL (= 1),
 * shift may be NULL (= 0). res_mode: RK_RES_*; res/res_h/res_w/res_c describe the residual tensor
 * (ignored for RK_RES_NONE). y must not alias x; y may alias res only for RK_RES_IDENTITY.
 */
rk_status rk_cpu_conv2d(const float* x, int N, int H, int W, int C,
                        const float* w_packed, int K, int R, int S, int stride, int pad_h, int pad_w, int groups,
                        const float* scale, const float* shift,
                        const float* res, int res_mode, int res_h, int res_w, int res_c,
                        int relu, float* y, int P, int Q);

/*
 * The same with a caller-owned workspace, as an execution context that plans its memory up front uses it (the CPU
 * executor: one per context, sized at reserve): rk_cpu_conv2d_workspace_size gives the bytes this conv needs (0 for
 * most fp32 convs: it is the zero-padded input copy of convs with <= 32 channels; for bf16 weights also x as bf16
 * pairs), for the same shapes and packed weights.
 * workspace == NULL: the shared scratch pool (as rk_cpu_conv2d); a non-NULL workspace smaller than needed or not
 * 4-byte aligned is RK_ERR_INVALID_ARG. Concurrent calls must not share a workspace.
 */
size_t rk_cpu_conv2d_workspace_size(int N, int H, int W, int C, const float* w_packed, int K, int R, int S, int stride,
                                    int pad_h, int pad_w, int groups, int P, int Q);
rk_status rk_cpu_conv2d_ws(const float* x, int N, int H, int W, int C,
                           const float* w_packed, int K, int R, int S, int stride, int pad_h, int pad_w, int groups,
                           const float* scale, const float* shift,
                           const float* res, int res_mode, int res_h, int res_w, int res_c,
                           int relu, float* y, int P, int Q, void* workspace, size_t workspace_bytes);

/* y[i,c] = relu?(scale[c] * x[i,c] + shift[c]) over rows i < M (M = N*H*W). In place allowed. */
rk_status rk_cpu_bn_relu(const float* x, long long M, int C, const float* scale, const float* shift, int relu, float* y);

/* y = relu?(a + b), count elements. In place allowed. */
rk_status rk_cpu_add_relu(const float* a, const float* b, long long count, int relu, float* y);

/* Max pool, window kh x kw, stride, top/left pad; padding taps are -inf (never win). y: [N,P,Q,C]. Windows are
 * clipped to the input, so P, Q may be torch's ceil_mode size (ceil((H+2pad-k)/stride)+1, less one if the last window
 * would start beyond H+pad): every window then holds an input tap when pad <= k/2. */
rk_status rk_cpu_maxpool2d(const float* x, int N, int H, int W, int C, int kh, int kw, int stride, int pad_h, int pad_w,
                           float* y, int P, int Q);

/* Average pool; window clipped to the input; count_include_pad=0 divides by the in-bounds count
 * (torch's ceil_mode=True, count_include_pad=False is P = ceil((H+2pad-k)/stride)+1 with this clipping);
 * count_include_pad=1 divides by kh*kw but taps beyond H+pad are still excluded (torch semantics). */
rk_status rk_cpu_avgpool2d(const float* x, int N, int H, int W, int C, int kh, int kw, int stride, int pad_h, int pad_w,
                           int count_include_pad, float* y, int P, int Q);

/* y[n,c] = mean over H*W of x[n,:,:,c]. */
rk_status rk_cpu_global_avgpool(const float* x, int N, int HW, int C, float* y);

/* y[n,k] = sum_c x[n,c] * w[k,c] + bias[k]; bias may be NULL. */
rk_status rk_cpu_fc(const float* x, int N, int C, const float* w, const float* bias, int K, float* y);

/* Layout: x NCHW float -> y NHWC float. */
rk_status rk_cpu_nchw_to_nhwc(const float* x, int N, int C, int H, int W, float* y);

/* Preprocess: uint8 HWC (RGB) image batch [N,H,W,3] -> NHWC float: y = (x/255 - mean[c]) / std[c]. */
rk_status rk_cpu_preprocess_u8(const uint8_t* x, int N, int H, int W, const float* mean, const float* std, float* y);

/*
 * Image in: resize (separable resampling, taps given) + centre crop + ToTensor + Normalize in one pass, uint8 pixels
 * in, fp32 NHWC out. The vertical pass runs first (fp32 accumulation, taps in index order):
 *   x[r, j, c] = x_bytes[r * row_stride + j * pixel_stride + off[c]]        off = {off_r, off_g, off_b}
 *   t[p, j, c] = sum_{i < ny[p]} wy[p*ky + i] * x[ys[p] + i, j, c]
 *   y[p, q, c] = (sum_{j < nx[q]} wx[q*kx + j] * t[p, xs[q] + j, c] / 255 - mean[c]) / std[c]
 * x: H rows of W pixels, pixel_stride bytes per pixel, row_stride bytes per row (a sub-image or a Java raster is
 * passed as is): RGB = (3; 0,1,2), BGR = (3; 2,1,0), ABGR = (4; 3,2,1), gray = (1; 0,0,0).
 * Taps per output row p < P: first input row ys[p], count ny[p] in [0, ky] (0 = a zero-padded row: y = -mean/std),
 * weights wy[p*ky .. p*ky+ny[p]) (row stride ky); per output column q < Q likewise (xs, nx, wx, kx). The taps
 * include the crop offset (io.reskern.image.ResamplePlan computes torch's antialiased bilinear taps). Checked:
 * 0 <= ys[p] and ys[p] + ny[p] <= H where ny[p] > 0 (columns likewise), offsets < pixel_stride, W*pixel_stride <=
 * row_stride.
 * y: [P, Q, 3] dense (one image of a batch: pass the address of its slot); must not alias x.
 */
rk_status rk_cpu_resample_normalize_u8(const uint8_t* x, int H, int W, long long row_stride, int pixel_stride,
                                       int off_r, int off_g, int off_b,
                                       const int* ys, const int* ny, const float* wy, int ky,
                                       const int* xs, const int* nx, const float* wx, int kx,
                                       const float* mean, const float* std, float* y, int P, int Q);

#ifdef __cplusplus
}
#endif
#endif
