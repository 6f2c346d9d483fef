// Tensor-core implicit-GEMM convolution (Ampere-style mma.sync; runs on sm_80 .. sm_90).
//
//   y  = relu?( scale ⊙ conv(x, W) + shift + residual )        y2 = relu( post_scale ⊙ y + post_shift )
//   GEMM: D[M x K] = A[M x Ktot] · B[Ktot x K],  M = N·P·Q, Ktot = R·S·C,  FLOPs = 2·M·K·Ktot
//
// Design (one commented line per choice, as CUTLASS example 16):
//  - CTA tile BM x BN x (64 bytes of k): 32 halves (m16n8k16, f16/bf16) or 16 floats (m16n8k8, tf32). Measuring k in
//    bytes makes the shared-memory layout, the loaders and the fragment loads identical for every dtype.
//  - Warp tile WTM x WTN = 64x64, 64x32 or 32x32; per 32-byte k-step a warp issues (WTM/16)·(WTN/8) MMAs from
//    WTM/16 + WTN/16 ldmatrix.x4. 64x64 warp tiles (the 256-row CTAs) read 32 B of smem per 1 KFLOP, half of
//    what H100's 128 B/clk/SM smem port can feed at mma.sync peak; 64x32 tiles need 1.5x that (smem-bound there).
//  - Mainloop: STAGES-deep cp.async.cg (16 B, L2 only) ring; one __syncthreads per k-tile; the tile kt+STAGES-1 is
//    requested before the MMAs of tile kt so that global latency hides behind STAGES-1 tiles of math.
//  - Shared memory rows are 64 B = 4 chunks of 16 B; chunk' = chunk ^ ((row >> 1) & 3) (XOR swizzle) makes both the
//    cp.async stores and the ldmatrix.x4 reads (8 rows x 16 B per phase) bank-conflict free without padding.
//  - Fragments: ldmatrix.x4 for A (16x16 halves / 16x8 floats) and B (two n8 tiles); tf32 operands are rounded with
//    cvt.rna.tf32.f32 (round to nearest) instead of the tensor core's truncation.
//  - A loader (Im2col): each thread owns one 16-byte k-column of the tile for all its rows, so the tap/channel
//    decomposition k -> (r, s, c) is one incremental state per thread (no division in the mainloop); out-of-image
//    taps and k >= Ktot are zero-filled by cp.async's src-size = 0.
//    AvgPool / Gather loaders are register-staged: global loads for tile kt+STAGES are issued before the MMAs of
//    tile kt and written to shared memory one iteration later.
//  - Epilogue: accumulators -> shared memory (fp32, rows padded by 8 floats: conflict-free float2 stores), one warp
//    row of the tile per pass -> each thread takes 8 consecutive channels of one row: scale/shift/residual/relu in
//    fp32, 16-byte stores of y (and y2).
//  - Grid: 1-D, the N-tiles of one M-tile are adjacent, so the A rows they share are read from L2, not DRAM.
#pragma once
#include "conv.cuh"
#include <atomic>

