#include "cuda/state/state_convert.h"

#include <cstdint>

#include "cuda/common/cuda_status.h"
#include "cuda/common/element_io.cuh"
#include "cuda/common/state_arg.cuh"

namespace lla::cuda {
namespace {

constexpr int kConvertThreads = 256;

template <class S>
__device__ __forceinline__ S exp_of(S x) {
    if constexpr (sizeof(S) == 8) return exp(x);
    else return expf(x);
}

// One block per (sequence, head, level). Each element is read and written by
// the same thread, and the block reads its log_decay before writing it, so
// src and dst may be the same memory.
template <class S>
__global__ void __launch_bounds__(kConvertThreads)
convert_state_kernel(const StateArg<S> src, const StateArg<S> dst, int64_t H, int64_t K, int64_t V) {
    const int64_t levels = src.num_levels;
    const int64_t n = blockIdx.x / (H * levels);
    const int64_t h = (blockIdx.x / levels) % H;
    const int l = static_cast<int>(blockIdx.x % levels);
    const uint64_t pos = static_cast<uint64_t>(src.position[n * src.position_stride]);
    const bool nonempty = level_nonempty(pos, l) && l <= bit_length(pos);
    const S src_log_decay =
        src.log_decay != nullptr && nonempty ? src.log_decay[src.decay_offset(n, h, l)] : S(0);
    __syncthreads();  // every read of src's log_decay before dst's is written

    // Decode -> canonical applies exp(log_decay); any -> decode keeps the scale in log_decay.
    const S factor = dst.log_decay == nullptr ? exp_of(src_log_decay) : S(1);
    if (dst.log_decay != nullptr && threadIdx.x == 0)
        dst.log_decay[dst.decay_offset(n, h, l)] = nonempty ? src_log_decay : S(0);
    if (l == 0 && h == 0 && threadIdx.x == 0) dst.position[n * dst.position_stride] = pos;

    const S* in = src.levels + src.level_offset(n, h, l);
    S* out = dst.levels + dst.level_offset(n, h, l);
    for (int64_t e = threadIdx.x; e < K * V; e += kConvertThreads) {
        const int64_t k = e / V, v = e % V;
        const S x = nonempty ? in[k * src.level_stride[3] + v * src.level_stride[4]] * factor : S(0);
        out[k * dst.level_stride[3] + v * dst.level_stride[4]] = x;
    }
}

template <class S>
lla_status run(const lla_state& src, const lla_state& dst, const Dims& d, cudaStream_t stream) {
    const StateArg<S> s = state_arg<S>(src);
    const StateArg<S> t = state_arg<S>(dst);
    const int64_t blocks = d.N * d.H * s.num_levels;
    if (blocks == 0) return LLA_OK;
    convert_state_kernel<S><<<static_cast<unsigned>(blocks), kConvertThreads, 0, stream>>>(
        s, t, d.H, d.K, d.V);
    return launch_status("convert_state_kernel");
}

}  // namespace

lla_status convert_state(const lla_state& src, const lla_state& dst, const Dims& dims,
                         Precision precision, cudaStream_t stream) {
    return precision == Precision::F64 ? run<double>(src, dst, dims, stream)
                                       : run<float>(src, dst, dims, stream);
}

}  // namespace lla::cuda
