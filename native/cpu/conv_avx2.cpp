// AVX2+FMA implicit-GEMM convolution (compiled with -mavx2 -mfma; selected at run time when AVX-512 is absent).
//
// Micro-kernel: MR x NR = 6 pixels x 16 output channels: 12 ymm accumulators + 2 B vectors + 1 broadcast = 15
// of the 16 ymm registers; 12 independent FMA chains cover latency 4-5 x 2 ports. KC = 512 (B block 32 KiB).
// Same driver, row-pointer A access, next-B-block prefetch, padding-segment skip and fused epilogue as the
// AVX-512 kernel (conv_avx512.cpp); masks via vmaskmov. ~75% of the ymm FMA peak on the ResNet-50 layers.
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include "reskern_cpu.h"
#include "conv_internal.h"

namespace rk_cpu_detail {
namespace avx2 {
namespace {  // internal linkage: no exported symbols, no PLT calls

constexpr int MR = 6, NR = NR_AVX2, KC0 = 512;
#include "conv_tile.inc"

static inline __m256i lane_mask(int lo, int hi) {  // lanes [lo, hi) of 8, as vmaskmov mask
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i ge = _mm256_cmpgt_epi32(idx, _mm256_set1_epi32(lo - 1));
  const __m256i lt = _mm256_cmpgt_epi32(_mm256_set1_epi32(hi), idx);
  return _mm256_and_si256(ge, lt);
}

// Accumulators are named variables, not an array: with an array gcc keeps a memory copy and stores every
// accumulator inside the k loop (only 16 ymm registers; the AVX-512 kernel does not have this problem).
#define RK_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
static_assert(MR == 6, "RK_ROWS lists MR rows");

template <int mr, int NRT>
__attribute__((noinline)) void tile(const Tile& t, const Epi& e) {
#define RK_DECL(i) __m256 c##i##0, c##i##1; const float* a##i = nullptr;
  RK_ROWS(RK_DECL)
#undef RK_DECL
#define RK_INIT(i)                                                                     \
  if constexpr (mr > i) {                                                              \
    c##i##0 = t.load_part ? _mm256_load_ps(t.part + i * NR) : _mm256_setzero_ps();     \
    c##i##1 = t.load_part ? _mm256_load_ps(t.part + i * NR + 8) : _mm256_setzero_ps(); \
  }
  RK_ROWS(RK_INIT)
#undef RK_INIT
  const float* b = t.B;
  const char* pf = t.pf;
  for (int sg = 0; sg < t.nseg; sg++) {
    const float* const* rp = t.rows + sg * t.rstride;
#define RK_ROWPTR(i) \
  if constexpr (mr > i) a##i = rp[i];
    RK_ROWS(RK_ROWPTR)
#undef RK_ROWPTR
    const int L = t.segs[sg].len;
    if (t.zero) {  // every row of the tile is a padding tap here (image borders): nothing to add
      bool all0 = true;
#define RK_Z(i) \
  if constexpr (mr > i) all0 &= a##i == t.zero;
      RK_ROWS(RK_Z)
#undef RK_Z
      if (all0) {
        b += (size_t)L * NR;
        if (pf) pf += (size_t)L * 64;
        continue;
      }
    }
#define RK_FMA(i)                                         \
  if constexpr (mr > i) {                                 \
    const __m256 av = _mm256_broadcast_ss(a##i + k);      \
    c##i##0 = _mm256_fmadd_ps(av, b0, c##i##0);           \
    c##i##1 = _mm256_fmadd_ps(av, b1, c##i##1);           \
  }
    if (pf) {  // also prefetch the next B block into L2, one line per k step
      for (int k = 0; k < L; k++) {
        _mm_prefetch(pf, _MM_HINT_T1);
        pf += 64;
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        b += NR;
        RK_ROWS(RK_FMA)
      }
    } else {
      for (int k = 0; k < L; k++) {
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        b += NR;
        RK_ROWS(RK_FMA)
      }
    }
#undef RK_FMA
  }
  // Park the accumulators in memory (part for a partial block, else a local buffer read by the epilogue).
  alignas(32) float acc[mr * NR];
  float* dst = t.finish ? acc : t.part;
#define RK_STORE(i)                                \
  if constexpr (mr > i) {                          \
    _mm256_store_ps(dst + i * NR, c##i##0);        \
    _mm256_store_ps(dst + i * NR + 8, c##i##1);    \
  }
  RK_ROWS(RK_STORE)
#undef RK_STORE
  if (!t.finish) return;
  const int k0 = t.k0;
  const int kv = (e.K - k0) < NR ? (e.K - k0) : NR;
  const __m256i m0 = lane_mask(0, kv), m1 = lane_mask(-8, kv - 8);
  const __m256 s0 = e.scale ? _mm256_maskload_ps(e.scale + k0, m0) : _mm256_set1_ps(1.f);
  const __m256 s1 = e.scale ? _mm256_maskload_ps(e.scale + k0 + 8, m1) : _mm256_set1_ps(1.f);
  const __m256 h0 = e.shift ? _mm256_maskload_ps(e.shift + k0, m0) : _mm256_setzero_ps();
  const __m256 h1 = e.shift ? _mm256_maskload_ps(e.shift + k0 + 8, m1) : _mm256_setzero_ps();
  __m256i r0 = _mm256_setzero_si256(), r1 = _mm256_setzero_si256();
  if (e.res_mode != RK_RES_NONE) {
    int lo, hi;
    res_lane_range(e, k0, kv, &lo, &hi);
    r0 = lane_mask(lo, hi);
    r1 = lane_mask(lo - 8, hi - 8);
  }
  const __m256 z = _mm256_setzero_ps();
  for (int m = 0; m < mr; m++) {
    __m256 v0 = _mm256_fmadd_ps(_mm256_load_ps(acc + m * NR), s0, h0);
    __m256 v1 = _mm256_fmadd_ps(_mm256_load_ps(acc + m * NR + 8), s1, h1);
    if (e.res_mode != RK_RES_NONE) {
      const float* rr = res_row(e, t.roff[m], k0);
      v0 = _mm256_add_ps(v0, _mm256_maskload_ps(rr, r0));
      v1 = _mm256_add_ps(v1, _mm256_maskload_ps(rr + 8, r1));
    }
    if (e.relu) {  // max(0, v) keeps NaN (second operand) and -0, like `v < 0 ? 0 : v`
      v0 = _mm256_max_ps(z, v0);
      v1 = _mm256_max_ps(z, v1);
    }
    float* yr = e.y + (size_t)(t.m0 + m) * (size_t)e.K + k0;
    _mm256_maskstore_ps(yr, m0, v0);
    _mm256_maskstore_ps(yr + 8, m1, v1);
  }
}

#include "conv_driver.inc"

}  // namespace
}  // namespace avx2

int conv_gemm_avx2(const ConvArgs& a) { return avx2::conv_run<avx2::NR>(a); }

}  // namespace rk_cpu_detail
