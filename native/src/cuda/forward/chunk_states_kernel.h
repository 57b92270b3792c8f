// Kernel 1 of the forward, one CTA per (superchunk, head, V slice):
//  - local cumulative log decays of the superchunk (double, from its first
//    call token), written once per head;
//  - the superchunk state sum_s exp(Gd[end] - Gd[s]) k_s v_s^T (fp32), the
//    leaf of the up-sweep;
//  - once per group (first head of the group, first V slice): Q K^T of each
//    diagonal chunk tile, stored in the MMA accumulator order so that the output
//    kernel reloads it with coalesced 16-byte loads.
#pragma once

#include "cuda/forward/tile_ops.h"

namespace lla::cuda::fwd {

// Exclusive prefix sum of one double per thread over the CTA.
__device__ __forceinline__ double block_exclusive_sum(double x, double* warp_sums) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    double incl = x;
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        const double y = __shfl_up_sync(0xffffffffu, incl, o);
        if (lane >= o) incl += y;
    }
    if (lane == 31) warp_sums[warp] = incl;
    __syncthreads();
    double before = 0;
    for (int w = 0; w < warp; ++w) before += warp_sums[w];
    __syncthreads();
    return before + incl - x;
}

// Fills gsm[0, S) with the inclusive cumulative sum of g over the call tokens
// of the superchunk starting at `base` (0 before the first call token; the
// last value repeats after the last one).
template <int kS>
__device__ __forceinline__ void superchunk_decays(const ForwardParams& p, const SeqInfo& s, int h, int64_t base,
                                                  int64_t lo, int64_t hi, double* gsm, double* warp_sums) {
    constexpr int kPer = kS / kThreads;
    double vals[kPer];
    double run = 0;
#pragma unroll
    for (int i = 0; i < kPer; ++i) {
        const int64_t pos = base + threadIdx.x * kPer + i;
        const float gv = (pos >= lo && pos < hi) ? load_scalar(p.g, s.batch, s.token_begin + (pos - s.start), h, 0) : 0.f;
        run += gv;
        vals[i] = run;
    }
    const double offset = block_exclusive_sum(run, warp_sums);
#pragma unroll
    for (int i = 0; i < kPer; ++i) gsm[threadIdx.x * kPer + i] = offset + vals[i];
    __syncthreads();
}

template <class Traits>
struct ChunkStatesSmem {
    // Two stages of (Q, K, V) tiles, the decays, warp sums and row weights.
    static constexpr int kStage = 2 * Traits::kQKBytes + Traits::kVBytes;
    static constexpr int kBytes = 2 * kStage + Traits::kS * 8 + 8 * 8 + kChunk * 4;
};

