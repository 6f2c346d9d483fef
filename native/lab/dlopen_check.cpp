// dlopen_check: loads libreskern_cuda.so the way the JVM does (dlopen, no link-time dependency) and calls the
// runtime queries. On a machine without a driver/GPU rk_cuda_device_count must return RK_ERR_NO_DEVICE (4) and
// nothing may crash; on a GPU host it prints the devices. Not built by CMake (plain C++, no CUDA needed):
//   g++ -O2 -o /tmp/dlopen_check native/lab/dlopen_check.cpp -ldl && /tmp/dlopen_check /path/to/libreskern_cuda.so
// Exit: 0 = behaved (no device reported cleanly, or devices listed), 1 = unexpected status, 2 = load failure.
#include <dlfcn.h>
#include <cstdio>

typedef int (*count_fn)(int*);
typedef int (*versions_fn)(int*, int*);
typedef const char* (*err_fn)(void);
typedef int (*info_fn)(int, char*, int, int*, int*, int*, long long*, long long*);
typedef int (*malloc_fn)(void**, size_t);
typedef int (*algo_count_fn)(void);
typedef const char* (*algo_name_fn)(int);

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "libreskern_cuda.so";
  void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) { printf("dlopen failed: %s\n", dlerror()); return 2; }
  auto device_count = (count_fn)dlsym(h, "rk_cuda_device_count");
  auto versions = (versions_fn)dlsym(h, "rk_cuda_versions");
  auto last_error = (err_fn)dlsym(h, "rk_cuda_last_error");
  auto info = (info_fn)dlsym(h, "rk_cuda_device_info");
  auto cmalloc = (malloc_fn)dlsym(h, "rk_cuda_malloc");
  auto algo_count = (algo_count_fn)dlsym(h, "rk_cuda_conv2d_algo_count");
  auto algo_name = (algo_name_fn)dlsym(h, "rk_cuda_conv2d_algo_name");
  if (!device_count || !versions || !last_error || !info || !cmalloc || !algo_count || !algo_name) {
    printf("missing symbol\n");
    return 2;
  }
  int rt = -1, drv = -1;
  int st = versions(&rt, &drv);
  printf("rk_cuda_versions -> %d (runtime %d, driver %d)\n", st, rt, drv);
  printf("conv algos: %d:", algo_count());
  for (int i = 0; i < algo_count(); i++) printf(" %s", algo_name(i));
  printf("\n");
  int n = -1;
  st = device_count(&n);
  printf("rk_cuda_device_count -> %d (count %d) last_error: %s\n", st, n, last_error());
  if (st == 4) {
    void* p = nullptr;
    int st2 = cmalloc(&p, 1024);
    printf("rk_cuda_malloc without device -> %d: %s\n", st2, last_error());
    return (st2 != 0 && p == nullptr) ? 0 : 1;
  }
  if (st != 0) return 1;
  for (int d = 0; d < n; d++) {
    char name[256];
    int ma = 0, mi = 0, sms = 0;
    long long tot = 0, fr = 0;
    st = info(d, name, sizeof name, &ma, &mi, &sms, &tot, &fr);
    printf("device %d -> %d: %s cc %d.%d, %d SMs, %.1f GiB (%.1f free)\n", d, st, name, ma, mi, sms, tot / 1073741824.0,
           fr / 1073741824.0);
  }
  return 0;
}
