// Naive reference implementations of the reskern_cpu.h ops (the original straightforward library code,
// accumulating in double where there is a reduction). Used by the CPU lab to validate the optimised kernels.
// Weights here are plain KRSC [K][R][S][C/groups] (not packed).
#ifndef RESKERN_CPU_REFERENCE_H
#define RESKERN_CPU_REFERENCE_H
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include "reskern_cpu.h"

namespace ref {

inline void conv2d(const float* x, int N, int H, int W, int C, const float* w, int K, int R, int S, int stride,
                   int pad_h, int pad_w, int groups, const float* scale, const float* shift, const float* res,
                   int res_mode, int res_h, int res_w, int res_c, int relu, double* y, int P, int Q) {
  const int cg = C / groups, kg = K / groups, apad = (K - res_c) / 2;
  for (int n = 0; n < N; n++)
    for (int p = 0; p < P; p++)
      for (int q = 0; q < Q; q++)
        for (int k = 0; k < K; k++) {
          const int g = k / kg;
          double acc = 0;
          for (int r = 0; r < R; r++) {
            const int hi = p * stride - pad_h + r;
            if (hi < 0 || hi >= H) continue;
            for (int s = 0; s < S; s++) {
              const int wi = q * stride - pad_w + s;
              if (wi < 0 || wi >= W) continue;
              const float* xp = x + (((size_t)n * H + hi) * W + wi) * C + (size_t)g * cg;
              const float* wp = w + (((size_t)k * R + r) * S + s) * cg;
              for (int c = 0; c < cg; c++) acc += (double)xp[c] * wp[c];
            }
          }
          double v = acc * (scale ? scale[k] : 1.0) + (shift ? shift[k] : 0.0);
          const size_t yi = (((size_t)n * P + p) * Q + q) * K + k;
          if (res_mode == RK_RES_IDENTITY) v += res[yi];
          else if (res_mode == RK_RES_OPTION_A) {
            const int kc = k - apad;
            if (kc >= 0 && kc < res_c) v += res[(((size_t)n * res_h + 2 * p) * res_w + 2 * q) * res_c + kc];
          }
          y[yi] = relu && v < 0 ? 0 : v;
        }
}

inline void maxpool2d(const float* x, int N, int H, int W, int C, int kh, int kw, int stride, int pad_h, int pad_w,
                      float* y, int P, int Q) {
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
}

inline void avgpool2d(const float* x, int N, int H, int W, int C, int kh, int kw, int stride, int pad_h, int pad_w,
                      int count_include_pad, double* y, int P, int Q) {
  for (int n = 0; n < N; n++)
    for (int p = 0; p < P; p++)
      for (int q = 0; q < Q; q++) {
        const int h0 = p * stride - pad_h, w0 = q * stride - pad_w;
        const int h1 = std::min(h0 + kh, H + pad_h), w1 = std::min(w0 + kw, W + pad_w);
        const int pool = (h1 - h0) * (w1 - w0);
        const int hs = std::max(h0, 0), ws = std::max(w0, 0), he = std::min(h1, H), we = std::min(w1, W);
        const int cnt = count_include_pad ? pool : (he - hs) * (we - ws);
        for (int c = 0; c < C; c++) {
          double acc = 0;
          for (int hi = hs; hi < he; hi++)
            for (int wi = ws; wi < we; wi++) acc += x[(((size_t)n * H + hi) * W + wi) * C + c];
          y[(((size_t)n * P + p) * Q + q) * C + c] = cnt > 0 ? acc / cnt : 0.0;
        }
      }
}

inline void global_avgpool(const float* x, int N, int HW, int C, double* y) {
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++) {
      double acc = 0;
      for (int i = 0; i < HW; i++) acc += x[((size_t)n * HW + i) * C + c];
      y[(size_t)n * C + c] = acc / HW;
    }
}

inline void fc(const float* x, int N, int C, const float* w, const float* bias, int K, double* y) {
  for (int n = 0; n < N; n++)
    for (int k = 0; k < K; k++) {
      double acc = bias ? bias[k] : 0.0;
      for (int c = 0; c < C; c++) acc += (double)x[(size_t)n * C + c] * w[(size_t)k * C + c];
      y[(size_t)n * K + k] = acc;
    }
}

}  // namespace ref
#endif
