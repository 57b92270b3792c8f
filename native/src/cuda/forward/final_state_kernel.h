// Kernel 4 of the forward (only when a final state is requested): every level
// of the final state that the up-sweep does not write. One CTA per (sequence
// and head, level, 64 V columns); 256 threads, each owning 32 consecutive
// columns of one K row. Levels 1..log2S with bit L-1 of x = start + length set
// are the decayed sum k_s v_s^T over their bucket's call tokens (all in the
// last superchunk) plus initial-state levels (final_low_level); level 0 and
// levels with the bit clear are zero. Plain fp32 FMAs: this is at most one
// superchunk of work per (sequence, head).
#pragma once

#include "cuda/forward/forward_params.h"
#include "cuda/forward/kernel_traits.h"
#include "cuda/tile/tile_ops.h"

namespace lla::cuda::fwd {

template <class Element>
__global__ void __launch_bounds__(256) final_state_kernel(ForwardParams p) {
    constexpr int kTok = 16;
    __shared__ float sk[kTok][kKMax];
    __shared__ float sv[kTok][64];

    const int seq = blockIdx.x / p.H;
    const int h = blockIdx.x % p.H;
    const int L = blockIdx.y;
    const int v0 = blockIdx.z * 64;
    const SeqInfo s = p.seqs[seq];
    const int64_t x = s.start + s.length;
    const bool level_set = L >= 1 && L < 64 && ((x >> (L - 1)) & 1);
    if (level_set && L > p.log2S) return;  // written by the up-sweep

    const int kk = threadIdx.x >> 1;
    const int vh = (threadIdx.x & 1) * 32;
    float acc[32];
#pragma unroll
    for (int c = 0; c < 32; ++c) acc[c] = 0.f;

    if (level_set) {
        const LowLevelPlan plan = final_low_level(s.start, x, L);
        const int64_t dbase = static_cast<int64_t>(h) * (p.items + p.N);
        const double d_total = p.dstart[dbase + dstart_index(s, seq, s.nsc)];
        if (plan.call_lo < plan.call_hi) {
            const int64_t last_item = s.item_begin + s.nsc - 1;
            const int64_t base = (s.sc0 + s.nsc - 1) << p.log2S;
            const double* gloc = p.gloc + (static_cast<int64_t>(h) * p.items + last_item) * (int64_t(1) << p.log2S);
            const double g_end = gloc[x - 1 - base];
            const int grp = h / p.heads_per_group;
            const Element* kbase = static_cast<const Element*>(p.k.data) + s.batch * p.k.stride_b + grp * p.k.stride_x;
            const Element* vbase = static_cast<const Element*>(p.v.data) + s.batch * p.v.stride_b + h * p.v.stride_x;
            for (int64_t t0 = plan.call_lo; t0 < plan.call_hi; t0 += kTok) {
                __syncthreads();
                for (int idx = threadIdx.x; idx < kTok * kKMax; idx += 256) {
                    const int j = idx / kKMax, kq = idx % kKMax;
                    const int64_t pos = t0 + j;
                    sk[j][kq] = (pos < plan.call_hi && kq < p.K)
                                    ? float(kbase[(s.token_begin + pos - s.start) * p.k.stride_t + kq])
                                    : 0.f;
                }
                for (int idx = threadIdx.x; idx < kTok * 64; idx += 256) {
                    const int j = idx / 64, vq = idx % 64;
                    const int64_t pos = t0 + j;
                    float val = 0.f;
                    if (pos < plan.call_hi && v0 + vq < p.V) {
                        const float w = expf(static_cast<float>(g_end - gloc[pos - base]));
                        val = w * float(vbase[(s.token_begin + pos - s.start) * p.v.stride_t + v0 + vq]);
                    }
                    sv[j][vq] = val;
                }
                __syncthreads();
#pragma unroll
                for (int j = 0; j < kTok; ++j) {
                    const float kv = sk[j][kk];
#pragma unroll
                    for (int c = 0; c < 32; ++c) acc[c] = fmaf(kv, sv[j][vh + c], acc[c]);
                }
            }
        }
        if (plan.pre != kPreNone && kk < p.K) {
            const float decay = expf(static_cast<float>(d_total));
            const uint64_t n = static_cast<uint64_t>(s.start);
            for (int l = 1; l <= L; ++l) {
                const bool take = plan.pre == kPreSameLevel ? l == L : (l < L && ((n >> (l - 1)) & 1u));
                if (!take) continue;
                const float mult = decay * state_multiplier(p.initial, seq, h, l);
#pragma unroll
                for (int c = 0; c < 32; ++c) {
                    const int v = v0 + vh + c;
                    if (v < p.V) acc[c] = fmaf(mult, load_state(p.initial, seq, h, l, kk, v), acc[c]);
                }
            }
        }
    }

    if (kk < p.K) {
        const StateTensor& st = p.final_state;
        float* dst = st.levels + seq * st.stride_n + h * st.stride_h + L * st.stride_l + kk * st.stride_k;
#pragma unroll
        for (int c = 0; c < 32; ++c) {
            const int v = v0 + vh + c;
            if (v < p.V) dst[v * st.stride_v] = acc[c];
        }
    }
}

}  // namespace lla::cuda::fwd
