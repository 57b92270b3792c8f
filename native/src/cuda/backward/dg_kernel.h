// Pass 7 of the backward, per (sequence, head): dg. With A[t,s] the terms of
// the output (target t, source s) and of the exported final state, the
// derivative by the cumulative decay G_t is (sum_s A[t,s]) - (sum_t' A[t',t])
// = q_t . dq_t - k_t . dk_t per head (dgq, dgk), plus <d_final_state, final
// state> at the last token, whose G every final-state term carries. dg_t is
// the reverse cumulative sum of that over the sequence's call tokens (double).
#pragma once

#include <cuda_runtime.h>

#include "cuda/backward/backward_params.h"
#include "loglinear/loglinear.h"

namespace lla::cuda::bwd {

// Launches the dg kernel (dg.cu) over every (sequence, head) of p.
lla_status launch_dg(const BackwardParams& p, cudaStream_t stream);

}  // namespace lla::cuda::bwd
