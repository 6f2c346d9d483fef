// conv_lab: validates every rk_cuda_conv2d algo x dtype against the CPU reference (libreskern_cpu), then times the
// ResNet-50 layer shapes at batch 1, 32, 256 (224x224 input) and prints GFLOP/s and % of peak.
//
// Build (any machine with nvcc):   bash native/build.sh /tmp/cb /tmp/ci ON     -> /tmp/ci/bin/lab_conv_lab
// Run on the GPU host:
//   lab_conv_lab                 full: correctness sweep (synthetic edge cases + ResNet-50 layers at N=1) + timing
//   lab_conv_lab --quick         tiny correctness sweep only (seconds; use under compute-sanitizer):
//       compute-sanitizer --tool memcheck  lab_conv_lab --quick
//       compute-sanitizer --tool racecheck lab_conv_lab --quick
//   lab_conv_lab --check         correctness only          lab_conv_lab --bench   timing only (with spot checks)
//   --batches 1,32,256  --reps 20  --all-algos (time every implementable tensor-core tile for f16, too)
//   --csv FILE (all timings as CSV)   --verbose (one line per correctness run)
//   --picks   print the heuristic's algo per ResNet-50 layer x batch x dtype and exit (runs no kernel)
// Exit status: 0 all checks passed; 1 a check failed; 2 no GPU or a setup error (message on stderr).
//
// Method: inputs are random (never zeros); outputs are poisoned with NaN (0xFF bytes) before every run; the error
// is ||out - ref|| / ||ref|| in double, NaN never passes. Tolerances: fp32 1e-5, tf32 2e-3, f16/bf16 1e-2.
// fp32/tf32 runs use full-precision random inputs; f16/bf16 runs use j/64 values (exact in every dtype), so one
// fp32 CPU reference serves both. Timing: CUDA events around each call, a 256 MB memset before each repetition
// flushes L2, median of --reps after 3 warm-ups. Timed runs are spot-checked (256 sampled outputs vs a double
// reference on the host), so large-batch indexing is verified too.
// FLOPs of a conv = 2 * N*P*Q * K * R*S*C/groups.
#include "lab_common.h"
#include <map>

using namespace lab;

static int g_failures = 0;
static bool g_verbose = false;

struct Case {
  std::string name;
  int N, H, W, C, K, R, S, stride, pad_h, pad_w, groups, P, Q;
  int pre_avgpool = 0, has_scale = 1, has_shift = 1, res_mode = RK_RES_NONE, relu = 1, dual = 0;
  int res_h = 0, res_w = 0, res_c = 0;
  double flops() const { return 2.0 * N * P * Q * K * (double)R * S * (C / groups); }
};
static Case mk(const std::string& name, int N, int H, int W, int C, int K, int R, int stride, int pad, int groups = 1) {
  Case c;
  c.name = name; c.N = N; c.H = H; c.W = W; c.C = C; c.K = K; c.R = R; c.S = R; c.stride = stride;
  c.pad_h = pad; c.pad_w = pad; c.groups = groups;
  c.P = (H + 2 * pad - R) / stride + 1;
  c.Q = (W + 2 * pad - R) / stride + 1;
  return c;
}

