// Small dense linear algebra on row-major buffers of the compute precision,
// sized for one chunk (tens to hundreds of rows). Written with GCC vector
// extensions whose width is the kernel path's (template parameter P), so that
// each path's entry points, compiled for its target (kernel_path.h), get the
// widest vectors and FMA of their ISA; all functions are always_inline for
// that reason.
#pragma once

#include <cstddef>
#include <cstring>

#include "cpu/kernel_path.h"
#include "cpu/path_entry.h"

// The vector types never cross a non-inlined call (everything here is
// always_inline), so the ABI note GCC gives for them does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace lla::cpu {

// Vector width and register tile of each path: the tile of C that gemm keeps
// in registers is gemm_rows x (gemm_vecs vectors). AVX-512 has 32 registers:
// 16 accumulators keep both FMA ports busy past the FMA latency.
template <KernelPath P>
struct PathShape {
    static constexpr int vec_bytes = 32;
    static constexpr int gemm_rows = 4, gemm_vecs = 2;
};
template <>
struct PathShape<KernelPath::X86_64> {
    static constexpr int vec_bytes = 16;
    static constexpr int gemm_rows = 4, gemm_vecs = 2;
};
template <>
struct PathShape<KernelPath::X86_64_V4> {
    static constexpr int vec_bytes = 64;
    static constexpr int gemm_rows = 4, gemm_vecs = 4;
};

template <KernelPath P, class R>
struct Simd {
    typedef R Vec __attribute__((vector_size(PathShape<P>::vec_bytes)));
    static constexpr int width = PathShape<P>::vec_bytes / static_cast<int>(sizeof(R));
};

