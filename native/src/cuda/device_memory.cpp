// The CUDA backend's DeviceMemory (core/device_memory.h): cudaMalloc, cudaFree,
// copies and fills on the caller's stream, each on the device that owns the
// memory and leaving the caller's current device as it was.
#include "core/device_memory.h"

#include <cuda_runtime_api.h>

#include <mutex>

#include "core/error.h"
#include "core/tensor_check.h"
#include "cuda/common/cuda_status.h"
#include "cuda/common/device_guard.h"

namespace lla {
namespace cuda {
namespace {

cudaStream_t as_stream(void* stream) { return static_cast<cudaStream_t>(stream); }

// The pointer's memory type and device; unregistered host memory for a pointer
// CUDA does not know (which is not an error to report).
cudaPointerAttributes attributes(const void* ptr) {
    cudaPointerAttributes attr{};
    if (cudaPointerGetAttributes(&attr, ptr) != cudaSuccess) attr.type = cudaMemoryTypeUnregistered;
    cudaGetLastError();  // a failed query must not surface as the next call's error
    return attr;
}

// The device whose memory a copy or fill touches: the destination's, else
// the source's; -1 for host-to-host.
int device_of(const void* dst, const void* src) {
    for (const void* p : {dst, src}) {
        const cudaPointerAttributes attr = attributes(p);
        if (attr.type == cudaMemoryTypeDevice) return attr.device;
    }
    return -1;
}

class CudaDeviceMemory final : public DeviceMemory {
public:
    int32_t device_count() override {
        static int32_t count = 0;
        static std::once_flag once;
        std::call_once(once, [] {
            int n = 0;
            if (cudaGetDeviceCount(&n) == cudaSuccess) count = n;
            cudaGetLastError();  // no driver / no device is an answer, not a pending error
        });
        return count;
    }

    lla_status allocate(int32_t device, size_t bytes, void** ptr) override {
        DeviceGuard guard;
        LLA_TRY_STATUS(guard.use(device));
        const cudaError_t err = cudaMalloc(ptr, bytes);
        if (err != cudaSuccess) {
            *ptr = nullptr;
            size_t free = 0, total = 0;
            cudaGetLastError();
            cudaMemGetInfo(&free, &total);
            cudaGetLastError();
            return set_error(err == cudaErrorMemoryAllocation ? LLA_ERROR_OUT_OF_MEMORY : LLA_ERROR_BACKEND,
                             concat("cudaMalloc of ", bytes, " bytes on ", device_name(LLA_DEVICE_CUDA, device),
                                    " failed: ", cudaGetErrorName(err), " (", free, " of ", total,
                                    " bytes free)"));
        }
        return LLA_OK;
    }

    lla_status release(void* ptr) override {
        const cudaPointerAttributes attr = attributes(ptr);
        if (attr.type != cudaMemoryTypeDevice && attr.type != cudaMemoryTypeManaged)
            return set_error(LLA_ERROR_INVALID_ARGUMENT,
                             "ptr is not CUDA device memory (host memory, or already freed): lla_cuda_free frees "
                             "what lla_cuda_malloc returned");
        DeviceGuard guard;
        if (attr.type == cudaMemoryTypeDevice) LLA_TRY_STATUS(guard.use(attr.device));
        return cuda_status(cudaFree(ptr), "cudaFree");
    }

    lla_status copy(void* dst, const void* src, size_t bytes, void* stream, bool wait) override {
        DeviceGuard guard;
        if (const int device = device_of(dst, src); device >= 0) LLA_TRY_STATUS(guard.use(device));
        LLA_CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, as_stream(stream)), "cudaMemcpyAsync");
        if (!wait) return LLA_OK;
        return cuda_status(cudaStreamSynchronize(as_stream(stream)), "cudaStreamSynchronize (after the copy)");
    }

    lla_status fill(void* ptr, int32_t value, size_t bytes, void* stream) override {
        const cudaPointerAttributes attr = attributes(ptr);
        if (attr.type != cudaMemoryTypeDevice && attr.type != cudaMemoryTypeManaged)
            return set_error(LLA_ERROR_INVALID_ARGUMENT,
                             "ptr is not CUDA device memory: lla_cuda_memset fills device memory only");
        DeviceGuard guard;
        if (attr.type == cudaMemoryTypeDevice) LLA_TRY_STATUS(guard.use(attr.device));
        LLA_CUDA_TRY(cudaMemsetAsync(ptr, value, bytes, as_stream(stream)), "cudaMemsetAsync");
        return cuda_status(cudaStreamSynchronize(as_stream(stream)), "cudaStreamSynchronize (after the fill)");
    }

    void locate(const void* ptr, int32_t* device_type, int32_t* device_index) override {
        const cudaPointerAttributes attr = attributes(ptr);
        if (attr.type == cudaMemoryTypeDevice || attr.type == cudaMemoryTypeManaged) {
            *device_type = LLA_DEVICE_CUDA;
            *device_index = attr.type == cudaMemoryTypeDevice || attr.device >= 0 ? attr.device : 0;
        }
    }
};

}  // namespace
}  // namespace cuda

DeviceMemory* cuda_device_memory() {
    static cuda::CudaDeviceMemory memory;
    return &memory;
}

}  // namespace lla
