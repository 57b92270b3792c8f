// Passes that the forward and the backward share.
#pragma once

#include <vector>

#include "core/problem.h"
#include "cpu/m2_chunk_kernels.h"
#include "cpu/m2_plan.h"
#include "cpu/m2_tensor_io.h"
#include "cpu/flush_denormals.h"
#include "cpu/thread_pool.h"

namespace lla::cpu {

// Gathers every input (and, for the backward, d_o and d_final_state), then builds the merged state of every boundary and
// folds them, so that the state ready for any segment start can be read.
template <class R>
void gather_and_merge(M2Plan<R>& plan, const lla_inputs& in, const lla_tensor* d_o, const lla_tensor* d_final,
                      const lla_state* initial, const std::vector<Sequence>& sequences) {
    const int threads = plan.options.threads;
    const int64_t N = static_cast<int64_t>(sequences.size()), G = plan.dims.G, H = plan.dims.H;
    parallel_for(N * G + N * H, threads, without_denormals([&](int64_t item, int) {
        if (item < N * G) {
            gather_group(plan, in, sequences[static_cast<size_t>(item / G)], item / G, item % G);
        } else {
            int64_t pair = item - N * G;
            gather_pair(plan, in, d_o, d_final, initial, sequences[static_cast<size_t>(pair / H)], pair / H, pair % H);
        }
    }));
    parallel_for(plan.boundaries_before.back(), threads, without_denormals([&](int64_t item, int worker) {
        int64_t j;
        int64_t pair = locate_item(plan.boundaries_before, item, &j);
        merge_segment(plan.pairs[static_cast<size_t>(pair)], j, plan.scratch[static_cast<size_t>(worker)]);
    }));
    parallel_for(plan.num_pairs(), threads,
                 without_denormals([&](int64_t pair, int) { fold_merged_states(plan.pairs[static_cast<size_t>(pair)]); }));
}

}  // namespace lla::cpu
