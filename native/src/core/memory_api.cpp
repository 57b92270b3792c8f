// The C API's device memory functions (loglinear.h, "Memory of CUDA devices"):
// argument checks here, the CUDA calls in the CUDA backend's DeviceMemory.
#include <cstring>

#include "core/device_memory.h"
#include "core/error.h"
#include "core/guarded.h"
#include "core/tensor_check.h"
#include "loglinear/loglinear.h"

namespace lla {
namespace {

// The CUDA memory of this build and machine, or the UNSUPPORTED error saying
// why there is none.
lla_status require_device_memory(const char* function, DeviceMemory** out) {
    DeviceMemory* memory = cuda_device_memory();
    if (!memory)
        return set_error(LLA_ERROR_UNSUPPORTED, concat(function, ": this build of loglinear has no CUDA backend "
                                                                 "(configure with -DLLA_CUDA=ON, or use the "
                                                                 "linux-x86_64-cuda classifier)"));
    if (memory->device_count() == 0)
        return set_error(LLA_ERROR_UNSUPPORTED,
                         concat(function, ": the CUDA backend has no usable device (no GPU, or no driver) on this "
                                          "machine"));
    *out = memory;
    return LLA_OK;
}

lla_status require_pointer(const void* p, const char* name, size_t bytes) {
    if (p == nullptr && bytes > 0)
        return set_error(LLA_ERROR_INVALID_ARGUMENT, concat(name, " is NULL but bytes is ", bytes));
    return LLA_OK;
}

lla_status copy(void* dst, const void* src, size_t bytes, void* stream, bool wait) {
    LLA_TRY(require_pointer(dst, "dst", bytes));
    LLA_TRY(require_pointer(src, "src", bytes));
    if (bytes == 0) return LLA_OK;
    DeviceMemory* memory = cuda_device_memory();
    if (!memory || memory->device_count() == 0) {
        // No CUDA memory can exist here (no backend, or no device): both are host memory.
        std::memmove(dst, src, bytes);
        return LLA_OK;
    }
    return memory->copy(dst, src, bytes, stream, wait);
}

}  // namespace
}  // namespace lla

using namespace lla;

extern "C" {

LLA_API int32_t lla_cuda_device_count(void) {
    DeviceMemory* memory = cuda_device_memory();
    return memory ? memory->device_count() : 0;
}

LLA_API lla_status lla_cuda_malloc(int32_t device_index, size_t bytes, void** ptr) {
    return guarded([&]() -> lla_status {
        if (!ptr) return set_error(LLA_ERROR_INVALID_ARGUMENT, "ptr is NULL (where to write the address)");
        *ptr = nullptr;
        DeviceMemory* memory = nullptr;
        LLA_TRY(require_device_memory("lla_cuda_malloc", &memory));
        const int32_t count = memory->device_count();
        if (device_index < 0 || device_index >= count)
            return set_error(LLA_ERROR_INVALID_ARGUMENT,
                             concat("device_index must be a CUDA ordinal in [0, ", count, ") on this machine, got ",
                                    device_index));
        if (bytes == 0) return LLA_OK;
        return memory->allocate(device_index, bytes, ptr);
    });
}

LLA_API lla_status lla_cuda_free(void* ptr) {
    return guarded([&]() -> lla_status {
        if (ptr == nullptr) return LLA_OK;
        DeviceMemory* memory = nullptr;
        LLA_TRY(require_device_memory("lla_cuda_free", &memory));
        return memory->release(ptr);
    });
}

LLA_API lla_status lla_memcpy(void* dst, const void* src, size_t bytes, void* stream) {
    return guarded([&]() { return copy(dst, src, bytes, stream, true); });
}

LLA_API lla_status lla_memcpy_async(void* dst, const void* src, size_t bytes, void* stream) {
    return guarded([&]() { return copy(dst, src, bytes, stream, false); });
}

LLA_API lla_status lla_cuda_memset(void* ptr, int32_t value, size_t bytes, void* stream) {
    return guarded([&]() -> lla_status {
        LLA_TRY(require_pointer(ptr, "ptr", bytes));
        if (value < 0 || value > 255)
            return set_error(LLA_ERROR_INVALID_ARGUMENT, concat("value must be a byte (0..255), got ", value));
        DeviceMemory* memory = nullptr;
        LLA_TRY(require_device_memory("lla_cuda_memset", &memory));
        if (bytes == 0) return LLA_OK;
        return memory->fill(ptr, value, bytes, stream);
    });
}

LLA_API lla_status lla_pointer_device(const void* ptr, int32_t* device_type, int32_t* device_index) {
    return guarded([&]() -> lla_status {
        if (!device_type || !device_index)
            return set_error(LLA_ERROR_INVALID_ARGUMENT, "device_type and device_index must not be NULL");
        *device_type = LLA_DEVICE_CPU;
        *device_index = 0;
        DeviceMemory* memory = cuda_device_memory();
        if (ptr != nullptr && memory && memory->device_count() > 0) memory->locate(ptr, device_type, device_index);
        return LLA_OK;
    });
}

}  // extern "C"
