// CPU kernel lab: validates every reskern_cpu.h op against the naive references (cpu_reference.h, double
// accumulation) on every available kernel ISA, then times the ResNet-50 batch-1 224x224 conv layers.
//
//   lab_cpu_conv_lab [test] [bench] [chain] [--threads N] [--reps N] [--isa avx512|avx2|scalar] [--filter NAME]
// (no mode = both). Exit status 0 iff all checks pass; the last test line is "N passed, N failed".
#include <immintrin.h>
#include <omp.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>
#include "conv_internal.h"
#include "cpu_reference.h"
#include "reskern_cpu.h"

static int g_pass = 0, g_fail = 0;
static void check(bool ok, const char* what) {
  if (ok) g_pass++;
  else {
    g_fail++;
    printf("  FAIL: %s\n", what);
  }
}

// 64-byte aligned float vectors for the benchmarks (how the product should allocate activations; the packed
// weights align themselves, see rk_cpu_conv_pack)
template <class T>
struct Aligned64 {
  using value_type = T;
  Aligned64() = default;
  template <class U>
  Aligned64(const Aligned64<U>&) {}
  T* allocate(size_t n) {
    void* p = aligned_alloc(64, (n * sizeof(T) + 63) / 64 * 64);
    if (!p) throw std::bad_alloc();
    return (T*)p;
  }
  void deallocate(T* p, size_t) { free(p); }
  template <class U>
  bool operator==(const Aligned64<U>&) const { return true; }
  template <class U>
  bool operator!=(const Aligned64<U>&) const { return false; }
};
using AVec = std::vector<float, Aligned64<float>>;
static AVec arand(size_t n, float lo = -1.f, float hi = 1.f);

static std::mt19937 rng(12345);
static std::vector<float> rand_vec(size_t n, float lo = -1.f, float hi = 1.f);
static std::vector<float> rand_vec(size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}
static AVec arand(size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  AVec v(n);
  for (auto& x : v) x = d(rng);
  return v;
}
static double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// ---------------------------------------------------------------------------------------------------------------
// conv correctness
struct ConvCase {
  int N, H, W, C, K, R, S, stride, pad, groups;
  int res_mode, relu;
  bool scale, shift, inplace;
  int res_c;  // option A residual channels
};

static double max_rel_err(const float* y, const double* ref, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    if (std::isnan(y[i]) != std::isnan(ref[i])) return INFINITY;
    if (std::isnan(ref[i])) continue;
    num = std::max(num, std::fabs(y[i] - ref[i]));
    den = std::max(den, std::fabs(ref[i]));
  }
  return den > 0 ? num / den : num;
}

