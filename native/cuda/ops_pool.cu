// reskern CUDA pooling and head ops (NHWC): maxpool, avgpool, global average pool, fc, fused global_avgpool + fc.
// Semantics are those of the CPU twins in cpu_ops.cpp (padding taps of maxpool are -inf and never win, NaN
// propagates; avgpool clips the window to [-pad, H+pad) and divides by the in-bounds or the clipped-window count).
// Channel-vectorised: one thread owns 8 channels of one output pixel when C % 8 == 0 and pointers are aligned.
#include "rk_common.cuh"
#include <algorithm>
#include <cmath>

namespace rk {
namespace {

constexpr int kThreads = 256;

inline unsigned grid_for(long long items) {
  const long long sms = std::max(1, current_device_sm_count());
  long long blocks = (items + kThreads - 1) / kThreads;
  return static_cast<unsigned>(std::max(1LL, std::min(blocks, sms * 32)));
}

template <typename T, int V> __device__ __forceinline__ void loadV(const T* p, float (&v)[V]) {
  if constexpr (V == 8) load8<T>(p, v);
  else v[0] = to_f(*p);
}
template <typename T, int V> __device__ __forceinline__ void storeV(T* p, const float (&v)[V]) {
  if constexpr (V == 8) store8<T>(p, v);
  else *p = from_f<T>(v[0]);
}

struct PoolGeom {
  int N, H, W, C, kh, kw, stride, pad_h, pad_w, P, Q;
};

// y[n,p,q,c] = max over the window of x (padding = -inf; NaN wins).
template <typename T, int V>
__global__ void maxpool_kernel(const T* __restrict__ x, PoolGeom g, T* __restrict__ y) {
  const int CV = g.C / V;
  const long long total = static_cast<long long>(g.N) * g.P * g.Q * CV;
  const long long step = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long idx = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += step) {
    const int cv = static_cast<int>(idx % CV);
    const long long pix = idx / CV;
    const int q = static_cast<int>(pix % g.Q), p = static_cast<int>((pix / g.Q) % g.P);
    const int n = static_cast<int>(pix / (static_cast<long long>(g.Q) * g.P));
    float m[V];
#pragma unroll
    for (int e = 0; e < V; e++) m[e] = -INFINITY;
    for (int r = 0; r < g.kh; r++) {
      const int hi = p * g.stride - g.pad_h + r;
      if (hi < 0 || hi >= g.H) continue;
      for (int s = 0; s < g.kw; s++) {
        const int wi = q * g.stride - g.pad_w + s;
        if (wi < 0 || wi >= g.W) continue;
        float v[V];
        loadV<T, V>(x + ((static_cast<size_t>(n) * g.H + hi) * g.W + wi) * g.C + cv * V, v);
#pragma unroll
        for (int e = 0; e < V; e++)
          if (v[e] > m[e] || isnan(v[e])) m[e] = v[e];
      }
    }
    storeV<T, V>(y + pix * g.C + cv * V, m);
  }
}

// y[n,p,q,c] = sum over the clipped window / count (count_include_pad: clipped-window size, else in-bounds taps).
template <typename T, int V>
__global__ void avgpool_kernel(const T* __restrict__ x, PoolGeom g, int count_include_pad, T* __restrict__ y) {
  const int CV = g.C / V;
  const long long total = static_cast<long long>(g.N) * g.P * g.Q * CV;
  const long long step = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long idx = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += step) {
    const int cv = static_cast<int>(idx % CV);
    const long long pix = idx / CV;
    const int q = static_cast<int>(pix % g.Q), p = static_cast<int>((pix / g.Q) % g.P);
    const int n = static_cast<int>(pix / (static_cast<long long>(g.Q) * g.P));
    const int h0 = p * g.stride - g.pad_h, w0 = q * g.stride - g.pad_w;
    const int h1 = min(h0 + g.kh, g.H + g.pad_h), w1 = min(w0 + g.kw, g.W + g.pad_w);
    const int pool = (h1 - h0) * (w1 - w0);
    const int hs = max(h0, 0), ws = max(w0, 0), he = min(h1, g.H), we = min(w1, g.W);
    const int cnt = count_include_pad ? pool : (he - hs) * (we - ws);
    float acc[V];
#pragma unroll
    for (int e = 0; e < V; e++) acc[e] = 0.f;
    for (int hi = hs; hi < he; hi++)
      for (int wi = ws; wi < we; wi++) {
        float v[V];
        loadV<T, V>(x + ((static_cast<size_t>(n) * g.H + hi) * g.W + wi) * g.C + cv * V, v);
#pragma unroll
        for (int e = 0; e < V; e++) acc[e] += v[e];
      }
#pragma unroll
    for (int e = 0; e < V; e++) acc[e] = cnt > 0 ? acc[e] / static_cast<float>(cnt) : 0.f;
    storeV<T, V>(y + pix * g.C + cv * V, acc);
  }
}