// ---------------------------------------------------------------- CPU reference (libreskern_cpu, fp32)
struct Inputs {
  std::vector<float> x, w, scale, shift, res, ps, psh;
};
static Inputs make_inputs(const Case& c, bool quantized, uint64_t seed) {
  Rng r(seed);
  Inputs in;
  const size_t nx = (size_t)c.N * c.H * c.W * c.C, nw = (size_t)c.K * c.R * c.S * (c.C / c.groups);
  in.x = quantized ? rand_q(nx, r) : rand_vec(nx, r);
  in.w = quantized ? rand_q(nw, r) : rand_vec(nw, r);
  in.scale = rand_vec(c.K, r, 0.5f, 1.5f);
  in.shift = rand_vec(c.K, r, -0.5f, 0.5f);
  in.ps = rand_vec(c.K, r, 0.5f, 1.5f);
  in.psh = rand_vec(c.K, r, -0.5f, 0.5f);
  size_t nres = 0;
  if (c.res_mode == RK_RES_IDENTITY) nres = (size_t)c.N * c.P * c.Q * c.K;
  if (c.res_mode == RK_RES_OPTION_A) nres = (size_t)c.N * c.res_h * c.res_w * c.res_c;
  in.res = quantized ? rand_q(nres, r) : rand_vec(nres, r);
  return in;
}
static void cpu_ref(const Case& c, const Inputs& in, std::vector<float>& y, std::vector<float>& y2) {
  const float* xin = in.x.data();
  int H = c.H, W = c.W;
  std::vector<float> xp;
  if (c.pre_avgpool) {
    xp.resize((size_t)c.N * c.P * c.Q * c.C);
    CPU_CHECK(rk_cpu_avgpool2d(in.x.data(), c.N, c.H, c.W, c.C, 2, 2, 2, 0, 0, 0, xp.data(), c.P, c.Q));
    xin = xp.data(); H = c.P; W = c.Q;
  }
  std::vector<float> packed(rk_cpu_conv_packed_size(c.K, c.C, c.R, c.S, c.groups));
  CPU_CHECK(rk_cpu_conv_pack(in.w.data(), c.K, c.C, c.R, c.S, c.groups, packed.data()));
  y.assign((size_t)c.N * c.P * c.Q * c.K, 0.f);
  CPU_CHECK(rk_cpu_conv2d(xin, c.N, H, W, c.C, packed.data(), c.K, c.R, c.S, c.stride, c.pad_h, c.pad_w, c.groups,
                          c.has_scale ? in.scale.data() : nullptr, c.has_shift ? in.shift.data() : nullptr,
                          c.res_mode ? in.res.data() : nullptr, c.res_mode, c.res_h, c.res_w, c.res_c, c.relu, y.data(),
                          c.P, c.Q));
  y2.clear();
  if (c.dual) {
    y2.resize(y.size());
    for (size_t i = 0; i < y.size(); i++) {
      const int k = (int)(i % c.K);
      const float v = in.ps[k] * y[i] + in.psh[k];
      y2[i] = v < 0.f ? 0.f : v;
    }
  }
}

// ---------------------------------------------------------------- one GPU run + comparison
struct RunResult {
  bool ran = false;
  int status = 0;
  Cmp y, y2;
};
static RunResult run_gpu(const Case& c, int algo, int dt, int math, const Inputs& in, const std::vector<float>& yref,
                         const std::vector<float>& y2ref) {
  RunResult rr;
  DevBuf x, w, res, sc, sh, ps, psh;
  upload_as(x, in.x, dt);
  upload_as(w, in.w, dt);
  if (c.res_mode) upload_as(res, in.res, dt);
  upload_as(sc, in.scale, RK_F32);
  upload_as(sh, in.shift, RK_F32);
  upload_as(ps, in.ps, RK_F32);
  upload_as(psh, in.psh, RK_F32);
  const size_t ny = (size_t)c.N * c.P * c.Q * c.K;
  DevBuf y(ny * dsize(dt)), y2(c.dual ? ny * dsize(dt) : 16);
  y.poison();
  y2.poison();
  rr.status = rk_cuda_conv2d(algo, dt, math, x.p, c.N, c.H, c.W, c.C, w.p, c.K, c.R, c.S, c.stride, c.pad_h, c.pad_w,
                             c.groups, c.pre_avgpool, c.has_scale ? sc.as<float>() : nullptr,
                             c.has_shift ? sh.as<float>() : nullptr, c.res_mode ? res.p : nullptr, c.res_mode, c.res_h,
                             c.res_w, c.res_c, c.relu, y.p, c.P, c.Q, ps.as<float>(), psh.as<float>(),
                             c.dual ? y2.p : nullptr, nullptr);
  if (rr.status != RK_OK) return rr;
  int st = rk_cuda_stream_synchronize(nullptr);
  if (st != RK_OK) {
    fprintf(stderr, "FATAL: %s algo %d: %s\n", c.name.c_str(), algo, rk_cuda_last_error());
    exit(1);  // a sticky CUDA error (illegal address, ...) poisons the context: stop here
  }
  rr.ran = true;
  rr.y = compare(download_as(y, ny, dt), yref);
  if (c.dual) rr.y2 = compare(download_as(y2, ny, dt), y2ref);
  return rr;
}

struct Mode {
  const char* name;
  int dt, math;
  double tol;
};
static const Mode kModes[] = {{"f32", RK_F32, RK_MATH_EXACT, 1e-5},
                              {"tf32", RK_F32, RK_MATH_TF32, 2e-3},
                              {"f16", RK_F16, RK_MATH_EXACT, 1e-2},
                              {"bf16", RK_BF16, RK_MATH_EXACT, 1e-2}};

