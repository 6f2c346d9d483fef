// A fake CUDA runtime for the host emulation build: just the cuda* entry points libreskern_cuda calls, backed by
// host memory. "Device" memory is posix_memalign'ed host memory (so ASan bounds-checks every kernel access), filled
// with 0xFF bytes (NaN in every dtype) when allocated and again when freed (RK_EMU_POISON=0: neither), so that
// reading memory nobody wrote, or memory already freed, shows up; the device looks
// like an H100 (cc 9.0, 132 SMs, 227 KB opt-in shared memory) with RK_EMU_DEVICE_MEM_MIB of memory (default 8192):
// allocations are counted, cudaMemGetInfo reports what is left, cudaFree of a pointer that cudaMalloc did not return
// fails with cudaErrorInvalidValue, and an allocation above the capacity fails with cudaErrorMemoryAllocation.
// RK_EMU_DEVICES=n (default 1, at most 8) emulates n such devices: the current device is per host thread (as in
// CUDA), memory is counted per device, each device has its own legacy default stream, and a kernel launched into a
// stream of another device than the current one fails with cudaErrorInvalidResourceHandle. (Kernels of one device
// can still read another device's memory here: all of it is host memory.)
//
// Streams: RK_EMU_STREAMS=sync (default) runs every operation when it is issued. RK_EMU_STREAMS=deferred queues the
// work of each stream and runs it only when the host must see it: cudaStreamSynchronize of that stream, cudaFree /
// cudaFreeHost (they synchronize the device), cudaStreamDestroy, a copy into pageable host memory (synchronous in
// CUDA). So a result read before its stream was synchronized, a pinned staging buffer overwritten while a copy from it
// is still queued, or a missing synchronization between two streams gives wrong numbers instead of passing by luck.
// Copies from pageable host memory read it at issue (CUDA stages it before returning); pinned memory is read when the
// copy runs. Events record the time their queued work ran; cudaEventElapsedTime on an event whose work has not run
// returns cudaErrorNotReady.
//
// Stream capture records the enqueued work (emulated kernel launches, memcpys, memsets, event records) and graph
// launch replays it on the stream (queued in deferred mode). Launch-configuration errors are reported at issue.
// Capture is thread-local (what rk_cuda_graph_begin_capture asks for): while a thread captures, its calls that CUDA
// prohibits in that mode (cudaMalloc, cudaFree, cudaMallocHost, cudaFreeHost, any cudaStreamSynchronize, work on
// the legacy default stream) fail with cudaErrorStreamCaptureUnsupported and invalidate the capture, so that
// cudaStreamEndCapture fails with cudaErrorStreamCaptureInvalidated. (An approximation of the CUDA rules: other
// threads are not restricted, and cross-stream dependencies are not modelled.)
#include "cuda_emu.h"
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <sys/mman.h>
#ifdef RK_EMU_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace rk { namespace tc {
alignas(128) unsigned char smem[emu::kDynamicSmemMax];
} }

struct CUstream_st {
  int id;
  int device;
  std::deque<std::function<void()>> pending;  // deferred mode: queued, not yet run
  std::mutex run_mu;                           // one flusher at a time keeps the order
};
struct CUevent_st {
  double t_ms = 0;
  bool done = false;  // its queued record has run
};
struct CUgraph_st {
  std::vector<std::function<void()>> work;
  bool invalidated = false;  // an unsafe call during the capture: cudaStreamEndCapture fails
};
struct CUgraphExec_st { std::vector<std::function<void()>> work; };

// ---- fiber context switch (x86-64 System V): callee-saved registers, MXCSR and the x87 control word ----
#ifndef RK_EMU_OS_THREADS
asm(R"(
  .text
  .globl emu_fiber_switch
  .type emu_fiber_switch, @function
emu_fiber_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size emu_fiber_switch, .-emu_fiber_switch
  .section .note.GNU-stack,"",@progbits
  .text
)");

