// Stand-in for libreskern_cuda when the build machine has no nvcc: every entry point exists (so the JNI
// binding links and loads) and reports that CUDA is not compiled in. Generated from reskern_cuda.h by hand-run script; keep in step with the header.
#include "reskern_cuda.h"
#pragma GCC diagnostic ignored "-Wunused-parameter"

static const char* kMsg = "reskern was built without CUDA (no nvcc at build time, or -Dreskern.cuda=OFF)";

extern "C" {
const char* rk_cuda_last_error(void) {
  return kMsg;
}
rk_status rk_cuda_versions(int* runtime_version, int* driver_version) {
  if (runtime_version) *runtime_version = 0; if (driver_version) *driver_version = 0; return RK_OK;
}
rk_status rk_cuda_device_count(int* count) {
  if (count) *count = 0; return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_device_info(int dev, char* name, int name_len, int* cc_major, int* cc_minor, int* sm_count, long long* total_mem, long long* free_mem) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_set_device(int dev) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_context_get(void** ctx) {
  if (ctx) *ctx = 0; return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_context_set(void* ctx) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_malloc(void** ptr, size_t bytes) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_free(void* ptr) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_malloc_host(void** ptr, size_t bytes) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_free_host(void* ptr) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_memcpy_h2d(void* dst, const void* src, size_t bytes, void* stream) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_memcpy_d2h(void* dst, const void* src, size_t bytes, void* stream) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_memcpy_d2d(void* dst, const void* src, size_t bytes, void* stream) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_memset(void* dst, int byte_value, size_t bytes, void* stream) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_stream_create(void** stream) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_stream_destroy(void* stream) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_stream_synchronize(void* stream) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_event_create(void** event) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_event_destroy(void* event) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_event_record(void* event, void* stream) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_event_elapsed_ms(void* start, void* stop, float* ms) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_graph_begin_capture(void* stream) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_graph_end_capture(void* stream, void** graph_exec) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_graph_launch(void* graph_exec, void* stream) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_graph_destroy(void* graph_exec) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_convert(const void* x, int x_dtype, void* y, int y_dtype, long long count, void* stream) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_nchw_to_nhwc(const float* x, int N, int C, int H, int W, void* y, int dtype, void* stream) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_preprocess_u8(const uint8_t* x, int N, int H, int W, const float* mean, const float* std, void* y, int dtype, void* stream) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_resample_normalize_u8(const uint8_t* x, int H, int W, long long row_stride, int pixel_stride, int off_r, int off_g, int off_b, const int* ys, const int* ny, const float* wy, int ky, const int* xs, const int* nx, const float* wx, int kx, const float* mean, const float* std, void* y, int dtype, int P, int Q, void* stream) {
  return RK_ERR_NO_DEVICE;
}
int rk_cuda_conv2d_algo_count(void) {
  return 0;
}
const char* rk_cuda_conv2d_algo_name(int algo) {
  (void)algo; return "none";
}
rk_status rk_cuda_conv2d_can_implement(int algo, int dtype, int math, int N, int H, int W, int C, int K, int R, int S, int stride, int pad_h, int pad_w, int groups, int P, int Q, int res_mode, int pre_avgpool) {
  return RK_ERR_NO_DEVICE;
}
int rk_cuda_conv2d_heuristic(int dtype, int math, int N, int H, int W, int C, int K, int R, int S, int stride, int pad_h, int pad_w, int groups, int P, int Q, int res_mode, int pre_avgpool) {
  return -1;
}
rk_status rk_cuda_conv2d(int algo, int dtype, int math, const void* x, int N, int H, int W, int C, const void* w, int K, int R, int S, int stride, int pad_h, int pad_w, int groups, int pre_avgpool, const float* scale, const float* shift, const void* res, int res_mode, int res_h, int res_w, int res_c, int relu, void* y, int P, int Q, const float* post_scale, const float* post_shift, void* y2, void* stream) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_bn_relu(int dtype, const void* x, long long M, int C, const float* scale, const float* shift, int relu, void* y, void* stream) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_add_relu(int dtype, const void* a, const void* b, long long count, int relu, void* y, void* stream) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_maxpool2d(int dtype, const void* x, int N, int H, int W, int C, int kh, int kw, int stride, int pad_h, int pad_w, void* y, int P, int Q, void* stream) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_avgpool2d(int dtype, const void* x, int N, int H, int W, int C, int kh, int kw, int stride, int pad_h, int pad_w, int count_include_pad, void* y, int P, int Q, void* stream) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_global_avgpool(int dtype, const void* x, int N, int HW, int C, float* y, void* stream) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_fc(const float* x, int N, int C, const float* w, const float* bias, int K, float* y, void* stream) {
  return RK_ERR_NO_DEVICE;
}
rk_status rk_cuda_global_avgpool_fc(int dtype, const void* x, int N, int HW, int C, const float* w, const float* bias, int K, float* y, void* stream) {
  return RK_ERR_NO_DEVICE;
}
}  // extern "C"
