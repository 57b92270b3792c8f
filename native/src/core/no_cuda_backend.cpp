// Built only without -DLLA_CUDA=ON: there is no CUDA backend, and the core
// reports LLA_ERROR_UNSUPPORTED for CUDA tensors, LLA_BACKEND_CUDA and the
// CUDA memory functions.
#include "core/backend.h"
#include "core/device_memory.h"

namespace lla {

Backend* cuda_backend() { return nullptr; }
DeviceMemory* cuda_device_memory() { return nullptr; }

}  // namespace lla
