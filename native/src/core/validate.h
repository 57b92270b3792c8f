// Validation of every public entry point (docs/c-api.md, "Bad input"): null pointers,
// config enums, shapes, dtypes, strides, devices, aliasing of outputs, groups,
// cu_seqlens, positions and level counts. On success it picks the backend and
// fills the Problem a backend trusts; on failure it records the message
// (error.h) and returns the status. Validation never writes to any tensor; it
// reads only positions and cu_seqlens (through Backend::copy_to_host).
#pragma once

#include <cstddef>
#include <string>

#include "core/backend.h"
#include "core/problem.h"

namespace lla {

// A workspace-size query passes o == nullptr and final_state == nullptr;
// a call passes the output `o` (required).
lla_status validate_forward(const lla_config* config, const lla_inputs* inputs,
                            const lla_state* initial_state, const lla_tensor* o,
                            const lla_state* final_state, void* workspace, size_t workspace_bytes,
                            void* stream, bool is_size_query, ForwardProblem* problem,
                            Backend** backend);

// A workspace-size query passes d_o, d_final_state and grads as nullptr.
lla_status validate_backward(const lla_config* config, const lla_inputs* inputs,
                             const lla_state* initial_state, const lla_tensor* d_o,
                             const lla_tensor* d_final_state, const lla_gradients* grads, void* workspace, size_t workspace_bytes,
                             void* stream, bool is_size_query, BackwardProblem* problem,
                             Backend** backend);

lla_status validate_decode(const lla_config* config, const lla_inputs* token,
                           const lla_state* state, const lla_tensor* o, void* stream,
                           DecodeProblem* problem, Backend** backend);

lla_status validate_convert(const lla_config* config, const lla_state* src, const lla_state* dst,
                            void* stream, ConvertProblem* problem, Backend** backend);

// The backend that `backend` (an lla_backend) names for tensors on
// `device_type`; `tensor_name` names a tensor on that device for messages.
lla_status resolve_backend(int32_t backend, int32_t device_type, const std::string& tensor_name,
                           Backend** out);

// The CUDA backend, or LLA_ERROR_UNSUPPORTED saying "<subject> but this build
// has no CUDA backend" (or no usable device).
lla_status require_cuda_backend(const std::string& subject, Backend** out);

}  // namespace lla
