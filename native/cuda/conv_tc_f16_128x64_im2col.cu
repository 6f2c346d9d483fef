// Instantiation: tensor-core conv, dtype f16, CTA tile 128x64, A loader im2col (see conv_tc.cuh).
#include "conv_tc.cuh"
RK_INSTANTIATE_TC(f16, __half, 128x64, Tile128x64, im2col, TC_IM2COL)
