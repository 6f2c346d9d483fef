// SIMT fp32-accumulate convolution: the generic algo ("simt_f32_generic") that implements every problem the ABI
// accepts (any R, S, stride, padding, groups, dtype, residual mode, dual output, pre_avgpool). Exact fp32 FMA math,
// so it is also the fp32 + RK_MATH_EXACT path.
//
//   y  = relu?( scale ⊙ conv(x, W) + shift + residual )        y2 = relu( post_scale ⊙ y + post_shift )
//   per group g: D_g[M x K/groups] = A_g[M x Ktot] · B_g[Ktot x K/groups],  Ktot = R·S·C/groups
//   FLOPs = 2·N·P·Q·K·R·S·C/groups
//
// Mainloop: CTA tile 64 (pixels) x 64 (channels) x 16 (k), 256 threads, 4x4 outputs per thread; A and B are
// converted to fp32 on load and staged through registers (the loads of tile kt+1 are in flight during the FMAs of
// tile kt); shared tiles are k-major with rows padded by 4 floats so the float4 fragment reads are aligned.
// Each thread keeps one incremental (r, s, c) state for its k-column (no division in the loop).
// Epilogue: epilogue1() per element (scale/shift/residual/relu/y2), channel-contiguous stores.
#include "conv.cuh"

namespace rk {
namespace {

constexpr int SB_M = 64, SB_N = 64, SB_K = 16, S_THREADS = 256, S_LDS = SB_M + 4;

// y = relu?(scale ⊙ conv(x, W) + shift + residual) (+ y2), fp32 SIMT, grouped.
template <typename T>
__global__ void __launch_bounds__(S_THREADS) conv_scale_shift_residual_relu_simt(const ConvParams p) {
  __shared__ __align__(16) float As[SB_K][S_LDS];
  __shared__ __align__(16) float Bs[SB_K][S_LDS];
  const int tid = threadIdx.x;
  const int g = blockIdx.z;
  const int Cg = p.C / p.groups, Kg = p.K / p.groups, Ktot = p.Ktot;
  const int ntn = (Kg + SB_N - 1) / SB_N;
  const int m0 = static_cast<int>(blockIdx.x / ntn) * SB_M;
  const int n0 = static_cast<int>(blockIdx.x % ntn) * SB_N;
  const T* __restrict__ x = static_cast<const T*>(p.x);
  const T* __restrict__ w = static_cast<const T*>(p.w);
  const int H = p.H, W = p.W, C = p.C, R = p.R, S = p.S;

  // A loader: k-column ak, rows ar + 16 i.  B loader: k-column bk (= ak), rows br + 16 j.
  const int ak = tid & 15, ar = tid >> 4;
  int a_h0[4], a_w0[4];
  size_t a_img[4];
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const int m = m0 + ar + 16 * i;
    a_h0[i] = -(1 << 30); a_w0[i] = 0; a_img[i] = 0;
    if (m < p.M) {
      const int pq = p.P * p.Q;
      const int n = m / pq, rem = m - n * pq, pp = rem / p.Q, qq = rem - pp * p.Q;
      a_img[i] = static_cast<size_t>(n) * H * W * C + static_cast<size_t>(g) * Cg;
      if (p.pre_avgpool) { a_h0[i] = 2 * pp; a_w0[i] = 2 * qq; }
      else { a_h0[i] = pp * p.stride - p.pad_h; a_w0[i] = qq * p.stride - p.pad_w; }
    }
  }
  int st_c = ak % Cg, st_s = (ak / Cg) % S, st_r = (ak / Cg) / S;
  const T* b_row[4];
  bool b_ok[4];
#pragma unroll
  for (int j = 0; j < 4; j++) {
    const int kn = n0 + ar + 16 * j;
    b_ok[j] = kn < Kg;
    b_row[j] = w + static_cast<size_t>(g * Kg + (b_ok[j] ? kn : 0)) * Ktot;
  }

