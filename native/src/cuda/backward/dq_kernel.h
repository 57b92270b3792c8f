// Pass 5 of the backward, per (chunk item, group, head split): for the heads
// of its share of the group, the target side of the chunk's tokens:
//   intra:    dq += scale (M o dP) K,   dl[i, lev] += scale sum_j S dP exp(G_i - G_j)
//   incoming: for each state X the chunk reads (cuda/tile/superchunks.h,
//             for_each_incoming at chunk granularity), with w_i = scale l[i, lev_i] exp(G_i - G_ref):
//             dq += diag(w) dO X^T,  dl[i, lev_i] += scale exp(G_i - G_ref) (Q X)_i . dO_i
// dq is written directly when groups have one head, else summed over the
// CTA's heads into its float32 partial for group_sum; dl rows are written
// whole (zero at levels nothing reads). dgq gets, per head, the part of
// dg's dG_t this chunk knows (dg_kernel.h): the row sums of the terms
// A[t,s] of its targets minus the column sums of its intra-chunk sources,
// accumulated in double.
#pragma once

#include "cuda/backward/fragment_sums.h"
#include "cuda/backward/head_sums.h"
#include "cuda/backward/intra_mask.h"

namespace lla::cuda::bwd {

constexpr int kMaxReads = tile::kMaxIncoming;

template <class Traits>
struct DqSmem {
    using Op = typename Traits::Op;
    alignas(128) Op q[kChunk * kKMax];
    alignas(128) Op k[kChunk * kKMax];
    alignas(128) Op a[kChunk * Traits::kVs];   // dO slice
    alignas(128) Op b[kChunk * Traits::kVs];   // V slice, then the weighted dO slice
    alignas(128) Op pm[kChunk * kChunk];       // scale (M o dP)
    alignas(128) Op x[kKMax * Traits::kVs];    // an incoming state slice
    ChunkScalars cs;
    float dl[kChunk * 64];                     // dl[row, level]
    double dgq[kChunk];
    float w[kChunk], e[kChunk];
    int lev[kChunk];
    tile::Incoming reads[kMaxReads];
    double read_gref[kMaxReads];
    float read_mult[kMaxReads];
    int num_reads;
};

// CTAs per SM the dq pass's registers are set for (float tiles: shared memory for one).
template <class Traits>
constexpr int kMinBlocks = sizeof(typename Traits::Op) == 2 ? 2 : 1;

template <class Traits>
__global__ void __launch_bounds__(kThreads, kMinBlocks<Traits>) dq_kernel(BackwardParams p) {
    using Op = typename Traits::Op;
    using Element = typename Traits::Element;
    constexpr int kVs = Traits::kVs;
    extern __shared__ __align__(128) unsigned char smem_raw[];
    auto& sm = *reinterpret_cast<DqSmem<Traits>*>(smem_raw);
    const int64_t item = p.item_offset + blockIdx.x;
    const HeadShare share = head_share(p);
    const int grp = share.grp, split = share.split, h_begin = share.h_begin, heads = share.heads;
    const ItemInfo it = item_info(p, item);
    const int64_t token0 = it.s.token_begin + (it.base - it.s.start);
    const bool has_initial = p.initial.levels != nullptr;
    const bool one_slice = p.v_slices == 1;  // dO stays in sA for the whole head

    Tensor sQ = make_tensor(make_smem_ptr(sm.q), typename Traits::LayoutQK{});
    Tensor sK = make_tensor(make_smem_ptr(sm.k), typename Traits::LayoutQK{});
    Tensor sKt = make_tensor(make_smem_ptr(sm.k), typename Traits::LayoutQKt{});
    Tensor sA = make_tensor(make_smem_ptr(sm.a), typename Traits::LayoutV{});
    Tensor sB = make_tensor(make_smem_ptr(sm.b), typename Traits::LayoutV{});
    Tensor sP = make_tensor(make_smem_ptr(sm.pm), typename Traits::LayoutP{});
    Tensor sX = make_tensor(make_smem_ptr(sm.x), typename Traits::LayoutR{});
    Tensor sXt = make_tensor(make_smem_ptr(sm.x), typename Traits::LayoutRt{});

    load_rows<Element, Op>(p.q, it.s.batch, token0, grp, 0, sQ, it.rows, p.K);
    load_rows<Element, Op>(p.k, it.s.batch, token0, grp, 0, sK, it.rows, p.K);
    wait_tiles();

    typename Traits::Mma mma;
    auto thr = mma.get_thread_slice(threadIdx.x);
    Tensor cQ = thr.partition_C(make_identity_tensor(Shape<Int<kChunk>, Int<kKMax>>{}));
    Tensor cZ = thr.partition_C(make_identity_tensor(Shape<Int<kChunk>, Int<kVs>>{}));
    Tensor tP = thr.partition_C(sP);

    for (int h = h_begin; h < h_begin + heads; ++h) {
        load_chunk_scalars(p, it, item, h, sm.cs);
        for (int idx = threadIdx.x; idx < kChunk * 64; idx += kThreads) sm.dl[idx] = 0.f;
        if (threadIdx.x < kChunk) sm.dgq[threadIdx.x] = 0.0;
        if (threadIdx.x == 0) {
            int count = 0;
            const int64_t dbase = static_cast<int64_t>(h) * (p.items + p.N);
            tile::for_each_incoming(it.P, it.s, kLog2Item, has_initial, [&](const tile::Incoming& in) {
                if (count >= kMaxReads) return;
                sm.reads[count] = in;
                if (in.kind == tile::kFromSlot) {
                    sm.read_gref[count] = p.dstart[dbase + tile::dstart_index(it.s, it.seq, in.index + 1)];
                    sm.read_mult[count] = 1.f;
                } else {
                    sm.read_gref[count] = 0.0;
                    sm.read_mult[count] = tile::state_multiplier(p.initial, it.seq, h, in.level);
                }
                ++count;
            });
            sm.num_reads = count;
        }
        __syncthreads();

        // Intra-chunk: dl's levels 0..6 and dG's row and column sums, reduced
        // per lane, then over the lanes sharing a row or a column.
        Tensor acc_dp = partition_fragment_C(mma, Shape<Int<kChunk>, Int<kChunk>>{});
        do_times_v<Traits>(p, it, h, acc_dp, sA, sB);
        Tensor acc_s = partition_fragment_C(mma, Shape<Int<kChunk>, Int<kChunk>>{});
        q_times_k<Traits>(acc_s, sQ, sK);
        float bins[2][kLog2Item + 1];
        double rows_dg[2] = {0.0, 0.0};
        int row_of[2] = {0, 8};
#pragma unroll
        for (int ri = 0; ri < 2; ++ri)
#pragma unroll
            for (int lv = 0; lv <= kLog2Item; ++lv) bins[ri][lv] = 0.f;
        for_each_masked<Traits>(it, sm.cs, [&](int i, int r, int c, int lev, bool ok, float decay) {
            const float lv = sm.cs.l[r * (kLog2Item + 1) + lev];
            const float a = ok ? p.scale * acc_s(i) * acc_dp(i) * decay : 0.f;
            const int ri = fragment_row_slot(r);
            row_of[ri] = r;
#pragma unroll
            for (int b = 0; b <= kLog2Item; ++b) bins[ri][b] += b == lev ? a : 0.f;
            const double la = r != c ? double(lv) * a : 0.0;
            rows_dg[ri] += la;
            const double col = column_sum(-la);  // the same column on the lanes with this lane % 4
            if (threadIdx.x % 32 < 4) atomicAdd(&sm.dgq[c], col);
            tP(i) = Op(ok ? p.scale * lv * decay * acc_dp(i) : 0.f);
        });
#pragma unroll
        for (int ri = 0; ri < 2; ++ri) {
            const double rs = quad_sum(rows_dg[ri]);
            float bs[kLog2Item + 1];
#pragma unroll
            for (int b = 0; b <= kLog2Item; ++b) bs[b] = quad_sum(bins[ri][b]);
            if ((threadIdx.x & 3) == 0) {
                atomicAdd(&sm.dgq[row_of[ri]], rs);
#pragma unroll
                for (int b = 0; b <= kLog2Item; ++b) atomicAdd(&sm.dl[row_of[ri] * 64 + b], bs[b]);
            }
        }
        __syncthreads();
        Tensor acc_h = partition_fragment_C(mma, Shape<Int<kChunk>, Int<kKMax>>{});
        clear(acc_h);
        tile::gemm_smem<typename Traits::CopyN, typename Traits::CopyT>(mma, acc_h, sP, sKt);

        // Incoming states.
        const double d_item = item_dstart(p, it, h, it.rel);
        for (int e = 0; e < sm.num_reads; ++e) {
            const tile::Incoming in = sm.reads[e];
            if (threadIdx.x < kChunk) {
                const int r = threadIdx.x;
                const int64_t pos = it.base + r;
                float w = 0.f, ex = 0.f;
                int lev = 0;
                if (it.rows(r)) {
                    lev = level_of(pos, in.source_pos);
                    ex = p.scale * tile::exp_diff(d_item + sm.cs.g[r] - sm.read_gref[e]);
                    w = ex * tile::load_scalar(p.l, it.s.batch, it.s.token_begin + (pos - it.s.start), h, lev);
                }
                sm.w[r] = w;
                sm.e[r] = ex;
                sm.lev[r] = lev;
            }
            for (int vs = 0; vs < p.v_slices; ++vs) {
                if (in.kind == tile::kFromSlot) {
                    const Op* src = static_cast<const Op*>(p.slots) +
                                    (static_cast<int64_t>(h) * p.items + it.s.item_begin + in.index) * kKMax * p.Vpad +
                                    vs * kVs;
                    load_state_slice<Op>(src, p.Vpad, sX);
                } else {
                    load_state_levels<Op>(p.initial, it.seq, h, in.level, vs * kVs, p.K, p.V, sm.read_mult[e], sX);
                }
                if (!one_slice)
                    load_rows<Element, Op>(p.d_o, it.s.batch, token0, h, vs * kVs, sA, it.rows, p.V - vs * kVs);
                wait_tiles();
                scaled_copy<Op>(sA, sB, sm.w);
                __syncthreads();
                tile::gemm_smem<typename Traits::CopyN, typename Traits::CopyN>(mma, acc_h, sB, sX);
                Tensor acc_z = partition_fragment_C(mma, Shape<Int<kChunk>, Int<kVs>>{});
                clear(acc_z);
                tile::gemm_smem<typename Traits::CopyN, typename Traits::CopyT>(mma, acc_z, sQ, sXt);
                // (Q X)_i . dO_i: dl at the row's level, dG's row sum with l.
                float part[2] = {0.f, 0.f};
                int row[2] = {0, 8};
#pragma unroll
                for (int i = 0; i < size(acc_z); ++i) {
                    const int r = get<0>(cZ(i)), c = get<1>(cZ(i));
                    part[fragment_row_slot(r)] += acc_z(i) * float(sA(r, c));
                    row[fragment_row_slot(r)] = r;
                }
#pragma unroll
                for (int ri = 0; ri < 2; ++ri) {
                    const float s = quad_sum(part[ri]);
                    if ((threadIdx.x & 3) == 0 && s != 0.f) {
                        const int r = row[ri];
                        atomicAdd(&sm.dl[r * 64 + sm.lev[r]], s * sm.e[r]);
                        atomicAdd(&sm.dgq[r], double(s) * sm.w[r]);
                    }
                }
                __syncthreads();
            }
        }

        // dq, this head's dgq and dl.
        add_group_rows(p, it, item, grp, split, h == h_begin, acc_h, cQ, p.dq, p.dq_stride);
        if (threadIdx.x < kChunk) p.dgq[(static_cast<int64_t>(h) * p.items + item) * kChunk + threadIdx.x] = sm.dgq[threadIdx.x];
        for (int idx = threadIdx.x; idx < kChunk * p.L; idx += kThreads) {
            const int r = idx / p.L, lev = idx % p.L;
            if (!it.rows(r)) continue;
            const int64_t tok = it.s.token_begin + (it.base + r - it.s.start);
            const ScalarOut& o = p.dl;
            store_as(o.data, o.dtype, it.s.batch * o.stride_b + tok * o.stride_t + h * o.stride_h + lev * o.stride_l,
                     sm.dl[r * 64 + lev]);
        }
        __syncthreads();
    }
}

}  // namespace lla::cuda::bwd