namespace emu {
// The frame emu_fiber_switch pops on the first switch into a fiber: MXCSR/x87 CW, six registers, then `ret` into
// fiber_main with the stack aligned as after a call (rsp + 8 a multiple of 16).
void* fiber_stack_init(unsigned char* stack, size_t size) {
#ifdef RK_EMU_ASAN
  __asan_unpoison_memory_region(stack, size);
#endif
  uintptr_t top = (reinterpret_cast<uintptr_t>(stack) + size) & ~uintptr_t(15);
  uint64_t* sp = reinterpret_cast<uint64_t*>(top);
  *--sp = 0;                                              // fiber_main's return address: it never returns
  *--sp = reinterpret_cast<uint64_t>(&fiber_main);        // popped by `ret`
  for (int i = 0; i < 6; i++) *--sp = 0;                  // rbp rbx r12 r13 r14 r15
  *--sp = 0x1F80ull | (0x037Full << 32);                  // default MXCSR, x87 control word
  return sp;
}

void fiber_main() {
  Scheduler& s = t_sched;
#ifdef RK_EMU_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &s.main_bottom, &s.main_size);
#endif
  s.body(s.body_arg);
  s.cur->done = true;
  s.progress++;
#ifdef RK_EMU_ASAN
  __sanitizer_start_switch_fiber(nullptr, s.main_bottom, s.main_size);  // this fiber's stack is done
#endif
  void* unused;
  emu_fiber_switch(&unused, s.sp);
  abort();  // never resumed
}

// Stacks of the CTA's fibers (guarded by g_launch_mu), each with a PROT_NONE guard page below it.
unsigned char* fiber_stack(size_t i) {
  static std::vector<unsigned char*> stacks;
  while (stacks.size() <= i) {
    const size_t page = 4096;
    void* p = mmap(nullptr, kFiberStack + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      fprintf(stderr, "emu: cannot map a fiber stack\n");
      abort();
    }
    mprotect(p, page, PROT_NONE);
    stacks.push_back(static_cast<unsigned char*>(p) + page);
  }
  return stacks[i];
}
}  // namespace emu
#endif

