// The M2 operations of the CPU backend, for compute precision R (float or
// double). Problems arrive validated by the core.
#pragma once

#include <cstddef>

#include "core/problem.h"

namespace lla::cpu {

template <class R>
size_t m2_forward_workspace_bytes(const ForwardProblem& p);
template <class R>
lla_status m2_forward(const ForwardProblem& p);

template <class R>
size_t m2_backward_workspace_bytes(const BackwardProblem& p);
template <class R>
lla_status m2_backward(const BackwardProblem& p);

template <class R>
lla_status m2_decode_step(const DecodeProblem& p);

template <class R>
lla_status convert_state(const ConvertProblem& p);

}  // namespace lla::cpu
