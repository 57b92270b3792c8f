#include "device_memory.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

#include "loglinear/loglinear.h"

#if LLA_TOOLS_CUDA
#include <cuda_runtime_api.h>
#endif

namespace lla::caseio {

namespace {

#if LLA_TOOLS_CUDA
void cuda_check(cudaError_t err, const char* what) {
    if (err != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(err));
}
#endif

[[noreturn]] void no_cuda() {
    throw std::runtime_error("CUDA memory requested but the tools were built without CUDA (-DLLA_CUDA=ON)");
}

}  // namespace

DeviceBuffer::DeviceBuffer(size_t bytes, int32_t device_type, int32_t device_index)
    : bytes_(bytes), device_type_(device_type), device_index_(device_index) {
    const size_t alloc = bytes ? bytes : 1;
    if (device_type == LLA_DEVICE_CPU) {
        // 64-byte alignment like a typical framework allocation.
        data_ = std::aligned_alloc(64, (alloc + 63) / 64 * 64);
        if (!data_) throw std::bad_alloc();
        return;
    }
#if LLA_TOOLS_CUDA
    cuda_check(cudaSetDevice(device_index), "cudaSetDevice");
    cuda_check(cudaMalloc(&data_, alloc), "cudaMalloc");
#else
    no_cuda();
#endif
}

DeviceBuffer::~DeviceBuffer() {
    if (device_type_ == LLA_DEVICE_CPU) {
        std::free(data_);
        return;
    }
#if LLA_TOOLS_CUDA
    cudaSetDevice(device_index_);
    cudaFree(data_);
#endif
}

void DeviceBuffer::upload(const void* host, size_t bytes) {
    if (device_type_ == LLA_DEVICE_CPU) {
        std::memcpy(data_, host, bytes);
        return;
    }
#if LLA_TOOLS_CUDA
    cuda_check(cudaMemcpy(data_, host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy to device");
#else
    no_cuda();
#endif
}

void DeviceBuffer::download(void* host, size_t bytes) const {
    if (device_type_ == LLA_DEVICE_CPU) {
        std::memcpy(host, data_, bytes);
        return;
    }
#if LLA_TOOLS_CUDA
    cuda_check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    cuda_check(cudaMemcpy(host, data_, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy to host");
#else
    no_cuda();
#endif
}

}  // namespace lla::caseio
