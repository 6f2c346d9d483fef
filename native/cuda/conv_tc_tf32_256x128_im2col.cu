// Instantiation: tensor-core conv, dtype tf32, CTA tile 256x128, A loader im2col (see conv_tc.cuh).
#include "conv_tc.cuh"
RK_INSTANTIATE_TC(tf32, float, 256x128, Tile256x128, im2col, TC_IM2COL)
