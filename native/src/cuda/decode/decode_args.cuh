// Kernel arguments of the decode step, shared by its launchers.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "cuda/common/element_io.cuh"
#include "core/problem.h"
#include "cuda/common/state_arg.cuh"

namespace lla::cuda {

// Token tensors: q, k [N,G,K]; v, o [N,H,V]; g [N,H]; l [N,H,L].
struct DecodeArgs {
    TensorArg q, k, v, g, l, o;
    int64_t N, H, G, K, V;
    double scale;
};

// Threads per block, and 16-byte vectors each thread keeps in registers per
// pass over the levels (128 x 4 x 4 floats: a quarter of a 128 x 64 float32
// level). Measured on the H200 at B=64, H=32, K=128, V=64, position 65535
// (bench/RESULTS-cuda.md): 128 x 4 reached 78% of the copy bandwidth, 256 x 4
// and 256 x 2 74%, shapes with 8 vectors or 512 threads 50-56% (registers
// spill or occupancy drops). Smaller blocks overlap one block's set-up (the
// position, level weights and q.k) with the others' streaming.
constexpr int kDecodeThreads = 128;
constexpr int kDecodeChunks = 4;

// The kernel arguments of a validated decode problem.
inline DecodeArgs decode_args(const DecodeProblem& p) {
    DecodeArgs a{};
    a.q = tensor_arg(p.token.q);
    a.k = tensor_arg(p.token.k);
    a.v = tensor_arg(p.token.v);
    a.g = tensor_arg(p.token.g);
    a.l = tensor_arg(p.token.l);
    a.o = tensor_arg(*p.o);
    a.N = p.dims.N;
    a.H = p.dims.H;
    a.G = p.dims.G;
    a.K = p.dims.K;
    a.V = p.dims.V;
    a.scale = p.config.scale;
    return a;
}

// 16-byte accesses along V are possible when every level row starts on a
// 16-byte boundary and V packs into whole vectors.
inline bool can_vectorize(const lla_tensor& levels, size_t elem) {
    const int64_t vec = static_cast<int64_t>(16 / elem);
    if (levels.strides[4] != 1 || levels.shape[4] % vec != 0) return false;
    for (int i = 0; i < 4; ++i)
        if (levels.strides[i] % vec != 0) return false;
    return reinterpret_cast<uintptr_t>(levels.data) % 16 == 0;
}

// Launches the step for state element type S (float or double). kVectorized
// needs the v stride 1, V and every other level stride a multiple of the
// vector width, and 16-byte aligned levels.
template <class S>
lla_status launch_decode_step(const DecodeArgs& args, const StateArg<S>& state,
                              bool vectorized, cudaStream_t stream);

}  // namespace lla::cuda
