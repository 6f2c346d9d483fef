// reskern CUDA element-wise ops: dtype conversion, NCHW->NHWC, image preprocessing, bn_relu, add_relu.
// All memory-bound: bytes = elements x (in + out element sizes); the vector paths move 16 bytes per load/store
// (8 halves or 2x4 floats) when pointers are 16-byte aligned, otherwise a scalar path handles any alignment.
// Math in fp32; relu keeps NaN (v < 0 ? 0 : v) as the CPU twin.
#include "rk_common.cuh"
#include <algorithm>

namespace rk {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ float relu_if(float v, bool relu) { return relu && v < 0.f ? 0.f : v; }

// Grid for `items` threads of work, grid-stride beyond a few waves.
inline unsigned grid_for(long long items) {
  const long long sms = std::max(1, current_device_sm_count());
  long long blocks = (items + kThreads - 1) / kThreads;
  return static_cast<unsigned>(std::max(1LL, std::min(blocks, sms * 32)));
}

// y = convert(x): 8 elements per thread.
template <typename Ti, typename To>
__global__ void convert_kernel(const Ti* __restrict__ x, To* __restrict__ y, long long count, bool vec) {
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x * 8;
  for (long long i0 = (static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x) * 8; i0 < count; i0 += stride) {
    if (vec && i0 + 8 <= count) {
      float v[8];
      load8<Ti>(x + i0, v);
      store8<To>(y + i0, v);
    } else {
      for (long long i = i0; i < count && i < i0 + 8; i++) y[i] = from_f<To>(to_f(x[i]));
    }
  }
}

// y[n, h, w, c] = x[n, c, h, w] (fp32 in, dtype out): 32x32 tiles through shared memory.
template <typename T>
__global__ void nchw_to_nhwc_kernel(const float* __restrict__ x, int C, int HW, T* __restrict__ y) {
  __shared__ float tile[32][33];
  const int n = blockIdx.z, hw0 = blockIdx.x * 32, c0 = blockIdx.y * 32, tx = threadIdx.x, ty = threadIdx.y;
  const float* xn = x + static_cast<size_t>(n) * C * HW;
  T* yn = y + static_cast<size_t>(n) * C * HW;
#pragma unroll
  for (int j = 0; j < 32; j += 8) {
    const int c = c0 + ty + j, hw = hw0 + tx;
    if (c < C && hw < HW) tile[ty + j][tx] = xn[static_cast<size_t>(c) * HW + hw];
  }
  __syncthreads();
#pragma unroll
  for (int j = 0; j < 32; j += 8) {
    const int hw = hw0 + ty + j, c = c0 + tx;
    if (c < C && hw < HW) yn[static_cast<size_t>(hw) * C + c] = from_f<T>(tile[tx][ty + j]);
  }
}

// y[i, c] = (x[i, c] / 255 - mean[c]) / std[c] over RGB pixels i (uint8 HWC in, dtype out).
struct Norm3 {
  float mean[3], std[3];
};
template <typename T>
__global__ void preprocess_u8_kernel(const uint8_t* __restrict__ x, long long count, Norm3 nh, const float* mean_d,
                                     const float* std_d, T* __restrict__ y) {
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride) {
    const int c = static_cast<int>(i % 3);
    const float mean = mean_d ? mean_d[c] : nh.mean[c];
    const float sd = std_d ? std_d[c] : nh.std[c];
    y[i] = from_f<T>((static_cast<float>(x[i]) / 255.f - mean) / sd);
  }
}

// y[i, c] = relu?(scale[c] * x[i, c] + shift[c]).
template <typename T>
__global__ void bn_relu_kernel(const T* x, long long total, int C, const float* __restrict__ scale,
                               const float* __restrict__ shift, bool relu, T* y, bool vec) {
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x * 8;
  for (long long i0 = (static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x) * 8; i0 < total; i0 += stride) {
    if (vec) {  // C % 8 == 0: the 8 elements share one row, channels c0..c0+7
      const int c0 = static_cast<int>(i0 % C);
      float v[8];
      load8<T>(x + i0, v);
#pragma unroll
      for (int e = 0; e < 8; e++) v[e] = relu_if(__ldg(scale + c0 + e) * v[e] + __ldg(shift + c0 + e), relu);
      store8<T>(y + i0, v);
    } else {
      for (long long i = i0; i < total && i < i0 + 8; i++) {
        const int c = static_cast<int>(i % C);
        y[i] = from_f<T>(relu_if(scale[c] * to_f(x[i]) + shift[c], relu));
      }
    }
  }
}

// y = relu?(a + b).
template <typename T>
__global__ void add_relu_kernel(const T* a, const T* b, long long count, bool relu, T* y, bool vec) {
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x * 8;
  for (long long i0 = (static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x) * 8; i0 < count; i0 += stride) {
    if (vec && i0 + 8 <= count) {
      float va[8], vb[8];
      load8<T>(a + i0, va);
      load8<T>(b + i0, vb);
#pragma unroll
      for (int e = 0; e < 8; e++) va[e] = relu_if(va[e] + vb[e], relu);
      store8<T>(y + i0, va);
    } else {
      for (long long i = i0; i < count && i < i0 + 8; i++) y[i] = from_f<T>(relu_if(to_f(a[i]) + to_f(b[i]), relu));
    }
  }
}

template <typename Ti, typename To>
rk_status launch_convert(const void* x, void* y, long long count, cudaStream_t s) {
  const bool vec = aligned16(x) && aligned16(y);
  RK_LAUNCH(grid_for((count + 7) / 8), kThreads, 0, s, convert_kernel<Ti, To>)(static_cast<const Ti*>(x), static_cast<To*>(y),
                                                                        count, vec);
  RK_LAUNCH_TRY();
  return RK_OK;
}

