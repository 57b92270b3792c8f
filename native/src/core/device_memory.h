// Device memory for the C API's lla_cuda_malloc, lla_memcpy and friends
// (memory_api.cpp): implemented by the CUDA backend (cuda/device_memory.cpp),
// absent (nullptr) in a build without it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "loglinear/loglinear.h"

namespace lla {

class DeviceMemory {
public:
    virtual ~DeviceMemory() = default;
    // Usable CUDA devices (0 without a driver or a device).
    virtual int32_t device_count() = 0;
    virtual lla_status allocate(int32_t device, size_t bytes, void** ptr) = 0;
    virtual lla_status release(void* ptr) = 0;
    // Ordered on `stream`; `wait`: returns when the copy is complete.
    virtual lla_status copy(void* dst, const void* src, size_t bytes, void* stream, bool wait) = 0;
    virtual lla_status fill(void* ptr, int32_t value, size_t bytes, void* stream) = 0;
    virtual void locate(const void* ptr, int32_t* device_type, int32_t* device_index) = 0;
};

// nullptr when the library was built without -DLLA_CUDA=ON.
DeviceMemory* cuda_device_memory();

}  // namespace lla
