// Pass 7 of the backward, per (sequence, head): dg. With A[t,s] the terms of
// the output (target t, source s: l exp(G_t - G_s) scale (q_t.k_s)(do_t.v_s))
// and of the exported final state, the derivative by the cumulative decay G_t
// is dG_t = sum_s A[t,s] - sum_t' A[t',t], plus <d_final_state, final state>
// at the last token, whose G every final-state term carries; dg_t is the
// reverse cumulative sum of dG over the sequence's call tokens (double).
// dG_t = dgq_t - dgk_t: the dq pass writes the row sums minus the intra-chunk
// column sums, from the float32 terms themselves (not as q.dq - k.dk of
// rounded products: over a long sequence the reverse sum of two nearly equal
// totals would magnify their rounding), the dkv pass the column sums over
// later chunks.
#pragma once

#include <cuda_runtime.h>

#include "cuda/backward/backward_params.h"
#include "loglinear/loglinear.h"

namespace lla::cuda::bwd {

// Launches the dg kernel (dg.cu) over every (sequence, head) of p.
lla_status launch_dg(const BackwardParams& p, cudaStream_t stream);

// Benchmarks only: when set (8 events), launch_backward records events[i]
// before pass i of backward_params.h and after the last. nullptr disables it.
void set_phase_events(cudaEvent_t* events);
cudaEvent_t* phase_events();

}  // namespace lla::cuda::bwd
