// Row and column sums of the accumulator fragments of the backward's tiled
// MMA (SM80 m16n8 layout of tile::TiledMma64: warp w covers rows
// 16 (w % 4) + [0, 16), a lane holds rows r0 = 16 (w % 4) + lane / 4 and
// r0 + 8, and the lanes with one lane % 4 hold the same columns). Reduced in
// registers and warp shuffles first, so that the shared-memory atomics that
// finish a sum are few and uncontended.
#pragma once

#include <cute/tensor.hpp>

namespace lla::cuda::bwd {

// Which of a lane's two fragment rows row r is (0: r0, 1: r0 + 8).
__device__ __forceinline__ int fragment_row_slot(int r) { return (r >> 3) & 1; }

// Sum over the four lanes holding one row (a quad).
template <class T>
__device__ __forceinline__ T quad_sum(T v) {
    v += __shfl_xor_sync(0xffffffffu, v, 1);
    v += __shfl_xor_sync(0xffffffffu, v, 2);
    return v;
}

// Sum over the eight lanes holding one column (lane / 4 varies) of a warp.
template <class T>
__device__ __forceinline__ T column_sum(T v) {
    v += __shfl_xor_sync(0xffffffffu, v, 4);
    v += __shfl_xor_sync(0xffffffffu, v, 8);
    v += __shfl_xor_sync(0xffffffffu, v, 16);
    return v;
}

// dst[row] += the row sums of v(i) over the fragment (coordinates c(i)).
template <class T, class Frag, class Coord, class Value>
__device__ __forceinline__ void add_row_sums(const Frag& frag, const Coord& coord, Value&& value, T* dst) {
    T part[2] = {T(0), T(0)};
    int row[2] = {0, 8};
#pragma unroll
    for (int i = 0; i < cute::size(frag); ++i) {
        const int r = cute::get<0>(coord(i));
        part[fragment_row_slot(r)] += value(i);
        row[fragment_row_slot(r)] = r;
    }
    part[0] = quad_sum(part[0]);
    part[1] = quad_sum(part[1]);
    if ((threadIdx.x & 3) == 0) {
        atomicAdd(&dst[row[0]], part[0]);
        atomicAdd(&dst[row[1]], part[1]);
    }
}

}  // namespace lla::cuda::bwd
