// Conversion between the canonical state (levels only) and the decode form
// (levels undecayed + log_decay, state = exp(log_decay[l]) * levels[l]), on
// CUDA. Either direction, the same form on both sides (a normalising copy), or
// in place (src and dst sharing memory).
//
// Written output is normalised: empty levels (by position bits) are zero, and
// in the decode form their log_decay is 0; a canonical source gets
// log_decay 0 everywhere.
#pragma once

#include <cuda_runtime_api.h>

#include "core/problem.h"

namespace lla::cuda {

// Queues the conversion on `stream`. `precision` picks float32 or float64
// levels; dims N, H, K, V of the state.
lla_status convert_state(const lla_state& src, const lla_state& dst, const Dims& dims,
                         Precision precision, cudaStream_t stream);

// The problem form used by the public lla_state_convert.
inline lla_status state_convert(const ConvertProblem& p, cudaStream_t stream) {
    return convert_state(*p.src, *p.dst, p.dims, p.precision, stream);
}

}  // namespace lla::cuda
