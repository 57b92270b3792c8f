// Kernel 1 of the forward. Per superchunk, one CTA per (head, V slice):
//  - local cumulative log decays of the superchunk (double, from its first
//    call token), written once per head;
//  - the superchunk state sum_s exp(Gd[end] - Gd[s]) k_s v_s^T (fp32), the
//    leaf of the up-sweep;
// and one more CTA per group: Q K^T of each diagonal chunk tile, stored in
// the MMA accumulator order so that the output kernel reloads it with
// coalesced 16-byte loads (grid.x = H * v_slices + G).
#pragma once

#include "core/log_decay.h"
#include "cuda/forward/forward_params.h"
#include "cuda/forward/kernel_traits.h"
#include "cuda/tile/tile_ops.h"
#include "cuda/forward/wgmma_ops.h"

namespace lla::cuda::fwd {

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
        const float gv =
            (pos >= lo && pos < hi) ? reset_clamped(load_scalar(p.g, s.batch, s.token_begin + (pos - s.start), h, 0)) : 0.f;
        run += gv;
        vals[i] = run;
    }
    const double offset = block_exclusive_sum(run, warp_sums);
#pragma unroll
    for (int i = 0; i < kPer; ++i) gsm[threadIdx.x * kPer + i] = offset + vals[i];
    __syncthreads();
}

// Chunks per pipeline stage of a state CTA: two for 16-bit inputs (twice the
// work between barriers, half the barriers per superchunk), one for float32.
template <class Traits>
constexpr int kStageChunks = sizeof(typename Traits::Element) == 2 ? 2 : 1;

template <class Traits>
struct ChunkStatesSmem {
    static constexpr int kRows = kStageChunks<Traits> * kChunk;  // tokens per stage
    // A buffer holds a stage's K and V tiles or, in a Q K^T CTA, a chunk's Q and K tiles.
    static constexpr int kStateStage = kStageChunks<Traits> * (Traits::kQKBytes + Traits::kVBytes);
    static constexpr int kStage = kStateStage > 2 * Traits::kQKBytes ? kStateStage : 2 * Traits::kQKBytes;
    // Two buffers, the decays, warp sums and row weights.
    static constexpr int kBytes = 2 * kStage + Traits::kS * 8 + 8 * 8 + kRows * 4;
};

