// reskern CPU ops (reskern_cpu.h): argument checking, ISA dispatch, weight packing and the memory-bound ops.
// The convolution GEMM kernels live in conv_avx512.cpp / conv_avx2.cpp / conv_scalar.cpp (conv_driver.inc);
// the naive reference implementations they replaced are kept in native/lab/cpu_reference.h.
//
// This file is compiled for baseline x86-64 (no -m flags): it must run on any x86-64 CPU.
#include "reskern_cpu.h"
#include "conv_internal.h"
#include <omp.h>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <string>
#include <vector>

using rk_cpu_detail::ConvArgs;

static thread_local std::string g_err;
static rk_status fail(rk_status s, const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  g_err = buf;
  return s;
}
#define RK_REQUIRE(cond, ...) \
  do {                        \
    if (!(cond)) return fail(RK_ERR_INVALID_ARG, __VA_ARGS__); \
  } while (0)

// Team size: 0 = the OpenMP default (OMP_NUM_THREADS, else all cores). Kept globally (not as the calling thread's
// OpenMP ICV) so that a rk_cpu_set_threads() issued from one Java thread applies to ops launched from any other
// thread. The ops run on the work-sharing pool of thread_pool.cpp (see there why not OpenMP regions).
static std::atomic<int> g_threads{0};
static int team_size() {
  const int t = g_threads.load(std::memory_order_relaxed);
  return t > 0 ? t : omp_get_max_threads();
}
// Work below this many elements runs on the calling thread (a parallel dispatch costs a few microseconds).
static const long long kParallelMin = 1 << 15;

// body(i0, i1, tid) over [0, n), split into up to 4 blocks per thread handed out dynamically (thread_pool.cpp).
template <class F>
static void par_range(long long n, int nt, F&& body) {
  if (n <= 0) return;
  if (nt <= 1 || n == 1) {
    body(0LL, n, 0);
    return;
  }
  struct Ctx {
    F* f;
    long long n, nb;
  } c{&body, n, std::min<long long>(n, 4LL * nt)};
  rk_cpu_detail::parallel_for(
      c.nb, nt,
      [](void* v, long long t, int tid) {
        const Ctx& c = *(const Ctx*)v;
        (*c.f)(c.n * t / c.nb, c.n * (t + 1) / c.nb, tid);
      },
      &c);
}

// ---- scratch pool (conv_internal.h) ------------------------------------------------------------------------
// Never destroyed (like the thread pool): a Java thread may still be in a conv while static destructors run.
namespace {
struct ScratchPool {
  std::mutex mu;
  std::vector<rk_cpu_detail::Scratch> free_list;
  size_t held = 0;  // floats, leased and free
};
ScratchPool& scratch_pool() {
  static ScratchPool* p = new ScratchPool();
  return *p;
}
}  // namespace

rk_cpu_detail::Scratch rk_cpu_detail::scratch_acquire(size_t floats) {
  ScratchPool& sp = scratch_pool();
  Scratch victim{nullptr, 0};
  {
    std::lock_guard<std::mutex> g(sp.mu);
    size_t best = sp.free_list.size(), largest = sp.free_list.size();
    for (size_t i = 0; i < sp.free_list.size(); i++) {
      const size_t n = sp.free_list[i].n;
      if (n >= floats && (best == sp.free_list.size() || n < sp.free_list[best].n)) best = i;
      if (largest == sp.free_list.size() || n > sp.free_list[largest].n) largest = i;
    }
    const size_t take = best < sp.free_list.size() ? best : largest;
    if (take < sp.free_list.size()) {
      const Scratch s = sp.free_list[take];
      sp.free_list.erase(sp.free_list.begin() + (ptrdiff_t)take);
      if (s.n >= floats) return s;
      victim = s;  // too small: replaced, so the pool never holds more buffers than calls ran at once
      sp.held -= s.n;
    }
  }
  free(victim.p);
  Scratch s{static_cast<float*>(malloc(sizeof(float) * (floats > 0 ? floats : 1))), floats};
  if (!s.p) return Scratch{nullptr, 0};
  std::lock_guard<std::mutex> g(scratch_pool().mu);
  scratch_pool().held += floats;
  return s;
}

void rk_cpu_detail::scratch_release(Scratch s) {
  if (!s.p) return;
  ScratchPool& sp = scratch_pool();
  std::lock_guard<std::mutex> g(sp.mu);
  sp.free_list.push_back(s);
}

// ---- ISA dispatch ---------------------------------------------------------------------------------------
enum Isa { ISA_SCALAR = 0, ISA_AVX2 = 1, ISA_AVX512 = 2 };
static std::atomic<int> g_isa{-1};

static int detect_features() {
  int f = 0;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) f |= 1;
  if (__builtin_cpu_supports("avx512f")) f |= 2;
  if (__builtin_cpu_supports("avx512bf16")) f |= 4;
  return f;
}
// The features the kernel choice goes by: the hardware's, except in the AVX-512-emulation test build
// (native/lab/avx512emu/), where the AVX-512 kernels run on SIMDe wherever AVX2 + FMA exist.
static int kernel_features() {
  int f = detect_features();
#ifdef RK_AVX512_EMU
  if (f & 1) f |= 2 | 4;
#endif
  return f;
}
static int best_isa() {
  const int f = kernel_features();
  // the AVX-512 TU also uses AVX2/FMA instructions, so it needs both feature bits
  return (f & 3) == 3 ? ISA_AVX512 : (f & 1) ? ISA_AVX2 : ISA_SCALAR;
}
static int parse_isa(const char* s) {
  if (!s || !*s) return best_isa();
  if (!strcmp(s, "avx512")) return ISA_AVX512;
  if (!strcmp(s, "avx2")) return ISA_AVX2;
  if (!strcmp(s, "scalar")) return ISA_SCALAR;
  return -1;
}
static bool isa_supported(int isa) {
  const int f = kernel_features();
  return isa == ISA_SCALAR || (isa == ISA_AVX2 && (f & 1)) || (isa == ISA_AVX512 && (f & 3) == 3);
}
// RESKERN_CPU_ISA=avx2|scalar narrows the choice (e.g. to test the fallbacks); it never widens it.
static int default_isa() {
  const int want = parse_isa(getenv("RESKERN_CPU_ISA"));
  return want >= 0 && isa_supported(want) ? want : best_isa();
}
static int current_isa() {
  int v = g_isa.load(std::memory_order_acquire);
  if (v < 0) {
    int expected = -1;
    g_isa.compare_exchange_strong(expected, default_isa());
    v = g_isa.load(std::memory_order_acquire);
  }
  return v;
}
// bf16 convs run on the AVX512_BF16 kernel only: the AVX-512 kernels must be the current ones and the CPU must have
// AVX512_BF16 (RESKERN_CPU_ISA=avx2 therefore turns bf16 off as well).
static bool bf16_ok() { return current_isa() == ISA_AVX512 && (kernel_features() & 4); }
static int isa_nr(int isa, int K) {
  return isa == ISA_AVX512 ? rk_cpu_detail::nr_avx512(K) : isa == ISA_AVX2 ? rk_cpu_detail::NR_AVX2
                                                                           : rk_cpu_detail::NR_SCALAR;
}

extern "C" int rk_cpu_force_isa(const char* isa) {
  const int v = (!isa || !*isa) ? default_isa() : parse_isa(isa);
  if (v < 0 || !isa_supported(v)) return 1;
  g_isa.store(v, std::memory_order_release);
  return 0;
}

