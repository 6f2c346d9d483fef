// Internal interface between the portable dispatcher (cpu_ops.cpp) and the ISA-specific convolution
// translation units (conv_avx512.cpp, conv_avx2.cpp, conv_scalar.cpp). Not part of the public ABI.
//
// Only plain structs, extern functions and `static inline` helpers (internal linkage: one copy per TU) live here:
// the ISA TUs are compiled with different -m flags, so they must not share external inline functions or
// templates with the portable code (the linker would keep one copy, possibly with AVX-512 instructions).
#ifndef RESKERN_CONV_INTERNAL_H
#define RESKERN_CONV_INTERNAL_H
#include <stddef.h>

// Internal functions are not exported from the shared library.
#define RK_INTERNAL __attribute__((visibility("hidden")))

namespace rk_cpu_detail {

// Validated arguments of rk_cpu_conv2d; w points at the packed data (past the header written by rk_cpu_conv_pack).
struct ConvArgs {
  const float* x;
  int N, H, W, C;
  const float* w;
  int K, R, S, stride, pad_h, pad_w, groups;
  const float* scale;
  const float* shift;
  const float* res;
  int res_mode, res_h, res_w, res_c, relu;
  float* y;
  int P, Q;
  int nthreads;
  float* ws;         // caller's workspace (rk_cpu_conv2d_ws) or nullptr: the scratch pool
  size_t ws_floats;
};

// The zero-padded copy of x the dense direct driver (conv_driver.inc) makes for narrow convs, in floats; 0 when it
// reads x in place. Small C (the C = 3 stems): taps of 3 floats would starve the FMAs, so x is copied once into a
// zero-padded image and each filter row r becomes one contiguous segment of S*C floats (for the 7x7 stem: 21
// floats). Also for C <= 32 (CIFAR ResNets' stages 1-2) while the copy stays small (<= 16 MiB): R segments of S*C
// floats instead of R*S of C, and row pointers without bounds checks. The row table and the per-segment loop cost
// ~20 % of a 16-channel 3x3 conv otherwise (A/B at 32x32: 1.18-1.22x for C = 16, 1.02-1.06x for C = 32 on 1
// thread, 1.05-1.2x on 2; batch 1 and 8).
static inline size_t padded_copy_floats(const ConvArgs& a) {
  const int st = a.stride;
  const bool padded = a.C < 16 || (a.C <= 32 && (size_t)a.N * (size_t)(a.H + a.R + st) * (size_t)(a.W + a.S + st) *
                                                        (size_t)a.C * sizeof(float) <= ((size_t)16 << 20));
  if (!padded) return 0;
  // rows -pad_h .. (P-1)*st+R-1-pad_h, same for columns
  const long long pb = (long long)(a.P - 1) * st + a.R - a.pad_h - a.H;
  const long long pr = (long long)(a.Q - 1) * st + a.S - a.pad_w - a.W;
  const long long Hp = a.pad_h + a.H + (pb > 0 ? pb : 0), Wp = a.pad_w + a.W + (pr > 0 ? pr : 0);
  return (size_t)a.N * (size_t)Hp * (size_t)Wp * (size_t)a.C;
}

// Panel widths (output channels per packed weight panel) of each micro-kernel.
enum { NR_AVX512 = 64, NR_AVX2 = 16, NR_SCALAR = 8 };
// AVX-512 uses narrower panels for narrow convs (CIFAR widths 16/32) instead of padding K up to 64.
// static: each TU gets its own copy (no cross-ISA symbol sharing).
static inline int nr_avx512(int K) { return K <= 16 ? 16 : K <= 32 ? 32 : NR_AVX512; }

// Dense (groups == 1) implicit-GEMM convolutions; return 0 or an rk_status error code (out of memory).
RK_INTERNAL int conv_gemm_avx512(const ConvArgs& a);
RK_INTERNAL int conv_gemm_avx2(const ConvArgs& a);
RK_INTERNAL int conv_gemm_scalar(const ConvArgs& a);
// The AVX512_BF16 kernel (conv_avx512bf16.cpp): a.x and a.w hold bf16 pairs in 32-bit elements, a.C = pairs per
// pixel (ceil(C/2), the odd channel's partner 0); weights packed as the direct layout over pairs:
// [ceil(K/NR)][R][S][ceil(C/2)][NR] (cpu_ops.cpp, rk_cpu_conv_pack_prec).
RK_INTERNAL int conv_gemm_avx512bf16(const ConvArgs& a);
// x [pixels][C] fp32 -> out [pixels][ceil(C/2)] bf16 pairs (round to nearest even), on nthreads threads.
RK_INTERNAL void bf16_pairs_avx512bf16(const float* x, long long pixels, int C, float* out, int nthreads);
// Winograd F(m x m, 3x3), m = 2 or 4, for 3x3 stride-1 convs (groups == 1), weights packed by rk_cpu_conv_pack_ex
// for the same ISA and m: [ceil(K/NR)][(m+2)^2][C][NR] (conv_driver.inc).
RK_INTERNAL int conv_wino_avx512(const ConvArgs& a, int m);
RK_INTERNAL int conv_wino_avx2(const ConvArgs& a, int m);
RK_INTERNAL int conv_wino_scalar(const ConvArgs& a, int m);
// Grouped conv with C/groups == K/groups, K % 16 == 0 and K/groups in {1, 2, 4, 8} or a multiple of 16
// (grouped_vec_shape() == true): weights packed as [K/16][R][S][C/groups][16].
RK_INTERNAL int conv_grouped_avx512(const ConvArgs& a);
// The same for AVX2 with 8-lane vectors: K % 8 == 0, K/groups in {1, 2, 4} or a multiple of 8
// (grouped_vec_shape_avx2() == true): weights packed as [K/8][R][S][C/groups][8].
RK_INTERNAL int conv_grouped_avx2(const ConvArgs& a);
static inline bool grouped_vec_shape_w(int K, int C, int groups, int lanes) {
  if (groups <= 1 || C % groups || K % groups || K % lanes) return false;
  const int cg = C / groups, kg = K / groups;
  if (cg != kg) return false;
  for (int d = 1; d < lanes; d *= 2)
    if (kg == d) return true;
  return kg % lanes == 0;
}
static inline bool grouped_vec_shape(int K, int C, int groups) { return grouped_vec_shape_w(K, C, groups, 16); }
static inline bool grouped_vec_shape_avx2(int K, int C, int groups) { return grouped_vec_shape_w(K, C, groups, 8); }

// Runs fn(ctx, task, tid) for every task in [0, ntask) on up to nthreads threads and returns when all are done.
// The caller works as tid 0; tid < nthreads is unique among the executions running at the same time (index
// per-thread scratch with it). Tasks must not call parallel_for themselves. (thread_pool.cpp)
RK_INTERNAL void parallel_for(long long ntask, int nthreads, void (*fn)(void* ctx, long long task, int tid), void* ctx);

// Scratch buffers shared by every calling thread (cpu_ops.cpp): a free list with at most one buffer per call running
// at the same time, each kept between calls (no page faults per inference) and as large as the largest request it
// served. A lease takes the smallest free buffer that fits, else replaces the largest free one, so the memory held is
// bounded by (concurrent calls) x (largest request), whatever the number of threads that ever called.
struct Scratch {
  float* p;
  size_t n;  // floats
};
RK_INTERNAL Scratch scratch_acquire(size_t floats);  // p == nullptr: out of memory
RK_INTERNAL void scratch_release(Scratch s);

}  // namespace rk_cpu_detail

// Test hook (not in reskern_cpu.h): force the kernel ISA ("avx512", "avx2", "scalar"); NULL or "" = the default
// (the best the CPU supports, narrowed by the RESKERN_CPU_ISA environment variable).
// Returns 0 on success, nonzero if the ISA is unknown or unsupported by this CPU. Weights must be re-packed
// after switching (the packed layout depends on the ISA; rk_cpu_conv2d rejects weights packed for another).
extern "C" int rk_cpu_force_isa(const char* isa);
// Test hook: the Winograd choice for weights packed from now on, as RESKERN_CPU_WINOGRAD would set it ("0", "1",
// "2", "4", "" = the default); NULL = what the environment variable says. Returns 0.
extern "C" int rk_cpu_force_winograd(const char* v);

#endif
