// AVX2+FMA implicit-GEMM convolution (compiled with -mavx2 -mfma; selected at run time when AVX-512 is absent), and
// the AVX2 grouped kernel (ResNeXt, depthwise) at the end of this file.
//
// Micro-kernel: MR x NR = 6 pixels x 16 output channels: 12 ymm accumulators + 2 B vectors + 1 broadcast = 15
// of the 16 ymm registers; 12 independent FMA chains cover latency 4-5 x 2 ports. KC = 512 (B block 32 KiB).
// Same driver, row-pointer A access, next-B-block prefetch, padding-segment skip and fused epilogue as the
// AVX-512 kernel (conv_avx512.cpp); masks via vmaskmov. ~75% of the ymm FMA peak on the ResNet-50 layers.
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
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
  // The epilogue's residual lines (one per row), fetched while the FMAs run: at batch 8 the residual of the expand
  // convs streams from memory, and its loads would otherwise stall the epilogue.
  if (t.finish && e.res_mode != RK_RES_NONE)
    for (int m = 0; m < mr; m++) _mm_prefetch((const char*)res_row(e, t.roff[m], t.k0), _MM_HINT_T0);
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
  bool full_r = false;  // every lane reads a residual channel
  if (e.res_mode != RK_RES_NONE) {
    int lo, hi;
    res_lane_range(e, k0, kv, &lo, &hi);
    r0 = lane_mask(lo, hi);
    r1 = lane_mask(lo - 8, hi - 8);
    full_r = lo == 0 && hi == NR;
  }
  const __m256 z = _mm256_setzero_ps();
  // Full panels (every lane a valid channel: all but the last panel of a ragged K) use plain unaligned loads and
  // stores. vmaskmov is much slower when it straddles a cache line (on Zen 3 a 16-byte-misaligned residual made
  // the 64->256 expand layer 2x slower), and activations need not be 32-byte aligned.
  const bool full_y = kv == NR;
  for (int m = 0; m < mr; m++) {
    __m256 v0 = _mm256_fmadd_ps(_mm256_load_ps(acc + m * NR), s0, h0);
    __m256 v1 = _mm256_fmadd_ps(_mm256_load_ps(acc + m * NR + 8), s1, h1);
    if (e.res_mode != RK_RES_NONE) {
      const float* rr = res_row(e, t.roff[m], k0);
      if (full_r) {
        v0 = _mm256_add_ps(v0, _mm256_loadu_ps(rr));
        v1 = _mm256_add_ps(v1, _mm256_loadu_ps(rr + 8));
      } else {
        v0 = _mm256_add_ps(v0, _mm256_maskload_ps(rr, r0));
        v1 = _mm256_add_ps(v1, _mm256_maskload_ps(rr + 8, r1));
      }
    }
    if (e.relu) {  // max(0, v) keeps NaN (second operand) and -0, like `v < 0 ? 0 : v`
      v0 = _mm256_max_ps(z, v0);
      v1 = _mm256_max_ps(z, v1);
    }
    float* yr = e.y + (size_t)(t.m0 + m) * (size_t)e.K + k0;
    if (full_y && e.stream) {
      _mm256_stream_ps(yr, v0);
      _mm256_stream_ps(yr + 8, v1);
    } else if (full_y) {
      _mm256_storeu_ps(yr, v0);
      _mm256_storeu_ps(yr + 8, v1);
    } else {
      _mm256_maskstore_ps(yr, m0, v0);
      _mm256_maskstore_ps(yr + 8, m1, v1);
    }
  }
}

#include "conv_driver.inc"


