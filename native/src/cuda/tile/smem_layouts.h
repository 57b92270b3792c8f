// Shared-memory tile layouts, copy atoms and the 64-row tiled MMA of every
// tiled CUDA kernel (CuTe, SM80-style mma.sync with ldmatrix). Warp tiles are
// 16 rows; 8 warps as 4 along M x 2 along N.
#pragma once

#include <cute/tensor.hpp>
#include <cutlass/numeric_types.h>

#include <type_traits>

namespace lla::cuda::tile {

using namespace cute;

// Shared-memory tiles of 16-bit and 32-bit elements: rows of 64 (32) elements
// = 128 bytes, swizzled in 16-byte units so that ldmatrix / fragment loads
// and the 16-byte global copies are free of bank conflicts.
template <int kBytes>
struct SmemAtom;
template <>
struct SmemAtom<2> {
    using Layout = decltype(composition(Swizzle<3, 3, 3>{}, cute::Layout<Shape<_8, _64>, Stride<_64, _1>>{}));
    static constexpr int kCols = 64;
};
template <>
struct SmemAtom<4> {
    using Layout = decltype(composition(Swizzle<3, 2, 3>{}, cute::Layout<Shape<_8, _32>, Stride<_32, _1>>{}));
    static constexpr int kCols = 32;
};

template <class T, int kRows, int kCols>
using SmemTile = decltype(tile_to_shape(typename SmemAtom<sizeof(T)>::Layout{}, Shape<Int<kRows>, Int<kCols>>{}));

// The (kCols x kRows) transposed view of a (kRows x kCols) tile.
template <class Tile, int kRows, int kCols>
using SmemTransposed = decltype(composition(Tile{}, make_layout(Shape<Int<kCols>, Int<kRows>>{}, GenRowMajor{})));

template <class T>
using CopyAtomN = std::conditional_t<sizeof(T) == 2, Copy_Atom<SM75_U32x4_LDSM_N, T>, Copy_Atom<DefaultCopy, T>>;
template <class T>
using CopyAtomT = std::conditional_t<sizeof(T) == 2, Copy_Atom<SM75_U16x8_LDSM_T, T>, Copy_Atom<DefaultCopy, T>>;

// Global -> shared 16-byte cp.async copies by 256 threads: 32 rows x 8 vectors per pass.
template <class T>
using GmemCopy = decltype(make_tiled_copy(Copy_Atom<SM80_CP_ASYNC_CACHEGLOBAL<cute::uint128_t>, T>{},
                                          Layout<Shape<_32, _8>, Stride<_8, _1>>{},
                                          Layout<Shape<_1, Int<16 / int(sizeof(T))>>>{}));
// Shared -> global 16-byte stores.
template <class T>
using GmemStore = decltype(make_tiled_copy(Copy_Atom<AutoVectorizingCopyWithAssumedAlignment<128>, T>{},
                                           Layout<Shape<_32, _8>, Stride<_8, _1>>{},
                                           Layout<Shape<_1, Int<16 / int(sizeof(T))>>>{}));

template <class Atom, int kAtomK>
using TiledMma64 = TiledMMA<MMA_Atom<Atom>, Layout<Shape<_4, _2, _1>>, Tile<_64, _32, Int<kAtomK>>>;

}  // namespace lla::cuda::tile
