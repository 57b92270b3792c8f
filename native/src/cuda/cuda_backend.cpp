#include "cuda/cuda_backend.h"

#include <cuda_runtime_api.h>

#include <cstdint>
#include <mutex>

#include "core/error.h"
#include "core/tensor_check.h"
#include "cuda/common/cuda_status.h"
#include "cuda/common/device_guard.h"
#include "cuda/decode/decode_step.h"
#include "cuda/forward/forward.h"
#include "cuda/memory_check.h"
#include "cuda/state/state_convert.h"

namespace lla {
namespace cuda {
namespace {

// forward() wants a 256-byte aligned workspace; a caller's may start anywhere.
constexpr size_t kWorkspaceAlign = 256;

cudaStream_t as_stream(void* stream) { return static_cast<cudaStream_t>(stream); }

// The same state without log_decay: what the forward kernels write (canonical).
lla_state canonical_view(const lla_state& s) {
    lla_state c = s;
    c.log_decay = lla_tensor{};
    return c;
}

}  // namespace

bool CudaBackend::available() const {
    static bool has_device = false;
    static std::once_flag once;
    std::call_once(once, [] {
        int count = 0;
        has_device = cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
        cudaGetLastError();  // no driver / no device is an answer, not a pending error
    });
    return has_device;
}

lla_status CudaBackend::forward_workspace_size(const ForwardProblem& p, size_t* bytes) {
    *bytes = forward_workspace_bytes(p) + kWorkspaceAlign;
    return LLA_OK;
}

lla_status CudaBackend::backward_workspace_size(const BackwardProblem&, size_t*) {
    return set_error(LLA_ERROR_UNSUPPORTED, "backward is not implemented on CUDA yet; use the CPU backend");
}

lla_status CudaBackend::forward(const ForwardProblem& p) {
    DeviceGuard guard;
    LLA_TRY_STATUS(guard.use(p.inputs.q.device_index));
    const cudaStream_t stream = as_stream(p.stream);

    // The kernels export the canonical state; a decode-form final state gets
    // its log_decay afterwards, in place (log_decay 0, levels unchanged).
    ForwardProblem q = p;
    lla_state final_canonical{};
    if (p.final_state != nullptr && is_present(p.final_state->log_decay)) {
        final_canonical = canonical_view(*p.final_state);
        q.final_state = &final_canonical;
    }

    const size_t needed = forward_workspace_bytes(q);
    void* allocated = nullptr;
    void* base = p.workspace;
    if (base == nullptr) {
        LLA_CUDA_TRY(cudaMallocAsync(&allocated, needed + kWorkspaceAlign, stream),
                     "cudaMallocAsync (forward workspace)");
        base = allocated;
    }
    const uintptr_t aligned =
        (reinterpret_cast<uintptr_t>(base) + kWorkspaceAlign - 1) / kWorkspaceAlign * kWorkspaceAlign;
    q.workspace = reinterpret_cast<void*>(aligned);
    q.workspace_bytes = needed;

    lla_status status = cuda::forward(q, q.workspace, stream);
    if (status == LLA_OK && q.final_state == &final_canonical)
        status = convert_state(final_canonical, *p.final_state, p.dims, p.precision, stream);
    if (allocated != nullptr) {
        const lla_status freed = cuda_status(cudaFreeAsync(allocated, stream), "cudaFreeAsync (forward workspace)");
        if (status == LLA_OK) status = freed;
    }
    return status;
}

lla_status CudaBackend::backward(const BackwardProblem&) {
    return set_error(LLA_ERROR_UNSUPPORTED, "backward is not implemented on CUDA yet; use the CPU backend");
}

lla_status CudaBackend::decode_step(const DecodeProblem& p) {
    DeviceGuard guard;
    LLA_TRY_STATUS(guard.use(p.token.q.device_index));
    return cuda::decode_step(p, as_stream(p.stream));
}

lla_status CudaBackend::state_convert(const ConvertProblem& p) {
    DeviceGuard guard;
    LLA_TRY_STATUS(guard.use(p.src->levels.device_index));
    return cuda::state_convert(p, as_stream(p.stream));
}

lla_status CudaBackend::synchronize(void* stream) {
    return cuda_status(cudaStreamSynchronize(as_stream(stream)), "cudaStreamSynchronize");
}

lla_status CudaBackend::check_memory(const lla_tensor& t, const char* name) {
    return check_device_memory(t, name);
}

lla_status CudaBackend::copy_to_host(void* host_dst, const void* src, size_t bytes, void* stream) {
    // Ordered after the work already queued on the caller's stream, which may
    // be what writes `src` (positions advanced by a decode step, say).
    cudaPointerAttributes attr{};
    const cudaError_t err = cudaPointerGetAttributes(&attr, src);
    cudaGetLastError();
    DeviceGuard guard;
    if (err == cudaSuccess && attr.type == cudaMemoryTypeDevice) LLA_TRY_STATUS(guard.use(attr.device));
    LLA_CUDA_TRY(cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDefault, as_stream(stream)),
                 "cudaMemcpyAsync (device to host)");
    return cuda_status(cudaStreamSynchronize(as_stream(stream)), "cudaStreamSynchronize (device to host copy)");
}

}  // namespace cuda

Backend* cuda_backend() {
    static cuda::CudaBackend backend;
    return &backend;
}

}  // namespace lla
