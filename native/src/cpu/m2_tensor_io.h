// Moving one M2 call's data between the caller's strided tensors and the
// plan's dense buffers: token tensors [B, T, ...], and states [N, H, Ls, K, V].
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "core/log_decay.h"
#include "core/problem.h"
#include "cpu/m2_plan.h"
#include "cpu/strided_copy.h"

namespace lla::cpu {

// Rows [first, first + rows) of sequence `seq` of a token tensor
// [B, T, X, cols] at index x of its third axis (head or group), cols columns.
inline Block2D token_rows(const lla_tensor& t, const Sequence& seq, int64_t first, int64_t rows, int64_t x,
                          int64_t cols) {
    return Block2D{seq.batch * t.strides[0] + (seq.token_begin + first) * t.strides[1] + x * t.strides[2], rows,
                   t.strides[1], cols, t.ndim > 3 ? t.strides[3] : 1};
}

// Level `level` (K x V) of sequence n, head h of a state tensor [N, H, Ls, K, V].
inline Block2D state_level(const lla_tensor& levels, int64_t n, int64_t h, int64_t level) {
    return Block2D{n * levels.strides[0] + h * levels.strides[1] + level * levels.strides[2], levels.shape[3],
                   levels.strides[3], levels.shape[4], levels.strides[4]};
}

inline int64_t state_scalar(const lla_tensor& log_decay, int64_t n, int64_t h, int64_t level) {
    return n * log_decay.strides[0] + h * log_decay.strides[1] + level * log_decay.strides[2];
}

// q and k of sequence n, group g.
template <class R>
void gather_group(M2Plan<R>& plan, const lla_inputs& in, const Sequence& seq, int64_t n, int64_t g) {
    const size_t offset = plan.group_offset(n, g);
    gather_block(in.q, token_rows(in.q, seq, 0, seq.length, g, plan.dims.K), plan.q_rows + offset);
    gather_block(in.k, token_rows(in.k, seq, 0, seq.length, g, plan.dims.K), plan.k_rows + offset);
}

// Canonical value of one level of a state in either form, into dst (K x V).
template <class R>
void read_state_level(const lla_state& state, int64_t n, int64_t h, int64_t level, R* dst) {
    const Block2D block = state_level(state.levels, n, h, level);
    gather_block(state.levels, block, dst);
    if (state.log_decay.ndim == 0) return;
    const R factor = static_cast<R>(std::exp(load_element<double>(state.log_decay, state_scalar(state.log_decay, n, h, level))));
    const size_t count = static_cast<size_t>(block.rows * block.cols);
    for (size_t i = 0; i < count; ++i) dst[i] *= factor;
}

// Levels 0..count-1 of a state ready for `position` into dst (count
// matrices K x V): read(level, matrix) fills each nonempty level, the others
// (level 0 included) are zero.
template <class R, class Read>
void gather_nonempty_levels(int64_t position, int count, size_t kv, R* dst, Read&& read) {
    for (int l = 0; l < count; ++l) {
        R* matrix = dst + static_cast<size_t>(l) * kv;
        if (l >= 1 && level_nonempty(position, l))
            read(l, matrix);
        else
            std::fill(matrix, matrix + kv, R(0));
    }
}

// v, g (as cumulative sums), level weights, d_o and d_final_state (backward)
// and the initial state of sequence n, head h.
template <class R>
void gather_pair(M2Plan<R>& plan, const lla_inputs& in, const lla_tensor* d_o, const lla_tensor* d_final,
                 const lla_state* initial, const Sequence& seq, int64_t n, int64_t h) {
    PairData<R>& d = plan.pairs[static_cast<size_t>(n * plan.dims.H + h)];
    const int64_t len = seq.length;
    gather_block(in.v, token_rows(in.v, seq, 0, len, h, d.V), d.v);
    if (d_o) gather_block(*d_o, token_rows(*d_o, seq, 0, len, h, d.V), d.d_o);
    if (d.levels > 0) gather_block(in.l, token_rows(in.l, seq, 0, len, h, d.levels), d.lw);
    double* cum = d.cumdecay;
    cum[0] = 0.0;
    gather_block(in.g, token_rows(in.g, seq, 0, len, h, 1), cum + 1);
    for (int64_t i = 1; i <= len; ++i) cum[i] = reset_clamped(cum[i]) + cum[i - 1];
    gather_nonempty_levels(d.p0, d.initial_levels, d.matrix_size(), d.initial,
                           [&](int l, R* dst) { read_state_level(*initial, n, h, l, dst); });
    if (d_final && d.final_grad)
        gather_nonempty_levels(d.end, d.final_levels, d.matrix_size(), d.final_grad, [&](int l, R* dst) {
            gather_block(*d_final, state_level(*d_final, n, h, l), dst);
        });
}

// Writes the gradient of the initial state of sequence n, head h into the
// level tensor d_initial [N, H, Ls, K, V]: the levels the pair holds, zero beyond.
template <class R>
void write_initial_gradient(const PairData<R>& d, const lla_tensor& d_initial, int64_t n, int64_t h) {
    for (int64_t l = 0; l < d_initial.shape[2]; ++l) {
        const Block2D block = state_level(d_initial, n, h, l);
        if (l < d.initial_levels)
            scatter_block(d_initial, block, d.initial_grad + static_cast<size_t>(l) * d.matrix_size());
        else
            zero_block(d_initial, block);
    }
}

// Writes level `level` (K x V, canonical value `src`, or zeros when src is
// null) of sequence n, head h into a state of either form.
template <class R>
void write_state_level(const lla_state& state, int64_t n, int64_t h, int64_t level, const R* src) {
    const Block2D block = state_level(state.levels, n, h, level);
    if (src) scatter_block(state.levels, block, src); else zero_block(state.levels, block);
    if (state.log_decay.ndim != 0) store_element<double>(state.log_decay, state_scalar(state.log_decay, n, h, level), 0.0);
}

}  // namespace lla::cpu
