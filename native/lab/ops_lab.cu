// ops_lab: validates the non-conv CUDA ops and the runtime plumbing against libreskern_cpu, then times the ops at
// ResNet-50 batch-256 sizes (GB/s against ~3000 GB/s, the measured H100 copy bandwidth).
//
// Build (any machine with nvcc):   bash native/build.sh /tmp/cb /tmp/ci ON     -> /tmp/ci/bin/lab_ops_lab
// Run on the GPU host:
//   lab_ops_lab             checks + timing          lab_ops_lab --quick    checks only, small sizes
//   compute-sanitizer --tool memcheck lab_ops_lab --quick
// Exit status: 0 all checks passed; 1 a check failed; 2 no GPU or a setup error.
//
// Checked: runtime (versions, device info, malloc/free, OOM -> RK_ERR_OUT_OF_MEMORY and recovery, pinned memory,
// async copies, memset, streams, events, graph capture + replay == eager, invalid arguments -> RK_ERR_INVALID_ARG),
// convert (all 9 dtype pairs, aligned and misaligned), nchw_to_nhwc, preprocess_u8 (host and device mean/std),
// bn_relu, add_relu, maxpool (NaN propagation), avgpool (both count_include_pad modes, ceil-mode windows),
// global_avgpool, fc, global_avgpool_fc, resample_normalize_u8 (image resize + crop + normalise: downscale 1.x and
// > 4x, upscale, zero-padded crop, RGB/BGR/ABGR/gray layouts, padded rows). Inputs random, outputs NaN-poisoned, error ||out-ref||/||ref||:
// fp32 outputs 1e-5, f16/bf16 outputs 1e-2 (the reference is the CPU op on the dtype-rounded inputs, rounded).
#include "lab_common.h"

using namespace lab;
static int g_failures = 0;

static void report(const char* what, const char* dt, const Cmp& c, double tol) {
  const bool ok = c.ok(tol);
  printf("%s %-44s %-5s rel %.2e nonfinite-mismatch %zu\n", ok ? "ok  " : "FAIL", what, dt, c.rel, c.bad);
  if (!ok) g_failures++;
}
static void expect(bool cond, const char* what) {
  printf("%s %s\n", cond ? "ok  " : "FAIL", what);
  if (!cond) g_failures++;
}
static std::vector<float> rounded(std::vector<float> v, int dt) {
  for (auto& e : v) e = round_to(e, dt);
  return v;
}
static double tol_for(int dt) { return dt == RK_F32 ? 1e-5 : 1e-2; }
static const int kDts[] = {RK_F32, RK_F16, RK_BF16};

