// The typed launcher behind launch_decode_step<S>; included by one .cu per
// state element type so that each compiles in its own nvcc process, and by
// the benchmark, which times other block shapes through launch_decode_kernel.
#pragma once

#include "cuda/common/cuda_status.h"
#include "cuda/decode/decode_step_kernel.cuh"

namespace lla::cuda {

template <class S, int kThreads, int kChunks>
lla_status launch_decode_kernel(const DecodeArgs& args, const StateArg<S>& state, bool vectorized,
                                cudaStream_t stream) {
    constexpr int kVec = 16 / sizeof(S);
    const size_t smem = size_t(2 * args.K + 2 * args.V) * sizeof(S);
    const dim3 grid(static_cast<unsigned>(args.N * args.H));
    const bool decode_form = state.log_decay != nullptr;
    if (decode_form && vectorized)
        decode_step_kernel<S, true, kVec, kThreads, kChunks><<<grid, kThreads, smem, stream>>>(args, state);
    else if (decode_form)
        decode_step_kernel<S, true, 1, kThreads, kChunks><<<grid, kThreads, smem, stream>>>(args, state);
    else if (vectorized)
        decode_step_kernel<S, false, kVec, kThreads, kChunks><<<grid, kThreads, smem, stream>>>(args, state);
    else
        decode_step_kernel<S, false, 1, kThreads, kChunks><<<grid, kThreads, smem, stream>>>(args, state);
    return launch_status("decode_step_kernel");
}

template <class S>
lla_status launch_decode_step(const DecodeArgs& args, const StateArg<S>& state, bool vectorized,
                              cudaStream_t stream) {
    return launch_decode_kernel<S, kDecodeThreads, kDecodeChunks>(args, state, vectorized, stream);
}

}  // namespace lla::cuda