// Kernel 1: chunk c + 1's tiles load (cp.async, second stage) while chunk c
// is multiplied.
template <class Traits>
__global__ void __launch_bounds__(kThreads, Traits::kMinBlocks) chunk_states_kernel(ForwardParams p) {
    using Element = typename Traits::Element;
    using Smem = ChunkStatesSmem<Traits>;
    constexpr int kS = Traits::kS;
    constexpr int kVs = Traits::kVSlice;
    constexpr int kNC = Traits::kChunksPerSuper;
    constexpr int kFrag = Traits::kDiagFrag;

    extern __shared__ __align__(128) unsigned char smem[];
    auto q_ptr = [&](int stage) { return reinterpret_cast<Element*>(smem + stage * Smem::kStage); };
    auto k_ptr = [&](int stage) { return q_ptr(stage) + kChunk * kKMax; };
    auto v_ptr = [&](int stage) { return k_ptr(stage) + kChunk * kKMax; };
    double* gsm = reinterpret_cast<double*>(smem + 2 * Smem::kStage);
    double* warp_sums = gsm + kS;
    float* wsm = reinterpret_cast<float*>(warp_sums + 8);

    const int64_t item = p.item_offset + blockIdx.y;
    const int seq = p.item_seq[item];
    const SeqInfo s = p.seqs[seq];
    const int64_t P = s.sc0 + (item - s.item_begin);
    const int h = blockIdx.x / p.v_slices;
    const int vs = blockIdx.x % p.v_slices;
    const int grp = h / p.heads_per_group;
    const int64_t base = P << Traits::kLog2S;
    const int64_t lo = base > s.start ? base : s.start;
    const int64_t hi = (base + kS < s.start + s.length) ? base + kS : s.start + s.length;
    const bool do_adiag = (h % p.heads_per_group == 0) && vs == 0;
    const int c_first = static_cast<int>((lo - base) >> kLog2Chunk);
    const int c_last = static_cast<int>((hi - 1 - base) >> kLog2Chunk);

    // Queue the tiles of chunk c into stage c & 1.
    auto issue = [&](int c) {
        const int stage = c & 1;
        const int64_t cbase = base + c * kChunk;
        const int64_t token0 = s.token_begin + (cbase - s.start);
        auto row_ok = [&](int r) { return cbase + r >= lo && cbase + r < hi; };
        const Element* k_row0 = static_cast<const Element*>(p.k.data) + s.batch * p.k.stride_b +
                                token0 * p.k.stride_t + grp * p.k.stride_x;
        Tensor gK = make_tensor(make_gmem_ptr(k_row0),
                                make_layout(Shape<Int<kChunk>, Int<kKMax>>{}, make_stride(p.k.stride_t, _1{})));
        Tensor sK = make_tensor(make_smem_ptr(k_ptr(stage)), typename Traits::LayoutQK{});
        load_tile_async<Element>(gK, sK, row_ok, p.K);
        const Element* v_row0 = static_cast<const Element*>(p.v.data) + s.batch * p.v.stride_b +
                                token0 * p.v.stride_t + h * p.v.stride_x + vs * kVs;
        Tensor gV = make_tensor(make_gmem_ptr(v_row0),
                                make_layout(Shape<Int<kChunk>, Int<kVs>>{}, make_stride(p.v.stride_t, _1{})));
        Tensor sV = make_tensor(make_smem_ptr(v_ptr(stage)), typename Traits::LayoutV{});
        load_tile_async<Element>(gV, sV, row_ok, p.V - vs * kVs);
        if (do_adiag) {
            const Element* q_row0 = static_cast<const Element*>(p.q.data) + s.batch * p.q.stride_b +
                                    token0 * p.q.stride_t + grp * p.q.stride_x;
            Tensor gQ = make_tensor(make_gmem_ptr(q_row0),
                                    make_layout(Shape<Int<kChunk>, Int<kKMax>>{}, make_stride(p.q.stride_t, _1{})));
            Tensor sQ = make_tensor(make_smem_ptr(q_ptr(stage)), typename Traits::LayoutQK{});
            load_tile_async<Element>(gQ, sQ, row_ok, p.K);
        }
        cp_async_fence();
    };
    issue(c_first);

    superchunk_decays<kS>(p, s, h, base, lo, hi, gsm, warp_sums);
    const int64_t head_item = static_cast<int64_t>(h) * p.items + item;
    if (vs == 0) {
        for (int r = threadIdx.x; r < kS; r += kThreads) p.gloc[head_item * kS + r] = gsm[r];
        if (threadIdx.x == 0) p.totals[head_item] = gsm[kS - 1];
    }
    const double g_end = gsm[hi - 1 - base];

    typename Traits::MmaE mma;
    Tensor acc_h = partition_fragment_C(mma, Shape<Int<kKMax>, Int<kVs>>{});
    clear(acc_h);

    for (int c = c_first; c <= c_last; ++c) {
        const int stage = c & 1;
        const int64_t cbase = base + c * kChunk;
        if (c < c_last) {
            issue(c + 1);
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        if (threadIdx.x < kChunk) {
            const int r = threadIdx.x;
            const bool ok = cbase + r >= lo && cbase + r < hi;
            wsm[r] = ok ? exp_diff(g_end - gsm[c * kChunk + r]) : 0.f;
        }
        __syncthreads();
        Tensor sQ = make_tensor(make_smem_ptr(q_ptr(stage)), typename Traits::LayoutQK{});
        Tensor sK = make_tensor(make_smem_ptr(k_ptr(stage)), typename Traits::LayoutQK{});
        Tensor sKt = make_tensor(make_smem_ptr(k_ptr(stage)), typename Traits::LayoutKt{});
        Tensor sV = make_tensor(make_smem_ptr(v_ptr(stage)), typename Traits::LayoutV{});
        Tensor sVt = make_tensor(make_smem_ptr(v_ptr(stage)), typename Traits::LayoutVt{});

        if (do_adiag) {
            Tensor acc_s = partition_fragment_C(mma, Shape<Int<kChunk>, Int<kChunk>>{});
            static_assert(decltype(size(acc_s))::value == kFrag, "diagonal tile fragment size");
            clear(acc_s);
            gemm_smem<CopyAtomN<Element>, CopyAtomN<Element>>(mma, acc_s, sQ, sK);
            float4* dst = reinterpret_cast<float4*>(p.adiag) +
                          ((static_cast<int64_t>(grp) * p.items + item) * kNC + c) * (kFrag / 4) * kThreads;
#pragma unroll
            for (int j = 0; j < kFrag / 4; ++j)
                dst[j * kThreads + threadIdx.x] =
                    make_float4(acc_s(4 * j), acc_s(4 * j + 1), acc_s(4 * j + 2), acc_s(4 * j + 3));
        }

        // V rows weighted by their decay to the end of the superchunk.
        scale_rows<Element>(sV, wsm);
        __syncthreads();
        gemm_smem<CopyAtomT<Element>, CopyAtomT<Element>>(mma, acc_h, sKt, sVt);
        __syncthreads();  // this stage is refilled by the next iteration's issue
    }

    auto thr_mma = mma.get_thread_slice(threadIdx.x);
    Tensor cH = thr_mma.partition_C(make_identity_tensor(Shape<Int<kKMax>, Int<kVs>>{}));
    float* dst = p.states + head_item * kKMax * p.Vpad + vs * kVs;
#pragma unroll
    for (int i = 0; i < size(acc_h); ++i) dst[get<0>(cH(i)) * p.Vpad + get<1>(cH(i))] = acc_h(i);
}

}  // namespace lla::cuda::fwd
