// Plan of one chunked M2 call: the (sequence, head) pairs with their chunk
// geometry, the dense buffers the inputs are gathered into, and how those
// buffers are carved out of one workspace. The same carving runs once
// without memory to size the workspace and once to bind it, so the size the
// API reports is exactly what the call uses.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/checked_size.h"
#include "core/problem.h"
#include "cpu/m2_pair.h"

namespace lla::cpu {

// Bump allocator over a workspace (or over nothing, to measure it). Sizes
// are products of caller dimensions, so they are computed with checked
// arithmetic (core/checked_size.h): on overflow the arena reports kOverflow
// and hands out nothing.
class Arena {
public:
    static constexpr size_t kOverflow = kSizeOverflow;

    explicit Arena(char* base) : base_(base) {}
    // Room for the product of `counts` elements of T.
    template <class T, class... Counts>
    T* take(Counts... counts) {
        const size_t start = checked_align_up(used_, 64);
        used_ = checked_sum(start, checked_product({sizeof(T), static_cast<size_t>(counts)...}));
        return base_ && used_ != kOverflow ? reinterpret_cast<T*>(base_ + start) : nullptr;
    }
    // Bytes needed, with alignment slack for an unaligned base; kOverflow when they do not fit size_t.
    size_t used() const { return checked_sum(used_, 64); }

private:
    char* base_;
    size_t used_ = 0;
};

struct PlanOptions {
    bool backward = false;   // also d_o, merged-state gradients, per-head dq and dk
    bool has_initial = false;
    bool initial_gradient = false;  // backward: d_initial_state asked for
    bool final_gradient = false;    // backward: d_final_state given
    int threads = 1;
};

template <class R>
struct M2Plan {
    Dims dims;
    PlanOptions options;
    int levels = 0;                  // level weights gathered per token
    int64_t total_rows = 0;          // sum of sequence lengths
    std::vector<int64_t> rows_before;    // per sequence
    std::vector<PairData<R>> pairs;      // index sequence * H + head
    std::vector<int64_t> boundaries_before, segments_before;  // per pair, prefix sums (size pairs + 1)
    std::vector<Scratch<R>> scratch;     // per worker
    R* q_rows = nullptr;  // [G][total_rows][K]
    R* k_rows = nullptr;

