// reskern CUDA convolution: parameters, the fused epilogue shared by every algo, and the algo table interface.
//
// Problem (NHWC activations, KRSC weights, as rk_cpu_conv2d):
//   y[n,p,q,k]  = relu?( scale[k] * sum_{r,s,c in group(k)} x[n, p*stride-pad_h+r, q*stride-pad_w+s, c] * W[k,r,s,c]
//                        + shift[k] + residual[n,p,q,k] )
//   y2[n,p,q,k] = relu( post_scale[k] * y[n,p,q,k] + post_shift[k] )          (only when y2 != NULL)
// Implicit GEMM view (groups = 1):  D[M x K] = A[M x Ktot] * B[Ktot x K]   with
//   M = N*P*Q (output pixels), Ktot = R*S*C (taps x channels), A = im2col(x) (never materialised), B = W^T.
//   FLOPs = 2 * N*P*Q * K * R*S*C/groups.
// pre_avgpool (ResNet-D shortcut): A's rows are read through a 2x2/2 average pool (ceil_mode, count_include_pad=False)
//   of x; then H, W are the un-pooled sizes and P, Q the pooled ones (R = S = 1, stride 1, no padding).
#pragma once
#include "rk_common.cuh"

namespace rk {

struct ConvParams {
  const void* x;
  const void* w;
  int N, H, W, C, K, R, S, stride, pad_h, pad_w, groups, P, Q;
  int pre_avgpool;
  const float* scale;  // may be NULL (= 1)
  const float* shift;  // may be NULL (= 0)
  const void* res;
  int res_mode, res_h, res_w, res_c;
  int relu;
  void* y;
  const float* post_scale;  // may be NULL (= 1)
  const float* post_shift;  // may be NULL (= 0)
  void* y2;                 // NULL: no second output
  // derived
  int M;     // N*P*Q
  int Ktot;  // R*S*C/groups (GEMM depth, per group)
  int apad;  // option A: (K - res_c)/2 zero channels in front
};

// ---------------------------------------------------------------------------------------------------------------
// Epilogue (CUTLASS-style "linear combination + residual + activation", in fp32 registers):
//   v  = acc * scale[k] + shift[k] (+ residual) ; v = relu ? max-like(v, 0) : v ; y = round_T(v)
//   y2 = relu(post_scale[k] * v + post_shift[k])  (computed from the fp32 v, before y is rounded)
// relu keeps NaN (v < 0 ? 0 : v), exactly as the CPU twin.
// ---------------------------------------------------------------------------------------------------------------
__device__ __forceinline__ float relu_keep_nan(float v) { return v < 0.f ? 0.f : v; }

// Option A residual value for output row m, channel k (zero channels outside [apad, apad + res_c)).
template <typename T>
__device__ __forceinline__ float option_a_residual(const ConvParams& p, int m, int k) {
  const int kc = k - p.apad;
  if (kc < 0 || kc >= p.res_c) return 0.f;
  const int pq = p.P * p.Q;
  const int n = m / pq, rem = m - n * pq, pp = rem / p.Q, qq = rem - pp * p.Q;
  const T* r = static_cast<const T*>(p.res);
  return to_f(r[((static_cast<size_t>(n) * p.res_h + 2 * pp) * p.res_w + 2 * qq) * p.res_c + kc]);
}

// One output element (SIMT path).
template <typename T>
__device__ __forceinline__ void epilogue1(const ConvParams& p, int m, int k, float acc) {
  float v = acc * (p.scale ? __ldg(p.scale + k) : 1.f) + (p.shift ? __ldg(p.shift + k) : 0.f);
  const size_t yi = static_cast<size_t>(m) * p.K + k;
  if (p.res_mode == RK_RES_IDENTITY) v += to_f(static_cast<const T*>(p.res)[yi]);
  else if (p.res_mode == RK_RES_OPTION_A) v += option_a_residual<T>(p, m, k);
  if (p.relu) v = relu_keep_nan(v);
  static_cast<T*>(p.y)[yi] = from_f<T>(v);
  if (p.y2) {
    float v2 = v * (p.post_scale ? __ldg(p.post_scale + k) : 1.f) + (p.post_shift ? __ldg(p.post_shift + k) : 0.f);
    static_cast<T*>(p.y2)[yi] = from_f<T>(relu_keep_nan(v2));
  }
}

// Eight consecutive channels k..k+7 of row m (tensor-core path; K % 8 == 0 and y/res/y2 16-byte aligned).
template <typename T>
__device__ __forceinline__ void epilogue8(const ConvParams& p, int m, int k, float (&v)[8]) {
#pragma unroll
  for (int e = 0; e < 8; e++)
    v[e] = v[e] * (p.scale ? __ldg(p.scale + k + e) : 1.f) + (p.shift ? __ldg(p.shift + k + e) : 0.f);
  const size_t yi = static_cast<size_t>(m) * p.K + k;
  if (p.res_mode == RK_RES_IDENTITY) {
    float r[8];
    load8<T>(static_cast<const T*>(p.res) + yi, r);
#pragma unroll
    for (int e = 0; e < 8; e++) v[e] += r[e];
  } else if (p.res_mode == RK_RES_OPTION_A) {
#pragma unroll
    for (int e = 0; e < 8; e++) v[e] += option_a_residual<T>(p, m, k + e);
  }
  if (p.relu) {
#pragma unroll
    for (int e = 0; e < 8; e++) v[e] = relu_keep_nan(v[e]);
  }
  store8<T>(static_cast<T*>(p.y) + yi, v);
  if (p.y2) {
    float v2[8];
#pragma unroll
    for (int e = 0; e < 8; e++)
      v2[e] = relu_keep_nan(v[e] * (p.post_scale ? __ldg(p.post_scale + k + e) : 1.f) +
                            (p.post_shift ? __ldg(p.post_shift + k + e) : 0.f));
    store8<T>(static_cast<T*>(p.y2) + yi, v2);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Algo table. Each entry is one kernel instantiation; can_implement is a pure function of the problem.
// ---------------------------------------------------------------------------------------------------------------
enum class ConvKind { Simt, TensorCore };
// A-operand loaders of the tensor-core kernel.
//   Im2col : cp.async 16-byte chunks straight from x (C % chunk == 0); any R, S, stride, padding.
//   AvgPool: 1x1 stride-1 conv whose A rows are 2x2/2 average-pooled on the fly (register-staged).
//   Gather : element-wise im2col for small / odd C (e.g. the 7x7 stem, C = 3); weights gathered too.
enum TcMode { TC_IM2COL = 0, TC_AVGPOOL = 1, TC_GATHER = 2 };
constexpr int kGatherMaxKtot = 1024;  // smem (r,s,c) table of the Gather loader

using ConvLaunchFn = rk_status (*)(const ConvParams&, cudaStream_t);

struct ConvAlgo {
  const char* name;
  ConvKind kind;
  int dtype;      // tensor-core algos: the one activation dtype they take (RK_F32 means tf32 math)
  int mode;       // TcMode
  int bm, bn;     // CTA tile (rows of M x output channels)
  ConvLaunchFn launch[3];  // SIMT: per dtype; tensor core: launch[0]
};

// Problem description used by can_implement / the heuristic (no pointers).
struct ConvShape {
  int dtype, math, N, H, W, C, K, R, S, stride, pad_h, pad_w, groups, P, Q, res_mode, pre_avgpool;
};

// Launchers (defined in conv_simt.cu and the conv_tc_*.cu instantiation files).
rk_status launch_conv_simt_f32(const ConvParams&, cudaStream_t);
rk_status launch_conv_simt_f16(const ConvParams&, cudaStream_t);
rk_status launch_conv_simt_bf16(const ConvParams&, cudaStream_t);
#define RK_DECLARE_TC(dt, tile, mode) rk_status launch_conv_tc_##dt##_##tile##_##mode(const ConvParams&, cudaStream_t);
RK_DECLARE_TC(f16, 256x128, im2col)
RK_DECLARE_TC(f16, 256x64, im2col)
RK_DECLARE_TC(bf16, 256x128, im2col)
RK_DECLARE_TC(bf16, 256x64, im2col)
RK_DECLARE_TC(tf32, 256x128, im2col)
RK_DECLARE_TC(tf32, 256x64, im2col)
RK_DECLARE_TC(f16, 128x128, im2col)
RK_DECLARE_TC(f16, 128x64, im2col)
RK_DECLARE_TC(f16, 64x64, im2col)
RK_DECLARE_TC(bf16, 128x128, im2col)
RK_DECLARE_TC(bf16, 128x64, im2col)
RK_DECLARE_TC(bf16, 64x64, im2col)
RK_DECLARE_TC(tf32, 128x128, im2col)
RK_DECLARE_TC(tf32, 128x64, im2col)
RK_DECLARE_TC(tf32, 64x64, im2col)
RK_DECLARE_TC(f16, 64x64, avgpool)
RK_DECLARE_TC(bf16, 64x64, avgpool)
RK_DECLARE_TC(tf32, 64x64, avgpool)
RK_DECLARE_TC(f16, 128x64, gather)
RK_DECLARE_TC(bf16, 128x64, gather)
#undef RK_DECLARE_TC

}  // namespace rk

// Internal (not part of the Java ABI; used by the labs): the algo index the heuristic picks for a problem
// on the current device, or -1 when none can implement it.
extern "C" int rk_cuda_conv2d_heuristic(int dtype, int math, int N, int H, int W, int C, int K, int R, int S,
                                        int stride, int pad_h, int pad_w, int groups, int P, int Q, int res_mode,
                                        int pre_avgpool);
