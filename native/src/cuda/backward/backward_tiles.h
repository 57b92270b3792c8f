// Tile configuration and small device helpers of the CUDA backward. The
// backward computes every product on mma.sync over the forward's swizzled
// shared tiles (cuda/tile/smem_layouts.h): Op is the MMA operand type,
// accumulation is float32. bfloat16 inputs: bfloat16 operands. float16
// inputs: float operands on TF32 (every float16 value is exact in TF32,
// and the scores and states keep float16's 10-bit precision without its
// range). float32 inputs: TF32 or 3xTF32 atoms.
#pragma once

#include <cute/tensor.hpp>

#include "core/levels.h"
#include "core/log_decay.h"
#include "cuda/backward/backward_params.h"
#include "cuda/tile/mma_fp32.h"
#include "cuda/tile/smem_layouts.h"
#include "cuda/tile/tile_ops.h"

namespace lla::cuda::bwd {

using namespace cute;
using tile::kChunk;
using tile::kKMax;
using tile::kThreads;

template <class Element_, class Op_, class Atom, int kAtomK, int kVs_>
struct BackwardTraits {
    using Element = Element_;  // q, k, v, d_o in memory
    using Op = Op_;            // operands in shared memory
    static constexpr int kVs = kVs_;
    using Mma = tile::TiledMma64<Atom, kAtomK>;
    using CopyN = tile::CopyAtomN<Op>;
    using CopyT = tile::CopyAtomT<Op>;
    using LayoutQK = tile::SmemTile<Op, kChunk, kKMax>;                  // tokens x K
    using LayoutQKt = tile::SmemTransposed<LayoutQK, kChunk, kKMax>;     // K x tokens
    using LayoutV = tile::SmemTile<Op, kChunk, kVs>;                     // tokens x V slice
    using LayoutVt = tile::SmemTransposed<LayoutV, kChunk, kVs>;
    using LayoutP = tile::SmemTile<Op, kChunk, kChunk>;                  // targets x sources
    using LayoutPt = tile::SmemTransposed<LayoutP, kChunk, kChunk>;
    using LayoutR = tile::SmemTile<Op, kKMax, kVs>;                      // a state slice, K x V slice
    using LayoutRt = tile::SmemTransposed<LayoutR, kKMax, kVs>;
};

using TraitsBf16 = BackwardTraits<cutlass::bfloat16_t, cutlass::bfloat16_t, SM80_16x8x16_F32BF16BF16F32_TN, 16, 64>;
using TraitsF16 = BackwardTraits<cutlass::half_t, float, tile::SM80_16x8x8_F32F32F32F32_TN_TF32, 8, 32>;
using TraitsF32Tf32 = BackwardTraits<float, float, tile::SM80_16x8x8_F32F32F32F32_TN_TF32, 8, 32>;
using TraitsF32Exact = BackwardTraits<float, float, tile::SM80_16x8x8_F32F32F32F32_TN_3xTF32, 8, 32>;

// Waits for this thread's cp.async copies, then for the whole CTA.
__device__ __forceinline__ void wait_tiles() {
    cp_async_fence();
    cp_async_wait<0>();
    __syncthreads();
}

// Loads rows [0, 64) x columns [col0, col0 + cols) of row tensor t (element
// type Element) at (batch, token0, x) into the shared Op tile s; rows failing
// row_ok and columns >= col_limit (relative to col0) are zero.
template <class Element, class Op, class STensor, class RowOk>
__device__ __forceinline__ void load_rows(const RowTensor& t, int64_t batch, int64_t token0, int64_t x, int col0,
                                          STensor& s, RowOk row_ok, int col_limit) {
    constexpr int kCols = decltype(size<1>(s))::value;
    const Element* row0 = static_cast<const Element*>(t.data) + batch * t.stride_b + token0 * t.stride_t +
                          x * t.stride_x + col0;
    if constexpr (std::is_same_v<Element, Op>) {
        Tensor g = make_tensor(make_gmem_ptr(row0), make_layout(Shape<Int<kChunk>, Int<kCols>>{},
                                                                make_stride(t.stride_t, _1{})));
        tile::load_tile_async<Op>(g, s, row_ok, col_limit);
    } else {
        tile::load_tile_convert<Element, Op>(s, [&](int r) { return row0 + r * t.stride_t; }, row_ok, col_limit);
    }
}

// Loads a (kKMax x kVs) slice of a state held in Op type at src (row stride
// ld) into the shared tile s.
template <class Op, class STensor>
__device__ __forceinline__ void load_state_slice(const Op* src, int64_t ld, STensor& s) {
    constexpr int kCols = decltype(size<1>(s))::value;
    Tensor g = make_tensor(make_gmem_ptr(src), make_layout(Shape<Int<kKMax>, Int<kCols>>{}, make_stride(ld, _1{})));
    tile::load_tile_async<Op>(g, s, [](int) { return true; }, kCols);
}

// Loads level `level` of a canonical float32 state tensor (V columns from
// v0), times mult, into the shared tile s (synchronous element copies).
template <class Op, class STensor>
__device__ __forceinline__ void load_state_levels(const StateTensor& st, int64_t n, int64_t h, int level, int v0,
                                                  int K, int V, float mult, STensor& s) {
    constexpr int kCols = decltype(size<1>(s))::value;
    for (int idx = threadIdx.x; idx < kKMax * kCols; idx += kThreads) {
        const int kk = idx / kCols, vv = idx % kCols;
        const float x = (kk < K && v0 + vv < V) ? mult * tile::load_state(st, n, h, level, kk, v0 + vv) : 0.f;
        s(kk, vv) = Op(x);
    }
}

// d(r, c) = s(r, c) * w[r] for two shared tiles of one shape.
template <class Op, class SIn, class SOut>
__device__ __forceinline__ void scaled_copy(SIn const& s, SOut& d, const float* w) {
    constexpr int kRows = decltype(size<0>(s))::value;
    constexpr int kCols = decltype(size<1>(s))::value;
    for (int idx = threadIdx.x; idx < kRows * kCols; idx += kThreads) {
        const int r = idx / kCols, c = idx % kCols;
        d(r, c) = Op(float(s(r, c)) * w[r]);
    }
}

// Stores a float to element `off` of a tensor of dtype `dtype`.
__device__ __forceinline__ void store_as(void* base, int32_t dtype, int64_t off, float x) {
    switch (dtype) {
        case LLA_DTYPE_BFLOAT16: static_cast<__nv_bfloat16*>(base)[off] = __float2bfloat16(x); break;
        case LLA_DTYPE_FLOAT16: static_cast<__half*>(base)[off] = __float2half(x); break;
        default: static_cast<float*>(base)[off] = x; break;
    }
}

// The chunk of a backward item: its absolute chunk index, first position and
// the call tokens [lo, hi) it holds.
struct ItemInfo {
    int seq;
    SeqInfo s;
    int64_t rel;   // index of the item within its sequence
    int64_t P;     // absolute chunk index
    int64_t base;  // first position of the chunk
    int64_t lo, hi;
    tile::RowRange rows;  // call-token rows of the tile
};

__device__ __forceinline__ ItemInfo item_info(const BackwardParams& p, int64_t item) {
    ItemInfo it;
    it.seq = p.item_seq[item];
    it.s = p.seqs[it.seq];
    it.rel = item - it.s.item_begin;
    it.P = it.s.sc0 + it.rel;
    it.base = it.P << kLog2Item;
    it.lo = it.base > it.s.start ? it.base : it.s.start;
    const int64_t end = it.s.start + it.s.length;
    it.hi = it.base + kChunk < end ? it.base + kChunk : end;
    it.rows = tile::row_range(it.base, it.lo, it.hi, kChunk);
    return it;
}

// Cumulative log decay (from the call's first token) at the end of the
// chunk before `rel` of sequence it.seq, head h.
__device__ __forceinline__ double item_dstart(const BackwardParams& p, const ItemInfo& it, int h, int64_t rel) {
    return p.dstart[static_cast<int64_t>(h) * (p.items + p.N) + tile::dstart_index(it.s, it.seq, rel)];
}

}  // namespace lla::cuda::bwd
