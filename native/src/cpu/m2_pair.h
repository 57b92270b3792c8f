// The data of one (sequence, head) pair of an M2 call, gathered into dense
// buffers of the compute precision R, and the chunk geometry the kernels use.
//
// Chunks are aligned to absolute positions: chunk c holds [c*C, (c+1)*C).
// A call covers [p0, end). It is cut into segments at every multiple of C
// inside it: the head segment [p0, b1) (b1 the first multiple of C after p0),
// then whole chunks, then possibly a partial tail. Every multiple of C in
// (p0, end] is a *boundary*; at boundary b the state merges the segment that
// ends there, together with the lower levels, into exactly one level, whose
// matrix the kernels keep ("merged state", undecayed past b - 1). The state
// ready for any segment start is then a handful of merged states and levels
// of the initial state; see collect_levels.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/levels.h"

namespace lla::cpu {

constexpr int kChunkLog2 = 6;
constexpr int kChunk = 1 << kChunkLog2;

template <class R>
struct PairData {
    // Kernels take the pair by const reference and only write through the
    // pointers the task owns (see m2_chunk_kernels.h); gathering fills the rest.
    int64_t p0 = 0, len = 0, end = 0;
    int64_t first_boundary = 0;  // first multiple of kChunk after p0
    int64_t num_boundaries = 0;  // multiples of kChunk in (p0, end]
    int64_t num_segments = 0;
    int K = 0, V = 0;
    int levels = 0;  // columns of lw: the level weights that positions of this call can use
    double scale = 1.0;

    // Rows indexed by the token's offset i in the call (position p0 + i).
    R* q = nullptr;    // len x K (shared by the heads of a group)
    R* k = nullptr;    // len x K
    R* v = nullptr;    // len x V
    R* d_o = nullptr;  // len x V (backward only)
    R* lw = nullptr;   // len x levels
    // cumdecay[i + 1] = g[p0] + ... + g[p0 + i]; cumdecay[0] = 0 stands for position p0 - 1.
    double* cumdecay = nullptr;

    R* merged = nullptr;        // num_boundaries matrices K x V: merged state of each boundary
    R* merged_grad = nullptr;   // their gradients (backward only)
    R* initial = nullptr; // initial_levels matrices K x V: canonical initial state
    int initial_levels = 0;     // 0 when the pair starts fresh
    R* initial_grad = nullptr;  // initial_levels matrices: gradient of `initial` (backward, when asked for)
    R* final_grad = nullptr;    // final_levels matrices: d_final_state, canonical (backward, when given)
    int final_levels = 0;       // bit_length(end) + 1 when final_grad is given
    R* dq = nullptr;            // len x K gradients of this head (backward only)
    R* dk = nullptr;

