// Backward of the chunked M2 algorithm on the CPU. The forward's merged
// states are rebuilt (cheaper than storing them), their gradients (and those
// of the initial state's levels) are accumulated from the targets that read
// them and from d_final_state, and pushed down the fold; every segment then
// produces its rows of dq, dk (per head), dv and dl. dg comes last, from
// dG_t = q_t . dq_t - k_t . dk_t per head (plus the exported state's term at
// the last token), followed by a reverse cumulative sum.
#include <algorithm>
#include <vector>

#include "core/error.h"
#include "cpu/m2_chunk_kernels.h"
#include "cpu/m2_drivers.h"
#include "cpu/m2_passes.h"
#include "cpu/m2_tensor_io.h"
#include "cpu/flush_denormals.h"
#include "cpu/thread_pool.h"
#include "cpu/workspace_memory.h"

namespace lla::cpu {
namespace {

template <class R>
M2Plan<R> backward_plan(const BackwardProblem& p) {
    PlanOptions options;
    options.backward = true;
    options.has_initial = p.initial_state != nullptr;
    options.initial_gradient = options.has_initial && (p.size_query || p.grads.d_initial_state.ndim != 0);
    options.final_gradient = p.size_query || p.d_final_state != nullptr;
    M2Plan<R> plan = make_plan<R>(p.dims, p.sequences, options, p.config.scale);
    plan.options.threads = threads_for_work(plan, resolve_thread_count(p.config.num_threads));
    return plan;
}

// dg of one pair: dg_r = sum_{t >= r} dL/dG_t (see decay_gradients).
// Reuses the pair's cumulative-decay buffer, no longer needed.
template <class R>
void write_dg(const PairData<R>& d, const lla_tensor& dg, const Sequence& seq, int64_t head, Scratch<R>& sc) {
    const double exported = final_state_decay_gradient(d, sc);
    double* sums = d.cumdecay;
    decay_gradients(d, sums);
    if (d.len > 0) sums[d.len - 1] += exported;
    for (int64_t t = d.len - 2; t >= 0; --t) sums[t] += sums[t + 1];
    scatter_block(dg, token_rows(dg, seq, 0, d.len, head, 1), sums);
}

// dq and dk of sequence n, group g: sums over the heads of the group.
template <class R>
void write_group_gradients(const M2Plan<R>& plan, const BackwardProblem& p, int64_t n, int64_t g, Scratch<R>& sc) {
    const int64_t H = plan.dims.H, per_group = plan.dims.heads_per_group();
    const Sequence& seq = p.sequences[static_cast<size_t>(n)];
    const int K = static_cast<int>(plan.dims.K);
    for (int which = 0; which < 2; ++which) {
        const lla_tensor& out = which == 0 ? p.grads.dq : p.grads.dk;
        for (int64_t t0 = 0; t0 < seq.length; t0 += kChunk) {
            const int rows = static_cast<int>(std::min<int64_t>(kChunk, seq.length - t0));
            const size_t count = static_cast<size_t>(rows) * K;
            std::fill(sc.rows, sc.rows + count, R(0));
            for (int64_t h = g * per_group; h < (g + 1) * per_group; ++h) {
                const PairData<R>& d = plan.pairs[static_cast<size_t>(n * H + h)];
                const R* src = (which == 0 ? d.dq : d.dk) + static_cast<size_t>(t0) * K;
                for (size_t i = 0; i < count; ++i) sc.rows[i] += src[i];
            }
            scatter_block(out, token_rows(out, seq, t0, rows, g, K), sc.rows);
        }
    }
}

}  // namespace

template <class R>
lla_status m2_backward(const BackwardProblem& p) {
    M2Plan<R> plan = backward_plan<R>(p);
    WorkspaceMemory memory;
    lla_status status = memory.acquire(p.workspace, p.workspace_bytes, carve_buffers(plan, nullptr));
    if (status != LLA_OK) return status;
    carve_buffers(plan, memory.aligned());
    const int threads = plan.options.threads;
    const int64_t N = static_cast<int64_t>(p.sequences.size()), H = plan.dims.H, G = plan.dims.G;
    const int64_t L = p.inputs.l.shape[3];

    gather_and_merge(plan, p.inputs, p.d_o, p.d_final_state, p.initial_state, p.sequences);
    // Gradients from direct readers: every merged state, then every initial level (when asked for).
    int initial_levels = 0;
    if (plan.options.initial_gradient)
        for (const PairData<R>& d : plan.pairs) initial_levels = std::max(initial_levels, d.initial_levels);
    const int64_t merged_items = plan.boundaries_before.back();
    parallel_for(merged_items + plan.num_pairs() * initial_levels, threads, without_denormals([&](int64_t item, int worker) {
        Scratch<R>& scratch = plan.scratch[static_cast<size_t>(worker)];
        if (item < merged_items) {
            int64_t j;
            const int64_t pair = locate_item(plan.boundaries_before, item, &j);
            merged_gradient_from_readers(plan.pairs[static_cast<size_t>(pair)], j, scratch);
            return;
        }
        const int64_t at = item - merged_items;
        const PairData<R>& d = plan.pairs[static_cast<size_t>(at / initial_levels)];
        const int level = static_cast<int>(at % initial_levels);
        if (level < d.initial_levels) initial_gradient_from_readers(d, level, scratch);
    }));
    parallel_for(plan.num_pairs(), threads,
                 without_denormals([&](int64_t pair, int) { unfold_merged_gradients(plan.pairs[static_cast<size_t>(pair)]); }));
    parallel_for(plan.segments_before.back(), threads, without_denormals([&](int64_t item, int worker) {
        int64_t s;
        const int64_t pair = locate_item(plan.segments_before, item, &s);
        const PairData<R>& d = plan.pairs[static_cast<size_t>(pair)];
        Scratch<R>& scratch = plan.scratch[static_cast<size_t>(worker)];
        backward_segment(d, s, scratch);
        const Sequence& seq = p.sequences[static_cast<size_t>(pair / H)];
        const int64_t first = d.segment_begin(s) - d.p0, rows = d.segment_end(s) - d.segment_begin(s);
        const lla_tensor& dv = p.grads.dv;
        const lla_tensor& dl = p.grads.dl;
        scatter_block(dv, token_rows(dv, seq, first, rows, pair % H, d.V), scratch.out);
        Block2D used = token_rows(dl, seq, first, rows, pair % H, d.levels);
        scatter_block(dl, used, scratch.dl);
        if (L > d.levels) {  // levels no position of the call reaches: zero gradient
            Block2D unused = used;
            unused.origin += d.levels * used.col_stride;
            unused.cols = L - d.levels;
            zero_block(dl, unused);
        }
    }));
    const lla_tensor& d_initial = p.grads.d_initial_state;
    parallel_for(N * H + N * G, threads, without_denormals([&](int64_t item, int worker) {
        if (item < N * H) {
            const PairData<R>& d = plan.pairs[static_cast<size_t>(item)];
            write_dg(d, p.grads.dg, p.sequences[static_cast<size_t>(item / H)], item % H,
                     plan.scratch[static_cast<size_t>(worker)]);
            if (d_initial.ndim != 0) write_initial_gradient(d, d_initial, item / H, item % H);
        } else {
            const int64_t ng = item - N * H;
            write_group_gradients(plan, p, ng / G, ng % G, plan.scratch[static_cast<size_t>(worker)]);
        }
    }));
    return LLA_OK;
}

template <class R>
size_t m2_backward_workspace_bytes(const BackwardProblem& p) {
    M2Plan<R> plan = backward_plan<R>(p);
    return carve_buffers(plan, nullptr);
}

template size_t m2_backward_workspace_bytes<float>(const BackwardProblem&);
template size_t m2_backward_workspace_bytes<double>(const BackwardProblem&);
template lla_status m2_backward<float>(const BackwardProblem&);
template lla_status m2_backward<double>(const BackwardProblem&);

}  // namespace lla::cpu