// bf16 of v, round to nearest even (NaN stays NaN): the rounding the bf16 kernel applies to x and w.
static float bf16_round(float v) {
  uint32_t u;
  memcpy(&u, &v, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return v;
  u = ((u + 0x7fffu + ((u >> 16) & 1u)) >> 16) << 16;
  memcpy(&v, &u, sizeof v);
  return v;
}

// prec = RK_CPU_PREC_BF16: packed for bf16, and the float64 reference takes x and w rounded to bf16 (dense convs;
// grouped convs stay fp32), so what remains is the kernel's fp32 summation; *e_unrounded (if given) gets the error
// against the reference on the unrounded operands (the price of bf16 itself).
static double run_conv_case(const ConvCase& t, int threads, int prec = RK_CPU_PREC_FP32,
                            double* e_unrounded = nullptr) {
  const int P = (t.H + 2 * t.pad - t.R) / t.stride + 1, Q = (t.W + 2 * t.pad - t.S) / t.stride + 1;
  const int cg = t.C / t.groups;
  auto x = rand_vec((size_t)t.N * t.H * t.W * t.C);
  auto w = rand_vec((size_t)t.K * t.R * t.S * cg, -0.5f, 0.5f);
  auto sc = rand_vec(t.K, 0.5f, 1.5f), sh = rand_vec(t.K);
  const size_t ny = (size_t)t.N * P * Q * t.K;
  int rh = 0, rw = 0, rc = 0;
  std::vector<float> res;
  if (t.res_mode == RK_RES_IDENTITY) {
    res = rand_vec(ny);
    rh = P; rw = Q; rc = t.K;
  } else if (t.res_mode == RK_RES_OPTION_A) {
    rh = 2 * P; rw = 2 * Q - 1; rc = t.res_c;
    res = rand_vec((size_t)t.N * rh * rw * rc);
  }
  // packed for its stride and output size, as the CPU backend does: 3x3 stride-1 convs of 64..256 channels (and of up
  // to 512 with >= 196 output pixels) run on Winograd
  const long long pixels = (long long)P * Q;
  std::vector<float> packed(rk_cpu_conv_packed_size_prec(t.K, t.C, t.R, t.S, t.groups, t.stride, pixels, prec));
  if (packed.empty() ||
      rk_cpu_conv_pack_prec(w.data(), t.K, t.C, t.R, t.S, t.groups, t.stride, pixels, prec, packed.data()) != RK_OK)
    return INFINITY;
  // bf16 packing keeps grouped convs and the Winograd ones with C <= 256 in fp32 (reskern_cpu.h)
  const bool rounded = rk_cpu_conv_packed_precision(packed.data()) == RK_CPU_PREC_BF16;
  if (rounded != (prec == RK_CPU_PREC_BF16 && t.groups == 1 &&
                  !(t.C <= 256 && rk_cpu_conv_packed_size_hint(t.K, t.C, t.R, t.S, 1, t.stride, pixels) !=
                                      rk_cpu_conv_packed_size(t.K, t.C, t.R, t.S, 1))))
    return INFINITY;  // not the precision the documented choice gives
  std::vector<double> ref(ny), ref_u;
  {
    std::vector<float> xr = x, wr = w;
    if (rounded) {
      for (float& v : xr) v = bf16_round(v);
      for (float& v : wr) v = bf16_round(v);
    }
    ref::conv2d(xr.data(), t.N, t.H, t.W, t.C, wr.data(), t.K, t.R, t.S, t.stride, t.pad, t.pad, t.groups,
                t.scale ? sc.data() : nullptr, t.shift ? sh.data() : nullptr, res.empty() ? nullptr : res.data(),
                t.res_mode, rh, rw, rc, t.relu, ref.data(), P, Q);
  }
  if (e_unrounded) {
    ref_u.resize(ny);
    ref::conv2d(x.data(), t.N, t.H, t.W, t.C, w.data(), t.K, t.R, t.S, t.stride, t.pad, t.pad, t.groups,
                t.scale ? sc.data() : nullptr, t.shift ? sh.data() : nullptr, res.empty() ? nullptr : res.data(),
                t.res_mode, rh, rw, rc, t.relu, ref_u.data(), P, Q);
  }
  std::vector<float> y(ny, std::numeric_limits<float>::quiet_NaN());
  float* yp = y.data();
  if (t.inplace) yp = res.data();  // y aliases the identity residual
  rk_cpu_set_threads(threads);
  // half the bf16 cases run with a caller workspace (x's pairs, then the padded copy, in it), the rest on the pool
  std::vector<float> ws;
  if (rounded && threads == 2) {
    ws.resize(rk_cpu_conv2d_workspace_size(t.N, t.H, t.W, t.C, packed.data(), t.K, t.R, t.S, t.stride, t.pad, t.pad,
                                           t.groups, P, Q) / sizeof(float), std::numeric_limits<float>::quiet_NaN());
    if (ws.empty()) return INFINITY;  // a bf16 conv always needs room for x's pairs
  }
  const int rcode = !ws.empty() ? rk_cpu_conv2d_ws(x.data(), t.N, t.H, t.W, t.C, packed.data(), t.K, t.R, t.S,
                                  t.stride, t.pad, t.pad, t.groups, t.scale ? sc.data() : nullptr,
                                  t.shift ? sh.data() : nullptr, res.empty() ? nullptr : res.data(), t.res_mode, rh,
                                  rw, rc, t.relu, yp, P, Q, ws.data(), ws.size() * sizeof(float)) :
                                  rk_cpu_conv2d(x.data(), t.N, t.H, t.W, t.C, packed.data(), t.K, t.R, t.S, t.stride, t.pad, t.pad,
                                  t.groups, t.scale ? sc.data() : nullptr, t.shift ? sh.data() : nullptr,
                                  res.empty() ? nullptr : res.data(), t.res_mode, rh, rw, rc, t.relu, yp, P, Q);
  if (rcode != RK_OK) {
    printf("  conv2d error %d: %s\n", rcode, rk_cpu_last_error());
    return INFINITY;
  }
  if (e_unrounded) *e_unrounded = max_rel_err(yp, ref_u.data(), ny);
  return max_rel_err(yp, ref.data(), ny);
}

static std::vector<ConvCase> conv_cases() {
  std::vector<ConvCase> v;
  // ResNet shapes (small spatial)
  v.push_back({1, 12, 12, 64, 64, 1, 1, 1, 0, 1, RK_RES_NONE, 1, true, true, false, 0});
  v.push_back({1, 12, 12, 64, 256, 1, 1, 1, 0, 1, RK_RES_IDENTITY, 1, true, true, false, 0});
  v.push_back({1, 12, 12, 64, 256, 1, 1, 1, 0, 1, RK_RES_IDENTITY, 1, true, true, true, 0});  // in place
  v.push_back({1, 14, 14, 64, 64, 3, 3, 1, 1, 1, RK_RES_NONE, 1, true, true, false, 0});
  v.push_back({1, 14, 14, 128, 128, 3, 3, 2, 1, 1, RK_RES_NONE, 1, true, true, false, 0});
  v.push_back({1, 14, 14, 256, 512, 1, 1, 2, 0, 1, RK_RES_NONE, 0, true, true, false, 0});
  v.push_back({1, 7, 7, 512, 512, 3, 3, 1, 1, 1, RK_RES_NONE, 1, true, true, false, 0});   // 2 C-chunks/tap
  v.push_back({1, 7, 7, 1024, 96, 1, 1, 1, 0, 1, RK_RES_IDENTITY, 1, true, true, false, 0});  // 4 blocks
  v.push_back({1, 7, 7, 300, 70, 3, 3, 1, 1, 1, RK_RES_IDENTITY, 1, true, true, true, 0});  // odd chunks, in place
  v.push_back({1, 9, 7, 128, 128, 3, 3, 1, 1, 1, RK_RES_IDENTITY, 1, true, true, true, 0});  // Winograd, in place
  v.push_back({2, 5, 6, 200, 40, 3, 3, 1, 1, 1, RK_RES_NONE, 0, true, false, false, 0});   // Winograd, ragged K
  v.push_back({1, 9, 6, 70, 24, 3, 3, 1, 1, 1, RK_RES_IDENTITY, 1, true, true, false, 0}); // Winograd, C % 8 != 0
  v.push_back({2, 6, 5, 150, 40, 3, 3, 1, 1, 1, RK_RES_NONE, 1, true, true, false, 0});    // Winograd, C % 8 != 0
  v.push_back({1, 7, 7, 300, 12, 3, 3, 1, 1, 1, RK_RES_IDENTITY, 1, true, true, true, 0});  // 16-wide panels
  v.push_back({2, 6, 6, 200, 24, 3, 3, 2, 1, 1, RK_RES_NONE, 1, true, false, false, 0});    // 32-wide panels
  v.push_back({1, 5, 5, 13, 96, 3, 3, 1, 1, 1, RK_RES_NONE, 0, true, true, false, 0});      // padded, K tail
  v.push_back({1, 30, 30, 3, 64, 7, 7, 2, 3, 1, RK_RES_NONE, 1, true, true, false, 0});     // ImageNet stem
  v.push_back({2, 16, 16, 3, 16, 3, 3, 1, 1, 1, RK_RES_NONE, 1, true, true, false, 0});     // CIFAR stem
  // odd shapes
  v.push_back({1, 7, 5, 3, 10, 3, 3, 1, 1, 1, RK_RES_NONE, 0, false, false, false, 0});
  v.push_back({1, 7, 5, 3, 10, 3, 3, 2, 1, 1, RK_RES_IDENTITY, 1, true, false, false, 0});
  v.push_back({3, 9, 7, 17, 33, 3, 3, 2, 1, 1, RK_RES_NONE, 1, false, true, false, 0});
  v.push_back({2, 5, 7, 1, 1, 1, 1, 1, 0, 1, RK_RES_NONE, 0, true, true, false, 0});
  v.push_back({2, 11, 13, 19, 37, 5, 3, 1, 2, 1, RK_RES_NONE, 1, true, true, false, 0});
  v.push_back({1, 9, 9, 16, 31, 3, 3, 3, 0, 1, RK_RES_NONE, 1, true, true, false, 0});
  v.push_back({2, 6, 6, 40, 48, 1, 1, 1, 0, 1, RK_RES_NONE, 1, true, true, false, 0});
  v.push_back({1, 3, 3, 8, 8, 5, 5, 1, 2, 1, RK_RES_NONE, 0, true, true, false, 0});  // window > image
  // option-A residuals (CIFAR ResNet downsampling): K = 2*RC, and odd splits
  v.push_back({2, 8, 8, 16, 32, 3, 3, 2, 1, 1, RK_RES_OPTION_A, 1, true, true, false, 16});
  v.push_back({1, 7, 5, 3, 10, 3, 3, 2, 1, 1, RK_RES_OPTION_A, 1, true, true, false, 5});
  v.push_back({1, 9, 9, 20, 70, 3, 3, 2, 1, 1, RK_RES_OPTION_A, 0, false, false, false, 33});
  v.push_back({1, 8, 8, 32, 64, 1, 1, 1, 0, 1, RK_RES_OPTION_A, 1, true, true, false, 32});
  // groups
  v.push_back({1, 8, 8, 16, 32, 3, 3, 1, 1, 2, RK_RES_NONE, 1, true, true, false, 0});
  v.push_back({1, 8, 8, 128, 128, 3, 3, 2, 1, 32, RK_RES_NONE, 1, true, true, false, 0});  // ResNeXt 32x4d
  v.push_back({1, 7, 5, 12, 12, 3, 3, 1, 1, 12, RK_RES_IDENTITY, 1, true, true, true, 0});  // depthwise, in place
  v.push_back({1, 6, 6, 8, 16, 3, 3, 2, 1, 2, RK_RES_OPTION_A, 1, true, false, false, 6});
  // grouped, C/groups == K/groups (AVX-512 vector path when K % 16 == 0)
  v.push_back({2, 7, 5, 32, 32, 3, 3, 1, 1, 32, RK_RES_IDENTITY, 1, true, true, true, 0});   // depthwise
  v.push_back({1, 9, 9, 32, 32, 3, 3, 2, 1, 16, RK_RES_NONE, 1, true, false, false, 0});     // kg = 2
  v.push_back({1, 13, 11, 256, 256, 3, 3, 1, 1, 32, RK_RES_NONE, 1, false, true, false, 0}); // kg = 8
  v.push_back({1, 6, 7, 64, 64, 3, 3, 1, 1, 4, RK_RES_OPTION_A, 1, true, true, false, 32}); // kg = 16
  v.push_back({1, 5, 5, 64, 64, 3, 3, 2, 1, 2, RK_RES_OPTION_A, 0, true, true, false, 21}); // kg = 32
  v.push_back({2, 7, 7, 48, 48, 1, 1, 1, 0, 3, RK_RES_IDENTITY, 1, true, true, false, 0});   // kg = 16, 1x1
  // 256 < C <= 512 with >= 196 output pixels: F(2x2,3x3) (the pack's pixel hint); 195 pixels: direct
  v.push_back({1, 14, 14, 320, 48, 3, 3, 1, 1, 1, RK_RES_IDENTITY, 1, true, true, false, 0});
  v.push_back({1, 13, 15, 512, 24, 3, 3, 1, 1, 1, RK_RES_NONE, 1, true, true, false, 0});
  // AVX2 two-vector path: kg = 24 (one group, then two per pair), kg = 8 (two groups); 2 threads give 3 + 3 vectors
  v.push_back({1, 10, 10, 48, 48, 3, 3, 1, 1, 2, RK_RES_IDENTITY, 1, true, true, false, 0});  // kg = 24
  v.push_back({1, 10, 10, 48, 48, 3, 3, 1, 1, 6, RK_RES_OPTION_A, 1, true, false, false, 24}); // kg = 8
  return v;
}

static void test_conv(const char* isa) {
  if (rk_cpu_force_isa(isa)) {
    printf("conv [%s]: not supported on this CPU, skipped\n", isa);
    return;
  }
  double worst = 0;
  int i = 0;
  char worst_what[256] = "";
  for (const auto& t : conv_cases()) {
    // Winograd-eligible shapes run with the default tile choice and with each tile forced
    const long long pq = (long long)(t.H + 2 * t.pad - 2) * (t.W + 2 * t.pad - 2);  // 3x3 stride-1 output pixels
    const bool wino = t.R == 3 && t.S == 3 && t.stride == 1 && t.groups == 1 && t.C >= 64 &&
                      (t.C <= 256 || (t.C <= 512 && pq >= 196)) && t.K >= 16;
    for (const char* mode : {"1", "2", "4"}) {
      if (!wino && strcmp(mode, "1")) continue;
      rk_cpu_force_winograd(mode);
      for (int threads : {1, 2}) {
        const double e = run_conv_case(t, threads);
        char what[256];
        snprintf(what, sizeof what,
                 "conv[%s] #%d N%d %dx%d C%d K%d %dx%d/%d pad%d g%d res%d relu%d thr%d wino%s: rel err %.3g", isa, i,
                 t.N, t.H, t.W, t.C, t.K, t.R, t.S, t.stride, t.pad, t.groups, t.res_mode, t.relu, threads, mode, e);
        if (e > worst) {
          worst = e;
          memcpy(worst_what, what, sizeof what);
        }
        // F(4x4,3x3) sums products ~10x larger than the outputs they cancel to (its A^T has 8s): its fp32 error is
        // ~10x the direct kernel's (measured 5-9e-6 of max|y| at C = 128..200, 1-2e-6 relative L2)
        const bool f4 = wino && (!strcmp(mode, "4") || (!strcmp(mode, "1") && t.C <= 128));
        check(e < (f4 ? 2e-5 : 1e-5), what);
      }
    }
    i++;
  }
  rk_cpu_force_winograd(nullptr);
  printf("conv [%s] (kernel_isa=%s): %d cases x {1,2} threads, max relative error %.3g (%s)\n", isa,
         rk_cpu_kernel_isa(), i, worst, worst_what);
  // bf16: only on the AVX-512 kernels of a CPU with AVX512_BF16 (or their emulation); elsewhere packing must refuse
  if (!rk_cpu_bf16_supported()) {
    check(rk_cpu_conv_packed_size_prec(64, 64, 3, 3, 1, 1, 0, RK_CPU_PREC_BF16) == 0, "bf16 size 0 where unsupported");
    std::vector<float> w(64 * 9 * 64, 0.5f), pk(rk_cpu_conv_packed_size(64, 64, 3, 3, 1));
    check(rk_cpu_conv_pack_prec(w.data(), 64, 64, 3, 3, 1, 1, 0, RK_CPU_PREC_BF16, pk.data()) == RK_ERR_UNSUPPORTED,
          "bf16 pack refused where unsupported");
    printf("conv bf16 [%s]: not supported here (packing refuses it), skipped\n", isa);
    return;
  }
  double worst_b = 0, worst_u = 0;
  int nb = 0;
  for (const auto& t : conv_cases()) {
    for (int threads : {1, 2}) {
      double eu = 0;
      const double e = run_conv_case(t, threads, RK_CPU_PREC_BF16, &eu);
      char what[256];
      snprintf(what, sizeof what,
               "conv bf16[%s] N%d %dx%d C%d K%d %dx%d/%d pad%d g%d res%d thr%d: rel err %.3g vs rounded operands, "
               "%.3g vs fp32 operands", isa, t.N, t.H, t.W, t.C, t.K, t.R, t.S, t.stride, t.pad, t.groups,
               t.res_mode, threads, e, eu);
      worst_b = std::max(worst_b, e);
      worst_u = std::max(worst_u, eu);
      // the kernel's own error (fp32 sums of exact bf16 products) is the fp32 kernel's; bf16 rounding of x and w
      // (2^-9 relative each) bounds the rest
      check(e < 1e-5 && eu < 2e-2, what);
    }
    nb++;
  }
  printf("conv bf16 [%s]: %d cases x {1,2} threads, max relative error %.3g against bf16-rounded operands, %.3g "
         "against the fp32 operands\n", isa, nb, worst_b, worst_u);
}

// Determinism and concurrency: the reduction order of every output is independent of the task split, so results
// must be bitwise identical for 1 and 2 threads, and when several caller threads run convs at once (the pool
// serves one caller, the others run on their own thread).
static void test_threads() {
  const int N = 1, H = 14, W = 14, C = 256, K = 256, R = 3, P = 14, Q = 14;
  auto x = rand_vec((size_t)N * H * W * C), w = rand_vec((size_t)K * R * R * C, -0.1f, 0.1f);
  auto sc = rand_vec(K), sh = rand_vec(K), res = rand_vec((size_t)N * P * Q * K);
  std::vector<float> packed(rk_cpu_conv_packed_size(K, C, R, R, 1));
  rk_cpu_conv_pack(w.data(), K, C, R, R, 1, packed.data());
  auto run = [&](std::vector<float>& y) {
    return rk_cpu_conv2d(x.data(), N, H, W, C, packed.data(), K, R, R, 1, 1, 1, 1, sc.data(), sh.data(), res.data(),
                         RK_RES_IDENTITY, P, Q, K, 1, y.data(), P, Q);
  };
  std::vector<float> y1((size_t)N * P * Q * K), y2(y1.size());
  rk_cpu_set_threads(1);
  run(y1);
  rk_cpu_set_threads(2);
  run(y2);
  check(y1 == y2, "conv bitwise identical with 1 and 2 threads");
  bool ok = true;
  for (int rep = 0; rep < 3; rep++) {
    std::vector<std::vector<float>> ys(4, std::vector<float>(y1.size()));
    std::vector<std::thread> th;
    std::vector<int> rc(4);
    for (int i = 0; i < 4; i++) th.emplace_back([&, i] { for (int j = 0; j < 5; j++) rc[i] |= run(ys[i]); });
    for (auto& t : th) t.join();
    for (int i = 0; i < 4; i++) ok &= rc[i] == RK_OK && ys[i] == y1;
  }
  check(ok, "4 caller threads x 5 convs concurrently: bitwise identical results");
  rk_cpu_set_threads(1);
  std::vector<float> y3(y1.size());
  run(y3);
  rk_cpu_set_threads(2);
  check(y3 == y1 && rk_cpu_get_threads() == 2, "set_threads 2 -> 1 -> 2");
  // packed-weight header: a copy at another alignment still works; mismatched or unpacked weights are rejected
  {
    std::vector<float> shifted(packed.size() + 5);
    std::copy(packed.begin(), packed.end(), shifted.begin() + 3);
    std::vector<float> y4(y1.size());
    const int rc = rk_cpu_conv2d(x.data(), N, H, W, C, shifted.data() + 3, K, R, R, 1, 1, 1, 1, sc.data(), sh.data(),
                                 res.data(), RK_RES_IDENTITY, P, Q, K, 1, y4.data(), P, Q);
    check(rc == RK_OK && y4 == y1, "packed weights copied to another alignment: same result");
    check(rk_cpu_conv2d(x.data(), N, H, W, C, packed.data(), K - 16, R, R, 1, 1, 1, 1, nullptr, nullptr, nullptr,
                        RK_RES_NONE, 0, 0, 0, 0, y4.data(), P, Q) == RK_ERR_INVALID_ARG,
          "weights packed for another K rejected");
    check(rk_cpu_conv2d(x.data(), N, H, W, C, w.data(), K, R, R, 1, 1, 1, 1, nullptr, nullptr, nullptr, RK_RES_NONE,
                        0, 0, 0, 0, y4.data(), P, Q) == RK_ERR_INVALID_ARG && strlen(rk_cpu_last_error()) > 0,
          "unpacked weights rejected");
  }
  printf("threads: determinism and concurrent callers done\n");
}

// Scratch: the zero-padded input copy of a narrow conv comes from the caller's workspace (rk_cpu_conv2d_ws) or from
// one pool shared by all calling threads, never a buffer kept per thread (a service with hundreds of request threads
// would keep hundreds). Results are the same either way.
static void test_scratch() {
  const int N = 4, H = 32, W = 32, C = 16, K = 16, R = 3, P = 32, Q = 32;
  auto x = rand_vec((size_t)N * H * W * C), w = rand_vec((size_t)K * R * R * C, -0.2f, 0.2f);
  std::vector<float> packed(rk_cpu_conv_packed_size(K, C, R, R, 1));
  rk_cpu_conv_pack(w.data(), K, C, R, R, 1, packed.data());
  const size_t need = rk_cpu_conv2d_workspace_size(N, H, W, C, packed.data(), K, R, R, 1, 1, 1, 1, P, Q);
  check(need == (size_t)N * (H + 2) * (W + 2) * C * sizeof(float), "workspace size of a 16-channel 3x3 conv = its padded copy");
  {  // a 256-channel conv reads x in place: no workspace
    std::vector<float> pk(rk_cpu_conv_packed_size(64, 256, 1, 1, 1));
    auto w2 = rand_vec((size_t)64 * 256);
    rk_cpu_conv_pack(w2.data(), 64, 256, 1, 1, 1, pk.data());
    check(rk_cpu_conv2d_workspace_size(1, 14, 14, 256, pk.data(), 64, 1, 1, 1, 0, 0, 1, 14, 14) == 0,
          "workspace size of a 256-channel 1x1 conv = 0");
  }
  auto run = [&](std::vector<float>& y, void* ws, size_t bytes) {
    return rk_cpu_conv2d_ws(x.data(), N, H, W, C, packed.data(), K, R, R, 1, 1, 1, 1, nullptr, nullptr, nullptr,
                            RK_RES_NONE, 0, 0, 0, 1, y.data(), P, Q, ws, bytes);
  };
  rk_cpu_trim_scratch();
  std::vector<float> y0((size_t)N * P * Q * K), y1(y0.size());
  check(run(y0, nullptr, 0) == RK_OK && rk_cpu_scratch_bytes() == need, "pool: one call leaves one buffer of its size");
  std::vector<float> ws(need / sizeof(float) + 1, 12345.f);
  check(run(y1, ws.data(), need) == RK_OK && y1 == y0 && rk_cpu_scratch_bytes() == need,
        "workspace: same result, the pool untouched");
  check(run(y1, ws.data(), need - 4) == RK_ERR_INVALID_ARG && strstr(rk_cpu_last_error(), "workspace"),
        "a too small workspace is rejected, naming it");
  check(run(y1, (char*)ws.data() + 2, need) == RK_ERR_INVALID_ARG, "a misaligned workspace is rejected");
  {  // 16 threads that stay alive, each calling in turn: still one buffer
    std::vector<std::thread> th;
    std::vector<int> rc(16, -1);
    std::vector<std::vector<float>> ys(16, std::vector<float>(y0.size()));
    std::atomic<int> turn{0}, done{0};
    for (int i = 0; i < 16; i++)
      th.emplace_back([&, i] {
        while (turn.load() != i) std::this_thread::yield();
        rc[i] = run(ys[i], nullptr, 0);
        turn.store(i + 1);
        done++;
        while (done.load() < 16) std::this_thread::yield();  // alive until every thread has called
      });
    for (auto& t : th) t.join();
    bool ok = true;
    for (int i = 0; i < 16; i++) ok &= rc[i] == RK_OK && ys[i] == y0;
    check(ok && rk_cpu_scratch_bytes() == need, "16 live threads calling in turn: one pool buffer, same results");
  }
  {  // 4 threads at once: at most 4 buffers
    std::vector<std::thread> th;
    std::vector<int> rc(4, 0);
    std::vector<std::vector<float>> ys(4, std::vector<float>(y0.size()));
    for (int i = 0; i < 4; i++) th.emplace_back([&, i] { for (int j = 0; j < 5; j++) rc[i] |= run(ys[i], nullptr, 0); });
    for (auto& t : th) t.join();
    bool ok = true;
    for (int i = 0; i < 4; i++) ok &= rc[i] == RK_OK && ys[i] == y0;
    check(ok && rk_cpu_scratch_bytes() >= need && rk_cpu_scratch_bytes() <= 4 * need,
          "4 threads at once: at most 4 pool buffers, same results");
  }
  rk_cpu_trim_scratch();
  check(rk_cpu_scratch_bytes() == 0, "trim frees the idle buffers");
  printf("scratch: pool and workspace done (%zu bytes per call)\n", need);
}

// ---------------------------------------------------------------------------------------------------------------
// other ops
static void test_ops() {
  rk_cpu_set_threads(2);
  char what[256];
  {  // bn_relu
    const long long M = 1000;
    const int C = 67;
    auto x = rand_vec((size_t)M * C), sc = rand_vec(C), sh = rand_vec(C);
    std::vector<float> y(x.size());
    for (int relu : {0, 1}) {
      check(rk_cpu_bn_relu(x.data(), M, C, sc.data(), sh.data(), relu, y.data()) == RK_OK, "bn_relu status");
      double e = 0;
      for (long long i = 0; i < M; i++)
        for (int c = 0; c < C; c++) {
          double v = (double)sc[c] * x[i * C + c] + sh[c];
          if (relu && v < 0) v = 0;
          e = std::max(e, std::fabs(v - y[i * C + c]));
        }
      snprintf(what, sizeof what, "bn_relu relu=%d err %.3g", relu, e);
      check(e < 1e-6, what);
    }
    auto z = x;  // in place
    check(rk_cpu_bn_relu(z.data(), M, C, sc.data(), sh.data(), 1, z.data()) == RK_OK && z == y, "bn_relu in place");
  }
  {  // add_relu
    const long long n = 100003;
    auto a = rand_vec(n), b = rand_vec(n);
    std::vector<float> y(n);
    for (int relu : {0, 1}) {
      check(rk_cpu_add_relu(a.data(), b.data(), n, relu, y.data()) == RK_OK, "add_relu status");
      bool ok = true;
      for (long long i = 0; i < n; i++) {
        float v = a[i] + b[i];
        if (relu && v < 0.f) v = 0.f;
        ok &= v == y[i];
      }
      snprintf(what, sizeof what, "add_relu relu=%d exact", relu);
      check(ok, what);
    }
  }
  {  // maxpool: ResNet 3x3/2 pad 1, odd sizes, NaN propagation
    struct MP { int N, H, W, C, k, s, p; };
    // C = 40: one 32-channel vector block + 8 remainder channels (NaN in both); 9x9 window: the > 64-tap fallback
    for (MP m : {MP{1, 112, 112, 64, 3, 2, 1}, MP{2, 7, 5, 3, 3, 2, 1}, MP{1, 9, 9, 17, 2, 2, 0}, MP{1, 4, 4, 5, 3, 1, 1},
                 MP{1, 10, 11, 40, 3, 2, 1}, MP{1, 12, 12, 8, 9, 1, 4}}) {
      const int P = (m.H + 2 * m.p - m.k) / m.s + 1, Q = (m.W + 2 * m.p - m.k) / m.s + 1;
      auto x = rand_vec((size_t)m.N * m.H * m.W * m.C);
      x[5] = NAN;
      x[35] = NAN;
      x[x.size() / 2] = -INFINITY;
      std::vector<float> y((size_t)m.N * P * Q * m.C), r(y.size());
      check(rk_cpu_maxpool2d(x.data(), m.N, m.H, m.W, m.C, m.k, m.k, m.s, m.p, m.p, y.data(), P, Q) == RK_OK,
            "maxpool status");
      ref::maxpool2d(x.data(), m.N, m.H, m.W, m.C, m.k, m.k, m.s, m.p, m.p, r.data(), P, Q);
      bool ok = true;
      for (size_t i = 0; i < y.size(); i++) ok &= (std::isnan(y[i]) && std::isnan(r[i])) || y[i] == r[i];
      snprintf(what, sizeof what, "maxpool %dx%dx%d k%d s%d p%d exact (NaN propagates)", m.H, m.W, m.C, m.k, m.s, m.p);
      check(ok, what);
    }
  }
  {  // avgpool incl. ceil-mode shapes and count_include_pad
    struct AP { int N, H, W, C, k, s, p, P, Q; };
    for (AP m : {AP{1, 8, 8, 16, 2, 2, 0, 4, 4}, AP{2, 7, 5, 3, 3, 2, 1, 4, 3}, AP{1, 7, 7, 5, 2, 2, 0, 4, 4},
                 AP{1, 6, 6, 4, 3, 2, 1, 4, 4}, AP{1, 14, 14, 33, 3, 1, 1, 14, 14}}) {
      auto x = rand_vec((size_t)m.N * m.H * m.W * m.C);
      for (int cip : {0, 1}) {
        std::vector<float> y((size_t)m.N * m.P * m.Q * m.C);
        std::vector<double> r(y.size());
        check(rk_cpu_avgpool2d(x.data(), m.N, m.H, m.W, m.C, m.k, m.k, m.s, m.p, m.p, cip, y.data(), m.P, m.Q) ==
                  RK_OK,
              "avgpool status");
        ref::avgpool2d(x.data(), m.N, m.H, m.W, m.C, m.k, m.k, m.s, m.p, m.p, cip, r.data(), m.P, m.Q);
        double e = 0;
        for (size_t i = 0; i < y.size(); i++) e = std::max(e, std::fabs(y[i] - r[i]));
        snprintf(what, sizeof what, "avgpool %dx%d k%d s%d p%d -> %dx%d cip=%d err %.3g", m.H, m.W, m.k, m.s, m.p,
                 m.P, m.Q, cip, e);
        check(e < 1e-6, what);
      }
    }
  }
  {  // global avgpool
    const int N = 3, HW = 49, C = 2048 + 5;
    auto x = rand_vec((size_t)N * HW * C);
    std::vector<float> y((size_t)N * C);
    std::vector<double> r(y.size());
    check(rk_cpu_global_avgpool(x.data(), N, HW, C, y.data()) == RK_OK, "global_avgpool status");
    ref::global_avgpool(x.data(), N, HW, C, r.data());
    double e = 0;
    for (size_t i = 0; i < y.size(); i++) e = std::max(e, std::fabs(y[i] - r[i]));
    snprintf(what, sizeof what, "global_avgpool err %.3g", e);
    check(e < 1e-6, what);
  }
  {  // fc
    for (int N : {1, 3}) {
      const int C = 2048 + 3, K = 1000;
      auto x = rand_vec((size_t)N * C), w = rand_vec((size_t)K * C), b = rand_vec(K);
      for (bool bias : {true, false}) {
        std::vector<float> y((size_t)N * K);
        std::vector<double> r(y.size());
        check(rk_cpu_fc(x.data(), N, C, w.data(), bias ? b.data() : nullptr, K, y.data()) == RK_OK, "fc status");
        ref::fc(x.data(), N, C, w.data(), bias ? b.data() : nullptr, K, r.data());
        double e = 0, d = 0;
        for (size_t i = 0; i < y.size(); i++) e = std::max(e, std::fabs(y[i] - r[i])), d = std::max(d, std::fabs(r[i]));
        snprintf(what, sizeof what, "fc N=%d bias=%d rel err %.3g", N, bias, e / d);
        check(e / d < 1e-5, what);
      }
    }
  }
  {  // nchw_to_nhwc
    const int N = 2, C = 19, H = 33, W = 17;
    auto x = rand_vec((size_t)N * C * H * W);
    std::vector<float> y(x.size());
    check(rk_cpu_nchw_to_nhwc(x.data(), N, C, H, W, y.data()) == RK_OK, "nchw_to_nhwc status");
    bool ok = true;
    for (int n = 0; n < N; n++)
      for (int c = 0; c < C; c++)
        for (int h = 0; h < H; h++)
          for (int w = 0; w < W; w++)
            ok &= y[(((size_t)n * H + h) * W + w) * C + c] == x[(((size_t)n * C + c) * H + h) * W + w];
    check(ok, "nchw_to_nhwc exact");
  }
  {  // preprocess
    const int N = 2, H = 31, W = 29;
    std::vector<uint8_t> x((size_t)N * H * W * 3);
    for (size_t i = 0; i < x.size(); i++) x[i] = (uint8_t)(i * 37 + 11);
    const float mean[3] = {0.485f, 0.456f, 0.406f}, sd[3] = {0.229f, 0.224f, 0.225f};
    std::vector<float> y(x.size());
    check(rk_cpu_preprocess_u8(x.data(), N, H, W, mean, sd, y.data()) == RK_OK, "preprocess status");
    bool ok = true;
    for (size_t i = 0; i < x.size(); i++) ok &= y[i] == (x[i] / 255.f - mean[i % 3]) / sd[i % 3];
    check(ok, "preprocess exact");
  }
  {  // argument validation: error code + message, never a crash
    float a[16] = {0}, b[16] = {0};
    g_fail += 0;
    check(rk_cpu_conv2d(nullptr, 1, 1, 1, 1, a, 1, 1, 1, 1, 0, 0, 1, nullptr, nullptr, nullptr, 0, 0, 0, 0, 0, b, 1,
                        1) == RK_ERR_INVALID_ARG && strlen(rk_cpu_last_error()) > 0,
          "conv2d null x rejected");
    check(rk_cpu_conv2d(a, 1, 1, 1, 4, a, 4, 1, 1, 1, 0, 0, 3, nullptr, nullptr, nullptr, 0, 0, 0, 0, 0, b, 1, 1) ==
              RK_ERR_INVALID_ARG,
          "conv2d groups not dividing C rejected");
    check(rk_cpu_conv2d(a, 1, 1, 1, 1, a, 1, 1, 1, 1, 0, 0, 1, nullptr, nullptr, nullptr, 7, 0, 0, 0, 0, b, 1, 1) ==
              RK_ERR_INVALID_ARG,
          "conv2d bad res_mode rejected");
    check(rk_cpu_conv2d(a, 1, 1, 1, 1, a, 1, 1, 1, 1, 0, 0, 1, nullptr, nullptr, a, RK_RES_OPTION_A, 1, 1, 2, 0, b, 1,
                        1) == RK_ERR_INVALID_ARG,
          "conv2d option-A res_c > K rejected");
    check(rk_cpu_conv2d(a, 1, 1, 1, 1, a, 1, 1, 1, 1, 0, 0, 1, nullptr, nullptr, nullptr, 0, 0, 0, 0, 0, a, 1, 1) ==
              RK_ERR_INVALID_ARG,
          "conv2d y == x rejected");
    check(rk_cpu_conv2d(a, 1, 1, 1, 1, a, 1, 1, 1, 1, -1, 0, 1, nullptr, nullptr, nullptr, 0, 0, 0, 0, 0, b, 1, 1) ==
              RK_ERR_INVALID_ARG,
          "conv2d negative pad rejected");
    check(rk_cpu_conv_packed_size(4, 6, 3, 3, 4) == 0, "packed_size groups not dividing C -> 0");
    check(rk_cpu_conv_pack(a, 0, 1, 1, 1, 1, b) == RK_ERR_INVALID_ARG, "conv_pack K=0 rejected");
    check(rk_cpu_bn_relu(a, -1, 4, a, a, 0, b) == RK_ERR_INVALID_ARG, "bn_relu M<0 rejected");
    check(rk_cpu_add_relu(a, nullptr, 4, 0, b) == RK_ERR_INVALID_ARG, "add_relu null rejected");
    check(rk_cpu_maxpool2d(a, 1, 2, 2, 1, 0, 2, 1, 0, 0, b, 1, 1) == RK_ERR_INVALID_ARG, "maxpool kh=0 rejected");
    check(rk_cpu_avgpool2d(a, 1, 2, 2, 1, 2, 2, 0, 0, 0, 0, b, 1, 1) == RK_ERR_INVALID_ARG, "avgpool stride=0 rejected");
    check(rk_cpu_global_avgpool(a, 1, 0, 1, b) == RK_ERR_INVALID_ARG, "global_avgpool HW=0 rejected");
    check(rk_cpu_fc(a, 1, 1, nullptr, nullptr, 1, b) == RK_ERR_INVALID_ARG, "fc null w rejected");
    check(rk_cpu_nchw_to_nhwc(a, 1, 1, 1, 1, a) == RK_ERR_INVALID_ARG, "nchw_to_nhwc in place rejected");
    check(rk_cpu_preprocess_u8(nullptr, 1, 1, 1, a, a, b) == RK_ERR_INVALID_ARG, "preprocess null rejected");
  }
  printf("ops: bn_relu, add_relu, maxpool, avgpool, global_avgpool, fc, nchw_to_nhwc, preprocess, validation done\n");
}

// ---------------------------------------------------------------------------------------------------------------
// timing
struct Layer { const char* name; int H, W, C, K, R, stride, pad, count; };

// ResNet-50 v1.5 (stride on the 3x3), batch 1, 224x224. count = occurrences in the network.
static const Layer kResNet50[] = {
    {"stem 7x7/2 3->64", 224, 224, 3, 64, 7, 2, 3, 1},
    {"s1 1x1 64->64", 56, 56, 64, 64, 1, 1, 0, 1},
    {"s1 1x1 256->64", 56, 56, 256, 64, 1, 1, 0, 2},
    {"s1 3x3 64->64", 56, 56, 64, 64, 3, 1, 1, 3},
    {"s1 1x1 64->256", 56, 56, 64, 256, 1, 1, 0, 4},  // 3 expands + projection
    {"s2 1x1 256->128 @56", 56, 56, 256, 128, 1, 1, 0, 1},
    {"s2 3x3/2 128->128", 56, 56, 128, 128, 3, 2, 1, 1},
    {"s2 1x1/2 256->512 proj", 56, 56, 256, 512, 1, 2, 0, 1},
    {"s2 1x1 512->128", 28, 28, 512, 128, 1, 1, 0, 3},
    {"s2 3x3 128->128", 28, 28, 128, 128, 3, 1, 1, 3},
    {"s2 1x1 128->512", 28, 28, 128, 512, 1, 1, 0, 4},
    {"s3 1x1 512->256 @28", 28, 28, 512, 256, 1, 1, 0, 1},
    {"s3 3x3/2 256->256", 28, 28, 256, 256, 3, 2, 1, 1},
    {"s3 1x1/2 512->1024 proj", 28, 28, 512, 1024, 1, 2, 0, 1},
    {"s3 1x1 1024->256", 14, 14, 1024, 256, 1, 1, 0, 5},
    {"s3 3x3 256->256", 14, 14, 256, 256, 3, 1, 1, 5},
    {"s3 1x1 256->1024", 14, 14, 256, 1024, 1, 1, 0, 6},
    {"s4 1x1 1024->512 @14", 14, 14, 1024, 512, 1, 1, 0, 1},
    {"s4 3x3/2 512->512", 14, 14, 512, 512, 3, 2, 1, 1},
    {"s4 1x1/2 1024->2048 proj", 14, 14, 1024, 2048, 1, 2, 0, 1},
    {"s4 1x1 2048->512", 7, 7, 2048, 512, 1, 1, 0, 2},
    {"s4 3x3 512->512", 7, 7, 512, 512, 3, 1, 1, 2},
    {"s4 1x1 512->2048", 7, 7, 512, 2048, 1, 1, 0, 3},
};

struct Timing { double med, best; };
template <class F>
static Timing time_it(F&& f, int reps) {
  f();  // warm up (page faults, caches)
  f();
  std::vector<double> t;
  for (int i = 0; i < reps; i++) {
    const double t0 = now_s();
    f();
    t.push_back(now_s() - t0);
  }
  std::sort(t.begin(), t.end());
  return {t[t.size() / 2], t[0]};
}

// Rough peak: NACC independent FMA chains per thread in registers (no memory traffic), all threads at once.
// Written with explicit registers (an array + loops lets gcc interchange the loops and spill to memory).
#define RK_FMA8(T, F)                                                                              \
  a0 = F(a0, b, c); a1 = F(a1, b, c); a2 = F(a2, b, c); a3 = F(a3, b, c); a4 = F(a4, b, c);         \
  a5 = F(a5, b, c); a6 = F(a6, b, c); a7 = F(a7, b, c); a8 = F(a8, b, c); a9 = F(a9, b, c);         \
  a10 = F(a10, b, c); a11 = F(a11, b, c);
__attribute__((target("avx512f,fma"), noinline)) static double fma_loop_avx512(long iters) {
  __m512 a0 = _mm512_set1_ps(1.f), a1 = _mm512_set1_ps(1.1f), a2 = _mm512_set1_ps(1.2f), a3 = _mm512_set1_ps(1.3f),
         a4 = _mm512_set1_ps(1.4f), a5 = _mm512_set1_ps(1.5f), a6 = _mm512_set1_ps(1.6f), a7 = _mm512_set1_ps(1.7f),
         a8 = _mm512_set1_ps(1.8f), a9 = _mm512_set1_ps(1.9f), a10 = _mm512_set1_ps(2.f), a11 = _mm512_set1_ps(2.1f);
  const __m512 b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < iters; it++) {
    RK_FMA8(__m512, _mm512_fmadd_ps)
    RK_FMA8(__m512, _mm512_fmadd_ps)
    __asm__ volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5));
    __asm__ volatile("" : "+v"(a6), "+v"(a7), "+v"(a8), "+v"(a9), "+v"(a10), "+v"(a11));
  }
  __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                           _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
  s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
  float buf[16];
  _mm512_storeu_ps(buf, s);
  return buf[0];
}
__attribute__((target("avx2,fma"), noinline)) static double fma_loop_avx2(long iters) {
  __m256 a0 = _mm256_set1_ps(1.f), a1 = _mm256_set1_ps(1.1f), a2 = _mm256_set1_ps(1.2f), a3 = _mm256_set1_ps(1.3f),
         a4 = _mm256_set1_ps(1.4f), a5 = _mm256_set1_ps(1.5f), a6 = _mm256_set1_ps(1.6f), a7 = _mm256_set1_ps(1.7f),
         a8 = _mm256_set1_ps(1.8f), a9 = _mm256_set1_ps(1.9f), a10 = _mm256_set1_ps(2.f), a11 = _mm256_set1_ps(2.1f);
  const __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < iters; it++) {
    RK_FMA8(__m256, _mm256_fmadd_ps)
    RK_FMA8(__m256, _mm256_fmadd_ps)
    __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5));
    __asm__ volatile("" : "+x"(a6), "+x"(a7), "+x"(a8), "+x"(a9), "+x"(a10), "+x"(a11));
  }
  __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                           _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
  s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
  float buf[8];
  _mm256_storeu_ps(buf, s);
  return buf[0];
}
static double peak_gflops(int threads, bool avx512) {
  const long iters = 4000000;
  const double flops_per_iter = avx512 ? 24.0 * 32 : 24.0 * 16;  // 24 FMAs of 16 / 8 lanes
  std::vector<double> best(threads, 0);
  double sink = 0;
  std::vector<double> runs;
  for (int rep = 0; rep < 5; rep++) {
    const double t0 = now_s();
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    sink += avx512 ? fma_loop_avx512(iters) : fma_loop_avx2(iters);
    runs.push_back(flops_per_iter * iters * threads / (now_s() - t0) * 1e-9);
  }
  std::sort(runs.begin(), runs.end());
  if (sink == 12345.0) printf(" ");
  return runs.back();  // best of 5: the machine is shared
}

