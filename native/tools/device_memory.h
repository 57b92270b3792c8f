// Memory on the device of a tensor for the tools: host memory for CPU
// tensors, CUDA memory (through the CUDA runtime) when the tools are built
// with -DLLA_CUDA=ON. Without CUDA, asking for CUDA memory throws.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lla::caseio {

// An owning buffer of `bytes` on device_type (lla_device_type) / index.
class DeviceBuffer {
public:
    DeviceBuffer(size_t bytes, int32_t device_type, int32_t device_index);
    ~DeviceBuffer();
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;

    void* data() const { return data_; }
    size_t bytes() const { return bytes_; }
    void upload(const void* host, size_t bytes);
    void download(void* host, size_t bytes) const;

private:
    void* data_ = nullptr;
    size_t bytes_ = 0;
    int32_t device_type_;
    int32_t device_index_;
};

}  // namespace lla::caseio
