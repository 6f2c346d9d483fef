// AVX-512F implicit-GEMM convolution (compiled with -mavx512f -mavx2 -mfma; selected at run time).
//
// Micro-kernel: MR x NR = 6 pixels x 64 output channels (4 zmm per row).
//  * 24 zmm accumulators + 4 B vectors + 1 broadcast = 29 of 32 registers; 24 independent FMA chains cover the
//    4-cycle latency x 2 FMA ports. Each k step = 4 B loads + 6 broadcasts for 24 FMAs (0.42 loads/FMA).
//    Measured on Ice Lake (L1-resident, 1 core): 6x64 and 4x64 reach ~98% of the FMA peak, 8x32 / 12x32 only
//    ~85% (more loads per FMA); 6x64 also keeps ~92% when B is not 64-byte aligned (4x64 drops to ~72%).
//    NR = 64 divides every ResNet width (64..2048), so no panel is wasted there.
//  * A rows are addressed through 6 independent row pointers (NHWC pixels in x, or the zero row for padding
//    taps), so a tile's rows need not be adjacent in memory: 1x1 convs of any stride and 3x3 convs read x in
//    place.
//  * KC = 128: a reduction block of B is 128 x 64 x 4 B = 32 KiB, resident in the 48 KiB L1 while the chunk's
//    M-tiles stream past it (A/B-tested against 64..512 on the ResNet-50 shapes: 128 is best).
//  * Software prefetch: the next B block into L2 during the first tiles of a block (+10-20% on weight-heavy
//    7x7/14x14 layers), the residual lines of the epilogue during the first k steps.
//  * Narrow convs (K <= 16 / 32) use 16/32-wide panels (tile<mr, 16|32>) instead of padding K up to 64.
//  * The epilogue y = relu?(scale*acc + shift + residual) runs on the accumulators of the last block with
//    masked loads/stores for the K tail and option-A channel padding.
//  * Grouped convs with C/groups == K/groups (ResNeXt, depthwise) have their own vector kernel at the end.
//  * bf16 (RK_CONV_BF16: conv_avx512bf16.cpp compiles this file again with -mavx512bf16): A and B hold bf16 pairs,
//    one per 32-bit element (channels 2c and 2c+1), and each step is a vdpbf16ps, c += a.lo*b.lo + a.hi*b.hi in
//    fp32: the same tile, loads and registers for twice the multiply-adds and half the weight bytes. The driver is
//    unchanged: it sees a conv of ceil(C/2) "channels" (cpu_ops.cpp converts x into pairs first).
#ifdef RK_AVX512_EMU
#include "avx512_simde.h"  // the test build: SIMDe on AVX2 (native/lab/avx512emu/)
#else
#include <immintrin.h>
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "reskern_cpu.h"
#include "conv_internal.h"

#ifdef RK_CONV_BF16
#define RK_AVX512_NS avx512bf16
#else
#define RK_AVX512_NS avx512
#endif

