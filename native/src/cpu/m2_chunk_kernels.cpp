#include "cpu/m2_chunk_kernels.h"

#include <algorithm>
#include <cmath>

#include "cpu/dense_kernels.h"
#include "core/levels.h"
#include "cpu/path_entry.h"

namespace lla::cpu {
namespace {

// exp of a difference of cumulative log decays, evaluated in double and
// rounded once to R. Only differences G(t) - G(s) with s <= t reach here, so
// with g <= 0 the argument is never positive.
template <class R>
LLA_ALWAYS_INLINE R decay(double later, double earlier) {
    return static_cast<R>(std::exp(later - earlier));
}

// Largest |exponent| for which exp() of it is a normal number of R with room
// to spare; below it the decay inside a segment may be factored per row and
// per column.
template <class R>
constexpr double factor_limit();
template <>
constexpr double factor_limit<float>() { return 60.0; }
template <>
constexpr double factor_limit<double>() { return 600.0; }

// exp(G(t) - G(s)) = row_factor[t] * col_factor[s] for t, s in the segment
// [a, a + rows), with both factors taken around the midpoint of G there. Only
// when the spread of G inside the segment keeps both factors finite and
// normal; otherwise returns false and callers exponentiate each difference
// (golden case m2_strong_decay_neg_lambda spans ~250 within one chunk).
template <class R>
LLA_ALWAYS_INLINE bool factor_decay(const PairData<R>& d, int64_t a, int rows, R* row_factor, R* col_factor) {
    double lo = d.G(a), hi = d.G(a);
    for (int i = 1; i < rows; ++i) {
        double x = d.G(a + i);
        lo = std::min(lo, x);
        hi = std::max(hi, x);
    }
    if (!(hi - lo <= 2.0 * factor_limit<R>())) return false;
    double mid = 0.5 * (lo + hi);
    for (int i = 0; i < rows; ++i) {
        row_factor[i] = static_cast<R>(std::exp(d.G(a + i) - mid));
        col_factor[i] = static_cast<R>(std::exp(mid - d.G(a + i)));
    }
    return true;
}

// Calls run(level, j0, j1) for the sources [a + j0, a + j1) of target
// t = a + i that lie in the segment starting at a, grouped by level: level 0
// is the token itself; level l >= 1 is a contiguous block when nonempty.
template <class Run>
LLA_ALWAYS_INLINE void for_each_level_run(int64_t a, int i, Run&& run) {
    const int64_t t = a + i;
    run(0, i, i + 1);
    const int top = level_of(t, a);
    for (int l = 1; l <= top; ++l) {
        if (!level_nonempty(t, l)) continue;
        int64_t begin = std::max(level_begin(t, l), a);
        int64_t end = level_end(t, l);
        if (end > begin) run(l, static_cast<int>(begin - a), static_cast<int>(end - a));
    }
}

// rows[i, :] = factor_i * src[i, :] for i < count, with
// factor_i = exp(G(ref) - G(first + i)) (sources decayed to ref).
template <class R>
LLA_ALWAYS_INLINE void scale_rows_to(const PairData<R>& d, int64_t first, int count, int64_t ref, const R* src,
                                     int width, R* rows) {
    const double g_ref = d.G(ref);
    for (int i = 0; i < count; ++i)
        scaled_copy(width, decay<R>(g_ref, d.G(first + i)), src + static_cast<size_t>(i) * width,
                    rows + static_cast<size_t>(i) * width);
}

template <KernelPath P, class R>
LLA_ALWAYS_INLINE void merge_segment_impl(const PairData<R>& d, int64_t j, Scratch<R>& sc) {
    const SegmentRows<R> seg(d, j);  // segment j ends at boundary j
    scale_rows_to(d, seg.a, seg.rows, d.boundary(j) - 1, seg.k, d.K, sc.rows);
    R* merged = d.merged + static_cast<size_t>(j) * d.matrix_size();
    // merged (K x V) = rows^T (K x rows) * v (rows x V)
    gemm<P>(d.K, d.V, seg.rows, sc.rows, 1, d.K, seg.v, d.V, merged, d.V, false);
}

template <KernelPath P, class R>
LLA_ALWAYS_INLINE void fold_merged_states_impl(const PairData<R>& d) {
    const int kv = static_cast<int>(d.matrix_size());
    for (int64_t j = 0; j < d.num_boundaries; ++j) {
        R* merged = d.merged + static_cast<size_t>(j) * d.matrix_size();
        const double g_end = d.G(d.boundary(j) - 1);
        for_each_absorbed_level(d, j, [&](const LevelEntry<R>& entry) {
            axpy(kv, decay<R>(g_end, d.G(entry.reference)), entry.matrix, merged);
        });
    }
}

// Weight of level entry `level` for target a + i: a block of the state ready
// for a lies wholly inside one block of the later target, at the larger of
// the two levels.
LLA_ALWAYS_INLINE int read_level(int entry_level, int64_t a, int i) {
    return std::max(entry_level, level_of(a + i, a));
}

template <KernelPath P, class R>
LLA_ALWAYS_INLINE void forward_segment_impl(const PairData<R>& d, int64_t s, Scratch<R>& sc) {
    const SegmentRows<R> seg(d, s);
    const int64_t a = seg.a;
    const int rows = seg.rows, K = d.K, V = d.V, nl = d.levels;
    const R *q = seg.q, *k = seg.k, *v = seg.v, *lw = seg.lw;
    const R scale = static_cast<R>(d.scale);

    // Inside the segment: ((Q K^T) * M) V with M[i,j] = scale l[i, lev] exp(G_i - G_j), j <= i.
    transpose(rows, K, k, K, sc.k_t, kChunk);
    gemm<P>(rows, rows, K, q, K, 1, sc.k_t, kChunk, sc.scores, kChunk, false, GemmShape::LowerCols);
    const bool factored = factor_decay(d, a, rows, sc.row_factor, sc.col_factor);
    for (int i = 0; i < rows; ++i) {
        R* row = sc.scores + static_cast<size_t>(i) * kChunk;
        for (int j = i + 1; j < rows; ++j) row[j] = R(0);
        const R* weights = lw + static_cast<size_t>(i) * nl;
        const double g_i = d.G(a + i);
        for_each_level_run(a, i, [&](int level, int j0, int j1) {
            if (factored) {
                const R f = scale * weights[level] * sc.row_factor[i];
                for (int j = j0; j < j1; ++j) row[j] *= f * sc.col_factor[j];
            } else {
                const R w = scale * weights[level];
                for (int j = j0; j < j1; ++j) row[j] *= w * decay<R>(g_i, d.G(a + j));
            }
        });
    }
    gemm<P>(rows, V, rows, sc.scores, kChunk, 1, v, V, sc.out, V, false, GemmShape::LowerK);

    // Sources before the segment, through the state ready for a.
    LevelEntry<R> entries[64];
    const int count = collect_levels(d, a, entries);
    for (int n = 0; n < count; ++n) {
        const LevelEntry<R>& entry = entries[n];
        const double g_ref = d.G(entry.reference);
        for (int i = 0; i < rows; ++i) {
            const R coef = scale * lw[static_cast<size_t>(i) * nl + read_level(entry.level, a, i)] *
                           decay<R>(d.G(a + i), g_ref);
            scaled_copy(K, coef, q + static_cast<size_t>(i) * K, sc.rows + static_cast<size_t>(i) * K);
        }
        gemm<P>(rows, V, K, sc.rows, K, 1, entry.matrix, V, sc.out, V, true);
    }
}

template <KernelPath P, class R>
LLA_ALWAYS_INLINE void final_state_level_impl(const PairData<R>& d, int level, Scratch<R>& sc) {
    const int64_t tail = tail_begin(d);
    const int merge_into = level_of(d.end, tail);
    const int kv = static_cast<int>(d.matrix_size());
    std::fill(sc.matrix, sc.matrix + kv, R(0));
    // Levels of the state ready for the tail segment: unchanged above
    // merge_into, folded into merge_into below it.
    for_each_final_entry(d, [&](const LevelEntry<R>& entry, int lands_in) {
        if (lands_in == level) axpy(kv, decay<R>(d.G(d.end - 1), d.G(entry.reference)), entry.matrix, sc.matrix);
    });
    // Tokens of the tail segment at this level of target end.
    if (level >= 1 && level <= merge_into) {
        const int64_t first = std::max(level_begin(d.end, level), tail);
        const int64_t last = level_end(d.end, level);
        for (int64_t t0 = first; t0 < last; t0 += kChunk) {
            const int rows = static_cast<int>(std::min<int64_t>(kChunk, last - t0));
            const size_t i0 = static_cast<size_t>(t0 - d.p0);
            scale_rows_to(d, t0, rows, d.end - 1, d.k + i0 * d.K, d.K, sc.rows);
            gemm<P>(d.K, d.V, rows, sc.rows, 1, d.K, d.v + i0 * d.V, d.V, sc.matrix, d.V, true);
        }
    }
}

// grad (K x V) += sum over the targets t in [first, last) of
// scale l[t, level_at(t)] exp(G_t - G(ref)) q_t dO_t^T: the gradient of a
// state matrix decayed to ref through the targets that read it.
template <KernelPath P, class R, class LevelAt>
LLA_ALWAYS_INLINE void add_reader_gradient(const PairData<R>& d, int64_t first, int64_t last, int64_t ref,
                                           LevelAt&& level_at, R* grad, Scratch<R>& sc) {
    const R scale = static_cast<R>(d.scale);
    const double g_ref = d.G(ref);
    for (int64_t t0 = first; t0 < last; t0 += kChunk) {
        const int rows = static_cast<int>(std::min<int64_t>(kChunk, last - t0));
        const size_t i0 = static_cast<size_t>(t0 - d.p0);
        for (int i = 0; i < rows; ++i) {
            const size_t row = i0 + static_cast<size_t>(i);
            const R coef = scale * d.lw[row * d.levels + level_at(t0 + i)] * decay<R>(d.G(t0 + i), g_ref);
            scaled_copy(d.K, coef, d.q + row * d.K, sc.rows + static_cast<size_t>(i) * d.K);
        }
        // grad (K x V) += rows^T (K x rows) * dO (rows x V)
        gemm<P>(d.K, d.V, rows, sc.rows, 1, d.K, d.d_o + i0 * d.V, d.V, grad, d.V, true);
    }
}

template <KernelPath P, class R>
LLA_ALWAYS_INLINE void merged_gradient_from_readers_impl(const PairData<R>& d, int64_t j, Scratch<R>& sc) {
    const int64_t b = d.boundary(j), a = d.segment_begin(j);
    const int level = level_of(b, a);
    // Readers: the targets in the block right of the merged one, [b, b + 2^(level-1)).
    const int64_t span = int64_t{1} << std::min(level - 1, 62);
    const int64_t last = (d.end - b <= span) ? d.end : b + span;
    R* grad = d.merged_grad + static_cast<size_t>(j) * d.matrix_size();
    std::fill(grad, grad + d.matrix_size(), R(0));
    add_reader_gradient<P>(d, b, last, b - 1, [level](int64_t) { return level; }, grad, sc);
}

template <KernelPath P, class R>
LLA_ALWAYS_INLINE void initial_gradient_from_readers_impl(const PairData<R>& d, int level, Scratch<R>& sc) {
    R* grad = d.initial_grad + static_cast<size_t>(level) * d.matrix_size();
    std::fill(grad, grad + d.matrix_size(), R(0));
    if (level < 1 || level >= d.initial_levels || !level_nonempty(d.p0, level)) return;
    // Readers: every target from p0 until the boundary that absorbs the
    // level, the first multiple of 2^level after p0 (for levels of one chunk
    // or less: the first boundary), each at its own level of the block.
    const uint64_t block = uint64_t{1} << level;
    const uint64_t to_block_end = block - (static_cast<uint64_t>(d.p0) & (block - 1));
    const uint64_t to_boundary = static_cast<uint64_t>(d.first_boundary - d.p0);
    const int64_t readers =
        static_cast<int64_t>(std::min<uint64_t>(static_cast<uint64_t>(d.len), std::max(to_block_end, to_boundary)));
    const int64_t source = level_begin(d.p0, level);
    add_reader_gradient<P>(d, d.p0, d.p0 + readers, d.p0 - 1, [source](int64_t t) { return level_of(t, source); }, grad,
                        sc);
}

template <KernelPath P, class R>
LLA_ALWAYS_INLINE void unfold_merged_gradients_impl(const PairData<R>& d) {
    const int kv = static_cast<int>(d.matrix_size());
    // The gradient of a matrix K x V, merged state or initial level, of an entry.
    auto gradient_of = [&](const LevelEntry<R>& entry) -> R* {
        if (entry.merged_index >= 0) return d.merged_grad + static_cast<size_t>(entry.merged_index) * d.matrix_size();
        return d.initial_grad ? d.initial_grad + static_cast<size_t>(entry.level) * d.matrix_size() : nullptr;
    };
    if (d.final_grad) {
        const double g_last = d.G(d.end - 1);
        for_each_final_entry(d, [&](const LevelEntry<R>& entry, int lands_in) {
            if (R* grad = gradient_of(entry))
                axpy(kv, decay<R>(g_last, d.G(entry.reference)), d.final_grad + static_cast<size_t>(lands_in) * kv, grad);
        });
    }
    for (int64_t j = d.num_boundaries - 1; j >= 0; --j) {
        const R* grad = d.merged_grad + static_cast<size_t>(j) * d.matrix_size();
        const double g_end = d.G(d.boundary(j) - 1);
        for_each_absorbed_level(d, j, [&](const LevelEntry<R>& entry) {
            if (R* child = gradient_of(entry)) axpy(kv, decay<R>(g_end, d.G(entry.reference)), grad, child);
        });
    }
}

// Sources [first, first + count) of a state matrix decayed to ref whose
// gradient is grad (K x V): dk += w v grad^T, dv += w k grad with
// w = exp(G(ref) - G_s); dk and dv point at the rows of `first`.
template <KernelPath P, class R>
LLA_ALWAYS_INLINE void add_source_gradient(const PairData<R>& d, int64_t first, int count, int64_t ref, const R* grad,
                                           R* dk, R* dv, Scratch<R>& sc) {
    const int K = d.K, V = d.V;
    const size_t i0 = static_cast<size_t>(first - d.p0);
    transpose(K, V, grad, V, sc.matrix_t, K);
    scale_rows_to(d, first, count, ref, d.v + i0 * V, V, sc.rows);
    gemm<P>(count, K, V, sc.rows, V, 1, sc.matrix_t, K, dk, K, true);  // dk += w v grad^T
    scale_rows_to(d, first, count, ref, d.k + i0 * K, K, sc.rows);
    gemm<P>(count, V, K, sc.rows, K, 1, grad, V, dv, V, true);  // dv += w k grad
}

template <KernelPath P, class R>
LLA_ALWAYS_INLINE void backward_segment_impl(const PairData<R>& d, int64_t s, Scratch<R>& sc) {
    const SegmentRows<R> seg(d, s);
    const int64_t a = seg.a;
    const int rows = seg.rows, K = d.K, V = d.V, nl = d.levels;
    const R *q = seg.q, *k = seg.k, *v = seg.v, *d_o = seg.d_o, *lw = seg.lw;
    R *dq = seg.dq, *dk = seg.dk;
    R* dv = sc.out;
    R* dl = sc.dl;
    const R scale = static_cast<R>(d.scale);
    std::fill(dl, dl + static_cast<size_t>(rows) * nl, R(0));

    // Inside the segment. With S = Q K^T, P = dO V^T and f = scale exp(G_i - G_j):
    // dl[i, lev] += S P f; A = S w f (attention weights); W = P w f.
    transpose(rows, K, k, K, sc.k_t, kChunk);
    transpose(rows, V, v, V, sc.v_t, kChunk);
    gemm<P>(rows, rows, K, q, K, 1, sc.k_t, kChunk, sc.scores, kChunk, false, GemmShape::LowerCols);
    gemm<P>(rows, rows, V, d_o, V, 1, sc.v_t, kChunk, sc.dscores, kChunk, false, GemmShape::LowerCols);
    const bool factored = factor_decay(d, a, rows, sc.row_factor, sc.col_factor);
    for (int i = 0; i < rows; ++i) {
        R* srow = sc.scores + static_cast<size_t>(i) * kChunk;
        R* prow = sc.dscores + static_cast<size_t>(i) * kChunk;
        for (int j = i + 1; j < rows; ++j) srow[j] = prow[j] = R(0);
        const R* weights = lw + static_cast<size_t>(i) * nl;
        R* dl_row = dl + static_cast<size_t>(i) * nl;
        const double g_i = d.G(a + i);
        for_each_level_run(a, i, [&](int level, int j0, int j1) {
            const R w = weights[level];
            R sum = 0;
            for (int j = j0; j < j1; ++j) {
                const R f = factored ? scale * sc.row_factor[i] * sc.col_factor[j] : scale * decay<R>(g_i, d.G(a + j));
                sum += srow[j] * prow[j] * f;
                srow[j] *= w * f;
                prow[j] *= w * f;
            }
            dl_row[level] += sum;
        });
    }
    gemm<P>(rows, K, rows, sc.dscores, kChunk, 1, k, K, dq, K, false, GemmShape::LowerK);   // dq = W K
    gemm<P>(rows, K, rows, sc.dscores, 1, kChunk, q, K, dk, K, false, GemmShape::UpperK);   // dk = W^T Q
    gemm<P>(rows, V, rows, sc.scores, 1, kChunk, d_o, V, dv, V, false, GemmShape::UpperK);  // dv = A^T dO

    // Reads of the state ready for a: dq += coef (M dO), dl += base q.(M dO).
    LevelEntry<R> entries[64];
    const int count = collect_levels(d, a, entries);
    for (int n = 0; n < count; ++n) {
        const LevelEntry<R>& entry = entries[n];
        transpose(K, V, entry.matrix, V, sc.matrix_t, K);
        gemm<P>(rows, K, V, d_o, V, 1, sc.matrix_t, K, sc.z, K, false);  // z = dO M^T
        const double g_ref = d.G(entry.reference);
        for (int i = 0; i < rows; ++i) {
            const int level = read_level(entry.level, a, i);
            const R base = scale * decay<R>(d.G(a + i), g_ref);
            const R* z = sc.z + static_cast<size_t>(i) * K;
            axpy(K, base * lw[static_cast<size_t>(i) * nl + level], z, dq + static_cast<size_t>(i) * K);
            dl[static_cast<size_t>(i) * nl + level] += base * dot<P>(K, q + static_cast<size_t>(i) * K, z);
        }
    }

    // Sources of the merged state formed where this segment ends.
    if (s < d.num_boundaries)
        add_source_gradient<P>(d, a, rows, d.boundary(s) - 1, d.merged_grad + static_cast<size_t>(s) * d.matrix_size(), dk,
                            dv, sc);

    // Sources of the exported state: the tail's tokens, each run at its level of target end.
    if (d.final_grad && s == d.num_segments - 1) {
        for_each_level_run(a, rows, [&](int level, int j0, int j1) {
            if (level == 0) return;  // target end itself is no token of the call
            add_source_gradient<P>(d, a + j0, j1 - j0, d.end - 1, d.final_grad + static_cast<size_t>(level) * d.matrix_size(),
                                dk + static_cast<size_t>(j0) * K, dv + static_cast<size_t>(j0) * V, sc);
        });
    }
}

template <KernelPath P, class R>
LLA_ALWAYS_INLINE void decay_gradients_impl(const PairData<R>& d, double* dG) {
    for (int64_t t = 0; t < d.len; ++t) {
        const size_t row = static_cast<size_t>(t) * d.K;
        dG[t] = dot_in_double<P>(d.K, d.q + row, d.dq + row) - dot_in_double<P>(d.K, d.k + row, d.dk + row);
    }
}

template <KernelPath P, class R>
LLA_ALWAYS_INLINE double final_state_decay_gradient_impl(const PairData<R>& d, Scratch<R>& sc) {
    if (!d.final_grad) return 0.0;
    const int kv = static_cast<int>(d.matrix_size());
    double sum = 0.0;
    for (int l = 1; l < d.final_levels; ++l) {
        if (!level_nonempty(d.end, l)) continue;
        final_state_level_impl<P>(d, l, sc);
        sum += dot_in_double<P>(kv, d.final_grad + static_cast<size_t>(l) * d.matrix_size(), sc.matrix);
    }
    return sum;
}


// The entry points of kernel path P, each compiled for P's target
// (path_entry.h), and the table of them.
template <class R>
struct ChunkTasks {
    void (*merge_segment)(const PairData<R>& d, int64_t j, Scratch<R>& s);
    void (*fold_merged_states)(const PairData<R>& d);
    void (*forward_segment)(const PairData<R>& d, int64_t s, Scratch<R>& sc);
    void (*final_state_level)(const PairData<R>& d, int l, Scratch<R>& sc);
    void (*merged_gradient_from_readers)(const PairData<R>& d, int64_t j, Scratch<R>& sc);
    void (*initial_gradient_from_readers)(const PairData<R>& d, int l, Scratch<R>& sc);
    void (*unfold_merged_gradients)(const PairData<R>& d);
    void (*backward_segment)(const PairData<R>& d, int64_t s, Scratch<R>& sc);
    void (*decay_gradients)(const PairData<R>& d, double* dG);
    double (*final_state_decay_gradient)(const PairData<R>& d, Scratch<R>& sc);
};

template <KernelPath P, class R>
struct PathTasks;

#define LLA_PATH_TASKS(P)                                                                                \
    template <class R>                                                                                   \
    struct PathTasks<KernelPath::P, R> {                                                                 \
        LLA_PATH_ENTRY(P) static void merge_segment(const PairData<R>& d, int64_t j, Scratch<R>& s) { return merge_segment_impl<KernelPath::P>(d, j, s); } \
        LLA_PATH_ENTRY(P) static void fold_merged_states(const PairData<R>& d) { return fold_merged_states_impl<KernelPath::P>(d); } \
        LLA_PATH_ENTRY(P) static void forward_segment(const PairData<R>& d, int64_t s, Scratch<R>& sc) { return forward_segment_impl<KernelPath::P>(d, s, sc); } \
        LLA_PATH_ENTRY(P) static void final_state_level(const PairData<R>& d, int l, Scratch<R>& sc) { return final_state_level_impl<KernelPath::P>(d, l, sc); } \
        LLA_PATH_ENTRY(P) static void merged_gradient_from_readers(const PairData<R>& d, int64_t j, Scratch<R>& sc) { return merged_gradient_from_readers_impl<KernelPath::P>(d, j, sc); } \
        LLA_PATH_ENTRY(P) static void initial_gradient_from_readers(const PairData<R>& d, int l, Scratch<R>& sc) { return initial_gradient_from_readers_impl<KernelPath::P>(d, l, sc); } \
        LLA_PATH_ENTRY(P) static void unfold_merged_gradients(const PairData<R>& d) { return unfold_merged_gradients_impl<KernelPath::P>(d); } \
        LLA_PATH_ENTRY(P) static void backward_segment(const PairData<R>& d, int64_t s, Scratch<R>& sc) { return backward_segment_impl<KernelPath::P>(d, s, sc); } \
        LLA_PATH_ENTRY(P) static void decay_gradients(const PairData<R>& d, double* dG) { return decay_gradients_impl<KernelPath::P>(d, dG); } \
        LLA_PATH_ENTRY(P) static double final_state_decay_gradient(const PairData<R>& d, Scratch<R>& sc) { return final_state_decay_gradient_impl<KernelPath::P>(d, sc); } \
    };
LLA_FOR_EACH_PATH(LLA_PATH_TASKS)
#undef LLA_PATH_TASKS

template <KernelPath P, class R>
constexpr ChunkTasks<R> tasks_of() {
    using T = PathTasks<P, R>;
    return {&T::merge_segment, &T::fold_merged_states, &T::forward_segment, &T::final_state_level, &T::merged_gradient_from_readers, &T::initial_gradient_from_readers, &T::unfold_merged_gradients, &T::backward_segment, &T::decay_gradients, &T::final_state_decay_gradient};
}

// The chosen path's table, picked on first use.
template <class R>
const ChunkTasks<R>& tasks() {
    static const ChunkTasks<R> table = for_chosen_path([](auto path) { return tasks_of<decltype(path)::value, R>(); });
    return table;
}

}  // namespace

void merge_segment(const PairData<float>& d, int64_t j, Scratch<float>& s) { tasks<float>().merge_segment(d, j, s); }
void fold_merged_states(const PairData<float>& d) { tasks<float>().fold_merged_states(d); }
void forward_segment(const PairData<float>& d, int64_t s, Scratch<float>& sc) { tasks<float>().forward_segment(d, s, sc); }
void final_state_level(const PairData<float>& d, int l, Scratch<float>& sc) { tasks<float>().final_state_level(d, l, sc); }
void merged_gradient_from_readers(const PairData<float>& d, int64_t j, Scratch<float>& sc) { tasks<float>().merged_gradient_from_readers(d, j, sc); }
void initial_gradient_from_readers(const PairData<float>& d, int l, Scratch<float>& sc) { tasks<float>().initial_gradient_from_readers(d, l, sc); }
void unfold_merged_gradients(const PairData<float>& d) { tasks<float>().unfold_merged_gradients(d); }
void backward_segment(const PairData<float>& d, int64_t s, Scratch<float>& sc) { tasks<float>().backward_segment(d, s, sc); }
void decay_gradients(const PairData<float>& d, double* dG) { tasks<float>().decay_gradients(d, dG); }
double final_state_decay_gradient(const PairData<float>& d, Scratch<float>& sc) { return tasks<float>().final_state_decay_gradient(d, sc); }
void merge_segment(const PairData<double>& d, int64_t j, Scratch<double>& s) { tasks<double>().merge_segment(d, j, s); }
void fold_merged_states(const PairData<double>& d) { tasks<double>().fold_merged_states(d); }
void forward_segment(const PairData<double>& d, int64_t s, Scratch<double>& sc) { tasks<double>().forward_segment(d, s, sc); }
void final_state_level(const PairData<double>& d, int l, Scratch<double>& sc) { tasks<double>().final_state_level(d, l, sc); }
void merged_gradient_from_readers(const PairData<double>& d, int64_t j, Scratch<double>& sc) { tasks<double>().merged_gradient_from_readers(d, j, sc); }
void initial_gradient_from_readers(const PairData<double>& d, int l, Scratch<double>& sc) { tasks<double>().initial_gradient_from_readers(d, l, sc); }
void unfold_merged_gradients(const PairData<double>& d) { tasks<double>().unfold_merged_gradients(d); }
void backward_segment(const PairData<double>& d, int64_t s, Scratch<double>& sc) { tasks<double>().backward_segment(d, s, sc); }
void decay_gradients(const PairData<double>& d, double* dG) { tasks<double>().decay_gradients(d, dG); }
double final_state_decay_gradient(const PairData<double>& d, Scratch<double>& sc) { return tasks<double>().final_state_decay_gradient(d, sc); }

}  // namespace lla::cpu
