// The public C API (loglinear.h): every entry point clears the thread's error,
// validates (validate.cpp), and hands the Problem to exactly one backend. No
// C++ exception crosses this boundary.
#include <cstring>

#include "core/backend.h"
#include "core/error.h"
#include "core/guarded.h"
#include "core/tensor_check.h"
#include "core/validate.h"
#include "loglinear/loglinear.h"

namespace lla {
namespace {

#define LLA_STRINGIFY2(x) #x
#define LLA_STRINGIFY(x) LLA_STRINGIFY2(x)

// Variants a backend computes; the core validates both for every backend.
lla_status check_variant_implemented(const Backend& backend, int32_t variant) {
    if (variant == LLA_VARIANT_GATED_DELTANET)
        return set_error(LLA_ERROR_UNSUPPORTED,
                         concat("config.variant LLA_VARIANT_GATED_DELTANET is not implemented by the ",
                                backend.name(), " backend yet (the arguments are valid; only "
                                                "LLA_VARIANT_MAMBA2 runs)"));
    return LLA_OK;
}

// A caller-provided workspace must hold what the backend asks for.
template <class Problem, class SizeQuery>
lla_status check_workspace(const Problem& p, SizeQuery query, const char* size_function) {
    if (p.workspace == nullptr) return LLA_OK;
    size_t needed = 0;
    const lla_status st = query(p, &needed);
    if (st != LLA_OK) return st;
    if (p.workspace_bytes < needed)
        return set_error(LLA_ERROR_OUT_OF_MEMORY,
                         concat("workspace_bytes = ", p.workspace_bytes, " is smaller than the ", needed,
                                " bytes this call needs (", size_function, ")"));
    return LLA_OK;
}

}  // namespace
}  // namespace lla

using namespace lla;

