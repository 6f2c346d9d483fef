// Instantiation: tensor-core conv, dtype f16, CTA tile 256x64, A loader im2col (see conv_tc.cuh).
#include "conv_tc.cuh"
RK_INSTANTIATE_TC(f16, __half, 256x64, Tile256x64, im2col, TC_IM2COL)
