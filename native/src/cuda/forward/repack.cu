#include "cuda/forward/repack.h"

#include "cuda/common/cuda_status.h"

namespace lla::cuda::fwd {
namespace {

template <class T>
__global__ void repack_kernel(RepackArgs a, int64_t total) {
    for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < total;
         idx += int64_t(gridDim.x) * blockDim.x) {
        int64_t rest = idx;
        const int64_t d = rest % a.dst_last;
        rest /= a.dst_last;
        const int64_t x = rest % a.shape[2];
        rest /= a.shape[2];
        const int64_t t = rest % a.shape[1];
        const int64_t b = rest / a.shape[1];
        T val{};
        if (d < a.shape[3])
            val = static_cast<const T*>(a.src)[b * a.src_stride[0] + t * a.src_stride[1] + x * a.src_stride[2] +
                                               d * a.src_stride[3]];
        static_cast<T*>(a.dst)[b * a.dst_stride[0] + t * a.dst_stride[1] + x * a.dst_stride[2] + d * a.dst_stride[3]] =
            val;
    }
}

}  // namespace

lla_status repack(const RepackArgs& a, cudaStream_t stream) {
    const int64_t total = a.shape[0] * a.shape[1] * a.shape[2] * a.dst_last;
    if (total == 0) return LLA_OK;
    const int64_t blocks = (total + 255) / 256 < 65536 ? (total + 255) / 256 : 65536;
    if (a.elem_bytes == 2)
        repack_kernel<uint16_t><<<static_cast<unsigned>(blocks), 256, 0, stream>>>(a, total);
    else
        repack_kernel<uint32_t><<<static_cast<unsigned>(blocks), 256, 0, stream>>>(a, total);
    return cuda_status(cudaGetLastError(), "launch of repack_kernel");
}

}  // namespace lla::cuda::fwd