extern "C" {
const char* rk_cpu_last_error(void) { return g_err.c_str(); }
#ifdef RK_AVX512_EMU
const char* rk_cpu_version(void) { return "reskern-cpu 0.2.0 (test build: AVX-512 kernels emulated by SIMDe)"; }
#else
const char* rk_cpu_version(void) { return "reskern-cpu 0.2.0"; }
#endif
int rk_cpu_features(void) { return detect_features(); }
int rk_cpu_bf16_supported(void) { return bf16_ok() ? 1 : 0; }
const char* rk_cpu_kernel_isa(void) {
  const int v = current_isa();
  return v == ISA_AVX512 ? "avx512" : v == ISA_AVX2 ? "avx2" : "scalar";
}
void rk_cpu_set_threads(int n) {
  g_threads.store(n > 0 ? n : 0, std::memory_order_relaxed);
  omp_set_num_threads(n > 0 ? n : omp_get_num_procs());
}
int rk_cpu_get_threads(void) { return team_size(); }

size_t rk_cpu_scratch_bytes(void) {
  ScratchPool& sp = scratch_pool();
  std::lock_guard<std::mutex> g(sp.mu);
  return sp.held * sizeof(float);
}
void rk_cpu_trim_scratch(void) {
  std::vector<rk_cpu_detail::Scratch> idle;
  {
    ScratchPool& sp = scratch_pool();
    std::lock_guard<std::mutex> g(sp.mu);
    idle.swap(sp.free_list);
    for (const auto& s : idle) sp.held -= s.n;
  }
  for (const auto& s : idle) free(s.p);
}

// Lanes of the grouped vector kernel for this conv (C/groups == K/groups): 16 = AVX-512 (conv_avx512.cpp),
// 8 = AVX2 (conv_avx2.cpp), 0 = the generic grouped loop below.
static int grouped_vec(int K, int C, int groups) {
  const int isa = current_isa();
  if (isa == ISA_AVX512 && rk_cpu_detail::grouped_vec_shape(K, C, groups)) return 16;
  if (isa == ISA_AVX2 && rk_cpu_detail::grouped_vec_shape_avx2(K, C, groups)) return 8;
  return 0;
}

// ---- convolution weights ----------------------------------------------------------------------------------
// Data layout after the header (see kPackHdr below):
// groups == 1: panels of NR output channels (NR = 64 AVX-512 (16/32 when K <= 16/32), 16 AVX2, 8 scalar; the
// ISA is fixed per process):
//   packed[j][r][s][c][jj] = w[j*NR + jj][r][s][c]   (0 for j*NR + jj >= K)      size = ceil(K/NR)*NR*R*S*C
// groups > 1, AVX-512 and grouped_vec_shape() (C/groups == K/groups in {1,2,4,8,16k}, K % 16 == 0: ResNeXt,
// depthwise): packed[v][r][s][c][j] = w[16v + j][r][s][c]                          size = K*R*S*C/groups
// groups > 1, AVX2 and grouped_vec_shape_avx2() (C/groups == K/groups in {1,2,4,8k}, K % 8 == 0): the same with
// 8-channel vectors, packed[v][r][s][c][j] = w[8v + j][r][s][c]                   same size
// other groups > 1 (generic grouped path): packed[g][r][s][c][kk] = w[g*K/groups + kk][r][s][c]   same size
// Every packed buffer starts with a header of kPackHdr floats: [0] = offset (floats) of the data, chosen in
// [16, 31] so that the data is 64-byte aligned whatever the buffer's alignment (split zmm loads of unaligned
// weights cost 15-20%), [1] = magic, [2] = ISA, [3..7] = K, C, R, S, groups. rk_cpu_conv2d checks it, so weights
// packed for another shape or ISA are rejected instead of producing garbage; a packed buffer copied elsewhere
// stays valid (the offset travels with it; only the alignment benefit may be lost).
static const size_t kPackHdr = 32;
static const int32_t kPackMagic = 0x524B5057;  // "RKPW"
// direct; Winograd F(2x2,3x3); F(4x4,3x3); direct over bf16 pairs (RK_CPU_PREC_BF16)
enum { LAYOUT_DIRECT = 0, LAYOUT_WINO = 1, LAYOUT_WINO4 = 2, LAYOUT_BF16 = 3 };
// Winograd (conv_driver.inc) for 3x3 stride-1 dense convs with 64 <= C <= 256, and up to 512 when the caller's pixel
// hint says 14x14 or more (measured on Zen 3, AVX2, ResNet-50 3x3 layers: F(2x2,3x3) 1.2-1.9x faster for C = 64..256;
// slower for C = 512 at 7x7 (weight-bound at small batch: U is 16/9 of the weights), faster at 14x14; slower for
// C <= 32 (transform overhead on tiny layers)); which tile: see pack_layout().
// `lab_cpu_conv_lab wino` times direct / F(2x2) / F(4x4) on the ResNet shapes in one process. With the AVX-512 kernels
// the same choice measured (AMD EPYC Zen 5, 2 threads, 2026-12-02; speed-up over direct by best run, batch 1 / 8):
// C = 64 at 56x56 F(4x4) 2.72 / 2.13x, C = 128 at 28x28 F(4x4) 2.42 / 2.42x, C = 256 at 14x14 F(2x2) 1.52 / 1.71x,
// C = 512 at 14x14 F(2x2) 0.87-1.12 / 1.17-1.34x, CIFAR's C = 64 at 8x8 F(4x4) 2.2 / 2.7x; it was opt-in there until
// then. On an Intel Xeon with AVX-512 (2 threads, 2026-12-02, median of 20) the direct kernel is closer to its roof and
// the gains shrink: C = 64 at 56x56 F(4x4) 2.35 / 2.24x, C = 128 at 28x28 1.85 / 1.80x, C = 256 at 14x14 F(2x2)
// 0.98 / 1.00x, C = 512 at 14x14 F(2x2) 0.76 / 0.75x (F(4x4) 0.80 / 1.00x); whole models 0.80-0.99x the direct
// kernel's time, wide_resnet50_2 at batch 1 1.02-1.04x (benchmarks/results/2026-12-02-cpu-ab-winograd-avx512-intel-*).
// Kept as is: a per-machine choice would have to be timed at load (not done: it would make logits depend on timing). RESKERN_CPU_WINOGRAD: unset = the default below; 0 = off; 1 = on; 2 / 4 = on with that output tile only. Read at pack time: packed weights stay valid whatever the
// variable says later (the header records the layout).
static int parse_wino(const char* v) {  // 0 off, 1 default (on where tested), 2 forced on, 3 forced F(2x2), 4 forced F(4x4)
  if (!v || !*v) return 1;
  if (!strcmp(v, "0") || !strcmp(v, "off") || !strcmp(v, "false")) return 0;
  if (!strcmp(v, "2")) return 3;
  if (!strcmp(v, "4")) return 4;
  return 2;
}
static std::atomic<int> g_wino{-1};  // -1: not read yet
static int wino_mode() {
  int m = g_wino.load(std::memory_order_acquire);
  if (m < 0) {
    int unset = -1;
    g_wino.compare_exchange_strong(unset, parse_wino(getenv("RESKERN_CPU_WINOGRAD")));
    m = g_wino.load(std::memory_order_acquire);
  }
  return m;
}
extern "C" int rk_cpu_force_winograd(const char* v) {
  g_wino.store(parse_wino(v ? v : getenv("RESKERN_CPU_WINOGRAD")), std::memory_order_release);
  return 0;
}
static int pack_layout(int K, int C, int R, int S, int groups, int stride, long long pixels) {
  const int m = wino_mode();
  const bool on = m >= 1;
  // 256 < C <= 512 only where the output is known to be 14x14 or larger (wide ResNets' stage 3): there F(2x2)
  // measured 1.20-1.42x the direct kernel at batch 1 and 1.33-1.35x at batch 8 (C = K = 512 at 14x14, AMD Zen 3,
  // old and new library alternating in one process); at 7x7 (every ResNet's stage 4) it was 0.65-0.86x.
  const bool c_ok = C >= 64 && (C <= 256 || (C <= 512 && pixels >= 196));
  if (!(on && stride == 1 && R == 3 && S == 3 && groups == 1 && c_ok && K >= 16)) return LAYOUT_DIRECT;
  if (m == 3) return LAYOUT_WINO;
  if (m == 4) return LAYOUT_WINO4;
  // F(4x4,3x3) where measured faster (Zen 3, AVX2, `lab_cpu_conv_lab wino`, speed-up over the direct kernel at batch
  // 1 / 8: C = 64 at 56x56 F(2x2) 1.69 / 1.56x, F(4x4) 2.51 / 2.41x; C = 128 at 28x28 1.82 / 1.69x vs 2.15 / 2.37x;
  // CIFAR's C = 64 at 8x8, only 4 tiles per image: F(2x2) 1.26 / 1.59x, F(4x4) 1.52 / 1.87x, 2.14x on 1 thread).
  // C = 256 (14x14 in ResNets) stays on F(2x2,3x3): 1.38 / 1.67x vs 1.22 / 1.91x (at batch 1, 16 tiles per image,
  // the 2.25x larger U (36 planes) is re-streamed per tile block), and its errors are ~5x smaller (F(4x4)'s transforms
  // multiply by up to 8: relative errors 1-2e-6 against float64 instead of 2-4e-7).
  return C <= 128 ? LAYOUT_WINO4 : LAYOUT_WINO;
}
// The layout for a precision. bf16: dense convs get the bf16 pair layout, except those that would run on Winograd with
// C <= 256 (3x3 stride 1, 64..256 channels), which stay there in fp32. Per layer (AMD Zen 5, 2 threads): the bf16
// kernel ran 1.1-2.9x the fp32 direct kernel's speed (`lab_cpu_conv_lab bench`, batch 1: 3x3 64->64 at 56x56 1.5x,
// 128 at 28x28 1.9x, 256 at 14x14 2.0x, the 1x1 convs 1.2-2.9x, the 7x7 stem 1.1x), while F(4x4) gives 2.4-2.7x for
// 64..128 channels and F(2x2) for 256 at 14x14 is level with bf16 (JMH CpuConvBenchmark layer3.1.conv2: bf16 / F(2x2)
// throughput 1.02 at batch 1, 0.91 at batch 8), both at fp32 accuracy. Whole models, F(4x4) kept vs sent to bf16
// (RESKERN_CPU_WINOGRAD=0 under bf16): keeping it was 4-9 % faster on resnet18 / resnet50 at batch 1 and 8
// (benchmarks/results/2026-12-02-cpu-ab-bf16-winograd-zen5). The 512-channel F(2x2) layers (wide ResNets at 14x14;
// 0.9-1.3x the direct kernel) go to bf16. Grouped convs stay fp32 (their kernel has no bf16 form).
static int pack_layout_prec(int K, int C, int R, int S, int groups, int stride, long long pixels, int prec) {
  const int fp32 = pack_layout(K, C, R, S, groups, stride, pixels);
  const bool wino_kept = (fp32 == LAYOUT_WINO4 || fp32 == LAYOUT_WINO) && C <= 256;
  if (prec == RK_CPU_PREC_BF16 && groups == 1 && !wino_kept) return LAYOUT_BF16;
  return fp32;
}
// Winograd weight transforms G (alpha x 3) of F(2x2,3x3) and F(4x4,3x3): U = G g G^T per (k, c), in double.
static const double kWinoG2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
static const double kWinoG4[6][3] = {{1.0 / 4, 0, 0},          {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                     {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6},   {0, 0, 1}};
static size_t packed_data_size(int K, int C, int R, int S, int groups, int stride, long long pixels, int prec) {
  if (K <= 0 || C <= 0 || R <= 0 || S <= 0 || groups <= 0 || C % groups || K % groups) return 0;
  if (prec != RK_CPU_PREC_FP32 && prec != RK_CPU_PREC_BF16) return 0;
  if (prec == RK_CPU_PREC_BF16 && !bf16_ok()) return 0;
  const size_t rsc = (size_t)R * S * (size_t)(C / groups);
  if (groups > 1) return (size_t)K * rsc;
  const size_t nr = (size_t)isa_nr(current_isa(), K);
  const size_t kpad = ((size_t)K + nr - 1) / nr * nr;
  switch (pack_layout_prec(K, C, R, S, groups, stride, pixels, prec)) {
    case LAYOUT_WINO: return 16 * kpad * (size_t)C;
    case LAYOUT_WINO4: return 36 * kpad * (size_t)C;
    case LAYOUT_BF16: return kpad * (size_t)R * S * (size_t)((C + 1) / 2);
    default: return kpad * rsc;
  }
}
size_t rk_cpu_conv_packed_size_prec(int K, int C, int R, int S, int groups, int stride, long long pixels, int precision) {
  const size_t n = packed_data_size(K, C, R, S, groups, stride, pixels, precision);
  return n ? n + kPackHdr : 0;
}
size_t rk_cpu_conv_packed_size_hint(int K, int C, int R, int S, int groups, int stride, long long pixels) {
  return rk_cpu_conv_packed_size_prec(K, C, R, S, groups, stride, pixels, RK_CPU_PREC_FP32);
}
int rk_cpu_conv_packed_precision(const float* w) {
  if (!w) return -1;
  int32_t hdr[9];
  memcpy(hdr, w, sizeof hdr);
  if (hdr[1] != kPackMagic) return -1;
  return hdr[8] == LAYOUT_BF16 ? RK_CPU_PREC_BF16 : RK_CPU_PREC_FP32;
}
size_t rk_cpu_conv_packed_size_ex(int K, int C, int R, int S, int groups, int stride) {
  return rk_cpu_conv_packed_size_hint(K, C, R, S, groups, stride, 0);
}
size_t rk_cpu_conv_packed_size(int K, int C, int R, int S, int groups) {
  return rk_cpu_conv_packed_size_ex(K, C, R, S, groups, 0);
}
rk_status rk_cpu_conv_pack(const float* w, int K, int C, int R, int S, int groups, float* buf) {
  return rk_cpu_conv_pack_ex(w, K, C, R, S, groups, 0, buf);
}

rk_status rk_cpu_conv_pack_ex(const float* w, int K, int C, int R, int S, int groups, int stride, float* buf) {
  return rk_cpu_conv_pack_hint(w, K, C, R, S, groups, stride, 0, buf);
}

rk_status rk_cpu_conv_pack_hint(const float* w, int K, int C, int R, int S, int groups, int stride, long long pixels,
                                float* buf) {
  return rk_cpu_conv_pack_prec(w, K, C, R, S, groups, stride, pixels, RK_CPU_PREC_FP32, buf);
}

// bf16 of an fp32 value, round to nearest even (NaN stays NaN); the kernel's x conversion rounds the same way (its
// vector part also flushes denormals, |x| < 1.2e-38, to zero).
static uint32_t bf16_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 0x40u;
  return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}

rk_status rk_cpu_conv_pack_prec(const float* w, int K, int C, int R, int S, int groups, int stride, long long pixels,
                                int precision, float* buf) {
  if (precision == RK_CPU_PREC_BF16 && !bf16_ok())
    return fail(RK_ERR_UNSUPPORTED, "conv_pack: bf16 needs the AVX512_BF16 kernel (this CPU's: %s%s)",
                rk_cpu_kernel_isa(), current_isa() == ISA_AVX512 ? " without AVX512_BF16" : "");
  const size_t n = packed_data_size(K, C, R, S, groups, stride, pixels, precision);
  RK_REQUIRE(n && w && buf, "conv_pack: bad arguments K=%d C=%d R=%d S=%d groups=%d precision=%d", K, C, R, S, groups,
             precision);
  const int layout = pack_layout_prec(K, C, R, S, groups, stride, pixels, precision);
  const size_t off = 16 + ((64 - ((uintptr_t)(buf + 16) & 63)) & 63) / sizeof(float);  // 16..31
  const int32_t hdr[9] = {(int32_t)off, kPackMagic, current_isa(), K, C, R, S, groups, layout};
  memset(buf, 0, kPackHdr * sizeof(float));
  memcpy(buf, hdr, sizeof hdr);
  float* packed = buf + off;
  const size_t cg = (size_t)(C / groups), kg = (size_t)(K / groups), rsc = (size_t)R * S * cg;
  if (layout == LAYOUT_WINO || layout == LAYOUT_WINO4) {  // U[j][xi][c][jj] = (G g G^T)[xi] of w[j*nr + jj][.][.][c]
    const int al = layout == LAYOUT_WINO ? 4 : 6, nx = al * al;
    const double(*G)[3] = layout == LAYOUT_WINO ? kWinoG2 : kWinoG4;
    const size_t nr = (size_t)isa_nr(current_isa(), K), npan = ((size_t)K + nr - 1) / nr;
    for (size_t j = 0; j < npan; j++)
      for (size_t c = 0; c < (size_t)C; c++)
        for (size_t jj = 0; jj < nr; jj++) {
          const size_t k = j * nr + jj;
          double u[6][6] = {};
          if (k < (size_t)K) {
            double gg[6][3] = {};  // G g (over r), per column s
            for (int i = 0; i < al; i++)
              for (int s = 0; s < 3; s++)
                for (int r = 0; r < 3; r++) gg[i][s] += G[i][r] * w[(k * 9 + r * 3 + s) * C + c];
            for (int i = 0; i < al; i++)  // (G g) G^T
              for (int t = 0; t < al; t++)
                for (int s = 0; s < 3; s++) u[i][t] += gg[i][s] * G[t][s];
          }
          for (int xi = 0; xi < nx; xi++) packed[((j * nx + xi) * C + c) * nr + jj] = (float)u[xi / al][xi % al];
        }
    return RK_OK;
  }
  if (layout == LAYOUT_BF16) {  // packed[j][r][s][cp][jj] = bf16 w[k][r][s][2cp] | bf16 w[k][r][s][2cp+1] << 16
    const size_t nr = (size_t)isa_nr(current_isa(), K), npan = ((size_t)K + nr - 1) / nr, cp = ((size_t)C + 1) / 2;
    uint32_t* pk = reinterpret_cast<uint32_t*>(packed);
    for (size_t j = 0; j < npan; j++)
      for (size_t t = 0; t < (size_t)R * S; t++)
        for (size_t i = 0; i < cp; i++)
          for (size_t jj = 0; jj < nr; jj++) {
            const size_t k = j * nr + jj, c0 = 2 * i, c1 = 2 * i + 1;
            uint32_t v = 0;
            if (k < (size_t)K) {
              const float* wk = w + (k * R * S + t) * (size_t)C;
              v = bf16_bits(wk[c0]) | (c1 < (size_t)C ? bf16_bits(wk[c1]) << 16 : 0u);
            }
            pk[((j * R * S + t) * cp + i) * nr + jj] = v;
          }
    return RK_OK;
  }
  if (const size_t L = groups > 1 ? (size_t)grouped_vec(K, C, groups) : 0) {
    for (size_t v = 0; v < (size_t)K / L; v++)
      for (size_t t = 0; t < (size_t)R * S; t++)
        for (size_t c = 0; c < cg; c++)
          for (size_t j = 0; j < L; j++) packed[((v * R * S + t) * cg + c) * L + j] = w[((v * L + j) * R * S + t) * cg + c];
    return RK_OK;
  }
  if (groups > 1) {
    for (size_t g = 0; g < (size_t)groups; g++)
      for (size_t t = 0; t < (size_t)R * S; t++)
        for (size_t c = 0; c < cg; c++)
          for (size_t kk = 0; kk < kg; kk++)
            packed[((g * R * S + t) * cg + c) * kg + kk] = w[((g * kg + kk) * R * S + t) * cg + c];
    return RK_OK;
  }
  const size_t nr = (size_t)isa_nr(current_isa(), K);
  const size_t npan = ((size_t)K + nr - 1) / nr;
  for (size_t j = 0; j < npan; j++)
    for (size_t i = 0; i < rsc; i++)
      for (size_t jj = 0; jj < nr; jj++) {
        const size_t k = j * nr + jj;
        packed[(j * rsc + i) * nr + jj] = k < (size_t)K ? w[k * rsc + i] : 0.f;
      }
  return RK_OK;
}

// ---- generic grouped convolution (groups > 1: ResNeXt, depthwise) -----------------------------------------
// y[n,p,q,g*kg+kk] = epilogue( sum_{r,s,c<cg} x[n, p*st-ph+r, q*st-pw+s, g*cg+c] * packed[g][r][s][c][kk] )
// Per output pixel: accumulate all K channels in a per-thread row buffer (so y may alias an identity residual),
// inner loop over kk contiguous in the packed weights; then the same epilogue as the GEMM kernels.
static rk_status conv_grouped(const ConvArgs& a) {
  const int G = a.groups, cg = a.C / G, kg = a.K / G, K = a.K;
  const long long M = (long long)a.N * a.P * a.Q, PQ = (long long)a.P * a.Q;
  const int apad = (K - a.res_c) / 2;
  const int nt = M * K * (long long)a.R * a.S * cg > kParallelMin ? team_size() : 1;
  float* accs = (float*)malloc(sizeof(float) * (size_t)K * (size_t)nt);  // one accumulator row per thread
  if (!accs) return fail(RK_ERR_OUT_OF_MEMORY, "conv2d: out of memory");
  par_range(M, nt, [&](long long m0, long long m1, int tid) {
    float* acc = accs + (size_t)tid * K;
    for (long long m = m0; m < m1; m++) {
      const long long n = m / PQ, rem = m - n * PQ, p = rem / a.Q, q = rem - p * a.Q;
      const long long hb = p * a.stride - a.pad_h, wb = q * a.stride - a.pad_w;
      for (int k = 0; k < K; k++) acc[k] = 0.f;
      for (int r = 0; r < a.R; r++) {
        const long long hi = hb + r;
        if (hi < 0 || hi >= a.H) continue;
        for (int s = 0; s < a.S; s++) {
          const long long wi = wb + s;
          if (wi < 0 || wi >= a.W) continue;
          const float* xp = a.x + (size_t)(((n * a.H + hi) * a.W + wi) * a.C);
          for (int g = 0; g < G; g++) {
            const float* wp = a.w + (((size_t)g * a.R * a.S + (size_t)r * a.S + s) * cg) * kg;
            float* ag = acc + (size_t)g * kg;
            const float* xg = xp + (size_t)g * cg;
            for (int c = 0; c < cg; c++) {
              const float xv = xg[c];
              const float* wc = wp + (size_t)c * kg;
              for (int kk = 0; kk < kg; kk++) ag[kk] += xv * wc[kk];
            }
          }
        }
      }
      float* yr = a.y + (size_t)m * K;
      const float* rr = a.res_mode == RK_RES_IDENTITY ? a.res + (size_t)m * K
                        : a.res_mode == RK_RES_OPTION_A
                            ? a.res + (size_t)(((n * a.res_h + 2 * p) * a.res_w + 2 * q) * a.res_c)
                            : nullptr;
      for (int k = 0; k < K; k++) {
        float v = acc[k] * (a.scale ? a.scale[k] : 1.f) + (a.shift ? a.shift[k] : 0.f);
        if (a.res_mode == RK_RES_IDENTITY) v += rr[k];
        else if (a.res_mode == RK_RES_OPTION_A && k >= apad && k - apad < a.res_c) v += rr[k - apad];
        yr[k] = a.relu && v < 0.f ? 0.f : v;
      }
    }
  });
  free(accs);
  return RK_OK;
}

// Floats of the bf16 pair image of x (a.C = pairs per pixel), rounded up to a 64-byte line.
static size_t bf16_pair_floats(const ConvArgs& a) {
  return ((size_t)a.N * (size_t)a.H * (size_t)a.W * (size_t)a.C + 15) / 16 * 16;
}

// y[n,p,q,k] = relu?(scale[k] * sum_{r,s,c} x[n,p*st-ph+r,q*st-pw+s,c] * W[k,r,s,c] + shift[k] + res[...])

size_t rk_cpu_conv2d_workspace_size(int N, int H, int W, int C, const float* w, int K, int R, int S, int stride,
                                    int pad_h, int pad_w, int groups, int P, int Q) {
  if (!w || N <= 0 || H <= 0 || W <= 0 || C <= 0 || K <= 0 || R <= 0 || S <= 0 || stride <= 0 || P <= 0 || Q <= 0 ||
      pad_h < 0 || pad_w < 0 || groups != 1)
    return 0;  // invalid (rk_cpu_conv2d says why) or grouped: no workspace
  int32_t hdr[9];
  memcpy(hdr, w, sizeof hdr);
  if (hdr[1] != kPackMagic || (hdr[8] != LAYOUT_DIRECT && hdr[8] != LAYOUT_BF16)) return 0;  // Winograd: none
  ConvArgs a{};
  a.N = N; a.H = H; a.W = W; a.C = C; a.K = K; a.R = R; a.S = S; a.stride = stride; a.pad_h = pad_h; a.pad_w = pad_w;
  a.groups = groups; a.P = P; a.Q = Q;
  if (hdr[8] == LAYOUT_BF16) {  // x as bf16 pairs, then (narrow convs) their zero-padded copy
    a.C = (C + 1) / 2;
    return (bf16_pair_floats(a) + rk_cpu_detail::padded_copy_floats(a)) * sizeof(float);
  }
  return rk_cpu_detail::padded_copy_floats(a) * sizeof(float);
}

rk_status rk_cpu_conv2d(const float* x, int N, int H, int W, int C, const float* w, int K, int R, int S, int stride,
                        int pad_h, int pad_w, int groups, const float* scale, const float* shift, const float* res,
                        int res_mode, int res_h, int res_w, int res_c, int relu, float* y, int P, int Q) {
  return rk_cpu_conv2d_ws(x, N, H, W, C, w, K, R, S, stride, pad_h, pad_w, groups, scale, shift, res, res_mode, res_h,
                          res_w, res_c, relu, y, P, Q, nullptr, 0);
}

rk_status rk_cpu_conv2d_ws(const float* x, int N, int H, int W, int C, const float* w, int K, int R, int S, int stride,
                           int pad_h, int pad_w, int groups, const float* scale, const float* shift, const float* res,
                           int res_mode, int res_h, int res_w, int res_c, int relu, float* y, int P, int Q,
                           void* workspace, size_t workspace_bytes) {
  RK_REQUIRE(x && w && y, "conv2d: null tensor");
  RK_REQUIRE(N > 0 && H > 0 && W > 0 && C > 0 && K > 0 && R > 0 && S > 0 && stride > 0 && P > 0 && Q > 0,
             "conv2d: non-positive size (N=%d H=%d W=%d C=%d K=%d R=%d S=%d stride=%d P=%d Q=%d)", N, H, W, C, K, R,
             S, stride, P, Q);
  RK_REQUIRE(pad_h >= 0 && pad_w >= 0, "conv2d: negative padding (%d, %d)", pad_h, pad_w);
  RK_REQUIRE(groups > 0 && C % groups == 0 && K % groups == 0, "conv2d: groups=%d must divide C=%d and K=%d", groups,
             C, K);
  RK_REQUIRE(res_mode >= RK_RES_NONE && res_mode <= RK_RES_OPTION_A, "conv2d: bad res_mode %d", res_mode);
  RK_REQUIRE(x != y, "conv2d: y must not alias x");
  if (res_mode != RK_RES_NONE) RK_REQUIRE(res, "conv2d: null residual");
  if (res_mode == RK_RES_OPTION_A) {
    RK_REQUIRE(res_c > 0 && res_c <= K && res_h >= 2 * (long long)P - 1 && res_w >= 2 * (long long)Q - 1,
               "conv2d: option-A residual [%d,%d,%d] does not fit output [%d,%d,%d]", res_h, res_w, res_c, P, Q, K);
    RK_REQUIRE(res != y, "conv2d: y may alias the residual only for RK_RES_IDENTITY");
  }
  int32_t hdr[9];
  memcpy(hdr, w, sizeof hdr);
  RK_REQUIRE(hdr[1] == kPackMagic && hdr[0] >= 16 && hdr[0] < (int32_t)kPackHdr,
             "conv2d: weights were not packed by rk_cpu_conv_pack");
  RK_REQUIRE(hdr[2] == current_isa() && hdr[3] == K && hdr[4] == C && hdr[5] == R && hdr[6] == S && hdr[7] == groups,
             "conv2d: weights were packed for K=%d C=%d R=%d S=%d groups=%d isa=%d, not K=%d C=%d R=%d S=%d "
             "groups=%d isa=%d",
             hdr[3], hdr[4], hdr[5], hdr[6], hdr[7], hdr[2], K, C, R, S, groups, current_isa());
  RK_REQUIRE(hdr[8] == LAYOUT_DIRECT || hdr[8] == LAYOUT_BF16 ||
                 ((hdr[8] == LAYOUT_WINO || hdr[8] == LAYOUT_WINO4) && stride == 1),
             "conv2d: weights were packed for a stride-1 3x3 conv (Winograd layout), not stride %d", stride);
  if (hdr[8] == LAYOUT_BF16 && !bf16_ok())
    return fail(RK_ERR_UNSUPPORTED, "conv2d: bf16 weights need the AVX512_BF16 kernel (this CPU's: %s)",
                rk_cpu_kernel_isa());
  w += hdr[0];
  ConvArgs a;
  a.x = x; a.N = N; a.H = H; a.W = W; a.C = C; a.w = w; a.K = K; a.R = R; a.S = S; a.stride = stride;
  a.pad_h = pad_h; a.pad_w = pad_w; a.groups = groups; a.scale = scale; a.shift = shift; a.res = res;
  a.res_mode = res_mode; a.res_h = res_h; a.res_w = res_w; a.res_c = res_c; a.relu = relu; a.y = y; a.P = P;
  a.Q = Q;
  a.ws = nullptr;
  a.ws_floats = 0;
  if (workspace) {
    const size_t need = rk_cpu_conv2d_workspace_size(N, H, W, C, w - hdr[0], K, R, S, stride, pad_h, pad_w, groups, P, Q);
    RK_REQUIRE(workspace_bytes >= need,
               "conv2d: a workspace of %zu bytes, this conv needs %zu (rk_cpu_conv2d_workspace_size)", workspace_bytes,
               need);
    RK_REQUIRE(((uintptr_t)workspace & 3) == 0, "conv2d: workspace not 4-byte aligned");
    a.ws = static_cast<float*>(workspace);
    a.ws_floats = workspace_bytes / sizeof(float);
  }
  const long long flops = (long long)N * P * Q * K * R * S * (C / groups);
  a.nthreads = flops > 4 * kParallelMin ? team_size() : 1;
  if (groups > 1) {
    const int lanes = grouped_vec(K, C, groups);
    if (!lanes) return conv_grouped(a);
    const int rc = lanes == 16 ? rk_cpu_detail::conv_grouped_avx512(a) : rk_cpu_detail::conv_grouped_avx2(a);
    return rc ? fail(rc, "conv2d: out of memory") : RK_OK;
  }
  int rc;
  if (hdr[8] == LAYOUT_BF16) {
    // x -> bf16 pairs in the workspace (after them, the kernel's own padded copy) or in a leased scratch buffer
    ConvArgs b = a;
    b.C = (C + 1) / 2;
    const size_t pf = bf16_pair_floats(b);
    rk_cpu_detail::Scratch lease{nullptr, 0};
    float* xp;
    if (a.ws && a.ws_floats >= pf) {
      xp = a.ws;
      b.ws = a.ws + pf;
      b.ws_floats = a.ws_floats - pf;
    } else {
      lease = rk_cpu_detail::scratch_acquire(pf);
      if (!lease.p) return fail(RK_ERR_OUT_OF_MEMORY, "conv2d: out of memory");
      xp = lease.p;
      b.ws = nullptr;
      b.ws_floats = 0;
    }
    rk_cpu_detail::bf16_pairs_avx512bf16(x, (long long)N * H * W, C, xp, a.nthreads);
    b.x = xp;
    rc = rk_cpu_detail::conv_gemm_avx512bf16(b);
    rk_cpu_detail::scratch_release(lease);
    return rc ? fail(rc, "conv2d: out of memory") : RK_OK;
  }
  if (hdr[8] == LAYOUT_WINO || hdr[8] == LAYOUT_WINO4) {
    const int m = hdr[8] == LAYOUT_WINO4 ? 4 : 2;
    switch (current_isa()) {
      case ISA_AVX512: rc = rk_cpu_detail::conv_wino_avx512(a, m); break;
      case ISA_AVX2: rc = rk_cpu_detail::conv_wino_avx2(a, m); break;
      default: rc = rk_cpu_detail::conv_wino_scalar(a, m); break;
    }
    return rc ? fail(rc, "conv2d: out of memory") : RK_OK;
  }
  switch (current_isa()) {
    case ISA_AVX512: rc = rk_cpu_detail::conv_gemm_avx512(a); break;
    case ISA_AVX2: rc = rk_cpu_detail::conv_gemm_avx2(a); break;
    default: rc = rk_cpu_detail::conv_gemm_scalar(a); break;
  }
  return rc ? fail(rc, "conv2d: out of memory") : RK_OK;
}

// ---- element-wise / pooling ops (memory bound: vectorised over C by the compiler, OpenMP over rows) --------

// y[i,c] = relu?(scale[c] * x[i,c] + shift[c])
rk_status rk_cpu_bn_relu(const float* x, long long M, int C, const float* scale, const float* shift, int relu,
                         float* y) {
  RK_REQUIRE(x && y && scale && shift && M >= 0 && C > 0, "bn_relu: bad arguments");
  const int nt = M * C > kParallelMin ? team_size() : 1;
  par_range(M, nt, [&](long long i0_, long long i1_, int) {
    for (long long i = (long long)i0_; i < (long long)i1_; i++) {
      const float* xr = x + (size_t)i * C;
      float* yr = y + (size_t)i * C;
      if (relu)
        for (int c = 0; c < C; c++) {
          const float v = scale[c] * xr[c] + shift[c];
          yr[c] = v < 0.f ? 0.f : v;
        }
      else
        for (int c = 0; c < C; c++) yr[c] = scale[c] * xr[c] + shift[c];
    }
  });
  return RK_OK;
}

// y = relu?(a + b)
rk_status rk_cpu_add_relu(const float* a, const float* b, long long count, int relu, float* y) {
  RK_REQUIRE(a && b && y && count >= 0, "add_relu: bad arguments");
  const long long blk = 4096, nb = (count + blk - 1) / blk;
  const int nt = count > kParallelMin ? team_size() : 1;
  par_range(nb, nt, [&](long long i0_, long long i1_, int) {
    for (long long ib = (long long)i0_; ib < (long long)i1_; ib++) {
      const long long i0 = ib * blk, i1 = i0 + blk < count ? i0 + blk : count;
      if (relu)
        for (long long i = i0; i < i1; i++) {
          const float v = a[i] + b[i];
          y[i] = v < 0.f ? 0.f : v;
        }
      else
        for (long long i = i0; i < i1; i++) y[i] = a[i] + b[i];
    }
  });
  return RK_OK;
}

// y[n,p,q,c] = max_{r<kh,s<kw, in bounds} x[n, p*st-ph+r, q*st-pw+s, c]; padding = -inf; NaN propagates
rk_status rk_cpu_maxpool2d(const float* x, int N, int H, int W, int C, int kh, int kw, int stride, int pad_h,
                           int pad_w, float* y, int P, int Q) {
  RK_REQUIRE(x && y && N > 0 && H > 0 && W > 0 && C > 0 && kh > 0 && kw > 0 && stride > 0 && P > 0 && Q > 0 &&
                 pad_h >= 0 && pad_w >= 0,
             "maxpool2d: bad arguments");
  const long long rows = (long long)N * P;
  const int nt = rows * Q * C * (long long)kh * kw > kParallelMin ? team_size() : 1;
  // per thread: the window's in-bounds input rows (at most min(kh, H) x min(kw, W) of them)
  // (each thread's list on its own cache lines: sharing one, the threads' writes ping-ponged it, 1.5-2x slower)
  const size_t maxtaps = (size_t)std::min(kh, H) * (size_t)std::min(kw, W);
  const size_t tstride = (maxtaps + 7) / 8 * 8 + 8;  // pointers: whole 64-byte lines, one spare
  const float** tapbuf = (const float**)aligned_alloc(64, sizeof(const float*) * tstride * (size_t)nt);
  if (!tapbuf) return fail(RK_ERR_OUT_OF_MEMORY, "maxpool2d: out of memory (%zu window taps)", maxtaps);
  par_range(rows, nt, [&](long long i0_, long long i1_, int tid) {
    const float** taps = tapbuf + (size_t)tid * tstride;
    for (long long np = (long long)i0_; np < (long long)i1_; np++) {
      const long long n = np / P, p = np - n * P;
      for (int q = 0; q < Q; q++) {
        float* yr = y + (size_t)((np * Q + q) * C);
        int ntap = 0;
        for (int r = 0; r < kh; r++) {
          const long long hi = p * stride - pad_h + r;
          if (hi < 0 || hi >= H) continue;
          for (int s = 0; s < kw; s++) {
            const long long wi = (long long)q * stride - pad_w + s;
            if (wi < 0 || wi >= W) continue;
            taps[ntap++] = x + (size_t)(((n * H + hi) * W + wi) * C);
          }
        }
        // 32 channels at a time in 8 vector accumulators (GCC vector extensions: SSE2 here, where this file is
        // built for baseline x86-64): one pass over the taps, one store. Written as a per-element
        // `(v > m || v != v) ? v : m` through y, gcc emitted a scalar compare-and-branch per element (3 GB/s).
        typedef float f4 __attribute__((vector_size(16)));
        int c0 = 0;
        for (; c0 + 32 <= C; c0 += 32) {
          f4 acc[8];
          for (int j = 0; j < 8; j++) acc[j] = f4{} - std::numeric_limits<float>::infinity();
          for (int t = 0; t < ntap; t++) {
            const float* xr = taps[t] + c0;
            for (int j = 0; j < 8; j++) {
              f4 v;
              memcpy(&v, xr + 4 * j, sizeof v);
              acc[j] = ((v > acc[j]) | (v != v)) ? v : acc[j];  // NaN propagates
            }
          }
          memcpy(yr + c0, acc, sizeof acc);
        }
        for (int c = c0; c < C; c++) {
          float m = -std::numeric_limits<float>::infinity();
          for (int t = 0; t < ntap; t++) {
            const float v = taps[t][c];
            m = (v > m || v != v) ? v : m;
          }
          yr[c] = m;
        }
      }
    }
  });
  free(tapbuf);
  return RK_OK;
}

// y = sum over the clipped window / cnt; cnt = in-bounds taps (count_include_pad=0) or the window clipped to
// [-pad, H+pad) x [-pad, W+pad) (count_include_pad=1, torch)
rk_status rk_cpu_avgpool2d(const float* x, int N, int H, int W, int C, int kh, int kw, int stride, int pad_h,
                           int pad_w, int count_include_pad, float* y, int P, int Q) {
  RK_REQUIRE(x && y && N > 0 && H > 0 && W > 0 && C > 0 && kh > 0 && kw > 0 && stride > 0 && P > 0 && Q > 0 &&
                 pad_h >= 0 && pad_w >= 0,
             "avgpool2d: bad arguments");
  const long long rows = (long long)N * P;
  const int nt = rows * Q * C * (long long)kh * kw > kParallelMin ? team_size() : 1;
  par_range(rows, nt, [&](long long i0_, long long i1_, int) {
    for (long long np = (long long)i0_; np < (long long)i1_; np++) {
      const long long n = np / P, p = np - n * P;
      for (int q = 0; q < Q; q++) {
        const long long h0 = p * stride - pad_h, w0 = (long long)q * stride - pad_w;
        const long long h1 = std::min<long long>(h0 + kh, (long long)H + pad_h);
        const long long w1 = std::min<long long>(w0 + kw, (long long)W + pad_w);
        const long long pool = (h1 - h0) * (w1 - w0);
        const long long hs = std::max<long long>(h0, 0), ws = std::max<long long>(w0, 0);
        const long long he = std::min<long long>(h1, H), we = std::min<long long>(w1, W);
        const long long inb = (he > hs && we > ws) ? (he - hs) * (we - ws) : 0;
        const long long cnt = count_include_pad ? pool : inb;
        float* yr = y + (size_t)((np * Q + q) * C);
        for (int c = 0; c < C; c++) yr[c] = 0.f;
        for (long long hi = hs; hi < he; hi++)
          for (long long wi = ws; wi < we; wi++) {
            const float* xr = x + (size_t)(((n * H + hi) * W + wi) * C);
            for (int c = 0; c < C; c++) yr[c] += xr[c];
          }
        if (cnt > 0) {
          const float d = (float)cnt;
          for (int c = 0; c < C; c++) yr[c] /= d;
        } else {
          for (int c = 0; c < C; c++) yr[c] = 0.f;
        }
      }
    }
  });
  return RK_OK;
}

// y[n,c] = (1/HW) * sum_i x[n,i,c]
rk_status rk_cpu_global_avgpool(const float* x, int N, int HW, int C, float* y) {
  RK_REQUIRE(x && y && N > 0 && HW > 0 && C > 0, "global_avgpool: bad arguments");
  const int cb = 256;  // channel block: each task sums a [HW x 256] column strip
  const long long nblk = (long long)N * ((C + cb - 1) / cb);
  const int nt = (long long)N * HW * C > kParallelMin ? team_size() : 1;
  par_range(nblk, nt, [&](long long i0_, long long i1_, int) {
    for (long long b = (long long)i0_; b < (long long)i1_; b++) {
      const long long n = b / ((C + cb - 1) / cb);
      const int c0 = (int)(b - n * ((C + cb - 1) / cb)) * cb, c1 = c0 + cb < C ? c0 + cb : C;
      float* yn = y + (size_t)n * C;
      for (int c = c0; c < c1; c++) yn[c] = 0.f;
      for (int i = 0; i < HW; i++) {
        const float* xr = x + ((size_t)n * HW + i) * C;
        for (int c = c0; c < c1; c++) yn[c] += xr[c];
      }
      const float d = (float)HW;
      for (int c = c0; c < c1; c++) yn[c] /= d;
    }
  });
  return RK_OK;
}

// Dot product with 16 independent partial sums (vectorisable without reassociation flags).
static inline float dot(const float* __restrict a, const float* __restrict b, int n) {
  float acc[16] = {0.f};
  int i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; j++) acc[j] += a[i + j] * b[i + j];
  float s = 0.f;
  for (int j = 0; j < 16; j++) s += acc[j];
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

// y[n,k] = sum_c x[n,c] * w[k,c] + bias[k]
rk_status rk_cpu_fc(const float* x, int N, int C, const float* w, const float* bias, int K, float* y) {
  RK_REQUIRE(x && w && y && N > 0 && C > 0 && K > 0, "fc: bad arguments");
  const int nt = (long long)N * C * K > kParallelMin ? team_size() : 1;
  par_range(K, nt, [&](long long k0, long long k1, int) {
    for (long long k = k0; k < k1; k++) {  // each weight row is read once for all N inputs
      const float* wk = w + (size_t)k * C;
      const float b = bias ? bias[k] : 0.f;
      for (int n = 0; n < N; n++) y[(size_t)n * K + k] = dot(x + (size_t)n * C, wk, C) + b;
    }
  });
  return RK_OK;
}

// y[n,h,w,c] = x[n,c,h,w]
rk_status rk_cpu_nchw_to_nhwc(const float* x, int N, int C, int H, int W, float* y) {
  RK_REQUIRE(x && y && N > 0 && C > 0 && H > 0 && W > 0 && x != y, "nchw_to_nhwc: bad arguments");
  const size_t HW = (size_t)H * W;
  const long long rows = (long long)N * H;
  const int nt = rows * W * C > kParallelMin ? team_size() : 1;
  par_range(rows, nt, [&](long long i0_, long long i1_, int) {
    for (long long nh = (long long)i0_; nh < (long long)i1_; nh++) {
      const size_t n = (size_t)(nh / H), h = (size_t)(nh % H);
      const float* xs = x + n * C * HW + h * W;
      float* yr = y + (size_t)nh * W * C;
      for (int c0 = 0; c0 < C; c0 += 16) {  // 16x16 tiles keep both sides' lines in L1
        const int c1 = c0 + 16 < C ? c0 + 16 : C;
        for (int w0 = 0; w0 < W; w0 += 16) {
          const int w1 = w0 + 16 < W ? w0 + 16 : W;
          for (int wi = w0; wi < w1; wi++)
            for (int c = c0; c < c1; c++) yr[(size_t)wi * C + c] = xs[(size_t)c * HW + wi];
        }
      }
    }
  });
  return RK_OK;
}

// y[i,c] = (x[i,c]/255 - mean[c]) / std[c], 3 channels
rk_status rk_cpu_preprocess_u8(const uint8_t* x, int N, int H, int W, const float* mean, const float* std,
                               float* y) {
  RK_REQUIRE(x && y && mean && std && N > 0 && H > 0 && W > 0, "preprocess_u8: bad arguments");
  const long long px = (long long)N * H * W;
  const float m0 = mean[0], m1 = mean[1], m2 = mean[2], s0 = std[0], s1 = std[1], s2 = std[2];
  const int nt = px * 3 > kParallelMin ? team_size() : 1;
  par_range(px, nt, [&](long long i0_, long long i1_, int) {
    for (long long i = (long long)i0_; i < (long long)i1_; i++) {
      const uint8_t* xi = x + (size_t)i * 3;
      float* yi = y + (size_t)i * 3;
      yi[0] = (xi[0] / 255.f - m0) / s0;
      yi[1] = (xi[1] / 255.f - m1) / s1;
      yi[2] = (xi[2] / 255.f - m2) / s2;
    }
  });
  return RK_OK;
}
// Image in: t[p, j, b] = sum_i wy[p,i] * x_bytes[(ys[p]+i)*row_stride + j*pixel_stride + b] for every byte b of a pixel
// (so one contiguous loop serves RGB, BGR, ABGR and gray), then
// y[p, q, c] = (sum_j wx[q,j] * t[p, xs[q]+j, off[c]] / 255 - mean[c]) / std[c]. One output row per task; t holds
// only the input columns some output column reads.
rk_status rk_cpu_resample_normalize_u8(const uint8_t* x, int H, int W, long long row_stride, int pixel_stride,
                                       int off_r, int off_g, int off_b, const int* ys, const int* ny, const float* wy,
                                       int ky, const int* xs, const int* nx, const float* wx, int kx,
                                       const float* mean, const float* std, float* y, int P, int Q) {
  RK_REQUIRE(x && ys && ny && wy && xs && nx && wx && mean && std && y, "resample_normalize_u8: null pointer");
  RK_REQUIRE(H > 0 && W > 0 && P > 0 && Q > 0 && ky > 0 && kx > 0,
             "resample_normalize_u8: bad sizes H=%d W=%d P=%d Q=%d ky=%d kx=%d", H, W, P, Q, ky, kx);
  const int off[3] = {off_r, off_g, off_b};
  RK_REQUIRE(pixel_stride >= 1 && pixel_stride <= 16 && off_r >= 0 && off_r < pixel_stride && off_g >= 0 &&
                 off_g < pixel_stride && off_b >= 0 && off_b < pixel_stride,
             "resample_normalize_u8: bad pixel layout (pixel_stride %d, offsets %d,%d,%d)", pixel_stride, off_r, off_g,
             off_b);
  RK_REQUIRE(row_stride >= (long long)W * pixel_stride, "resample_normalize_u8: row_stride %lld < W*pixel_stride = %lld",
             row_stride, (long long)W * pixel_stride);
  for (int p = 0; p < P; p++)
    RK_REQUIRE(ny[p] >= 0 && ny[p] <= ky && (ny[p] == 0 || (ys[p] >= 0 && (long long)ys[p] + ny[p] <= H)),
               "resample_normalize_u8: row tap %d (start %d, count %d, ky %d) outside the image of %d rows", p, ys[p],
               ny[p], ky, H);
  int j0 = W, j1 = 0;  // input columns read by some output column
  for (int q = 0; q < Q; q++) {
    RK_REQUIRE(nx[q] >= 0 && nx[q] <= kx && (nx[q] == 0 || (xs[q] >= 0 && (long long)xs[q] + nx[q] <= W)),
               "resample_normalize_u8: column tap %d (start %d, count %d, kx %d) outside the image of %d columns", q,
               xs[q], nx[q], kx, W);
    if (nx[q] > 0) {
      j0 = std::min(j0, xs[q]);
      j1 = std::max(j1, xs[q] + nx[q]);
    }
  }
  const float m[3] = {mean[0], mean[1], mean[2]}, sd[3] = {std[0], std[1], std[2]};
  const int ps = pixel_stride;
  const long long span = j1 > j0 ? (long long)(j1 - j0) * ps : 0;  // floats of t per row
  long long work = 0;
  for (int p = 0; p < P; p++) work += (long long)ny[p] * span;
  work += (long long)P * Q * 3 * kx;
  const int nt = work > kParallelMin ? team_size() : 1;
  std::atomic<int> oom{0};
  par_range(P, nt, [&](long long p0, long long p1, int) {
    float* t = nullptr;
    if (span > 0) {
      t = static_cast<float*>(malloc(sizeof(float) * (size_t)span));
      if (!t) {
        oom.store(1);
        return;
      }
    }
    for (long long p = p0; p < p1; p++) {
      for (long long k = 0; k < span; k++) t[k] = 0.f;
      for (int i = 0; i < ny[p]; i++) {
        const float w = wy[(size_t)p * ky + i];
        const uint8_t* row = x + (size_t)(ys[p] + i) * (size_t)row_stride + (size_t)j0 * ps;
        for (long long k = 0; k < span; k++) t[k] += w * (float)row[k];
      }
      float* yr = y + (size_t)p * Q * 3;
      for (int q = 0; q < Q; q++) {
        float a0 = 0.f, a1 = 0.f, a2 = 0.f;
        const float* wq = wx + (size_t)q * kx;
        for (int j = 0; j < nx[q]; j++) {
          const float* tj = t + (size_t)(xs[q] + j - j0) * ps;
          a0 += wq[j] * tj[off[0]];
          a1 += wq[j] * tj[off[1]];
          a2 += wq[j] * tj[off[2]];
        }
        yr[3 * q + 0] = (a0 / 255.f - m[0]) / sd[0];
        yr[3 * q + 1] = (a1 / 255.f - m[1]) / sd[1];
        yr[3 * q + 2] = (a2 / 255.f - m[2]) / sd[2];
      }
    }
    free(t);
  });
  return oom.load() ? fail(RK_ERR_OUT_OF_MEMORY, "resample_normalize_u8: out of memory (%lld floats)", span) : RK_OK;
}
}  // extern "C"
