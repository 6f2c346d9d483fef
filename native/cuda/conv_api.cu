// rk_cuda_conv2d: argument validation, the algo table, can_implement rules and the algo = -1 heuristic.
//
// Algos (index: name -> kernel):
//   0  simt_f32_generic            everything (fp32 FMA; F32/F16/BF16 activations)
//   1- 3  tc_f16_{128x128,128x64,64x64}     mma.m16n8k16 f16, im2col loader
//   4- 6  tc_bf16_{128x128,128x64,64x64}    mma.m16n8k16 bf16, im2col loader
//   7- 9  tc_tf32_{128x128,128x64,64x64}    mma.m16n8k8 tf32 (F32 in/out, math = RK_MATH_TF32 only)
//   10-12 tc_{f16,bf16,tf32}_64x64_avgpool  1x1 conv with the fused 2x2/2 pre-avgpool (ResNet-D shortcut)
//   13-14 tc_{f16,bf16}_128x64_gather       element-gather loader for C % 8 != 0 (7x7 stem on C = 3)
//   15-20 tc_{f16,bf16,tf32}_{256x128,256x64}  64x64 warp tiles (less smem traffic per MMA), im2col loader
// can_implement (tensor-core algos): dtype (and math for tf32) match; groups == 1; K % 8 == 0;
//   im2col/avgpool: C % (16 B / element size) == 0 (8 for f16/bf16, 4 for tf32); avgpool: pre_avgpool with
//   R = S = 1, stride 1; im2col/gather: pre_avgpool == 0; gather: R·S·C <= 1024, R, S <= 255;
//   sizes: H·W·C < 2^31 and N·P·Q < 2^31. At run time x, w, y (and res for identity, y2) must be 16-byte aligned;
//   the heuristic falls back to simt when they are not, a forced algo returns RK_ERR_UNSUPPORTED.
#include "conv.cuh"
#include <climits>

