// The kernel arguments' vocabulary for tensors, shared by every CUDA kernel's
// params struct (forward, backward): pointers to device memory, strides in
// elements.
#pragma once

#include <cstdint>

namespace lla::cuda::tile {

// q, k [B,T,G,K] or v, o [B,T,H,V] with a unit stride on the last axis, the
// other strides multiples of 16 bytes (the planner packs tensors that are not).
struct RowTensor {
    void* data;
    int64_t stride_b, stride_t, stride_x;  // batch, token, group/head
};

// g [B,T,H] float32, l [B,T,H,L] float32 or the compute dtype: any strides.
struct ScalarTensor {
    const void* data;
    int32_t dtype;
    int64_t stride_b, stride_t, stride_h, stride_l;
};

// A state [N,H,Ls,K,V] float32 (initial or final), with optional log_decay
// [N,H,Ls] (decode form: state = exp(log_decay) * levels).
struct StateTensor {
    float* levels;  // nullptr: absent
    int64_t stride_n, stride_h, stride_l, stride_k, stride_v;
    int32_t num_levels;
    const float* log_decay;  // nullptr: canonical form
    int64_t ld_stride_n, ld_stride_h, ld_stride_l;
};

}  // namespace lla::cuda::tile
