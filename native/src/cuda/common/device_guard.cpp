#include "cuda/common/device_guard.h"

#include <string>

#include "cuda/common/cuda_status.h"

namespace lla::cuda {

lla_status DeviceGuard::use(int device) {
    int current = 0;
    LLA_CUDA_TRY(cudaGetDevice(&current), "cudaGetDevice");
    if (current == device) return LLA_OK;
    LLA_CUDA_TRY(cudaSetDevice(device), ("cudaSetDevice(" + std::to_string(device) + ")").c_str());
    if (!switched_) {
        previous_ = current;
        switched_ = true;
    }
    return LLA_OK;
}

}  // namespace lla::cuda
