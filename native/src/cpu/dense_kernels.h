// Small dense linear algebra on row-major buffers of the compute precision,
// sized for one chunk (tens to hundreds of rows). Written with GCC vector
// extensions so that each multiversioned caller gets the widest vectors and
// FMA of its clone; all functions are always_inline for that reason.
#pragma once

#include <cstddef>
#include <cstring>

#include "cpu/multiversion.h"

// The 32-byte vector types never cross a non-inlined call (everything here is
// always_inline), so the ABI note GCC gives for them does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace lla::cpu {

template <class R>
struct Simd;
template <>
struct Simd<float> {
    typedef float Vec __attribute__((vector_size(32)));
    static constexpr int width = 8;
};
template <>
struct Simd<double> {
    typedef double Vec __attribute__((vector_size(32)));
    static constexpr int width = 4;
};

template <class R>
LLA_ALWAYS_INLINE typename Simd<R>::Vec load_vec(const R* p) {
    typename Simd<R>::Vec v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

template <class R>
LLA_ALWAYS_INLINE void store_vec(R* p, typename Simd<R>::Vec v) {
    std::memcpy(p, &v, sizeof v);
}

// Which part of a product is needed, for triangular operands of one chunk.
enum class GemmShape {
    Full,
    LowerCols,  // only C(i, j) with j <= i is needed (others may hold anything)
    LowerK,     // A is lower triangular: A(i, p) == 0 for p > i
    UpperK      // A is upper triangular: A(i, p) == 0 for p < i
};

namespace detail {

constexpr int kGemmRows = 4;  // rows of C per register tile

// C rows [i0, i0 + ROWS), columns [j, j + VECS * width), p in [p0, p1).
template <class R, int ROWS, int VECS>
LLA_ALWAYS_INLINE void gemm_tile(int i0, int j, int p0, int p1, const R* A, ptrdiff_t a_rs, ptrdiff_t a_cs,
                                 const R* B, ptrdiff_t b_ld, R* C, ptrdiff_t c_ld, bool accumulate) {
    using Vec = typename Simd<R>::Vec;
    constexpr int W = Simd<R>::width;
    Vec acc[ROWS][VECS];
    for (int r = 0; r < ROWS; ++r)
        for (int v = 0; v < VECS; ++v)
            acc[r][v] = accumulate ? load_vec(C + (i0 + r) * c_ld + j + v * W) : Vec{};
    const R* a_row[ROWS];
    for (int r = 0; r < ROWS; ++r) a_row[r] = A + (i0 + r) * a_rs;
    for (int p = p0; p < p1; ++p) {
        Vec b[VECS];
        for (int v = 0; v < VECS; ++v) b[v] = load_vec(B + p * b_ld + j + v * W);
        for (int r = 0; r < ROWS; ++r) {
            R a = a_row[r][p * a_cs];
            for (int v = 0; v < VECS; ++v) acc[r][v] += a * b[v];
        }
    }
    for (int r = 0; r < ROWS; ++r)
        for (int v = 0; v < VECS; ++v) store_vec(C + (i0 + r) * c_ld + j + v * W, acc[r][v]);
}

// Scalar columns [j0, j1) of rows [i0, i1).
template <class R>
LLA_ALWAYS_INLINE void gemm_scalar_cols(int i0, int i1, int j0, int j1, int p0, int p1, const R* A, ptrdiff_t a_rs,
                                        ptrdiff_t a_cs, const R* B, ptrdiff_t b_ld, R* C, ptrdiff_t c_ld,
                                        bool accumulate) {
    for (int i = i0; i < i1; ++i)
        for (int j = j0; j < j1; ++j) {
            R sum = accumulate ? C[i * c_ld + j] : R(0);
            for (int p = p0; p < p1; ++p) sum += A[i * a_rs + p * a_cs] * B[p * b_ld + j];
            C[i * c_ld + j] = sum;
        }
}

template <class R, int ROWS>
LLA_ALWAYS_INLINE void gemm_row_block(int i0, int n, int p0, int p1, const R* A, ptrdiff_t a_rs, ptrdiff_t a_cs,
                                      const R* B, ptrdiff_t b_ld, R* C, ptrdiff_t c_ld, bool accumulate) {
    constexpr int W = Simd<R>::width;
    int j = 0;
    for (; j + 2 * W <= n; j += 2 * W)
        gemm_tile<R, ROWS, 2>(i0, j, p0, p1, A, a_rs, a_cs, B, b_ld, C, c_ld, accumulate);
    for (; j + W <= n; j += W)
        gemm_tile<R, ROWS, 1>(i0, j, p0, p1, A, a_rs, a_cs, B, b_ld, C, c_ld, accumulate);
    if (j < n) gemm_scalar_cols(i0, i0 + ROWS, j, n, p0, p1, A, a_rs, a_cs, B, b_ld, C, c_ld, accumulate);
}

}  // namespace detail

// C (m x n, row stride c_ld) = or += A (m x k) * B (k x n, row stride b_ld),
// where A(i, p) = A[i * a_rs + p * a_cs] (so a transposed A is a_rs = 1).
// `shape` skips the work that a triangular operand or output makes useless.
template <class R>
LLA_ALWAYS_INLINE void gemm(int m, int n, int k, const R* A, ptrdiff_t a_rs, ptrdiff_t a_cs, const R* B,
                            ptrdiff_t b_ld, R* C, ptrdiff_t c_ld, bool accumulate, GemmShape shape = GemmShape::Full) {
    constexpr int MR = detail::kGemmRows;
    constexpr int NR = 2 * Simd<R>::width;
    for (int i0 = 0; i0 < m; i0 += MR) {
        int rows = m - i0 < MR ? m - i0 : MR;
        int i1 = i0 + rows;
        int p0 = 0, p1 = k, cols = n;
        if (shape == GemmShape::LowerK) p1 = i1 < k ? i1 : k;
        if (shape == GemmShape::UpperK) p0 = i0;
        if (shape == GemmShape::LowerCols) {
            int rounded = (i1 + NR - 1) / NR * NR;
            cols = rounded < n ? rounded : n;
        }
        if (rows == MR) {
            detail::gemm_row_block<R, MR>(i0, cols, p0, p1, A, a_rs, a_cs, B, b_ld, C, c_ld, accumulate);
        } else {
            for (int i = i0; i < i1; ++i)
                detail::gemm_row_block<R, 1>(i, cols, p0, p1, A, a_rs, a_cs, B, b_ld, C, c_ld, accumulate);
        }
    }
}

// dst (cols x rows, row stride dst_ld) = src (rows x cols, row stride src_ld) transposed.
template <class R>
LLA_ALWAYS_INLINE void transpose(int rows, int cols, const R* src, ptrdiff_t src_ld, R* dst, ptrdiff_t dst_ld) {
    constexpr int B = 8;
    for (int r0 = 0; r0 < rows; r0 += B)
        for (int c0 = 0; c0 < cols; c0 += B) {
            int r1 = r0 + B < rows ? r0 + B : rows;
            int c1 = c0 + B < cols ? c0 + B : cols;
            for (int c = c0; c < c1; ++c)
                for (int r = r0; r < r1; ++r) dst[c * dst_ld + r] = src[r * src_ld + c];
        }
}

// y[0..n) += alpha * x[0..n)
template <class R>
LLA_ALWAYS_INLINE void axpy(int n, R alpha, const R* __restrict x, R* __restrict y) {
    for (int i = 0; i < n; ++i) y[i] += alpha * x[i];
}

// y[0..n) = alpha * x[0..n)
template <class R>
LLA_ALWAYS_INLINE void scaled_copy(int n, R alpha, const R* __restrict x, R* __restrict y) {
    for (int i = 0; i < n; ++i) y[i] = alpha * x[i];
}

// sum x[i] * y[i] accumulated in double (used where cancellation matters).
LLA_ALWAYS_INLINE double dot_in_double(int n, const double* x, const double* y) {
    using DVec = Simd<double>::Vec;
    constexpr int W = Simd<double>::width;
    DVec acc{};
    int i = 0;
    for (; i + W <= n; i += W) acc += load_vec(x + i) * load_vec(y + i);
    double sum = 0;
    for (int e = 0; e < W; ++e) sum += acc[e];
    for (; i < n; ++i) sum += x[i] * y[i];
    return sum;
}

LLA_ALWAYS_INLINE double dot_in_double(int n, const float* x, const float* y) {
    typedef float Half __attribute__((vector_size(16)));  // as many floats as Simd<double> has doubles
    using DVec = Simd<double>::Vec;
    constexpr int W = Simd<double>::width;
    DVec acc{};
    int i = 0;
    for (; i + W <= n; i += W) {
        Half xs, ys;
        std::memcpy(&xs, x + i, sizeof xs);
        std::memcpy(&ys, y + i, sizeof ys);
        acc += __builtin_convertvector(xs, DVec) * __builtin_convertvector(ys, DVec);
    }
    double sum = 0;
    for (int e = 0; e < W; ++e) sum += acc[e];
    for (; i < n; ++i) sum += static_cast<double>(x[i]) * static_cast<double>(y[i]);
    return sum;
}

// sum x[i] * y[i] in the compute precision, vectorized.
template <class R>
LLA_ALWAYS_INLINE R dot(int n, const R* x, const R* y) {
    using Vec = typename Simd<R>::Vec;
    constexpr int W = Simd<R>::width;
    Vec acc0{}, acc1{};
    int i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
        acc0 += load_vec(x + i) * load_vec(y + i);
        acc1 += load_vec(x + i + W) * load_vec(y + i + W);
    }
    acc0 += acc1;
    R sum = 0;
    for (int e = 0; e < W; ++e) sum += acc0[e];
    for (; i < n; ++i) sum += x[i] * y[i];
    return sum;
}

}  // namespace lla::cpu