// y[n,c] (fp32) = mean over HW of x[n,:,c]. Block (32 channels) x (8 rows of HW), reduced in shared memory.
template <typename T>
__global__ void global_avgpool_kernel(const T* __restrict__ x, int HW, int C, float* __restrict__ y) {
  __shared__ float part[8][33];
  const int n = blockIdx.y, c = blockIdx.x * 32 + threadIdx.x;
  float s = 0.f;
  if (c < C)
    for (int i = threadIdx.y; i < HW; i += 8) s += to_f(x[(static_cast<size_t>(n) * HW + i) * C + c]);
  part[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y == 0 && c < C) {
    float t = 0.f;
#pragma unroll
    for (int j = 0; j < 8; j++) t += part[j][threadIdx.x];
    y[static_cast<size_t>(n) * C + c] = t / static_cast<float>(HW);
  }
}

// y[n,k] = bias[k] + sum_c mean_hw(x[n,:,c]) * w[k,c]   (fc is the HW = 1 case)
// CTA: FC_NB images x kb classes. Per chunk of FC_CCH channels: pool the NB images into shared memory once, then
// thread (class kl, slice cs) accumulates its classes over channels c = cs, cs + slices, ... (w row reads stay in
// L1; pooled reads are warp broadcasts); finally the slices are summed through shared memory.
// FLOPs = 2·N·K·C (+ N·HW·C adds); bytes >= N·HW·C·elt + K·C·4 (+ x re-read once per class block).
constexpr int FC_NB = 8, FC_CCH = 512;
template <typename T>
__global__ void __launch_bounds__(kThreads)
global_avgpool_fc_kernel(const T* __restrict__ x, int N, int HW, int C, const float* __restrict__ w,
                         const float* __restrict__ bias, int K, float* __restrict__ y, int kb) {
  __shared__ float pooled[FC_NB][FC_CCH];
  __shared__ float red[kThreads][FC_NB + 1];
  const int tid = threadIdx.x, slices = kThreads / kb, kl = tid % kb, cs = tid / kb;
  const int k = blockIdx.x * kb + kl, n0 = blockIdx.y * FC_NB;
  const int nb = min(FC_NB, N - n0);
  float acc[FC_NB];
#pragma unroll
  for (int i = 0; i < FC_NB; i++) acc[i] = 0.f;
  for (int c0 = 0; c0 < C; c0 += FC_CCH) {
    const int cc = min(FC_CCH, C - c0);
    __syncthreads();
    for (int idx = tid; idx < FC_NB * cc; idx += kThreads) {
      const int nl = idx / cc, c = idx - nl * cc;
      float s = 0.f;
      if (nl < nb) {
        const T* xp = x + static_cast<size_t>(n0 + nl) * HW * C + c0 + c;
        for (int i = 0; i < HW; i++) s += to_f(xp[static_cast<size_t>(i) * C]);
        s /= static_cast<float>(HW);
      }
      pooled[nl][c] = s;
    }
    __syncthreads();
    if (k < K) {
      const float* wr = w + static_cast<size_t>(k) * C + c0;
      for (int c = cs; c < cc; c += slices) {
        const float wv = __ldg(wr + c);
#pragma unroll
        for (int i = 0; i < FC_NB; i++) acc[i] = fmaf(pooled[i][c], wv, acc[i]);
      }
    }
  }
#pragma unroll
  for (int i = 0; i < FC_NB; i++) red[tid][i] = acc[i];
  __syncthreads();
  if (cs == 0 && k < K) {
    for (int i = 0; i < nb; i++) {
      float s = bias ? bias[k] : 0.f;
      for (int j = 0; j < slices; j++) s += red[j * kb + kl][i];
      y[static_cast<size_t>(n0 + i) * K + k] = s;
    }
  }
}

template <typename T>
rk_status launch_gap_fc(const T* x, int N, int HW, int C, const float* w, const float* bias, int K, float* y,
                        cudaStream_t s) {
  const int kb = N <= 64 ? 64 : 256;  // small batches: more class blocks to fill the GPU
  dim3 grid((K + kb - 1) / kb, (N + FC_NB - 1) / FC_NB);
  RK_LAUNCH(grid, kThreads, 0, s, global_avgpool_fc_kernel<T>)(x, N, HW, C, w, bias, K, y, kb);
  RK_LAUNCH_TRY();
  return RK_OK;
}