// ---- grouped convolution with C/groups == K/groups (ResNeXt, depthwise) ---------------------------------------
// The AVX2 twin of the AVX-512 grouped kernel (conv_avx512.cpp), 8 lanes instead of 16. Weights packed per 8 output
// channels: packed[v][r][s][c][8] = W[8v + j][r][s][c] (cg = kg channels per group). When kg < 8 (kg = 1, 2, 4) a
// vector of 8 output channels covers 8/kg whole groups whose inputs are the same 8 channels of x: one load of
// x[pixel][8v .. 8v+7] and, per input channel c of the group, an in-lane vpermilps copying x[group(j)*kg + c] into every
// lane j of the group gives the FMA operand. When kg is a multiple of 8 the vector lies inside one group: a plain
// broadcast. Tiles: 6 output pixels x 8 channels (6 accumulators + 6 x vectors + weight = 13 of the 16 ymm registers);
// on the broadcast path 6 pixels x 16 channels (two vectors, 12 accumulators) wherever a task has the pair.
// Measured (old and new library dlopen'ed in one process, alternating; ResNeXt-50 layers, batch 1 / 8): naming the
// broadcast loop's accumulators (gcc had kept acc[] in memory, 6 stores per FMA step) 1.3-1.6x / 1.2-1.5x; the
// two-vector tile on top 1.5x (cg = 8) and 2.0-2.4x (cg = 16, 32) the original at batch 1, 1.2x and 1.6-2.1x at 8.
// (The two-vector tile had been tried before the accumulators were named and measured 0.92-0.98x then.)
struct GCtx {
  const ConvArgs* a;
  const float* zero;
  long long M, PQ, ntile;
  int nvec, vpt;  // 8-channel vectors, vectors per task
};

// acc[m] += sum over the KG input channels c of the group: x operand (lane j = xv[m][(j / KG) * KG + c]) * w[c]
template <int KG, int C0 = 0>
static inline void grouped_perm_fma(const __m256* xv, const float* wv, __m256* acc) {
  if constexpr (C0 < KG) {
    constexpr int imm = KG == 4 ? _MM_SHUFFLE(C0, C0, C0, C0) : KG == 2 ? _MM_SHUFFLE(2 + C0, 2 + C0, C0, C0)
                                                                         : _MM_SHUFFLE(3, 2, 1, 0);
    const __m256 w = _mm256_loadu_ps(wv + C0 * 8);
    for (int m = 0; m < 6; m++)
      acc[m] = _mm256_fmadd_ps(KG == 1 ? xv[m] : _mm256_permute_ps(xv[m], imm), w, acc[m]);
    grouped_perm_fma<KG, C0 + 1>(xv, wv, acc);
  }
}

