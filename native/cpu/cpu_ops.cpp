// reskern CPU ops: straightforward, correct implementations of reskern_cpu.h (the baseline the optimised
// kernels replace; the float64 references live in the Java tests).
#include "reskern_cpu.h"
#include <omp.h>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <cstdarg>

static thread_local std::string g_err;
static rk_status fail(rk_status s, const char* fmt, ...) {
  char buf[512];
  va_list ap; va_start(ap, fmt); vsnprintf(buf, sizeof buf, fmt, ap); va_end(ap);
  g_err = buf;
  return s;
}
#define RK_REQUIRE(cond, ...) do { if (!(cond)) return fail(RK_ERR_INVALID_ARG, __VA_ARGS__); } while (0)

static int g_threads = 0;

extern "C" {
const char* rk_cpu_last_error(void) { return g_err.c_str(); }
const char* rk_cpu_version(void) { return "reskern-cpu 0.1.0"; }
int rk_cpu_features(void) {
  int f = 0;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) f |= 1;
  if (__builtin_cpu_supports("avx512f")) f |= 2;
  return f;
}
const char* rk_cpu_kernel_isa(void) { return "scalar"; }
void rk_cpu_set_threads(int n) { g_threads = n > 0 ? n : 0; omp_set_num_threads(n > 0 ? n : omp_get_num_procs()); }
int rk_cpu_get_threads(void) { return g_threads > 0 ? g_threads : omp_get_max_threads(); }

size_t rk_cpu_conv_packed_size(int K, int C, int R, int S, int groups) {
  if (K <= 0 || C <= 0 || R <= 0 || S <= 0 || groups <= 0 || C % groups) return 0;
  return (size_t)K * R * S * (C / groups);
}
rk_status rk_cpu_conv_pack(const float* w, int K, int C, int R, int S, int groups, float* packed) {
  size_t n = rk_cpu_conv_packed_size(K, C, R, S, groups);
  RK_REQUIRE(n && w && packed, "conv_pack: bad arguments K=%d C=%d R=%d S=%d groups=%d", K, C, R, S, groups);
  memcpy(packed, w, n * sizeof(float));
  return RK_OK;
}

rk_status rk_cpu_conv2d(const float* x, int N, int H, int W, int C, const float* w, int K, int R, int S, int stride,
                        int pad_h, int pad_w, int groups, const float* scale, const float* shift, const float* res,
                        int res_mode, int res_h, int res_w, int res_c, int relu, float* y, int P, int Q) {
  RK_REQUIRE(x && w && y, "conv2d: null tensor");
  RK_REQUIRE(N > 0 && H > 0 && W > 0 && C > 0 && K > 0 && R > 0 && S > 0 && stride > 0 && P > 0 && Q > 0,
             "conv2d: non-positive size");
  RK_REQUIRE(groups > 0 && C % groups == 0 && K % groups == 0, "conv2d: groups=%d must divide C=%d and K=%d", groups, C, K);
  RK_REQUIRE(res_mode >= RK_RES_NONE && res_mode <= RK_RES_OPTION_A, "conv2d: bad res_mode %d", res_mode);
  if (res_mode != RK_RES_NONE) RK_REQUIRE(res, "conv2d: null residual");
  if (res_mode == RK_RES_OPTION_A)
    RK_REQUIRE(res_c <= K && res_h >= 2 * P - 1 && res_w >= 2 * Q - 1, "conv2d: option-A residual shape");
  const int cg = C / groups, kg = K / groups;
  const int apad = (K - res_c) / 2;
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < N; n++)
    for (int p = 0; p < P; p++)
      for (int q = 0; q < Q; q++)
        for (int k = 0; k < K; k++) {
          const int g = k / kg;
          float acc = 0.f;
          for (int r = 0; r < R; r++) {
            const int hi = p * stride - pad_h + r;
            if (hi < 0 || hi >= H) continue;
            for (int s = 0; s < S; s++) {
              const int wi = q * stride - pad_w + s;
              if (wi < 0 || wi >= W) continue;
              const float* xp = x + (((size_t)n * H + hi) * W + wi) * C + (size_t)g * cg;
              const float* wp = w + (((size_t)k * R + r) * S + s) * cg;
              for (int c = 0; c < cg; c++) acc += xp[c] * wp[c];
            }
          }
          float v = acc * (scale ? scale[k] : 1.f) + (shift ? shift[k] : 0.f);
          const size_t yi = (((size_t)n * P + p) * Q + q) * K + k;
          if (res_mode == RK_RES_IDENTITY) v += res[yi];
          else if (res_mode == RK_RES_OPTION_A) {
            const int kc = k - apad;
            if (kc >= 0 && kc < res_c) v += res[(((size_t)n * res_h + 2 * p) * res_w + 2 * q) * res_c + kc];
          }
          y[yi] = relu && v < 0.f ? 0.f : v;
        }
  return RK_OK;
}

rk_status rk_cpu_bn_relu(const float* x, long long M, int C, const float* scale, const float* shift, int relu, float* y) {
  RK_REQUIRE(x && y && scale && shift && M >= 0 && C > 0, "bn_relu: bad arguments");
#pragma omp parallel for schedule(static)
  for (long long i = 0; i < M; i++)
    for (int c = 0; c < C; c++) {
      float v = scale[c] * x[i * C + c] + shift[c];
      y[i * C + c] = relu && v < 0.f ? 0.f : v;
    }
  return RK_OK;
}

