// Instantiation: tensor-core conv, dtype tf32, CTA tile 64x64, A loader avgpool (see conv_tc.cuh).
#include "conv_tc.cuh"
RK_INSTANTIATE_TC(tf32, float, 64x64, Tile64x64, avgpool, TC_AVGPOOL)