// ------------------------------------------------------------------------------------------------ runtime
static void check_runtime() {
  int rt = 0, drv = 0;
  expect(rk_cuda_versions(&rt, &drv) == RK_OK && rt > 0 && drv > 0, "versions: runtime and driver reported");
  void* p = nullptr;
  int st = rk_cuda_malloc(&p, (size_t)1 << 50);  // 1 PiB
  expect(st == RK_ERR_OUT_OF_MEMORY && p == nullptr, "malloc 1 PiB -> RK_ERR_OUT_OF_MEMORY");
  printf("     (message: %s)\n", rk_cuda_last_error());
  st = rk_cuda_conv2d(-1, RK_F32, RK_MATH_EXACT, (void*)16, 1, 8, 8, 6, (void*)16, 8, 3, 3, 1, 1, 1, 4, 0, nullptr,
                      nullptr, nullptr, 0, 0, 0, 0, 0, (void*)32, 8, 8, nullptr, nullptr, nullptr, nullptr);
  expect(st == RK_ERR_INVALID_ARG && strlen(rk_cuda_last_error()) > 0, "conv2d groups=4 with C=6 -> RK_ERR_INVALID_ARG");
  st = rk_cuda_conv2d(1, RK_F32, RK_MATH_EXACT, (void*)16, 1, 8, 8, 8, (void*)16, 8, 3, 3, 1, 1, 1, 1, 0, nullptr,
                      nullptr, nullptr, 0, 0, 0, 0, 0, (void*)32, 8, 8, nullptr, nullptr, nullptr, nullptr);
  expect(st == RK_ERR_UNSUPPORTED, "conv2d forced tc_f16 algo on f32 data -> RK_ERR_UNSUPPORTED");

  // pinned memory, async copies on a created stream, memset, events
  void* stream = nullptr;
  LAB_CHECK(rk_cuda_stream_create(&stream));
  const size_t n = 1 << 20;
  float* hp = nullptr;
  LAB_CHECK(rk_cuda_malloc_host((void**)&hp, n * 4));
  Rng r(3);
  for (size_t i = 0; i < n; i++) hp[i] = r.uni(-1, 1);
  DevBuf a(n * 4), b(n * 4);
  void *e0, *e1;
  LAB_CHECK(rk_cuda_event_create(&e0));
  LAB_CHECK(rk_cuda_event_create(&e1));
  LAB_CHECK(rk_cuda_event_record(e0, stream));
  LAB_CHECK(rk_cuda_memcpy_h2d(a.p, hp, n * 4, stream));
  LAB_CHECK(rk_cuda_memcpy_d2d(b.p, a.p, n * 4, stream));
  LAB_CHECK(rk_cuda_memset(a.p, 0, n * 4, stream));
  std::vector<float> back(n, -1.f);
  LAB_CHECK(rk_cuda_memcpy_d2h(back.data(), b.p, n * 4, stream));
  LAB_CHECK(rk_cuda_event_record(e1, stream));
  LAB_CHECK(rk_cuda_stream_synchronize(stream));
  float ms = -1;
  LAB_CHECK(rk_cuda_event_elapsed_ms(e0, e1, &ms));
  expect(memcmp(back.data(), hp, n * 4) == 0 && ms >= 0, "pinned h2d -> d2d -> d2h round trip, events");
  std::vector<float> zeros(n, 1.f);
  a.download(zeros.data(), n * 4);
  bool allz = true;
  for (float v : zeros) allz &= v == 0.f;
  expect(allz, "memset 0");
  LAB_CHECK(rk_cuda_event_destroy(e0));
  LAB_CHECK(rk_cuda_event_destroy(e1));
  LAB_CHECK(rk_cuda_free_host(hp));

  // graph: capture add_relu + a tensor-core conv on `stream`, replay == eager; replay sees new input data
  {
    const int N = 2, H = 14, W = 14, C = 64, K = 64;
    const size_t nx = (size_t)N * H * W * C, nw = (size_t)K * 9 * C;
    DevBuf x, x2, w, t, y_e, y_g, sc, sh;
    upload_as(x, rand_vec(nx, r), RK_F16);
    upload_as(x2, rand_vec(nx, r), RK_F16);
    upload_as(w, rand_vec(nw, r, -0.1f, 0.1f), RK_F16);
    upload_as(sc, rand_vec(K, r, 0.5f, 1.5f), RK_F32);
    upload_as(sh, rand_vec(K, r, -0.5f, 0.5f), RK_F32);
    t.alloc(nx * 2); y_e.alloc(nx * 2); y_g.alloc(nx * 2);
    auto work = [&](void* y) {
      LAB_CHECK(rk_cuda_add_relu(RK_F16, x.p, x2.p, (long long)nx, 1, t.p, stream));
      LAB_CHECK(rk_cuda_conv2d(-1, RK_F16, RK_MATH_EXACT, t.p, N, H, W, C, w.p, K, 3, 3, 1, 1, 1, 1, 0, sc.as<float>(),
                               sh.as<float>(), x.p, RK_RES_IDENTITY, 0, 0, 0, 1, y, H, W, nullptr, nullptr, nullptr,
                               stream));
    };
    void* g = nullptr;
    y_g.poison();
    LAB_CHECK(rk_cuda_graph_begin_capture(stream));
    work(y_g.p);
    LAB_CHECK(rk_cuda_graph_end_capture(stream, &g));
    for (int it = 0; it < 2; it++) {
      if (it == 1) upload_as(x, rand_vec(nx, r), RK_F16);  // same buffer size: same address not guaranteed -> recapture
      if (it == 1) {
        LAB_CHECK(rk_cuda_graph_destroy(g));
        LAB_CHECK(rk_cuda_graph_begin_capture(stream));
        work(y_g.p);
        LAB_CHECK(rk_cuda_graph_end_capture(stream, &g));
      }
      y_e.poison();
      y_g.poison();
      LAB_CHECK(rk_cuda_stream_synchronize(stream));
      work(y_e.p);
      LAB_CHECK(rk_cuda_graph_launch(g, stream));
      LAB_CHECK(rk_cuda_graph_launch(g, stream));  // replays are idempotent
      LAB_CHECK(rk_cuda_stream_synchronize(stream));
      std::vector<uint8_t> be(nx * 2), bg(nx * 2);
      y_e.download(be.data(), be.size());
      y_g.download(bg.data(), bg.size());
      bool finite = true;
      for (float v : unpack(bg, RK_F16)) finite &= std::isfinite(v);
      expect(be == bg && finite, it == 0 ? "graph replay == eager (add_relu + tc conv, captured)" :
                                           "graph recaptured after new input == eager");
    }
    LAB_CHECK(rk_cuda_graph_destroy(g));
  }
  LAB_CHECK(rk_cuda_stream_destroy(stream));
}

