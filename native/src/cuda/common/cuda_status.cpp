#include "cuda/common/cuda_status.h"

#include <string>

#include "core/error.h"

namespace lla::cuda {

lla_status cuda_status(cudaError_t err, const char* what) {
    if (err == cudaSuccess) return LLA_OK;
    const lla_status status =
        err == cudaErrorMemoryAllocation ? LLA_ERROR_OUT_OF_MEMORY : LLA_ERROR_BACKEND;
    return set_error(status, std::string(what) + ": " + cudaGetErrorName(err) + ": " +
                                 cudaGetErrorString(err));
}

lla_status launch_status(const char* kernel_name) {
    return cuda_status(cudaGetLastError(), (std::string("launching ") + kernel_name).c_str());
}

}  // namespace lla::cuda
