// Copies between a strided 4-D tensor and a dense one whose last axis may be
// padded with zeros: used to give the tiled kernels unit-stride, 16-byte
// aligned rows when the caller's q, k, v or o do not have them.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "loglinear/loglinear.h"

namespace lla::cuda::fwd {

struct RepackArgs {
    const void* src;
    void* dst;
    int elem_bytes;          // 2 or 4
    int64_t shape[4];        // logical shape (last axis unpadded)
    int64_t src_stride[4];   // elements
    int64_t dst_stride[4];   // elements
    int64_t dst_last;        // extent of the last axis written in dst (>= shape[3]; extra entries are zeroed)
};

lla_status repack(const RepackArgs& args, cudaStream_t stream);

}  // namespace lla::cuda::fwd