// ------------------------------------------------------------------------------------------------ ops
static void check_convert(size_t n) {
  Rng r(5);
  std::vector<float> x = rand_vec(n, r, -70000.f, 70000.f);  // includes f16 overflow to inf
  for (size_t i = 0; i < n; i += 3) x[i] *= 1e-4f;
  for (int di : kDts)
    for (int dout : kDts) {
      for (int off = 0; off < 2; off++) {  // off = 1: misaligned by one element -> scalar path
        std::vector<float> xi = rounded(x, di);
        DevBuf dx, dy((n + 8) * dsize(dout));
        upload_as(dx, xi, di);
        dy.poison();
        const size_t m = n - off;
        LAB_CHECK(rk_cuda_convert((char*)dx.p + off * dsize(di), di, (char*)dy.p + off * dsize(dout), dout, (long long)m,
                                  nullptr));
        LAB_CHECK(rk_cuda_stream_synchronize(nullptr));
        std::vector<uint8_t> b((n)*dsize(dout));
        dy.download(b.data(), b.size());
        std::vector<float> out(m), ref(m);
        for (size_t i = 0; i < m; i++) {
          out[i] = unpack1(&b[(i + off) * dsize(dout)], dout);
          ref[i] = round_to(xi[i + off], dout);
        }
        char what[96];
        snprintf(what, sizeof what, "convert %s->%s n=%zu%s", dtype_name(di), dtype_name(dout), m, off ? " misaligned" : "");
        report(what, "", compare(out, ref), 0.0);
      }
    }
}

static void check_layout(int N, int C, int H, int W) {
  Rng r(6);
  std::vector<float> x = rand_vec((size_t)N * C * H * W, r), ref(x.size());
  CPU_CHECK(rk_cpu_nchw_to_nhwc(x.data(), N, C, H, W, ref.data()));
  DevBuf dx;
  upload_as(dx, x, RK_F32);
  for (int dt : kDts) {
    DevBuf dy(x.size() * dsize(dt));
    dy.poison();
    LAB_CHECK(rk_cuda_nchw_to_nhwc(dx.as<float>(), N, C, H, W, dy.p, dt, nullptr));
    char what[96];
    snprintf(what, sizeof what, "nchw_to_nhwc N%d C%d %dx%d", N, C, H, W);
    report(what, dtype_name(dt), compare(download_as(dy, x.size(), dt), rounded(ref, dt)), 1e-7);
  }
  // preprocess_u8 with host and with device mean/std
  std::vector<uint8_t> img((size_t)N * H * W * 3);
  for (auto& v : img) v = (uint8_t)(r.next() & 0xFF);
  const float mean[3] = {0.485f, 0.456f, 0.406f}, sd[3] = {0.229f, 0.224f, 0.225f};
  std::vector<float> pref((size_t)N * H * W * 3);
  CPU_CHECK(rk_cpu_preprocess_u8(img.data(), N, H, W, mean, sd, pref.data()));
  DevBuf dimg(img.size()), dmean(12), dsd(12);
  dimg.upload(img.data(), img.size());
  dmean.upload(mean, 12);
  dsd.upload(sd, 12);
  for (int dt : kDts)
    for (int dev = 0; dev < 2; dev++) {
      DevBuf dy(pref.size() * dsize(dt));
      dy.poison();
      LAB_CHECK(rk_cuda_preprocess_u8(dimg.as<uint8_t>(), N, H, W, dev ? dmean.as<float>() : mean,
                                      dev ? dsd.as<float>() : sd, dy.p, dt, nullptr));
      char what[96];
      snprintf(what, sizeof what, "preprocess_u8 N%d %dx%d %s mean/std", N, H, W, dev ? "device" : "host");
      report(what, dtype_name(dt), compare(download_as(dy, pref.size(), dt), rounded(pref, dt)), 1e-6);
    }
}

static void check_bn_add(long long M, int C) {
  Rng r(7);
  const size_t n = (size_t)M * C;
  std::vector<float> x = rand_vec(n, r, -2, 2), b = rand_vec(n, r, -2, 2), sc = rand_vec(C, r, 0.5f, 1.5f),
                     sh = rand_vec(C, r, -0.5f, 0.5f);
  DevBuf dsc, dsh;
  upload_as(dsc, sc, RK_F32);
  upload_as(dsh, sh, RK_F32);
  for (int dt : kDts)
    for (int relu = 0; relu < 2; relu++) {
      std::vector<float> xr = rounded(x, dt), br = rounded(b, dt), ref(n);
      DevBuf dx, db, dy(n * dsize(dt));
      upload_as(dx, xr, dt);
      upload_as(db, br, dt);
      dy.poison();
      CPU_CHECK(rk_cpu_bn_relu(xr.data(), M, C, sc.data(), sh.data(), relu, ref.data()));
      LAB_CHECK(rk_cuda_bn_relu(dt, dx.p, M, C, dsc.as<float>(), dsh.as<float>(), relu, dy.p, nullptr));
      char what[96];
      snprintf(what, sizeof what, "bn_relu M%lld C%d relu%d", M, C, relu);
      report(what, dtype_name(dt), compare(download_as(dy, n, dt), rounded(ref, dt)), tol_for(dt));
      // in place
      LAB_CHECK(rk_cuda_bn_relu(dt, dx.p, M, C, dsc.as<float>(), dsh.as<float>(), relu, dx.p, nullptr));
      snprintf(what, sizeof what, "bn_relu in-place M%lld C%d relu%d", M, C, relu);
      report(what, dtype_name(dt), compare(download_as(dx, n, dt), rounded(ref, dt)), tol_for(dt));
      upload_as(dx, xr, dt);
      dy.poison();
      CPU_CHECK(rk_cpu_add_relu(xr.data(), br.data(), (long long)n, relu, ref.data()));
      LAB_CHECK(rk_cuda_add_relu(dt, dx.p, db.p, (long long)n, relu, dy.p, nullptr));
      snprintf(what, sizeof what, "add_relu n=%zu relu%d", n, relu);
      report(what, dtype_name(dt), compare(download_as(dy, n, dt), rounded(ref, dt)), tol_for(dt));
    }
}