namespace rk {
namespace tc {

template <int BM_, int BN_, int WARPS_M_, int WARPS_N_, int STAGES_>
struct TileCfg {
  static constexpr int BM = BM_, BN = BN_, WARPS_M = WARPS_M_, WARPS_N = WARPS_N_, STAGES = STAGES_;
  static constexpr int THREADS = 32 * WARPS_M * WARPS_N;
  static constexpr int WTM = BM / WARPS_M, WTN = BN / WARPS_N;
  static_assert(WTM % 16 == 0 && WTN % 16 == 0, "warp tile must be a multiple of 16x16");
};
using Tile256x128 = TileCfg<256, 128, 4, 2, 4>;  // 8 warps, warp tile 64x64, 96 KB of stages
using Tile256x64 = TileCfg<256, 64, 4, 1, 4>;    // 4 warps, warp tile 64x64, 80 KB of stages
using Tile128x128 = TileCfg<128, 128, 2, 4, 4>;  // 8 warps, warp tile 64x32, 64 KB of stages
using Tile128x64 = TileCfg<128, 64, 2, 2, 4>;    // 4 warps, warp tile 64x32, 48 KB of stages
using Tile64x64 = TileCfg<64, 64, 2, 2, 4>;      // 4 warps, warp tile 32x32, 32 KB of stages

// ---- PTX wrappers (a host emulation build, native/lab/emu, supplies spec-level replacements under RK_EMULATE) ----
#ifndef RK_EMULATE
__device__ __forceinline__ uint32_t smem_u32(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}
// 16-byte async copy global -> shared; src_bytes = 0 writes 16 zero bytes (src is not read).
__device__ __forceinline__ void cp_async16(uint32_t dst, const void* src, bool valid) {
  const int src_bytes = valid ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(src_bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N> __device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}
__device__ __forceinline__ void st_shared16(uint32_t addr, const uint4& v) {
  asm volatile("st.shared.v4.b32 [%0], {%1,%2,%3,%4};\n" ::"r"(addr), "r"(v.x), "r"(v.y), "r"(v.z), "r"(v.w));
}
__device__ __forceinline__ uint32_t f32_to_tf32(uint32_t x) {
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(__uint_as_float(x)));
  return r;
}

#endif  // RK_EMULATE

// CE raw elements (one 16-byte chunk) -> uint4, without going through local memory.
__device__ __forceinline__ uint32_t bits16(__half h) { return __half_as_ushort(h); }
__device__ __forceinline__ uint32_t bits16(__nv_bfloat16 h) { return __bfloat16_as_ushort(h); }
template <typename T> __device__ __forceinline__ uint4 pack_elems(const T (&e)[8]) {
  return make_uint4(bits16(e[0]) | (bits16(e[1]) << 16), bits16(e[2]) | (bits16(e[3]) << 16),
                    bits16(e[4]) | (bits16(e[5]) << 16), bits16(e[6]) | (bits16(e[7]) << 16));
}
__device__ __forceinline__ uint4 pack_elems(const float (&e)[4]) {
  return make_uint4(__float_as_uint(e[0]), __float_as_uint(e[1]), __float_as_uint(e[2]), __float_as_uint(e[3]));
}

// D += A·B on one m16 x n8 x (32 bytes of k) fragment.
#ifndef RK_EMULATE
template <typename T> struct Mma;
template <> struct Mma<__half> {
  static __device__ __forceinline__ void run(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
};
template <> struct Mma<__nv_bfloat16> {
  static __device__ __forceinline__ void run(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
};
template <> struct Mma<float> {  // tf32
  static __device__ __forceinline__ void run(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    asm volatile(
        "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
};

#endif  // RK_EMULATE

// Byte offset of 16-byte chunk `chunk` (0..3) of row `row` in a 64-byte-row tile, XOR-swizzled.
__device__ __forceinline__ uint32_t swz(int row, int chunk) {
  return static_cast<uint32_t>(row * 64 + ((chunk ^ ((row >> 1) & 3)) << 4));
}

template <class TL> struct SmemLayout {
  static constexpr int A_BYTES = TL::BM * 64, B_BYTES = TL::BN * 64, STAGE_BYTES = A_BYTES + B_BYTES;
  static constexpr int PIPE_BYTES = TL::STAGES * STAGE_BYTES;
  static constexpr int LDC = TL::BN + 8;  // fp32 epilogue staging row, padded
  static constexpr int EPI_BYTES = TL::WTM * LDC * 4;  // one warp-row slice (WTM rows) per epilogue pass
  static constexpr int MAIN_BYTES = PIPE_BYTES > EPI_BYTES ? PIPE_BYTES : EPI_BYTES;
};
template <class TL, int MODE> constexpr int smem_bytes() {
  return SmemLayout<TL>::MAIN_BYTES + (MODE == TC_GATHER ? kGatherMaxKtot * 4 : 0);
}
// Largest dynamic shared memory one block may opt in to on every architecture the library is built for: 99 KB on
// sm_86 / sm_89 (and sm_120, which runs the compute_90 PTX); sm_80 allows 163 KB, sm_90 227 KB. Above 48 KB the
// launcher must call cudaFuncSetAttribute(MaxDynamicSharedMemorySize) first (the host emulation checks that it does).
constexpr int kMaxOptinSmem = 99 * 1024;

// ---------------------------------------------------------------------------------------------------------------
// y = relu?(scale ⊙ conv(x, W) + shift + residual), y2 = relu(post_scale ⊙ y + post_shift): tensor cores.
// ---------------------------------------------------------------------------------------------------------------
template <typename T, class TL, int MODE>
__global__ void __launch_bounds__(TL::THREADS)
conv_scale_shift_residual_relu_tc(const ConvParams p) {
  constexpr int BM = TL::BM, BN = TL::BN, STAGES = TL::STAGES, NTHREADS = TL::THREADS;
  constexpr int WTM = TL::WTM, WTN = TL::WTN, MT = WTM / 16, NT = WTN / 8;
  constexpr int CE = Chunk<T>::N;  // elements per 16-byte chunk
  constexpr int BKE = 4 * CE;      // k elements per tile (64 bytes)
  using L = SmemLayout<TL>;
  constexpr int RPP = NTHREADS / 4;  // rows per loader pass (4 threads per 64-byte row)
  constexpr int A_IT = BM / RPP, B_IT = BN / RPP;
  static_assert(BM % RPP == 0 && BN % RPP == 0, "loader mapping");
  constexpr bool A_REG = (MODE != TC_IM2COL);  // register-staged A
  constexpr bool B_REG = (MODE == TC_GATHER);  // register-staged B

  extern __shared__ __align__(128) unsigned char smem[];
  const uint32_t smem_base = smem_u32(smem);
  unsigned* gather_tab = reinterpret_cast<unsigned*>(smem + L::MAIN_BYTES);  // Gather only: k -> (r<<24 | s<<16 | c)

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int warp_m = warp / TL::WARPS_N, warp_n = warp % TL::WARPS_N;
  const int ntiles_n = (p.K + BN - 1) / BN;
  const int m0 = static_cast<int>(blockIdx.x / ntiles_n) * BM;
  const int n0 = static_cast<int>(blockIdx.x % ntiles_n) * BN;
  const T* __restrict__ x = static_cast<const T*>(p.x);
  const T* __restrict__ w = static_cast<const T*>(p.w);
  const int H = p.H, W = p.W, C = p.C, R = p.R, S = p.S, Ktot = p.Ktot;
  const int KT = (Ktot + BKE - 1) / BKE;
  const int col = tid & 3, row0 = tid >> 2;  // this thread's 16-byte k-column and first tile row

  // ---- per-row A state: image base offset and input origin (h0, w0); invalid rows get h0 = -2^30 ----
  int a_h0[A_IT], a_w0[A_IT];
  size_t a_img[A_IT];
#pragma unroll
  for (int i = 0; i < A_IT; i++) {
    const int m = m0 + row0 + i * RPP;
    a_h0[i] = -(1 << 30); a_w0[i] = 0; a_img[i] = 0;
    if (m < p.M) {
      const int pq = p.P * p.Q;
      const int n = m / pq, rem = m - n * pq, pp = rem / p.Q, qq = rem - pp * p.Q;
      a_img[i] = static_cast<size_t>(n) * H * W * C;
      if constexpr (MODE == TC_AVGPOOL) { a_h0[i] = 2 * pp; a_w0[i] = 2 * qq; }
      else { a_h0[i] = pp * p.stride - p.pad_h; a_w0[i] = qq * p.stride - p.pad_w; }
    }
  }
  // ---- incremental (r, s, c) of this thread's chunk in the next A tile to load (Im2col / AvgPool) ----
  int st_c = 0, st_s = 0, st_r = 0;
  if constexpr (MODE != TC_GATHER) {
    const int k = col * CE;
    st_c = k % C;
    const int rs = k / C;
    st_s = rs % S;
    st_r = rs / S;
  }
  auto advance_rsc = [&]() {
    st_c += BKE;
    while (st_c >= C) {
      st_c -= C;
      if (++st_s == S) { st_s = 0; ++st_r; }
    }
  };

  // ---- Gather: (r, s, c) table for every k, built once per CTA ----
  if constexpr (MODE == TC_GATHER) {
    for (int k = tid; k < Ktot; k += NTHREADS) {
      const int c = k % C, rs = k / C, s = rs % S, r = rs / S;
      gather_tab[k] = (static_cast<unsigned>(r) << 24) | (static_cast<unsigned>(s) << 16) | static_cast<unsigned>(c);
    }
    __syncthreads();
  }

  // ---- B (weights, [K][Ktot] row-major) rows of this thread ----
  bool b_ok[B_IT];
  const T* b_row[B_IT];
#pragma unroll
  for (int j = 0; j < B_IT; j++) {
    const int n = n0 + row0 + j * RPP;
    b_ok[j] = n < p.K;
    b_row[j] = w + static_cast<size_t>(b_ok[j] ? n : 0) * Ktot;
  }

  // ---- cp.async part of loading k-tile kt into stage `stage` ----
  auto load_async = [&](int stage, int kt) {
    const uint32_t sa = smem_base + stage * L::STAGE_BYTES;
    const uint32_t sb = sa + L::A_BYTES;
    if constexpr (MODE == TC_IM2COL) {
#pragma unroll
      for (int i = 0; i < A_IT; i++) {
        const int hi = a_h0[i] + st_r, wi = a_w0[i] + st_s;
        const bool v = st_r < R && static_cast<unsigned>(hi) < static_cast<unsigned>(H) &&
                       static_cast<unsigned>(wi) < static_cast<unsigned>(W);
        const T* src = v ? x + a_img[i] + (static_cast<size_t>(hi) * W + wi) * C + st_c : x;
        cp_async16(sa + swz(row0 + i * RPP, col), src, v);
      }
      advance_rsc();
    }
    if constexpr (!B_REG) {
      const int k = kt * BKE + col * CE;
#pragma unroll
      for (int j = 0; j < B_IT; j++) {
        const bool v = b_ok[j] && k < Ktot;
        cp_async16(sb + swz(row0 + j * RPP, col), v ? b_row[j] + k : w, v);
      }
    }
  };

  // ---- register-staged parts (AvgPool A: four 16-byte taps per chunk; Gather A and B: CE elements) ----
  constexpr int RA_N = (MODE == TC_AVGPOOL) ? 4 : 1;
  uint4 ra[A_REG && MODE == TC_AVGPOOL ? A_IT : 1][RA_N];
  float ra_inv[A_REG && MODE == TC_AVGPOOL ? A_IT : 1];
  T ga[MODE == TC_GATHER ? A_IT : 1][CE];
  T gb[MODE == TC_GATHER ? B_IT : 1][CE];

  auto load_regs = [&](int kt) {
    if constexpr (MODE == TC_AVGPOOL) {
#pragma unroll
      for (int i = 0; i < A_IT; i++) {
        const int hi = a_h0[i], wi = a_w0[i];
        const bool v = st_r < 1 && static_cast<unsigned>(hi) < static_cast<unsigned>(H);  // R = 1: st_r = k / C
        const bool hv = v && hi + 1 < H, wv = v && wi + 1 < W;
        const T* src = x + a_img[i] + (static_cast<size_t>(hi < 0 ? 0 : hi) * W + wi) * C + st_c;
        const uint4 z = make_uint4(0, 0, 0, 0);
        ra[i][0] = v ? __ldg(reinterpret_cast<const uint4*>(src)) : z;
        ra[i][1] = wv ? __ldg(reinterpret_cast<const uint4*>(src + C)) : z;
        ra[i][2] = hv ? __ldg(reinterpret_cast<const uint4*>(src + static_cast<size_t>(W) * C)) : z;
        ra[i][3] = (hv && wv) ? __ldg(reinterpret_cast<const uint4*>(src + static_cast<size_t>(W) * C + C)) : z;
        ra_inv[i] = 1.f / static_cast<float>((hv ? 2 : 1) * (wv ? 2 : 1));
      }
      advance_rsc();
    } else if constexpr (MODE == TC_GATHER) {
#pragma unroll
      for (int i = 0; i < A_IT; i++) {
#pragma unroll
        for (int e = 0; e < CE; e++) {
          const int k = kt * BKE + col * CE + e;
          T val = from_f<T>(0.f);
          if (k < Ktot) {
            const unsigned t = gather_tab[k];
            const int r = static_cast<int>(t >> 24), s = static_cast<int>((t >> 16) & 0xffu), c = static_cast<int>(t & 0xffffu);
            const int hi = a_h0[i] + r, wi = a_w0[i] + s;
            if (static_cast<unsigned>(hi) < static_cast<unsigned>(H) && static_cast<unsigned>(wi) < static_cast<unsigned>(W))
              val = x[a_img[i] + (static_cast<size_t>(hi) * W + wi) * C + c];
          }
          ga[i][e] = val;
        }
      }
#pragma unroll
      for (int j = 0; j < B_IT; j++) {
#pragma unroll
        for (int e = 0; e < CE; e++) {
          const int k = kt * BKE + col * CE + e;
          gb[j][e] = (b_ok[j] && k < Ktot) ? b_row[j][k] : from_f<T>(0.f);
        }
      }
    }
  };
  auto store_regs = [&](int stage) {
    const uint32_t sa = smem_base + stage * L::STAGE_BYTES;
    const uint32_t sb = sa + L::A_BYTES;
    if constexpr (MODE == TC_AVGPOOL) {
#pragma unroll
      for (int i = 0; i < A_IT; i++) {
        float acc[CE], t[CE];
        unpack16<T>(ra[i][0], acc);
#pragma unroll
        for (int q = 1; q < 4; q++) {
          unpack16<T>(ra[i][q], t);
#pragma unroll
          for (int e = 0; e < CE; e++) acc[e] += t[e];
        }
#pragma unroll
        for (int e = 0; e < CE; e++) acc[e] *= ra_inv[i];
        st_shared16(sa + swz(row0 + i * RPP, col), pack16<T>(acc));
      }
    } else if constexpr (MODE == TC_GATHER) {
#pragma unroll
      for (int i = 0; i < A_IT; i++) st_shared16(sa + swz(row0 + i * RPP, col), pack_elems(ga[i]));
#pragma unroll
      for (int j = 0; j < B_IT; j++) st_shared16(sb + swz(row0 + j * RPP, col), pack_elems(gb[j]));
    }
  };

  // ---- MMAs on one stage: two 32-byte k-steps ----
  float acc[MT][NT][4];
#pragma unroll
  for (int i = 0; i < MT; i++)
#pragma unroll
    for (int j = 0; j < NT; j++)
#pragma unroll
      for (int e = 0; e < 4; e++) acc[i][j][e] = 0.f;

  auto compute = [&](int stage) {
    const uint32_t sa = smem_base + stage * L::STAGE_BYTES;
    const uint32_t sb = sa + L::A_BYTES;
#pragma unroll
    for (int ks = 0; ks < 2; ks++) {
      uint32_t af[MT][4], bfrag[NT][2];
#pragma unroll
      for (int mt = 0; mt < MT; mt++) {
        // matrices: rows 0-7 / 8-15 of the m16 tile at chunk 2ks, then the same at chunk 2ks+1 -> a0..a3
        const int row = warp_m * WTM + mt * 16 + (lane & 15);
        ldmatrix_x4(af[mt], sa + swz(row, 2 * ks + (lane >> 4)));
      }
#pragma unroll
      for (int np = 0; np < NT / 2; np++) {
        // matrices: (n 0-7, chunk 2ks), (n 0-7, 2ks+1), (n 8-15, 2ks), (n 8-15, 2ks+1) -> b0,b1 of two n8 tiles
        const int row = warp_n * WTN + np * 16 + (lane & 7) + ((lane >> 4) << 3);
        uint32_t t[4];
        ldmatrix_x4(t, sb + swz(row, 2 * ks + ((lane >> 3) & 1)));
        bfrag[2 * np][0] = t[0]; bfrag[2 * np][1] = t[1];
        bfrag[2 * np + 1][0] = t[2]; bfrag[2 * np + 1][1] = t[3];
      }
      if constexpr (sizeof(T) == 4) {
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
          for (int e = 0; e < 4; e++) af[mt][e] = f32_to_tf32(af[mt][e]);
#pragma unroll
        for (int nt = 0; nt < NT; nt++)
#pragma unroll
          for (int e = 0; e < 2; e++) bfrag[nt][e] = f32_to_tf32(bfrag[nt][e]);
      }
#pragma unroll
      for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int nt = 0; nt < NT; nt++) Mma<T>::run(acc[mt][nt], af[mt], bfrag[nt]);
    }
  };

  // ---- mainloop ----
  // prologue: tiles 0 .. STAGES-2 (register-staged parts are loaded and stored synchronously here)
#pragma unroll
  for (int s = 0; s < STAGES - 1; s++) {
    if (s < KT) {
      load_async(s, s);
      if (A_REG || B_REG) { load_regs(s); store_regs(s); }
    }
    cp_async_commit();
  }
  if ((A_REG || B_REG) && STAGES - 1 < KT) load_regs(STAGES - 1);

  for (int kt = 0; kt < KT; kt++) {
    cp_async_wait<STAGES - 2>();  // tile kt has landed (this thread's copies) ...
    __syncthreads();              // ... everyone's; and every warp is done with stage (kt-1) % STAGES
    const int nk = kt + STAGES - 1;
    if (nk < KT) {
      const int stage = nk % STAGES;
      load_async(stage, nk);
      if (A_REG || B_REG) {
        store_regs(stage);                 // tile nk, loaded one iteration ago
        if (nk + 1 < KT) load_regs(nk + 1);  // in flight during the MMAs below
      }
    }
    cp_async_commit();
    compute(kt % STAGES);
  }
  cp_async_wait<0>();
  __syncthreads();  // pipeline smem is reused for the epilogue

  // ---- epilogue: accumulators -> smem (fp32) -> 8 channels per thread -> fused math -> 16-byte stores ----
  // One pass per warp row (WTM rows of the CTA tile): the warps of that row stage their accumulators, then all
  // threads run the fused epilogue over those rows. Keeps the staging buffer inside the pipeline's footprint.
  float* cs = reinterpret_cast<float*>(smem);
  constexpr int CPR = BN / 8;  // 8-channel chunks per row
#pragma unroll 1
  for (int pass = 0; pass < TL::WARPS_M; pass++) {
    if (warp_m == pass) {
#pragma unroll
      for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int nt = 0; nt < NT; nt++) {
          const int r = mt * 16 + (lane >> 2);
          const int c = warp_n * WTN + nt * 8 + (lane & 3) * 2;
          *reinterpret_cast<float2*>(cs + r * L::LDC + c) = make_float2(acc[mt][nt][0], acc[mt][nt][1]);
          *reinterpret_cast<float2*>(cs + (r + 8) * L::LDC + c) = make_float2(acc[mt][nt][2], acc[mt][nt][3]);
        }
    }
    __syncthreads();
    for (int idx = tid; idx < WTM * CPR; idx += NTHREADS) {
      const int row = idx / CPR, cc = idx - row * CPR;
      const int m = m0 + pass * WTM + row, k = n0 + cc * 8;
      if (m < p.M && k < p.K) {
        float v[8];
        const float4 lo = *reinterpret_cast<const float4*>(cs + row * L::LDC + cc * 8);
        const float4 hi = *reinterpret_cast<const float4*>(cs + row * L::LDC + cc * 8 + 4);
        v[0] = lo.x; v[1] = lo.y; v[2] = lo.z; v[3] = lo.w; v[4] = hi.x; v[5] = hi.y; v[6] = hi.z; v[7] = hi.w;
        epilogue8<T>(p, m, k, v);
      }
    }
    __syncthreads();
  }
}

// Host launcher: sets the dynamic shared-memory limit once per device, launches, checks.
template <typename T, class TL, int MODE>
rk_status launch_conv_tc(const ConvParams& p, cudaStream_t stream) {
  auto kernel = conv_scale_shift_residual_relu_tc<T, TL, MODE>;
  constexpr int smem = smem_bytes<TL, MODE>();
  static_assert(smem <= kMaxOptinSmem, "tile needs more shared memory than sm_86/sm_89 give one block (99 KB)");
  static std::atomic<unsigned long long> configured{0};  // bit per device id < 64
  int dev = 0;
  RK_CUDA_TRY(cudaGetDevice(&dev));
  const unsigned long long bit = dev < 64 ? (1ull << dev) : 0ull;
  if (smem > 48 * 1024 && (bit == 0 || !(configured.load(std::memory_order_acquire) & bit))) {
    RK_CUDA_TRY(cudaFuncSetAttribute(reinterpret_cast<const void*>(kernel), cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
    configured.fetch_or(bit, std::memory_order_acq_rel);
  }
  const long long tiles = static_cast<long long>((p.M + TL::BM - 1) / TL::BM) * ((p.K + TL::BN - 1) / TL::BN);
  if (tiles <= 0) return RK_OK;
  if (tiles > 0x7fffffffLL) return set_error(RK_ERR_UNSUPPORTED, "conv2d: too many tiles (%lld)", tiles);
  RK_LAUNCH(static_cast<unsigned>(tiles), TL::THREADS, smem, stream, kernel)(p);
  RK_LAUNCH_TRY();
  return RK_OK;
}

}  // namespace tc
}  // namespace rk

// One instantiation per .cu file (keeps `make -j` parallel): RK_INSTANTIATE_TC(f16, __half, 128x128, Tile128x128, im2col, TC_IM2COL)
#define RK_INSTANTIATE_TC(dtname, T, tilename, Tile, modename, MODE)                                          \
  namespace rk {                                                                                            \
  rk_status launch_conv_tc_##dtname##_##tilename##_##modename(const ConvParams& p, cudaStream_t s) {        \
    return tc::launch_conv_tc<T, tc::Tile, MODE>(p, s);                                                     \
  }                                                                                                         \
  }