static void check_case(const Case& c, uint64_t seed) {
  Inputs fin = make_inputs(c, false, seed), qin = make_inputs(c, true, seed + 1);
  std::vector<float> fy, fy2, qy, qy2;
  cpu_ref(c, fin, fy, fy2);
  cpu_ref(c, qin, qy, qy2);
  const int na = rk_cuda_conv2d_algo_count();
  int runs = 0, fails = 0;
  double worst[4] = {0, 0, 0, 0};
  std::string picks;
  for (int mi = 0; mi < 4; mi++) {
    const Mode& m = kModes[mi];
    const int h = rk_cuda_conv2d_heuristic(m.dt, m.math, c.N, c.H, c.W, c.C, c.K, c.R, c.S, c.stride, c.pad_h, c.pad_w,
                                           c.groups, c.P, c.Q, c.res_mode, c.pre_avgpool);
    picks += std::string(" ") + m.name + "->" + (h >= 0 ? rk_cuda_conv2d_algo_name(h) : "none");
    if (m.dt == RK_F32 && m.math == RK_MATH_EXACT && (h < 0 || strncmp(rk_cuda_conv2d_algo_name(h), "simt", 4) != 0)) {
      printf("FAIL %-28s heuristic picks %s for fp32 + MATH_EXACT (must be simt)\n", c.name.c_str(),
             h >= 0 ? rk_cuda_conv2d_algo_name(h) : "none");
      g_failures++; fails++;
    }
    for (int a = -1; a < na; a++) {
      const int ci = rk_cuda_conv2d_can_implement(a, m.dt, m.math, c.N, c.H, c.W, c.C, c.K, c.R, c.S, c.stride, c.pad_h,
                                                  c.pad_w, c.groups, c.P, c.Q, c.res_mode, c.pre_avgpool);
      if (ci != RK_OK) continue;
      const bool q = m.dt != RK_F32;
      RunResult rr = run_gpu(c, a, m.dt, m.math, q ? qin : fin, q ? qy : fy, q ? qy2 : fy2);
      if (!rr.ran) {  // can_implement said yes: any failure is one
        printf("FAIL %-28s %-22s %-4s status %d: %s\n", c.name.c_str(), a < 0 ? "heuristic" : rk_cuda_conv2d_algo_name(a),
               m.name, rr.status, rk_cuda_last_error());
        g_failures++; fails++; runs++;
        continue;
      }
      runs++;
      const bool ok = rr.y.ok(m.tol) && (!c.dual || rr.y2.ok(m.tol));
      const double e = std::max(rr.y.rel, c.dual ? rr.y2.rel : 0.0);
      worst[mi] = std::max(worst[mi], e);
      if (!ok || g_verbose)
        printf("%s %-28s %-22s %-4s rel %.2e%s (y2 %.2e) nonfinite %zu first_bad %lld\n", ok ? "ok  " : "FAIL",
               c.name.c_str(), a < 0 ? "heuristic" : rk_cuda_conv2d_algo_name(a), m.name, rr.y.rel,
               c.dual ? "" : " ", rr.y2.rel, rr.y.bad + rr.y2.bad, rr.y.first);
      if (!ok) { g_failures++; fails++; }
    }
  }
  printf("%-4s %-28s %3d runs  max rel: f32 %.1e tf32 %.1e f16 %.1e bf16 %.1e |%s\n", fails ? "FAIL" : "ok", c.name.c_str(),
         runs, worst[0], worst[1], worst[2], worst[3], picks.c_str());
}

