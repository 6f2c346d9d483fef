// AVX512_BF16 implicit-GEMM convolution: conv_avx512.cpp compiled again with RK_CONV_BF16 (-mavx512f -mavx512bf16;
// selected at run time, only where the CPU has AVX512_BF16: AMD Zen 4 / Zen 5, Intel Cooper Lake, Sapphire Rapids and
// later). The same 6 x 64 tile, driver and fused fp32 epilogue; each k step is a vdpbf16ps over a pair of input
// channels, so a tile does twice the multiply-adds per instruction and the packed weights are half the bytes.
//
//   y = relu?(scale * sum_{r,s,c} bf16(x[.., c]) * bf16(w[k, r, s, c]) + shift + residual),   sums in fp32
//
// x is fp32 NHWC as everywhere else: rk_cpu_conv2d rounds it to bf16 pairs (round to nearest even) into its
// workspace before the call; w was rounded and paired once at pack time (RK_CPU_PREC_BF16, reskern_cpu.h).
#define RK_CONV_BF16 1
#include "conv_avx512.cpp"