namespace rk_cpu_detail {
namespace RK_AVX512_NS {
namespace {  // internal linkage: no exported symbols, no PLT calls

constexpr int MR = 6, NR = NR_AVX512, KC0 = 128;

#include "conv_tile.inc"

static inline __mmask16 lane_mask(int lo, int hi) {  // lanes [lo, hi) of 16
  if (lo < 0) lo = 0;
  if (hi > 16) hi = 16;
  if (hi <= lo) return 0;
  return (__mmask16)(((1u << (hi - lo)) - 1u) << lo);
}

#ifndef RK_CONV_BF16
// One reduction step: c[m][:] += A[m][k] * B[k][:] for the tile's mr rows.
template <int mr, int NV>
static inline __attribute__((always_inline)) void step(__m512 (&c)[mr][NV], const float* const (&ap)[mr], int k,
                                                       const float* b) {
  __m512 bv[NV];
  for (int v = 0; v < NV; v++) bv[v] = _mm512_loadu_ps(b + 16 * v);
  for (int m = 0; m < mr; m++) {
    const __m512 av = _mm512_set1_ps(ap[m][k]);
    for (int v = 0; v < NV; v++) c[m][v] = _mm512_fmadd_ps(av, bv[v], c[m][v]);
  }
}
#else
static inline __m512bh as_bf16x32(__m512 v) {  // the same 64 bytes seen as 32 bf16 (no instruction)
  __m512bh r;
  memcpy(&r, &v, sizeof r);
  return r;
}
// One reduction step over a pair of channels: c[m][j] += A[m][2k]*B[2k][j] + A[m][2k+1]*B[2k+1][j], where A[m][k]
// and B[k][j] are 32-bit elements holding the bf16 pair (low half = even channel).
template <int mr, int NV>
static inline __attribute__((always_inline)) void step(__m512 (&c)[mr][NV], const float* const (&ap)[mr], int k,
                                                       const float* b) {
  __m512bh bv[NV];
  for (int v = 0; v < NV; v++) bv[v] = as_bf16x32(_mm512_loadu_ps(b + 16 * v));
  for (int m = 0; m < mr; m++) {
    const __m512bh av = as_bf16x32(_mm512_set1_ps(ap[m][k]));  // the pair's bits, broadcast
    for (int v = 0; v < NV; v++) c[m][v] = _mm512_dpbf16_ps(c[m][v], av, bv[v]);
  }
}
#endif

template <int mr, int NRT>
__attribute__((noinline)) void tile(const Tile& t, const Epi& e) {
  constexpr int NV = NRT / 16, NR = NRT;  // zmm vectors per row; this instantiation's panel width
  __m512 c[mr][NV];
  if (t.load_part) {
    for (int m = 0; m < mr; m++)
      for (int v = 0; v < NV; v++) c[m][v] = _mm512_load_ps(t.part + m * NR + 16 * v);
  } else {
    for (int m = 0; m < mr; m++)
      for (int v = 0; v < NV; v++) c[m][v] = _mm512_setzero_ps();
  }
  // The epilogue's residual lines are prefetched one per k step during the first k steps of the first segment
  // (a burst of 24 prefetches would exhaust the line-fill buffers and stall the FMAs). The y lines need no
  // prefetch: the store buffer absorbs the tile's 24 stores while their RFOs complete.
  const char* pl[MR * 4];
  int npl = 0;
  if (t.finish && e.res_mode != RK_RES_NONE) {
    for (int m = 0; m < mr; m++) {
      const char* rr = (const char*)res_row(e, t.roff[m], t.k0);
      for (int v = 0; v < NV; v++) pl[npl++] = rr + 64 * v;
    }
  }
  const float* b = t.B;
  const char* pf = t.pf;
  for (int sg = 0; sg < t.nseg; sg++) {
    const float* const* rp = t.rows + sg * t.rstride;
    const float* ap[mr];
    for (int m = 0; m < mr; m++) ap[m] = rp[m];
    const int L = t.segs[sg].len;
    if (t.zero) {  // every row of the tile is a padding tap here (image borders): nothing to add
      bool all0 = true;
      for (int m = 0; m < mr; m++) all0 &= ap[m] == t.zero;
      if (all0) {
        b += (size_t)L * NR;
        if (pf) pf += (size_t)L * 64;
        if (sg == 0)
          for (int i = 0; i < npl; i++) _mm_prefetch(pl[i], _MM_HINT_T0);
        continue;
      }
    }
    int k = 0;
    if (sg == 0 && npl > 0) {
      const int k1 = npl < L ? npl : L;
      for (; k < k1; k++) {
        _mm_prefetch(pl[k], _MM_HINT_T0);
        if (pf) {
          _mm_prefetch(pf, _MM_HINT_T1);
          pf += 64;
        }
        step<mr, NV>(c, ap, k, b);
        b += NR;
      }
      for (int i = k1; i < npl; i++) _mm_prefetch(pl[i], _MM_HINT_T0);  // short reduction: the rest at once
    }
    if (pf) {
#pragma GCC unroll 2
      for (; k < L; k++) {
        _mm_prefetch(pf, _MM_HINT_T1);
        pf += 64;
        step<mr, NV>(c, ap, k, b);
        b += NR;
      }
    } else {
#pragma GCC unroll 2
      for (; k < L; k++) {
        step<mr, NV>(c, ap, k, b);
        b += NR;
      }
    }
  }
  if (!t.finish) {
    for (int m = 0; m < mr; m++)
      for (int v = 0; v < NV; v++) _mm512_store_ps(t.part + m * NR + 16 * v, c[m][v]);
    return;
  }
  const int k0 = t.k0;
  const int kv = (e.K - k0) < NR ? (e.K - k0) : NR;
  __mmask16 km[NV], rm[NV];
  __m512 sc[NV], sh[NV];
  int lo = 0, hi = 0;
  if (e.res_mode != RK_RES_NONE) res_lane_range(e, k0, kv, &lo, &hi);
  for (int v = 0; v < NV; v++) {
    km[v] = lane_mask(-16 * v, kv - 16 * v);
    rm[v] = e.res_mode != RK_RES_NONE ? lane_mask(lo - 16 * v, hi - 16 * v) : (__mmask16)0;
    sc[v] = e.scale ? _mm512_maskz_loadu_ps(km[v], e.scale + k0 + 16 * v) : _mm512_set1_ps(1.f);
    sh[v] = e.shift ? _mm512_maskz_loadu_ps(km[v], e.shift + k0 + 16 * v) : _mm512_setzero_ps();
  }
  // locals: the y stores could alias e / t in the compiler's view and force reloads
  const __m512 z = _mm512_setzero_ps();
  const bool relu = e.relu != 0, has_res = e.res_mode != RK_RES_NONE;
  float* const y0 = e.y + (size_t)t.m0 * (size_t)e.K + k0;
  const size_t ldy = (size_t)e.K;
  ptrdiff_t ro[mr];
  for (int m = 0; m < mr; m++) ro[m] = t.roff[m];
  const Epi ec = e;
  for (int m = 0; m < mr; m++) {
    const float* rr = has_res ? res_row(ec, ro[m], k0) : nullptr;
    float* yr = y0 + (size_t)m * ldy;
    for (int v = 0; v < NV; v++) {
      if (!km[v]) break;
      __m512 o = _mm512_fmadd_ps(c[m][v], sc[v], sh[v]);
      if (has_res) o = _mm512_add_ps(o, _mm512_maskz_loadu_ps(rm[v], rr + 16 * v));
      // max(0, v) keeps NaN (second operand) and -0 like `v < 0 ? 0 : v`; masked form: gcc 12 warns on max_ps
      if (relu) o = _mm512_mask_max_ps(o, (__mmask16)0xFFFF, z, o);
      _mm512_mask_storeu_ps(yr + 16 * v, km[v], o);
    }
  }
}

#include "conv_driver.inc"

#ifndef RK_CONV_BF16
// ---- grouped convolution with C/groups == K/groups (ResNeXt, depthwise) ---------------------------------------
// Weights packed per 16 output channels: packed[v][r][s][c][16] = W[16v + j][r][s][c] (cg = kg channels per group).
// A vector of 16 output channels covers 16/kg whole groups when kg < 16 (kg = 1, 2, 4, 8): since cg == kg their
// inputs are the same 16 channels of x, so one load of x[pixel][16v .. 16v+15] and, per input channel c of the
// group, a vpermps that copies x[group(j)*kg + c] into every lane j of the group gives the broadcast operand.
// When kg is a multiple of 16 the vector lies inside one group and the operand is a plain broadcast.
// Tile: 8 output pixels x 16 channels (8 accumulators; the permutes share port 5 with one FMA pipe, so this path
// tops out near half the FMA peak, which is still 10-40x the generic loop).
struct GCtx {
  const ConvArgs* a;
  const float* zero;
  long long M, PQ, ntile;
  int nvec, vpt;  // 16-channel vectors, vectors per task
};

template <int KG>  // 1, 2, 4, 8: permute path; 0: kg multiple of 16 (broadcast path)
static void grouped_task(void* vc, long long task, int) {
  const GCtx& g = *(const GCtx*)vc;
  const ConvArgs& a = *g.a;
  constexpr int GM = 8;
  const int C = a.C, K = a.K, R = a.R, S = a.S, H = a.H, W = a.W, Q = a.Q, P = a.P, st = a.stride;
  const int cg = C / a.groups, kg = K / a.groups;
  const long long vgroups = (g.nvec + g.vpt - 1) / g.vpt;
  const long long tile = task / vgroups;
  const int v0 = (int)(task % vgroups) * g.vpt, v1 = v0 + g.vpt < g.nvec ? v0 + g.vpt : g.nvec;
  const long long m0 = tile * GM;
  const int mr = (int)((g.M - m0) < GM ? (g.M - m0) : GM);
  long long n_[GM], hb[GM], wb[GM];
  {
    long long n = m0 / g.PQ, rem = m0 - n * g.PQ, p = rem / Q, q = rem - p * Q;
    for (int m = 0; m < GM; m++) {
      n_[m] = n; hb[m] = p * st - a.pad_h; wb[m] = q * st - a.pad_w;
      if (m < mr - 1 && ++q == Q) {
        q = 0;
        if (++p == P) { p = 0; n++; }
      }
    }
  }
  __m512i idx[8];
  if (KG > 0)
    for (int c = 0; c < KG; c++) {
      alignas(64) int t[16];
      for (int j = 0; j < 16; j++) t[j] = (j / KG) * KG + c;
      idx[c] = _mm512_load_si512(t);
    }
  const int apad = (K - a.res_c) / 2;
  for (int v = v0; v < v1; v++) {
    __m512 acc[GM];
    for (int m = 0; m < GM; m++) acc[m] = _mm512_setzero_ps();
    const int k0 = v * 16;
    const int xc0 = KG > 0 ? k0 : (k0 / kg) * cg;  // first x channel read by this vector
    const float* wv = a.w + (size_t)v * R * S * cg * 16;
    for (int r = 0; r < R; r++)
      for (int s = 0; s < S; s++, wv += (size_t)cg * 16) {
        const float* xp[GM];
        for (int m = 0; m < GM; m++) {
          const long long hi = hb[m] + r, wi = wb[m] + s;
          xp[m] = (m < mr && (unsigned long long)hi < (unsigned long long)H && (unsigned long long)wi < (unsigned long long)W)
                      ? a.x + (size_t)(((n_[m] * H + hi) * W + wi) * C + xc0)
                      : g.zero;
        }
        if (KG > 0) {
          __m512 xv[GM];
          for (int m = 0; m < GM; m++) xv[m] = _mm512_loadu_ps(xp[m]);
          for (int c = 0; c < (KG > 0 ? KG : 1); c++) {
            const __m512 w = _mm512_loadu_ps(wv + c * 16);
            for (int m = 0; m < GM; m++)  // (masked form: gcc 12 warns on the unmasked intrinsic)
              acc[m] = _mm512_fmadd_ps(_mm512_mask_permutexvar_ps(xv[m], (__mmask16)0xFFFF, idx[c], xv[m]), w, acc[m]);
          }
        } else {
          for (int c = 0; c < cg; c++) {
            const __m512 w = _mm512_loadu_ps(wv + c * 16);
            for (int m = 0; m < GM; m++) acc[m] = _mm512_fmadd_ps(_mm512_set1_ps(xp[m][c]), w, acc[m]);
          }
        }
      }
    // epilogue (K is a multiple of 16: full vectors)
    const __m512 sc = a.scale ? _mm512_loadu_ps(a.scale + k0) : _mm512_set1_ps(1.f);
    const __m512 sh = a.shift ? _mm512_loadu_ps(a.shift + k0) : _mm512_setzero_ps();
    __mmask16 rmask = 0xFFFF;
    if (a.res_mode == RK_RES_OPTION_A) {
      int lo = apad - k0, hi = apad + a.res_c - k0;
      lo = lo < 0 ? 0 : lo;
      hi = hi > 16 ? 16 : hi;
      rmask = hi > lo ? (__mmask16)(((1u << (hi - lo)) - 1u) << lo) : (__mmask16)0;
    }
    const __m512 z = _mm512_setzero_ps();
    for (int m = 0; m < mr; m++) {
      __m512 o = _mm512_fmadd_ps(acc[m], sc, sh);
      const long long gm = m0 + m;
      if (a.res_mode == RK_RES_IDENTITY) {
        o = _mm512_add_ps(o, _mm512_loadu_ps(a.res + (size_t)gm * K + k0));
      } else if (a.res_mode == RK_RES_OPTION_A && rmask) {
        const long long p = (gm - n_[m] * g.PQ) / Q, q = (gm - n_[m] * g.PQ) - p * Q;
        const ptrdiff_t off = (ptrdiff_t)(((n_[m] * a.res_h + 2 * p) * a.res_w + 2 * q) * a.res_c) + k0 - apad;
        const float* rr = (const float*)((uintptr_t)a.res + (uintptr_t)(off * (ptrdiff_t)sizeof(float)));
        o = _mm512_add_ps(o, _mm512_maskz_loadu_ps(rmask, rr));
      }
      if (a.relu) o = _mm512_mask_max_ps(o, (__mmask16)0xFFFF, z, o);
      _mm512_storeu_ps(a.y + (size_t)gm * K + k0, o);
    }
  }
}

static int conv_grouped_run(const ConvArgs& a) {
  const int kg = a.K / a.groups;
  GCtx g;
  g.a = &a;
  g.M = (long long)a.N * a.P * a.Q;
  g.PQ = (long long)a.P * a.Q;
  g.ntile = (g.M + 7) / 8;
  g.nvec = a.K / 16;
  const int nt = a.nthreads > 0 ? a.nthreads : 1;
  // tasks: blocks of 8 pixels x groups of vectors, >= ~16 tasks per thread when the layer allows
  g.vpt = g.nvec;
  while (g.vpt > 1 && g.ntile * ((g.nvec + g.vpt - 1) / g.vpt) < 16LL * nt) g.vpt = (g.vpt + 1) / 2;
  const long long ntask = g.ntile * ((g.nvec + g.vpt - 1) / g.vpt);
  float* zero = (float*)calloc((size_t)a.C + 16, sizeof(float));
  if (!zero) return RK_ERR_OUT_OF_MEMORY;
  g.zero = zero;
  void (*fn)(void*, long long, int) = kg == 1 ? grouped_task<1> : kg == 2 ? grouped_task<2> : kg == 4 ? grouped_task<4>
                                      : kg == 8 ? grouped_task<8> : grouped_task<0>;
  parallel_for(ntask, nt, fn, &g);
  free(zero);
  return 0;
}

#endif  // !RK_CONV_BF16

#ifdef RK_CONV_BF16
// ---- fp32 -> bf16 pairs (the A operand of the bf16 kernel) ----------------------------------------------------
// bf16(v) = the upper 16 bits of v rounded to nearest even; NaN stays a (quiet) NaN; overflow rounds to inf.
// Written branch-free so gcc vectorises it (the AVX512_BF16 convert has no SIMDe twin for the emulated build).
static inline uint16_t bf16_rne(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  const uint32_t r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  return (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? ((u >> 16) | 0x40u) : r);
}
struct PairCtx {
  const float* x;
  uint16_t* y;
  long long pixels;
  int C, C2;  // channels, and channels rounded up to even (the pair image's row length in bf16)
};
static void pair_task(void* vc, long long task, int) {
  const PairCtx& c = *(const PairCtx*)vc;
  const long long p0 = task * 256, p1 = p0 + 256 < c.pixels ? p0 + 256 : c.pixels;
  if (c.C == c.C2) {  // even C: the pair image is x converted element by element
    const float* __restrict x = c.x + (size_t)p0 * c.C;
    uint16_t* __restrict y = c.y + (size_t)p0 * c.C;
    const long long n = (p1 - p0) * c.C;
    long long i = 0;
#ifndef RK_AVX512_EMU
    // vcvtne2ps2bf16: 32 floats per instruction, round to nearest even (it also flushes denormal inputs and outputs to
    // zero, unlike bf16_rne: |x| < 1.2e-38 only). The portable loop, auto-vectorised, cost ~5 % of ResNet-50 at batch 1.
    for (; i + 32 <= n; i += 32) {
      const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(x + i));
      _mm512_storeu_si512((void*)(y + i), (__m512i)v);
    }
#endif
    for (; i < n; i++) y[i] = bf16_rne(x[i]);
    return;
  }
  for (long long p = p0; p < p1; p++) {
    const float* __restrict x = c.x + (size_t)p * c.C;
    uint16_t* __restrict y = c.y + (size_t)p * c.C2;
    for (int i = 0; i < c.C; i++) y[i] = bf16_rne(x[i]);
    y[c.C] = 0;  // the odd channel's partner: w's is 0 too
  }
}
#endif

}  // namespace
}  // namespace RK_AVX512_NS