namespace emu {
unsigned char* const g_dynamic_smem = rk::tc::smem;
static thread_local cudaError_t t_last = cudaSuccess;
static thread_local int t_device = 0;  // cudaSetDevice is per host thread
// The driver's current context, modelled as (device + 1) or none: cudaSetDevice makes the device's (primary) context
// current; cuCtxSetCurrent(NULL) leaves the thread with none, and the runtime then falls back to device 0.
static thread_local bool t_has_ctx = false;
constexpr int kMaxDevices = 8;
static std::mutex g_mu;  // guards everything below
static std::map<cudaStream_t, CUgraph_st*> g_capturing;
static thread_local CUgraph_st* t_capture = nullptr;  // the capture this thread began
// A call CUDA prohibits in the capturing thread: invalidates its capture.
static cudaError_t unsafe_during_capture() {
  if (!t_capture) return cudaSuccess;
  t_capture->invalidated = true;
  return cudaErrorStreamCaptureUnsupported;
}
static CUstream_st g_legacy[kMaxDevices] = {{0, 0, {}, {}}, {0, 1, {}, {}}, {0, 2, {}, {}}, {0, 3, {}, {}},
                                            {0, 4, {}, {}}, {0, 5, {}, {}}, {0, 6, {}, {}}, {0, 7, {}, {}}};  // stream 0
static std::set<CUstream_st*> g_streams{&g_legacy[0], &g_legacy[1], &g_legacy[2], &g_legacy[3],
                                        &g_legacy[4], &g_legacy[5], &g_legacy[6], &g_legacy[7]};
static std::map<uintptr_t, size_t> g_device_allocs, g_pinned;  // start -> bytes
static std::map<uintptr_t, int> g_alloc_device;
static size_t g_allocated[kMaxDevices] = {};
// Without ASan (which has its own redzones), every device allocation is followed by a guard of kGuard bytes of
// kGuardByte, checked at every cudaFree and stream synchronization: a kernel or copy that wrote past the end of a
// buffer aborts with the buffer named, instead of corrupting the host heap silently.
#ifdef RK_EMU_ASAN
constexpr size_t kGuard = 0;
#else
constexpr size_t kGuard = 4096;
#endif
constexpr unsigned char kGuardByte = 0xA5;
static void check_guard(uintptr_t start, size_t n, const char* when) {  // caller holds g_mu
  const unsigned char* g = reinterpret_cast<const unsigned char*>(start) + n;
  for (size_t i = 0; i < kGuard; i++)
    if (g[i] != kGuardByte) {
      fprintf(stderr, "emu: device buffer %p of %zu bytes was written past its end (byte %zu after it), seen at %s\n",
              reinterpret_cast<void*>(start), n, i, when);
      abort();
    }
}
static void check_guards(const char* when) {
  if (kGuard == 0) return;
  std::lock_guard<std::mutex> lk(g_mu);
  for (const auto& [start, n] : g_device_allocs) check_guard(start, n, when);
}

static int devices() {
  static const int n = [] {
    const char* m = getenv("RK_EMU_DEVICES");
    const int v = m ? atoi(m) : 1;
    return v < 1 ? 1 : v > kMaxDevices ? kMaxDevices : v;
  }();
  return n;
}

static bool deferred() {
  static const bool d = [] {
    const char* m = getenv("RK_EMU_STREAMS");
    return m && strcmp(m, "deferred") == 0;
  }();
  return d;
}
static size_t capacity() {
  static const size_t c = [] {
    const char* m = getenv("RK_EMU_DEVICE_MEM_MIB");
    return (m ? strtoull(m, nullptr, 10) : 8192ull) << 20;
  }();
  return c;
}
static bool poison() {
  static const bool p = [] {
    const char* m = getenv("RK_EMU_POISON");
    return !m || strcmp(m, "0") != 0;
  }();
  return p;
}
static CUstream_st* stream_of(cudaStream_t s) { return s ? s : &g_legacy[t_device]; }
static bool in(const std::map<uintptr_t, size_t>& m, const void* p) {  // caller holds g_mu
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  auto it = m.upper_bound(a);
  if (it == m.begin()) return false;
  --it;
  return a < it->first + std::max<size_t>(it->second, 1);
}
static bool is_pinned(const void* p) {
  std::lock_guard<std::mutex> lk(g_mu);
  return in(g_pinned, p);
}

void set_launch_error(cudaError_t e) { t_last = e; }
bool launch_allowed(cudaStream_t s) { return stream_of(s)->device == t_device; }
cudaError_t enqueue(cudaStream_t s, std::function<void()> work) {
  {
    std::lock_guard<std::mutex> lk(g_mu);
    auto it = g_capturing.find(s);
    if (it != g_capturing.end()) {
      if (it->second->invalidated) return cudaErrorStreamCaptureInvalidated;
      it->second->work.push_back(std::move(work));
      return cudaSuccess;
    }
    if (!s && t_capture) {  // the legacy stream, from a capturing thread
      t_capture->invalidated = true;
      return cudaErrorStreamCaptureUnsupported;
    }
    if (deferred()) { stream_of(s)->pending.push_back(std::move(work)); return cudaSuccess; }
  }
  work();
  return cudaSuccess;
}
// Runs everything queued on `st`, in order (also what is queued meanwhile).
static void flush(CUstream_st* st) {
  std::lock_guard<std::mutex> run(st->run_mu);
  while (true) {
    std::function<void()> w;
    {
      std::lock_guard<std::mutex> lk(g_mu);
      if (st->pending.empty()) return;
      w = std::move(st->pending.front());
      st->pending.pop_front();
    }
    w();
  }
}
static void flush_all() {
  std::vector<CUstream_st*> all;
  {
    std::lock_guard<std::mutex> lk(g_mu);
    all.assign(g_streams.begin(), g_streams.end());
  }
  for (CUstream_st* st : all) flush(st);
}
static double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
// Per (kernel, device): the MaxDynamicSharedMemorySize set by cudaFuncSetAttribute, as CUDA keeps it per function
// and context. A launch asking for more than 48 KB of dynamic shared memory needs it (dynamic_smem_allowed).
static std::map<std::pair<const void*, int>, int> g_max_dynamic_smem;  // guarded by g_mu
bool dynamic_smem_allowed(const void* kernel, size_t smem) {
  if (smem <= 48 * 1024) return true;
  int dev = t_device;
  std::lock_guard<std::mutex> lk(g_mu);
  auto it = g_max_dynamic_smem.find({kernel, dev});
  if (it != g_max_dynamic_smem.end() && smem <= static_cast<size_t>(it->second)) return true;
  fprintf(stderr, "emu: launch with %zu bytes of dynamic shared memory (> 48 KB) without cudaFuncSetAttribute("
          "MaxDynamicSharedMemorySize >= %zu) for this kernel on device %d (set: %d): cudaErrorInvalidValue\n", smem,
          smem, dev, it == g_max_dynamic_smem.end() ? -1 : it->second);
  return false;
}
}  // namespace emu