template <class Vec, class R>
LLA_ALWAYS_INLINE Vec load_vec(const R* p) {
    Vec v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

template <class Vec, class R>
LLA_ALWAYS_INLINE void store_vec(R* p, const Vec& v) {
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

// C rows [i0, i0 + ROWS), columns [j, j + VECS * width), p in [p0, p1).
template <KernelPath P, class R, int ROWS, int VECS>
LLA_ALWAYS_INLINE void gemm_tile(int i0, int j, int p0, int p1, const R* A, ptrdiff_t a_rs, ptrdiff_t a_cs,
                                 const R* B, ptrdiff_t b_ld, R* C, ptrdiff_t c_ld, bool accumulate) {
    using Vec = typename Simd<P, R>::Vec;
    constexpr int W = Simd<P, R>::width;
    Vec acc[ROWS][VECS];
    for (int r = 0; r < ROWS; ++r)
        for (int v = 0; v < VECS; ++v)
            acc[r][v] = accumulate ? load_vec<Vec>(C + (i0 + r) * c_ld + j + v * W) : Vec{};
    const R* a_row[ROWS];
    for (int r = 0; r < ROWS; ++r) a_row[r] = A + (i0 + r) * a_rs;
    for (int p = p0; p < p1; ++p) {
        Vec b[VECS];
        for (int v = 0; v < VECS; ++v) b[v] = load_vec<Vec>(B + p * b_ld + j + v * W);
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

// Columns in tiles of the path's width, then half of it (on AVX-512: 4, then
// 2 vectors), then single vectors, then scalar columns.
template <KernelPath P, class R, int ROWS>
LLA_ALWAYS_INLINE void gemm_row_block(int i0, int n, int p0, int p1, const R* A, ptrdiff_t a_rs, ptrdiff_t a_cs,
                                      const R* B, ptrdiff_t b_ld, R* C, ptrdiff_t c_ld, bool accumulate) {
    constexpr int W = Simd<P, R>::width, VECS = PathShape<P>::gemm_vecs;
    int j = 0;
    for (; j + VECS * W <= n; j += VECS * W)
        gemm_tile<P, R, ROWS, VECS>(i0, j, p0, p1, A, a_rs, a_cs, B, b_ld, C, c_ld, accumulate);
    if constexpr (VECS > 2)
        for (; j + 2 * W <= n; j += 2 * W)
            gemm_tile<P, R, ROWS, 2>(i0, j, p0, p1, A, a_rs, a_cs, B, b_ld, C, c_ld, accumulate);
    for (; j + W <= n; j += W)
        gemm_tile<P, R, ROWS, 1>(i0, j, p0, p1, A, a_rs, a_cs, B, b_ld, C, c_ld, accumulate);
    if (j < n) gemm_scalar_cols(i0, i0 + ROWS, j, n, p0, p1, A, a_rs, a_cs, B, b_ld, C, c_ld, accumulate);
}

}  // namespace detail

// C (m x n, row stride c_ld) = or += A (m x k) * B (k x n, row stride b_ld),
// where A(i, p) = A[i * a_rs + p * a_cs] (so a transposed A is a_rs = 1).
// `shape` skips the work that a triangular operand or output makes useless.
template <KernelPath P, class R>
LLA_ALWAYS_INLINE void gemm(int m, int n, int k, const R* A, ptrdiff_t a_rs, ptrdiff_t a_cs, const R* B,
                            ptrdiff_t b_ld, R* C, ptrdiff_t c_ld, bool accumulate, GemmShape shape = GemmShape::Full) {
    constexpr int MR = PathShape<P>::gemm_rows;
    constexpr int W = Simd<P, R>::width;
    for (int i0 = 0; i0 < m; i0 += MR) {
        int rows = m - i0 < MR ? m - i0 : MR;
        int i1 = i0 + rows;
        int p0 = 0, p1 = k, cols = n;
        if (shape == GemmShape::LowerK) p1 = i1 < k ? i1 : k;
        if (shape == GemmShape::UpperK) p0 = i0;
        if (shape == GemmShape::LowerCols) {
            int rounded = (i1 + W - 1) / W * W;  // whole vectors; gemm_row_block narrows its tiles
            cols = rounded < n ? rounded : n;
        }
        if (rows == MR) {
            detail::gemm_row_block<P, R, MR>(i0, cols, p0, p1, A, a_rs, a_cs, B, b_ld, C, c_ld, accumulate);
        } else {
            for (int i = i0; i < i1; ++i)
                detail::gemm_row_block<P, R, 1>(i, cols, p0, p1, A, a_rs, a_cs, B, b_ld, C, c_ld, accumulate);
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
template <KernelPath P>
LLA_ALWAYS_INLINE double dot_in_double(int n, const double* x, const double* y) {
    using DVec = typename Simd<P, double>::Vec;
    constexpr int W = Simd<P, double>::width;
    DVec acc{};
    int i = 0;
    for (; i + W <= n; i += W) acc += load_vec<DVec>(x + i) * load_vec<DVec>(y + i);
    double sum = 0;
    for (int e = 0; e < W; ++e) sum += acc[e];
    for (; i < n; ++i) sum += x[i] * y[i];
    return sum;
}

template <KernelPath P>
LLA_ALWAYS_INLINE double dot_in_double(int n, const float* x, const float* y) {
    // as many floats as Simd<P, double> has doubles
    typedef float Half __attribute__((vector_size(PathShape<P>::vec_bytes / 2)));
    using DVec = typename Simd<P, double>::Vec;
    constexpr int W = Simd<P, double>::width;
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
template <KernelPath P, class R>
LLA_ALWAYS_INLINE R dot(int n, const R* x, const R* y) {
    using Vec = typename Simd<P, R>::Vec;
    constexpr int W = Simd<P, R>::width;
    Vec acc0{}, acc1{};
    int i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
        acc0 += load_vec<Vec>(x + i) * load_vec<Vec>(y + i);
        acc1 += load_vec<Vec>(x + i + W) * load_vec<Vec>(y + i + W);
    }
    acc0 += acc1;
    R sum = 0;
    for (int e = 0; e < W; ++e) sum += acc0[e];
    for (; i < n; ++i) sum += x[i] * y[i];
    return sum;
}

}  // namespace lla::cpu
