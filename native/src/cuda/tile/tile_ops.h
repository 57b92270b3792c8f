// Device building blocks of the tiled kernels (forward and backward): predicated global <->
// shared tile copies, a shared-memory GEMM over a TiledMMA, and scalar loads.
#pragma once

#include <cute/tensor.hpp>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

#include "loglinear/loglinear.h"
#include "cuda/tile/kernel_tensors.h"
#include "cuda/tile/smem_layouts.h"
#include "cuda/tile/superchunks.h"

namespace lla::cuda::tile {

using namespace cute;

// Copies a (rows x cols) global tile into shared memory with 16-byte cp.async;
// rows failing row_ok(r) and columns >= col_limit are zero-filled instead.
template <class T, class GTensor, class STensor, class RowOk>
__device__ __forceinline__ void load_tile_async(GTensor const& g, STensor& s, RowOk row_ok, int col_limit) {
    using Copy = GmemCopy<T>;
    Copy copy;
    auto thr = copy.get_thread_slice(threadIdx.x);
    Tensor tg = thr.partition_S(g);
    Tensor ts = thr.partition_D(s);
    Tensor tc = thr.partition_S(make_identity_tensor(make_shape(size<0>(s), size<1>(s))));
#pragma unroll
    for (int m = 0; m < size<1>(ts); ++m) {
#pragma unroll
        for (int k = 0; k < size<2>(ts); ++k) {
            const auto coord = tc(0, m, k);
            if (row_ok(get<0>(coord)) && get<1>(coord) < col_limit)
                cute::copy(copy, tg(_, m, k), ts(_, m, k));
            else
                cute::clear(ts(_, m, k));
        }
    }
}

// Like load_tile_async but converting Src elements to the shared tile's type
// through registers (16 bytes of source per step).
template <class Src, class Dst, class STensor, class RowAddr, class RowOk>
__device__ __forceinline__ void load_tile_convert(STensor& s, RowAddr row_addr, RowOk row_ok, int col_limit) {
    constexpr int kRows = decltype(size<0>(s))::value;
    constexpr int kCols = decltype(size<1>(s))::value;
    constexpr int kVec = 16 / int(sizeof(Src));
    for (int idx = threadIdx.x; idx < kRows * kCols / kVec; idx += kThreads) {
        const int r = idx / (kCols / kVec);
        const int c = (idx % (kCols / kVec)) * kVec;
        Src vals[kVec];
        if (row_ok(r) && c < col_limit) {
            *reinterpret_cast<uint4*>(vals) = *reinterpret_cast<const uint4*>(row_addr(r) + c);
        } else {
#pragma unroll
            for (int i = 0; i < kVec; ++i) vals[i] = Src(0.f);
        }
#pragma unroll
        for (int i = 0; i < kVec; ++i) s(r, c + i) = Dst(float(vals[i]));
    }
}

// Stores the valid rows / columns of a shared (rows x cols) tile to global memory.
template <class T, class STensor, class GTensor, class RowOk>
__device__ __forceinline__ void store_tile(STensor const& s, GTensor& g, RowOk row_ok, int col_limit) {
    using Copy = GmemStore<T>;
    Copy copy;
    auto thr = copy.get_thread_slice(threadIdx.x);
    Tensor ts = thr.partition_S(s);
    Tensor tg = thr.partition_D(g);
    Tensor tc = thr.partition_S(make_identity_tensor(make_shape(size<0>(s), size<1>(s))));
#pragma unroll
    for (int m = 0; m < size<1>(ts); ++m) {
#pragma unroll
        for (int k = 0; k < size<2>(ts); ++k) {
            const auto coord = tc(0, m, k);
            if (row_ok(get<0>(coord)) && get<1>(coord) < col_limit) cute::copy(copy, ts(_, m, k), tg(_, m, k));
        }
    }
}

// acc += A * B^T for shared tiles sA (M x Kd) and sB (N x Kd), fragments
// loaded through the given copy atoms one k-block ahead of the MMAs.
template <class CopyAtomA, class CopyAtomB, class TiledMma, class Acc, class SA, class SB>
__device__ __forceinline__ void gemm_smem(TiledMma& mma, Acc& acc, SA const& sA, SB const& sB) {
    auto thr_mma = mma.get_thread_slice(threadIdx.x);
    Tensor tCrA = thr_mma.partition_fragment_A(sA);
    Tensor tCrB = thr_mma.partition_fragment_B(sB);
    auto copy_a = make_tiled_copy_A(CopyAtomA{}, mma);
    auto copy_b = make_tiled_copy_B(CopyAtomB{}, mma);
    auto thr_a = copy_a.get_thread_slice(threadIdx.x);
    auto thr_b = copy_b.get_thread_slice(threadIdx.x);
    Tensor tCsA = thr_a.partition_S(sA);
    Tensor tCsB = thr_b.partition_S(sB);
    Tensor tCrA_view = thr_a.retile_D(tCrA);
    Tensor tCrB_view = thr_b.retile_D(tCrB);
    cute::copy(copy_a, tCsA(_, _, _0{}), tCrA_view(_, _, _0{}));
    cute::copy(copy_b, tCsB(_, _, _0{}), tCrB_view(_, _, _0{}));
#pragma unroll
    for (int kb = 0; kb < size<2>(tCrA); ++kb) {
        if (kb + 1 < size<2>(tCrA)) {
            cute::copy(copy_a, tCsA(_, _, kb + 1), tCrA_view(_, _, kb + 1));
            cute::copy(copy_b, tCsB(_, _, kb + 1), tCrB_view(_, _, kb + 1));
        }
        cute::gemm(mma, tCrA(_, _, kb), tCrB(_, _, kb), acc);
    }
}

// The accumulator fragments of the MMAs here (SM80 m16n8 and SM90 GMMA C
// layouts) hold adjacent columns (c, c + 1) of one row, c even, as elements
// 2j and 2j + 1 (checked by tests/native/cuda/wgmma_layout_test.cu); the
// shared tiles keep them adjacent (their swizzles move 16-byte units), and so
// do row-major global tiles with an even row stride. So each pair is one
// 4-byte (16-bit T) or 8-byte (float) access.
template <class T>
using PairWord = std::conditional_t<sizeof(T) == 2, uint32_t, uint64_t>;

// t(i), t(i + 1) = a, b (i even) for an accumulator-shaped partition of a tile.
template <class STensor>
__device__ __forceinline__ void store_pair(STensor&& t, int i, float a, float b) {
    using T = typename std::decay_t<STensor>::value_type;
    __align__(8) T v[2] = {T(a), T(b)};
    *reinterpret_cast<PairWord<T>*>(&t(i)) = *reinterpret_cast<const PairWord<T>*>(v);
}
// a, b = t(i), t(i + 1) (i even).
template <class STensor>
__device__ __forceinline__ void load_pair(STensor const& t, int i, float& a, float& b) {
    using T = typename std::decay_t<STensor>::value_type;
    __align__(8) T v[2];
    *reinterpret_cast<PairWord<T>*>(v) = *reinterpret_cast<const PairWord<T>*>(&t(i));
    a = float(v[0]);
    b = float(v[1]);
}

// A zero the compiler cannot see through: index arithmetic offset by it is
// recomputed where it is used instead of being hoisted out of the chunk loop
// and kept live (at the 128-register cap of 2 CTAs/SM, hoisted values spill).
__device__ __forceinline__ int opaque_zero() {
    int z;
    asm volatile("mov.b32 %0, 0;" : "=r"(z));
    return z;
}

// exp(d) for d a difference of cumulative log decays (double): the product
// with log2(e) is formed in double, so ex2.approx (relative error < 2^-22)
// is the only rounding beyond float32's.
__device__ __forceinline__ float exp_diff(double d) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(static_cast<float>(d * 1.4426950408889634)));
    return y;
}

