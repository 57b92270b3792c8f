// Kernel 2 of the forward: the up-sweep over superchunk states, one thread
// per (sequence, head, 4 consecutive state elements).
//
// A thread walks its sequence's superchunks in order like a binary counter:
// superchunk i's state, decayed to its end, carries into the pending left
// children left[h] for each set low bit h of its absolute index; the node
// where the carry stops (a left child of height h) is stored as slot i: the
// dyadic block of superchunks ending at i, read by every superchunk of its
// right sibling as level log2S + h + 1 (for_each_incoming). Levels of the
// initial state enter as pending left children (above the superchunk size) or
// are added to the first superchunk (below it). At the end the pending nodes
// are the final state's levels above the superchunk size.
#pragma once

#include "cuda/forward/forward_params.h"
#include "cuda/forward/kernel_traits.h"
#include "cuda/tile/tile_ops.h"

namespace lla::cuda::fwd {

__device__ __forceinline__ float4 axpy4(float a, float4 x, float4 y) {
    return make_float4(fmaf(a, x.x, y.x), fmaf(a, x.y, y.y), fmaf(a, x.z, y.z), fmaf(a, x.w, y.w));
}

template <class T>
__device__ __forceinline__ void store4(T* dst, float4 v) {
    if constexpr (sizeof(T) == 4) {
        *reinterpret_cast<float4*>(dst) = v;
    } else {
        T out[4] = {T(v.x), T(v.y), T(v.z), T(v.w)};
        *reinterpret_cast<uint2*>(dst) = *reinterpret_cast<const uint2*>(out);
    }
}

// The (sequence, head, 4 state elements at row kk, columns vv..vv+3) of a
// thread of a sweep over states (grid: N x H x elements / 512, 128 threads);
// false for the threads past the state.
struct SweepSlice {
    int seq, h, kk, vv;
};
__device__ __forceinline__ bool sweep_slice(const ForwardParams& p, SweepSlice* out) {
    const int e4 = blockIdx.z * blockDim.x + threadIdx.x;
    if (e4 * 4 >= kKMax * p.Vpad) return false;
    *out = SweepSlice{static_cast<int>(blockIdx.x), static_cast<int>(blockIdx.y), (e4 * 4) / p.Vpad, (e4 * 4) % p.Vpad};
    return true;
}

template <class StateOp>
__global__ void __launch_bounds__(128) upsweep_kernel(ForwardParams p) {
    SweepSlice sl;
    if (!sweep_slice(p, &sl)) return;
    const int seq = sl.seq, h = sl.h, kk = sl.kk, vv = sl.vv;
    const SeqInfo s = p.seqs[seq];
    const bool has_initial = p.initial.levels != nullptr;
    const int log2S = p.log2S;

    auto load_initial4 = [&](int level) {
        const float mult = state_multiplier(p.initial, seq, h, level);
        const float4 x = load_state4(p.initial, seq, h, level, kk, vv, p.K, p.V);
        return make_float4(mult * x.x, mult * x.y, mult * x.z, mult * x.w);
    };

    float4 left[kMaxHeights];
    double gref[kMaxHeights];
    uint64_t valid = 0;
    float4 below = make_float4(0.f, 0.f, 0.f, 0.f);  // initial levels inside the first superchunk
    if (has_initial) {
        const uint64_t n = static_cast<uint64_t>(s.start);
        for (int l = 1; l < 64 && (n >> (l - 1)) != 0; ++l) {
            if (((n >> (l - 1)) & 1u) == 0) continue;
            const float4 x = load_initial4(l);
            if (l <= log2S) {
                below = axpy4(1.f, x, below);
            } else if (l - log2S - 1 < kMaxHeights) {
                const int hh = l - log2S - 1;
                left[hh] = x;
                gref[hh] = 0.0;
                valid |= uint64_t(1) << hh;
            }
        }
    }

    const int64_t dbase = static_cast<int64_t>(h) * (p.items + p.N);
    const bool writer = kk == 0 && vv == 0;
    if (writer) p.dstart[dbase + dstart_index(s, seq, 0)] = 0.0;
    const int64_t stride_item = static_cast<int64_t>(kKMax) * p.Vpad;
    const int64_t first = (static_cast<int64_t>(h) * p.items + s.item_begin) * stride_item + kk * p.Vpad + vv;
    const float* states = p.states + first;
    StateOp* slots = static_cast<StateOp*>(p.slots) + first;
    const double* totals = p.totals + static_cast<int64_t>(h) * p.items + s.item_begin;

    double D = 0.0;  // cumulative log decay at the end of the current superchunk
    float4 next = s.nsc > 0 ? *reinterpret_cast<const float4*>(states) : make_float4(0.f, 0.f, 0.f, 0.f);
    double next_total = s.nsc > 0 ? totals[0] : 0.0;
    for (int i = 0; i < s.nsc; ++i) {
        float4 cur = next;
        D += next_total;
        if (i + 1 < s.nsc) {  // prefetch: the carry chain below is latency-bound
            next = *reinterpret_cast<const float4*>(states + (i + 1) * stride_item);
            next_total = totals[i + 1];
        }
        if (i == 0 && has_initial) cur = axpy4(expf(static_cast<float>(D)), below, cur);
        const int64_t P = s.sc0 + i;
        int hh = 0;
        while (hh < kMaxHeights && ((P >> hh) & 1)) {
            if ((valid >> hh) & 1u) cur = axpy4(expf(static_cast<float>(D - gref[hh])), left[hh], cur);
            ++hh;
        }
        if (hh < kMaxHeights) {
            left[hh] = cur;
            gref[hh] = D;
            valid |= uint64_t(1) << hh;
        }
        store4(slots + i * stride_item, cur);
        if (writer) p.dstart[dbase + dstart_index(s, seq, i + 1)] = D;
    }

    if (p.final_state.levels != nullptr) {
        const int64_t x = s.start + s.length;
        const int64_t p_end = x >> log2S;
        for (int hh = 0; hh < kMaxHeights && (p_end >> hh) != 0; ++hh) {
            if (((p_end >> hh) & 1) == 0) continue;
            const int level = log2S + 1 + hh;
            if (level >= p.final_state.num_levels) continue;  // validated: cannot happen
            float4 val = make_float4(0.f, 0.f, 0.f, 0.f);
            if ((valid >> hh) & 1u) val = axpy4(expf(static_cast<float>(D - gref[hh])), left[hh], val);
            store_state4(p.final_state, seq, h, level, kk, vv, p.K, p.V, val);
        }
    }
}

}  // namespace lla::cuda::fwd