static void check_pools(int N, int H, int W, int C) {
  Rng r(8);
  const size_t nx = (size_t)N * H * W * C;
  std::vector<float> x = rand_vec(nx, r, -3, 3);
  x[nx / 3] = NAN;  // NaN must propagate through maxpool (and make the avgpool windows NaN)
  struct P { int kh, stride, pad, cip, ceil; } cfgs[] = {{3, 2, 1, 0, 0}, {2, 2, 0, 0, 1}, {3, 1, 1, 1, 0}, {3, 2, 1, 0, 1}};
  for (int dt : kDts) {
    std::vector<float> xr = rounded(x, dt);
    DevBuf dx;
    upload_as(dx, xr, dt);
    for (const P& p : cfgs) {
      const int P_ = p.ceil ? (H + 2 * p.pad - p.kh + p.stride - 1) / p.stride + 1 : (H + 2 * p.pad - p.kh) / p.stride + 1;
      const int Q_ = p.ceil ? (W + 2 * p.pad - p.kh + p.stride - 1) / p.stride + 1 : (W + 2 * p.pad - p.kh) / p.stride + 1;
      const size_t ny = (size_t)N * P_ * Q_ * C;
      std::vector<float> ref(ny);
      DevBuf dy(ny * dsize(dt));
      char what[96];
      dy.poison();
      CPU_CHECK(rk_cpu_maxpool2d(xr.data(), N, H, W, C, p.kh, p.kh, p.stride, p.pad, p.pad, ref.data(), P_, Q_));
      LAB_CHECK(rk_cuda_maxpool2d(dt, dx.p, N, H, W, C, p.kh, p.kh, p.stride, p.pad, p.pad, dy.p, P_, Q_, nullptr));
      snprintf(what, sizeof what, "maxpool %dx%d/%d pad%d %dx%dx%d->%dx%d", p.kh, p.kh, p.stride, p.pad, H, W, C, P_, Q_);
      report(what, dtype_name(dt), compare(download_as(dy, ny, dt), rounded(ref, dt)), tol_for(dt));
      dy.poison();
      CPU_CHECK(rk_cpu_avgpool2d(xr.data(), N, H, W, C, p.kh, p.kh, p.stride, p.pad, p.pad, p.cip, ref.data(), P_, Q_));
      LAB_CHECK(rk_cuda_avgpool2d(dt, dx.p, N, H, W, C, p.kh, p.kh, p.stride, p.pad, p.pad, p.cip, dy.p, P_, Q_, nullptr));
      snprintf(what, sizeof what, "avgpool %dx%d/%d pad%d cip%d %dx%dx%d->%dx%d", p.kh, p.kh, p.stride, p.pad, p.cip, H, W,
               C, P_, Q_);
      report(what, dtype_name(dt), compare(download_as(dy, ny, dt), rounded(ref, dt)), tol_for(dt));
    }
  }
}

static void check_head(int N, int HW, int C, int K, bool bias) {
  Rng r(9);
  std::vector<float> x = rand_vec((size_t)N * HW * C, r), w = rand_vec((size_t)K * C, r, -0.05f, 0.05f),
                     bs = rand_vec(K, r), pooled((size_t)N * C), ref((size_t)N * K);
  DevBuf dw, db, dp((size_t)N * C * 4), dy((size_t)N * K * 4);
  upload_as(dw, w, RK_F32);
  upload_as(db, bs, RK_F32);
  for (int dt : kDts) {
    std::vector<float> xr = rounded(x, dt);
    DevBuf dx;
    upload_as(dx, xr, dt);
    char what[96];
    CPU_CHECK(rk_cpu_global_avgpool(xr.data(), N, HW, C, pooled.data()));
    dp.poison();
    LAB_CHECK(rk_cuda_global_avgpool(dt, dx.p, N, HW, C, dp.as<float>(), nullptr));
    snprintf(what, sizeof what, "global_avgpool N%d HW%d C%d", N, HW, C);
    report(what, dtype_name(dt), compare(download_as(dp, (size_t)N * C, RK_F32), pooled), 1e-5);
    CPU_CHECK(rk_cpu_fc(pooled.data(), N, C, w.data(), bias ? bs.data() : nullptr, K, ref.data()));
    dy.poison();
    LAB_CHECK(rk_cuda_global_avgpool_fc(dt, dx.p, N, HW, C, dw.as<float>(), bias ? db.as<float>() : nullptr, K,
                                        dy.as<float>(), nullptr));
    snprintf(what, sizeof what, "global_avgpool_fc N%d HW%d C%d K%d bias%d", N, HW, C, K, bias);
    report(what, dtype_name(dt), compare(download_as(dy, (size_t)N * K, RK_F32), ref), 1e-5);
  }
  // fc on fp32 features
  DevBuf dx;
  upload_as(dx, x, RK_F32);  // first N*C values serve as [N, C] features
  std::vector<float> feat(x.begin(), x.begin() + (size_t)N * C);
  CPU_CHECK(rk_cpu_fc(feat.data(), N, C, w.data(), bias ? bs.data() : nullptr, K, ref.data()));
  dy.poison();
  LAB_CHECK(rk_cuda_fc(dx.as<float>(), N, C, dw.as<float>(), bias ? db.as<float>() : nullptr, K, dy.as<float>(), nullptr));
  char what[96];
  snprintf(what, sizeof what, "fc N%d C%d K%d bias%d", N, C, K, bias);
  report(what, "f32", compare(download_as(dy, (size_t)N * K, RK_F32), ref), 1e-5);
}

