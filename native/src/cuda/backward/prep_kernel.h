// Pass 1 of the backward (backward_params.h), per (chunk item, head): the
// chunk's local cumulative log decays (double, from its first call token;
// the last value repeats after its last call token) and chunk total, and the
// chunk state sum_s exp(G_end - G_s) k_s v_s^T (fp32), the up-sweep's leaf.
#pragma once

#include "cuda/backward/backward_tiles.h"

namespace lla::cuda::bwd {

// gsm[0, 64) = local inclusive cumulative sums of g over the chunk's call
// tokens (threads 0..63 hold one position each; two warps).
__device__ __forceinline__ void chunk_decays(const BackwardParams& p, const ItemInfo& it, int h, double* gsm,
                                             double* warp_tot) {
    const int r = threadIdx.x;
    if (r < kChunk) {
        const int64_t pos = it.base + r;
        double x = it.rows(r) ? reset_clamped(tile::load_scalar(p.g, it.s.batch, it.s.token_begin + (pos - it.s.start), h, 0))
                              : 0.0;
#pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            const double y = __shfl_up_sync(0xffffffffu, x, o);
            if ((r & 31) >= o) x += y;
        }
        gsm[r] = x;
        if ((r & 31) == 31) warp_tot[r >> 5] = x;
    }
    __syncthreads();
    if (r >= 32 && r < kChunk) gsm[r] += warp_tot[0];
    __syncthreads();
}

template <class Traits>
struct PrepSmem {
    using Op = typename Traits::Op;
    alignas(128) Op k[kChunk * kKMax];
    alignas(128) Op v[kChunk * Traits::kVs];
    double g[kChunk];
    double warp_tot[2];
    float w[kChunk];
};

template <class Traits>
__global__ void __launch_bounds__(kThreads) prep_kernel(BackwardParams p) {
    using Op = typename Traits::Op;
    using Element = typename Traits::Element;
    constexpr int kVs = Traits::kVs;
    extern __shared__ __align__(128) unsigned char smem_raw[];
    auto& sm = *reinterpret_cast<PrepSmem<Traits>*>(smem_raw);
    const int64_t item = p.item_offset + blockIdx.x;
    const int h = blockIdx.y;
    const int grp = h / p.heads_per_group;
    const ItemInfo it = item_info(p, item);
    const int64_t token0 = it.s.token_begin + (it.base - it.s.start);

    Tensor sK = make_tensor(make_smem_ptr(sm.k), typename Traits::LayoutQK{});
    Tensor sKt = make_tensor(make_smem_ptr(sm.k), typename Traits::LayoutQKt{});
    Tensor sV = make_tensor(make_smem_ptr(sm.v), typename Traits::LayoutV{});
    Tensor sVt = make_tensor(make_smem_ptr(sm.v), typename Traits::LayoutVt{});
    load_rows<Element, Op>(p.k, it.s.batch, token0, grp, 0, sK, it.rows, p.K);

    chunk_decays(p, it, h, sm.g, sm.warp_tot);
    const int64_t head_item = static_cast<int64_t>(h) * p.items + item;
    if (threadIdx.x < kChunk) {
        p.gloc[head_item * kChunk + threadIdx.x] = sm.g[threadIdx.x];
        const double g_end = sm.g[it.hi - 1 - it.base];
        sm.w[threadIdx.x] = it.rows(threadIdx.x) ? tile::exp_diff(g_end - sm.g[threadIdx.x]) : 0.f;
        if (threadIdx.x == 0) p.totals[head_item] = sm.g[kChunk - 1];
    }

    typename Traits::Mma mma;
    for (int vs = 0; vs < p.v_slices; ++vs) {
        load_rows<Element, Op>(p.v, it.s.batch, token0, h, vs * kVs, sV, it.rows, p.V - vs * kVs);
        wait_tiles();
        tile::scale_rows<Op>(sV, sm.w);
        __syncthreads();
        Tensor acc = partition_fragment_C(mma, Shape<Int<kKMax>, Int<kVs>>{});
        clear(acc);
        tile::gemm_smem<typename Traits::CopyT, typename Traits::CopyT>(mma, acc, sKt, sVt);
        Tensor gH = make_tensor(make_gmem_ptr(p.states + head_item * kKMax * p.Vpad + vs * kVs),
                                make_layout(Shape<Int<kKMax>, Int<kVs>>{}, make_stride(int64_t(p.Vpad), _1{})));
        Tensor tHg = mma.get_thread_slice(threadIdx.x).partition_C(gH);
#pragma unroll
        for (int i = 0; i < size(acc); i += 2) tile::store_pair(tHg, i, acc(i), acc(i + 1));
        __syncthreads();  // sV is refilled by the next slice
    }
}

}  // namespace lla::cuda::bwd
