// Forward of the chunked M2 algorithm on the CPU: gather, merged states per
// boundary, their fold, the output of every segment, the exported state.
#include <exception>
#include <new>

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
M2Plan<R> forward_plan(const ForwardProblem& p) {
    PlanOptions options;
    options.has_initial = p.initial_state != nullptr;
    M2Plan<R> plan = make_plan<R>(p.dims, p.sequences, options, p.config.scale);
    plan.options.threads = threads_for_work(plan, resolve_thread_count(p.config.num_threads));
    return plan;
}

template <class R>
void export_final_state(M2Plan<R>& plan, const lla_state& state) {
    const int64_t H = plan.dims.H;
    const int64_t stored = state.levels.shape[2];
    parallel_for(plan.num_pairs(), plan.options.threads, without_denormals([&](int64_t pair, int worker) {
        const PairData<R>& d = plan.pairs[static_cast<size_t>(pair)];
        Scratch<R>& scratch = plan.scratch[static_cast<size_t>(worker)];
        for (int64_t l = 0; l < stored; ++l) {
            const bool nonempty = l >= 1 && l <= bit_length(static_cast<uint64_t>(d.end)) && level_nonempty(d.end, static_cast<int>(l));
            if (nonempty) final_state_level(d, static_cast<int>(l), scratch);
            write_state_level(state, pair / H, pair % H, l, nonempty ? scratch.matrix : static_cast<const R*>(nullptr));
        }
    }));
    for (int64_t n = 0; n * H < plan.num_pairs(); ++n)
        store_int64(state.position, n * state.position.strides[0], plan.pairs[static_cast<size_t>(n * H)].end);
}

}  // namespace

template <class R>
lla_status m2_forward(const ForwardProblem& p) {
    M2Plan<R> plan = forward_plan<R>(p);
    WorkspaceMemory memory;
    lla_status status = memory.acquire(p.workspace, p.workspace_bytes, carve_buffers(plan, nullptr));
    if (status != LLA_OK) return status;
    carve_buffers(plan, memory.aligned());

    gather_and_merge(plan, p.inputs, nullptr, nullptr, p.initial_state, p.sequences);
    const int64_t H = plan.dims.H;
    parallel_for(plan.segments_before.back(), plan.options.threads, without_denormals([&](int64_t item, int worker) {
        int64_t s;
        const int64_t pair = locate_item(plan.segments_before, item, &s);
        const PairData<R>& d = plan.pairs[static_cast<size_t>(pair)];
        Scratch<R>& scratch = plan.scratch[static_cast<size_t>(worker)];
        forward_segment(d, s, scratch);
        const Sequence& seq = p.sequences[static_cast<size_t>(pair / H)];
        const int64_t first = d.segment_begin(s) - d.p0;
        scatter_block(*p.o, token_rows(*p.o, seq, first, d.segment_end(s) - d.segment_begin(s), pair % H, d.V),
                      scratch.out);
    }));
    if (p.final_state) export_final_state(plan, *p.final_state);
    return LLA_OK;
}

template <class R>
size_t m2_forward_workspace_bytes(const ForwardProblem& p) {
    M2Plan<R> plan = forward_plan<R>(p);
    return carve_buffers(plan, nullptr);
}

template size_t m2_forward_workspace_bytes<float>(const ForwardProblem&);
template size_t m2_forward_workspace_bytes<double>(const ForwardProblem&);
template lla_status m2_forward<float>(const ForwardProblem&);
template lla_status m2_forward<double>(const ForwardProblem&);

}  // namespace lla::cpu