// ------------------------------------------------------------------------------------------------ image input
// Taps of torch's antialiased bilinear resize (in -> resized), then `out` outputs from resized index `offset`
// (outside [0, resized): no taps = zero padding). The same definition as io.reskern.image.Taps (see there).
struct Taps1 {
  std::vector<int> start, count;
  std::vector<float> w;
  int k = 1;
};
static Taps1 aa_taps(int in, int resized, int out, int offset) {
  Taps1 t;
  const double scale = (double)in / resized, support = std::max(scale, 1.0), inv = 1.0 / support;
  std::vector<std::vector<double>> ws(out);
  t.start.assign(out, 0);
  t.count.assign(out, 0);
  for (int o = 0; o < out; o++) {
    const long long r = (long long)o + offset;
    if (r < 0 || r >= resized) continue;
    const double c = scale * (r + 0.5);
    const int lo = std::max((int)(c - support + 0.5), 0), hi = std::min((int)(c + support + 0.5), in);
    double tot = 0;
    std::vector<double> v;
    for (int i = lo; i < hi; i++) {
      v.push_back(std::max(0.0, 1.0 - std::fabs((i - c + 0.5) * inv)));
      tot += v.back();
    }
    int a = 0, b = (int)v.size();
    while (a < b && v[a] == 0) a++;
    while (b > a && v[b - 1] == 0) b--;
    for (int i = a; i < b; i++) ws[o].push_back(v[i] / tot);
    t.start[o] = lo + a;
    t.count[o] = b - a;
    t.k = std::max(t.k, b - a);
  }
  t.w.assign((size_t)out * t.k, 0.f);
  for (int o = 0; o < out; o++)
    for (size_t i = 0; i < ws[o].size(); i++) t.w[(size_t)o * t.k + i] = (float)ws[o][i];
  return t;
}
// torchvision Resize(shorter) + CenterCrop(P, Q) taps for an H x W image (shorter = 0: no resize).
static void image_taps(int H, int W, int shorter, int P, int Q, Taps1& ty, Taps1& tx) {
  int rh = H, rw = W;
  if (shorter > 0) {
    const int s = std::min(H, W), l = std::max(H, W);
    const int nl = (int)((double)shorter * l / s);
    if (W <= H) { rw = shorter; rh = nl; } else { rh = shorter; rw = nl; }
  }
  auto off = [](int size, int crop) { return crop > size ? -((crop - size) / 2) : (int)std::nearbyint((size - crop) / 2.0); };
  ty = aa_taps(H, rh, P, off(rh, P));
  tx = aa_taps(W, rw, Q, off(rw, Q));
}
// Taps + mean/std in one device block (as io.reskern.image.CudaImages packs them).
struct DevTaps {
  DevBuf buf;
  const int *ys, *ny, *xs, *nx;
  const float *wy, *wx, *mean, *sd;
  int ky, kx;
  DevTaps(const Taps1& ty, const Taps1& tx, const float* m, const float* s) {
    const size_t P = ty.start.size(), Q = tx.start.size();
    std::vector<uint32_t> w;
    auto put_i = [&](const std::vector<int>& v) { for (int e : v) w.push_back((uint32_t)e); };
    auto put_f = [&](const float* v, size_t n) { for (size_t i = 0; i < n; i++) { uint32_t u; memcpy(&u, &v[i], 4); w.push_back(u); } };
    put_i(ty.start); put_i(ty.count); put_i(tx.start); put_i(tx.count);
    put_f(ty.w.data(), ty.w.size()); put_f(tx.w.data(), tx.w.size()); put_f(m, 3); put_f(s, 3);
    buf.alloc(w.size() * 4);
    buf.upload(w.data(), w.size() * 4);
    const int* b = buf.as<int>();
    ys = b; ny = b + P; xs = b + 2 * P; nx = b + 2 * P + Q;
    wy = reinterpret_cast<const float*>(b + 2 * P + 2 * Q);
    wx = wy + P * ty.k; mean = wx + Q * tx.k; sd = mean + 3;
    ky = ty.k; kx = tx.k;
  }
};