  float ra[4], rb[4];
  auto load = [&](int kt) {
#pragma unroll
    for (int i = 0; i < 4; i++) {
      float v = 0.f;
      if (st_r < R) {
        if (p.pre_avgpool) {  // 2x2/2 window clipped to the input, divided by the in-bounds count
          const int h0 = a_h0[i], w0 = a_w0[i];
          if (h0 >= 0 && h0 < H) {
            const int nh = h0 + 1 < H ? 2 : 1, nw = w0 + 1 < W ? 2 : 1;
            float s = 0.f;
            for (int dh = 0; dh < nh; dh++)
              for (int dw = 0; dw < nw; dw++)
                s += to_f(x[a_img[i] + (static_cast<size_t>(h0 + dh) * W + (w0 + dw)) * C + st_c]);
            v = s / static_cast<float>(nh * nw);
          }
        } else {
          const int hi = a_h0[i] + st_r, wi = a_w0[i] + st_s;
          if (static_cast<unsigned>(hi) < static_cast<unsigned>(H) && static_cast<unsigned>(wi) < static_cast<unsigned>(W))
            v = to_f(x[a_img[i] + (static_cast<size_t>(hi) * W + wi) * C + st_c]);
        }
      }
      ra[i] = v;
    }
    st_c += SB_K;
    while (st_c >= Cg) {
      st_c -= Cg;
      if (++st_s == S) { st_s = 0; ++st_r; }
    }
    const int kk = kt * SB_K + ak;
#pragma unroll
    for (int j = 0; j < 4; j++) rb[j] = (b_ok[j] && kk < Ktot) ? to_f(b_row[j][kk]) : 0.f;
  };

  float acc[4][4];
#pragma unroll
  for (int i = 0; i < 4; i++)
#pragma unroll
    for (int j = 0; j < 4; j++) acc[i][j] = 0.f;
  const int ty = tid >> 4, tx = tid & 15;
  const int KT = (Ktot + SB_K - 1) / SB_K;
  load(0);
  for (int kt = 0; kt < KT; kt++) {
#pragma unroll
    for (int i = 0; i < 4; i++) { As[ak][ar + 16 * i] = ra[i]; Bs[ak][ar + 16 * i] = rb[i]; }
    __syncthreads();
    if (kt + 1 < KT) load(kt + 1);
#pragma unroll
    for (int k = 0; k < SB_K; k++) {
      const float4 a = *reinterpret_cast<const float4*>(&As[k][ty * 4]);
      const float4 b = *reinterpret_cast<const float4*>(&Bs[k][tx * 4]);
      const float av[4] = {a.x, a.y, a.z, a.w}, bv[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
      for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const int m = m0 + ty * 4 + i;
    if (m >= p.M) continue;
#pragma unroll
    for (int j = 0; j < 4; j++) {
      const int kn = n0 + tx * 4 + j;
      if (kn < Kg) epilogue1<T>(p, m, g * Kg + kn, acc[i][j]);
    }
  }
}

template <typename T>
rk_status launch_simt(const ConvParams& p, cudaStream_t stream) {
  const int Kg = p.K / p.groups;
  const long long tiles = static_cast<long long>((p.M + SB_M - 1) / SB_M) * ((Kg + SB_N - 1) / SB_N);
  if (tiles <= 0) return RK_OK;
  if (tiles > 0x7fffffffLL || p.groups > 65535)
    return set_error(RK_ERR_UNSUPPORTED, "conv2d simt: grid too large (tiles %lld, groups %d)", tiles, p.groups);
  dim3 grid(static_cast<unsigned>(tiles), 1, static_cast<unsigned>(p.groups));
  RK_LAUNCH(grid, S_THREADS, 0, stream, conv_scale_shift_residual_relu_simt<T>)(p);
  RK_LAUNCH_TRY();
  return RK_OK;
}

}  // namespace

rk_status launch_conv_simt_f32(const ConvParams& p, cudaStream_t s) { return launch_simt<float>(p, s); }
rk_status launch_conv_simt_f16(const ConvParams& p, cudaStream_t s) { return launch_simt<__half>(p, s); }
rk_status launch_conv_simt_bf16(const ConvParams& p, cudaStream_t s) { return launch_simt<__nv_bfloat16>(p, s); }

}  // namespace rk
