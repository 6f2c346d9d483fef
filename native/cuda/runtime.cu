// reskern CUDA runtime plumbing: error recording, versions, devices, memory, streams, events, graphs.
// Every CUDA call goes through RK_CUDA_TRY; failures come back as a status plus rk_cuda_last_error().
// The runtime is linked statically, so on a machine without a driver these calls return errors
// (cudaErrorInsufficientDriver / cudaErrorNoDevice -> RK_ERR_NO_DEVICE) instead of failing to load.
#include "rk_common.cuh"
#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <string>

namespace rk {

static thread_local std::string g_last_error;

rk_status set_error(rk_status status, const char* fmt, ...) {
  char buf[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  g_last_error = buf;
  return status;
}

rk_status cuda_fail(cudaError_t err, const char* file, int line, const char* what) {
  const char* base = file;
  for (const char* q = file; *q; q++)
    if (*q == '/') base = q + 1;
  rk_status st = RK_ERR_CUDA;
  if (err == cudaErrorMemoryAllocation) st = RK_ERR_OUT_OF_MEMORY;
  else if (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver) st = RK_ERR_NO_DEVICE;
  set_error(st, "%s:%d: %s: %s (%s)", base, line, cudaGetErrorName(err), cudaGetErrorString(err), what);
  // Clear the non-sticky error so that the next launch check does not report this one again.
  (void)cudaGetLastError();
  return st;
}

int current_device_sm_count() {
  static std::atomic<int> cache[64];  // 0 = not read yet
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess) { (void)cudaGetLastError(); return 0; }
  if (dev >= 0 && dev < 64) {
    int v = cache[dev].load(std::memory_order_relaxed);
    if (v > 0) return v;
  }
  int sms = 0;
  if (cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  if (dev >= 0 && dev < 64) cache[dev].store(sms, std::memory_order_relaxed);
  return sms;
}

}  // namespace rk

using rk::set_error;

static inline cudaStream_t as_stream(void* s) { return reinterpret_cast<cudaStream_t>(s); }

extern "C" {

const char* rk_cuda_last_error(void) { return rk::g_last_error.c_str(); }

rk_status rk_cuda_versions(int* runtime_version, int* driver_version) {
  RK_ARG_CHECK(runtime_version && driver_version, "versions: null argument");
  *runtime_version = 0;
  *driver_version = 0;
  RK_CUDA_TRY(cudaRuntimeGetVersion(runtime_version));
  // Returns 0 (and success) when no driver is installed.
  cudaError_t e = cudaDriverGetVersion(driver_version);
  if (e != cudaSuccess) { *driver_version = 0; (void)cudaGetLastError(); }
  return RK_OK;
}

rk_status rk_cuda_device_count(int* count) {
  RK_ARG_CHECK(count, "device_count: null argument");
  *count = 0;
  int n = 0;
  RK_CUDA_TRY(cudaGetDeviceCount(&n));
  if (n <= 0) return set_error(RK_ERR_NO_DEVICE, "device_count: no CUDA device");
  *count = n;
  return RK_OK;
}

rk_status rk_cuda_device_info(int dev, char* name, int name_len, int* cc_major, int* cc_minor, int* sm_count,
                              long long* total_mem, long long* free_mem) {
  int n = 0;
  RK_CUDA_TRY(cudaGetDeviceCount(&n));
  RK_ARG_CHECK(dev >= 0 && dev < n, "device_info: device %d out of range [0, %d)", dev, n);
  cudaDeviceProp prop;
  RK_CUDA_TRY(cudaGetDeviceProperties(&prop, dev));
  if (name && name_len > 0) {
    snprintf(name, static_cast<size_t>(name_len), "%s", prop.name);
  }
  if (cc_major) *cc_major = prop.major;
  if (cc_minor) *cc_minor = prop.minor;
  if (sm_count) *sm_count = prop.multiProcessorCount;
  if (total_mem) *total_mem = static_cast<long long>(prop.totalGlobalMem);
  if (free_mem) {
    // cudaMemGetInfo reports on the current device: switch, query, switch back. Best effort: a GPU in
    // exclusive-process mode that another process holds (cudaErrorDevicesUnavailable), or one whose context cannot
    // be made, still has its properties; its free memory is then -1 (unknown).
    *free_mem = -1;
    int cur = 0;
    RK_CUDA_TRY(cudaGetDevice(&cur));
    if (cur == dev || cudaSetDevice(dev) == cudaSuccess) {
      size_t fr = 0, tot = 0;
      if (cudaMemGetInfo(&fr, &tot) == cudaSuccess) *free_mem = static_cast<long long>(fr);
      if (cur != dev) (void)cudaSetDevice(cur);
    }
    (void)cudaGetLastError();
  }
  return RK_OK;
}

rk_status rk_cuda_set_device(int dev) {
  RK_CUDA_TRY(cudaSetDevice(dev));
  return RK_OK;
}

// cuCtxGetCurrent / cuCtxSetCurrent from the driver that the static runtime loaded (CUresult is an int enum,
// CUcontext a pointer; declared here so that no libcuda is linked). Looked up once.
namespace {
using CtxGetFn = int (*)(void**);
using CtxSetFn = int (*)(void*);
struct CtxFns {
  CtxGetFn get = nullptr;
  CtxSetFn set = nullptr;
  std::string why;
};
const CtxFns& ctx_fns() {
  static const CtxFns fns = [] {
    CtxFns f;
    void* g = nullptr;
    void* s = nullptr;
    cudaDriverEntryPointQueryResult qg = cudaDriverEntryPointSymbolNotFound, qs = cudaDriverEntryPointSymbolNotFound;
    cudaError_t eg = cudaGetDriverEntryPointByVersion("cuCtxGetCurrent", &g, 12000, cudaEnableDefault, &qg);
    cudaError_t es = cudaGetDriverEntryPointByVersion("cuCtxSetCurrent", &s, 12000, cudaEnableDefault, &qs);
    if (eg == cudaSuccess && es == cudaSuccess && qg == cudaDriverEntryPointSuccess &&
        qs == cudaDriverEntryPointSuccess && g && s) {
      f.get = reinterpret_cast<CtxGetFn>(g);
      f.set = reinterpret_cast<CtxSetFn>(s);
    } else {
      f.why = std::string("cuCtxGetCurrent/cuCtxSetCurrent not found (") +
              cudaGetErrorName(eg != cudaSuccess ? eg : es) + ")";
      (void)cudaGetLastError();
    }
    return f;
  }();
  return fns;
}
}  // namespace

rk_status rk_cuda_context_get(void** ctx) {
  RK_ARG_CHECK(ctx, "context_get: null argument");
  *ctx = nullptr;
  const CtxFns& f = ctx_fns();
  if (!f.get) return set_error(RK_ERR_CUDA, "context_get: %s", f.why.c_str());
  int r = f.get(ctx);
  if (r != 0) {
    *ctx = nullptr;
    return set_error(RK_ERR_CUDA, "context_get: cuCtxGetCurrent returned %d", r);
  }
  return RK_OK;
}

rk_status rk_cuda_context_set(void* ctx) {
  const CtxFns& f = ctx_fns();
  if (!f.set) return set_error(RK_ERR_CUDA, "context_set: %s", f.why.c_str());
  int r = f.set(ctx);
  if (r != 0) return set_error(RK_ERR_CUDA, "context_set: cuCtxSetCurrent returned %d", r);
  return RK_OK;
}

// ---- memory ----
rk_status rk_cuda_malloc(void** ptr, size_t bytes) {
  RK_ARG_CHECK(ptr, "malloc: null argument");
  *ptr = nullptr;
  if (bytes == 0) return RK_OK;
  RK_CUDA_TRY(cudaMalloc(ptr, bytes));
  return RK_OK;
}
rk_status rk_cuda_free(void* ptr) {
  if (!ptr) return RK_OK;
  RK_CUDA_TRY(cudaFree(ptr));
  return RK_OK;
}
rk_status rk_cuda_malloc_host(void** ptr, size_t bytes) {
  RK_ARG_CHECK(ptr, "malloc_host: null argument");
  *ptr = nullptr;
  if (bytes == 0) return RK_OK;
  RK_CUDA_TRY(cudaMallocHost(ptr, bytes));
  return RK_OK;
}
rk_status rk_cuda_free_host(void* ptr) {
  if (!ptr) return RK_OK;
  RK_CUDA_TRY(cudaFreeHost(ptr));
  return RK_OK;
}
rk_status rk_cuda_memcpy_h2d(void* dst, const void* src, size_t bytes, void* stream) {
  if (bytes == 0) return RK_OK;
  RK_ARG_CHECK(dst && src, "memcpy_h2d: null pointer");
  RK_CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, as_stream(stream)));
  return RK_OK;
}
rk_status rk_cuda_memcpy_d2h(void* dst, const void* src, size_t bytes, void* stream) {
  if (bytes == 0) return RK_OK;
  RK_ARG_CHECK(dst && src, "memcpy_d2h: null pointer");
  RK_CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, as_stream(stream)));
  return RK_OK;
}
rk_status rk_cuda_memcpy_d2d(void* dst, const void* src, size_t bytes, void* stream) {
  if (bytes == 0) return RK_OK;
  RK_ARG_CHECK(dst && src, "memcpy_d2d: null pointer");
  RK_CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, as_stream(stream)));
  return RK_OK;
}
rk_status rk_cuda_memset(void* dst, int byte_value, size_t bytes, void* stream) {
  if (bytes == 0) return RK_OK;
  RK_ARG_CHECK(dst, "memset: null pointer");
  RK_CUDA_TRY(cudaMemsetAsync(dst, byte_value, bytes, as_stream(stream)));
  return RK_OK;
}

