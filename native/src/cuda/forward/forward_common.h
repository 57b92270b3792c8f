// Definitions shared by the host planner and the device kernels of the CUDA
// forward: tile constants, per-sequence metadata, and the level arithmetic
// that decides which states a superchunk reads.
//
// Decomposition (DESIGN-NOTES "superchunk design"). Positions are absolute
// within a sequence. Chunks are kChunk = 64 aligned positions; superchunks are
// S = 2^log2S aligned positions (8 chunks for 16-bit inputs, 4 for float32).
//  - chunk_states kernel, per (sequence, head, superchunk): local cumulative
//    log decays (double), the superchunk state (K x V, fp32), and, once per
//    group, Q K^T of every diagonal chunk tile.
//  - upsweep kernel, per (sequence, head, state element): a binary-counter scan
//    over the superchunks that stores, for every superchunk i, the dyadic
//    block of superchunks that ends at i as a left child ("slot" i), and the
//    high levels of the final state.
//  - output kernel, per (sequence, head, superchunk): intra-chunk masked
//    attention, the chunk-level Fenwick scan on chip, and the superchunk's
//    incoming states (slots and levels of the initial state), then o.
//  - final_state kernel: the final state's levels below the superchunk size.
#pragma once

#include <cstdint>

#include "core/host_device.h"
#include "core/levels.h"
#include "cuda/tile/superchunks.h"

namespace lla::cuda::fwd {

// The tile geometry, sequences and incoming-state walk (cuda/tile/superchunks.h)
// are the forward's vocabulary too.
using namespace tile;

constexpr int kMaxHeights = 48;    // superchunk tree heights the up-sweep tracks

// How the final state's level L (1 <= L <= log2S, bit L-1 of x = start +
// length set) is made: the call tokens [call_lo, call_hi) of its bucket, plus
// initial-state levels: none, level L alone, or every level below L.
enum PrePart : int32_t { kPreNone = 0, kPreSameLevel = 1, kPreAllBelow = 2 };
struct LowLevelPlan {
    int64_t call_lo, call_hi;
    int32_t pre;
};

LLA_HD LowLevelPlan final_low_level(int64_t n, int64_t x, int L) {
    const int64_t b = (x >> L) << L;
    const int64_t e = b + (int64_t(1) << (L - 1));
    LowLevelPlan plan{b > n ? b : n, e, kPreNone};
    if (plan.call_lo > plan.call_hi) plan.call_lo = plan.call_hi;
    if (b < n) {
        const int m = x == n ? 0 : level_of(x, n);
        plan.pre = L > m ? kPreSameLevel : (L == m ? kPreAllBelow : kPreNone);
    }
    return plan;
}

}  // namespace lla::cuda::fwd
