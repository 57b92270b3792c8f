#include "cuda/decode/decode_step.h"

#include <cstdint>
#include <string>

#include "core/error.h"
#include "cuda/common/cuda_status.h"
#include "cuda/decode/decode_args.cuh"

namespace lla::cuda {

__global__ void advance_positions_kernel(int64_t* position, int64_t stride, int64_t count) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < count) position[i * stride] += 1;
}

namespace {

template <class S>
lla_status run(const DecodeProblem& p, cudaStream_t stream) {
    const Dims& d = p.dims;
    const size_t smem = size_t(2 * d.K + 2 * d.V) * sizeof(S);
    if (smem > 48 * 1024)
        return set_error(LLA_ERROR_UNSUPPORTED,
                         "decode step on CUDA: K + V must be at most " +
                             std::to_string(24 * 1024 / sizeof(S)) + ", got K = " +
                             std::to_string(d.K) + ", V = " + std::to_string(d.V));
    const DecodeArgs args = decode_args(p);
    const StateArg<S> state = state_arg<S>(*p.state);
    const lla_status status =
        launch_decode_step<S>(args, state, can_vectorize(p.state->levels, sizeof(S)), stream);
    if (status != LLA_OK) return status;
    const int threads = 128;
    const unsigned blocks = static_cast<unsigned>((d.N + threads - 1) / threads);
    advance_positions_kernel<<<blocks, threads, 0, stream>>>(state.position,
                                                             state.position_stride, d.N);
    return launch_status("advance_positions_kernel");
}

}  // namespace

lla_status decode_step(const DecodeProblem& p, cudaStream_t stream) {
    if (p.dims.N == 0) return LLA_OK;
    return p.precision == Precision::F64 ? run<double>(p, stream) : run<float>(p, stream);
}

}  // namespace lla::cuda
