// Warpgroup MMA (sm_90a WGMMA) for the output kernel's products with 16-bit
// inputs: both operands straight from the shared tiles (no ldmatrix, no
// operand registers), issued by each of the CTA's two warpgroups.
//
// The operand views below are the GMMA canonical 128-byte-swizzled layouts;
// physically they are the tiles of kernel_traits.h (SmemTile), so the same
// bytes are written by cp.async / the mask and read by WGMMA
// (tests/native/cuda/wgmma_layout_test.cpp checks every offset).
#pragma once

#include <cute/arch/mma_sm90.hpp>
#include <cute/atom/mma_traits_sm90_gmma.hpp>
#include <cute/tensor.hpp>
#include <cutlass/arch/barrier.h>

#include "cuda/forward/kernel_traits.h"

namespace lla::cuda::fwd {

using namespace cute;

#if defined(CUTE_ARCH_MMA_SM90A_ENABLED)
constexpr bool kWgmmaCompiled = true;   // this compilation pass targets sm_90a
#else
constexpr bool kWgmmaCompiled = false;
#endif

// GMMA views of a token-major SmemTile<T, kRows, kCols> (kernel_traits.h):
// itself as a K-major operand (rows = M or N), or transposed (cols x rows) as
// an M- or N-major operand.
template <class T, int kRows, int kCols>
using GmmaKMajor = decltype(tile_to_shape(GMMA::Layout_K_SW128_Atom<T>{}, Shape<Int<kRows>, Int<kCols>>{}));
template <class T, int kRows, int kCols>
using GmmaTransposed =
    decltype(tile_to_shape(GMMA::Layout_MN_SW128_Atom<T>{}, Shape<Int<kCols>, Int<kRows>>{}, Step<_2, _1>{}));

template <class Traits>
struct WgmmaTraits {
    using Element = typename Traits::Element;
    using StateOp = typename Traits::StateOp;
    static constexpr int kVs = Traits::kVSlice;

    // A operands (M x K): P (targets x sources) and Q (targets x K), K-major;
    // K^T (K x sources) of the token-major K tile, M-major.
    using LayoutP = GmmaKMajor<Element, kChunk, kChunk>;
    using LayoutQ = GmmaKMajor<StateOp, kChunk, kKMax>;
    template <int kTokens>
    using LayoutKt = GmmaTransposed<Element, kTokens, kKMax>;
    // B operands (N x K), N-major: V (V slice x sources) and a state (V slice x K).
    template <int kTokens>
    using LayoutVt = GmmaTransposed<Element, kTokens, kVs>;
    using LayoutRt = GmmaTransposed<StateOp, kKMax, kVs>;

    // Products into o (64 x V slice): the two warpgroups split the V slice.
    using MmaPV = decltype(make_tiled_mma(
        GMMA::ss_op_selector<Element, Element, float, Shape<_64, Int<kVs / 2>, _16>, GMMA::Major::K, GMMA::Major::MN>(),
        Layout<Shape<_1, _2, _1>>{}));
    using MmaQR = decltype(make_tiled_mma(
        GMMA::ss_op_selector<StateOp, StateOp, float, Shape<_64, Int<kVs / 2>, _16>, GMMA::Major::K, GMMA::Major::MN>(),
        Layout<Shape<_1, _2, _1>>{}));
    // The chunk state (K x V slice): the two warpgroups split K.
    using MmaState = decltype(make_tiled_mma(
        GMMA::ss_op_selector<Element, Element, float, Shape<_64, Int<kVs>, _16>, GMMA::Major::MN, GMMA::Major::MN>(),
        Layout<Shape<_2, _1, _1>>{}));
};

// The tiled MMAs of the output kernel's products into o (O: P V; U: Q x
// state) and of chunk states (H): mma.sync, or WGMMA (kWgmma: compiled for
// sm_90a, 16-bit inputs).
template <class Traits, bool kWgmma>
struct ForwardMmas {
    using O = typename Traits::MmaE;
    using U = typename Traits::MmaS;
    using H = typename Traits::MmaE;
};
template <class Traits>
struct ForwardMmas<Traits, true> {
    using O = typename WgmmaTraits<Traits>::MmaPV;
    using U = typename WgmmaTraits<Traits>::MmaQR;
    using H = typename WgmmaTraits<Traits>::MmaState;
};

// Issues acc (=|+=) A * B^T over shared operand tiles sA (M x K) and sB (N x K)
// as one WGMMA batch: every thread of the CTA calls it, each warpgroup issues
// its part. acc may be read only after wgmma_wait.
template <bool kZeroInit, class TiledMma, class Acc, class SA, class SB>
__device__ __forceinline__ void wgmma_issue(TiledMma& mma, Acc& acc, SA const& sA, SB const& sB) {
    auto thr = mma.get_thread_slice(threadIdx.x);
    Tensor tA = thr.partition_fragment_A(sA);
    Tensor tB = thr.partition_fragment_B(sB);
    warpgroup_fence_operand(acc);
    warpgroup_arrive();
    if constexpr (kZeroInit) mma.accumulate_ = GMMA::ScaleOut::Zero;
#pragma unroll
    for (int kb = 0; kb < size<2>(tA); ++kb) {
        cute::gemm(mma, tA(_, _, kb), tB(_, _, kb), acc);
        mma.accumulate_ = GMMA::ScaleOut::One;
    }
    warpgroup_commit_batch();
}

// Waits until at most kPending of this warpgroup's batches are in flight;
// accs are the accumulators about to be read.
template <int kPending, class... Accs>
__device__ __forceinline__ void wgmma_wait(Accs&... accs) {
    warpgroup_wait<kPending>();
    (warpgroup_fence_operand(accs), ...);
}

// WGMMA's 128-byte swizzle is a function of the shared address, so the tiles
// must start on 1 KB boundaries: the dynamic shared memory does when the
// kernel has no static shared memory. A wrong base would give wrong products
// silently; trap instead (the call then fails with a launch error).
__device__ __forceinline__ void require_1k_aligned(const void* smem_base) {
    if ((static_cast<uint32_t>(__cvta_generic_to_shared(smem_base)) & 1023u) != 0) __trap();
}

// A CTA barrier after shared-memory writes that the next MMA reads; with
// WGMMA, each thread first makes its generic-proxy writes (stores, landed
// cp.async) visible to the async proxy that WGMMA reads through.
template <bool kWgmma>
__device__ __forceinline__ void sync_for_mma() {
    if constexpr (kWgmma) cutlass::arch::fence_view_async_shared();
    __syncthreads();
}

}  // namespace lla::cuda::fwd