// s(r, c) *= w[r] for a shared (rows x cols) tile, 16 bytes per step in the
// thread layout of the tile copies (per-thread offsets fold at compile time).
template <class T, class STensor>
__device__ __forceinline__ void scale_rows(STensor& s, const float* w) {
    constexpr int kVec = 16 / int(sizeof(T));
    using Copy = GmemCopy<T>;
    Copy copy;
    auto thr = copy.get_thread_slice(threadIdx.x);
    Tensor ts = thr.partition_D(s);
    Tensor tc = thr.partition_D(make_identity_tensor(make_shape(size<0>(s), size<1>(s))));
#pragma unroll
    for (int m = 0; m < size<1>(ts); ++m) {
        const float wr = w[get<0>(tc(0, m, 0))];
#pragma unroll
        for (int k = 0; k < size<2>(ts); ++k) {
            uint4* ptr = reinterpret_cast<uint4*>(&ts(0, m, k));  // kVec contiguous, 16-byte aligned elements
            uint4 raw = *ptr;
            T* vals = reinterpret_cast<T*>(&raw);
#pragma unroll
            for (int i = 0; i < kVec; ++i) vals[i] = T(float(vals[i]) * wr);
            *ptr = raw;
        }
    }
}

// Element offset of l[b, tok, h, lev] / g[b, tok, h].
__device__ __forceinline__ int64_t scalar_offset(const ScalarTensor& t, int64_t b, int64_t tok, int64_t h, int64_t lev) {
    return b * t.stride_b + tok * t.stride_t + h * t.stride_h + lev * t.stride_l;
}