static void check_resample(int H, int W, int ps, const int* off, int pad, int shorter, int P, int Q) {
  Rng r(H * 131 + W);
  const long long rs = (long long)W * ps + pad;
  std::vector<uint8_t> img((size_t)H * rs);
  for (auto& v : img) v = (uint8_t)(r.next() & 0xFF);
  Taps1 ty, tx;
  image_taps(H, W, shorter, P, Q, ty, tx);
  const float mean[3] = {0.485f, 0.456f, 0.406f}, sd[3] = {0.229f, 0.224f, 0.225f};
  std::vector<float> ref((size_t)P * Q * 3);
  CPU_CHECK(rk_cpu_resample_normalize_u8(img.data(), H, W, rs, ps, off[0], off[1], off[2], ty.start.data(),
                                         ty.count.data(), ty.w.data(), ty.k, tx.start.data(), tx.count.data(),
                                         tx.w.data(), tx.k, mean, sd, ref.data(), P, Q));
  DevBuf dimg(img.size());
  dimg.upload(img.data(), img.size());
  DevTaps dt(ty, tx, mean, sd);
  for (int dtp : kDts) {
    DevBuf dy(ref.size() * dsize(dtp) + 64);
    dy.poison();
    // write at a slot offset (as into a batch buffer): the element after the slot must stay poisoned
    const size_t slot = 3 * dsize(dtp);
    LAB_CHECK(rk_cuda_resample_normalize_u8(dimg.as<uint8_t>(), H, W, rs, ps, off[0], off[1], off[2], dt.ys, dt.ny, dt.wy,
                                            dt.ky, dt.xs, dt.nx, dt.wx, dt.kx, dt.mean, dt.sd, (char*)dy.p + slot, dtp,
                                            P, Q, nullptr));
    std::vector<uint8_t> b(ref.size() * dsize(dtp) + 2 * slot);
    dy.download(b.data(), b.size());
    std::vector<float> out(ref.size());
    for (size_t i = 0; i < out.size(); i++) out[i] = unpack1(&b[slot + i * dsize(dtp)], dtp);
    bool guard = true;
    for (size_t i = 0; i < 3; i++) {
      guard &= std::isnan(unpack1(&b[i * dsize(dtp)], dtp));
      guard &= std::isnan(unpack1(&b[slot + (ref.size() + i) * dsize(dtp)], dtp));
    }
    char what[120];
    snprintf(what, sizeof what, "resample_normalize_u8 %dx%d ps%d pad%d ->%d crop %dx%d (taps %dx%d)", H, W, ps, pad,
             shorter, P, Q, ty.k, tx.k);
    report(what, dtype_name(dtp), compare(out, rounded(ref, dtp)), dtp == RK_F32 ? 1e-6 : 1e-2);
    expect(guard, "  ... writes only its slot");
  }
}

static void check_resample_args() {
  const int z[8] = {0};
  const float f[8] = {0};
  int st = rk_cuda_resample_normalize_u8(nullptr, 4, 4, 12, 3, 0, 1, 2, z, z, f, 1, z, z, f, 1, f, f, (void*)16, RK_F32,
                                         2, 2, nullptr);
  expect(st == RK_ERR_INVALID_ARG, "resample_normalize_u8 null image -> RK_ERR_INVALID_ARG");
  st = rk_cuda_resample_normalize_u8((const uint8_t*)16, 4, 4, 12, 3, 0, 1, 3, z, z, f, 1, z, z, f, 1, f, f, (void*)16,
                                     RK_F32, 2, 2, nullptr);
  expect(st == RK_ERR_INVALID_ARG, "resample_normalize_u8 channel offset >= pixel stride -> RK_ERR_INVALID_ARG");
  st = rk_cuda_resample_normalize_u8((const uint8_t*)16, 4, 4, 11, 3, 0, 1, 2, z, z, f, 1, z, z, f, 1, f, f, (void*)16,
                                     RK_F32, 2, 2, nullptr);
  expect(st == RK_ERR_INVALID_ARG, "resample_normalize_u8 row stride < W * pixel stride -> RK_ERR_INVALID_ARG");
  st = rk_cuda_resample_normalize_u8((const uint8_t*)16, 4, 4, 12, 3, 0, 1, 2, z, z, f, 1, z, z, f, 1, f, f, (void*)16, 7,
                                     2, 2, nullptr);
  expect(st == RK_ERR_INVALID_ARG, "resample_normalize_u8 bad dtype -> RK_ERR_INVALID_ARG");
}

