// Host emulation of the CUDA features the reskern conv kernels use, so that the *real kernel source* can be
// executed and checked on a machine without a GPU (g++; one CTA at a time; one emulated thread per CUDA thread).
//
//  - Engine: by default the threads of a CTA are fibers (user-level contexts, switched by emu_fiber_switch in
//    fake_cudart.cpp) on the OS thread that launched the kernel: a barrier is a yield, so a CTA of 256 threads
//    costs no OS threads and no futexes. A barrier that can never complete (divergent __syncthreads) aborts with a
//    message instead of hanging. With -DRK_EMU_OS_THREADS (run_emu.sh --tsan) each CUDA thread is a std::thread
//    instead, so that ThreadSanitizer sees the threads of a CTA as concurrent (a racecheck stand-in).
//  - threadIdx / blockIdx are thread_local (set per fiber on every switch); __syncthreads() is a CTA barrier. Between
//    barriers each thread runs alone, in thread order (RK_EMU_ORDER=forward, default), reverse or shuffled order:
//    a shared-memory write and another thread's read with no barrier between them give the right answer in one order
//    only (run_emu.sh runs forward and reverse).
//  - Launch limits as on sm_90: <= 1024 threads, gridDim.y/z <= 65535, dynamic shared memory <= 227 KB and above
//    48 KB only after cudaFuncSetAttribute(kernel, MaxDynamicSharedMemorySize, >= it) on the current device
//    (otherwise the launch fails with cudaErrorInvalidValue, as on a GPU).
//  - Warp-collective PTX (ldmatrix.x4, mma.sync m16n8k16 f16/bf16 and m16n8k8 tf32) is emulated from the fragment
//    layouts of the PTX ISA ("Matrix Fragments for mma.m16n8k16 / m16n8k8", "ldmatrix"): the 32 lanes deposit
//    their operands and meet at a warp barrier; the last lane to arrive computes every lane's result from the
//    whole warp's data; each lane then takes its own.
//  - cp.async: copies are queued per thread and land at cp.async.wait_group (mode Deferred: latest legal moment,
//    catches missing waits) or immediately at issue (mode Eager: earliest moment, catches write-after-read hazards).
//  - Shared memory is filled with 0xFF (NaN in every dtype) before each CTA, so reads of unwritten smem show up.
//  - Built with -fsanitize=address, every global-memory access of the kernels is bounds-checked by ASan.
//  - One kernel runs at a time in the process (a global launch lock): host threads may launch concurrently.
// Not emulated: timing, occupancy, bank conflicts, register and static shared-memory limits (the build checks those
// and spills from ptxas's report: native/cuda/tools/check_resources.py), the real tensor-core rounding order.
#pragma once
#define RK_EMULATE 1
#include <cuda_runtime.h>
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#ifdef __launch_bounds__
#undef __launch_bounds__
#endif
#define __launch_bounds__(...)
// __shared__: the tensor-core kernel's `extern __shared__ unsigned char smem[]` must name one global buffer (empty
// macro); every other kernel declares fixed-size __shared__ arrays, which become function statics shared by the
// CTA's threads (CTAs run one at a time). The build compiles conv_tc_*.cu without, everything else with,
// -DEMU_SHARED_STATIC.
#undef __shared__
#ifdef EMU_SHARED_STATIC
#define __shared__ static
#else
#define __shared__
#endif

inline thread_local uint3 threadIdx;
inline thread_local uint3 blockIdx;
inline dim3 blockDim, gridDim;

inline float __uint_as_float(unsigned u) { float f; memcpy(&f, &u, 4); return f; }
inline unsigned __float_as_uint(float f) { unsigned u; memcpy(&u, &f, 4); return u; }
template <typename T> inline T __ldg(const T* p) { return *p; }
using std::max;
using std::min;
using std::isnan;

// Fiber context switch (fake_cudart.cpp): saves the callee-saved registers on the current stack, stores the stack
// pointer in *save, continues on the stack `to` (as saved by an earlier switch, or prepared by emu::fiber_stack_init).
extern "C" void emu_fiber_switch(void** save, void* to);

#if defined(__SANITIZE_ADDRESS__)
#define RK_EMU_ASAN 1
extern "C" void __sanitizer_start_switch_fiber(void** fake_stack_save, const void* bottom, size_t size);
extern "C" void __sanitizer_finish_switch_fiber(void* fake_stack_save, const void** bottom_old, size_t* size_old);
#endif

