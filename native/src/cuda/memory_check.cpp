#include "cuda/memory_check.h"

#include <cuda.h>
#include <cuda_runtime_api.h>

#include <mutex>
#include <string>

#include "core/error.h"
#include "core/tensor_check.h"
#include "cuda/common/cuda_status.h"
#include "cuda/common/device_guard.h"

namespace lla::cuda {
namespace {

using PointerGetAttribute = CUresult (*)(void*, CUpointer_attribute, CUdeviceptr);

// cuPointerGetAttribute through the runtime's driver entry points (the
// library links only the static runtime, not libcuda). nullptr if missing.
PointerGetAttribute pointer_attribute_function() {
    static PointerGetAttribute fn = nullptr;
    static std::once_flag once;
    std::call_once(once, [] {
        void* p = nullptr;
        cudaDriverEntryPointQueryResult found{};
        if (cudaGetDriverEntryPointByVersion("cuPointerGetAttribute", &p, 12000, cudaEnableDefault, &found) ==
                cudaSuccess &&
            found == cudaDriverEntryPointSuccess)
            fn = reinterpret_cast<PointerGetAttribute>(p);
        cudaGetLastError();
    });
    return fn;
}

// How many bytes of [begin, end) lie inside the address range of the
// allocation holding `begin` (the whole reservation for memory mapped with
// cuMemMap) and are mapped at its last byte; end - begin when the driver
// cannot tell.
uintptr_t bytes_inside_allocation(uintptr_t begin, uintptr_t end) {
    PointerGetAttribute get = pointer_attribute_function();
    if (get == nullptr || end <= begin) return end - begin;
    CUdeviceptr start = 0;
    size_t size = 0;
    if (get(&start, CU_POINTER_ATTRIBUTE_RANGE_START_ADDR, static_cast<CUdeviceptr>(begin)) != CUDA_SUCCESS ||
        get(&size, CU_POINTER_ATTRIBUTE_RANGE_SIZE, static_cast<CUdeviceptr>(begin)) != CUDA_SUCCESS)
        return end - begin;
    const uintptr_t stop = static_cast<uintptr_t>(start) + size;
    if (stop < end) return stop > begin ? stop - begin : 0;
    int mapped = 1;
    if (get(&mapped, CU_POINTER_ATTRIBUTE_MAPPED, static_cast<CUdeviceptr>(end - 1)) == CUDA_SUCCESS && !mapped)
        return 0;
    return end - begin;
}

}  // namespace

lla_status check_device_memory(const lla_tensor& t, const char* name) {
    cudaPointerAttributes attr{};
    const cudaError_t err = cudaPointerGetAttributes(&attr, t.data);
    cudaGetLastError();  // a failed query must not surface as the next launch's error
    if (err == cudaErrorInvalidValue) {
        attr.type = cudaMemoryTypeUnregistered;
    } else if (err != cudaSuccess) {
        return cuda_status(err, (std::string("cudaPointerGetAttributes(") + name + ".data)").c_str());
    }
    const std::string device = device_name(LLA_DEVICE_CUDA, t.device_index);
    switch (attr.type) {
        case cudaMemoryTypeUnregistered:
            return set_error(LLA_ERROR_INVALID_ARGUMENT,
                             concat(name, ".data is host memory that CUDA does not know, but ", name,
                                    ".device_type is LLA_DEVICE_CUDA: expected device memory of ", device,
                                    " (cudaMalloc, cudaMallocAsync or cudaMallocManaged)"));
        case cudaMemoryTypeHost:
            return set_error(LLA_ERROR_INVALID_ARGUMENT,
                             concat(name, ".data is pinned host memory (cudaMallocHost or cudaHostRegister), but ",
                                    name, ".device_type is LLA_DEVICE_CUDA: expected device memory of ", device));
        case cudaMemoryTypeDevice:
            if (attr.device != t.device_index)
                return set_error(LLA_ERROR_INVALID_ARGUMENT,
                                 concat(name, ".data is memory of ", device_name(LLA_DEVICE_CUDA, attr.device),
                                        ", but ", name, ".device_index is ", t.device_index));
            break;
        case cudaMemoryTypeManaged: break;  // reachable from every device
        default:
            return set_error(LLA_ERROR_INVALID_ARGUMENT,
                             concat(name, ".data has CUDA memory type ", static_cast<int>(attr.type),
                                    ", expected device memory of ", device));
    }

    // Every byte the tensor spans must be mapped: a tensor that runs past the
    // end of its allocation would fault inside a kernel.
    DeviceGuard guard;
    if (const lla_status st = guard.use(t.device_index); st != LLA_OK) return st;
    const ByteRange span = byte_range(t);
    const uintptr_t inside = bytes_inside_allocation(span.begin, span.end);
    if (inside < span.end - span.begin)
        return set_error(LLA_ERROR_INVALID_ARGUMENT,
                         concat(name, " spans ", span.end - span.begin, " bytes from its data pointer, but its "
                                "CUDA allocation holds only ", inside,
                                " of them (shape or strides larger than the memory)"));
    return LLA_OK;
}

}  // namespace lla::cuda
