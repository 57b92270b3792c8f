// The intra-chunk part shared by the dq and dkv kernels of the backward:
// S = Q K^T and, per head, dP = dO V^T over the V
// slices, then the level mask M[i,j] = l[i, lev(i,j)] exp(G_i - G_j) (j <= i,
// both call tokens) applied in registers.
#pragma once

#include "cuda/backward/backward_tiles.h"

namespace lla::cuda::bwd {

// Per-head scalars of one chunk in shared memory.
struct ChunkScalars {
    double g[kChunk];             // local cumulative log decays (prep_kernel)
    float l[kChunk * (kLog2Item + 1)];  // l[row, 0..6]
};

// Loads the chunk's decays and intra-chunk level scales for head h.
__device__ __forceinline__ void load_chunk_scalars(const BackwardParams& p, const ItemInfo& it, int64_t item, int h,
                                                   ChunkScalars& cs) {
    const int64_t head_item = static_cast<int64_t>(h) * p.items + item;
    for (int r = threadIdx.x; r < kChunk; r += kThreads) cs.g[r] = p.gloc[head_item * kChunk + r];
    for (int idx = threadIdx.x; idx < kChunk * (kLog2Item + 1); idx += kThreads) {
        const int r = idx / (kLog2Item + 1), lev = idx % (kLog2Item + 1);
        const int64_t pos = it.base + r;
        cs.l[idx] = (it.rows(r) && lev < p.L)
                        ? tile::load_scalar(p.l, it.s.batch, it.s.token_begin + (pos - it.s.start), h, lev)
                        : 0.f;
    }
}

// acc = dO V^T over every V slice (sA, sB: V-slice tiles, reloaded).
template <class Traits, class Acc, class SA, class SB>
__device__ __forceinline__ void do_times_v(const BackwardParams& p, const ItemInfo& it, int h, Acc& acc, SA& sA,
                                           SB& sB) {
    using Op = typename Traits::Op;
    using Element = typename Traits::Element;
    typename Traits::Mma mma;
    clear(acc);
    const int64_t token0 = it.s.token_begin + (it.base - it.s.start);
    for (int vs = 0; vs < p.v_slices; ++vs) {
        load_rows<Element, Op>(p.d_o, it.s.batch, token0, h, vs * Traits::kVs, sA, it.rows, p.V - vs * Traits::kVs);
        load_rows<Element, Op>(p.v, it.s.batch, token0, h, vs * Traits::kVs, sB, it.rows, p.V - vs * Traits::kVs);
        wait_tiles();
        tile::gemm_smem<typename Traits::CopyN, typename Traits::CopyN>(mma, acc, sA, sB);
        __syncthreads();
    }
}

// acc = Q K^T of the chunk (recomputed per head in the dq and dkv passes:
// kept across heads it costs the registers of a second CTA per SM).
template <class Traits, class Acc, class SQ, class SK>
__device__ __forceinline__ void q_times_k(Acc& acc, const SQ& sQ, const SK& sK) {
    typename Traits::Mma mma;
    clear(acc);
    tile::gemm_smem<typename Traits::CopyN, typename Traits::CopyN>(mma, acc, sQ, sK);
}

// Calls f(i, r, c, lev, ok, decay) for every accumulator element i of a
// 64 x 64 tile at (r, c); ok: c <= r, both call tokens; decay = exp(G_r - G_c)
// (0 where !ok).
template <class Traits, class F>
__device__ __forceinline__ void for_each_masked(const ItemInfo& it, const ChunkScalars& cs, F&& f) {
    typename Traits::Mma mma;
    Tensor cS = mma.get_thread_slice(threadIdx.x).partition_C(make_identity_tensor(Shape<Int<kChunk>, Int<kChunk>>{}));
#pragma unroll
    for (int i = 0; i < size(cS); ++i) {
        const int r = get<0>(cS(i)), c = get<1>(cS(i));
        const bool ok = c <= r && it.rows(r) && it.rows(c);
        const int lev = r == c ? 0 : 32 - __clz(r ^ c);
        const float decay = ok ? tile::exp_diff(cs.g[r] - cs.g[c]) : 0.f;
        f(i, r, c, lev, ok, decay);
    }
}

}  // namespace lla::cuda::bwd
