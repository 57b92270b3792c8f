// The sum over head splits of dq or dk (dq_kernel.h, groups of several heads): the
// float32 partials of p.group_partial added and written in p.in_dtype.
#pragma once

#include <cuda_runtime.h>

#include "cuda/backward/backward_params.h"
#include "loglinear/loglinear.h"

namespace lla::cuda::bwd {

// out: dq or dk [B,T,G,K] with the element strides `stride`.
lla_status launch_group_sum(const BackwardParams& p, void* out, const int64_t* stride, cudaStream_t stream);

}  // namespace lla::cuda::bwd
