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
    static constexpr int kBytes = 2 * Traits::kQKBytes + Traits::kVBytes + Traits::kS * 8 + kChunk * 4 + 8 * 8;
};

template <class Traits>
__global__ void __launch_bounds__(kThreads) chunk_states_kernel(ForwardParams p) {
    using Element = typename Traits::Element;
    constexpr int kS = Traits::kS;
    constexpr int kVs = Traits::kVSlice;
    constexpr int kNC = Traits::kChunksPerSuper;

    extern __shared__ __align__(128) unsigned char smem[];
    Element* q_ptr = reinterpret_cast<Element*>(smem);
    Element* k_ptr = q_ptr + kChunk * kKMax;
    Element* v_ptr = k_ptr + kChunk * kKMax;
    double* gsm = reinterpret_cast<double*>(v_ptr + kChunk * kVs);
    double* warp_sums = gsm + kS;
    float* wsm = reinterpret_cast<float*>(warp_sums + 8);

    Tensor sQ = make_tensor(make_smem_ptr(q_ptr), typename Traits::LayoutQK{});
    Tensor sK = make_tensor(make_smem_ptr(k_ptr), typename Traits::LayoutQK{});
    Tensor sKt = make_tensor(make_smem_ptr(k_ptr), typename Traits::LayoutKt{});
    Tensor sV = make_tensor(make_smem_ptr(v_ptr), typename Traits::LayoutV{});
    Tensor sVt = make_tensor(make_smem_ptr(v_ptr), typename Traits::LayoutVt{});

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

    superchunk_decays<kS>(p, s, h, base, lo, hi, gsm, warp_sums);
    const int64_t head_item = static_cast<int64_t>(h) * p.items + item;
    if (vs == 0) {
        for (int r = threadIdx.x; r < kS; r += kThreads) p.gloc[head_item * kS + r] = gsm[r];
        if (threadIdx.x == 0) p.totals[head_item] = gsm[kS - 1];
    }
    const double g_end = gsm[hi - 1 - base];
    const bool do_adiag = (h % p.heads_per_group == 0) && vs == 0;

    typename Traits::MmaE mma;
    Tensor acc_h = partition_fragment_C(mma, Shape<Int<kKMax>, Int<kVs>>{});
    clear(acc_h);

    const int c_first = static_cast<int>((lo - base) >> kLog2Chunk);
    const int c_last = static_cast<int>((hi - 1 - base) >> kLog2Chunk);
    for (int c = c_first; c <= c_last; ++c) {
        const int64_t cbase = base + c * kChunk;
        const int64_t token0 = s.token_begin + (cbase - s.start);
        auto row_ok = [&](int r) { return cbase + r >= lo && cbase + r < hi; };

        const Element* k_row0 = static_cast<const Element*>(p.k.data) + s.batch * p.k.stride_b +
                                token0 * p.k.stride_t + grp * p.k.stride_x;
        Tensor gK = make_tensor(make_gmem_ptr(k_row0),
                                make_layout(Shape<Int<kChunk>, Int<kKMax>>{}, make_stride(p.k.stride_t, _1{})));
        load_tile_async<Element>(gK, sK, row_ok, p.K);
        const Element* v_row0 = static_cast<const Element*>(p.v.data) + s.batch * p.v.stride_b +
                                token0 * p.v.stride_t + h * p.v.stride_x + vs * kVs;
        Tensor gV = make_tensor(make_gmem_ptr(v_row0),
                                make_layout(Shape<Int<kChunk>, Int<kVs>>{}, make_stride(p.v.stride_t, _1{})));
        load_tile_async<Element>(gV, sV, row_ok, p.V - vs * kVs);
        if (do_adiag) {
            const Element* q_row0 = static_cast<const Element*>(p.q.data) + s.batch * p.q.stride_b +
                                    token0 * p.q.stride_t + grp * p.q.stride_x;
            Tensor gQ = make_tensor(make_gmem_ptr(q_row0),
                                    make_layout(Shape<Int<kChunk>, Int<kKMax>>{}, make_stride(p.q.stride_t, _1{})));
            load_tile_async<Element>(gQ, sQ, row_ok, p.K);
        }
        cp_async_fence();
        if (threadIdx.x < kChunk) {
            const int r = threadIdx.x;
            wsm[r] = row_ok(r) ? expf(static_cast<float>(g_end - gsm[c * kChunk + r])) : 0.f;
        }
        cp_async_wait<0>();
        __syncthreads();

        if (do_adiag) {
            Tensor acc_s = partition_fragment_C(mma, Shape<Int<kChunk>, Int<kChunk>>{});
            static_assert(decltype(size(acc_s))::value == 32, "diagonal tile fragment is 32 floats per thread");
            clear(acc_s);
            gemm_smem<CopyAtomN<Element>, CopyAtomN<Element>>(mma, acc_s, sQ, sK);
            float4* dst = reinterpret_cast<float4*>(p.adiag) +
                          ((static_cast<int64_t>(grp) * p.items + item) * kNC + c) * 8 * kThreads;
#pragma unroll
            for (int j = 0; j < 8; ++j)
                dst[j * kThreads + threadIdx.x] =
                    make_float4(acc_s(4 * j), acc_s(4 * j + 1), acc_s(4 * j + 2), acc_s(4 * j + 3));
        }

        // V rows weighted by their decay to the end of the superchunk.
        for (int idx = threadIdx.x; idx < kChunk * kVs; idx += kThreads) {
            const int r = idx / kVs, col = idx % kVs;
            sV(r, col) = Element(float(sV(r, col)) * wsm[r]);
        }
        __syncthreads();
        gemm_smem<CopyAtomT<Element>, CopyAtomT<Element>>(mma, acc_h, sKt, sVt);
        __syncthreads();
    }

    auto thr_mma = mma.get_thread_slice(threadIdx.x);
    Tensor cH = thr_mma.partition_C(make_identity_tensor(Shape<Int<kKMax>, Int<kVs>>{}));
    float* dst = p.states + head_item * kKMax * p.Vpad + vs * kVs;
#pragma unroll
    for (int i = 0; i < size(acc_h); ++i) dst[get<0>(cH(i)) * p.Vpad + get<1>(cH(i))] = acc_h(i);
}

}  // namespace lla::cuda::fwd
