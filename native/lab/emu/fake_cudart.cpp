// A fake CUDA runtime for the host emulation build: just the cuda* entry points libreskern_cuda calls, backed by
// host memory. "Device" memory is posix_memalign'ed host memory (so ASan bounds-checks every kernel access);
// every stream is synchronous; events read a steady clock; stream capture records the enqueued work (emulated
// kernel launches, memcpys, memsets, event records) and graph launch replays it. The device looks like an H100
// (cc 9.0, 132 SMs, 80 GB, 227 KB opt-in shared memory). Allocations above 64 GiB fail with
// cudaErrorMemoryAllocation.
#include "cuda_emu.h"
#include <chrono>
#include <map>
#include <mutex>

namespace rk { namespace tc {
alignas(128) unsigned char smem[emu::kDynamicSmemMax];
} }

struct CUstream_st { int id; };
struct CUevent_st { double t_ms; };
struct CUgraph_st { std::vector<std::function<void()>> work; };
struct CUgraphExec_st { std::vector<std::function<void()>> work; };

namespace emu {
unsigned char* const g_dynamic_smem = rk::tc::smem;
static thread_local cudaError_t t_last = cudaSuccess;
static int g_device = 0;
static std::mutex g_mu;
static std::map<cudaStream_t, CUgraph_st*> g_capturing;

void set_launch_error(cudaError_t e) { t_last = e; }
bool enqueue(cudaStream_t s, std::function<void()> work) {
  {
    std::lock_guard<std::mutex> lk(g_mu);
    auto it = g_capturing.find(s);
    if (it != g_capturing.end()) { it->second->work.push_back(std::move(work)); return true; }
  }
  work();
  return true;
}
static double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
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
    case cudaErrorStreamCaptureInvalidated: return "cudaErrorStreamCaptureInvalidated";
    default: return "cudaErrorUnknown(emulated)";
  }
}
const char* cudaGetErrorString(cudaError_t e) { return e == cudaSuccess ? "no error" : "emulated CUDA error"; }
cudaError_t cudaGetLastError(void) { cudaError_t e = emu::t_last; emu::t_last = cudaSuccess; return e; }
cudaError_t cudaPeekAtLastError(void) { return emu::t_last; }

cudaError_t cudaRuntimeGetVersion(int* v) { *v = 13000; return cudaSuccess; }
cudaError_t cudaDriverGetVersion(int* v) { *v = 13000; return cudaSuccess; }
cudaError_t cudaGetDeviceCount(int* n) { *n = 1; return cudaSuccess; }
cudaError_t cudaGetDevice(int* d) { *d = emu::g_device; return cudaSuccess; }
cudaError_t cudaSetDevice(int d) { if (d != 0) return cudaErrorInvalidDevice; emu::g_device = d; return cudaSuccess; }
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int d) {
  if (d != 0) return cudaErrorInvalidDevice;
  memset(p, 0, sizeof *p);
  snprintf(p->name, sizeof p->name, "reskern host emulation (H100-like)");
  p->major = 9; p->minor = 0; p->multiProcessorCount = 132;
  p->totalGlobalMem = 80ull << 30; p->sharedMemPerBlockOptin = 227 * 1024; p->sharedMemPerBlock = 48 * 1024;
  p->l2CacheSize = 50 << 20; p->warpSize = 32; p->maxThreadsPerBlock = 1024;
  return cudaSuccess;
}
cudaError_t cudaDeviceGetAttribute(int* v, cudaDeviceAttr a, int d) {
  if (d != 0) return cudaErrorInvalidDevice;
  *v = a == cudaDevAttrMultiProcessorCount ? 132 : 0;
  return cudaSuccess;
}
cudaError_t cudaMemGetInfo(size_t* fr, size_t* tot) { *fr = 79ull << 30; *tot = 80ull << 30; return cudaSuccess; }

cudaError_t cudaMalloc(void** p, size_t n) {
  if (n > (64ull << 30)) { *p = nullptr; return cudaErrorMemoryAllocation; }
  if (posix_memalign(p, 256, n ? n : 1)) { *p = nullptr; return cudaErrorMemoryAllocation; }
  return cudaSuccess;
}
cudaError_t cudaFree(void* p) { free(p); return cudaSuccess; }
cudaError_t cudaMallocHost(void** p, size_t n) { return cudaMalloc(p, n); }
cudaError_t cudaFreeHost(void* p) { free(p); return cudaSuccess; }
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind, cudaStream_t s) {
  emu::enqueue(s, [=] { memcpy(dst, src, n); });
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* dst, int v, size_t n, cudaStream_t s) {
  emu::enqueue(s, [=] { memset(dst, v, n); });
  return cudaSuccess;
}
cudaError_t cudaPointerGetAttributes(cudaPointerAttributes* a, const void*) {
  memset(a, 0, sizeof *a);
  a->type = cudaMemoryTypeUnregistered;  // host pointers are read by value; in emulation everything is host memory
  return cudaSuccess;
}
cudaError_t cudaFuncSetAttribute(const void*, cudaFuncAttribute, int v) {
  return v <= 227 * 1024 ? cudaSuccess : cudaErrorInvalidValue;
}

static int g_stream_ids = 0;
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned) { *s = new CUstream_st{++g_stream_ids}; return cudaSuccess; }
cudaError_t cudaStreamDestroy(cudaStream_t s) { delete s; return cudaSuccess; }
cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  std::lock_guard<std::mutex> lk(emu::g_mu);
  return emu::g_capturing.count(s) ? cudaErrorStreamCaptureUnsupported : cudaSuccess;
}
cudaError_t cudaEventCreate(cudaEvent_t* e) { *e = new CUevent_st{0}; return cudaSuccess; }
cudaError_t cudaEventDestroy(cudaEvent_t e) { delete e; return cudaSuccess; }
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
  emu::enqueue(s, [e] { e->t_ms = emu::now_ms(); });
  return cudaSuccess;
}
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t a, cudaEvent_t b) { *ms = (float)(b->t_ms - a->t_ms); return cudaSuccess; }

cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode) {
  if (!s) return cudaErrorStreamCaptureUnsupported;
  std::lock_guard<std::mutex> lk(emu::g_mu);
  if (emu::g_capturing.count(s)) return cudaErrorIllegalState;
  emu::g_capturing[s] = new CUgraph_st;
  return cudaSuccess;
}
cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t* g) {
  std::lock_guard<std::mutex> lk(emu::g_mu);
  auto it = emu::g_capturing.find(s);
  if (it == emu::g_capturing.end()) { *g = nullptr; return cudaErrorIllegalState; }
  *g = it->second;
  emu::g_capturing.erase(it);
  return cudaSuccess;
}
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* e, cudaGraph_t g, unsigned long long) {
  *e = new CUgraphExec_st{g->work};
  return cudaSuccess;
}
cudaError_t cudaGraphDestroy(cudaGraph_t g) { delete g; return cudaSuccess; }
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t e) { delete e; return cudaSuccess; }
cudaError_t cudaGraphLaunch(cudaGraphExec_t e, cudaStream_t s) {
  for (auto& w : e->work) emu::enqueue(s, w);
  return cudaSuccess;
}

}  // extern "C"