template <int KG>  // 1, 2, 4: permute path; 0: kg multiple of 8 (broadcast path)
static void grouped_task(void* vc, long long task, int) {
  const GCtx& g = *(const GCtx*)vc;
  const ConvArgs& a = *g.a;
  constexpr int GM = 6;  // the broadcast path below names its 6 accumulators
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
  // pixels whose whole window lies inside the image (inner): their tap pointers are base + the tap's offset, no bounds
  // checks; a tile of inner pixels only (interior) skips the per-pixel test too
  bool inner[GM], interior = mr == GM;
  const float* base[GM];
  for (int m = 0; m < GM; m++) {
    inner[m] = m < mr && hb[m] >= 0 && hb[m] + R <= H && wb[m] >= 0 && wb[m] + S <= W;
    interior = interior && inner[m];
    base[m] = inner[m] ? a.x + (size_t)(((n_[m] * H + hb[m]) * W + wb[m]) * C) : nullptr;
  }
  const int apad = (K - a.res_c) / 2;
  // tap pointers of the tile's pixels for tap (r, s), channel offset xc0 (padding taps read the zero row)
  auto tap_ptrs = [&](int r, int s, int xc0, const float** xp) {
    const size_t off = (size_t)((r * W + s) * C + xc0);
    if (interior) {
      for (int m = 0; m < GM; m++) xp[m] = base[m] + off;
    } else {
      for (int m = 0; m < GM; m++) {
        const long long hi = hb[m] + r, wi = wb[m] + s;
        xp[m] = inner[m] ? base[m] + off
                : (m < mr && (unsigned long long)hi < (unsigned long long)H && (unsigned long long)wi < (unsigned long long)W)
                    ? a.x + (size_t)(((n_[m] * H + hi) * W + wi) * C + xc0)
                    : g.zero;
      }
    }
  };
  // y[pixel m][k0 .. k0+7] = relu?(acc[m] * scale + shift + residual?)   (K is a multiple of 8: full vectors)
  auto epilogue = [&](const __m256* acc, int k0) {
    const __m256 sc = a.scale ? _mm256_loadu_ps(a.scale + k0) : _mm256_set1_ps(1.f);
    const __m256 sh = a.shift ? _mm256_loadu_ps(a.shift + k0) : _mm256_setzero_ps();
    __m256i rmask = _mm256_set1_epi32(-1);
    bool any_res = a.res_mode == RK_RES_IDENTITY;
    if (a.res_mode == RK_RES_OPTION_A) {
      const int lo = apad - k0, hi = apad + a.res_c - k0;
      rmask = lane_mask(lo, hi);
      any_res = hi > 0 && lo < 8 && hi > lo;
    }
    const __m256 z = _mm256_setzero_ps();
    for (int m = 0; m < mr; m++) {
      __m256 o = _mm256_fmadd_ps(acc[m], sc, sh);
      const long long gm = m0 + m;
      if (a.res_mode == RK_RES_IDENTITY) {
        o = _mm256_add_ps(o, _mm256_loadu_ps(a.res + (size_t)gm * K + k0));
      } else if (a.res_mode == RK_RES_OPTION_A && any_res) {
        const long long p = (gm - n_[m] * g.PQ) / Q, q = (gm - n_[m] * g.PQ) - p * Q;
        const ptrdiff_t off = (ptrdiff_t)(((n_[m] * a.res_h + 2 * p) * a.res_w + 2 * q) * a.res_c) + k0 - apad;
        const float* rr = (const float*)((uintptr_t)a.res + (uintptr_t)(off * (ptrdiff_t)sizeof(float)));
        o = _mm256_add_ps(o, _mm256_maskload_ps(rr, rmask));
      }
      if (a.relu) o = _mm256_max_ps(z, o);  // max(0, v) keeps NaN (second operand) and -0, like `v < 0 ? 0 : v`
      _mm256_storeu_ps(a.y + (size_t)gm * K + k0, o);
    }
  };
  // The next tile's pixels in the input rows that the previous output row did not read (the bottom min(stride, R)
  // rows of its window): prefetched into L2, spread over this tile's vectors. At batch 8 the 56x56 / 28x28 layers'
  // inputs (13-26 MB) come from DRAM: 1.2-1.3x there, 1.05-1.2x at 14x14 / 7x7, unchanged at batch 1 (old and new
  // library alternating in one process, scripts/cpu-lib-ab.sh --set grouped).
  const float* pfx = nullptr;
  const int pf_rows = st < R ? st : R;
  if (m0 + GM < g.M) {
    const long long mn = m0 + GM, n = mn / g.PQ, rem = mn - n * g.PQ, p = rem / Q, q = rem - p * Q;
    const long long hi = p * st - a.pad_h + R - pf_rows, wi = q * st - a.pad_w;
    if (hi >= 0 && hi + pf_rows <= H && wi >= 0) pfx = a.x + (size_t)(((n * H + hi) * W + wi) * C);
  }
  const long long row_lines = (long long)GM * st * C / 16;  // 64-byte lines of GM * stride pixels in one input row
  const long long pf_lines = pfx ? row_lines * pf_rows : 0;
  long long pf_done = 0, pf_l = 0;  // lines issued; line index within the current row
  const float* pf_row = pfx;
  for (int v = v0; v < v1;) {
    if (pfx) {
      const long long want = pf_lines * (v - v0 + 1) / (v1 - v0);
      for (; pf_done < want; pf_done++) {
        _mm_prefetch((const char*)(pf_row + pf_l * 16), _MM_HINT_T1);
        if (++pf_l == row_lines) {
          pf_l = 0;
          pf_row += (size_t)W * C;
        }
      }
    }
    const int k0 = v * 8;
    const int xc0 = KG > 0 ? k0 : (k0 / kg) * cg;  // first x channel read by this vector
    const float* wv = a.w + (size_t)v * R * S * cg * 8;
    // Vectors v (even) and v + 1 together: 6 pixels x 16 channels, 12 accumulators (as the GEMM micro-kernel), so
    // 12 independent FMA chains instead of 6. When kg is a multiple of 16 both read the same x channels and one
    // broadcast feeds two FMAs (8 loads per 12 FMAs); when kg = 8 (or 8 mod 16) they may be two groups, each with its
    // own broadcasts (14 loads per 12 FMAs). Measured against the 6-accumulator loop: see the comment above GCtx.
    if (KG == 0 && (v & 1) == 0 && v + 1 < v1) {
      const int dx = ((k0 + 8) / kg) * cg - xc0;  // x channels of vector v + 1: the same (0) or the next group's (cg)
      const size_t wstride = (size_t)R * S * cg * 8;  // packed weights of vector v + 1 follow those of v
#define RK_G2(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define RK_G2_DECL(i) __m256 p##i = _mm256_setzero_ps(), q##i = _mm256_setzero_ps(); const float* x##i;
      RK_G2(RK_G2_DECL)
#undef RK_G2_DECL
      for (int r = 0; r < R; r++)
        for (int s = 0; s < S; s++, wv += (size_t)cg * 8) {
          const float* xp[GM];
          tap_ptrs(r, s, xc0, xp);
#define RK_G2_PTR(i) x##i = xp[i];
          RK_G2(RK_G2_PTR)
#undef RK_G2_PTR
          const float* w2 = wv + wstride;
          if (dx == 0) {
            for (int c = 0; c < cg; c++) {
              const __m256 w0 = _mm256_loadu_ps(wv + c * 8), w1 = _mm256_loadu_ps(w2 + c * 8);
#define RK_G2_FMA(i)                                    \
  {                                                     \
    const __m256 xb = _mm256_broadcast_ss(x##i + c);    \
    p##i = _mm256_fmadd_ps(xb, w0, p##i);               \
    q##i = _mm256_fmadd_ps(xb, w1, q##i);               \
  }
              RK_G2(RK_G2_FMA)
#undef RK_G2_FMA
            }
          } else {  // two groups (kg = 8): own broadcasts, 14 loads per 12 FMAs, still 12 independent chains
            for (int c = 0; c < cg; c++) {
              const __m256 w0 = _mm256_loadu_ps(wv + c * 8), w1 = _mm256_loadu_ps(w2 + c * 8);
#define RK_G2_FMA(i)                                                     \
  {                                                                      \
    p##i = _mm256_fmadd_ps(_mm256_broadcast_ss(x##i + c), w0, p##i);      \
    q##i = _mm256_fmadd_ps(_mm256_broadcast_ss(x##i + dx + c), w1, q##i); \
  }
              RK_G2(RK_G2_FMA)
#undef RK_G2_FMA
            }
          }
        }
      __m256 acc[GM];
#define RK_G2_OUT(i) acc[i] = p##i;
      RK_G2(RK_G2_OUT)
#undef RK_G2_OUT
      epilogue(acc, k0);
#define RK_G2_OUT(i) acc[i] = q##i;
      RK_G2(RK_G2_OUT)
#undef RK_G2_OUT
#undef RK_G2
      epilogue(acc, k0 + 8);
      v += 2;
      continue;
    }
    __m256 acc[GM];
    for (int m = 0; m < GM; m++) acc[m] = _mm256_setzero_ps();
    for (int r = 0; r < R; r++)
      for (int s = 0; s < S; s++, wv += (size_t)cg * 8) {
        const float* xp[GM];
        tap_ptrs(r, s, xc0, xp);
        if (KG > 0) {
          __m256 xv[GM];
          for (int m = 0; m < GM; m++) xv[m] = _mm256_loadu_ps(xp[m]);
          // lane j needs x[(j / KG) * KG + c]: a group never straddles the 128-bit halves (KG <= 4), so an in-lane
          // vpermilps with an immediate does it (1-cycle latency, 2 per cycle on Zen 3; the cross-lane vpermps with
          // an index vector, 3 cycles / 1 per cycle, capped this loop at ~20 GFLOP/s)
          grouped_perm_fma<KG>(xv, wv, acc);
        } else {
          // named accumulators: acc[] is addressable (the epilogue reads it), and a float load may alias it, so
          // gcc stored all six after every FMA step when this loop worked on acc[] (1 FMA per cycle at best)
          __m256 c0 = acc[0], c1 = acc[1], c2 = acc[2], c3 = acc[3], c4 = acc[4], c5 = acc[5];
          const float *x0 = xp[0], *x1 = xp[1], *x2 = xp[2], *x3 = xp[3], *x4 = xp[4], *x5 = xp[5];
          for (int c = 0; c < cg; c++) {
            const __m256 w = _mm256_loadu_ps(wv + c * 8);
            c0 = _mm256_fmadd_ps(_mm256_broadcast_ss(x0 + c), w, c0);
            c1 = _mm256_fmadd_ps(_mm256_broadcast_ss(x1 + c), w, c1);
            c2 = _mm256_fmadd_ps(_mm256_broadcast_ss(x2 + c), w, c2);
            c3 = _mm256_fmadd_ps(_mm256_broadcast_ss(x3 + c), w, c3);
            c4 = _mm256_fmadd_ps(_mm256_broadcast_ss(x4 + c), w, c4);
            c5 = _mm256_fmadd_ps(_mm256_broadcast_ss(x5 + c), w, c5);
          }
          acc[0] = c0; acc[1] = c1; acc[2] = c2; acc[3] = c3; acc[4] = c4; acc[5] = c5;
        }
      }
    epilogue(acc, k0);
    v++;
  }
}

static int conv_grouped_run(const ConvArgs& a) {
  const int kg = a.K / a.groups;
  GCtx g;
  g.a = &a;
  g.M = (long long)a.N * a.P * a.Q;
  g.PQ = (long long)a.P * a.Q;
  g.ntile = (g.M + 5) / 6;
  g.nvec = a.K / 8;
  const int nt = a.nthreads > 0 ? a.nthreads : 1;
  // tasks: blocks of 6 pixels x groups of vectors, >= ~16 tasks per thread when the layer allows
  g.vpt = g.nvec;
  while (g.vpt > 1 && g.ntile * ((g.nvec + g.vpt - 1) / g.vpt) < 16LL * nt) g.vpt = (g.vpt + 1) / 2;
  const long long ntask = g.ntile * ((g.nvec + g.vpt - 1) / g.vpt);
  float* zero = (float*)calloc((size_t)a.C + 8, sizeof(float));
  if (!zero) return RK_ERR_OUT_OF_MEMORY;
  g.zero = zero;
  void (*fn)(void*, long long, int) = kg == 1 ? grouped_task<1> : kg == 2 ? grouped_task<2> : kg == 4 ? grouped_task<4>
                                      : grouped_task<0>;
  parallel_for(ntask, nt, fn, &g);
  free(zero);
  return 0;
}
}  // namespace
}  // namespace avx2

int conv_gemm_avx2(const ConvArgs& a) { return avx2::conv_run<avx2::NR>(a); }
int conv_wino_avx2(const ConvArgs& a, int m) { return avx2::wino_run<avx2::NR>(a, m); }
int conv_grouped_avx2(const ConvArgs& a) { return avx2::conv_grouped_run(a); }

}  // namespace rk_cpu_detail
