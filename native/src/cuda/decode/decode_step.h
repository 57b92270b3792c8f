// Decode step on CUDA: one token for each of N sequences, in place on the
// state (docs/math.md, "5. The recurrent view"; docs/state-layout.md, "The
// decode form"). In the decode form (log_decay present) it reads only the
// nonempty levels of each sequence and writes only the level the token merges
// into, plus the log_decay scalars; in the canonical form it also rescales the
// nonempty levels above the merged one and zeroes the folded ones.
#pragma once

#include <cuda_runtime_api.h>

#include "core/problem.h"

namespace lla::cuda {

// Queues the step on `stream`; the state's positions advance by one.
lla_status decode_step(const DecodeProblem& p, cudaStream_t stream);

}  // namespace lla::cuda