static void bench(int threads, int reps, const char* filter) {
  rk_cpu_set_threads(threads);
  const bool avx512 = (rk_cpu_features() & 3) == 3 && !strcmp(rk_cpu_kernel_isa(), "avx512");
  const bool avx2 = (rk_cpu_features() & 1) != 0;
  const double peak = avx512 || avx2 ? peak_gflops(threads, avx512) : 0;
  printf("\n== ResNet-50 batch-1 224x224 conv layers, %d thread(s), kernel %s ==\n", threads, rk_cpu_kernel_isa());
  printf("measured peak FMA throughput (%s, %d thr): %.1f GFLOP/s\n", avx512 ? "zmm" : "ymm", threads, peak);
  printf("(median and best of %d runs; the machine is shared, so the best run is the less disturbed one)\n", reps);
  printf("%-26s %5s %5s %5s %4s %3s %8s %8s %6s %8s %6s %4s\n", "layer", "PxQ", "C", "K", "RxS", "st", "med ms",
         "GFLOP/s", "%peak", "best GF", "%peak", "cnt");
  double med_ms = 0, best_ms = 0, total_gflop = 0, bf16_med_ms = 0, bf16_best_ms = 0;
  for (const Layer& L : kResNet50) {
    if (filter && !strstr(L.name, filter)) continue;
    const int P = (L.H + 2 * L.pad - L.R) / L.stride + 1, Q = (L.W + 2 * L.pad - L.R) / L.stride + 1;
    auto x = arand((size_t)L.H * L.W * L.C);
    auto w = rand_vec((size_t)L.K * L.R * L.R * L.C, -0.1f, 0.1f);
    auto sc = rand_vec(L.K, 0.5f, 1.5f), sh = rand_vec(L.K);
    std::vector<float> packed(rk_cpu_conv_packed_size(L.K, L.C, L.R, L.R, 1));
    rk_cpu_conv_pack(w.data(), L.K, L.C, L.R, L.R, 1, packed.data());
    AVec y((size_t)P * Q * L.K), res(y.size(), 0.5f);
    const bool with_res = L.R == 1 && L.stride == 1 && L.K >= 4 * L.C;  // expand convs carry the residual add
    const Timing t = time_it(
        [&] {
          rk_cpu_conv2d(x.data(), 1, L.H, L.W, L.C, packed.data(), L.K, L.R, L.R, L.stride, L.pad, L.pad, 1,
                        sc.data(), sh.data(), with_res ? res.data() : nullptr,
                        with_res ? RK_RES_IDENTITY : RK_RES_NONE, P, Q, L.K, 1, y.data(), P, Q);
        },
        reps);
    const double gflop = 2.0 * P * Q * L.K * L.C * L.R * L.R * 1e-9;
    const double g_med = gflop / t.med, g_best = gflop / t.best;
    printf("%-26s %2dx%-2d %5d %5d %dx%d %3d %8.3f %8.1f %5.1f%% %8.1f %5.1f%% %4d\n", L.name, P, Q, L.C, L.K, L.R,
           L.R, L.stride, t.med * 1e3, g_med, peak > 0 ? 100 * g_med / peak : 0, g_best,
           peak > 0 ? 100 * g_best / peak : 0, L.count);
    med_ms += t.med * 1e3 * L.count;
    best_ms += t.best * 1e3 * L.count;
    total_gflop += gflop * L.count;
    if (rk_cpu_bf16_supported()) {  // the same layer on the bf16 kernel (x converted to pairs inside the call)
      std::vector<float> wb(rk_cpu_conv_packed_size_prec(L.K, L.C, L.R, L.R, 1, L.stride, 0, RK_CPU_PREC_BF16));
      rk_cpu_conv_pack_prec(w.data(), L.K, L.C, L.R, L.R, 1, L.stride, 0, RK_CPU_PREC_BF16, wb.data());
      const Timing tb = time_it(
          [&] {
            rk_cpu_conv2d(x.data(), 1, L.H, L.W, L.C, wb.data(), L.K, L.R, L.R, L.stride, L.pad, L.pad, 1,
                          sc.data(), sh.data(), with_res ? res.data() : nullptr,
                          with_res ? RK_RES_IDENTITY : RK_RES_NONE, P, Q, L.K, 1, y.data(), P, Q);
          },
          reps);
      bf16_med_ms += tb.med * 1e3 * L.count;
      bf16_best_ms += tb.best * 1e3 * L.count;
      printf("  %-24s bf16: med %.3f ms (%.2fx the fp32 direct kernel), best %.3f ms, %.1f GFLOP/s (%.1f%% of 2x the "
             "fp32 peak)\n", "", tb.med * 1e3, t.med / tb.med, tb.best * 1e3, gflop / tb.best,
             peak > 0 ? 100 * gflop / tb.best / (2 * peak) : 0);
    }
    // 3x3 stride 1: the same layer on the Winograd kernel (packed with its stride, i.e. the layout the
    // backend uses; main() turns Winograd on for AVX-512 too), so a run on a new CPU says whether it pays there
    // (the library uses it for 64..256 channels and, on AVX-512, only with RESKERN_CPU_WINOGRAD=1)
    if (L.R == 3 && L.stride == 1) {
      std::vector<float> wp(rk_cpu_conv_packed_size_ex(L.K, L.C, 3, 3, 1, 1));
      rk_cpu_conv_pack_ex(w.data(), L.K, L.C, 3, 3, 1, 1, wp.data());
      if (wp.size() != packed.size()) {
        const Timing tw = time_it(
            [&] {
              rk_cpu_conv2d(x.data(), 1, L.H, L.W, L.C, wp.data(), L.K, 3, 3, 1, L.pad, L.pad, 1, sc.data(), sh.data(),
                            nullptr, RK_RES_NONE, P, Q, L.K, 1, y.data(), P, Q);
            },
            reps);
        // transformed taps per panel: 16 = F(2x2,3x3), 36 = F(4x4,3x3) (the direct layout has 9; same panels)
        const int m = (wp.size() - 32) * 9 > (packed.size() - 32) * 20 ? 4 : 2;
        printf("  %-24s Winograd F(%dx%d,3x3): med %.3f ms (%.2fx the direct kernel), best %.3f ms, %.1f GFLOP/s "
               "direct-equivalent\n", "", m, m, tw.med * 1e3, t.med / tw.med, tw.best * 1e3, gflop / tw.best);
      } else {
        printf("  %-24s (direct layout: outside the Winograd channel range)\n", "");
      }
    }
  }
  // grouped 3x3 convs of ResNeXt-50 32x4d (not part of the ResNet-50 total)
  if (!filter) {
    struct GL { int H, C, stride, count; };
    printf("ResNeXt-50 32x4d grouped 3x3 (groups 32, not in the total above):\n");
    for (GL g : {GL{56, 128, 1, 3}, GL{28, 256, 1, 4}, GL{14, 512, 1, 6}, GL{7, 1024, 1, 3}}) {
      const int G = 32, cg = g.C / G, P = g.H, Q = g.H;
      auto x = arand((size_t)g.H * g.H * g.C);
      auto w = rand_vec((size_t)g.C * 9 * cg, -0.1f, 0.1f);
      std::vector<float> packed(rk_cpu_conv_packed_size(g.C, g.C, 3, 3, G));
      AVec y((size_t)P * Q * g.C);
      rk_cpu_conv_pack(w.data(), g.C, g.C, 3, 3, G, packed.data());
      const Timing t = time_it([&] {
        rk_cpu_conv2d(x.data(), 1, g.H, g.H, g.C, packed.data(), g.C, 3, 3, 1, 1, 1, G, nullptr, nullptr, nullptr,
                      RK_RES_NONE, 0, 0, 0, 1, y.data(), P, Q);
      }, reps);
      const double gflop = 2.0 * P * Q * g.C * cg * 9 * 1e-9;
      printf("  %3dx%-3d C=K=%4d cg=%2d: median %.3f ms (%.1f GFLOP/s), best %.1f GFLOP/s, x%d in the network\n", P, Q,
             g.C, cg, t.med * 1e3, gflop / t.med, gflop / t.best, g.count);
    }
  }
  // the non-conv ops of the network
  double other_med = 0, other_best = 0;
  {
    auto x = arand((size_t)112 * 112 * 64);
    AVec y((size_t)56 * 56 * 64);
    auto g = arand((size_t)49 * 2048);
    AVec gy(2048), fy(1000);
    auto fw = rand_vec((size_t)1000 * 2048), fb = rand_vec(1000);
    const Timing t1 = time_it([&] { rk_cpu_maxpool2d(x.data(), 1, 112, 112, 64, 3, 3, 2, 1, 1, y.data(), 56, 56); }, reps);
    const Timing t2 = time_it([&] { rk_cpu_global_avgpool(g.data(), 1, 49, 2048, gy.data()); }, reps);
    const Timing t3 = time_it([&] { rk_cpu_fc(gy.data(), 1, 2048, fw.data(), fb.data(), 1000, fy.data()); }, reps);
    other_med = 1e3 * (t1.med + t2.med + t3.med);
    other_best = 1e3 * (t1.best + t2.best + t3.best);
  }
  printf("conv total %.3f GFLOP: median %.2f ms = %.1f GFLOP/s (%.1f%% of peak); best %.2f ms = %.1f GFLOP/s (%.1f%%)\n",
         total_gflop, med_ms, total_gflop / med_ms * 1e3, peak > 0 ? 100 * total_gflop / med_ms * 1e3 / peak : 0,
         best_ms, total_gflop / best_ms * 1e3, peak > 0 ? 100 * total_gflop / best_ms * 1e3 / peak : 0);
  if (bf16_med_ms > 0)
    printf("conv total on the bf16 kernel: median %.2f ms = %.1f GFLOP/s, best %.2f ms = %.1f GFLOP/s (%.2fx fp32 direct "
           "by median)\n", bf16_med_ms, total_gflop / bf16_med_ms * 1e3, bf16_best_ms, total_gflop / bf16_best_ms * 1e3,
           med_ms / bf16_med_ms);
  printf("maxpool + global avgpool + fc: median %.2f ms, best %.2f ms\n", other_med, other_best);
  printf("ResNet-50 batch-1 estimate (%d thread(s), conv + pool + fc): median %.2f ms, best %.2f ms\n", threads,
         med_ms + other_med, best_ms + other_best);
}

