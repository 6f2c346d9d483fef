// ab_cpu_libs: two builds of libreskern_cpu.so in one process, the same conv layers timed alternately (A, B, A, B,
// ...), so that a neighbour on a shared machine slows both alike; prints each side's median / best, the A/B time
// ratio (> 1 = B faster) and how far B's output is from A's ("same" = bit-identical, else the relative L2 difference).
// Even so, the same library against itself reads 0.9-1.1 on a busy VM: run both orders (A B, then B A) before
// believing a 5-10 % difference.
//
// Not built by CMake (plain C++, dlopen): scripts/cpu-lib-ab.sh builds a revision's library and runs this, or
//   g++ -O2 -Inative/include -o /tmp/ab_cpu_libs native/lab/ab_cpu_libs.cpp -ldl
//   /tmp/ab_cpu_libs OLD/libreskern_cpu.so NEW/libreskern_cpu.so [--set resnet50|resnext50|grouped|wino|cifar]
//       [--batch 1,8] [--threads 2] [--reps 15] [--filter TEXT] [--cold N]
// Sets: resnet50 = its 1x1 convs, strided 3x3s and the 7x7-stage 3x3; resnext50 = ResNeXt-50 32x4d's 1x1 convs;
// grouped = its grouped 3x3 convs (32 groups); wino = the 3x3 stride-1 shapes of the Winograd paths (incl. 512@14);
// cifar = CIFAR ResNet-20's convs at 32x32.
// Weights are packed by each library with its own packer and the output-size hint (rk_cpu_conv_pack_hint when the
// library has it, else rk_cpu_conv_pack_ex), as the backend packs them. --cold N: N copies of the packed weights,
// cycled (per-layer time = one pass / N), so that weights come from memory as in a whole model.
// Exit: 0, or 2 on a load / argument error.
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {
typedef size_t (*psz_ex_t)(int, int, int, int, int, int);
typedef int (*pack_ex_t)(const float*, int, int, int, int, int, int, float*);
typedef size_t (*psz_hint_t)(int, int, int, int, int, int, long long);
typedef int (*pack_hint_t)(const float*, int, int, int, int, int, int, long long, float*);
typedef int (*conv_t)(const float*, int, int, int, int, const float*, int, int, int, int, int, int, int, const float*,
                      const float*, const float*, int, int, int, int, int, float*, int, int);
typedef void (*threads_t)(int);

struct Lib {
  psz_ex_t psz_ex;
  pack_ex_t pack_ex;
  psz_hint_t psz_hint;  // null in libraries older than the output-size hint
  pack_hint_t pack_hint;
  conv_t conv;
  size_t packed_size(int K, int C, int R, int groups, int stride, long long pixels) const {
    return psz_hint ? psz_hint(K, C, R, R, groups, stride, pixels) : psz_ex(K, C, R, R, groups, stride);
  }
  int pack(const float* w, int K, int C, int R, int groups, int stride, long long pixels, float* out) const {
    return pack_hint ? pack_hint(w, K, C, R, R, groups, stride, pixels, out) : pack_ex(w, K, C, R, R, groups, stride, out);
  }
};

Lib load(const char* path, int threads) {
  void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    fprintf(stderr, "ab_cpu_libs: %s\n", dlerror());
    exit(2);
  }
  Lib l{(psz_ex_t)dlsym(h, "rk_cpu_conv_packed_size_ex"), (pack_ex_t)dlsym(h, "rk_cpu_conv_pack_ex"),
        (psz_hint_t)dlsym(h, "rk_cpu_conv_packed_size_hint"), (pack_hint_t)dlsym(h, "rk_cpu_conv_pack_hint"),
        (conv_t)dlsym(h, "rk_cpu_conv2d")};
  threads_t set_threads = (threads_t)dlsym(h, "rk_cpu_set_threads");
  if (!l.psz_ex || !l.pack_ex || !l.conv || !set_threads) {
    fprintf(stderr, "ab_cpu_libs: %s lacks the rk_cpu_conv* entry points\n", path);
    exit(2);
  }
  set_threads(threads);
  return l;
}

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Layer {
  const char* name;
  int H, C, K, R, stride, groups, res, count;  // square input H x H; res: identity residual; count in the network
};

