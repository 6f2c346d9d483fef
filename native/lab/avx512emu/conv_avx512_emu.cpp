// Test build of the AVX-512 kernels for machines without AVX-512 (CI, this project's build machines).
//
// native/cpu/conv_avx512.cpp is the default CPU path on every AVX-512 server (most Intel Xeons, AMD Zen 4/5), but a
// machine without AVX-512 never executes it. This file compiles the very same source with its intrinsics taken
// from SIMDe (avx512_simde.h; Debian's libsimde-dev) on AVX2, into a separate library that is never shipped:
// <build>/avx512emu/libreskern_cpu.so (CMake target reskern_cpu_avx512emu, with cpu_ops_emu.cpp as its dispatcher)
// and the kernel lab linked to it, lab_cpu_conv_lab_avx512emu. The tests run the CPU op cases on it (tests/pom.xml,
// execution cpu-isa-avx512-emulated) and the lab's float64-referenced conv cases (`lab_cpu_conv_lab_avx512emu test`).
//
// What this checks: the AVX-512 kernels' indexing, tiling, masks, tails, residual / option-A addressing, Winograd
// and grouped paths, lane by lane, with the same FMA rounding. What it cannot check: speed, and code generation
// for real zmm registers (the first GPU-host run's lab step executes the native build on that host's CPU).
#define RK_AVX512_EMU 1
#include "../../cpu/conv_avx512.cpp"
