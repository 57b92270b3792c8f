// The CUDA backward of log-linear Mamba-2 (docs/math.md "Gradients" and
// docs/training-in-segments.md): dq dk dv dg dl and, when asked, the
// gradient of the initial state, given d_o and optionally d_final_state.
//
// Served as the forward: q, k, v float32 (TF32 or exact-fp32 products),
// bfloat16 or float16 (float32 accumulation), K <= 128, any V, T, G | H,
// cu_seqlens, an initial state in either form at any position. All work is
// queued on `stream`.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

#include "core/problem.h"

namespace lla::cuda {

// Bytes of device scratch memory backward(p, ...) needs (always > 0).
size_t backward_workspace_bytes(const BackwardProblem& p);

// Writes p.grads. `workspace` holds backward_workspace_bytes(p) bytes of
// device memory, 256-byte aligned. Failures are reported with lla::set_error.
lla_status backward(const BackwardProblem& p, void* workspace, cudaStream_t stream);

}  // namespace lla::cuda