extern "C" {

LLA_API int32_t lla_version_major(void) { return LLA_VERSION_MAJOR; }
LLA_API int32_t lla_version_minor(void) { return LLA_VERSION_MINOR; }
LLA_API int32_t lla_version_patch(void) { return LLA_VERSION_PATCH; }
LLA_API const char* lla_version_string(void) {
    return LLA_STRINGIFY(LLA_VERSION_MAJOR) "." LLA_STRINGIFY(LLA_VERSION_MINOR) "." LLA_STRINGIFY(
        LLA_VERSION_PATCH);
}

LLA_API const char* lla_last_error(void) { return last_error_message(); }

LLA_API const char* lla_status_name(int32_t status) {
    switch (status) {
        case LLA_OK: return "LLA_OK";
        case LLA_ERROR_INVALID_ARGUMENT: return "LLA_ERROR_INVALID_ARGUMENT";
        case LLA_ERROR_UNSUPPORTED: return "LLA_ERROR_UNSUPPORTED";
        case LLA_ERROR_OUT_OF_MEMORY: return "LLA_ERROR_OUT_OF_MEMORY";
        case LLA_ERROR_BACKEND: return "LLA_ERROR_BACKEND";
        case LLA_ERROR_INTERNAL: return "LLA_ERROR_INTERNAL";
        default: return "LLA_STATUS_UNKNOWN";
    }
}

LLA_API lla_config lla_config_default(void) {
    lla_config c;
    std::memset(&c, 0, sizeof c);
    c.variant = LLA_VARIANT_MAMBA2;
    c.backend = LLA_BACKEND_AUTO;
    c.math_mode = LLA_MATH_DEFAULT;
    c.num_threads = 0;
    c.scale = 1.0;
    return c;
}

LLA_API lla_status lla_tensor_make_contiguous(lla_tensor* out, void* data, int32_t dtype,
                                              int32_t device_type, int32_t device_index,
                                              int32_t ndim, const int64_t* shape) {
    return guarded([&]() -> lla_status {
        if (!out) return set_error(LLA_ERROR_INVALID_ARGUMENT, "out is NULL (the descriptor to fill)");
        if (ndim < 0 || ndim > LLA_MAX_DIMS)
            return set_error(LLA_ERROR_INVALID_ARGUMENT,
                             concat("ndim must be between 0 and ", LLA_MAX_DIMS, ", got ", ndim));
        if (ndim > 0 && !shape)
            return set_error(LLA_ERROR_INVALID_ARGUMENT, concat("shape is NULL but ndim is ", ndim));
        if (dtype_size(dtype) == 0)
            return set_error(LLA_ERROR_INVALID_ARGUMENT,
                             concat("dtype must be an lla_dtype (0..4), got ", dtype));
        if (device_type != LLA_DEVICE_CPU && device_type != LLA_DEVICE_CUDA)
            return set_error(LLA_ERROR_INVALID_ARGUMENT,
                             concat("device_type must be LLA_DEVICE_CPU (0) or LLA_DEVICE_CUDA (1), got ",
                                    device_type));
        lla_tensor t;
        std::memset(&t, 0, sizeof t);
        int64_t stride = 1;
        for (int32_t i = ndim - 1; i >= 0; --i) {
            if (shape[i] < 0)
                return set_error(LLA_ERROR_INVALID_ARGUMENT,
                                 concat("shape[", i, "] must be >= 0, got ", shape[i]));
            t.shape[i] = shape[i];
            t.strides[i] = stride;
            if (__builtin_mul_overflow(stride, shape[i] > 0 ? shape[i] : 1, &stride))
                return set_error(LLA_ERROR_INVALID_ARGUMENT, "shape has more elements than int64 can count");
        }
        t.data = data;
        t.dtype = dtype;
        t.device_type = device_type;
        t.device_index = device_index;
        t.ndim = ndim;
        *out = t;
        return LLA_OK;
    });
}

LLA_API int32_t lla_backend_available(int32_t backend) {
    switch (backend) {
        case LLA_BACKEND_AUTO: return cpu_backend().available() ? 1 : 0;
        case LLA_BACKEND_CPU: return cpu_backend().available() ? 1 : 0;
        case LLA_BACKEND_CUDA: {
            Backend* cuda = cuda_backend();
            return cuda && cuda->available() ? 1 : 0;
        }
        default: return 0;
    }
}

LLA_API lla_status lla_forward_workspace_size(const lla_config* config, const lla_inputs* inputs,
                                              const lla_state* initial_state, size_t* workspace_bytes) {
    return guarded([&]() -> lla_status {
        if (!workspace_bytes)
            return set_error(LLA_ERROR_INVALID_ARGUMENT, "workspace_bytes is NULL (where to write the size)");
        ForwardProblem p;
        Backend* backend = nullptr;
        lla_status st = validate_forward(config, inputs, initial_state, nullptr, nullptr, nullptr, 0, nullptr,
                                         true, &p, &backend);
        if (st == LLA_OK) st = check_variant_implemented(*backend, config->variant);
        size_t bytes = 0;
        if (st == LLA_OK) st = backend->forward_workspace_size(p, &bytes);
        if (st == LLA_OK) *workspace_bytes = bytes;
        return st;
    });
}

LLA_API lla_status lla_backward_workspace_size(const lla_config* config, const lla_inputs* inputs,
                                               const lla_state* initial_state, size_t* workspace_bytes) {
    return guarded([&]() -> lla_status {
        if (!workspace_bytes)
            return set_error(LLA_ERROR_INVALID_ARGUMENT, "workspace_bytes is NULL (where to write the size)");
        BackwardProblem p;
        Backend* backend = nullptr;
        lla_status st = validate_backward(config, inputs, initial_state, nullptr, nullptr, nullptr, nullptr, 0,
                                          nullptr, true, &p, &backend);
        if (st == LLA_OK) st = check_variant_implemented(*backend, config->variant);
        size_t bytes = 0;
        if (st == LLA_OK) st = backend->backward_workspace_size(p, &bytes);
        if (st == LLA_OK) *workspace_bytes = bytes;
        return st;
    });
}

LLA_API lla_status lla_forward(const lla_config* config, const lla_inputs* inputs,
                               const lla_state* initial_state, const lla_tensor* o,
                               const lla_state* final_state, void* workspace, size_t workspace_bytes,
                               void* stream) {
    return guarded([&]() -> lla_status {
        ForwardProblem p;
        Backend* backend = nullptr;
        lla_status st = validate_forward(config, inputs, initial_state, o, final_state, workspace,
                                         workspace_bytes, stream, false, &p, &backend);
        if (st == LLA_OK) st = check_variant_implemented(*backend, config->variant);
        if (st == LLA_OK)
            st = check_workspace(p, [&](const ForwardProblem& q, size_t* b) {
                return backend->forward_workspace_size(q, b);
            }, "lla_forward_workspace_size");
        if (st == LLA_OK) st = backend->forward(p);
        return st;
    });
}

LLA_API lla_status lla_backward(const lla_config* config, const lla_inputs* inputs,
                                const lla_state* initial_state, const lla_tensor* d_o,
                                const lla_tensor* d_final_state, const lla_gradients* grads, void* workspace,
                                size_t workspace_bytes, void* stream) {
    return guarded([&]() -> lla_status {
        BackwardProblem p;
        Backend* backend = nullptr;
        lla_status st = validate_backward(config, inputs, initial_state, d_o, d_final_state, grads, workspace,
                                          workspace_bytes, stream, false, &p, &backend);
        if (st == LLA_OK) st = check_variant_implemented(*backend, config->variant);
        if (st == LLA_OK)
            st = check_workspace(p, [&](const BackwardProblem& q, size_t* b) {
                return backend->backward_workspace_size(q, b);
            }, "lla_backward_workspace_size");
        if (st == LLA_OK) st = backend->backward(p);
        return st;
    });
}

LLA_API lla_status lla_decode_step(const lla_config* config, const lla_inputs* token,
                                   const lla_state* state, const lla_tensor* o, void* stream) {
    return guarded([&]() -> lla_status {
        DecodeProblem p;
        Backend* backend = nullptr;
        lla_status st = validate_decode(config, token, state, o, stream, &p, &backend);
        if (st == LLA_OK) st = check_variant_implemented(*backend, config->variant);
        if (st == LLA_OK) st = backend->decode_step(p);
        return st;
    });
}

LLA_API lla_status lla_state_convert(const lla_config* config, const lla_state* src,
                                     const lla_state* dst, void* stream) {
    return guarded([&]() -> lla_status {
        ConvertProblem p;
        Backend* backend = nullptr;
        lla_status st = validate_convert(config, src, dst, stream, &p, &backend);
        if (st == LLA_OK) st = backend->state_convert(p);
        return st;
    });
}

LLA_API lla_status lla_synchronize(int32_t backend, void* stream) {
    return guarded([&]() -> lla_status {
        switch (backend) {
            case LLA_BACKEND_CPU: return cpu_backend().synchronize(stream);
            case LLA_BACKEND_AUTO: {
                // No tensors say which device: wait for the CUDA backend when it exists.
                Backend* cuda = cuda_backend();
                return cuda && cuda->available() ? cuda->synchronize(stream) : cpu_backend().synchronize(stream);
            }
            case LLA_BACKEND_CUDA: {
                Backend* cuda = nullptr;
                const lla_status st = require_cuda_backend("lla_synchronize(LLA_BACKEND_CUDA)", &cuda);
                return st == LLA_OK ? cuda->synchronize(stream) : st;
            }
            default:
                return set_error(LLA_ERROR_INVALID_ARGUMENT,
                                 concat("backend must be LLA_BACKEND_AUTO (0), _CPU (1) or _CUDA (2), got ",
                                        backend));
        }
    });
}

}  // extern "C"