namespace rk {
namespace {

#define RK_TC(dt, tile, mode) { launch_conv_tc_##dt##_##tile##_##mode, nullptr, nullptr }
const ConvAlgo kAlgos[] = {
    {"simt_f32_generic", ConvKind::Simt, -1, 0, 64, 64, {launch_conv_simt_f32, launch_conv_simt_f16, launch_conv_simt_bf16}},
    {"tc_f16_128x128", ConvKind::TensorCore, RK_F16, TC_IM2COL, 128, 128, RK_TC(f16, 128x128, im2col)},
    {"tc_f16_128x64", ConvKind::TensorCore, RK_F16, TC_IM2COL, 128, 64, RK_TC(f16, 128x64, im2col)},
    {"tc_f16_64x64", ConvKind::TensorCore, RK_F16, TC_IM2COL, 64, 64, RK_TC(f16, 64x64, im2col)},
    {"tc_bf16_128x128", ConvKind::TensorCore, RK_BF16, TC_IM2COL, 128, 128, RK_TC(bf16, 128x128, im2col)},
    {"tc_bf16_128x64", ConvKind::TensorCore, RK_BF16, TC_IM2COL, 128, 64, RK_TC(bf16, 128x64, im2col)},
    {"tc_bf16_64x64", ConvKind::TensorCore, RK_BF16, TC_IM2COL, 64, 64, RK_TC(bf16, 64x64, im2col)},
    {"tc_tf32_128x128", ConvKind::TensorCore, RK_F32, TC_IM2COL, 128, 128, RK_TC(tf32, 128x128, im2col)},
    {"tc_tf32_128x64", ConvKind::TensorCore, RK_F32, TC_IM2COL, 128, 64, RK_TC(tf32, 128x64, im2col)},
    {"tc_tf32_64x64", ConvKind::TensorCore, RK_F32, TC_IM2COL, 64, 64, RK_TC(tf32, 64x64, im2col)},
    {"tc_f16_64x64_avgpool", ConvKind::TensorCore, RK_F16, TC_AVGPOOL, 64, 64, RK_TC(f16, 64x64, avgpool)},
    {"tc_bf16_64x64_avgpool", ConvKind::TensorCore, RK_BF16, TC_AVGPOOL, 64, 64, RK_TC(bf16, 64x64, avgpool)},
    {"tc_tf32_64x64_avgpool", ConvKind::TensorCore, RK_F32, TC_AVGPOOL, 64, 64, RK_TC(tf32, 64x64, avgpool)},
    {"tc_f16_128x64_gather", ConvKind::TensorCore, RK_F16, TC_GATHER, 128, 64, RK_TC(f16, 128x64, gather)},
    {"tc_bf16_128x64_gather", ConvKind::TensorCore, RK_BF16, TC_GATHER, 128, 64, RK_TC(bf16, 128x64, gather)},
    {"tc_f16_256x128", ConvKind::TensorCore, RK_F16, TC_IM2COL, 256, 128, RK_TC(f16, 256x128, im2col)},
    {"tc_f16_256x64", ConvKind::TensorCore, RK_F16, TC_IM2COL, 256, 64, RK_TC(f16, 256x64, im2col)},
    {"tc_bf16_256x128", ConvKind::TensorCore, RK_BF16, TC_IM2COL, 256, 128, RK_TC(bf16, 256x128, im2col)},
    {"tc_bf16_256x64", ConvKind::TensorCore, RK_BF16, TC_IM2COL, 256, 64, RK_TC(bf16, 256x64, im2col)},
    {"tc_tf32_256x128", ConvKind::TensorCore, RK_F32, TC_IM2COL, 256, 128, RK_TC(tf32, 256x128, im2col)},
    {"tc_tf32_256x64", ConvKind::TensorCore, RK_F32, TC_IM2COL, 256, 64, RK_TC(tf32, 256x64, im2col)},
};
#undef RK_TC
constexpr int kNumAlgos = static_cast<int>(sizeof(kAlgos) / sizeof(kAlgos[0]));

// Shape validation shared by can_implement and conv2d (the same rules as rk_cpu_conv2d, plus pre_avgpool).
rk_status validate_shape(const ConvShape& s) {
  RK_ARG_CHECK(valid_dtype(s.dtype), "conv2d: bad dtype %d", s.dtype);
  RK_ARG_CHECK(s.math == RK_MATH_EXACT || s.math == RK_MATH_TF32, "conv2d: bad math %d", s.math);
  RK_ARG_CHECK(s.N > 0 && s.H > 0 && s.W > 0 && s.C > 0 && s.K > 0 && s.R > 0 && s.S > 0 && s.stride > 0 &&
                   s.P > 0 && s.Q > 0 && s.pad_h >= 0 && s.pad_w >= 0,
               "conv2d: non-positive size (N=%d H=%d W=%d C=%d K=%d R=%d S=%d stride=%d P=%d Q=%d pad=%d,%d)", s.N,
               s.H, s.W, s.C, s.K, s.R, s.S, s.stride, s.P, s.Q, s.pad_h, s.pad_w);
  RK_ARG_CHECK(s.groups > 0 && s.C % s.groups == 0 && s.K % s.groups == 0,
               "conv2d: groups=%d must divide C=%d and K=%d", s.groups, s.C, s.K);
  RK_ARG_CHECK(s.res_mode >= RK_RES_NONE && s.res_mode <= RK_RES_OPTION_A, "conv2d: bad res_mode %d", s.res_mode);
  RK_ARG_CHECK(s.pre_avgpool == 0 || s.pre_avgpool == 1, "conv2d: pre_avgpool must be 0 or 1");
  if (s.pre_avgpool)
    RK_ARG_CHECK(s.R == 1 && s.S == 1 && s.stride == 1 && s.pad_h == 0 && s.pad_w == 0 && s.P == (s.H + 1) / 2 &&
                     s.Q == (s.W + 1) / 2,
                 "conv2d: pre_avgpool needs a 1x1 stride-1 unpadded conv with P = ceil(H/2), Q = ceil(W/2) "
                 "(got R=%d S=%d stride=%d pad=%d,%d H=%d W=%d P=%d Q=%d)",
                 s.R, s.S, s.stride, s.pad_h, s.pad_w, s.H, s.W, s.P, s.Q);
  const long long img = static_cast<long long>(s.H) * s.W * s.C, M = static_cast<long long>(s.N) * s.P * s.Q;
  const long long ktot = static_cast<long long>(s.R) * s.S * (s.C / s.groups);
  const long long oimg = static_cast<long long>(s.P) * s.Q * s.K;
  RK_ARG_CHECK(img < INT_MAX && M < INT_MAX && ktot < INT_MAX && oimg < INT_MAX,
               "conv2d: sizes beyond 32-bit indexing (H*W*C=%lld, N*P*Q=%lld, R*S*C=%lld)", img, M, ktot);
  return RK_OK;
}

// Pure shape rule of one algo (assumes validate_shape passed). Writes the reason into last_error on failure.
// quiet: probing by the heuristic, do not touch rk_cuda_last_error().
rk_status algo_can_implement(int a, const ConvShape& s, bool quiet = false) {
  const ConvAlgo& al = kAlgos[a];
  if (al.kind == ConvKind::Simt) return RK_OK;
  auto no = [&](const char* why) {
    if (quiet) return RK_ERR_UNSUPPORTED;
    return set_error(RK_ERR_UNSUPPORTED, "conv2d: algo %s cannot implement this problem: %s", al.name, why);
  };
  if (s.dtype != al.dtype) return no("dtype");
  if (al.dtype == RK_F32 && s.math != RK_MATH_TF32) return no("fp32 needs math = RK_MATH_TF32 for tensor cores");
  if (s.groups != 1) return no("groups != 1");
  if (s.K % 8) return no("K % 8 != 0");
  const int ce = 16 / static_cast<int>(dtype_size(s.dtype));
  switch (al.mode) {
    case TC_IM2COL:
      if (s.pre_avgpool) return no("pre_avgpool (use the *_avgpool algo)");
      if (s.C % ce) return no("C % (16 bytes / element) != 0");
      break;
    case TC_AVGPOOL:
      if (!s.pre_avgpool) return no("only for pre_avgpool = 1");
      if (s.C % ce) return no("C % (16 bytes / element) != 0");
      break;
    case TC_GATHER:
      if (s.pre_avgpool) return no("pre_avgpool");
      if (static_cast<long long>(s.R) * s.S * s.C > kGatherMaxKtot) return no("R*S*C > 1024");
      if (s.R > 255 || s.S > 255) return no("R or S > 255");
      break;
    default: return no("unknown mode");
  }
  return RK_OK;
}

// Heuristic: tensor cores whenever the dtype/math allow and a kernel implements the shape, fp32 + EXACT -> simt.
// Among the im2col tiles: the largest one that still gives about one full wave of CTAs (M = N·P·Q and K against
// the SM count), never a 128-wide N tile when K <= 64 (half of it would be empty), ties to the wider N tile; if
// every tile leaves SMs idle, the smallest. The specialised loaders (avgpool, gather) are taken only when no im2col
// tile can do the problem.
int heuristic(const ConvShape& s, int sms) {
  if (s.dtype == RK_F32 && s.math == RK_MATH_EXACT) return 0;
  if (sms <= 0) sms = 108;
  const long long M = static_cast<long long>(s.N) * s.P * s.Q;
  auto ctas = [&](const ConvAlgo& al) { return ((M + al.bm - 1) / al.bm) * ((s.K + al.bn - 1) / al.bn); };
  auto area = [](int a) { return kAlgos[a].bm * kAlgos[a].bn; };
  int best = -1, smallest = -1, special = -1;
  for (int a = 1; a < kNumAlgos; a++) {
    if (algo_can_implement(a, s, /*quiet=*/true) != RK_OK) continue;
    const ConvAlgo& al = kAlgos[a];
    if (al.mode != TC_IM2COL) {
      if (special < 0) special = a;
      continue;
    }
    if (smallest < 0 || area(a) < area(smallest)) smallest = a;
    if (al.bn > 64 && s.K <= 64) continue;
    if (area(a) > 64 * 64 && ctas(al) < sms) continue;
    if (best < 0 || area(a) > area(best) || (area(a) == area(best) && al.bn > kAlgos[best].bn)) best = a;
  }
  if (best >= 0) return best;
  if (smallest >= 0) return smallest;
  if (special >= 0) return special;
  return 0;
}

}  // namespace
}  // namespace rk