extern "C" {

const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorIllegalState: return "cudaErrorIllegalState";
    case cudaErrorStreamCaptureUnsupported: return "cudaErrorStreamCaptureUnsupported";
    case cudaErrorStreamCaptureInvalidated: return "cudaErrorStreamCaptureInvalidated";
    default: return "cudaErrorUnknown(emulated)";
  }
}
const char* cudaGetErrorString(cudaError_t e) { return e == cudaSuccess ? "no error" : "emulated CUDA error"; }
cudaError_t cudaGetLastError(void) { cudaError_t e = emu::t_last; emu::t_last = cudaSuccess; return e; }
cudaError_t cudaPeekAtLastError(void) { return emu::t_last; }

cudaError_t cudaRuntimeGetVersion(int* v) { *v = 13000; return cudaSuccess; }
cudaError_t cudaDriverGetVersion(int* v) { *v = 13000; return cudaSuccess; }
cudaError_t cudaGetDeviceCount(int* n) { *n = emu::devices(); return cudaSuccess; }
cudaError_t cudaGetDevice(int* d) { *d = emu::t_device; return cudaSuccess; }
cudaError_t cudaSetDevice(int d) {
  if (d < 0 || d >= emu::devices()) return cudaErrorInvalidDevice;
  emu::t_device = d;
  emu::t_has_ctx = true;
  return cudaSuccess;
}
// The two driver entry points reskern asks for (cuCtxGetCurrent, cuCtxSetCurrent), on the model above.
namespace emu {
static int ctx_get_current(void** ctx) {
  *ctx = t_has_ctx ? reinterpret_cast<void*>(static_cast<uintptr_t>(t_device) + 1) : nullptr;
  return 0;
}
static int ctx_set_current(void* ctx) {
  uintptr_t v = reinterpret_cast<uintptr_t>(ctx);
  if (v == 0) {
    t_has_ctx = false;
    t_device = 0;
    return 0;
  }
  if (v > static_cast<uintptr_t>(devices())) return 201;  // CUDA_ERROR_INVALID_CONTEXT
  t_device = static_cast<int>(v - 1);
  t_has_ctx = true;
  return 0;
}
}  // namespace emu
cudaError_t cudaGetDriverEntryPointByVersion(const char* symbol, void** fn, unsigned int, unsigned long long,
                                             cudaDriverEntryPointQueryResult* q) {
  *fn = nullptr;
  if (!strcmp(symbol, "cuCtxGetCurrent")) *fn = reinterpret_cast<void*>(&emu::ctx_get_current);
  if (!strcmp(symbol, "cuCtxSetCurrent")) *fn = reinterpret_cast<void*>(&emu::ctx_set_current);
  if (q) *q = *fn ? cudaDriverEntryPointSuccess : cudaDriverEntryPointSymbolNotFound;
  return cudaSuccess;
}
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int d) {
  if (d < 0 || d >= emu::devices()) return cudaErrorInvalidDevice;
  memset(p, 0, sizeof *p);
  snprintf(p->name, sizeof p->name, "reskern host emulation (H100-like)");
  p->major = 9; p->minor = 0; p->multiProcessorCount = 132;
  p->totalGlobalMem = emu::capacity(); p->sharedMemPerBlockOptin = 227 * 1024; p->sharedMemPerBlock = 48 * 1024;
  p->l2CacheSize = 50 << 20; p->warpSize = 32; p->maxThreadsPerBlock = 1024;
  return cudaSuccess;
}
cudaError_t cudaDeviceGetAttribute(int* v, cudaDeviceAttr a, int d) {
  if (d < 0 || d >= emu::devices()) return cudaErrorInvalidDevice;
  *v = a == cudaDevAttrMultiProcessorCount ? 132 : 0;
  return cudaSuccess;
}
cudaError_t cudaMemGetInfo(size_t* fr, size_t* tot) {
  std::lock_guard<std::mutex> lk(emu::g_mu);
  *tot = emu::capacity();
  *fr = emu::capacity() - emu::g_allocated[emu::t_device];
  return cudaSuccess;
}

