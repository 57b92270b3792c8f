// Makes a CUDA device current for a scope and restores the caller's device
// afterwards, so that a call on cuda:1 leaves the application's current device
// as it found it.
#pragma once

#include <cuda_runtime_api.h>

#include "loglinear/loglinear.h"

namespace lla::cuda {

class DeviceGuard {
public:
    DeviceGuard() = default;
    DeviceGuard(const DeviceGuard&) = delete;
    DeviceGuard& operator=(const DeviceGuard&) = delete;
    ~DeviceGuard() {
        if (switched_) cudaSetDevice(previous_);
    }
    // Switches to `device`; an error status (message recorded) if that fails.
    lla_status use(int device);

private:
    int previous_ = 0;
    bool switched_ = false;
};

}  // namespace lla::cuda