static std::vector<Case> synthetic_cases(bool quick) {
  std::vector<Case> v;
  {  Case c = mk("3x3s1 C64K64 identity-res", 2, 10, 9, 64, 64, 3, 1, 1); c.res_mode = RK_RES_IDENTITY; v.push_back(c); }
  v.push_back(mk("3x3s2 C32K64 odd", 2, 15, 13, 32, 64, 3, 2, 1));
  {  Case c = mk("1x1s1 C64K256 scale-only", 3, 8, 8, 64, 256, 1, 1, 0); c.has_shift = 0; c.relu = 0; v.push_back(c); }
  {  Case c = mk("1x1s2 C128K256 proj", 2, 9, 9, 128, 256, 1, 2, 0); c.relu = 0; v.push_back(c); }
  v.push_back(mk("7x7s2 C3K64 stem", 2, 30, 28, 3, 64, 7, 2, 3));
  v.push_back(mk("3x3s1 C24K40 tails", 1, 10, 11, 24, 40, 3, 1, 1));
  v.push_back(mk("3x3 groups4 C32K32", 2, 8, 8, 32, 32, 3, 1, 1, 4));
  v.push_back(mk("3x3 depthwise C16", 1, 9, 9, 16, 16, 3, 2, 1, 16));
  {  Case c = mk("3x3s2 C16K32 optionA", 2, 16, 16, 16, 32, 3, 2, 1);
     c.res_mode = RK_RES_OPTION_A; c.res_h = 16; c.res_w = 16; c.res_c = 16; v.push_back(c); }
  {  Case c = mk("1x1 C64K64 dual-y2 (v2)", 2, 7, 7, 64, 64, 1, 1, 0); c.dual = 1; c.relu = 0;
     c.res_mode = RK_RES_IDENTITY; v.push_back(c); }
  {  Case c = mk("avgpool+1x1 C64K128 odd (v1d)", 2, 15, 13, 64, 128, 1, 1, 0);
     c.pre_avgpool = 1; c.P = 8; c.Q = 7; v.push_back(c); }
  {  Case c = mk("3x3s2 asym pad C32K32", 1, 12, 12, 32, 32, 3, 2, 0); c.pad_w = 1; c.P = 6; c.Q = 6; v.push_back(c); }
  if (!quick) {
    v.push_back(mk("3x3 M-tail C64K72", 1, 5, 5, 64, 72, 3, 1, 1));
    v.push_back(mk("1x1 C256K512 7x7", 2, 7, 7, 256, 512, 1, 1, 0));
    {  Case c = mk("3x3 C4K32 gather+res+y2", 2, 12, 12, 4, 32, 3, 1, 1); c.res_mode = RK_RES_IDENTITY; c.dual = 1;
       v.push_back(c); }
    v.push_back(mk("1x1 fc-like C512K1000", 3, 1, 1, 512, 1000, 1, 1, 0));
    v.push_back(mk("3x3 C8K8 tiny-C", 2, 6, 7, 8, 8, 3, 1, 1));
    v.push_back(mk("5x5s1 C16K24 pad2", 1, 9, 9, 16, 24, 5, 1, 2));
    {  Case c = mk("3x3 C64K64 large-M 2 waves", 4, 28, 28, 64, 64, 3, 1, 1); c.res_mode = RK_RES_IDENTITY; v.push_back(c); }
    {  Case c = mk("avgpool+1x1 C256K512 28x28", 2, 28, 28, 256, 512, 1, 1, 0); c.pre_avgpool = 1; c.P = 14; c.Q = 14;
       v.push_back(c); }
  }
  return v;
}

// ---------------------------------------------------------------- ResNet-50 layers
struct Layer {
  const char* name;
  int C, K, R, stride, H, mult, pre_avgpool;
};
// v1.5 (torchvision) at 224x224; mult = occurrences in ResNet-50 (v1d-only rows have mult 0).
static const Layer kR50[] = {
    {"stem7x7", 3, 64, 7, 2, 224, 1, 0},
    {"l1.c1a", 64, 64, 1, 1, 56, 1, 0},     {"l1.c1", 256, 64, 1, 1, 56, 2, 0},
    {"l1.c2", 64, 64, 3, 1, 56, 3, 0},      {"l1.c3/ds", 64, 256, 1, 1, 56, 4, 0},
    {"l2.c1a", 256, 128, 1, 1, 56, 1, 0},   {"l2.c2s2", 128, 128, 3, 2, 56, 1, 0},
    {"l2.ds.s2", 256, 512, 1, 2, 56, 1, 0}, {"l2.c3", 128, 512, 1, 1, 28, 4, 0},
    {"l2.c1", 512, 128, 1, 1, 28, 3, 0},    {"l2.c2", 128, 128, 3, 1, 28, 3, 0},
    {"l3.c1a", 512, 256, 1, 1, 28, 1, 0},   {"l3.c2s2", 256, 256, 3, 2, 28, 1, 0},
    {"l3.ds.s2", 512, 1024, 1, 2, 28, 1, 0}, {"l3.c3", 256, 1024, 1, 1, 14, 6, 0},
    {"l3.c1", 1024, 256, 1, 1, 14, 5, 0},   {"l3.c2", 256, 256, 3, 1, 14, 5, 0},
    {"l4.c1a", 1024, 512, 1, 1, 14, 1, 0},  {"l4.c2s2", 512, 512, 3, 2, 14, 1, 0},
    {"l4.ds.s2", 1024, 2048, 1, 2, 14, 1, 0}, {"l4.c3", 512, 2048, 1, 1, 7, 3, 0},
    {"l4.c1", 2048, 512, 1, 1, 7, 2, 0},    {"l4.c2", 512, 512, 3, 1, 7, 2, 0},
    {"v1d.l2.ds", 256, 512, 1, 1, 56, 0, 1}, {"v1d.l3.ds", 512, 1024, 1, 1, 28, 0, 1},
    {"v1d.l4.ds", 1024, 2048, 1, 1, 14, 0, 1},
};
static Case layer_case(const Layer& l, int N) {
  Case c = mk(l.name, N, l.H, l.H, l.C, l.K, l.R, l.stride, l.R / 2);
  if (l.pre_avgpool) { c.pre_avgpool = 1; c.P = (l.H + 1) / 2; c.Q = c.P; }
  return c;
}

