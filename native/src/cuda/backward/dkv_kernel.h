// Pass 6 of the backward, per (chunk item, group, head split): for the heads
// of its share of the group, the source side of the chunk's tokens:
//   intra:    dk += scale (M o dP)^T Q,   dv += scale (M o S)^T dO
//   outgoing: with D the gradient of the chunk state (downsweep_kernel.h) and
//             u_j = exp(G_end - G_j):  dk += diag(u) V D^T,  dv += diag(u) K D
// In the last chunk of a sequence whose end is not chunk-aligned, the
// outgoing states are instead the low levels of d_final_state, each applied
// to the rows of its bucket. dk is summed over heads as dq is (head_sums.h);
// k . (the outgoing part of dk) per head goes to dgk for dg (the column sums
// of the terms whose targets lie after the chunk).
#pragma once

#include "cuda/backward/fragment_sums.h"
#include "cuda/backward/head_sums.h"
#include "cuda/backward/intra_mask.h"

namespace lla::cuda::bwd {

template <class Traits>
struct DkvSmem {
    using Op = typename Traits::Op;
    alignas(128) Op q[kChunk * kKMax];
    alignas(128) Op k[kChunk * kKMax];
    alignas(128) Op kw[kChunk * kKMax];         // diag(u) K
    alignas(128) Op a[kChunk * Traits::kVs];    // dO slice
    alignas(128) Op b[kChunk * Traits::kVs];    // V slice
    alignas(128) Op vw[kChunk * Traits::kVs];   // diag(u) V slice
    alignas(128) Op pm[kChunk * kChunk];        // scale (M o dP)
    alignas(128) Op sm_[kChunk * kChunk];       // scale (M o S)
    alignas(128) Op x[kKMax * Traits::kVs];     // an outgoing gradient-state slice
    ChunkScalars cs;
    float u[kChunk];
    double dgk[kChunk];
};

// One CTA per SM: forced to 128 registers for two it spilled and ran no
// faster (bench/NOTES-backward.md).
template <class Traits>
__global__ void __launch_bounds__(kThreads, 1) dkv_kernel(BackwardParams p) {
    using Op = typename Traits::Op;
    using Element = typename Traits::Element;
    constexpr int kVs = Traits::kVs;
    extern __shared__ __align__(128) unsigned char smem_raw[];
    auto& sm = *reinterpret_cast<DkvSmem<Traits>*>(smem_raw);
    const int64_t item = p.item_offset + blockIdx.x;
    const HeadShare share = head_share(p);
    const int grp = share.grp, split = share.split, h_begin = share.h_begin, heads = share.heads;
    const bool one_slice = p.v_slices == 1;  // dO and V stay in sA, sB for the whole head
    const ItemInfo it = item_info(p, item);
    const int64_t token0 = it.s.token_begin + (it.base - it.s.start);
    const int64_t x_end = it.s.start + it.s.length;
    // Outgoing states: the chunk-state gradient, or the final state's low levels.
    const bool final_low = it.rel == it.s.nsc - 1 && (x_end & (kChunk - 1)) != 0;
    const bool has_final = p.d_final.levels != nullptr;

    Tensor sQ = make_tensor(make_smem_ptr(sm.q), typename Traits::LayoutQK{});
    Tensor sQt = make_tensor(make_smem_ptr(sm.q), typename Traits::LayoutQKt{});
    Tensor sK = make_tensor(make_smem_ptr(sm.k), typename Traits::LayoutQK{});
    Tensor sKw = make_tensor(make_smem_ptr(sm.kw), typename Traits::LayoutQK{});
    Tensor sA = make_tensor(make_smem_ptr(sm.a), typename Traits::LayoutV{});
    Tensor sAt = make_tensor(make_smem_ptr(sm.a), typename Traits::LayoutVt{});
    Tensor sB = make_tensor(make_smem_ptr(sm.b), typename Traits::LayoutV{});
    Tensor sVw = make_tensor(make_smem_ptr(sm.vw), typename Traits::LayoutV{});
    Tensor sPm = make_tensor(make_smem_ptr(sm.pm), typename Traits::LayoutP{});
    Tensor sPmT = make_tensor(make_smem_ptr(sm.pm), typename Traits::LayoutPt{});
    Tensor sSm = make_tensor(make_smem_ptr(sm.sm_), typename Traits::LayoutP{});
    Tensor sSmT = make_tensor(make_smem_ptr(sm.sm_), typename Traits::LayoutPt{});
    Tensor sX = make_tensor(make_smem_ptr(sm.x), typename Traits::LayoutR{});
    Tensor sXt = make_tensor(make_smem_ptr(sm.x), typename Traits::LayoutRt{});

    load_rows<Element, Op>(p.q, it.s.batch, token0, grp, 0, sQ, it.rows, p.K);
    load_rows<Element, Op>(p.k, it.s.batch, token0, grp, 0, sK, it.rows, p.K);
    wait_tiles();

    typename Traits::Mma mma;
    auto thr = mma.get_thread_slice(threadIdx.x);
    Tensor cK = thr.partition_C(make_identity_tensor(Shape<Int<kChunk>, Int<kKMax>>{}));
    Tensor cV = thr.partition_C(make_identity_tensor(Shape<Int<kChunk>, Int<kVs>>{}));
    Tensor tPm = thr.partition_C(sPm);
    Tensor tSm = thr.partition_C(sSm);

    // With one V slice and the chunk-state gradient as the only outgoing state, that state
    // loads while the intra-chunk products run instead of after them.
    const bool early_state = one_slice && !final_low;
    auto load_dstate = [&](int h, int vs) {
        const Op* src = static_cast<const Op*>(p.dstates) +
                        (static_cast<int64_t>(h) * p.items + item) * kKMax * p.Vpad + vs * kVs;
        load_state_slice<Op>(src, p.Vpad, sX);
    };

    for (int h = h_begin; h < h_begin + heads; ++h) {
        load_chunk_scalars(p, it, item, h, sm.cs);
        if (threadIdx.x < kChunk) sm.dgk[threadIdx.x] = 0.0;
        __syncthreads();
        if (early_state) load_dstate(h, 0);  // completed by do_times_v's wait

        Tensor acc_dp = partition_fragment_C(mma, Shape<Int<kChunk>, Int<kChunk>>{});
        do_times_v<Traits>(p, it, h, acc_dp, sA, sB);
        Tensor acc_s = partition_fragment_C(mma, Shape<Int<kChunk>, Int<kChunk>>{});
        q_times_k<Traits>(acc_s, sQ, sK);
        for_each_masked<Traits>(it, sm.cs, [&](int i, int r, int c, int lev, bool ok, float decay) {
            const float m = ok ? p.scale * sm.cs.l[r * (kLog2Item + 1) + lev] * decay : 0.f;
            tPm(i) = Op(m * acc_dp(i));
            tSm(i) = Op(m * acc_s(i));
        });
        __syncthreads();
        Tensor acc_k = partition_fragment_C(mma, Shape<Int<kChunk>, Int<kKMax>>{});
        clear(acc_k);
        tile::gemm_smem<typename Traits::CopyT, typename Traits::CopyT>(mma, acc_k, sPmT, sQt);
        add_row_sums(acc_k, cK, [&](int i) { return -double(acc_k(i)) * float(sK(get<0>(cK(i)), get<1>(cK(i)))); },
                     sm.dgk);

        // The outgoing states: entry 0 = the chunk-state gradient, or final levels 1..6.
        const double g_end = sm.cs.g[it.hi - 1 - it.base];
        const int num_out = final_low ? kLog2Item : 1;
        for (int vs = 0; vs < p.v_slices; ++vs) {
            if (!one_slice) {
                load_rows<Element, Op>(p.d_o, it.s.batch, token0, h, vs * kVs, sA, it.rows, p.V - vs * kVs);
                load_rows<Element, Op>(p.v, it.s.batch, token0, h, vs * kVs, sB, it.rows, p.V - vs * kVs);
                wait_tiles();
            }
            Tensor acc_v = partition_fragment_C(mma, Shape<Int<kChunk>, Int<kVs>>{});
            clear(acc_v);
            tile::gemm_smem<typename Traits::CopyT, typename Traits::CopyT>(mma, acc_v, sSmT, sAt);
            for (int e = 0; e < num_out; ++e) {
                int64_t b_lo = it.lo, b_hi = it.hi;
                if (final_low) {
                    const int L = e + 1;
                    if (!has_final || ((x_end >> (L - 1)) & 1) == 0 || L >= p.d_final.num_levels) continue;
                    const int64_t b = (x_end >> L) << L;
                    b_lo = b > it.lo ? b : it.lo;
                    b_hi = b + (int64_t(1) << (L - 1));
                    if (b_hi > it.hi) b_hi = it.hi;
                    if (b_lo >= b_hi) continue;
                    load_state_levels<Op>(p.d_final, it.seq, h, L, vs * kVs, p.K, p.V, 1.f, sX);
                } else if (!early_state) {
                    load_dstate(h, vs);
                }
                if (threadIdx.x < kChunk) {
                    const int r = threadIdx.x;
                    const int64_t pos = it.base + r;
                    sm.u[r] = (pos >= b_lo && pos < b_hi) ? tile::exp_diff(g_end - sm.cs.g[r]) : 0.f;
                }
                wait_tiles();
                scaled_copy<Op>(sB, sVw, sm.u);
                scaled_copy<Op>(sK, sKw, sm.u);
                __syncthreads();
                tile::gemm_smem<typename Traits::CopyN, typename Traits::CopyN>(mma, acc_k, sVw, sX);
                tile::gemm_smem<typename Traits::CopyN, typename Traits::CopyT>(mma, acc_v, sKw, sXt);
                __syncthreads();
            }
#pragma unroll
            for (int i = 0; i < size(acc_v); ++i) {
                const int r = get<0>(cV(i)), c = vs * kVs + get<1>(cV(i));
                if (!it.rows(r) || c >= p.V) continue;
                const int64_t tok = it.s.token_begin + (it.base + r - it.s.start);
                store_as(p.dv, p.in_dtype,
                         it.s.batch * p.dv_stride[0] + tok * p.dv_stride[1] + h * p.dv_stride[2] + c * p.dv_stride[3],
                         acc_v(i));
            }
            __syncthreads();
        }

        add_row_sums(acc_k, cK, [&](int i) { return double(acc_k(i)) * float(sK(get<0>(cK(i)), get<1>(cK(i)))); },
                     sm.dgk);
        add_group_rows(p, it, item, grp, split, h == h_begin, acc_k, cK, p.dk, p.dk_stride);
        __syncthreads();
        if (threadIdx.x < kChunk) p.dgk[(static_cast<int64_t>(h) * p.items + item) * kChunk + threadIdx.x] = sm.dgk[threadIdx.x];
        __syncthreads();
    }

}

}  // namespace lla::cuda::bwd
