// Instantiation: tensor-core conv, dtype f16, CTA tile 64x64, A loader avgpool (see conv_tc.cuh).
#include "conv_tc.cuh"
RK_INSTANTIATE_TC(f16, __half, 64x64, Tile64x64, avgpool, TC_AVGPOOL)