// ---------------------------------------------------------------- timing with spot checks
struct Peaks {
  double f32, tf32, f16;  // TFLOP/s, dense
  const char* what;
};
static Peaks peaks_for(int major, int minor, int sms) {
  if (major == 9) return {67.0 * sms / 132, 494.7 * sms / 132, 989.4 * sms / 132, "H100 SXM spec (scaled by SMs)"};
  if (major == 8 && minor == 0) return {19.5 * sms / 108, 156.0 * sms / 108, 312.0 * sms / 108, "A100 spec"};
  return {0, 0, 0, "unknown"};
}

// Device pool of random fp32 values: inputs of any size are filled from it with rk_cuda_convert (fast), and the
// host keeps the same values for the spot-check reference: element i of a tensor with offset o = pool[(i+o) % PS].
struct Pool {
  static constexpr size_t PS = size_t(1) << 25;
  std::vector<float> h;
  DevBuf d;
  Pool() {
    Rng r(42);
    h = rand_vec(PS, r);
    upload_as(d, h, RK_F32);
  }
  float at(size_t i, size_t off) const { return h[(i + off) % PS]; }
  void fill(DevBuf& dst, int dt, size_t count, size_t off) {
    size_t done = 0;
    while (done < count) {
      const size_t src = (done + off) % PS, len = std::min(count - done, PS - src);
      LAB_CHECK(rk_cuda_convert(d.as<float>() + src, RK_F32, (char*)dst.p + done * dsize(dt), dt, (long long)len, nullptr));
      done += len;
    }
  }
};

static const char* tile_code(int algo) {
  if (algo < 0) return "?";
  const char* n = rk_cuda_conv2d_algo_name(algo);
  if (!strncmp(n, "simt", 4)) return "s";
  if (strstr(n, "avgpool")) return "P";
  if (strstr(n, "gather")) return "G";
  if (strstr(n, "256x128")) return "X";
  if (strstr(n, "256x64")) return "W";
  if (strstr(n, "128x128")) return "L";
  if (strstr(n, "128x64")) return "M";
  if (strstr(n, "64x64")) return "S";
  return "?";
}

