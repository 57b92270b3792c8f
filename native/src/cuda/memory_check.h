// Whether a pointer that a caller labels as CUDA memory of device d really is:
// device (or managed) memory of that device, not host memory, and mapped for
// every byte the tensor spans. Used by CudaBackend::check_memory.
#pragma once

#include "loglinear/loglinear.h"

namespace lla::cuda {

// LLA_OK, or LLA_ERROR_INVALID_ARGUMENT with a message naming `name`, what
// the memory is and what was expected.
lla_status check_device_memory(const lla_tensor& t, const char* name);

}  // namespace lla::cuda
