#include "cuda/cuda_backend.h"

#include <cuda_runtime_api.h>

#include <cstdint>
#include <vector>

#include "core/checked_size.h"
#include "core/device_memory.h"
#include "core/error.h"
#include "core/tensor_check.h"
#include "cuda/backward/backward.h"
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

// A workspace query has no output yet (p.o == nullptr). Size for the worst
// case, an output the kernels cannot write in place and must stage: a
// descriptor of o's shape and dtype that is unaligned and not row-contiguous.
// It is only measured, never dereferenced.
lla_tensor unstaged_output_shape(const ForwardProblem& p) {
    lla_tensor o = p.inputs.v;
    o.data = reinterpret_cast<void*>(uintptr_t{1});
    for (int i = 0; i < o.ndim; ++i) o.strides[i] = 2 * p.inputs.v.strides[i] + 1;
    return o;
}

// The final positions (start + length of each sequence) are known on the
// host: the backend writes them, the forward kernels write the levels. Queued
// before the kernels; the final state never aliases an input (the core checks).
lla_status write_final_positions(const ForwardProblem& p, cudaStream_t stream) {
    const lla_tensor& pos = p.final_state->position;
    std::vector<int64_t> values;
    values.reserve(p.sequences.size());
    for (const Sequence& s : p.sequences) values.push_back(s.start_position + s.length);
    if (values.empty()) return LLA_OK;
    const size_t pitch = static_cast<size_t>(pos.strides[0] > 0 ? pos.strides[0] : 1) * sizeof(int64_t);
    return cuda_status(cudaMemcpy2DAsync(pos.data, pitch, values.data(), sizeof(int64_t), sizeof(int64_t),
                                         values.size(), cudaMemcpyHostToDevice, stream),
                       "copy of the final positions to final_state.position");
}

}  // namespace

bool CudaBackend::available() const { return cuda_device_memory()->device_count() > 0; }

namespace {

// A workspace size with the alignment slack, or the error of one that does
// not fit size_t (core/checked_size.h).
lla_status workspace_with_slack(size_t needed, size_t* bytes) {
    const size_t total = checked_sum(needed, kWorkspaceAlign);
    if (total == kSizeOverflow)
        return set_error(LLA_ERROR_OUT_OF_MEMORY, "CUDA backend: this call needs more workspace than size_t can count "
                                                  "(the shapes, broadcast or not, multiply to more than 2^64 bytes)");
    *bytes = total;
    return LLA_OK;
}

// CUDA launches count blocks in 32-bit grid dimensions (y and z in 16 bits),
// so a request whose grid would not fit is refused here, before anything is
// queued, instead of wrapping into a smaller launch.
constexpr int64_t kMaxGridX = (int64_t{1} << 31) - 1, kMaxGridY = 65535;

lla_status grid_limit(const char* what, int64_t value, int64_t limit) {
    if (value <= limit) return LLA_OK;
    return set_error(LLA_ERROR_UNSUPPORTED, concat("the CUDA backend launches one block per ", what, ": ", value,
                                                   " exceeds its limit of ", limit, " (use the CPU backend, or split "
                                                   "the call)"));
}

// Sequences x heads, heads, and superchunks (of the smallest size, 256
// tokens, an upper bound for every instance) of a forward call.
lla_status check_forward_grid(const ForwardProblem& p) {
    const int64_t N = static_cast<int64_t>(p.sequences.size()), H = p.dims.H;
    LLA_TRY_STATUS(grid_limit("head (grid y)", H, kMaxGridY));
    LLA_TRY_STATUS(grid_limit("(sequence, head)", N * H, kMaxGridX));  // N <= T + 4096 <= 2^41, H <= 2^16
    int64_t items = 0;
    for (const Sequence& q : p.sequences)
        if (q.length > 0) items += ((q.start_position + q.length - 1) >> 8) - (q.start_position >> 8) + 1;
    return grid_limit("superchunk", items, kMaxGridX);
}

// Runs call(workspace) with `needed` bytes of 256-byte aligned device memory:
// the caller's workspace (a call's size was checked against the query, which
// includes the alignment slack), or memory allocated on the stream and freed
// after the call's work is queued.
template <class Call>
lla_status with_workspace(void* caller, size_t needed, cudaStream_t stream, const char* what, Call&& call) {
    size_t with_slack = 0;
    LLA_TRY_STATUS(workspace_with_slack(needed, &with_slack));
    void* allocated = nullptr;
    void* base = caller;
    if (base == nullptr) {
        LLA_CUDA_TRY(cudaMallocAsync(&allocated, with_slack, stream), concat("cudaMallocAsync (", what, " workspace)").c_str());
        base = allocated;
    }
    const uintptr_t aligned =
        (reinterpret_cast<uintptr_t>(base) + kWorkspaceAlign - 1) / kWorkspaceAlign * kWorkspaceAlign;
    lla_status status = call(reinterpret_cast<void*>(aligned));
    if (allocated != nullptr) {
        const lla_status freed =
            cuda_status(cudaFreeAsync(allocated, stream), concat("cudaFreeAsync (", what, " workspace)").c_str());
        if (status == LLA_OK) status = freed;
    }
    return status;
}

// The backward's grids: (chunk, group) and (piece, head x V slice) blocks,
// (sequence, head) scans; chunks of 64 tokens bound the pieces too.
lla_status check_backward_grid(const BackwardProblem& p) {
    const int64_t N = static_cast<int64_t>(p.sequences.size()), H = p.dims.H;
    const int64_t v_slices = (p.dims.V + 31) / 32;
    LLA_TRY_STATUS(grid_limit("(head, 32 value columns) (grid y)", H * v_slices, kMaxGridY));
    LLA_TRY_STATUS(grid_limit("(sequence, head)", N * H, kMaxGridX));
    int64_t items = 0;
    for (const Sequence& q : p.sequences)
        if (q.length > 0) items += ((q.start_position + q.length - 1) >> 6) - (q.start_position >> 6) + 1;
    return grid_limit("chunk of 64 tokens", 2 * items + 64 * N, kMaxGridX);
}

}  // namespace