rk_status rk_cpu_add_relu(const float* a, const float* b, long long count, int relu, float* y) {
  RK_REQUIRE(a && b && y && count >= 0, "add_relu: bad arguments");
#pragma omp parallel for schedule(static)
  for (long long i = 0; i < count; i++) {
    float v = a[i] + b[i];
    y[i] = relu && v < 0.f ? 0.f : v;
  }
  return RK_OK;
}

rk_status rk_cpu_maxpool2d(const float* x, int N, int H, int W, int C, int kh, int kw, int stride, int pad_h, int pad_w,
                           float* y, int P, int Q) {
  RK_REQUIRE(x && y && N > 0 && H > 0 && W > 0 && C > 0 && kh > 0 && kw > 0 && stride > 0 && P > 0 && Q > 0,
             "maxpool2d: bad arguments");
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < N; n++)
    for (int p = 0; p < P; p++)
      for (int q = 0; q < Q; q++)
        for (int c = 0; c < C; c++) {
          float m = -std::numeric_limits<float>::infinity();
          for (int r = 0; r < kh; r++) {
            int hi = p * stride - pad_h + r;
            if (hi < 0 || hi >= H) continue;
            for (int s = 0; s < kw; s++) {
              int wi = q * stride - pad_w + s;
              if (wi < 0 || wi >= W) continue;
              float v = x[(((size_t)n * H + hi) * W + wi) * C + c];
              if (v > m || std::isnan(v)) m = v;
            }
          }
          y[(((size_t)n * P + p) * Q + q) * C + c] = m;
        }
  return RK_OK;
}

rk_status rk_cpu_avgpool2d(const float* x, int N, int H, int W, int C, int kh, int kw, int stride, int pad_h, int pad_w,
                           int count_include_pad, float* y, int P, int Q) {
  RK_REQUIRE(x && y && N > 0 && H > 0 && W > 0 && C > 0 && kh > 0 && kw > 0 && stride > 0 && P > 0 && Q > 0,
             "avgpool2d: bad arguments");
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < N; n++)
    for (int p = 0; p < P; p++)
      for (int q = 0; q < Q; q++) {
        const int h0 = p * stride - pad_h, w0 = q * stride - pad_w;
        const int h1 = std::min(h0 + kh, H + pad_h), w1 = std::min(w0 + kw, W + pad_w);
        const int pool = (h1 - h0) * (w1 - w0);
        const int hs = std::max(h0, 0), ws = std::max(w0, 0), he = std::min(h1, H), we = std::min(w1, W);
        const int cnt = count_include_pad ? pool : (he - hs) * (we - ws);
        for (int c = 0; c < C; c++) {
          float acc = 0.f;
          for (int hi = hs; hi < he; hi++)
            for (int wi = ws; wi < we; wi++) acc += x[(((size_t)n * H + hi) * W + wi) * C + c];
          y[(((size_t)n * P + p) * Q + q) * C + c] = cnt > 0 ? acc / cnt : 0.f;
        }
      }
  return RK_OK;
}

rk_status rk_cpu_global_avgpool(const float* x, int N, int HW, int C, float* y) {
  RK_REQUIRE(x && y && N > 0 && HW > 0 && C > 0, "global_avgpool: bad arguments");
  for (int n = 0; n < N; n++) {
    float* yn = y + (size_t)n * C;
    for (int c = 0; c < C; c++) yn[c] = 0.f;
    for (int i = 0; i < HW; i++)
      for (int c = 0; c < C; c++) yn[c] += x[((size_t)n * HW + i) * C + c];
    for (int c = 0; c < C; c++) yn[c] /= HW;
  }
  return RK_OK;
}

rk_status rk_cpu_fc(const float* x, int N, int C, const float* w, const float* bias, int K, float* y) {
  RK_REQUIRE(x && w && y && N > 0 && C > 0 && K > 0, "fc: bad arguments");
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < N; n++)
    for (int k = 0; k < K; k++) {
      float acc = bias ? bias[k] : 0.f;
      for (int c = 0; c < C; c++) acc += x[(size_t)n * C + c] * w[(size_t)k * C + c];
      y[(size_t)n * K + k] = acc;
    }
  return RK_OK;
}

rk_status rk_cpu_nchw_to_nhwc(const float* x, int N, int C, int H, int W, float* y) {
  RK_REQUIRE(x && y && N > 0 && C > 0 && H > 0 && W > 0 && x != y, "nchw_to_nhwc: bad arguments");
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++)
      for (int h = 0; h < H; h++)
        for (int w = 0; w < W; w++)
          y[(((size_t)n * H + h) * W + w) * C + c] = x[(((size_t)n * C + c) * H + h) * W + w];
  return RK_OK;
}

rk_status rk_cpu_preprocess_u8(const uint8_t* x, int N, int H, int W, const float* mean, const float* std, float* y) {
  RK_REQUIRE(x && y && mean && std && N > 0 && H > 0 && W > 0, "preprocess_u8: bad arguments");
  const size_t px = (size_t)N * H * W;
  for (size_t i = 0; i < px; i++)
    for (int c = 0; c < 3; c++) y[i * 3 + c] = (x[i * 3 + c] / 255.f - mean[c]) / std[c];
  return RK_OK;
}
}  // extern "C"
