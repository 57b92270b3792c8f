// Compile-time configuration of one forward instantiation: element types,
// tiled MMAs, shared-memory layouts and copy atoms (CuTe, SM80-style mma.sync
// with ldmatrix: sm_80, and float32 inputs everywhere). The sm_90a pass of the
// 16-bit instances runs the products on WGMMA over the same tiles instead
// (wgmma_ops.h); the mma.sync layout still orders the Q K^T tiles and the mask.
//
// Element: q, k, v, o type. StateOp: operand type of the state products
// Q x State (bfloat16 for 16-bit inputs, since states outgrow float16's range;
// float for float32 inputs). Warp tiles are 16 rows; 8 warps as 4 along M x
// 2 along N.
#pragma once

#include <cute/tensor.hpp>
#include <cutlass/numeric_types.h>

#include <type_traits>

#include "cuda/forward/forward_common.h"
#include "cuda/tile/mma_fp32.h"
#include "cuda/tile/smem_layouts.h"

namespace lla::cuda::fwd {

using namespace cute;

template <class Element_, class StateOp_, class AtomE, class AtomS, int kAtomK_, int kVSlice_, int kChunksPerSuper_>
struct ForwardTraits {
    using Element = Element_;
    using StateOp = StateOp_;
    static_assert(sizeof(Element) == sizeof(StateOp), "tiles of one instantiation share an element size");

    static constexpr int kVSlice = kVSlice_;            // V columns per CTA
    static constexpr int kChunksPerSuper = kChunksPerSuper_;
    static constexpr int kLog2Chunks = kChunksPerSuper == 8 ? 3 : (kChunksPerSuper == 4 ? 2 : -1);
    static_assert(kLog2Chunks > 0, "4 or 8 chunks per superchunk");
    static constexpr int kLog2S = kLog2Chunk + kLog2Chunks;
    static constexpr int kS = 1 << kLog2S;
    static constexpr int kRLevels = kLog2Chunks;        // chunk levels kept on chip
    static constexpr int kVec = 16 / int(sizeof(Element));
    static_assert(kVSlice % SmemAtom<sizeof(Element)>::kCols == 0, "V slice is whole smem atoms");
    static_assert(kS % kThreads == 0, "whole positions per thread in the decay scan");
    // CTAs per SM the register budget is set for (16-bit: 2; float32 tiles need
    // more shared memory than two CTAs get anyway).
    static constexpr int kMinBlocks = sizeof(Element) == 2 ? 2 : 1;
    // Floats of a 64 x 64 accumulator tile per thread (Q K^T diagonal tiles).
    static constexpr int kDiagFrag = kChunk * kChunk / kThreads;

    using MmaE = TiledMma64<AtomE, kAtomK_>;  // Element x Element
    using MmaS = TiledMma64<AtomS, kAtomK_>;  // StateOp x StateOp

    using LayoutQK = SmemTile<Element, kChunk, kKMax>;        // Q or K chunk (tokens x K)
    using LayoutKt = SmemTransposed<LayoutQK, kChunk, kKMax>; // K^T (K x tokens)
    using LayoutV = SmemTile<Element, kChunk, kVSlice>;       // V chunk (tokens x V slice)
    using LayoutVt = SmemTransposed<LayoutV, kChunk, kVSlice>;
    using LayoutP = SmemTile<Element, kChunk, kChunk>;        // masked scores (targets x sources)
    using LayoutO = SmemTile<Element, kChunk, kVSlice>;       // output staging, aliases P
    using LayoutR = SmemTile<StateOp, kKMax, kVSlice>;        // a state (K x V slice)
    using LayoutRt = SmemTransposed<LayoutR, kKMax, kVSlice>;

    static constexpr int kQKBytes = kChunk * kKMax * int(sizeof(Element));
    static constexpr int kVBytes = kChunk * kVSlice * int(sizeof(Element));
    static constexpr int kPBytes = kChunk * kChunk * int(sizeof(Element));
    static constexpr int kRBytes = kKMax * kVSlice * int(sizeof(StateOp));
    static_assert(kRBytes <= kQKBytes, "an incoming state is staged in the K tile");
    static_assert(kChunk * kVSlice <= kChunk * kChunk, "the output staging fits in the P tile");
};

using TraitsBf16 = ForwardTraits<cutlass::bfloat16_t, cutlass::bfloat16_t, SM80_16x8x16_F32BF16BF16F32_TN,
                                 SM80_16x8x16_F32BF16BF16F32_TN, 16, 64, 8>;
using TraitsF16 = ForwardTraits<cutlass::half_t, cutlass::bfloat16_t, SM80_16x8x16_F32F16F16F32_TN,
                                SM80_16x8x16_F32BF16BF16F32_TN, 16, 64, 8>;
using TraitsF32Tf32 = ForwardTraits<float, float, SM80_16x8x8_F32F32F32F32_TN_TF32,
                                    SM80_16x8x8_F32F32F32F32_TN_TF32, 8, 32, 4>;
using TraitsF32Exact = ForwardTraits<float, float, SM80_16x8x8_F32F32F32F32_TN_3xTF32,
                                     SM80_16x8x8_F32F32F32F32_TN_3xTF32, 8, 32, 4>;

}  // namespace lla::cuda::fwd
