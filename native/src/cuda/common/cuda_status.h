// CUDA runtime errors as lla_status: LLA_ERROR_OUT_OF_MEMORY for a failed
// allocation, LLA_ERROR_BACKEND for anything else, with a message naming what
// failed and cudaGetErrorString's text (error.h).
#pragma once

#include <cuda_runtime_api.h>

#include "loglinear/loglinear.h"

namespace lla::cuda {

// LLA_OK for cudaSuccess; otherwise records "<what>: <CUDA error name>: <text>".
lla_status cuda_status(cudaError_t err, const char* what);

// Status of the last kernel launch on this thread (launch-configuration errors
// and sticky faults from earlier work).
lla_status launch_status(const char* kernel_name);

}  // namespace lla::cuda

// Returns from the enclosing function on any CUDA error.
#define LLA_CUDA_TRY(expr, what)                                                  \
    do {                                                                          \
        const lla_status lla_cuda_try_status_ = ::lla::cuda::cuda_status((expr), (what)); \
        if (lla_cuda_try_status_ != LLA_OK) return lla_cuda_try_status_;          \
    } while (0)

// Returns from the enclosing function when an lla_status is not LLA_OK.
#define LLA_TRY_STATUS(expr)                                         \
    do {                                                             \
        const lla_status lla_try_status_ = (expr);                   \
        if (lla_try_status_ != LLA_OK) return lla_try_status_;       \
    } while (0)