lla_status CudaBackend::forward_workspace_size(const ForwardProblem& p, size_t* bytes) {
    LLA_TRY_STATUS(check_forward_grid(p));
    if (p.o != nullptr) return workspace_with_slack(forward_workspace_bytes(p), bytes);
    ForwardProblem query = p;
    const lla_tensor o = unstaged_output_shape(p);
    query.o = &o;
    return workspace_with_slack(forward_workspace_bytes(query), bytes);
}

lla_status CudaBackend::backward_workspace_size(const BackwardProblem& p, size_t* bytes) {
    LLA_TRY_STATUS(check_backward_grid(p));
    return workspace_with_slack(backward_workspace_bytes(p), bytes);
}

lla_status CudaBackend::forward(const ForwardProblem& p) {
    DeviceGuard guard;
    LLA_TRY_STATUS(guard.use(p.inputs.q.device_index));
    const cudaStream_t stream = as_stream(p.stream);

    LLA_TRY_STATUS(check_forward_grid(p));
    ForwardProblem q = p;
    q.workspace_bytes = forward_workspace_bytes(q);
    return with_workspace(p.workspace, q.workspace_bytes, stream, "forward", [&](void* ws) {
        q.workspace = ws;
        const lla_status status = p.final_state != nullptr ? write_final_positions(p, stream) : LLA_OK;
        return status == LLA_OK ? cuda::forward(q, ws, stream) : status;
    });
}

lla_status CudaBackend::backward(const BackwardProblem& p) {
    DeviceGuard guard;
    LLA_TRY_STATUS(guard.use(p.inputs.q.device_index));
    const cudaStream_t stream = as_stream(p.stream);
    LLA_TRY_STATUS(check_backward_grid(p));
    return with_workspace(p.workspace, backward_workspace_bytes(p), stream, "backward",
                          [&](void* ws) { return cuda::backward(p, ws, stream); });
}

lla_status CudaBackend::decode_step(const DecodeProblem& p) {
    DeviceGuard guard;
    LLA_TRY_STATUS(guard.use(p.token.q.device_index));
    LLA_TRY_STATUS(grid_limit("(sequence, head)", p.dims.N * p.dims.H, kMaxGridX));  // N <= 2^40, H <= 2^16
    return cuda::decode_step(p, as_stream(p.stream));
}

lla_status CudaBackend::state_convert(const ConvertProblem& p) {
    DeviceGuard guard;
    LLA_TRY_STATUS(guard.use(p.src->levels.device_index));
    int64_t pairs = 0, blocks = 0;  // one per (sequence, head, level)
    if (__builtin_mul_overflow(p.dims.N, p.dims.H, &pairs) || __builtin_mul_overflow(pairs, p.dims.L, &blocks))
        blocks = INT64_MAX;
    LLA_TRY_STATUS(grid_limit("(sequence, head, level)", blocks, kMaxGridX));
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
    return cuda_device_memory()->copy(host_dst, src, bytes, stream, /*wait=*/true);
}

}  // namespace cuda

Backend* cuda_backend() {
    static cuda::CudaBackend backend;
    return &backend;
}

}  // namespace lla
