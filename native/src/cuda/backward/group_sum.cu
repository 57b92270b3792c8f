// The head-split sum of dq / dk (group_sum.h), shared by every instance.
#include "cuda/backward/group_sum.h"

#include <algorithm>

#include "cuda/backward/backward_tiles.h"
#include "cuda/common/cuda_status.h"

namespace lla::cuda::bwd {
namespace {

struct GroupSumArgs {
    void* out;
    int64_t stride[4];
};

__global__ void __launch_bounds__(256) group_sum_kernel(BackwardParams p, GroupSumArgs a) {
    const int64_t item = p.item_offset + blockIdx.x;
    const int grp = blockIdx.y;
    const ItemInfo it = item_info(p, item);
    const int64_t per_split = static_cast<int64_t>(p.G) * p.items * (kChunk * kKMax);
    const float* part = p.group_partial + (static_cast<int64_t>(grp) * p.items + item) * (kChunk * kKMax);
    for (int idx = threadIdx.x; idx < kChunk * kKMax; idx += 256) {
        const int r = idx / kKMax, c = idx % kKMax;
        if (!it.rows(r) || c >= p.K) continue;
        float sum = 0.f;
        for (int sp = 0; sp < p.head_splits; ++sp) sum += part[sp * per_split + idx];
        const int64_t tok = it.s.token_begin + (it.base + r - it.s.start);
        store_as(a.out, p.in_dtype, it.s.batch * a.stride[0] + tok * a.stride[1] + grp * a.stride[2] + c * a.stride[3],
                 sum);
    }
}

}  // namespace

lla_status launch_group_sum(const BackwardParams& params, void* out, const int64_t* stride, cudaStream_t stream) {
    BackwardParams p = params;
    GroupSumArgs a{out, {stride[0], stride[1], stride[2], stride[3]}};
    constexpr int64_t kMaxGridX = (int64_t{1} << 31) - 1;
    for (int64_t off = 0; off < p.items; off += kMaxGridX) {
        p.item_offset = off;
        const dim3 grid(static_cast<unsigned>(std::min(kMaxGridX, p.items - off)), static_cast<unsigned>(p.G));
        group_sum_kernel<<<grid, 256, 0, stream>>>(p, a);
        LLA_CUDA_TRY(cudaGetLastError(), "launch of group_sum_kernel");
    }
    return LLA_OK;
}

}  // namespace lla::cuda::bwd