    int64_t num_pairs() const { return static_cast<int64_t>(pairs.size()); }
    int64_t group_of(int64_t head) const { return head / dims.heads_per_group(); }
    size_t group_offset(int64_t seq, int64_t group) const {
        return static_cast<size_t>(group * total_rows + rows_before[static_cast<size_t>(seq)]) * static_cast<size_t>(dims.K);
    }
};

// Levels that positions of a sequence covering [p0, p0 + len) use: 0 .. bit_length(last position).
inline int levels_used(int64_t p0, int64_t len) {
    return len == 0 ? 0 : bit_length(static_cast<uint64_t>(p0 + len - 1)) + 1;
}

// Fills the pairs' geometry (no memory). `scale` is the call's q.k scale.
template <class R>
M2Plan<R> make_plan(const Dims& dims, const std::vector<Sequence>& sequences, const PlanOptions& options, double scale) {
    M2Plan<R> plan;
    plan.dims = dims;
    plan.options = options;
    const int64_t N = static_cast<int64_t>(sequences.size()), H = dims.H;
    plan.rows_before.resize(static_cast<size_t>(N));
    for (int64_t n = 0; n < N; ++n) {
        plan.rows_before[static_cast<size_t>(n)] = plan.total_rows;
        plan.total_rows += sequences[static_cast<size_t>(n)].length;
        plan.levels = std::max(plan.levels, levels_used(sequences[static_cast<size_t>(n)].start_position,
                                                        sequences[static_cast<size_t>(n)].length));
    }
    plan.pairs.resize(static_cast<size_t>(N * H));
    plan.boundaries_before.assign(static_cast<size_t>(N * H + 1), 0);
    plan.segments_before.assign(static_cast<size_t>(N * H + 1), 0);
    for (int64_t n = 0; n < N; ++n)
        for (int64_t h = 0; h < H; ++h) {
            const size_t index = static_cast<size_t>(n * H + h);
            PairData<R>& d = plan.pairs[index];
            set_geometry(d, sequences[static_cast<size_t>(n)].start_position, sequences[static_cast<size_t>(n)].length);
            d.K = static_cast<int>(dims.K);
            d.V = static_cast<int>(dims.V);
            d.levels = plan.levels;
            d.scale = scale;
            plan.boundaries_before[index + 1] = plan.boundaries_before[index] + d.num_boundaries;
            plan.segments_before[index + 1] = plan.segments_before[index] + d.num_segments;
        }
    return plan;
}

// Threads worth waking for a call: about one per million multiply-adds of
// chunk work, at most `requested`. Small calls run on the calling thread,
// where waking helpers would cost more than the work.
template <class R>
int threads_for_work(const M2Plan<R>& plan, int requested) {
    double work = 0;
    for (const PairData<R>& d : plan.pairs) {
        const double readouts = 2.0 + bit_length(static_cast<uint64_t>(d.len / kChunk + 1)) / 2.0;
        work += static_cast<double>(d.len) * (kChunk * (d.K + d.V) + readouts * d.K * d.V);
    }
    const double useful = work / 1e6;
    return useful >= requested ? requested : std::max(1, static_cast<int>(useful));
}

// Carves every buffer of the plan out of `base` (nullptr: only measures) and
// returns the bytes needed (Arena::kOverflow when they do not fit size_t).
template <class R>
size_t carve_buffers(M2Plan<R>& plan, char* base) {
    Arena arena(base);
    const Dims& dims = plan.dims;
    const size_t K = static_cast<size_t>(dims.K), V = static_cast<size_t>(dims.V), kv = K * V;
    const size_t rows = static_cast<size_t>(plan.total_rows);
    plan.q_rows = arena.take<R>(dims.G, rows, K);
    plan.k_rows = arena.take<R>(dims.G, rows, K);
    const int64_t H = dims.H;
    for (int64_t pair = 0; pair < plan.num_pairs(); ++pair) {
        PairData<R>& d = plan.pairs[static_cast<size_t>(pair)];
        const int64_t seq = pair / H, head = pair % H;
        const size_t len = static_cast<size_t>(d.len);
        const size_t group = plan.group_offset(seq, plan.group_of(head));
        d.q = base ? plan.q_rows + group : nullptr;
        d.k = base ? plan.k_rows + group : nullptr;
        d.v = arena.take<R>(len, V);
        d.lw = arena.take<R>(len, plan.levels);
        d.cumdecay = arena.take<double>(d.len + 1);
        d.merged = arena.take<R>(d.num_boundaries, kv);
        d.initial_levels = plan.options.has_initial ? bit_length(static_cast<uint64_t>(d.p0)) + 1 : 0;
        d.initial = arena.take<R>(d.initial_levels, kv);
        if (plan.options.backward) {
            d.d_o = arena.take<R>(len, V);
            d.merged_grad = arena.take<R>(d.num_boundaries, kv);
            d.dq = arena.take<R>(len, K);
            d.dk = arena.take<R>(len, K);
            if (plan.options.initial_gradient)
                d.initial_grad = arena.take<R>(d.initial_levels, kv);
            if (plan.options.final_gradient) {
                d.final_levels = bit_length(static_cast<uint64_t>(d.end)) + 1;
                d.final_grad = arena.take<R>(d.final_levels, kv);
            }
        }
    }
    plan.scratch.clear();
    for (int w = 0; w < plan.options.threads; ++w)
        plan.scratch.push_back(Scratch<R>::carve([&](size_t n) { return arena.take<R>(n); }, static_cast<int>(dims.K),
                                                 static_cast<int>(dims.V), plan.levels));
    return arena.used();
}

// Maps a flat item of a per-(pair, index) pass to its pair, given the
// pass's prefix sums; returns the pair and stores the index within it.
inline int64_t locate_item(const std::vector<int64_t>& before, int64_t item, int64_t* index) {
    size_t lo = 0, hi = before.size() - 1;  // before[lo] <= item < before[hi]
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (before[mid] <= item) lo = mid; else hi = mid;
    }
    *index = item - before[lo];
    return static_cast<int64_t>(lo);
}

}  // namespace lla::cpu