// Whole ResNet-50 conv chain as in an inference: every conv instance (53) has its own packed weights (~100 MB
// in all, more than the L3), run back to back with the network's maxpool / global pool / fc. This includes the
// cost of streaming the weights from DRAM, which the per-layer table (hot weights) does not.
// prec = RK_CPU_PREC_BF16: the weights packed for bf16 as `--precision bf16` packs them (half the bytes to stream)
static void bench_chain(int threads, int reps, bool verbose, int prec = RK_CPU_PREC_FP32) {
  rk_cpu_set_threads(threads);
  std::vector<std::vector<double>> per_layer(sizeof(kResNet50) / sizeof(kResNet50[0]));
  struct Inst { const Layer* L; int P, Q; std::vector<float> w, sc, sh; bool res; };
  std::vector<Inst> net;
  size_t max_x = 0, max_y = 0, wbytes = 0;
  for (const Layer& L : kResNet50)
    for (int i = 0; i < L.count; i++) {
      Inst in;
      in.L = &L;
      in.P = (L.H + 2 * L.pad - L.R) / L.stride + 1;
      in.Q = (L.W + 2 * L.pad - L.R) / L.stride + 1;
      auto w = rand_vec((size_t)L.K * L.R * L.R * L.C, -0.1f, 0.1f);
      // packed for its stride and output size, as the CPU backend does (3x3 stride 1 -> Winograd;
      // RESKERN_CPU_WINOGRAD=0: direct)
      const long long px = (long long)in.P * in.Q;
      in.w.resize(rk_cpu_conv_packed_size_prec(L.K, L.C, L.R, L.R, 1, L.stride, px, prec));
      rk_cpu_conv_pack_prec(w.data(), L.K, L.C, L.R, L.R, 1, L.stride, px, prec, in.w.data());
      in.sc = rand_vec(L.K, 0.5f, 1.5f);
      in.sh = rand_vec(L.K);
      in.res = L.R == 1 && L.stride == 1 && L.K >= 4 * L.C;
      max_x = std::max(max_x, (size_t)L.H * L.W * L.C);
      max_y = std::max(max_y, (size_t)in.P * in.Q * L.K);
      wbytes += in.w.size() * sizeof(float);
      net.push_back(std::move(in));
    }
  auto x = arand(std::max(max_x, max_y)), y = arand(std::max(max_x, max_y)), r = arand(max_y);
  AVec pool((size_t)56 * 56 * 64), gy(2048), fy(1000);
  auto fw = rand_vec((size_t)1000 * 2048), fb = rand_vec(1000);
  const Timing t = time_it(
      [&] {
        for (size_t i = 0; i < net.size(); i++) {
          const Inst& in = net[i];
          const Layer& L = *in.L;
          const double t0 = now_s();
          rk_cpu_conv2d(x.data(), 1, L.H, L.W, L.C, in.w.data(), L.K, L.R, L.R, L.stride, L.pad, L.pad, 1,
                        in.sc.data(), in.sh.data(), in.res ? r.data() : nullptr,
                        in.res ? RK_RES_IDENTITY : RK_RES_NONE, in.P, in.Q, L.K, 1, y.data(), in.P, in.Q);
          per_layer[in.L - kResNet50].push_back(now_s() - t0);
          if (i == 0) rk_cpu_maxpool2d(y.data(), 1, 112, 112, 64, 3, 3, 2, 1, 1, pool.data(), 56, 56);
        }
        rk_cpu_global_avgpool(y.data(), 1, 49, 2048, gy.data());
        rk_cpu_fc(gy.data(), 1, 2048, fw.data(), fb.data(), 1000, fy.data());
      },
      reps);
  if (verbose) {  // per layer type: median over all its instances and runs x count
    printf("chain, per layer (median of its instances x count):\n");
    for (size_t l = 0; l < per_layer.size(); l++) {
      auto v = per_layer[l];
      std::sort(v.begin(), v.end());
      const Layer& L = kResNet50[l];
      const int P = (L.H + 2 * L.pad - L.R) / L.stride + 1, Q = (L.W + 2 * L.pad - L.R) / L.stride + 1;
      const double gflop = 2.0 * P * Q * L.K * L.C * L.R * L.R * 1e-9;
      printf("  %-26s %7.3f ms x%d  (%.1f GFLOP/s)\n", L.name, v[v.size() / 2] * 1e3, L.count, gflop / v[v.size() / 2]);
    }
  }
  printf("ResNet-50 chain%s (%zu convs, %.0f MB packed weights, cold-ish weights), %d thread(s): median %.2f ms, "
         "best %.2f ms\n", prec == RK_CPU_PREC_BF16 ? ", bf16" : "",
         net.size(), wbytes / 1e6, threads, t.med * 1e3, t.best * 1e3);
}

