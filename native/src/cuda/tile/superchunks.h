// The geometry every tiled CUDA kernel shares (forward and backward): chunk
// and tile constants, the rows of a tile that hold call tokens, the sequences
// of a call as the kernels see them, and the walk over the states that a
// superchunk (or, in the backward, a chunk) reads. The decomposition is
// described in cuda/forward/forward_common.h.
#pragma once

#include <cstdint>

#include "core/host_device.h"
#include "core/levels.h"

namespace lla::cuda::tile {

constexpr int kChunk = 64;         // tokens per chunk
constexpr int kLog2Chunk = 6;
constexpr int kKMax = 128;         // K is padded to this in every instantiation
constexpr int kThreads = 256;      // threads of the tiled kernels (8 warps: 4 along M x 2 along N)
constexpr int kMaxIncoming = 64;   // incoming states of one superchunk (<= bits of a position)


// The rows [lo, hi) of a tile whose call tokens they are: positions
// [pos_lo, pos_hi) of a tile starting at position base, in tile rows (int
// comparisons in the copy predicates instead of 64-bit ones).
struct RowRange {
    int lo, hi;
    LLA_HD bool operator()(int r) const { return r >= lo && r < hi; }
};
LLA_HD RowRange row_range(int64_t base, int64_t pos_lo, int64_t pos_hi, int rows) {
    const int64_t a = pos_lo > base ? pos_lo - base : 0;
    const int64_t b = pos_hi < base + rows ? pos_hi - base : rows;
    return RowRange{static_cast<int>(a < rows ? a : rows), static_cast<int>(b > 0 ? b : 0)};
}

// One sequence of the call, as the kernels see it.
struct SeqInfo {
    int64_t start;        // absolute position of the first token (n)
    int64_t length;       // tokens in this call (may be 0)
    int64_t batch;        // batch row of q, k, v, g, l, o
    int64_t token_begin;  // index on the T axis of the first token
    int64_t sc0;          // superchunk holding position `start`
    int32_t nsc;          // superchunks touched by the call (0 when length == 0)
    int32_t item_begin;   // index of the first of its nsc work items
};

// Index of sequence `seq`'s relative superchunk i in the per-head array of
// cumulative decays at superchunk boundaries (nsc + 1 entries per sequence).
LLA_HD int64_t dstart_index(const SeqInfo& s, int seq, int64_t i) { return s.item_begin + seq + i; }

enum IncomingKind : int32_t { kFromSlot = 0, kFromInitial = 1 };

// A state read by every target of a superchunk: targets t get
// l[t, level_of(t, source_pos)] * exp(Gd[t] - gref) * q_t^T State.
// kFromSlot: the up-sweep slot `index` (relative to sc0), gref = Gd at the
// end of slot `index`. kFromInitial: level `index` of the initial state,
// gref = Gd[start - 1] = 0.
struct Incoming {
    int32_t kind;
    int32_t level;        // kFromInitial: state level read
    int64_t index;        // kFromSlot: slot index relative to sc0
    int64_t source_pos;   // a position inside the state's block
};

// Calls f(Incoming) for every state that superchunk P (absolute index) of
// sequence s reads, in increasing level order. For P == sc0 these are the
// nonempty buckets of the initial state (their level differs per target); for
// P > sc0 the left siblings of P's ancestors in the superchunk tree: built by
// the up-sweep (slot) when they end after sc0 starts, else a level of the
// initial state unchanged.
template <class F>
LLA_HD void for_each_incoming(int64_t P, const SeqInfo& s, int log2S, bool has_initial, F&& f) {
    const int64_t S = int64_t(1) << log2S;
    if (P == s.sc0) {
        if (!has_initial) return;
        const uint64_t n = static_cast<uint64_t>(s.start);
        for (int l = 1; l < 64 && (n >> (l - 1)) != 0; ++l)
            if ((n >> (l - 1)) & 1u)
                f(Incoming{kFromInitial, l, 0, static_cast<int64_t>((n >> l) << l)});
        return;
    }
    for (int j = 1; j + log2S < 64 && (P >> (j - 1)) != 0; ++j) {
        if (((P >> (j - 1)) & 1) == 0) continue;
        const int64_t slot_abs = (P >> (j - 1)) << (j - 1);  // first superchunk of P's ancestor
        const int64_t source = (slot_abs - 1) * S;             // inside the left sibling
        if (slot_abs > s.sc0)
            f(Incoming{kFromSlot, log2S + j, slot_abs - 1 - s.sc0, source});
        else if (has_initial)
            f(Incoming{kFromInitial, log2S + j, 0, source});
    }
}

}  // namespace lla::cuda::tile
