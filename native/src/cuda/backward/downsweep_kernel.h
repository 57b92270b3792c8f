// Pass 4 of the backward: the adjoint of the up-sweep (cuda/forward/
// upsweep_kernel.h), one thread per (sequence, head, 4 state elements).
//
// The up-sweep makes slot i, the dyadic block of chunks of height hh0 (the
// trailing ones of chunk index P) ending at P, and the final state's high
// levels, out of chunk states. Reversed, walking the chunks from the last to
// the first: a chunk state's gradient is the sum, over heights, of the
// gradient of the left-child block of that height containing the chunk (the
// slot's gradient, the sum of its pieces, plus d_final_state for the final
// state's block of that height). Kept as suffix sums cum[hh] = sum over
// heights >= hh, each with the cumulative decay it is referenced to: at
// chunk P the heights below hh0 restart (right children: nothing), so
// dX_P = slot gradient + cum[hh0 + 1] and cum[0..hh0] = dX_P; a step touches
// hh0 + 2 entries (2 on average), not every height. Past the first chunk the
// remaining sums are the gradients of the initial state's levels that the
// up-sweep folded in (pending left children above the chunk size, the levels
// below it through the first chunk).
#pragma once

#include "cuda/backward/backward_tiles.h"
#include "cuda/forward/upsweep_kernel.h"

namespace lla::cuda::bwd {

__device__ __forceinline__ float4 scale4(float a, float4 x) { return make_float4(a * x.x, a * x.y, a * x.z, a * x.w); }
__device__ __forceinline__ float4 add4(float4 a, float4 b) { return make_float4(a.x + b.x, a.y + b.y, a.z + b.z, a.w + b.w); }

template <class Op>
__global__ void __launch_bounds__(128) downsweep_kernel(BackwardParams p) {
    constexpr int kH = fwd::kMaxHeights;
    fwd::SweepSlice sl;
    if (!fwd::sweep_slice(p, &sl)) return;
    const int seq = sl.seq, h = sl.h, kk = sl.kk, vv = sl.vv;
    const SeqInfo s = p.seqs[seq];
    const float4 zero = make_float4(0.f, 0.f, 0.f, 0.f);
    auto load4 = [&](const StateTensor& st, int level) { return tile::load_state4(st, seq, h, level, kk, vv, p.K, p.V); };
    const int64_t stride_item = static_cast<int64_t>(kKMax) * p.Vpad;
    auto pieces_sum = [&](int32_t from, int32_t to) {
        float4 sum = zero;
        for (int32_t pc = from; pc < to; ++pc)
            sum = add4(sum, *reinterpret_cast<const float4*>(
                                p.piece_states + (static_cast<int64_t>(h) * p.num_pieces + pc) * stride_item +
                                kk * p.Vpad + vv));
        return sum;
    };

    const int64_t x = s.start + s.length;
    const int64_t p_end = x >> kLog2Item;
    const bool has_final = p.d_final.levels != nullptr;
    const double* dstart = p.dstart + static_cast<int64_t>(h) * (p.items + p.N) + tile::dstart_index(s, seq, 0);
    const double d_end = s.nsc > 0 ? dstart[s.nsc] : 0.0;  // the final state's reference
    // The final state's high levels wait for the last chunk of their block (fin_used marks those taken).
    float4 cum[kH + 1];
    double cum_ref[kH + 1];
    uint64_t fin_used = 0;
    auto final_level = [&](int hh) {
        return has_final && ((p_end >> hh) & 1) && kLog2Item + 1 + hh < p.d_final.num_levels
                   ? load4(p.d_final, kLog2Item + 1 + hh)
                   : zero;
    };
    for (int hh = 0; hh <= kH; ++hh) {
        cum[hh] = zero;
        cum_ref[hh] = d_end;
    }

    Op* dstates = static_cast<Op*>(p.dstates) + (static_cast<int64_t>(h) * p.items + s.item_begin) * stride_item +
                  kk * p.Vpad + vv;
    float4 d_first = zero;  // gradient of the first chunk's state
    for (int i = s.nsc - 1; i >= 0; --i) {
        const double D = dstart[i + 1];  // cumulative decay at the end of chunk i
        const int64_t P = s.sc0 + i;
        int hh0 = 0;
        while (hh0 < kH && ((P >> hh0) & 1)) ++hh0;
        float4 d = scale4(expf(static_cast<float>(cum_ref[hh0 + 1] - D)), cum[hh0 + 1]);
        if (hh0 < kH) {
            d = add4(d, pieces_sum(p.slot_pieces[s.item_begin + i], p.slot_pieces[s.item_begin + i + 1]));
            if (((p_end >> hh0) & 1) && (P >> (hh0 + 1)) == (p_end >> (hh0 + 1))) {
                d = add4(d, scale4(expf(static_cast<float>(d_end - D)), final_level(hh0)));
                fin_used |= uint64_t(1) << hh0;
            }
        }
        for (int hh = 0; hh <= hh0 && hh <= kH; ++hh) {
            cum[hh] = d;
            cum_ref[hh] = D;
        }
        fwd::store4(dstates + i * stride_item, d);
        if (i == 0) d_first = d;
    }

    if (p.d_initial.levels == nullptr || p.initial.levels == nullptr) return;
    const uint64_t n = static_cast<uint64_t>(s.start);
    const double d0 = s.nsc > 0 ? dstart[1] : 0.0;  // end of the first chunk
    const float e0 = expf(static_cast<float>(d0));
    const float e_end = expf(static_cast<float>(d_end));
    const StateTensor& out = p.d_initial;
    for (int l = 0; l < out.num_levels; ++l) {
        float4 g = zero;
        const bool nonempty = l >= 1 && l < 64 && ((n >> (l - 1)) & 1u);
        if (nonempty) {
            g = pieces_sum(p.init_pieces[seq * 65 + l], p.init_pieces[seq * 65 + l + 1]);
            if (l > kLog2Item) {
                const int hh = l - kLog2Item - 1;
                // The blocks above this level that contain the first chunk, decayed to its end.
                if (s.nsc > 0 && hh + 1 <= kH)
                    g = add4(g, scale4(e0 * expf(static_cast<float>(cum_ref[hh + 1] - d0)), cum[hh + 1]));
                // The final state's block of this height, when it is the level itself.
                if (hh < kH && ((fin_used >> hh) & 1) == 0) g = add4(g, scale4(e_end, final_level(hh)));
            } else if (s.nsc > 0) {
                g = add4(g, scale4(e0, d_first));
            }
            // The final state's low levels that copy initial levels (final_low_level).
            if (has_final) {
                for (int L = 1; L <= kLog2Item && L < p.d_final.num_levels; ++L) {
                    if (((x >> (L - 1)) & 1) == 0) continue;
                    const fwd::LowLevelPlan plan = fwd::final_low_level(s.start, x, L);
                    const bool take = plan.pre == fwd::kPreSameLevel ? l == L : (plan.pre == fwd::kPreAllBelow && l < L);
                    if (take) g = add4(g, scale4(e_end, load4(p.d_final, L)));
                }
            }
        }
        tile::store_state4(out, seq, h, l, kk, vv, p.K, p.V, g);
    }
}

}  // namespace lla::cuda::bwd