// Q K^T of the superchunk's chunks for group grp: chunk c + 1's tiles load
// while chunk c is multiplied.
template <class Traits>
__device__ __forceinline__ void superchunk_qk(const ForwardParams& p, const SeqInfo& s, int64_t item, int grp,
                                              int64_t base, int64_t lo, int64_t hi, unsigned char* smem) {
    using Element = typename Traits::Element;
    using Smem = ChunkStatesSmem<Traits>;
    constexpr int kFrag = Traits::kDiagFrag;
    auto q_ptr = [&](int b) { return reinterpret_cast<Element*>(smem + b * Smem::kStage); };
    auto k_ptr = [&](int b) { return q_ptr(b) + kChunk * kKMax; };
    const int c_first = static_cast<int>((lo - base) >> kLog2Chunk);
    const int c_last = static_cast<int>((hi - 1 - base) >> kLog2Chunk);
    auto issue = [&](int c) {
        const int b = c & 1;
        const int64_t cbase = base + c * kChunk;
        const int64_t token0 = s.token_begin + (cbase - s.start);
        const RowRange row_ok = row_range(cbase, lo, hi, kChunk);
        const RowTensor* src[2] = {&p.q, &p.k};
        for (int t = 0; t < 2; ++t) {
            const Element* row0 = static_cast<const Element*>(src[t]->data) + s.batch * src[t]->stride_b +
                                  token0 * src[t]->stride_t + grp * src[t]->stride_x;
            Tensor g = make_tensor(make_gmem_ptr(row0),
                                   make_layout(Shape<Int<kChunk>, Int<kKMax>>{}, make_stride(src[t]->stride_t, _1{})));
            Tensor sm = make_tensor(make_smem_ptr(t == 0 ? q_ptr(b) : k_ptr(b)), typename Traits::LayoutQK{});
            load_tile_async<Element>(g, sm, row_ok, p.K);
        }
        cp_async_fence();
    };
    typename Traits::MmaE mma;
    issue(c_first);
    for (int c = c_first; c <= c_last; ++c) {
        const int b = c & 1;
        if (c < c_last) {
            issue(c + 1);
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        Tensor sQ = make_tensor(make_smem_ptr(q_ptr(b)), typename Traits::LayoutQK{});
        Tensor sK = make_tensor(make_smem_ptr(k_ptr(b)), typename Traits::LayoutQK{});
        Tensor acc_s = partition_fragment_C(mma, Shape<Int<kChunk>, Int<kChunk>>{});
        static_assert(decltype(size(acc_s))::value == kFrag, "diagonal tile fragment size");
        clear(acc_s);
        gemm_smem<CopyAtomN<Element>, CopyAtomN<Element>>(mma, acc_s, sQ, sK);
        float4* dst = reinterpret_cast<float4*>(p.adiag) +
                      ((static_cast<int64_t>(grp) * p.items + item) * Traits::kChunksPerSuper + c) * (kFrag / 4) *
                          kThreads;
#pragma unroll
        for (int j = 0; j < kFrag / 4; ++j)
            dst[j * kThreads + threadIdx.x] =
                make_float4(acc_s(4 * j), acc_s(4 * j + 1), acc_s(4 * j + 2), acc_s(4 * j + 3));
        __syncthreads();  // this buffer is refilled by the next iteration's issue
    }
}

// Kernel 1: stage i + 1's tiles load (cp.async, second buffer) while stage i
// is multiplied.
template <class Traits>
__global__ void __launch_bounds__(kThreads, Traits::kMinBlocks) chunk_states_kernel(ForwardParams p) {
    using Element = typename Traits::Element;
    using Smem = ChunkStatesSmem<Traits>;
    constexpr int kS = Traits::kS;
    constexpr int kVs = Traits::kVSlice;
    constexpr int kRows = Smem::kRows;
    using LayoutK = SmemTile<Element, kRows, kKMax>;
    using LayoutKt = SmemTransposed<LayoutK, kRows, kKMax>;
    using LayoutV = SmemTile<Element, kRows, kVs>;
    using LayoutVt = SmemTransposed<LayoutV, kRows, kVs>;

    extern __shared__ __align__(1024) unsigned char smem[];
    auto k_ptr = [&](int b) { return reinterpret_cast<Element*>(smem + b * Smem::kStage); };
    auto v_ptr = [&](int b) { return k_ptr(b) + kRows * kKMax; };
    double* gsm = reinterpret_cast<double*>(smem + 2 * Smem::kStage);
    double* warp_sums = gsm + kS;
    float* wsm = reinterpret_cast<float*>(warp_sums + 8);

    const int64_t item = p.item_offset + blockIdx.y;
    const int seq = p.item_seq[item];
    const SeqInfo s = p.seqs[seq];
    const int64_t P = s.sc0 + (item - s.item_begin);
    const int64_t base = P << Traits::kLog2S;
    const int64_t lo = base > s.start ? base : s.start;
    const int64_t hi = (base + kS < s.start + s.length) ? base + kS : s.start + s.length;
    const int state_ctas = p.H * p.v_slices;
    if (static_cast<int>(blockIdx.x) >= state_ctas) {
        superchunk_qk<Traits>(p, s, item, static_cast<int>(blockIdx.x) - state_ctas, base, lo, hi, smem);
        return;
    }
    const int h = blockIdx.x / p.v_slices;
    const int vs = blockIdx.x % p.v_slices;
    const int grp = h / p.heads_per_group;
    const int i_first = static_cast<int>((lo - base) / kRows);
    const int i_last = static_cast<int>((hi - 1 - base) / kRows);

    // Queue the tiles of stage i (tokens base + i kRows ...) into buffer i & 1.
    auto issue = [&](int i) {
        const int b = i & 1;
        const int64_t ibase = base + int64_t(i) * kRows;
        const int64_t token0 = s.token_begin + (ibase - s.start);
        const RowRange row_ok = row_range(ibase, lo, hi, kRows);
        const Element* k_row0 = static_cast<const Element*>(p.k.data) + s.batch * p.k.stride_b +
                                token0 * p.k.stride_t + grp * p.k.stride_x;
        Tensor gK = make_tensor(make_gmem_ptr(k_row0),
                                make_layout(Shape<Int<kRows>, Int<kKMax>>{}, make_stride(p.k.stride_t, _1{})));
        Tensor sK = make_tensor(make_smem_ptr(k_ptr(b)), LayoutK{});
        load_tile_async<Element>(gK, sK, row_ok, p.K);
        const Element* v_row0 = static_cast<const Element*>(p.v.data) + s.batch * p.v.stride_b +
                                token0 * p.v.stride_t + h * p.v.stride_x + vs * kVs;
        Tensor gV = make_tensor(make_gmem_ptr(v_row0),
                                make_layout(Shape<Int<kRows>, Int<kVs>>{}, make_stride(p.v.stride_t, _1{})));
        Tensor sV = make_tensor(make_smem_ptr(v_ptr(b)), LayoutV{});
        load_tile_async<Element>(gV, sV, row_ok, p.V - vs * kVs);
        cp_async_fence();
    };
    issue(i_first);

    superchunk_decays<kS>(p, s, h, base, lo, hi, gsm, warp_sums);
    const int64_t head_item = static_cast<int64_t>(h) * p.items + item;
    if (vs == 0) {
        for (int r = threadIdx.x; r < kS; r += kThreads) p.gloc[head_item * kS + r] = gsm[r];
        if (threadIdx.x == 0) p.totals[head_item] = gsm[kS - 1];
    }
    const double g_end = gsm[hi - 1 - base];

    // The state product: WGMMA where compiled for sm_90a with 16-bit inputs
    // (accumulating across stages in registers), else mma.sync.
    constexpr bool kWgmma = kWgmmaCompiled && sizeof(Element) == 2;
    if constexpr (kWgmma) require_1k_aligned(smem);
    using MmaH = typename ForwardMmas<Traits, kWgmma>::H;
    MmaH mma;
    Tensor acc_h = partition_fragment_C(mma, Shape<Int<kKMax>, Int<kVs>>{});
    clear(acc_h);

    for (int i = i_first; i <= i_last; ++i) {
        const int b = i & 1;
        const int64_t ibase = base + int64_t(i) * kRows;
        if (i < i_last) {
            issue(i + 1);
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        const RowRange rows = row_range(ibase, lo, hi, kRows);
        for (int r = threadIdx.x; r < kRows; r += kThreads) wsm[r] = rows(r) ? exp_diff(g_end - gsm[i * kRows + r]) : 0.f;
        __syncthreads();
        Tensor sKt = make_tensor(make_smem_ptr(k_ptr(b)), LayoutKt{});
        Tensor sV = make_tensor(make_smem_ptr(v_ptr(b)), LayoutV{});
        Tensor sVt = make_tensor(make_smem_ptr(v_ptr(b)), LayoutVt{});
        // V rows weighted by their decay to the end of the superchunk.
        scale_rows<Element>(sV, wsm);
        sync_for_mma<kWgmma>();
        if constexpr (kWgmma) {
            using W = WgmmaTraits<Traits>;
            wgmma_issue<false>(mma, acc_h, make_tensor(make_smem_ptr(k_ptr(b)), typename W::template LayoutKt<kRows>{}),
                               make_tensor(make_smem_ptr(v_ptr(b)), typename W::template LayoutVt<kRows>{}));
            wgmma_wait<0>(acc_h);
        } else {
            gemm_smem<CopyAtomT<Element>, CopyAtomT<Element>>(mma, acc_h, sKt, sVt);
        }
        __syncthreads();  // this buffer is refilled by the next iteration's issue
    }

    // Adjacent columns as one 8-byte store (Vpad and the slice offset are even).
    Tensor gH = make_tensor(make_gmem_ptr(p.states + head_item * kKMax * p.Vpad + vs * kVs),
                            make_layout(Shape<Int<kKMax>, Int<kVs>>{}, make_stride(int64_t(p.Vpad), _1{})));
    Tensor tHg = mma.get_thread_slice(threadIdx.x).partition_C(gH);
#pragma unroll
    for (int i = 0; i < size(acc_h); i += 2) store_pair(tHg, i, acc_h(i), acc_h(i + 1));
}

}  // namespace lla::cuda::fwd
