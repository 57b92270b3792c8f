// Kernel arguments of the decode step, shared by its launchers.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "cuda/common/element_io.cuh"
#include "cuda/common/state_arg.cuh"

namespace lla::cuda {

// Token tensors: q, k [N,G,K]; v, o [N,H,V]; g [N,H]; l [N,H,L].
struct DecodeArgs {
    TensorArg q, k, v, g, l, o;
    int64_t N, H, G, K, V;
    double scale;
};

// Threads per block, and 16-byte vectors each thread keeps in registers per
// pass over the levels: 256 x 8 x 4 floats = one 128 x 64 float32 level.
constexpr int kDecodeThreads = 256;
constexpr int kDecodeChunks = 4;

// Launches the step for state element type S (float or double). kVectorized
// needs the v stride 1, V and every other level stride a multiple of the
// vector width, and 16-byte aligned levels.
template <class S>
lla_status launch_decode_step(const DecodeArgs& args, const StateArg<S>& state,
                              bool vectorized, cudaStream_t stream);

}  // namespace lla::cuda