// Spot check: `ns` sampled outputs of y against a double-precision host reference on the dtype-rounded inputs.
static Cmp spot_check(const Case& c, int dt, const DevBuf& y, const Pool& pool, size_t xoff, size_t woff,
                      const std::vector<float>& sc, const std::vector<float>& sh, int ns, uint64_t seed) {
  Rng r(seed);
  const size_t ny = (size_t)c.N * c.P * c.Q * c.K;
  std::vector<size_t> idx(ns);
  std::vector<uint8_t> got((size_t)ns * dsize(dt));
  for (int i = 0; i < ns; i++) {
    idx[i] = r.next() % ny;
    LAB_CHECK(rk_cuda_memcpy_d2h(&got[(size_t)i * dsize(dt)], (const char*)y.p + idx[i] * dsize(dt), dsize(dt), nullptr));
  }
  LAB_CHECK(rk_cuda_stream_synchronize(nullptr));
  std::vector<float> out(ns), ref(ns);
  const int Cg = c.C / c.groups, Kg = c.K / c.groups;
  for (int i = 0; i < ns; i++) {
    out[i] = unpack1(&got[(size_t)i * dsize(dt)], dt);
    const size_t m = idx[i] / c.K;
    const int k = (int)(idx[i] % c.K), g = k / Kg;
    const int n = (int)(m / ((size_t)c.P * c.Q)), pq = (int)(m % ((size_t)c.P * c.Q)), p = pq / c.Q, q = pq % c.Q;
    double acc = 0;
    for (int rr = 0; rr < c.R; rr++)
      for (int ss = 0; ss < c.S; ss++)
        for (int cc = 0; cc < Cg; cc++) {
          double xv;
          if (c.pre_avgpool) {
            const int h0 = 2 * p, w0 = 2 * q;
            double s = 0; int cnt = 0;
            for (int dh = 0; dh < 2; dh++)
              for (int dw = 0; dw < 2; dw++)
                if (h0 + dh < c.H && w0 + dw < c.W) {
                  s += round_to(pool.at((((size_t)n * c.H + h0 + dh) * c.W + w0 + dw) * c.C + cc, xoff), dt);
                  cnt++;
                }
            xv = s / cnt;
          } else {
            const int hi = p * c.stride - c.pad_h + rr, wi = q * c.stride - c.pad_w + ss;
            if (hi < 0 || hi >= c.H || wi < 0 || wi >= c.W) continue;
            xv = round_to(pool.at((((size_t)n * c.H + hi) * c.W + wi) * c.C + g * Cg + cc, xoff), dt);
          }
          const double wv = round_to(pool.at((((size_t)k * c.R + rr) * c.S + ss) * Cg + cc, woff), dt);
          acc += xv * wv;
        }
    double v = acc * sc[k] + sh[k];
    if (c.relu && v < 0) v = 0;
    ref[i] = (float)v;
  }
  return compare(out, ref);
}

// Roofline floor of one conv in ms: max(FLOPs / measured compute ceiling, minimum bytes / 3.0 TB/s), with the
// ceilings measured on H100 (gpu-host.md: bf16 ~800 TFLOP/s, copy ~3.0 TB/s; tf32 and fp32 taken as 80% of spec).
static double floor_ms(const Case& c, int dt, int math, bool simt) {
  const double ceiling = dt != RK_F32 ? 800e12 : (math == RK_MATH_TF32 && !simt) ? 396e12 : 54e12;
  const double es = dt == RK_F32 ? 4 : 2;
  const double x = (double)c.N * c.H * c.W * c.C;  // un-pooled input for pre_avgpool, too
  const double bytes = es * (x + (double)c.N * c.P * c.Q * c.K + (double)c.K * c.R * c.S * c.C / c.groups);
  return std::max(c.flops() / ceiling, bytes / 3.0e12) * 1e3;
}

struct Row {
  double us = -1, tflops = 0, pct = 0, roof = 0;
  int algo = -1;
  bool ok = true;
};

