// Shared helpers of the kernel labs (llm.c dev/cuda/common.h style): checks, host RNG, dtype rounding on the host,
// relative-error validation, device buffers through the reskern ABI, event timing with an L2 flush.
// Labs talk to the GPU only through libreskern_cuda (one CUDA runtime in play), never through their own kernels.
#pragma once
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
#include "reskern_cpu.h"
#include "reskern_cuda.h"

// A failing library call in setup code: print and exit 2 (setup/no-GPU problems are not check failures).
#define LAB_CHECK(call)                                                                                   \
  do {                                                                                                    \
    int lab_st_ = (call);                                                                                 \
    if (lab_st_ != RK_OK) {                                                                               \
      fprintf(stderr, "%s:%d: %s -> status %d: %s\n", __FILE__, __LINE__, #call, lab_st_, rk_cuda_last_error()); \
      exit(2);                                                                                            \
    }                                                                                                     \
  } while (0)
#define CPU_CHECK(call)                                                                                  \
  do {                                                                                                   \
    int lab_st_ = (call);                                                                                \
    if (lab_st_ != RK_OK) {                                                                              \
      fprintf(stderr, "%s:%d: %s -> status %d: %s\n", __FILE__, __LINE__, #call, lab_st_, rk_cpu_last_error()); \
      exit(2);                                                                                           \
    }                                                                                                    \
  } while (0)

namespace lab {

inline const char* dtype_name(int dt) { return dt == RK_F32 ? "f32" : dt == RK_F16 ? "f16" : "bf16"; }
inline size_t dsize(int dt) { return dt == RK_F32 ? 4 : 2; }

// ---- host RNG (xorshift64*), uniform in [lo, hi) ----
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t next() { s ^= s >> 12; s ^= s << 25; s ^= s >> 27; return s * 2685821657736338717ull; }
  float uni(float lo, float hi) { return lo + (hi - lo) * static_cast<float>((next() >> 40) * (1.0 / 16777216.0)); }
  // j/64, j uniform in [-64, 64]: exact in fp32, tf32, f16 and bf16, so one fp32 reference serves all dtypes.
  float q() { return static_cast<float>(static_cast<int>(next() % 129) - 64) / 64.f; }
};
inline std::vector<float> rand_vec(size_t n, Rng& r, float lo = -1.f, float hi = 1.f) {
  std::vector<float> v(n);
  for (auto& e : v) e = r.uni(lo, hi);
  return v;
}
inline std::vector<float> rand_q(size_t n, Rng& r) {
  std::vector<float> v(n);
  for (auto& e : v) e = r.q();
  return v;
}

// ---- host dtype rounding / packing ----
inline float round_to(float v, int dt) {
  if (dt == RK_F16) return __half2float(__float2half_rn(v));
  if (dt == RK_BF16) return __bfloat162float(__float2bfloat16_rn(v));
  return v;
}
inline std::vector<uint8_t> pack(const std::vector<float>& v, int dt) {
  std::vector<uint8_t> out(v.size() * dsize(dt));
  for (size_t i = 0; i < v.size(); i++) {
    if (dt == RK_F32) memcpy(&out[i * 4], &v[i], 4);
    else if (dt == RK_F16) { __half h = __float2half_rn(v[i]); memcpy(&out[i * 2], &h, 2); }
    else { __nv_bfloat16 h = __float2bfloat16_rn(v[i]); memcpy(&out[i * 2], &h, 2); }
  }
  return out;
}
inline float unpack1(const uint8_t* p, int dt) {
  if (dt == RK_F32) { float f; memcpy(&f, p, 4); return f; }
  if (dt == RK_F16) { __half h; memcpy(&h, p, 2); return __half2float(h); }
  __nv_bfloat16 h; memcpy(&h, p, 2); return __bfloat162float(h);
}
inline std::vector<float> unpack(const std::vector<uint8_t>& b, int dt) {
  std::vector<float> v(b.size() / dsize(dt));
  for (size_t i = 0; i < v.size(); i++) v[i] = unpack1(&b[i * dsize(dt)], dt);
  return v;
}

// ---- device buffer through the ABI ----
struct DevBuf {
  void* p = nullptr;
  size_t bytes = 0;
  DevBuf() = default;
  explicit DevBuf(size_t n) { alloc(n); }
  void alloc(size_t n) {
    free_();
    bytes = n;
    LAB_CHECK(rk_cuda_malloc(&p, n ? n : 16));
  }
  void free_() { if (p) rk_cuda_free(p); p = nullptr; bytes = 0; }
  ~DevBuf() { free_(); }
  DevBuf(const DevBuf&) = delete;
  DevBuf& operator=(const DevBuf&) = delete;
  template <typename T> T* as() const { return static_cast<T*>(p); }
  void upload(const void* h, size_t n) { LAB_CHECK(rk_cuda_memcpy_h2d(p, h, n, nullptr)); LAB_CHECK(rk_cuda_stream_synchronize(nullptr)); }
  void download(void* h, size_t n) const { LAB_CHECK(rk_cuda_memcpy_d2h(h, p, n, nullptr)); LAB_CHECK(rk_cuda_stream_synchronize(nullptr)); }
  // 0xFF..: NaN in f32, f16 and bf16. Synchronized like upload(): the legacy stream is not ordered with the labs'
  // non-blocking streams, so an unsynchronized poison could land after the kernel that writes the buffer.
  void poison() { LAB_CHECK(rk_cuda_memset(p, 0xFF, bytes, nullptr)); LAB_CHECK(rk_cuda_stream_synchronize(nullptr)); }
};
inline void upload_as(DevBuf& d, const std::vector<float>& v, int dt) {
  auto b = pack(v, dt);
  d.alloc(b.size());
  d.upload(b.data(), b.size());
}
inline std::vector<float> download_as(const DevBuf& d, size_t n, int dt) {
  std::vector<uint8_t> b(n * dsize(dt));
  d.download(b.data(), b.size());
  return unpack(b, dt);
}

// ---- validation: ||out - ref|| / ||ref|| (double); any NaN/Inf in out where ref is finite fails ----
struct Cmp {
  double rel = 0;
  size_t bad = 0;      // non-finite outputs where the reference is finite (or NaN placement differs)
  long long first = -1;
  bool ok(double tol) const { return bad == 0 && rel <= tol; }
};
inline Cmp compare(const std::vector<float>& out, const std::vector<float>& ref) {
  Cmp c;
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); i++) {
    const bool rn = std::isnan(ref[i]), on = std::isnan(out[i]);
    if (rn || on || std::isinf(ref[i]) || std::isinf(out[i])) {
      // non-finite: must match exactly (same NaN-ness, same infinity)
      const bool same = (rn && on) || (!rn && !on && ref[i] == out[i]);
      if (!same) { if (c.first < 0) c.first = static_cast<long long>(i); c.bad++; }
      continue;
    }
    const double d = static_cast<double>(out[i]) - ref[i];
    num += d * d;
    den += static_cast<double>(ref[i]) * ref[i];
    if (c.first < 0 && std::fabs(d) > 1e-2 * (std::fabs(ref[i]) + 1.0)) c.first = static_cast<long long>(i);
  }
  c.rel = den > 0 ? std::sqrt(num / den) : std::sqrt(num);
  return c;
}