// Winograd A/B: every 3x3 stride-1 ResNet layer shape (C = K = 64@56, 128@28, 256@14, 512@14, 512@7, 64@8, pad 1, BN + ReLU) at
// each batch, on the direct kernel and on F(2x2,3x3) and F(4x4,3x3) (weights packed for each with the
// rk_cpu_force_winograd hook), timed round-robin (one run of each variant per round), so that a neighbour on a shared
// machine slows all variants alike; prints median and best per variant and the best-time ratios to the direct kernel.
static void bench_wino(int threads, int reps, const std::vector<int>& batches) {
  rk_cpu_set_threads(threads);
  printf("\n== Winograd A/B, 3x3 stride-1 ResNet layers, %d thread(s), kernel %s, %d rounds ==\n", threads,
         rk_cpu_kernel_isa(), reps);
  struct V { const char* name; const char* mode; };
  const V vars[] = {{"direct", "0"}, {"F2x2", "2"}, {"F4x4", "4"}};
  const int nv = sizeof vars / sizeof vars[0];
  printf("%-5s %-14s", "N", "layer");
  for (const V& v : vars) printf(" %9s med/best ms", v.name);
  printf("\n");
  // 512@14: wide ResNets' stage 3; 64@8: CIFAR ResNets' stage 3 (the only CIFAR layer with >= 64 channels)
  const int shapes[6][2] = {{64, 56}, {128, 28}, {256, 14}, {512, 14}, {512, 7}, {64, 8}};
  for (int N : batches)
    for (const auto& sh : shapes) {
      const int C = sh[0], H = sh[1];
      auto x = arand((size_t)N * H * H * C);
      auto w = rand_vec((size_t)C * 9 * C, -0.1f, 0.1f);
      auto sc = rand_vec(C, 0.5f, 1.5f), shf = rand_vec(C);
      AVec y((size_t)N * H * H * C);
      std::vector<std::vector<float>> packed(nv);
      for (int i = 0; i < nv; i++) {  // with the output-size hint, as the backend packs (C = 512: Winograd at 14x14 only)
        rk_cpu_force_winograd(vars[i].mode);
        packed[i].resize(rk_cpu_conv_packed_size_hint(C, C, 3, 3, 1, 1, (long long)H * H));
        rk_cpu_conv_pack_hint(w.data(), C, C, 3, 3, 1, 1, (long long)H * H, packed[i].data());
      }
      rk_cpu_force_winograd(nullptr);
      std::vector<std::vector<double>> t(nv);
      for (int r = -2; r < reps; r++)
        for (int i = 0; i < nv; i++) {
          const double t0 = now_s();
          rk_cpu_conv2d(x.data(), N, H, H, C, packed[i].data(), C, 3, 3, 1, 1, 1, 1, sc.data(), shf.data(), nullptr,
                        RK_RES_NONE, 0, 0, 0, 1, y.data(), H, H);
          if (r >= 0) t[i].push_back(now_s() - t0);
        }
      char lname[32];
      snprintf(lname, sizeof lname, "%dx%d C=K=%d", H, H, C);
      printf("%-5d %-14s", N, lname);
      double best0 = 0;
      for (int i = 0; i < nv; i++) {
        std::sort(t[i].begin(), t[i].end());
        if (i == 0) best0 = t[i][0];
        printf("  %7.3f/%7.3f %4.2fx", t[i][t[i].size() / 2] * 1e3, t[i][0] * 1e3, best0 / t[i][0]);
      }
      printf("\n");
    }
}

