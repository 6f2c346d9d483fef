// reskern CUDA image input: resize (separable resampling with caller-computed taps) + centre crop + normalise,
// uint8 pixels -> NHWC dtype, written at any device address (one slot of a batch input buffer).
//   t[p, j, c] = sum_{i < ny[p]} wy[p*ky + i] * x[ys[p] + i, j, c]                 (vertical pass first)
//   y[p, q, c] = (sum_{j < nx[q]} wx[q*kx + j] * t[p, xs[q] + j, c] / 255 - mean[c]) / std[c]
// Same formula and summation order as rk_cpu_resample_normalize_u8 (fp32, taps in index order); nvcc contracts the
// multiply-adds into FMAs, so results differ from the CPU twin by rounding only (~1e-7 relative).
//
// kernel1 (the one in use): one thread per output pixel (p, q), all 3 channels; for each column tap j it sums the
// row taps of that column (t never leaves registers), then accumulates wx * t. Work per pixel = ky * kx taps:
// 16 for the usual 500x375 -> 256 -> 224 (ky = kx = 4), ~600 for a 12-Mpixel photo; bytes are read through L1/L2,
// which hold the few image rows a block touches. No shared memory, no synchronisation. A two-pass version (block
// computes t for its column span into shared memory, ky + kx taps per pixel) is the obvious kernel2 for large
// downscale factors, to be written if the GPU bundle shows kernel1 matters next to JPEG decoding.
#include "rk_common.cuh"

namespace rk {
namespace {

constexpr int kTileQ = 32, kTileP = 4;  // block = 32 output columns x 4 output rows

template <typename T>
__global__ void resample_normalize_u8_kernel1(const uint8_t* __restrict__ x, int H, int W, long long row_stride,
                                              int ps, int o0, int o1, int o2, const int* __restrict__ ys,
                                              const int* __restrict__ ny, const float* __restrict__ wy, int ky,
                                              const int* __restrict__ xs, const int* __restrict__ nx,
                                              const float* __restrict__ wx, int kx, const float* __restrict__ mean,
                                              const float* __restrict__ sdev, T* __restrict__ y, int P, int Q) {
  const int q = blockIdx.x * blockDim.x + threadIdx.x;
  const int p = blockIdx.y * blockDim.y + threadIdx.y;
  if (p >= P || q >= Q) return;
  // Row taps [i0, i1) and column taps [j0, j1), clipped to the image (valid taps are never clipped; invalid ones
  // are skipped rather than read out of bounds, since the taps are not checked on the host).
  const int r0 = __ldg(ys + p), c0 = __ldg(xs + q);
  const int i0 = max(0, -r0), i1 = min(min(max(__ldg(ny + p), 0), ky), H - r0);
  const int j0 = max(0, -c0), j1 = min(min(max(__ldg(nx + q), 0), kx), W - c0);
  const float* wyp = wy + static_cast<size_t>(p) * ky;
  const float* wxq = wx + static_cast<size_t>(q) * kx;
  float a0 = 0.f, a1 = 0.f, a2 = 0.f;
  for (int j = j0; j < j1; j++) {
    const uint8_t* col = x + static_cast<size_t>(c0 + j) * ps;
    float t0 = 0.f, t1 = 0.f, t2 = 0.f;
    for (int i = i0; i < i1; i++) {
      const uint8_t* px = col + static_cast<size_t>(r0 + i) * static_cast<size_t>(row_stride);
      const float w = __ldg(wyp + i);
      t0 += w * static_cast<float>(__ldg(px + o0));
      t1 += w * static_cast<float>(__ldg(px + o1));
      t2 += w * static_cast<float>(__ldg(px + o2));
    }
    const float w = __ldg(wxq + j);
    a0 += w * t0;
    a1 += w * t1;
    a2 += w * t2;
  }
  T* yo = y + (static_cast<size_t>(p) * Q + q) * 3;
  yo[0] = from_f<T>((a0 / 255.f - __ldg(mean + 0)) / __ldg(sdev + 0));
  yo[1] = from_f<T>((a1 / 255.f - __ldg(mean + 1)) / __ldg(sdev + 1));
  yo[2] = from_f<T>((a2 / 255.f - __ldg(mean + 2)) / __ldg(sdev + 2));
}

}  // namespace
}  // namespace rk

using namespace rk;

extern "C" {

rk_status rk_cuda_resample_normalize_u8(const uint8_t* x, int H, int W, long long row_stride, int pixel_stride,
                                        int off_r, int off_g, int off_b, const int* ys, const int* ny, const float* wy,
                                        int ky, const int* xs, const int* nx, const float* wx, int kx,
                                        const float* mean, const float* std, void* y, int dtype, int P, int Q,
                                        void* stream) {
  RK_ARG_CHECK(x && ys && ny && wy && xs && nx && wx && mean && std && y, "resample_normalize_u8: null pointer");
  RK_ARG_CHECK(H > 0 && W > 0 && P > 0 && Q > 0 && ky > 0 && kx > 0,
               "resample_normalize_u8: bad sizes H=%d W=%d P=%d Q=%d ky=%d kx=%d", H, W, P, Q, ky, kx);
  RK_ARG_CHECK(pixel_stride >= 1 && pixel_stride <= 16 && off_r >= 0 && off_r < pixel_stride && off_g >= 0 &&
                   off_g < pixel_stride && off_b >= 0 && off_b < pixel_stride,
               "resample_normalize_u8: bad pixel layout (pixel_stride %d, offsets %d,%d,%d)", pixel_stride, off_r,
               off_g, off_b);
  RK_ARG_CHECK(row_stride >= static_cast<long long>(W) * pixel_stride,
               "resample_normalize_u8: row_stride %lld < W*pixel_stride = %lld", row_stride,
               static_cast<long long>(W) * pixel_stride);
  RK_ARG_CHECK((P + kTileP - 1) / kTileP <= 65535, "resample_normalize_u8: P=%d too large", P);
  const dim3 grid(ceil_div_u(Q, kTileQ), ceil_div_u(P, kTileP)), block(kTileQ, kTileP);
  const cudaStream_t s = reinterpret_cast<cudaStream_t>(stream);
  return dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    RK_LAUNCH(grid, block, 0, s, resample_normalize_u8_kernel1<T>)(x, H, W, row_stride, pixel_stride, off_r, off_g,
                                                                    off_b, ys, ny, wy, ky, xs, nx, wx, kx, mean, std,
                                                                    static_cast<T*>(y), P, Q);
    RK_LAUNCH_TRY();
    return RK_OK;
  });
}

}  // extern "C"