namespace emu {

struct PendingCopy {
  uint32_t dst;
  const void* src;
  bool valid;
};
// What one CUDA thread owns besides its stack: its cp.async groups.
struct ThreadState {
  std::vector<PendingCopy> open;
  std::deque<std::vector<PendingCopy>> groups;
};
inline thread_local ThreadState* t_state = nullptr;

#ifdef RK_EMU_OS_THREADS
// A barrier of n std::threads; `last` runs in the last thread to arrive, before any thread leaves.
class Barrier {
 public:
  explicit Barrier(int n) : n_(n) {}
  template <class F> void arrive_and_wait(F&& last) {
    std::unique_lock<std::mutex> lk(mu_);
    const unsigned g = gen_;
    if (++count_ == n_) {
      count_ = 0;
      last();
      gen_++;
      cv_.notify_all();
      return;
    }
    cv_.wait(lk, [&] { return gen_ != g; });
  }
  void arrive_and_wait() { arrive_and_wait([] {}); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int n_, count_ = 0;
  unsigned gen_ = 0;
};
#else
// ---- fibers: the threads of one CTA on the launching OS thread ----
struct Fiber {
  void* sp = nullptr;      // saved stack pointer while switched out
  unsigned char* stack = nullptr;
  uint3 tid;
  ThreadState st;
  bool done = false;
};
struct Scheduler {             // per OS thread that runs a CTA
  void* sp = nullptr;          // the scheduler's saved stack pointer
  Fiber* cur = nullptr;
  void (*body)(void*) = nullptr;
  void* body_arg = nullptr;
  unsigned long long progress = 0;  // barrier arrivals + thread exits: a pass without any is a deadlock
  const void* main_bottom = nullptr;
  size_t main_size = 0;
};
inline thread_local Scheduler t_sched;
#ifdef RK_EMU_ASAN
constexpr size_t kFiberStack = 512 * 1024;
#else
constexpr size_t kFiberStack = 128 * 1024;
#endif

// Switch from the running fiber back to the scheduler.
inline void fiber_yield() {
  Scheduler& s = t_sched;
#ifdef RK_EMU_ASAN
  void* fake = nullptr;
  __sanitizer_start_switch_fiber(&fake, s.main_bottom, s.main_size);
  emu_fiber_switch(&s.cur->sp, s.sp);
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#else
  emu_fiber_switch(&s.cur->sp, s.sp);
#endif
}

// A barrier of n fibers of the current CTA; `last` runs in the last fiber to arrive, before any fiber leaves.
class Barrier {
 public:
  explicit Barrier(int n) : n_(n) {}
  template <class F> void arrive_and_wait(F&& last) {
    const unsigned g = gen_;
    t_sched.progress++;
    if (++count_ == n_) {
      count_ = 0;
      last();
      gen_++;
      return;
    }
    while (gen_ == g) fiber_yield();
  }
  void arrive_and_wait() { arrive_and_wait([] {}); }

