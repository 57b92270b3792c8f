// The interface every backend implements. The core validates, builds a
// Problem and calls exactly one backend; a backend reports failures through
// set_error (error.h) and returns the status.
#pragma once

#include <cstddef>

#include "core/problem.h"

namespace lla {

class Backend {
public:
    virtual ~Backend() = default;
    virtual const char* name() const = 0;
    // Whether this backend can run now (a CUDA device is present, ...).
    virtual bool available() const = 0;

    virtual lla_status forward_workspace_size(const ForwardProblem& p, size_t* bytes) = 0;
    virtual lla_status backward_workspace_size(const BackwardProblem& p, size_t* bytes) = 0;
    virtual lla_status forward(const ForwardProblem& p) = 0;
    virtual lla_status backward(const BackwardProblem& p) = 0;
    virtual lla_status decode_step(const DecodeProblem& p) = 0;
    virtual lla_status state_convert(const ConvertProblem& p) = 0;
    virtual lla_status synchronize(void* stream) = 0;

    // Validation hooks used by the core before a Problem exists.
    // check_memory: reject a tensor whose pointer is not memory of this
    // backend's device (e.g. host memory passed as CUDA memory), where that is
    // detectable; `name` is the argument's name for the message.
    virtual lla_status check_memory(const lla_tensor& t, const char* name) = 0;
    // Blocking copy of `bytes` from this backend's memory to the host (the core
    // reads positions and cu_seqlens with it to validate them).
    virtual lla_status copy_to_host(void* host_dst, const void* src, size_t bytes, void* stream) = 0;
};

// Always built.
Backend& cpu_backend();
// nullptr when the library was built without -DLLA_CUDA=ON.
Backend* cuda_backend();

}  // namespace lla