using namespace rk;

extern "C" {

int rk_cuda_conv2d_algo_count(void) { return kNumAlgos; }

const char* rk_cuda_conv2d_algo_name(int algo) {
  if (algo < 0 || algo >= kNumAlgos) return nullptr;
  return kAlgos[algo].name;
}

rk_status rk_cuda_conv2d_can_implement(int algo, int dtype, int math, int N, int H, int W, int C, int K, int R, int S,
                                       int stride, int pad_h, int pad_w, int groups, int P, int Q, int res_mode,
                                       int pre_avgpool) {
  RK_ARG_CHECK(algo >= -1 && algo < kNumAlgos, "conv2d_can_implement: algo %d out of range [-1, %d)", algo, kNumAlgos);
  ConvShape s{dtype, math, N, H, W, C, K, R, S, stride, pad_h, pad_w, groups, P, Q, res_mode, pre_avgpool};
  rk_status st = validate_shape(s);
  if (st != RK_OK) return st;
  if (algo == -1) return RK_OK;  // simt implements everything valid
  return algo_can_implement(algo, s);
}

int rk_cuda_conv2d_heuristic(int dtype, int math, int N, int H, int W, int C, int K, int R, int S, int stride,
                             int pad_h, int pad_w, int groups, int P, int Q, int res_mode, int pre_avgpool) {
  ConvShape s{dtype, math, N, H, W, C, K, R, S, stride, pad_h, pad_w, groups, P, Q, res_mode, pre_avgpool};
  if (validate_shape(s) != RK_OK) return -1;
  return heuristic(s, current_device_sm_count());
}

rk_status rk_cuda_conv2d(int algo, int dtype, int math, const void* x, int N, int H, int W, int C, const void* w, int K,
                         int R, int S, int stride, int pad_h, int pad_w, int groups, int pre_avgpool,
                         const float* scale, const float* shift, const void* res, int res_mode, int res_h, int res_w,
                         int res_c, int relu, void* y, int P, int Q, const float* post_scale, const float* post_shift,
                         void* y2, void* stream) {
  RK_ARG_CHECK(algo >= -1 && algo < kNumAlgos, "conv2d: algo %d out of range [-1, %d)", algo, kNumAlgos);
  ConvShape s{dtype, math, N, H, W, C, K, R, S, stride, pad_h, pad_w, groups, P, Q, res_mode, pre_avgpool};
  rk_status st = validate_shape(s);
  if (st != RK_OK) return st;
  RK_ARG_CHECK(x && w && y, "conv2d: null tensor");
  RK_ARG_CHECK(static_cast<const void*>(y) != x, "conv2d: y must not alias x");
  if (res_mode != RK_RES_NONE) RK_ARG_CHECK(res, "conv2d: null residual");
  // res == y is allowed for RK_RES_IDENTITY: each residual element is read by the thread that writes it, first.
  if (res_mode == RK_RES_OPTION_A)
    RK_ARG_CHECK(res_c > 0 && res_c <= K && res_h >= 2 * P - 1 && res_w >= 2 * Q - 1,
                 "conv2d: option-A residual shape [%d,%d,%d] does not fit P=%d Q=%d K=%d", res_h, res_w, res_c, P, Q,
                 K);

  ConvParams p{};
  p.x = x; p.w = w;
  p.N = N; p.H = H; p.W = W; p.C = C; p.K = K; p.R = R; p.S = S; p.stride = stride;
  p.pad_h = pad_h; p.pad_w = pad_w; p.groups = groups; p.P = P; p.Q = Q; p.pre_avgpool = pre_avgpool;
  p.scale = scale; p.shift = shift;
  p.res = res_mode == RK_RES_NONE ? nullptr : res;
  p.res_mode = res_mode; p.res_h = res_h; p.res_w = res_w; p.res_c = res_c;
  p.relu = relu ? 1 : 0; p.y = y;
  p.post_scale = post_scale; p.post_shift = post_shift; p.y2 = y2;
  p.M = N * P * Q;
  p.Ktot = R * S * (C / groups);
  p.apad = res_mode == RK_RES_OPTION_A ? (K - res_c) / 2 : 0;

  // 16-byte alignment the tensor-core loaders and the vectorised epilogue need.
  const bool aligned = aligned16(x) && aligned16(w) && aligned16(y) && (!y2 || aligned16(y2)) &&
                       (res_mode != RK_RES_IDENTITY || aligned16(res));
  int a = algo;
  if (a == -1) {
    a = heuristic(s, current_device_sm_count());
    if (kAlgos[a].kind == ConvKind::TensorCore && !aligned) a = 0;
  } else {
    st = algo_can_implement(a, s);
    if (st != RK_OK) return st;
    if (kAlgos[a].kind == ConvKind::TensorCore && !aligned)
      return set_error(RK_ERR_UNSUPPORTED, "conv2d: algo %s needs 16-byte aligned x, w, y, y2 and residual",
                       kAlgos[a].name);
  }
  const cudaStream_t cs = reinterpret_cast<cudaStream_t>(stream);
  const ConvAlgo& al = kAlgos[a];
  if (al.kind == ConvKind::Simt) return al.launch[dtype == RK_F32 ? 0 : dtype == RK_F16 ? 1 : 2](p, cs);
  return al.launch[0](p, cs);
}

}  // extern "C"
