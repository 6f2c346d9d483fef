// The CPU library's dispatcher for the AVX-512-emulation test build (see conv_avx512_emu.cpp): with RK_AVX512_EMU
// the AVX-512 kernels count as available wherever AVX2 + FMA are, so they are the default and the tests run them.
#define RK_AVX512_EMU 1
#include "../../cpu/cpu_ops.cpp"