 private:
  int n_, count_ = 0;
  unsigned gen_ = 0;
};
void* fiber_stack_init(unsigned char* stack, size_t size);  // fake_cudart.cpp: first switch lands in fiber_main
void fiber_main();                                           // fake_cudart.cpp
unsigned char* fiber_stack(size_t i);                        // fake_cudart.cpp: the i-th pooled stack (kFiberStack)
#endif

struct Warp {
  explicit Warp() : bar(32) {}
  Barrier bar;
  uint32_t addr[32];
  uint32_t a[32][4], b[32][2];
  float c[32][4];
  uint32_t r[32][4];  // ldmatrix results
  float d[32][4];     // mma results
};
struct Cta {
  explicit Cta(int nthreads) : bar(nthreads), warps(nthreads / 32) {
    for (auto& w : warps) w = std::make_unique<Warp>();
  }
  Barrier bar;
  std::vector<std::unique_ptr<Warp>> warps;
};
inline Cta* g_cta = nullptr;
enum class CopyMode { Deferred, Eager };
inline CopyMode g_copy_mode = CopyMode::Deferred;
inline unsigned char* g_smem = nullptr;  // base of the emulated shared memory (TC kernel)
inline size_t g_smem_bytes = 0;
inline std::mutex g_launch_mu;  // one grid at a time: the state above is per launch, __shared__ arrays are statics
#ifndef RK_EMU_OS_THREADS
inline std::vector<Fiber> g_fibers;  // guarded by g_launch_mu
#endif

inline unsigned linear_tid() { return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z); }
inline Warp& warp() { return *g_cta->warps[linear_tid() / 32]; }
inline int lane() { return static_cast<int>(linear_tid() % 32); }

inline void smem_check(uint32_t off, size_t n) {
  if (off + n > g_smem_bytes) {
    fprintf(stderr, "emu: shared-memory access out of range: offset %u + %zu > %zu\n", off, n, g_smem_bytes);
    abort();
  }
}
inline void apply(const PendingCopy& c) {
  smem_check(c.dst, 16);
  if (c.valid) memcpy(g_smem + c.dst, c.src, 16);
  else memset(g_smem + c.dst, 0, 16);
}

extern unsigned char* const g_dynamic_smem;  // rk::tc::smem (defined in fake_cudart.cpp)
constexpr size_t kDynamicSmemMax = 227 * 1024;  // sm_90 opt-in maximum per block (232448 bytes)
void set_launch_error(cudaError_t e);       // fake_cudart.cpp: what cudaGetLastError() returns next
bool launch_allowed(cudaStream_t s);        // fake_cudart.cpp: `s` belongs to the current device
cudaError_t enqueue(cudaStream_t s, std::function<void()> work);  // run now, queue it, or record it (capture)

inline void check_thread_done(unsigned t, const ThreadState& st) {
  if (!st.open.empty() || !st.groups.empty()) {
    fprintf(stderr, "emu: thread %u exited with cp.async copies never waited for\n", t);
    abort();
  }
}

inline bool valid_launch(dim3 grid, dim3 block, size_t smem) {
  const unsigned nt = block.x * block.y * block.z;
  return nt > 0 && nt <= 1024 && nt % 32 == 0 && grid.x > 0 && grid.y > 0 && grid.z > 0 && grid.y <= 65535 &&
         grid.z <= 65535 && smem <= kDynamicSmemMax;
}
// Dynamic shared memory above the 48 KB default needs cudaFuncSetAttribute(kernel, MaxDynamicSharedMemorySize, >= smem)
// on the current device first (fake_cudart.cpp); a real launch without it fails with cudaErrorInvalidValue.
bool dynamic_smem_allowed(const void* kernel, size_t smem);

// Order in which the threads of a CTA run between two barriers (RK_EMU_ORDER): forward (thread 0 first, default),
// reverse, or shuffle (a fixed pseudo-random permutation per CTA). A missing __syncthreads between a shared-memory
// write and another thread's read of it passes in one order by luck; running the labs in forward and reverse order
// makes it fail in one of them (run_emu.sh --order reverse).
enum class ThreadOrder { Forward, Reverse, Shuffle };
inline ThreadOrder thread_order() {
  const char* m = getenv("RK_EMU_ORDER");
  if (!m || !*m || !strcmp(m, "forward")) return ThreadOrder::Forward;
  if (!strcmp(m, "reverse")) return ThreadOrder::Reverse;
  if (!strcmp(m, "shuffle")) return ThreadOrder::Shuffle;
  fprintf(stderr, "emu: RK_EMU_ORDER=%s: expected forward, reverse or shuffle\n", m);
  abort();
}
inline std::vector<unsigned> thread_permutation(unsigned nt, uint3 bidx) {
  std::vector<unsigned> order(nt);
  for (unsigned t = 0; t < nt; t++) order[t] = t;
  const ThreadOrder o = thread_order();
  if (o == ThreadOrder::Reverse) {
    for (unsigned t = 0; t < nt; t++) order[t] = nt - 1 - t;
  } else if (o == ThreadOrder::Shuffle) {
    uint64_t x = 0x9E3779B97F4A7C15ull ^ (bidx.x * 0x100000001B3ull) ^ (static_cast<uint64_t>(bidx.y) << 32) ^ bidx.z;
    for (unsigned t = nt - 1; t > 0; t--) {
      x ^= x << 13; x ^= x >> 7; x ^= x << 17;
      const unsigned j = static_cast<unsigned>(x % (t + 1));
      const unsigned tmp = order[t]; order[t] = order[j]; order[j] = tmp;
    }
  }
  return order;
}

// Run `body` (one CUDA thread's kernel code) for every thread of the current CTA.
template <class F> void run_cta(unsigned nt, dim3 block, uint3 bidx, F& body) {
#ifdef RK_EMU_OS_THREADS
  std::vector<std::thread> ts;
  ts.reserve(nt);
  for (unsigned t = 0; t < nt; t++)
    ts.emplace_back([&, t] {
      ThreadState st;
      t_state = &st;
      threadIdx = make_uint3(t % block.x, (t / block.x) % block.y, t / (block.x * block.y));
      blockIdx = bidx;
      body();
      check_thread_done(t, st);
    });
  for (auto& th : ts) th.join();
#else
  std::vector<Fiber>& fibers = g_fibers;
  if (fibers.size() < nt) fibers.resize(nt);
  Scheduler& s = t_sched;
  s.body = [](void* f) { (*static_cast<F*>(f))(); };
  s.body_arg = &body;
  blockIdx = bidx;
  for (unsigned t = 0; t < nt; t++) {
    Fiber& f = fibers[t];
    f.stack = fiber_stack(t);
    f.sp = fiber_stack_init(f.stack, kFiberStack);
    f.tid = make_uint3(t % block.x, (t / block.x) % block.y, t / (block.x * block.y));
    f.st.open.clear();
    f.st.groups.clear();
    f.done = false;
  }
  unsigned alive = nt;
  const std::vector<unsigned> order = thread_permutation(nt, bidx);
  while (alive > 0) {
    const unsigned long long before = s.progress;
    for (unsigned ti = 0; ti < nt; ti++) {
      const unsigned t = order[ti];
      Fiber& f = fibers[t];
      if (f.done) continue;
      s.cur = &f;
      threadIdx = f.tid;
      t_state = &f.st;
#ifdef RK_EMU_ASAN
      void* fake = nullptr;
      __sanitizer_start_switch_fiber(&fake, f.stack, kFiberStack);
      emu_fiber_switch(&s.sp, f.sp);
      __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#else
      emu_fiber_switch(&s.sp, f.sp);
#endif
      if (f.done) {
        alive--;
        check_thread_done(t, f.st);
      }
    }
    if (alive > 0 && s.progress == before) {
      fprintf(stderr, "emu: deadlock: %u of %u threads of CTA (%u,%u,%u) wait at a barrier that the others never reach "
              "(divergent __syncthreads or warp collective?)\n", alive, nt, bidx.x, bidx.y, bidx.z);
      abort();
    }
  }
  s.cur = nullptr;
  t_state = nullptr;
#endif
}


// Run `body` as a CUDA grid: CTAs one after another.
template <class F> void launch(dim3 grid, dim3 block, size_t smem, F&& body) {
  const unsigned nt = block.x * block.y * block.z;
  if (!valid_launch(grid, block, smem)) {
    set_launch_error(cudaErrorInvalidConfiguration);
    return;
  }
  std::lock_guard<std::mutex> lk(g_launch_mu);
  gridDim = grid;
  blockDim = block;
  g_smem = smem ? g_dynamic_smem : nullptr;
  g_smem_bytes = smem;
  if (const char* m = getenv("RK_EMU_COPY")) g_copy_mode = strcmp(m, "eager") ? CopyMode::Deferred : CopyMode::Eager;
  for (unsigned bz = 0; bz < grid.z; bz++)
    for (unsigned by = 0; by < grid.y; by++)
      for (unsigned bx = 0; bx < grid.x; bx++) {
        Cta cta(static_cast<int>(nt));
        g_cta = &cta;
        if (g_smem) memset(g_smem, 0xFF, g_smem_bytes);
        run_cta(nt, block, make_uint3(bx, by, bz), body);
        g_cta = nullptr;
      }
}

// RK_LAUNCH(grid, block, smem, stream, kernel)(args...): arguments are copied, as a real launch does.
struct Launcher {
  dim3 grid, block;
  size_t smem;
  cudaStream_t stream;
  template <class K> auto bind(K kernel) const {
    const Launcher self = *this;
    return [self, kernel](auto... args) {
      if (!valid_launch(self.grid, self.block, self.smem)) {  // reported at issue, as a real launch does
        set_launch_error(cudaErrorInvalidConfiguration);
        return;
      }
      if (!dynamic_smem_allowed(reinterpret_cast<const void*>(kernel), self.smem)) {
        set_launch_error(cudaErrorInvalidValue);
        return;
      }
      if (!launch_allowed(self.stream)) {
        set_launch_error(cudaErrorInvalidResourceHandle);
        return;
      }
      const cudaError_t e =
          enqueue(self.stream, [self, kernel, args...]() { launch(self.grid, self.block, self.smem, [&] { kernel(args...); }); });
      if (e != cudaSuccess) set_launch_error(e);
    };
  }
};

}  // namespace emu

