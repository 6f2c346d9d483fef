// Portable implicit-GEMM convolution (baseline x86-64, SSE2 at most through auto-vectorisation): the fallback
// when the CPU has neither AVX2+FMA nor AVX-512F. Micro-tile MR x NR = 4 pixels x 8 channels of plain float
// accumulators (8 SSE registers after vectorisation over NR); same driver and epilogue semantics.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "reskern_cpu.h"
#include "conv_internal.h"

namespace rk_cpu_detail {
namespace scalar {
namespace {  // internal linkage: no exported symbols, no PLT calls

constexpr int MR = 4, NR = NR_SCALAR, KC0 = 512;
#include "conv_tile.inc"

template <int mr, int NRT>
__attribute__((noinline)) void tile(const Tile& t, const Epi& e) {
  float acc[mr][NR];
  for (int m = 0; m < mr; m++)
    for (int j = 0; j < NR; j++) acc[m][j] = t.load_part ? t.part[m * NR + j] : 0.f;
  const float* b = t.B;
  for (int sg = 0; sg < t.nseg; sg++) {
    const float* const* rp = t.rows + sg * t.rstride;
    const float* ap[mr];
    for (int m = 0; m < mr; m++) ap[m] = rp[m];
    const int L = t.segs[sg].len;
    for (int k = 0; k < L; k++) {
      for (int m = 0; m < mr; m++) {
        const float av = ap[m][k];
        for (int j = 0; j < NR; j++) acc[m][j] += av * b[j];
      }
      b += NR;
    }
  }
  if (!t.finish) {
    for (int m = 0; m < mr; m++)
      for (int j = 0; j < NR; j++) t.part[m * NR + j] = acc[m][j];
    return;
  }
  const int k0 = t.k0;
  const int kv = (e.K - k0) < NR ? (e.K - k0) : NR;
  int lo = 0, hi = 0;
  if (e.res_mode != RK_RES_NONE) res_lane_range(e, k0, kv, &lo, &hi);
  for (int m = 0; m < mr; m++) {
    float* yr = e.y + (size_t)(t.m0 + m) * (size_t)e.K + k0;
    const float* rr = e.res_mode != RK_RES_NONE ? res_row(e, t.roff[m], k0) : nullptr;
    for (int j = 0; j < kv; j++) {
      float v = acc[m][j] * (e.scale ? e.scale[k0 + j] : 1.f) + (e.shift ? e.shift[k0 + j] : 0.f);
      if (rr && j >= lo && j < hi) v += rr[j];
      yr[j] = e.relu && v < 0.f ? 0.f : v;
    }
  }
}

// conv_driver.inc's Winograd transforms use 32-byte GCC vectors (two xmm here); -Wpsabi warns that they would be
// passed differently than with AVX, but they never cross this TU.
#pragma GCC diagnostic ignored "-Wpsabi"
#include "conv_driver.inc"

}  // namespace
}  // namespace scalar

int conv_gemm_scalar(const ConvArgs& a) { return scalar::conv_run<scalar::NR>(a); }
int conv_wino_scalar(const ConvArgs& a, int m) { return scalar::wino_run<scalar::NR>(a, m); }

}  // namespace rk_cpu_detail
