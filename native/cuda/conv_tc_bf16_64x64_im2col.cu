// Instantiation: tensor-core conv, dtype bf16, CTA tile 64x64, A loader im2col (see conv_tc.cuh).
#include "conv_tc.cuh"
RK_INSTANTIATE_TC(bf16, __nv_bfloat16, 64x64, Tile64x64, im2col, TC_IM2COL)
