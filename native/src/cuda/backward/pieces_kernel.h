// Pass 3 of the backward, per (piece, head, V slice): the gradient state of
// one piece of readers (backward_params.h, Piece),
//   W = scale * sum_t l[t, level(t)] exp(G_t - G_ref) q_t do_t^T   (K x V slice, fp32),
// the gradient that those readers send to the state they read (a slot of the
// up-sweep, or a level of the initial state).
#pragma once

#include "cuda/backward/backward_tiles.h"

namespace lla::cuda::bwd {

template <class Traits>
struct PiecesSmem {
    using Op = typename Traits::Op;
    alignas(128) Op q[kChunk * kKMax];
    alignas(128) Op d_o[kChunk * Traits::kVs];
    float w[kChunk];
};

template <class Traits>
__global__ void __launch_bounds__(kThreads) pieces_kernel(BackwardParams p) {
    using Op = typename Traits::Op;
    using Element = typename Traits::Element;
    constexpr int kVs = Traits::kVs;
    extern __shared__ __align__(128) unsigned char smem_raw[];
    auto& sm = *reinterpret_cast<PiecesSmem<Traits>*>(smem_raw);
    const int64_t piece = p.item_offset + blockIdx.x;
    const int h = blockIdx.y / p.v_slices;
    const int vs = blockIdx.y % p.v_slices;
    const int grp = h / p.heads_per_group;
    const Piece pc = p.pieces[piece];

    Tensor sQ = make_tensor(make_smem_ptr(sm.q), typename Traits::LayoutQK{});
    Tensor sQt = make_tensor(make_smem_ptr(sm.q), typename Traits::LayoutQKt{});
    Tensor sD = make_tensor(make_smem_ptr(sm.d_o), typename Traits::LayoutV{});
    Tensor sDt = make_tensor(make_smem_ptr(sm.d_o), typename Traits::LayoutVt{});
    typename Traits::Mma mma;
    Tensor acc = partition_fragment_C(mma, Shape<Int<kKMax>, Int<kVs>>{});
    clear(acc);

    const ItemInfo first = item_info(p, pc.item);
    const double gref = pc.gref_item >= 0 ? item_dstart(p, first, h, pc.gref_item) : 0.0;
    for (int c = 0; c < kPieceChunks; ++c) {
        const int64_t item = pc.item + c;
        if (item >= p.items || p.item_seq[item] != pc.seq) break;
        ItemInfo it = item_info(p, item);
        const int64_t lo = it.lo > pc.pos_lo ? it.lo : pc.pos_lo;
        const int64_t hi = it.hi < pc.pos_hi ? it.hi : pc.pos_hi;
        if (lo >= hi) {
            if (it.lo >= pc.pos_hi) break;
            continue;
        }
        it.rows = tile::row_range(it.base, lo, hi, kChunk);
        const int64_t token0 = it.s.token_begin + (it.base - it.s.start);
        load_rows<Element, Op>(p.q, it.s.batch, token0, grp, 0, sQ, it.rows, p.K);
        load_rows<Element, Op>(p.d_o, it.s.batch, token0, h, vs * kVs, sD, it.rows, p.V - vs * kVs);
        if (threadIdx.x < kChunk) {
            const int r = threadIdx.x;
            float w = 0.f;
            if (it.rows(r)) {
                const int64_t pos = it.base + r;
                const int lev = pc.level >= 0 ? pc.level : level_of(pos, pc.src_pos);
                const double G = item_dstart(p, it, h, it.rel) +
                                 p.gloc[(static_cast<int64_t>(h) * p.items + item) * kChunk + r];
                w = p.scale * tile::load_scalar(p.l, it.s.batch, it.s.token_begin + (pos - it.s.start), h, lev) *
                    tile::exp_diff(G - gref);
            }
            sm.w[r] = w;
        }
        wait_tiles();
        tile::scale_rows<Op>(sD, sm.w);
        __syncthreads();
        tile::gemm_smem<typename Traits::CopyT, typename Traits::CopyT>(mma, acc, sQt, sDt);
        __syncthreads();
    }

    Tensor gW = make_tensor(
        make_gmem_ptr(p.piece_states + (static_cast<int64_t>(h) * p.num_pieces + piece) * kKMax * p.Vpad + vs * kVs),
        make_layout(Shape<Int<kKMax>, Int<kVs>>{}, make_stride(int64_t(p.Vpad), _1{})));
    Tensor tWg = mma.get_thread_slice(threadIdx.x).partition_C(gW);
#pragma unroll
    for (int i = 0; i < size(acc); i += 2) tile::store_pair(tWg, i, acc(i), acc(i + 1));
}

}  // namespace lla::cuda::bwd