cudaError_t cudaMalloc(void** p, size_t n) {
  *p = nullptr;
  if (cudaError_t e = emu::unsafe_during_capture()) return e;
  {
    std::lock_guard<std::mutex> lk(emu::g_mu);
    if (n > emu::capacity() - emu::g_allocated[emu::t_device]) return cudaErrorMemoryAllocation;
    emu::g_allocated[emu::t_device] += n;
  }
  if (posix_memalign(p, 256, n + emu::kGuard + (n || emu::kGuard ? 0 : 1))) {
    *p = nullptr;
    std::lock_guard<std::mutex> lk(emu::g_mu);
    emu::g_allocated[emu::t_device] -= n;
    return cudaErrorMemoryAllocation;
  }
  if (emu::poison()) memset(*p, 0xFF, n);
  memset(static_cast<unsigned char*>(*p) + n, emu::kGuardByte, emu::kGuard);
  std::lock_guard<std::mutex> lk(emu::g_mu);
  emu::g_device_allocs[reinterpret_cast<uintptr_t>(*p)] = n;
  emu::g_alloc_device[reinterpret_cast<uintptr_t>(*p)] = emu::t_device;
  return cudaSuccess;
}
cudaError_t cudaFree(void* p) {
  if (cudaError_t e = emu::unsafe_during_capture()) return e;
  if (!p) return cudaSuccess;
  emu::flush_all();  // cudaFree synchronizes the device
  std::lock_guard<std::mutex> lk(emu::g_mu);
  auto it = emu::g_device_allocs.find(reinterpret_cast<uintptr_t>(p));
  if (it == emu::g_device_allocs.end()) return cudaErrorInvalidValue;  // not from cudaMalloc, or freed twice
  emu::check_guard(it->first, it->second, "cudaFree");
  if (emu::poison()) memset(p, 0xFF, it->second);  // a kernel or copy still using freed memory reads NaN
  emu::g_allocated[emu::g_alloc_device[it->first]] -= it->second;
  emu::g_alloc_device.erase(it->first);
  emu::g_device_allocs.erase(it);
  free(p);
  return cudaSuccess;
}
cudaError_t cudaMallocHost(void** p, size_t n) {
  if (cudaError_t e = emu::unsafe_during_capture()) return e;
  if (posix_memalign(p, 256, n ? n : 1)) { *p = nullptr; return cudaErrorMemoryAllocation; }
  if (emu::poison()) memset(*p, 0xFF, n);
  std::lock_guard<std::mutex> lk(emu::g_mu);
  emu::g_pinned[reinterpret_cast<uintptr_t>(*p)] = n;
  return cudaSuccess;
}
cudaError_t cudaFreeHost(void* p) {
  if (cudaError_t e = emu::unsafe_during_capture()) return e;
  if (!p) return cudaSuccess;
  emu::flush_all();
  std::lock_guard<std::mutex> lk(emu::g_mu);
  auto it = emu::g_pinned.find(reinterpret_cast<uintptr_t>(p));
  if (it == emu::g_pinned.end()) return cudaErrorInvalidValue;
  if (emu::poison()) memset(p, 0xFF, it->second);
  emu::g_pinned.erase(it);
  free(p);
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind kind, cudaStream_t s) {
  if (emu::deferred() && kind == cudaMemcpyHostToDevice && !emu::is_pinned(src)) {
    // pageable source: read now (CUDA copies it to a staging buffer before returning)
    auto copy = std::make_shared<std::vector<unsigned char>>(static_cast<const unsigned char*>(src),
                                                             static_cast<const unsigned char*>(src) + n);
    return emu::enqueue(s, [=] { memcpy(dst, copy->data(), n); });
  }
  if (cudaError_t e = emu::enqueue(s, [=] { memcpy(dst, src, n); })) return e;
  if (emu::deferred() && kind == cudaMemcpyDeviceToHost && !emu::is_pinned(dst)) {
    bool capturing;
    {
      std::lock_guard<std::mutex> lk(emu::g_mu);
      capturing = emu::g_capturing.count(s) != 0;
    }
    if (!capturing) emu::flush(emu::stream_of(s));  // into pageable memory: returns when the copy is done
  }
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* dst, int v, size_t n, cudaStream_t s) {
  return emu::enqueue(s, [=] { memset(dst, v, n); });
}
cudaError_t cudaPointerGetAttributes(cudaPointerAttributes* a, const void* p) {
  memset(a, 0, sizeof *a);
  std::lock_guard<std::mutex> lk(emu::g_mu);
  if (emu::in(emu::g_device_allocs, p)) {
    a->type = cudaMemoryTypeDevice;
    a->devicePointer = const_cast<void*>(p);
    auto it = emu::g_alloc_device.upper_bound(reinterpret_cast<uintptr_t>(p));
    a->device = (--it)->second;
  } else if (emu::in(emu::g_pinned, p)) {
    a->type = cudaMemoryTypeHost;
    a->hostPointer = const_cast<void*>(p);
  } else {
    a->type = cudaMemoryTypeUnregistered;
  }
  return cudaSuccess;
}
cudaError_t cudaFuncSetAttribute(const void* f, cudaFuncAttribute attr, int v) {
  if (!f) return cudaErrorInvalidDeviceFunction;
  if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) {
    if (v < 0 || static_cast<size_t>(v) > emu::kDynamicSmemMax) return cudaErrorInvalidValue;
    std::lock_guard<std::mutex> lk(emu::g_mu);
    emu::g_max_dynamic_smem[{f, emu::t_device}] = v;
  }
  return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned) {
  static int ids = 0;
  std::lock_guard<std::mutex> lk(emu::g_mu);
  *s = new CUstream_st{++ids, emu::t_device, {}, {}};
  emu::g_streams.insert(*s);
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t s) {
  if (!s) return cudaErrorInvalidValue;
  emu::flush(s);  // queued work still runs
  std::lock_guard<std::mutex> lk(emu::g_mu);
  if (!emu::g_streams.erase(s)) return cudaErrorInvalidValue;
  delete s;
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  if (cudaError_t e = emu::unsafe_during_capture()) return e;
  {
    std::lock_guard<std::mutex> lk(emu::g_mu);
    if (emu::g_capturing.count(s)) return cudaErrorStreamCaptureUnsupported;
  }
  emu::flush(emu::stream_of(s));
  emu::check_guards("cudaStreamSynchronize");
  return cudaSuccess;
}
cudaError_t cudaEventCreate(cudaEvent_t* e) { *e = new CUevent_st; return cudaSuccess; }
cudaError_t cudaEventDestroy(cudaEvent_t e) { delete e; return cudaSuccess; }
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
  e->done = false;
  return emu::enqueue(s, [e] { e->t_ms = emu::now_ms(); e->done = true; });
}
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t a, cudaEvent_t b) {
  if (!a->done || !b->done) return cudaErrorNotReady;
  *ms = (float)(b->t_ms - a->t_ms);
  return cudaSuccess;
}

cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode) {
  if (!s) return cudaErrorStreamCaptureUnsupported;
  std::lock_guard<std::mutex> lk(emu::g_mu);
  if (emu::g_capturing.count(s) || emu::t_capture) return cudaErrorIllegalState;
  emu::t_capture = emu::g_capturing[s] = new CUgraph_st;
  return cudaSuccess;
}
cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t* g) {
  std::lock_guard<std::mutex> lk(emu::g_mu);
  auto it = emu::g_capturing.find(s);
  if (it == emu::g_capturing.end()) { *g = nullptr; return cudaErrorIllegalState; }
  CUgraph_st* graph = it->second;
  emu::g_capturing.erase(it);
  if (emu::t_capture == graph) emu::t_capture = nullptr;
  if (graph->invalidated) {
    delete graph;
    *g = nullptr;
    return cudaErrorStreamCaptureInvalidated;
  }
  *g = graph;
  return cudaSuccess;
}
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* e, cudaGraph_t g, unsigned long long) {
  *e = new CUgraphExec_st{g->work};
  return cudaSuccess;
}
cudaError_t cudaGraphDestroy(cudaGraph_t g) { delete g; return cudaSuccess; }
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t e) { delete e; return cudaSuccess; }
cudaError_t cudaGraphLaunch(cudaGraphExec_t e, cudaStream_t s) {
  for (auto& w : e->work)
    if (cudaError_t err = emu::enqueue(s, w)) return err;
  return cudaSuccess;
}

}  // extern "C"
