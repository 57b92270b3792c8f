// The backward instantiations (one .cu each) as plain host functions, so that
// the planner (backward.cpp) needs no CuTe.
#pragma once

#include <cuda_runtime.h>

#include "cuda/backward/backward_params.h"
#include "loglinear/loglinear.h"

namespace lla::cuda::bwd {

// V columns per shared tile of an instance (bfloat16 operands: 64, float
// operands: 32); slots and chunk-state gradients are held in the operand type.
constexpr int kVSlice16 = 64, kVSlice32 = 32;

lla_status launch_backward_bf16(const BackwardParams& p, cudaStream_t stream);
lla_status launch_backward_f16(const BackwardParams& p, cudaStream_t stream);
lla_status launch_backward_f32_tf32(const BackwardParams& p, cudaStream_t stream);
lla_status launch_backward_f32_exact(const BackwardParams& p, cudaStream_t stream);

}  // namespace lla::cuda::bwd