// ---- timing: CUDA events around one call, L2 flushed before each repetition; median ----
struct Timer {
  void* ev0 = nullptr;
  void* ev1 = nullptr;
  DevBuf flush;
  Timer() {
    LAB_CHECK(rk_cuda_event_create(&ev0));
    LAB_CHECK(rk_cuda_event_create(&ev1));
    flush.alloc(256ull << 20);  // > 2x the 50 MB L2 of H100/H200
  }
  ~Timer() { rk_cuda_event_destroy(ev0); rk_cuda_event_destroy(ev1); }
  // Returns the median in ms; f() issues the work on the default stream and returns a status.
  template <typename F> double median_ms(F&& f, int warmup, int reps) {
    for (int i = 0; i < warmup; i++) LAB_CHECK(f());
    LAB_CHECK(rk_cuda_stream_synchronize(nullptr));
    std::vector<double> t;
    for (int i = 0; i < reps; i++) {
      LAB_CHECK(rk_cuda_memset(flush.p, i & 0xFF, flush.bytes, nullptr));
      LAB_CHECK(rk_cuda_event_record(ev0, nullptr));
      LAB_CHECK(f());
      LAB_CHECK(rk_cuda_event_record(ev1, nullptr));
      LAB_CHECK(rk_cuda_stream_synchronize(nullptr));
      float ms = 0;
      LAB_CHECK(rk_cuda_event_elapsed_ms(ev0, ev1, &ms));
      t.push_back(ms);
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
  }
};

// Prints device info; returns false (after a message) when there is no usable GPU.
inline bool init_device(int* sms, int* cc_major, int* cc_minor) {
  int rt = 0, drv = 0, n = 0;
  rk_cuda_versions(&rt, &drv);
  int st = rk_cuda_device_count(&n);
  if (st != RK_OK) {
    fprintf(stderr, "no usable CUDA device (status %d): %s\n(runtime %d, driver %d) -- nothing to test here\n", st,
            rk_cuda_last_error(), rt, drv);
    return false;
  }
  char name[256] = {0};
  long long tot = 0, fr = 0;
  LAB_CHECK(rk_cuda_device_info(0, name, sizeof name, cc_major, cc_minor, sms, &tot, &fr));
  LAB_CHECK(rk_cuda_set_device(0));
  printf("device 0: %s, cc %d.%d, %d SMs, %.1f GiB (%.1f free); runtime %d, driver %d\n", name, *cc_major, *cc_minor,
         *sms, tot / 1073741824.0, fr / 1073741824.0, rt, drv);
  return true;
}

inline bool has_flag(int argc, char** argv, const char* f) {
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], f)) return true;
  return false;
}
inline const char* flag_value(int argc, char** argv, const char* f) {
  for (int i = 1; i + 1 < argc; i++)
    if (!strcmp(argv[i], f)) return argv[i + 1];
  return nullptr;
}

}  // namespace lab
