// The CUDA forward of log-linear Mamba-2 (docs/math.md, "3. Variant M2"): o and, when
// requested, the canonical final state. Entry points used by the CUDA Backend.
//
// Served: q, k, v float32 / bfloat16 / float16 (float64: LLA_ERROR_UNSUPPORTED),
// K <= 128, any V, T, G | H, cu_seqlens, an initial state in either form at any
// position, final-state export. All work is queued on `stream`.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

#include "core/problem.h"

namespace lla::cuda {

// Bytes of device scratch memory forward(p, ...) needs (always > 0).
size_t forward_workspace_bytes(const ForwardProblem& p);

// Writes *p.o and, if p.final_state, the final state (canonical form).
// `workspace` holds forward_workspace_bytes(p) bytes of device memory, 256-byte
// aligned. Failures are reported with lla::set_error.
lla_status forward(const ForwardProblem& p, void* workspace, cudaStream_t stream);

}  // namespace lla::cuda