    // Cumulative log decay at absolute position pos, for pos in [p0 - 1, end).
    double G(int64_t pos) const { return cumdecay[pos - p0 + 1]; }
    int64_t boundary(int64_t j) const { return first_boundary + j * kChunk; }
    int64_t segment_begin(int64_t s) const { return s == 0 ? p0 : first_boundary + (s - 1) * kChunk; }
    int64_t segment_end(int64_t s) const { return std::min(first_boundary + s * kChunk, end); }
    size_t matrix_size() const { return static_cast<size_t>(K) * static_cast<size_t>(V); }
};

// Geometry of a pair from its start position and length.
template <class R>
void set_geometry(PairData<R>& d, int64_t p0, int64_t len) {
    d.p0 = p0;
    d.len = len;
    d.end = p0 + len;
    d.first_boundary = (p0 / kChunk + 1) * kChunk;
    d.num_boundaries = d.end / kChunk - p0 / kChunk;
    d.num_segments = len == 0 ? 0 : d.num_boundaries + (d.end % kChunk != 0 ? 1 : 0);
}

// One nonempty level of the state ready for some target: the matrix holds
// that level's sources decayed to `reference` (a position), so the level's
// canonical value at target position a is exp(G(a - 1) - G(reference)) * matrix.
template <class R>
struct LevelEntry {
    int level;
    const R* matrix;
    int64_t reference;
    int64_t merged_index;  // index of the merged state, or -1 for a level of the initial state
};

// The nonempty levels of the state ready for target `a`, where a is p0 or a
// multiple of kChunk in (p0, end]. Level l's block ends at level_end(a, l);
// if that is a boundary of this call, the block is the merged state formed
// there; otherwise it lies wholly before p0 and is level l of the initial
// state. Returns the number of entries written to out (at most 64).
template <class R>
inline int collect_levels(const PairData<R>& d, int64_t a, LevelEntry<R>* out) {
    int count = 0;
    int top = bit_length(static_cast<uint64_t>(a));
    for (int l = 1; l <= top; ++l) {
        if (!level_nonempty(a, l)) continue;
        int64_t formed = level_end(a, l);
        if (formed > d.p0) {
            int64_t j = (formed - d.first_boundary) / kChunk;
            out[count++] = LevelEntry<R>{l, d.merged + static_cast<size_t>(j) * d.matrix_size(), formed - 1, j};
        } else if (l < d.initial_levels) {
            out[count++] = LevelEntry<R>{l, d.initial + static_cast<size_t>(l) * d.matrix_size(), d.p0 - 1, -1};
        }
    }
    return count;
}

// First token of the last segment (p0 for an empty call). The state ready for
// d.end is the state ready for it with the levels below
// level_of(d.end, tail) folded into that level, plus the tokens [tail, end).
template <class R>
inline int64_t tail_begin(const PairData<R>& d) {
    return d.len == 0 ? d.p0 : d.segment_begin(d.num_segments - 1);
}

// Calls fn(entry, level) for every level entry of the state ready for the
// tail segment, with the level of the state ready for d.end it lands in.
template <class R, class Fn>
inline void for_each_final_entry(const PairData<R>& d, Fn&& fn) {
    const int64_t tail = tail_begin(d);
    const int merge_into = level_of(d.end, tail);
    LevelEntry<R> entries[64];
    const int count = collect_levels(d, tail, entries);
    for (int e = 0; e < count; ++e) fn(entries[e], std::max(entries[e].level, merge_into));
}

// The rows of segment s of a pair: tokens [a, a + rows), all in one chunk.
template <class R>
struct SegmentRows {
    int64_t a;
    int rows;
    const R* q;
    const R* k;
    const R* v;
    const R* d_o;  // backward only
    const R* lw;
    R* dq;  // backward only
    R* dk;

    SegmentRows(const PairData<R>& d, int64_t s) : a(d.segment_begin(s)), rows(static_cast<int>(d.segment_end(s) - a)) {
        const size_t i0 = static_cast<size_t>(a - d.p0);
        q = d.q + i0 * d.K;
        k = d.k + i0 * d.K;
        v = d.v + i0 * d.V;
        d_o = d.d_o ? d.d_o + i0 * d.V : nullptr;
        lw = d.lw + i0 * d.levels;
        dq = d.dq ? d.dq + i0 * d.K : nullptr;
        dk = d.dk ? d.dk + i0 * d.K : nullptr;
    }
};

// Calls fn(entry) for every level that the merged state of boundary j
// absorbs: the levels of the state ready for its segment start that lie
// below the level it forms.
template <class R, class Fn>
inline void for_each_absorbed_level(const PairData<R>& d, int64_t j, Fn&& fn) {
    LevelEntry<R> entries[64];
    const int64_t a = d.segment_begin(j);
    const int forms = level_of(d.boundary(j), a);
    const int count = collect_levels(d, a, entries);
    for (int e = 0; e < count; ++e)
        if (entries[e].level < forms) fn(entries[e]);
}

// Per-thread scratch of the chunk kernels.
template <class R>
struct Scratch {
    R* k_t;       // K x kChunk
    R* v_t;       // V x kChunk
    R* scores;    // kChunk x kChunk
    R* dscores;   // kChunk x kChunk
    R* rows;      // kChunk x max(K, V): rows scaled per token
    R* z;         // kChunk x K
    R* matrix_t;  // V x K
    R* out;       // kChunk x max(K, V)
    R* dl;        // kChunk x levels
    R* matrix;    // K x V
    R* row_factor;  // kChunk
    R* col_factor;  // kChunk

    template <class Take>
    static Scratch carve(Take&& take, int K, int V, int levels) {
        const size_t C = kChunk, wide = static_cast<size_t>(std::max(K, V));
        Scratch s;
        s.k_t = take(static_cast<size_t>(K) * C);
        s.v_t = take(static_cast<size_t>(V) * C);
        s.scores = take(C * C);
        s.dscores = take(C * C);
        s.rows = take(C * wide);
        s.z = take(C * static_cast<size_t>(K));
        s.matrix_t = take(static_cast<size_t>(V) * static_cast<size_t>(K));
        s.out = take(C * wide);
        s.dl = take(C * static_cast<size_t>(std::max(levels, 1)));
        s.matrix = take(static_cast<size_t>(K) * static_cast<size_t>(V));
        s.row_factor = take(C);
        s.col_factor = take(C);
        return s;
    }
};

}  // namespace lla::cpu