static void check_images(bool quick) {
  const int rgb[3] = {0, 1, 2}, bgr[3] = {2, 1, 0}, abgr[3] = {3, 2, 1}, gray[3] = {0, 0, 0};
  check_resample(37, 53, 3, rgb, 5, 29, 23, 27);    // downscale 1.x, odd sizes, padded rows
  check_resample(301, 213, 4, abgr, 3, 40, 36, 32);  // downscale > 4x
  check_resample(419, 97, 1, gray, 11, 21, 19, 17);  // > 4x, portrait, gray
  check_resample(13, 9, 3, bgr, 1, 40, 36, 32);     // upscale
  check_resample(20, 15, 3, bgr, 0, 0, 24, 12);     // no resize, zero-padded rows
  check_resample(1, 1, 3, rgb, 0, 5, 5, 5);         // 1 pixel
  if (!quick) check_resample(375, 500, 3, bgr, 0, 256, 224, 224);  // ImageNet eval transform
  check_resample_args();
}

// ------------------------------------------------------------------------------------------------ timing
static void bench() {
  Timer timer;
  const double peak_gbs = 3000;
  printf("\n== timing at ResNet-50 batch-256 sizes (median of 20, L2 flushed; %% of %.0f GB/s)\n", peak_gbs);
  auto row = [&](const char* what, double bytes, double ms) {
    printf("%-52s %9.1f us %7.0f GB/s %5.1f%%\n", what, ms * 1e3, bytes / (ms * 1e-3) / 1e9, 100 * bytes / (ms * 1e-3) / 1e9 / peak_gbs);
  };
  const int N = 256;
  {  // input stage
    const size_t n = (size_t)N * 3 * 224 * 224;
    DevBuf x(n * 4), y(n * 4), img(n);
    LAB_CHECK(rk_cuda_memset(x.p, 0x3c, n * 4, nullptr));  // finite, non-zero fp32 pattern
    LAB_CHECK(rk_cuda_memset(img.p, 0x5a, n, nullptr));
    row("convert f32->f16 256x224x224x3", n * 6.0, timer.median_ms([&] { return rk_cuda_convert(x.p, RK_F32, y.p, RK_F16, (long long)n, nullptr); }, 3, 20));
    row("nchw_to_nhwc f32->f16 256x3x224x224", n * 6.0, timer.median_ms([&] { return rk_cuda_nchw_to_nhwc(x.as<float>(), N, 3, 224, 224, y.p, RK_F16, nullptr); }, 3, 20));
    float mean[3] = {0.485f, 0.456f, 0.406f}, sd[3] = {0.229f, 0.224f, 0.225f};
    row("preprocess_u8 ->f16 256x224x224x3", n * 3.0, timer.median_ms([&] { return rk_cuda_preprocess_u8(img.as<uint8_t>(), N, 224, 224, mean, sd, y.p, RK_F16, nullptr); }, 3, 20));
  }
  {  // image input: one 500x375 JPEG-sized BGR image -> 256 -> 224x224 (what a predictor launches per image)
    const int H = 375, W = 500, P = 224, Q = 224;
    Taps1 ty, tx;
    image_taps(H, W, 256, P, Q, ty, tx);
    const float mean[3] = {0.485f, 0.456f, 0.406f}, sd[3] = {0.229f, 0.224f, 0.225f};
    DevTaps dt(ty, tx, mean, sd);
    DevBuf img((size_t)H * W * 3), y((size_t)N * P * Q * 3 * 2);
    LAB_CHECK(rk_cuda_memset(img.p, 0x5a, img.bytes, nullptr));
    const double bytes = (double)H * W * 3 + (double)P * Q * 3 * 2;
    const double ms = timer.median_ms([&] { return rk_cuda_resample_normalize_u8(img.as<uint8_t>(), H, W, W * 3, 3, 2, 1, 0, dt.ys, dt.ny, dt.wy, dt.ky, dt.xs, dt.nx, dt.wx, dt.kx, dt.mean, dt.sd, y.p, RK_F16, P, Q, nullptr); }, 3, 20);
    row("resample_normalize_u8 500x375 ->256 ->224 f16 (1 image)", bytes, ms);
    const double msb = timer.median_ms([&] {
      for (int n = 0; n < N; n++) {
        int st = rk_cuda_resample_normalize_u8(img.as<uint8_t>(), H, W, W * 3, 3, 2, 1, 0, dt.ys, dt.ny, dt.wy, dt.ky, dt.xs, dt.nx, dt.wx, dt.kx, dt.mean, dt.sd, (char*)y.p + (size_t)n * P * Q * 3 * 2, RK_F16, P, Q, nullptr);
        if (st != RK_OK) return st;
      }
      return (int)RK_OK; }, 1, 5);
    row("  same, 256 launches into a batch buffer", bytes * N, msb);
    printf("%-52s %9s    %7.0f images/s\n", "  (256 launches)", "", N / (msb * 1e-3));
  }
  {  // activations
    const size_t n = (size_t)N * 56 * 56 * 256;
    DevBuf a(n * 2), b(n * 2), y(n * 2), sc(256 * 4), sh(256 * 4);
    LAB_CHECK(rk_cuda_memset(a.p, 0x3c, n * 2, nullptr));
    LAB_CHECK(rk_cuda_memset(b.p, 0xbc, n * 2, nullptr));
    LAB_CHECK(rk_cuda_memset(sc.p, 0x3f, 1024, nullptr));
    LAB_CHECK(rk_cuda_memset(sh.p, 0x3e, 1024, nullptr));
    row("bn_relu f16 256x56x56x256", n * 4.0, timer.median_ms([&] { return rk_cuda_bn_relu(RK_F16, a.p, (long long)N * 56 * 56, 256, sc.as<float>(), sh.as<float>(), 1, y.p, nullptr); }, 3, 20));
    row("add_relu f16 256x56x56x256", n * 6.0, timer.median_ms([&] { return rk_cuda_add_relu(RK_F16, a.p, b.p, (long long)n, 1, y.p, nullptr); }, 3, 20));
    const size_t nm = (size_t)N * 112 * 112 * 64, nmo = (size_t)N * 56 * 56 * 64;
    row("maxpool 3x3/2 f16 256x112x112x64", (nm + nmo) * 2.0, timer.median_ms([&] { return rk_cuda_maxpool2d(RK_F16, a.p, N, 112, 112, 64, 3, 3, 2, 1, 1, y.p, 56, 56, nullptr); }, 3, 20));
    row("avgpool 2x2/2 f16 256x56x56x256 (v1d)", (n + n / 4) * 2.0, timer.median_ms([&] { return rk_cuda_avgpool2d(RK_F16, a.p, N, 56, 56, 256, 2, 2, 2, 0, 0, 0, y.p, 28, 28, nullptr); }, 3, 20));
    const size_t nh = (size_t)N * 49 * 2048;
    DevBuf w((size_t)1000 * 2048 * 4), bias(4000), out((size_t)N * 2048 * 4);
    LAB_CHECK(rk_cuda_memset(w.p, 0x3c, w.bytes, nullptr));
    LAB_CHECK(rk_cuda_memset(bias.p, 0x3c, bias.bytes, nullptr));
    row("global_avgpool f16 256x49x2048", nh * 2.0 + N * 2048 * 4.0, timer.median_ms([&] { return rk_cuda_global_avgpool(RK_F16, a.p, N, 49, 2048, out.as<float>(), nullptr); }, 3, 20));
    const double gbytes = nh * 2.0 + 1000 * 2048 * 4.0 + N * 1000 * 4.0;
    const double ms1 = timer.median_ms([&] { return rk_cuda_global_avgpool_fc(RK_F16, a.p, N, 49, 2048, w.as<float>(), bias.as<float>(), 1000, y.as<float>(), nullptr); }, 3, 20);
    row("global_avgpool_fc f16 256x49x2048 -> 1000", gbytes, ms1);
    printf("%-52s %9s    %7.1f TF/s\n", "   (fc part: 2*256*2048*1000 FLOP)", "", 2.0 * N * 2048 * 1000 / (ms1 * 1e-3) / 1e12);
    const double ms2 = timer.median_ms([&] { return rk_cuda_fc(out.as<float>(), N, 2048, w.as<float>(), bias.as<float>(), 1000, y.as<float>(), nullptr); }, 3, 20);
    row("fc f32 256x2048 -> 1000", N * 2048 * 4.0 + 1000 * 2048 * 4.0 + N * 1000 * 4.0, ms2);
    const double ms3 = timer.median_ms([&] { return rk_cuda_global_avgpool_fc(RK_F16, a.p, 1, 49, 2048, w.as<float>(), bias.as<float>(), 1000, y.as<float>(), nullptr); }, 3, 20);
    row("global_avgpool_fc f16 batch 1", 49 * 2048 * 2.0 + 1000 * 2048 * 4.0, ms3);
  }
}

int main(int argc, char** argv) {
  const bool quick = has_flag(argc, argv, "--quick");
  int sms = 0, major = 0, minor = 0;
  if (!init_device(&sms, &major, &minor)) return 2;
  printf("\n== runtime\n");
  check_runtime();
  printf("\n== ops vs libreskern_cpu\n");
  check_convert(quick ? 1001 : 1000003);
  check_layout(2, 3, 37, 29);
  if (!quick) check_layout(2, 64, 14, 14);
  check_bn_add(quick ? 37 : 1000, 64);
  check_bn_add(quick ? 37 : 1000, 3);
  check_pools(2, 17, 15, 64);
  check_pools(1, 9, 9, 3);
  check_head(3, 49, quick ? 256 : 2048, quick ? 100 : 1000, true);
  if (!quick) check_head(70, 49, 512, 100, false);
  check_head(2, 1, 64, 10, false);
  printf("\n== image input vs libreskern_cpu\n");
  check_images(quick);
  if (!quick) bench();
  printf("\n%s: %d check(s) failed\n", g_failures ? "FAILED" : "PASSED", g_failures);
  return g_failures ? 1 : 0;
}
