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
};

// Always built.
Backend& cpu_backend();
// nullptr when the library was built without -DLLA_CUDA=ON.
Backend* cuda_backend();

}  // namespace lla