// ResNet-50 (v1.5) / ResNeXt-50 32x4d layer shapes at 224x224, batch 1 (H = input size)
const Layer kResNet50[] = {
    {"s1 1x1 64->64", 56, 64, 64, 1, 1, 1, 0, 1},          {"s1 1x1 256->64", 56, 256, 64, 1, 1, 1, 0, 2},
    {"s1 1x1 64->256 +res", 56, 64, 256, 1, 1, 1, 1, 3},   {"s1 proj 64->256", 56, 64, 256, 1, 1, 1, 0, 1},
    {"s2 1x1 256->128", 56, 256, 128, 1, 1, 1, 0, 1},      {"s2 proj/2 256->512", 56, 256, 512, 1, 2, 1, 0, 1},
    {"s2 3x3/2 128", 56, 128, 128, 3, 2, 1, 0, 1},         {"s2 1x1 512->128", 28, 512, 128, 1, 1, 1, 0, 3},
    {"s2 1x1 128->512 +res", 28, 128, 512, 1, 1, 1, 1, 4}, {"s3 1x1 512->256", 28, 512, 256, 1, 1, 1, 0, 1},
    {"s3 proj/2 512->1024", 28, 512, 1024, 1, 2, 1, 0, 1}, {"s3 3x3/2 256", 28, 256, 256, 3, 2, 1, 0, 1},
    {"s3 1x1 1024->256", 14, 1024, 256, 1, 1, 1, 0, 5},    {"s3 1x1 256->1024 +res", 14, 256, 1024, 1, 1, 1, 1, 6},
    {"s4 1x1 1024->512", 14, 1024, 512, 1, 1, 1, 0, 1},    {"s4 proj/2 1024->2048", 14, 1024, 2048, 1, 2, 1, 0, 1},
    {"s4 3x3/2 512", 14, 512, 512, 3, 2, 1, 0, 1},         {"s4 1x1 2048->512", 7, 2048, 512, 1, 1, 1, 0, 2},
    {"s4 1x1 512->2048 +res", 7, 512, 2048, 1, 1, 1, 1, 3}, {"s4 3x3 512", 7, 512, 512, 3, 1, 1, 0, 2},
};
const Layer kResNeXt50[] = {
    {"x1 1x1 64->128", 56, 64, 128, 1, 1, 1, 0, 1},         {"x1 1x1 256->128", 56, 256, 128, 1, 1, 1, 0, 2},
    {"x1 1x1 128->256 +res", 56, 128, 256, 1, 1, 1, 1, 3},  {"x1 proj 64->256", 56, 64, 256, 1, 1, 1, 0, 1},
    {"x2 1x1 256->256 @56", 56, 256, 256, 1, 1, 1, 0, 1},   {"x2 1x1 512->256", 28, 512, 256, 1, 1, 1, 0, 3},
    {"x2 1x1 256->512 +res", 28, 256, 512, 1, 1, 1, 1, 4},  {"x2 proj/2 256->512", 56, 256, 512, 1, 2, 1, 0, 1},
    {"x3 1x1 512->512 @28", 28, 512, 512, 1, 1, 1, 0, 1},   {"x3 1x1 1024->512", 14, 1024, 512, 1, 1, 1, 0, 5},
    {"x3 1x1 512->1024 +res", 14, 512, 1024, 1, 1, 1, 1, 6}, {"x3 proj/2 512->1024", 28, 512, 1024, 1, 2, 1, 0, 1},
    {"x4 1x1 1024->1024 @14", 14, 1024, 1024, 1, 1, 1, 0, 1}, {"x4 1x1 2048->1024", 7, 2048, 1024, 1, 1, 1, 0, 2},
    {"x4 1x1 1024->2048 +res", 7, 1024, 2048, 1, 1, 1, 1, 3}, {"x4 proj/2 1024->2048", 14, 1024, 2048, 1, 2, 1, 0, 1},
};
const Layer kGrouped[] = {
    {"g1 3x3 128 cg=4", 56, 128, 128, 3, 1, 32, 0, 3},   {"g2 3x3 256 cg=8", 28, 256, 256, 3, 1, 32, 0, 4},
    {"g3 3x3 512 cg=16", 14, 512, 512, 3, 1, 32, 0, 6},  {"g4 3x3 1024 cg=32", 7, 1024, 1024, 3, 1, 32, 0, 3},
    {"g2 3x3/2 256 cg=8", 56, 256, 256, 3, 2, 32, 0, 1}, {"g3 3x3/2 512 cg=16", 28, 512, 512, 3, 2, 32, 0, 1},
};
const Layer kWino[] = {
    {"w 3x3 64@56", 56, 64, 64, 3, 1, 1, 0, 3},    {"w 3x3 128@28", 28, 128, 128, 3, 1, 1, 0, 3},
    {"w 3x3 256@14", 14, 256, 256, 3, 1, 1, 0, 5}, {"w 3x3 512@14", 14, 512, 512, 3, 1, 1, 0, 5},
    {"w 3x3 512@7", 7, 512, 512, 3, 1, 1, 0, 2},
};
// CIFAR ResNet-20 at 32x32 (counts; the option-A residual of each stage's second conv counted as identity)
const Layer kCifar[] = {
    {"c0 stem 3->16", 32, 3, 16, 3, 1, 1, 0, 1},       {"c1 3x3 16", 32, 16, 16, 3, 1, 1, 0, 3},
    {"c1 3x3 16 +res", 32, 16, 16, 3, 1, 1, 1, 3},     {"c2 3x3/2 16->32", 32, 16, 32, 3, 2, 1, 0, 1},
    {"c2 3x3 32", 16, 32, 32, 3, 1, 1, 0, 2},          {"c2 3x3 32 +res", 16, 32, 32, 3, 1, 1, 1, 3},
    {"c3 3x3/2 32->64", 16, 32, 64, 3, 2, 1, 0, 1},    {"c3 3x3 64", 8, 64, 64, 3, 1, 1, 0, 2},
    {"c3 3x3 64 +res", 8, 64, 64, 3, 1, 1, 1, 3},
};