inline void __syncthreads() { emu::g_cta->bar.arrive_and_wait(); }
#define RK_LAUNCH(grid, block, smem, stream, ...) \
  ::emu::Launcher{dim3(grid), dim3(block), static_cast<size_t>(smem), (stream)}.bind(__VA_ARGS__)

// ---- PTX replacements used by conv_tc.cuh (same names and signatures as its RK_EMULATE-guarded wrappers) ----
namespace rk {
namespace tc {
extern unsigned char smem[];  // the kernel's `extern __shared__ unsigned char smem[]` refers to this

inline uint32_t smem_u32(const void* p) {
  return static_cast<uint32_t>(static_cast<const unsigned char*>(p) - emu::g_smem);
}
inline void cp_async16(uint32_t dst, const void* src, bool valid) {
  if ((valid && (reinterpret_cast<uintptr_t>(src) & 15)) || (dst & 15)) {
    fprintf(stderr, "emu: cp.async with a misaligned address (src %p, smem offset %u)\n", src, dst);
    abort();
  }
  emu::PendingCopy c{dst, src, valid};
  if (emu::g_copy_mode == emu::CopyMode::Eager) emu::apply(c);
  else emu::t_state->open.push_back(c);
}
inline void cp_async_commit() {
  emu::ThreadState& st = *emu::t_state;
  st.groups.push_back(std::move(st.open));
  st.open.clear();
}
template <int N> inline void cp_async_wait() {
  emu::ThreadState& st = *emu::t_state;
  while (st.groups.size() > static_cast<size_t>(N)) {
    for (const auto& c : st.groups.front()) emu::apply(c);
    st.groups.pop_front();
  }
}
// ldmatrix.sync.aligned.m8n8.x4.shared.b16: lanes 8j..8j+7 give the row addresses of matrix j; lane i receives in
// r[j] the 32-bit word (i % 4) of row (i / 4) of matrix j.
inline void ldmatrix_x4(uint32_t (&r)[4], uint32_t addr) {
  emu::Warp& w = emu::warp();
  const int l = emu::lane();
  w.addr[l] = addr;
  w.bar.arrive_and_wait([&w] {
    for (int L = 0; L < 32; L++)
      for (int j = 0; j < 4; j++) {
        const uint32_t row = w.addr[8 * j + L / 4];
        if (row % 16) { fprintf(stderr, "emu: ldmatrix row address %u not 16-byte aligned\n", row); abort(); }
        emu::smem_check(row, 16);
        memcpy(&w.r[L][j], emu::g_smem + row + (L % 4) * 4, 4);
      }
  });
  for (int j = 0; j < 4; j++) r[j] = w.r[l][j];
}
inline void st_shared16(uint32_t addr, const uint4& v) {
  emu::smem_check(addr, 16);
  memcpy(emu::g_smem + addr, &v, 16);
}
// cvt.rna.tf32.f32: round to nearest (ties away from zero) to 10 mantissa bits.
inline uint32_t f32_to_tf32(uint32_t x) {
  if ((x & 0x7f800000u) == 0x7f800000u) return x;  // inf / nan unchanged
  return (x + 0x1000u) & 0xffffe000u;
}
inline float lo_f(uint32_t r, bool bf) {
  const uint16_t h = static_cast<uint16_t>(r & 0xffff);
  return bf ? __bfloat162float(__ushort_as_bfloat16(h)) : __half2float(__ushort_as_half(h));
}
inline float hi_f(uint32_t r, bool bf) {
  const uint16_t h = static_cast<uint16_t>(r >> 16);
  return bf ? __bfloat162float(__ushort_as_bfloat16(h)) : __half2float(__ushort_as_half(h));
}

// mma.sync.aligned.m16n8k16.row.col.f32.{f16,bf16}: A 16x16 (row), B 16x8 (col), C/D 16x8 f32.
//   A: a0,a1: (g, 2t+{0,1}); a2,a3: (g+8, 2t+{0,1}); a4,a5: (g, 2t+8+{0,1}); a6,a7: (g+8, 2t+8+{0,1})
//   B: b0,b1: (k = 2t+{0,1}, n = g); b2,b3: (k = 2t+8+{0,1}, n = g)
//   C: c0,c1: (g, 2t+{0,1}); c2,c3: (g+8, 2t+{0,1})        with g = lane/4, t = lane%4
// mma.sync.aligned.m16n8k8.row.col.f32.tf32: A 16x8: a0 (g,t) a1 (g+8,t) a2 (g,t+4) a3 (g+8,t+4);
//   B 8x8: b0 (k=t, n=g) b1 (k=t+4, n=g); C as above. The tensor core reads only the tf32 bits (top 19).
template <typename T> struct Mma {
  // Every lane's D from the whole warp's deposited A, B, C (run once per warp, by the last lane to arrive).
  static void warp_mma(emu::Warp& w) {
    constexpr bool tf32 = sizeof(T) == 4;
    constexpr bool bf = std::is_same<T, __nv_bfloat16>::value;
    constexpr int KK = tf32 ? 8 : 16;
    float A[16][16], B[16][8], C[16][8];
    for (int L = 0; L < 32; L++) {
      const int g = L / 4, t = L % 4;
      if (tf32) {
        auto f = [](uint32_t u) { return __uint_as_float(u & 0xffffe000u); };
        A[g][t] = f(w.a[L][0]); A[g + 8][t] = f(w.a[L][1]); A[g][t + 4] = f(w.a[L][2]); A[g + 8][t + 4] = f(w.a[L][3]);
        B[t][g] = f(w.b[L][0]); B[t + 4][g] = f(w.b[L][1]);
      } else {
        A[g][2 * t] = lo_f(w.a[L][0], bf);     A[g][2 * t + 1] = hi_f(w.a[L][0], bf);
        A[g + 8][2 * t] = lo_f(w.a[L][1], bf); A[g + 8][2 * t + 1] = hi_f(w.a[L][1], bf);
        A[g][2 * t + 8] = lo_f(w.a[L][2], bf); A[g][2 * t + 9] = hi_f(w.a[L][2], bf);
        A[g + 8][2 * t + 8] = lo_f(w.a[L][3], bf); A[g + 8][2 * t + 9] = hi_f(w.a[L][3], bf);
        B[2 * t][g] = lo_f(w.b[L][0], bf);     B[2 * t + 1][g] = hi_f(w.b[L][0], bf);
        B[2 * t + 8][g] = lo_f(w.b[L][1], bf); B[2 * t + 9][g] = hi_f(w.b[L][1], bf);
      }
      C[g][2 * t] = w.c[L][0]; C[g][2 * t + 1] = w.c[L][1]; C[g + 8][2 * t] = w.c[L][2]; C[g + 8][2 * t + 1] = w.c[L][3];
    }
    for (int L = 0; L < 32; L++) {
      const int g = L / 4, t = L % 4;
      const int rows[4] = {g, g, g + 8, g + 8}, cols[4] = {2 * t, 2 * t + 1, 2 * t, 2 * t + 1};
      for (int i = 0; i < 4; i++) {
        float s = C[rows[i]][cols[i]];
        for (int k = 0; k < KK; k++) s += A[rows[i]][k] * B[k][cols[i]];
        w.d[L][i] = s;
      }
    }
  }
  static void run(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    emu::Warp& w = emu::warp();
    const int l = emu::lane();
    for (int i = 0; i < 4; i++) { w.a[l][i] = a[i]; w.c[l][i] = d[i]; }
    w.b[l][0] = b[0]; w.b[l][1] = b[1];
    // One barrier suffices: the next collective's results are written only when every lane has arrived there,
    // i.e. after every lane has read its result of this one.
    w.bar.arrive_and_wait([&w] { warp_mma(w); });
    for (int i = 0; i < 4; i++) d[i] = w.d[l][i];
  }
};

}  // namespace tc
}  // namespace rk