// ---- streams, events ----
rk_status rk_cuda_stream_create(void** stream) {
  RK_ARG_CHECK(stream, "stream_create: null argument");
  cudaStream_t s = nullptr;
  RK_CUDA_TRY(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  *stream = s;
  return RK_OK;
}
rk_status rk_cuda_stream_destroy(void* stream) {
  if (!stream) return RK_OK;  // the legacy default stream is not ours to destroy
  RK_CUDA_TRY(cudaStreamDestroy(as_stream(stream)));
  return RK_OK;
}
rk_status rk_cuda_stream_synchronize(void* stream) {
  RK_CUDA_TRY(cudaStreamSynchronize(as_stream(stream)));
  return RK_OK;
}
rk_status rk_cuda_event_create(void** event) {
  RK_ARG_CHECK(event, "event_create: null argument");
  cudaEvent_t e = nullptr;
  RK_CUDA_TRY(cudaEventCreate(&e));
  *event = e;
  return RK_OK;
}
rk_status rk_cuda_event_destroy(void* event) {
  if (!event) return RK_OK;
  RK_CUDA_TRY(cudaEventDestroy(reinterpret_cast<cudaEvent_t>(event)));
  return RK_OK;
}
rk_status rk_cuda_event_record(void* event, void* stream) {
  RK_ARG_CHECK(event, "event_record: null event");
  RK_CUDA_TRY(cudaEventRecord(reinterpret_cast<cudaEvent_t>(event), as_stream(stream)));
  return RK_OK;
}
rk_status rk_cuda_event_elapsed_ms(void* start, void* stop, float* ms) {
  RK_ARG_CHECK(start && stop && ms, "event_elapsed_ms: null argument");
  RK_CUDA_TRY(cudaEventElapsedTime(ms, reinterpret_cast<cudaEvent_t>(start), reinterpret_cast<cudaEvent_t>(stop)));
  return RK_OK;
}

// ---- graphs: capture the work issued on `stream`, instantiate, replay ----
rk_status rk_cuda_graph_begin_capture(void* stream) {
  RK_ARG_CHECK(stream, "graph_begin_capture: capture needs a created stream (not the legacy default stream)");
  // Thread-local mode: other threads of the JVM may keep using CUDA while this one captures.
  RK_CUDA_TRY(cudaStreamBeginCapture(as_stream(stream), cudaStreamCaptureModeThreadLocal));
  return RK_OK;
}
rk_status rk_cuda_graph_end_capture(void* stream, void** graph_exec) {
  RK_ARG_CHECK(stream && graph_exec, "graph_end_capture: null argument");
  *graph_exec = nullptr;
  cudaGraph_t graph = nullptr;
  RK_CUDA_TRY(cudaStreamEndCapture(as_stream(stream), &graph));
  if (!graph) return set_error(RK_ERR_CUDA, "graph_end_capture: capture produced no graph");
  cudaGraphExec_t exec = nullptr;
  cudaError_t e = cudaGraphInstantiate(&exec, graph, 0);
  cudaError_t e2 = cudaGraphDestroy(graph);  // the executable graph keeps its own copy
  RK_CUDA_TRY(e);
  if (e2 != cudaSuccess) {
    (void)cudaGraphExecDestroy(exec);
    RK_CUDA_TRY(e2);
  }
  *graph_exec = exec;
  return RK_OK;
}
rk_status rk_cuda_graph_launch(void* graph_exec, void* stream) {
  RK_ARG_CHECK(graph_exec, "graph_launch: null graph");
  RK_CUDA_TRY(cudaGraphLaunch(reinterpret_cast<cudaGraphExec_t>(graph_exec), as_stream(stream)));
  return RK_OK;
}
rk_status rk_cuda_graph_destroy(void* graph_exec) {
  if (!graph_exec) return RK_OK;
  RK_CUDA_TRY(cudaGraphExecDestroy(reinterpret_cast<cudaGraphExec_t>(graph_exec)));
  return RK_OK;
}

}  // extern "C"