rk_status check_pool(const void* x, const void* y, const PoolGeom& g, const char* what) {
  RK_ARG_CHECK(x && y && g.N > 0 && g.H > 0 && g.W > 0 && g.C > 0 && g.kh > 0 && g.kw > 0 && g.stride > 0 &&
                   g.P > 0 && g.Q > 0 && g.pad_h >= 0 && g.pad_w >= 0,
               "%s: bad arguments", what);
  RK_ARG_CHECK(x != y, "%s: y must not alias x", what);
  RK_ARG_CHECK(static_cast<long long>(g.H) * g.W * g.C < INT32_MAX && static_cast<long long>(g.P) * g.Q * g.C < INT32_MAX,
               "%s: sizes too large", what);
  return RK_OK;
}

}  // namespace
}  // namespace rk

using namespace rk;

extern "C" {

rk_status rk_cuda_maxpool2d(int dtype, const void* x, int N, int H, int W, int C, int kh, int kw, int stride,
                            int pad_h, int pad_w, void* y, int P, int Q, void* stream) {
  PoolGeom g{N, H, W, C, kh, kw, stride, pad_h, pad_w, P, Q};
  rk_status st = check_pool(x, y, g, "maxpool2d");
  if (st != RK_OK) return st;
  const bool vec = C % 8 == 0 && aligned16(x) && aligned16(y);
  const long long items = static_cast<long long>(N) * P * Q * (vec ? C / 8 : C);
  const cudaStream_t s = reinterpret_cast<cudaStream_t>(stream);
  return dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    if (vec) RK_LAUNCH(grid_for(items), kThreads, 0, s, maxpool_kernel<T, 8>)(static_cast<const T*>(x), g, static_cast<T*>(y));
    else RK_LAUNCH(grid_for(items), kThreads, 0, s, maxpool_kernel<T, 1>)(static_cast<const T*>(x), g, static_cast<T*>(y));
    RK_LAUNCH_TRY();
    return RK_OK;
  });
}

rk_status rk_cuda_avgpool2d(int dtype, const void* x, int N, int H, int W, int C, int kh, int kw, int stride,
                            int pad_h, int pad_w, int count_include_pad, void* y, int P, int Q, void* stream) {
  PoolGeom g{N, H, W, C, kh, kw, stride, pad_h, pad_w, P, Q};
  rk_status st = check_pool(x, y, g, "avgpool2d");
  if (st != RK_OK) return st;
  const bool vec = C % 8 == 0 && aligned16(x) && aligned16(y);
  const long long items = static_cast<long long>(N) * P * Q * (vec ? C / 8 : C);
  const cudaStream_t s = reinterpret_cast<cudaStream_t>(stream);
  const int cip = count_include_pad ? 1 : 0;
  return dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    if (vec) RK_LAUNCH(grid_for(items), kThreads, 0, s, avgpool_kernel<T, 8>)(static_cast<const T*>(x), g, cip, static_cast<T*>(y));
    else RK_LAUNCH(grid_for(items), kThreads, 0, s, avgpool_kernel<T, 1>)(static_cast<const T*>(x), g, cip, static_cast<T*>(y));
    RK_LAUNCH_TRY();
    return RK_OK;
  });
}

rk_status rk_cuda_global_avgpool(int dtype, const void* x, int N, int HW, int C, float* y, void* stream) {
  RK_ARG_CHECK(x && y && N > 0 && HW > 0 && C > 0 && N <= 65535, "global_avgpool: bad arguments");
  dim3 grid((C + 31) / 32, N), block(32, 8);
  const cudaStream_t s = reinterpret_cast<cudaStream_t>(stream);
  return dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    RK_LAUNCH(grid, block, 0, s, global_avgpool_kernel<T>)(static_cast<const T*>(x), HW, C, y);
    RK_LAUNCH_TRY();
    return RK_OK;
  });
}

rk_status rk_cuda_fc(const float* x, int N, int C, const float* w, const float* bias, int K, float* y, void* stream) {
  RK_ARG_CHECK(x && w && y && N > 0 && C > 0 && K > 0 && (N + FC_NB - 1) / FC_NB <= 65535, "fc: bad arguments");
  return launch_gap_fc<float>(x, N, 1, C, w, bias, K, y, reinterpret_cast<cudaStream_t>(stream));
}

rk_status rk_cuda_global_avgpool_fc(int dtype, const void* x, int N, int HW, int C, const float* w, const float* bias,
                                    int K, float* y, void* stream) {
  RK_ARG_CHECK(x && w && y && N > 0 && HW > 0 && C > 0 && K > 0 && (N + FC_NB - 1) / FC_NB <= 65535,
               "global_avgpool_fc: bad arguments");
  const cudaStream_t s = reinterpret_cast<cudaStream_t>(stream);
  return dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    return launch_gap_fc<T>(static_cast<const T*>(x), N, HW, C, w, bias, K, y, s);
  });
}

}  // extern "C"
