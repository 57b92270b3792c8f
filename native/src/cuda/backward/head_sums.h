// How the dq and dkv passes sum a group's heads without atomics: each CTA
// (chunk, group, head split) adds its heads' gradients into a float32 partial
// of its own, and group_sum (group_sum.h) adds the splits.
#pragma once

#include "cuda/backward/backward_tiles.h"

namespace lla::cuda::bwd {

// The heads of a (chunk, group, head split) CTA: grid.y = G * head_splits.
struct HeadShare {
    int grp, split, h_begin, heads;
};
__device__ __forceinline__ HeadShare head_share(const BackwardParams& p) {
    const int grp = blockIdx.y / p.head_splits, split = blockIdx.y % p.head_splits;
    const int heads = p.heads_per_group / p.head_splits;
    return HeadShare{grp, split, grp * p.heads_per_group + split * heads, heads};
}

// Adds head h's (64 x kKMax) accumulator of group grp to the gradient: stored
// (in p.in_dtype, strides `stride`) when groups have one head, else added to
// the float32 partial of head split `split` (set by the split's first head;
// each CTA owns its partial, so no atomics), which group_sum adds up. Kept
// in memory rather than registers so that two CTAs fit an SM.
template <class Acc, class Coord>
__device__ __forceinline__ void add_group_rows(const BackwardParams& p, const ItemInfo& it, int64_t item, int grp,
                                               int split, bool first, const Acc& acc, const Coord& coord, void* out,
                                               const int64_t* stride) {
    float* part = p.group_partial + ((static_cast<int64_t>(split) * p.G + grp) * p.items + item) * (kChunk * kKMax);
#pragma unroll
    for (int i = 0; i < size(acc); i += 2) {
        const int r = get<0>(coord(i)), c = get<1>(coord(i));
        if (p.heads_per_group > 1) {
            float2* at = reinterpret_cast<float2*>(part + r * kKMax + c);  // (c, c + 1): tile::store_pair
            float2 v = make_float2(acc(i), acc(i + 1));
            if (!first) {
                const float2 o = *at;
                v.x += o.x;
                v.y += o.y;
            }
            *at = v;
            continue;
        }
        if (!it.rows(r) || c >= p.K) continue;
        const int64_t tok = it.s.token_begin + (it.base + r - it.s.start);
        const int64_t off = it.s.batch * stride[0] + tok * stride[1] + grp * stride[2];
        store_as(out, p.in_dtype, off + c * stride[3], acc(i));
        if (c + 1 < p.K) store_as(out, p.in_dtype, off + (c + 1) * stride[3], acc(i + 1));
    }
}

}  // namespace lla::cuda::bwd
