// The AVX512_BF16 kernel (native/cpu/conv_avx512bf16.cpp) on SIMDe, for the AVX-512-emulation test build (see
// conv_avx512_emu.cpp). SIMDe's vdpbf16ps sums the two products in another order than the hardware (which rounds
// after each), so emulated and native results may differ in the last bit of the fp32 sums.
#define RK_AVX512_EMU 1
#define RK_CONV_BF16 1
#include "../../cpu/conv_avx512.cpp"