#ifdef RK_CONV_BF16
void bf16_pairs_avx512bf16(const float* x, long long pixels, int C, float* out, int nthreads) {
  avx512bf16::PairCtx c{x, reinterpret_cast<uint16_t*>(out), pixels, C, (C + 1) / 2 * 2};
  const long long ntask = (pixels + 255) / 256;
  parallel_for(ntask, pixels * C > 65536 ? nthreads : 1, avx512bf16::pair_task, &c);
}

int conv_gemm_avx512bf16(const ConvArgs& a) {
  switch (nr_avx512(a.K)) {
    case 16: return avx512bf16::conv_run<16>(a);
    case 32: return avx512bf16::conv_run<32>(a);
    default: return avx512bf16::conv_run<64>(a);
  }
}
#else
int conv_grouped_avx512(const ConvArgs& a) { return avx512::conv_grouped_run(a); }

int conv_wino_avx512(const ConvArgs& a, int m) {
  switch (nr_avx512(a.K)) {
    case 16: return avx512::wino_run<16>(a, m);
    case 32: return avx512::wino_run<32>(a, m);
    default: return avx512::wino_run<64>(a, m);
  }
}

int conv_gemm_avx512(const ConvArgs& a) {
  switch (nr_avx512(a.K)) {
    case 16: return avx512::conv_run<16>(a);
    case 32: return avx512::conv_run<32>(a);
    default: return avx512::conv_run<64>(a);
  }
}
#endif

}  // namespace rk_cpu_detail
