// Gather strided tensor blocks of any storage dtype into dense buffers of the
// compute precision, and scatter them back. Strides are in elements and may
// be anything the core accepted (including 0 for broadcast inputs).
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "cpu/dtype_convert.h"
#include "loglinear/loglinear.h"

namespace lla::cpu {

// A 2-D block of a tensor: element (r, c) is at origin + r * row_stride + c * col_stride.
struct Block2D {
    int64_t origin;
    int64_t rows, row_stride;
    int64_t cols, col_stride;
};

namespace detail {

template <class R>
inline R load_one(int32_t dtype, const void* base, int64_t index) {
    switch (dtype) {
        case LLA_DTYPE_FLOAT32: return static_cast<R>(static_cast<const float*>(base)[index]);
        case LLA_DTYPE_FLOAT64: return static_cast<R>(static_cast<const double*>(base)[index]);
        case LLA_DTYPE_BFLOAT16: return static_cast<R>(bf16_to_float(static_cast<const uint16_t*>(base)[index]));
        case LLA_DTYPE_FLOAT16: return static_cast<R>(f16_to_float(static_cast<const uint16_t*>(base)[index]));
        default: return R(0);
    }
}

template <class R>
inline void store_one(int32_t dtype, void* base, int64_t index, R value) {
    switch (dtype) {
        case LLA_DTYPE_FLOAT32: static_cast<float*>(base)[index] = static_cast<float>(value); break;
        case LLA_DTYPE_FLOAT64: static_cast<double*>(base)[index] = static_cast<double>(value); break;
        case LLA_DTYPE_BFLOAT16: static_cast<uint16_t*>(base)[index] = float_to_bf16(static_cast<float>(value)); break;
        case LLA_DTYPE_FLOAT16: static_cast<uint16_t*>(base)[index] = float_to_f16(static_cast<float>(value)); break;
        default: break;
    }
}

template <class Src, class R>
inline void gather_typed(const Src* base, const Block2D& b, R* dst) {
    for (int64_t r = 0; r < b.rows; ++r) {
        const Src* row = base + b.origin + r * b.row_stride;
        R* out = dst + r * b.cols;
        if constexpr (std::is_same<Src, R>::value) {
            if (b.col_stride == 1) {
                std::memcpy(out, row, sizeof(R) * static_cast<size_t>(b.cols));
                continue;
            }
        }
        for (int64_t c = 0; c < b.cols; ++c) out[c] = static_cast<R>(row[c * b.col_stride]);
    }
}

template <class Dst, class R>
inline void scatter_typed(Dst* base, const Block2D& b, const R* src) {
    for (int64_t r = 0; r < b.rows; ++r) {
        Dst* row = base + b.origin + r * b.row_stride;
        const R* in = src + r * b.cols;
        if constexpr (std::is_same<Dst, R>::value) {
            if (b.col_stride == 1) {
                std::memcpy(row, in, sizeof(R) * static_cast<size_t>(b.cols));
                continue;
            }
        }
        for (int64_t c = 0; c < b.cols; ++c) row[c * b.col_stride] = static_cast<Dst>(in[c]);
    }
}

}  // namespace detail

// dst[r * cols + c] = tensor element (r, c) of the block, converted to R.
template <class R>
inline void gather_block(const lla_tensor& t, const Block2D& b, R* dst) {
    switch (t.dtype) {
        case LLA_DTYPE_FLOAT32: detail::gather_typed(static_cast<const float*>(t.data), b, dst); return;
        case LLA_DTYPE_FLOAT64: detail::gather_typed(static_cast<const double*>(t.data), b, dst); return;
        default:
            for (int64_t r = 0; r < b.rows; ++r)
                for (int64_t c = 0; c < b.cols; ++c)
                    dst[r * b.cols + c] = detail::load_one<R>(t.dtype, t.data, b.origin + r * b.row_stride + c * b.col_stride);
    }
}

// Tensor element (r, c) of the block = src[r * cols + c], converted to the tensor's dtype.
template <class R>
inline void scatter_block(const lla_tensor& t, const Block2D& b, const R* src) {
    switch (t.dtype) {
        case LLA_DTYPE_FLOAT32: detail::scatter_typed(static_cast<float*>(t.data), b, src); return;
        case LLA_DTYPE_FLOAT64: detail::scatter_typed(static_cast<double*>(t.data), b, src); return;
        default:
            for (int64_t r = 0; r < b.rows; ++r)
                for (int64_t c = 0; c < b.cols; ++c)
                    detail::store_one<R>(t.dtype, t.data, b.origin + r * b.row_stride + c * b.col_stride, src[r * b.cols + c]);
    }
}

// Writes zeros into the block.
inline void zero_block(const lla_tensor& t, const Block2D& b) {
    for (int64_t r = 0; r < b.rows; ++r)
        for (int64_t c = 0; c < b.cols; ++c)
            detail::store_one<double>(t.dtype, t.data, b.origin + r * b.row_stride + c * b.col_stride, 0.0);
}

// Single elements, for scalars such as log_decay entries.
template <class R>
inline R load_element(const lla_tensor& t, int64_t index) { return detail::load_one<R>(t.dtype, t.data, index); }
template <class R>
inline void store_element(const lla_tensor& t, int64_t index, R value) { detail::store_one<R>(t.dtype, t.data, index, value); }

inline int64_t load_int64(const lla_tensor& t, int64_t index) { return static_cast<const int64_t*>(t.data)[index]; }
inline void store_int64(const lla_tensor& t, int64_t index, int64_t value) { static_cast<int64_t*>(t.data)[index] = value; }

}  // namespace lla::cpu