static void bench(const std::vector<int>& batches, int reps, bool all_algos, FILE* csv, int sms, int major, int minor) {
  const Peaks pk = peaks_for(major, minor, sms);
  printf("\n== timing: median of %d (L2 flushed), peaks used for %%: f32 %.0f, tf32 %.0f, f16/bf16 %.0f TFLOP/s (%s)\n",
         reps, pk.f32, pk.tf32, pk.f16, pk.what);
  printf("   %%pk = of the spec peak above; %%roof = roofline floor (max of FLOPs at 800/396/54 TFLOP/s measured-ish\n"
         "   ceilings for f16|bf16/tf32/f32 and x+W+y bytes at 3.0 TB/s) over the measured time\n");
  printf("   algo codes: s=simt X=256x128 W=256x64 L=128x128 M=128x64 S=64x64 P=avgpool(64x64) G=gather(128x64)\n");
  Pool pool;
  Timer timer;
  if (csv) fprintf(csv, "batch,layer,M,K,Ktot,mode,algo,us,tflops,pct_peak,pct_roofline,spot_rel\n");
  for (int N : batches) {
    printf("\n%4s %-10s %8s %5s %5s | %-27s | %-27s | %-27s | %-27s\n", "N", "layer", "M", "K", "Ktot",
           "f32 exact: us TF/s %pk %roof", "tf32", "f16", "bf16");
    double total[4] = {0, 0, 0, 0};
    double total_flops = 0;
    for (const Layer& l : kR50) {
      Case c = layer_case(l, N);
      c.relu = 1;
      const size_t nx = (size_t)c.N * c.H * c.W * c.C, nw = (size_t)c.K * c.R * c.S * c.C, ny = (size_t)c.N * c.P * c.Q * c.K;
      const size_t xoff = (size_t)N * 7919, woff = 123457;
      std::vector<float> sc(c.K), sh(c.K);
      Rng r(7);
      for (int k = 0; k < c.K; k++) { sc[k] = r.uni(0.5f, 1.5f); sh[k] = r.uni(-0.5f, 0.5f); }
      DevBuf dsc, dsh;
      upload_as(dsc, sc, RK_F32);
      upload_as(dsh, sh, RK_F32);
      DevBuf x(nx * 4), w(nw * 4), y(ny * 4);
      Row rows[4];
      for (int mi = 0; mi < 4; mi++) {
        const Mode& m = kModes[mi];
        pool.fill(x, m.dt, nx, xoff);
        pool.fill(w, m.dt, nw, woff);
        std::vector<int> algos = {-1};
        if (all_algos && m.dt == RK_F16)
          for (int a = 1; a < rk_cuda_conv2d_algo_count(); a++) algos.push_back(a);
        for (int a : algos) {
          if (a >= 0 &&
              rk_cuda_conv2d_can_implement(a, m.dt, m.math, c.N, c.H, c.W, c.C, c.K, c.R, c.S, c.stride, c.pad_h,
                                           c.pad_w, c.groups, c.P, c.Q, c.res_mode, c.pre_avgpool) != RK_OK)
            continue;
          auto call = [&]() {
            return rk_cuda_conv2d(a, m.dt, m.math, x.p, c.N, c.H, c.W, c.C, w.p, c.K, c.R, c.S, c.stride, c.pad_h,
                                  c.pad_w, c.groups, c.pre_avgpool, dsc.as<float>(), dsh.as<float>(), nullptr,
                                  RK_RES_NONE, 0, 0, 0, c.relu, y.p, c.P, c.Q, nullptr, nullptr, nullptr, nullptr);
          };
          y.poison();
          const int st0 = call();
          if (a >= 0 && st0 == RK_ERR_UNSUPPORTED) continue;  // pre_avgpool: not an avgpool algo
          LAB_CHECK(st0);
          LAB_CHECK(rk_cuda_stream_synchronize(nullptr));
          Cmp sp = spot_check(c, m.dt, y, pool, xoff, woff, sc, sh, 256, 99 + N);
          const bool ok = sp.ok(m.tol);
          if (!ok) {
            printf("FAIL spot check N=%d %s %s algo %s: rel %.2e nonfinite %zu\n", N, l.name, m.name,
                   a < 0 ? "heuristic" : rk_cuda_conv2d_algo_name(a), sp.rel, sp.bad);
            g_failures++;
          }
          const double ms = timer.median_ms(call, 3, reps);
          const int chosen = a >= 0 ? a : rk_cuda_conv2d_heuristic(m.dt, m.math, c.N, c.H, c.W, c.C, c.K, c.R, c.S,
                                                                   c.stride, c.pad_h, c.pad_w, c.groups, c.P, c.Q,
                                                                   c.res_mode, c.pre_avgpool);
          const double tf = c.flops() / (ms * 1e-3) / 1e12;
          const double peak = m.dt == RK_F32 ? (m.math == RK_MATH_TF32 && strncmp(tile_code(chosen), "s", 1) ? pk.tf32 : pk.f32) : pk.f16;
          if (csv)
            fprintf(csv, "%d,%s,%d,%d,%d,%s,%s,%.2f,%.2f,%.1f,%.1f,%.2e\n", N, l.name, c.N * c.P * c.Q, c.K,
                    c.R * c.S * c.C, m.name, rk_cuda_conv2d_algo_name(chosen), ms * 1e3, tf,
                    peak > 0 ? 100 * tf / peak : 0,
                    100 * floor_ms(c, m.dt, m.math, !strncmp(tile_code(chosen), "s", 1)) / ms, sp.rel);
          if (a >= 0) {
            printf("     %-10s %-5s %-22s %9.1f us %7.1f TF/s %5.1f%% peak %5.1f%% roofline\n", l.name, m.name,
                   rk_cuda_conv2d_algo_name(a), ms * 1e3, tf, peak > 0 ? 100 * tf / peak : 0,
                   100 * floor_ms(c, m.dt, m.math, false) / ms);
            continue;
          }
          const double roof = 100 * floor_ms(c, m.dt, m.math, !strncmp(tile_code(chosen), "s", 1)) / ms;
          rows[mi] = Row{ms * 1e3, tf, peak > 0 ? 100 * tf / peak : 0, roof, chosen, ok};
          total[mi] += ms * l.mult;
        }
      }
      total_flops += c.flops() * l.mult;
      printf("%4d %-10s %8d %5d %5d", N, l.name, c.N * c.P * c.Q, c.K, c.R * c.S * c.C);
      for (int mi = 0; mi < 4; mi++)
        printf(" | %8.1f %6.1f %3.0f%% %3.0f%% %s%s", rows[mi].us, rows[mi].tflops, rows[mi].pct, rows[mi].roof,
               tile_code(rows[mi].algo), rows[mi].ok ? " " : "!");
      printf("\n");
    }
    printf("N=%d ResNet-50 convs (%.1f GFLOP, layers weighted by count):", N, total_flops / 1e9);
    for (int mi = 0; mi < 4; mi++)
      printf("  %s %.3f ms (%.0f img/s, %.0f TF/s)", kModes[mi].name, total[mi], N / (total[mi] * 1e-3),
             total_flops / (total[mi] * 1e-3) / 1e12);
    printf("\n");
  }
}

