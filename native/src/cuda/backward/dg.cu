// The dg pass of the backward (dg_kernel.h), shared by every instance.
#include "cuda/backward/dg_kernel.h"

#include "cuda/backward/backward_tiles.h"
#include "cuda/common/cuda_status.h"

namespace lla::cuda::bwd {
namespace {

constexpr int kDgThreads = 256;
constexpr int kDgPer = 4;  // consecutive tokens per thread and pass

__global__ void __launch_bounds__(kDgThreads) dg_kernel(BackwardParams p) {
    __shared__ double warp_sums[kDgThreads / 32];
    const int seq = blockIdx.x / p.H;
    const int h = blockIdx.x % p.H;
    const SeqInfo s = p.seqs[seq];
    if (s.length == 0) return;

    // <dF, F> over the final state (dense [N,H,Ls,K,V] float32 in the workspace).
    double fdot = 0.0;
    if (p.d_final.levels != nullptr && p.final_state != nullptr) {
        const StateTensor& df = p.d_final;
        const int64_t per_level = static_cast<int64_t>(p.K) * p.V;
        const int levels = df.num_levels < p.final_levels ? df.num_levels : p.final_levels;
        const float* f = p.final_state + (static_cast<int64_t>(seq) * p.H + h) * p.final_levels * per_level;
        double part = 0.0;
        for (int64_t idx = threadIdx.x; idx < levels * per_level; idx += kDgThreads) {
            const int l = static_cast<int>(idx / per_level);
            const int kk = static_cast<int>((idx % per_level) / p.V), vv = static_cast<int>(idx % p.V);
            part += static_cast<double>(f[idx]) * tile::load_state(df, seq, h, l, kk, vv);
        }
        tile::block_exclusive_sum(part, warp_sums, &fdot);
    }

    auto dG = [&](int64_t t) {  // t: token index within the call's sequence
        const int64_t pos = s.start + t;
        const int64_t item = s.item_begin + ((pos >> kLog2Item) - s.sc0);
        const int64_t at = (static_cast<int64_t>(h) * p.items + item) * kChunk + (pos & (kChunk - 1));
        double v = p.dgq[at] - p.dgk[at];
        if (t == s.length - 1) v += fdot;
        return v;
    };

    double carry = 0.0;  // sum of dG over the tokens after this pass
    constexpr int64_t kPass = int64_t(kDgThreads) * kDgPer;
    for (int64_t end = s.length; end > 0; end -= kPass) {
        const int64_t begin = end - kPass;
        // Thread i owns tokens end - (i + 1) kDgPer .. end - i kDgPer - 1 (reverse order).
        double vals[kDgPer];
        double run = 0.0;
#pragma unroll
        for (int j = 0; j < kDgPer; ++j) {
            const int64_t t = end - 1 - (int64_t(threadIdx.x) * kDgPer + j);
            run += t >= begin && t >= 0 ? dG(t) : 0.0;
            vals[j] = run;
        }
        // Exclusive scan of the thread totals in thread order (= reverse token order).
        double pass_total = 0.0;
        const double before = carry + tile::block_exclusive_sum(run, warp_sums, &pass_total);
        const double total = carry + pass_total;
#pragma unroll
        for (int j = 0; j < kDgPer; ++j) {
            const int64_t t = end - 1 - (int64_t(threadIdx.x) * kDgPer + j);
            if (t < begin || t < 0) continue;
            const ScalarOut& o = p.dg;
            store_as(o.data, o.dtype, s.batch * o.stride_b + (s.token_begin + t) * o.stride_t + h * o.stride_h,
                     static_cast<float>(before + vals[j]));
        }
        carry = total;
    }
}

cudaEvent_t* g_phase_events = nullptr;

}  // namespace

void set_phase_events(cudaEvent_t* events) { g_phase_events = events; }
cudaEvent_t* phase_events() { return g_phase_events; }

lla_status launch_dg(const BackwardParams& p, cudaStream_t stream) {
    if (p.N == 0 || p.H == 0) return LLA_OK;
    dg_kernel<<<static_cast<unsigned>(int64_t(p.N) * p.H), kDgThreads, 0, stream>>>(p);
    LLA_CUDA_TRY(cudaGetLastError(), "launch of dg_kernel");
    return LLA_OK;
}

}  // namespace lla::cuda::bwd
