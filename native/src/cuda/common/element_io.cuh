// Loads and stores of one element whose dtype is known only at run time
// (lla_dtype), and TensorArg, a small strided tensor as a kernel argument.
// Meant for the small per-token tensors of a decode step, where a switch per
// element costs nothing next to the state traffic; hot loops over large
// tensors are templated on their element type instead.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "loglinear/loglinear.h"

namespace lla::cuda {

template <class Acc>
__device__ __forceinline__ Acc load_as(const void* base, int32_t dtype, int64_t offset) {
    switch (dtype) {
        case LLA_DTYPE_FLOAT32: return static_cast<Acc>(static_cast<const float*>(base)[offset]);
        case LLA_DTYPE_FLOAT64: return static_cast<Acc>(static_cast<const double*>(base)[offset]);
        case LLA_DTYPE_BFLOAT16:
            return static_cast<Acc>(__bfloat162float(static_cast<const __nv_bfloat16*>(base)[offset]));
        case LLA_DTYPE_FLOAT16:
            return static_cast<Acc>(__half2float(static_cast<const __half*>(base)[offset]));
        default: return Acc(0);
    }
}

template <class Acc>
__device__ __forceinline__ void store_as(void* base, int32_t dtype, int64_t offset, Acc value) {
    switch (dtype) {
        case LLA_DTYPE_FLOAT32: static_cast<float*>(base)[offset] = static_cast<float>(value); break;
        case LLA_DTYPE_FLOAT64: static_cast<double*>(base)[offset] = static_cast<double>(value); break;
        case LLA_DTYPE_BFLOAT16:
            static_cast<__nv_bfloat16*>(base)[offset] = __float2bfloat16(static_cast<float>(value));
            break;
        case LLA_DTYPE_FLOAT16:
            static_cast<__half*>(base)[offset] = __float2half(static_cast<float>(value));
            break;
        default: break;
    }
}

// A tensor of at most three dimensions as a kernel argument: data, dtype and
// strides in elements (unused trailing strides are 0).
struct TensorArg {
    void* data;
    int32_t dtype;
    int64_t stride[3];

    __device__ __forceinline__ int64_t offset(int64_t i0, int64_t i1 = 0, int64_t i2 = 0) const {
        return i0 * stride[0] + i1 * stride[1] + i2 * stride[2];
    }
};

// The first three strides of a validated lla_tensor (missing ones 0).
inline TensorArg tensor_arg(const lla_tensor& t) {
    TensorArg a{t.data, t.dtype, {0, 0, 0}};
    for (int i = 0; i < 3 && i < t.ndim; ++i) a.stride[i] = t.strides[i];
    return a;
}

}  // namespace lla::cuda