int main(int argc, char** argv) {
  const bool quick = has_flag(argc, argv, "--quick");
  const bool only_check = has_flag(argc, argv, "--check"), only_bench = has_flag(argc, argv, "--bench");
  g_verbose = has_flag(argc, argv, "--verbose");
  const bool all_algos = has_flag(argc, argv, "--all-algos");
  int reps = 20;
  if (const char* v = flag_value(argc, argv, "--reps")) reps = std::max(1, atoi(v));
  std::vector<int> batches = {1, 32, 256};
  if (const char* v = flag_value(argc, argv, "--batches")) {
    batches.clear();
    for (const char* p = v; *p;) {
      batches.push_back(atoi(p));
      while (*p && *p != ',') p++;
      if (*p == ',') p++;
    }
  }
  FILE* csv = nullptr;
  if (const char* v = flag_value(argc, argv, "--csv")) csv = fopen(v, "w");

  int sms = 0, major = 0, minor = 0;
  if (!init_device(&sms, &major, &minor)) return 2;
  if (has_flag(argc, argv, "--picks")) {  // heuristic choices only (no kernels run)
    printf("heuristic picks (%d SMs; s=simt X=256x128 W=256x64 L=128x128 M=128x64 S=64x64 P=avgpool G=gather):\n%-10s",
           sms, "layer");
    for (int N : batches) printf(" | N=%-4d f32/tf32/f16/bf16", N);
    printf("\n");
    for (const Layer& l : kR50) {
      printf("%-10s", l.name);
      for (int N : batches) {
        Case c = layer_case(l, N);
        printf(" |");
        for (const Mode& m : kModes)
          printf(" %s", tile_code(rk_cuda_conv2d_heuristic(m.dt, m.math, c.N, c.H, c.W, c.C, c.K, c.R, c.S, c.stride,
                                                           c.pad_h, c.pad_w, c.groups, c.P, c.Q, c.res_mode,
                                                           c.pre_avgpool)));
        printf("%16s", "");
      }
      printf("\n");
    }
    return 0;
  }
  printf("conv algos (%d):", rk_cuda_conv2d_algo_count());
  for (int a = 0; a < rk_cuda_conv2d_algo_count(); a++) printf(" %s", rk_cuda_conv2d_algo_name(a));
  printf("\n");

  if (!only_bench) {
    printf("\n== correctness vs libreskern_cpu (tol f32 1e-5, tf32 2e-3, f16/bf16 1e-2; heuristic picks at the end)\n");
    uint64_t seed = 1;
    for (const Case& c : synthetic_cases(quick)) check_case(c, seed += 10);
    if (!quick)
      for (const Layer& l : kR50) check_case(layer_case(l, 1), seed += 10);
  }
  if (!quick && !only_check) bench(batches, reps, all_algos, csv, sms, major, minor);
  if (csv) fclose(csv);
  printf("\n%s: %d check(s) failed\n", g_failures ? "FAILED" : "PASSED", g_failures);
  return g_failures ? 1 : 0;
}
