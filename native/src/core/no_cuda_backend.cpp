// Built only without -DLLA_CUDA=ON: there is no CUDA backend, and the core
// reports LLA_ERROR_UNSUPPORTED for CUDA tensors and LLA_BACKEND_CUDA.
#include "core/backend.h"

namespace lla {

Backend* cuda_backend() { return nullptr; }

}  // namespace lla
