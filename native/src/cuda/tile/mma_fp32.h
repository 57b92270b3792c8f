// Tensor-core MMA atoms for float32 operands, built on the SM80 m16n8k8 TF32
// instruction, so that float32 tiles use the same TiledMMA code as 16-bit ones:
//  - SM80_16x8x8_F32F32F32F32_TN_TF32: operands rounded to TF32 (10-bit
//    mantissa; LLA_MATH_ALLOW_TF32, tolerance 3e-3 in docs/numerics.md);
//  - SM80_16x8x8_F32F32F32F32_TN_3xTF32: each operand split into a TF32 "big"
//    part and a TF32 remainder, and a*b ~ big*big + big*small + small*big, which
//    keeps float32 accuracy (LLA_MATH_EXACT_FP32, tolerance 1e-5 in
//    docs/numerics.md).
#pragma once

#include <cute/arch/mma_sm80.hpp>
#include <cute/atom/mma_traits_sm80.hpp>

namespace lla::cuda::tile {

__device__ __forceinline__ uint32_t to_tf32(uint32_t bits) {
    uint32_t out;
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(out) : "f"(__uint_as_float(bits)));
    return out;
}

// The TF32 remainder of x after its TF32 rounding `big`.
__device__ __forceinline__ uint32_t tf32_remainder(uint32_t bits, uint32_t big) {
    return to_tf32(__float_as_uint(__uint_as_float(bits) - __uint_as_float(big)));
}

struct SM80_16x8x8_F32F32F32F32_TN_TF32 {
    using DRegisters = float[4];
    using ARegisters = uint32_t[4];
    using BRegisters = uint32_t[2];
    using CRegisters = float[4];

    CUTE_HOST_DEVICE static void fma(float& d0, float& d1, float& d2, float& d3, uint32_t const& a0,
                                     uint32_t const& a1, uint32_t const& a2, uint32_t const& a3,
                                     uint32_t const& b0, uint32_t const& b1, float const& c0, float const& c1,
                                     float const& c2, float const& c3) {
#if defined(__CUDA_ARCH__)
        cute::SM80_16x8x8_F32TF32TF32F32_TN::fma(d0, d1, d2, d3, to_tf32(a0), to_tf32(a1), to_tf32(a2),
                                                 to_tf32(a3), to_tf32(b0), to_tf32(b1), c0, c1, c2, c3);
#endif
    }
};

struct SM80_16x8x8_F32F32F32F32_TN_3xTF32 {
    using DRegisters = float[4];
    using ARegisters = uint32_t[4];
    using BRegisters = uint32_t[2];
    using CRegisters = float[4];

    CUTE_HOST_DEVICE static void fma(float& d0, float& d1, float& d2, float& d3, uint32_t const& a0,
                                     uint32_t const& a1, uint32_t const& a2, uint32_t const& a3,
                                     uint32_t const& b0, uint32_t const& b1, float const& c0, float const& c1,
                                     float const& c2, float const& c3) {
#if defined(__CUDA_ARCH__)
        using Tf32 = cute::SM80_16x8x8_F32TF32TF32F32_TN;
        const uint32_t ab0 = to_tf32(a0), ab1 = to_tf32(a1), ab2 = to_tf32(a2), ab3 = to_tf32(a3);
        const uint32_t as0 = tf32_remainder(a0, ab0), as1 = tf32_remainder(a1, ab1);
        const uint32_t as2 = tf32_remainder(a2, ab2), as3 = tf32_remainder(a3, ab3);
        const uint32_t bb0 = to_tf32(b0), bb1 = to_tf32(b1);
        const uint32_t bs0 = tf32_remainder(b0, bb0), bs1 = tf32_remainder(b1, bb1);
        // Small products first, so that they are not lost against the big one.
        float e0 = c0, e1 = c1, e2 = c2, e3 = c3;
        Tf32::fma(e0, e1, e2, e3, as0, as1, as2, as3, bb0, bb1, e0, e1, e2, e3);
        Tf32::fma(e0, e1, e2, e3, ab0, ab1, ab2, ab3, bs0, bs1, e0, e1, e2, e3);
        Tf32::fma(d0, d1, d2, d3, ab0, ab1, ab2, ab3, bb0, bb1, e0, e1, e2, e3);
#endif
    }
};

}  // namespace lla::cuda::tile

namespace cute {

template <>
struct MMA_Traits<lla::cuda::tile::SM80_16x8x8_F32F32F32F32_TN_TF32>
    : MMA_Traits<SM80_16x8x8_F32TF32TF32F32_TN> {
    using ValTypeA = float;
    using ValTypeB = float;
};

template <>
struct MMA_Traits<lla::cuda::tile::SM80_16x8x8_F32F32F32F32_TN_3xTF32>
    : MMA_Traits<SM80_16x8x8_F32TF32TF32F32_TN> {
    using ValTypeA = float;
    using ValTypeB = float;
};

}  // namespace cute
