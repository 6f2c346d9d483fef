// The AVX-512F intrinsics of native/cpu/conv_avx512.cpp on a CPU without AVX-512, for tests only: SIMDe's portable
// implementations (built on AVX2 here), plus the two masked forms SIMDe 0.7.4 lacks, written lane by lane with
// AVX-512's fault suppression (a masked-off lane is never read or written, so a pointer that is out of range for
// those lanes stays harmless, as on the hardware; under ASan a wrong mask is reported instead of hidden).
// Included by conv_avx512_emu.cpp in place of <immintrin.h>; see that file for what this build is for.
#ifndef RESKERN_AVX512_SIMDE_H
#define RESKERN_AVX512_SIMDE_H
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>

static inline simde__m512 rk_emu_mm512_maskz_loadu_ps(simde__mmask16 k, const void* p) {
  alignas(64) float v[16];
  for (int j = 0; j < 16; j++) v[j] = ((k >> j) & 1) ? ((const float*)p)[j] : 0.f;
  return simde_mm512_load_ps(v);
}
static inline void rk_emu_mm512_mask_storeu_ps(void* p, simde__mmask16 k, simde__m512 a) {
  alignas(64) float v[16];
  simde_mm512_store_ps(v, a);
  for (int j = 0; j < 16; j++)
    if ((k >> j) & 1) ((float*)p)[j] = v[j];
}
#define _mm512_maskz_loadu_ps(k, p) rk_emu_mm512_maskz_loadu_ps(k, p)
#define _mm512_mask_storeu_ps(p, k, a) rk_emu_mm512_mask_storeu_ps(p, k, a)
#endif