// Scalar reads of g / l (float32 or a 16-bit compute dtype).
__device__ __forceinline__ float load_scalar(const ScalarTensor& t, int64_t b, int64_t tok, int64_t h, int64_t lev) {
    const int64_t off = scalar_offset(t, b, tok, h, lev);
    switch (t.dtype) {
        case LLA_DTYPE_BFLOAT16: return __bfloat162float(static_cast<const __nv_bfloat16*>(t.data)[off]);
        case LLA_DTYPE_FLOAT16: return __half2float(static_cast<const __half*>(t.data)[off]);
        default: return static_cast<const float*>(t.data)[off];
    }
}

// Queues a 4-byte cp.async of the aligned word that holds element `off` of a
// scalar tensor into *dst (zero-filled when !ok): l and g rows are only 2-byte
// aligned for 16-bit dtypes. scalar_from_word picks the element back out.
// The word lies in the same 4-byte block as the element, so it is mapped.
__device__ __forceinline__ void cp_async_scalar_word(uint32_t* dst, const ScalarTensor& t, int64_t off, bool ok) {
    const int eb = t.dtype == LLA_DTYPE_FLOAT32 ? 4 : 2;
    const uintptr_t addr = reinterpret_cast<uintptr_t>(t.data) + (ok ? off * eb : 0);
    const uint32_t smem = static_cast<uint32_t>(__cvta_generic_to_shared(dst));
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(smem),
                 "l"(reinterpret_cast<const void*>(addr & ~uintptr_t(3))), "r"(ok ? 4 : 0));
}
__device__ __forceinline__ float scalar_from_word(uint32_t w, const ScalarTensor& t, int64_t off) {
    if (t.dtype == LLA_DTYPE_FLOAT32) return __uint_as_float(w);
    const uintptr_t addr = reinterpret_cast<uintptr_t>(t.data) + off * 2;
    const unsigned short bits = static_cast<unsigned short>((addr & 2) ? (w >> 16) : (w & 0xffffu));
    if (t.dtype == LLA_DTYPE_BFLOAT16) return __uint_as_float(static_cast<uint32_t>(bits) << 16);
    return __half2float(__ushort_as_half(bits));
}

// Element (k, v) of level `level` of a state tensor for sequence n, head h,
// already multiplied by exp(log_decay) in the decode form.
__device__ __forceinline__ float load_state(const StateTensor& st, int64_t n, int64_t h, int64_t level, int64_t k,
                                            int64_t v) {
    return st.levels[n * st.stride_n + h * st.stride_h + level * st.stride_l + k * st.stride_k + v * st.stride_v];
}
// Elements (k, v .. v + 3) of level `level` of a state tensor (zero past K or
// V), and their store (skipping those past K or V): the up- and down-sweeps'
// per-thread slice of a state.
__device__ __forceinline__ float4 load_state4(const StateTensor& st, int64_t n, int64_t h, int64_t level, int k, int v,
                                              int K, int V) {
    float x[4];
#pragma unroll
    for (int c = 0; c < 4; ++c) x[c] = (k < K && v + c < V) ? load_state(st, n, h, level, k, v + c) : 0.f;
    return make_float4(x[0], x[1], x[2], x[3]);
}
__device__ __forceinline__ void store_state4(const StateTensor& st, int64_t n, int64_t h, int64_t level, int k, int v,
                                             int K, int V, float4 x) {
    const float vals[4] = {x.x, x.y, x.z, x.w};
#pragma unroll
    for (int c = 0; c < 4; ++c)
        if (k < K && v + c < V)
            st.levels[n * st.stride_n + h * st.stride_h + level * st.stride_l + k * st.stride_k + (v + c) * st.stride_v] =
                vals[c];
}

// Exclusive prefix sum of one double per thread over the CTA (warp_sums: one
// slot per warp); *total, when given, receives the sum over the CTA.
__device__ __forceinline__ double block_exclusive_sum(double x, double* warp_sums, double* total = nullptr) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    double incl = x;
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        const double y = __shfl_up_sync(0xffffffffu, incl, o);
        if (lane >= o) incl += y;
    }
    if (lane == 31) warp_sums[warp] = incl;
    __syncthreads();
    double before = 0;
    for (int w = 0; w < warp; ++w) before += warp_sums[w];
    if (total != nullptr) {
        double t = 0;
        for (int w = 0; w < static_cast<int>(blockDim.x >> 5); ++w) t += warp_sums[w];
        *total = t;
    }
    __syncthreads();
    return before + incl - x;
}

__device__ __forceinline__ float state_multiplier(const StateTensor& st, int64_t n, int64_t h, int64_t level) {
    if (st.log_decay == nullptr) return 1.f;
    return expf(st.log_decay[n * st.ld_stride_n + h * st.ld_stride_h + level * st.ld_stride_l]);
}

}  // namespace lla::cuda::tile