float* aligned_floats(size_t n) { return (float*)aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64); }

void usage() {
  fprintf(stderr,
          "usage: ab_cpu_libs A.so B.so [--set resnet50|resnext50|grouped|wino|cifar] [--batch 1,8] [--threads N]\n"
          "                   [--reps N] [--filter TEXT] [--cold N]\n");
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    usage();
    return 2;
  }
  std::string set = "resnet50";
  std::vector<int> batches = {1, 8};
  int threads = 2, reps = 15, cold = 1;
  const char* filter = nullptr;
  for (int i = 3; i < argc; i++) {
    const bool more = i + 1 < argc;
    if (!strcmp(argv[i], "--set") && more) set = argv[++i];
    else if (!strcmp(argv[i], "--threads") && more) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--reps") && more) reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--filter") && more) filter = argv[++i];
    else if (!strcmp(argv[i], "--cold") && more) cold = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--batch") && more) {
      batches.clear();
      for (char* t = strtok(argv[++i], ","); t; t = strtok(nullptr, ",")) batches.push_back(atoi(t));
    } else {
      usage();
      return 2;
    }
  }
  const Layer* layers;
  size_t nlayers;
  if (set == "resnet50") layers = kResNet50, nlayers = sizeof kResNet50 / sizeof *kResNet50;
  else if (set == "resnext50") layers = kResNeXt50, nlayers = sizeof kResNeXt50 / sizeof *kResNeXt50;
  else if (set == "grouped") layers = kGrouped, nlayers = sizeof kGrouped / sizeof *kGrouped;
  else if (set == "wino") layers = kWino, nlayers = sizeof kWino / sizeof *kWino;
  else if (set == "cifar") layers = kCifar, nlayers = sizeof kCifar / sizeof *kCifar;
  else {
    usage();
    return 2;
  }
  if (reps < 1 || cold < 1 || threads < 1 || batches.empty()) {
    usage();
    return 2;
  }
  const Lib lib[2] = {load(argv[1], threads), load(argv[2], threads)};
  printf("A = %s\nB = %s\nset %s, %d thread(s), %d alternating rounds, %s weights\n", argv[1], argv[2], set.c_str(),
         threads, reps, cold > 1 ? "cold (cycled copies)" : "hot");
  printf("%-3s %-24s %9s %9s %9s %9s %8s %8s %7s %s\n", "N", "layer", "A med ms", "A best", "B med ms", "B best",
         "A/B med", "A/B best", "B GF/s", "output");
  for (int N : batches) {
    double sum[2] = {0, 0};
    for (size_t li = 0; li < nlayers; li++) {
      const Layer& L = layers[li];
      if (filter && !strstr(L.name, filter)) continue;
      const int pad = L.R / 2, P = (L.H + 2 * pad - L.R) / L.stride + 1, cg = L.C / L.groups;
      const size_t nx = (size_t)N * L.H * L.H * L.C, ny = (size_t)N * P * P * L.K, nw = (size_t)L.K * L.R * L.R * cg;
      float *x = aligned_floats(nx), *y = aligned_floats(ny), *res = aligned_floats(ny), *w = aligned_floats(nw);
      std::vector<float> scale(L.K), shift(L.K);
      for (size_t i = 0; i < nx; i++) x[i] = (float)((i * 2654435761u) % 1000) / 500.f - 1.f;
      for (size_t i = 0; i < ny; i++) res[i] = (float)((i * 2246822519u) % 1000) / 500.f - 1.f;
      for (size_t i = 0; i < nw; i++) w[i] = (float)((i * 40503u) % 1000) / 5000.f - 0.1f;
      for (int k = 0; k < L.K; k++) scale[k] = 1.f + k * 1e-3f, shift[k] = 0.1f;
      const long long pixels = (long long)P * P;
      std::vector<std::vector<float>> packed[2];
      for (int v = 0; v < 2; v++) {
        packed[v].resize(cold);
        for (auto& p : packed[v]) {
          p.resize(lib[v].packed_size(L.K, L.C, L.R, L.groups, L.stride, pixels));
          if (p.empty() || lib[v].pack(w, L.K, L.C, L.R, L.groups, L.stride, pixels, p.data()) != 0) {
            fprintf(stderr, "ab_cpu_libs: %s: pack failed in %s\n", L.name, argv[1 + v]);
            return 2;
          }
        }
      }
      std::vector<double> t[2];
      std::vector<float> ya;  // A's output, compared with B's
      double diff = 0;
      for (int r = -2; r < reps; r++)
        for (int v = 0; v < 2; v++) {
          const double t0 = now_ms();
          for (int c = 0; c < cold; c++) {
            const int st = lib[v].conv(x, N, L.H, L.H, L.C, packed[v][c].data(), L.K, L.R, L.R, L.stride, pad, pad,
                                       L.groups, scale.data(), shift.data(), L.res ? res : nullptr, L.res ? 1 : 0, P,
                                       P, L.K, 1, y, P, P);
            if (st != 0) {
              fprintf(stderr, "ab_cpu_libs: %s: conv2d returned %d in %s\n", L.name, st, argv[1 + v]);
              return 2;
            }
          }
          if (r >= 0) t[v].push_back((now_ms() - t0) / cold);
          if (r == 0 && v == 0) ya.assign(y, y + ny);
          if (r == 0 && v == 1) {  // relative L2 difference of B's output from A's (0 = bit-identical)
            double num = 0, den = 0;
            for (size_t i = 0; i < ny; i++) {
              const double d = (double)y[i] - ya[i];
              num += d * d;
              den += (double)ya[i] * ya[i];
            }
            diff = den > 0 ? sqrt(num / den) : sqrt(num);
          }
        }
      for (auto& tv : t) std::sort(tv.begin(), tv.end());
      const double med[2] = {t[0][reps / 2], t[1][reps / 2]}, best[2] = {t[0][0], t[1][0]};
      const double gflop = 2.0 * N * P * P * L.K * cg * L.R * L.R * 1e-9;
      char out[32];
      if (diff == 0) snprintf(out, sizeof out, "same");
      else snprintf(out, sizeof out, "rel %.1e", diff);  // another algorithm or summation order (or a bug: > 1e-5)
      printf("%-3d %-24s %9.3f %9.3f %9.3f %9.3f %8.3f %8.3f %7.1f %s\n", N, L.name, med[0], best[0], med[1], best[1],
             med[0] / med[1], best[0] / best[1], gflop / med[1] * 1e3, out);
      sum[0] += med[0] * L.count;
      sum[1] += med[1] * L.count;
      free(x), free(y), free(res), free(w);
    }
    printf("%-3d %-24s %9.2f %9s %9.2f %9s %8.3f   (medians x count in the network)\n", N, "weighted sum", sum[0], "",
           sum[1], "", sum[1] > 0 ? sum[0] / sum[1] : 0);
  }
  return 0;
}