int main(int argc, char** argv) {
  // The lab checks and times the Winograd kernel on every ISA (the library's default; an explicit
  // RESKERN_CPU_WINOGRAD=0 still turns it off).
  setenv("RESKERN_CPU_WINOGRAD", "1", 0);
  bool do_test = false, do_bench = false, do_chain = false, do_wino = false;
  std::vector<int> batches = {1, 8};
  int threads = 2, reps = 15;
  const char* isa = nullptr;
  const char* filter = nullptr;  // bench only layers whose name contains this
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "test")) do_test = true;
    else if (!strcmp(argv[i], "bench")) do_bench = true;
    else if (!strcmp(argv[i], "chain")) do_chain = true;
    else if (!strcmp(argv[i], "wino")) do_wino = true;
    else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
      batches.clear();
      for (char* tok = strtok(argv[++i], ","); tok; tok = strtok(nullptr, ",")) batches.push_back(atoi(tok));
    }
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--isa") && i + 1 < argc) isa = argv[++i];
    else if (!strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
    else {
      fprintf(stderr, "usage: %s [test] [bench] [chain] [wino] [--threads N] [--reps N] [--isa avx512|avx2|scalar] [--filter NAME] [--batch 1,8]\n", argv[0]);
      return 2;
    }
  }
  if (!do_test && !do_bench && !do_chain && !do_wino) do_test = do_bench = true;
  printf("reskern %s, features=%d, default kernel=%s, threads=%d\n", rk_cpu_version(), rk_cpu_features(),
         rk_cpu_kernel_isa(), rk_cpu_get_threads());
  if (do_test) {
    for (const char* i : {"avx512", "avx2", "scalar"}) test_conv(i);
    rk_cpu_force_isa(nullptr);
    test_threads();
    test_scratch();
    test_ops();
    printf("%d passed, %d failed\n", g_pass, g_fail);
  }
  if (do_wino) {  // before bench: short, and the answer to "which Winograd tile on this CPU" (GPU bundle: capped run)
    if (isa && rk_cpu_force_isa(isa)) {
      fprintf(stderr, "isa %s not supported\n", isa);
      return 2;
    }
    if (!isa) rk_cpu_force_isa(nullptr);
    bench_wino(threads, reps, batches);
  }
  if (do_bench) {
    if (isa && rk_cpu_force_isa(isa)) {
      fprintf(stderr, "isa %s not supported\n", isa);
      return 2;
    }
    if (!isa) rk_cpu_force_isa(nullptr);
    bench(threads, reps, filter);
    if (!filter) bench_chain(threads, reps < 10 ? reps : 10, false);
    if (!filter && rk_cpu_bf16_supported()) bench_chain(threads, reps < 10 ? reps : 10, false, RK_CPU_PREC_BF16);
  } else if (do_chain) {
    if (isa && rk_cpu_force_isa(isa)) {
      fprintf(stderr, "isa %s not supported\n", isa);
      return 2;
    }
    bench_chain(threads, reps, true);
    if (rk_cpu_bf16_supported()) bench_chain(threads, reps, true, RK_CPU_PREC_BF16);
  }
  return g_fail ? 1 : 0;
}
