// reskern CUDA: shared plumbing for every .cu in native/cuda.
//  - error recording: RK_CUDA_TRY(call) / RK_LAUNCH_TRY() turn a CUDA failure into RK_ERR_CUDA (or
//    RK_ERR_OUT_OF_MEMORY / RK_ERR_NO_DEVICE) and record "file:line: cudaErrorName: message (call)" in the
//    thread-local string returned by rk_cuda_last_error(). Nothing here prints, exits or aborts.
//  - dtype helpers: to_f / from_f and 16-byte vector load/store of 8 (or 4) elements, fp32 in registers.
#pragma once
#include <cuda_runtime.h>
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <stdint.h>
#include "reskern_cuda.h"

namespace rk {

// Record a formatted message, return `status`.
rk_status set_error(rk_status status, const char* fmt, ...);
// Record a CUDA failure at file:line; clears the (non-sticky) runtime error state; maps the code to a status.
rk_status cuda_fail(cudaError_t err, const char* file, int line, const char* what);
// SM count of the current device (cached per device); 0 when it cannot be read.
int current_device_sm_count();

inline bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }
inline size_t dtype_size(int dtype) { return dtype == RK_F32 ? 4 : 2; }
inline bool valid_dtype(int dtype) { return dtype == RK_F32 || dtype == RK_F16 || dtype == RK_BF16; }
inline unsigned ceil_div_u(long long a, long long b) { return static_cast<unsigned>((a + b - 1) / b); }

}  // namespace rk

#define RK_CUDA_TRY(call)                                                                  \
  do {                                                                                     \
    cudaError_t rk_e_ = (call);                                                            \
    if (rk_e_ != cudaSuccess) return ::rk::cuda_fail(rk_e_, __FILE__, __LINE__, #call);    \
  } while (0)
// Every kernel launch: RK_LAUNCH(grid, block, dynamic_smem, stream, kernel)(args...) == kernel<<<...>>>(args...).
// (The host emulation build in native/lab/emu defines RK_LAUNCH to run the kernel on host threads instead.)
#ifndef RK_LAUNCH
#define RK_LAUNCH(grid, block, smem, stream, ...) __VA_ARGS__<<<grid, block, smem, stream>>>
#endif
// After every launch: launch-configuration errors (and earlier asynchronous ones) surface here.
#define RK_LAUNCH_TRY() RK_CUDA_TRY(cudaGetLastError())
#define RK_ARG_CHECK(cond, ...)                                                        \
  do {                                                                                 \
    if (!(cond)) return ::rk::set_error(RK_ERR_INVALID_ARG, __VA_ARGS__);              \
  } while (0)

namespace rk {

// ---- element conversions (fp32 is the compute type everywhere) ----
__device__ __forceinline__ float to_f(float v) { return v; }
__device__ __forceinline__ float to_f(__half v) { return __half2float(v); }
__device__ __forceinline__ float to_f(__nv_bfloat16 v) { return __bfloat162float(v); }
template <typename T> __device__ __forceinline__ T from_f(float v);
template <> __device__ __forceinline__ float from_f<float>(float v) { return v; }
template <> __device__ __forceinline__ __half from_f<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 from_f<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

// ---- 16-byte chunk <-> fp32 registers. A chunk holds 16/sizeof(T) elements (8 halves or 4 floats). ----
template <typename T> struct Chunk { static constexpr int N = 16 / sizeof(T); };

template <typename T> __device__ __forceinline__ void unpack16(const uint4& u, float* v);
template <> __device__ __forceinline__ void unpack16<float>(const uint4& u, float* v) {
  v[0] = __uint_as_float(u.x); v[1] = __uint_as_float(u.y); v[2] = __uint_as_float(u.z); v[3] = __uint_as_float(u.w);
}
template <> __device__ __forceinline__ void unpack16<__half>(const uint4& u, float* v) {
  const __half2* h = reinterpret_cast<const __half2*>(&u);
#pragma unroll
  for (int i = 0; i < 4; i++) { float2 f = __half22float2(h[i]); v[2 * i] = f.x; v[2 * i + 1] = f.y; }
}
template <> __device__ __forceinline__ void unpack16<__nv_bfloat16>(const uint4& u, float* v) {
  const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&u);
#pragma unroll
  for (int i = 0; i < 4; i++) { float2 f = __bfloat1622float2(h[i]); v[2 * i] = f.x; v[2 * i + 1] = f.y; }
}
template <typename T> __device__ __forceinline__ uint4 pack16(const float* v);
template <> __device__ __forceinline__ uint4 pack16<float>(const float* v) {
  return make_uint4(__float_as_uint(v[0]), __float_as_uint(v[1]), __float_as_uint(v[2]), __float_as_uint(v[3]));
}
template <> __device__ __forceinline__ uint4 pack16<__half>(const float* v) {
  uint4 u; __half2* h = reinterpret_cast<__half2*>(&u);
#pragma unroll
  for (int i = 0; i < 4; i++) h[i] = __floats2half2_rn(v[2 * i], v[2 * i + 1]);
  return u;
}
template <> __device__ __forceinline__ uint4 pack16<__nv_bfloat16>(const float* v) {
  uint4 u; __nv_bfloat162* h = reinterpret_cast<__nv_bfloat162*>(&u);
#pragma unroll
  for (int i = 0; i < 4; i++) h[i] = __floats2bfloat162_rn(v[2 * i], v[2 * i + 1]);
  return u;
}

// 8 consecutive elements <-> 8 floats; p must be 16-byte aligned (one uint4 for halves, two for floats).
// Plain (coherent) loads: callers may run in place (y == x, or the conv residual aliasing y).
template <typename T> __device__ __forceinline__ void load8(const T* p, float (&v)[8]) {
  constexpr int CE = Chunk<T>::N;
#pragma unroll
  for (int i = 0; i < 8 / CE; i++) unpack16<T>(reinterpret_cast<const uint4*>(p)[i], v + i * CE);
}
template <typename T> __device__ __forceinline__ void store8(T* p, const float (&v)[8]) {
  constexpr int CE = Chunk<T>::N;
#pragma unroll
  for (int i = 0; i < 8 / CE; i++) reinterpret_cast<uint4*>(p)[i] = pack16<T>(v + i * CE);
}

// Apply a functor to the C++ element type of a runtime dtype.
template <typename F> inline rk_status dispatch_dtype(int dtype, F&& f) {
  switch (dtype) {
    case RK_F32: return f(float());
    case RK_F16: return f(__half());
    case RK_BF16: return f(__nv_bfloat16());
    default: return set_error(RK_ERR_INVALID_ARG, "bad dtype %d (RK_F32=0, RK_F16=1, RK_BF16=2)", dtype);
  }
}

}  // namespace rk