// Is p a device pointer (readable by kernels)? Host / unknown pointers are read on the host instead.
bool is_device_pointer(const void* p) {
  cudaPointerAttributes a;
  if (cudaPointerGetAttributes(&a, p) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  return a.type == cudaMemoryTypeDevice || a.type == cudaMemoryTypeManaged;
}

}  // namespace
}  // namespace rk

using namespace rk;

extern "C" {

rk_status rk_cuda_convert(const void* x, int x_dtype, void* y, int y_dtype, long long count, void* stream) {
  RK_ARG_CHECK(valid_dtype(x_dtype) && valid_dtype(y_dtype), "convert: bad dtype %d -> %d", x_dtype, y_dtype);
  RK_ARG_CHECK(count >= 0, "convert: negative count");
  if (count == 0) return RK_OK;
  RK_ARG_CHECK(x && y, "convert: null pointer");
  const cudaStream_t s = reinterpret_cast<cudaStream_t>(stream);
  if (x_dtype == y_dtype) {
    if (x == y) return RK_OK;
    RK_CUDA_TRY(cudaMemcpyAsync(y, x, static_cast<size_t>(count) * dtype_size(x_dtype), cudaMemcpyDeviceToDevice, s));
    return RK_OK;
  }
  RK_ARG_CHECK(static_cast<const void*>(y) != x, "convert: in-place conversion between dtypes is not supported");
  return dispatch_dtype(x_dtype, [&](auto xi) {
    using Ti = decltype(xi);
    return dispatch_dtype(y_dtype, [&](auto yo) {
      using To = decltype(yo);
      return launch_convert<Ti, To>(x, y, count, s);
    });
  });
}

rk_status rk_cuda_nchw_to_nhwc(const float* x, int N, int C, int H, int W, void* y, int dtype, void* stream) {
  RK_ARG_CHECK(x && y && N > 0 && C > 0 && H > 0 && W > 0 && static_cast<const void*>(x) != y,
               "nchw_to_nhwc: bad arguments");
  RK_ARG_CHECK(N <= 65535 && (C + 31) / 32 <= 65535 && static_cast<long long>(H) * W < INT32_MAX &&
                   static_cast<long long>(C) * H * W < INT32_MAX,
               "nchw_to_nhwc: sizes too large");
  const int HW = H * W;
  dim3 grid((HW + 31) / 32, (C + 31) / 32, N), block(32, 8);
  const cudaStream_t s = reinterpret_cast<cudaStream_t>(stream);
  return dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    RK_LAUNCH(grid, block, 0, s, nchw_to_nhwc_kernel<T>)(x, C, HW, static_cast<T*>(y));
    RK_LAUNCH_TRY();
    return RK_OK;
  });
}

rk_status rk_cuda_preprocess_u8(const uint8_t* x, int N, int H, int W, const float* mean, const float* std, void* y,
                                int dtype, void* stream) {
  RK_ARG_CHECK(x && y && mean && std && N > 0 && H > 0 && W > 0, "preprocess_u8: bad arguments");
  const long long count = static_cast<long long>(N) * H * W * 3;
  // mean/std may be device or host pointers: device ones are read by the kernel, host ones are passed by value.
  Norm3 nh{{0.f, 0.f, 0.f}, {1.f, 1.f, 1.f}};
  const float* mean_d = is_device_pointer(mean) ? mean : nullptr;
  const float* std_d = is_device_pointer(std) ? std : nullptr;
  for (int c = 0; c < 3; c++) {
    if (!mean_d) nh.mean[c] = mean[c];
    if (!std_d) nh.std[c] = std[c];
  }
  const cudaStream_t s = reinterpret_cast<cudaStream_t>(stream);
  return dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    RK_LAUNCH(grid_for(count), kThreads, 0, s, preprocess_u8_kernel<T>)(x, count, nh, mean_d, std_d, static_cast<T*>(y));
    RK_LAUNCH_TRY();
    return RK_OK;
  });
}

rk_status rk_cuda_bn_relu(int dtype, const void* x, long long M, int C, const float* scale, const float* shift,
                          int relu, void* y, void* stream) {
  RK_ARG_CHECK(x && y && scale && shift && M >= 0 && C > 0, "bn_relu: bad arguments");
  const long long total = M * C;
  if (total == 0) return RK_OK;
  const bool vec = C % 8 == 0 && aligned16(x) && aligned16(y);
  const cudaStream_t s = reinterpret_cast<cudaStream_t>(stream);
  return dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    RK_LAUNCH(grid_for((total + 7) / 8), kThreads, 0, s, bn_relu_kernel<T>)(static_cast<const T*>(x), total, C, scale, shift,
                                                                      relu != 0, static_cast<T*>(y), vec);
    RK_LAUNCH_TRY();
    return RK_OK;
  });
}

rk_status rk_cuda_add_relu(int dtype, const void* a, const void* b, long long count, int relu, void* y, void* stream) {
  RK_ARG_CHECK(a && b && y && count >= 0, "add_relu: bad arguments");
  if (count == 0) return RK_OK;
  const bool vec = aligned16(a) && aligned16(b) && aligned16(y);
  const cudaStream_t s = reinterpret_cast<cudaStream_t>(stream);
  return dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    RK_LAUNCH(grid_for((count + 7) / 8), kThreads, 0, s, add_relu_kernel<T>)(static_cast<const T*>(a), static_cast<const T*>(b),
                                                                       count, relu != 0, static_cast<T*>(y), vec);
    RK_LAUNCH_TRY();
    return RK_OK;
  });
}

}  // extern "C"
