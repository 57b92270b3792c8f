// Run-time ISA dispatch. The library is compiled for the x86-64 baseline (no
// -march=native); the functions that carry the arithmetic are additionally
// compiled for x86-64-v3 (AVX2 + FMA) and the loader picks the best clone for
// the machine it runs on (GCC target_clones, resolved once through an ifunc).
// Everything they call is always_inline, so it is compiled for the clone's ISA.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(LLA_NO_MULTIVERSION)
#define LLA_MULTIVERSION __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define LLA_MULTIVERSION
#endif

#define LLA_ALWAYS_INLINE inline __attribute__((always_inline))
