// The WGMMA operand views (cuda/forward/wgmma_ops.h) must address exactly the
// bytes of the shared tiles that cp.async, the mask and the state merge write
// (kernel_traits.h layouts): every element offset is compared. Host-only, so
// it runs without a GPU. Also the accumulator-pair property that the kernels'
// paired shared-memory accesses rely on.
#include <gtest/gtest.h>

#include <cstdint>

#include "cuda/forward/wgmma_ops.h"

namespace lla::cuda::fwd {
namespace {

// Byte offset of element (i, j) of a view whose swizzle acts on the address.
template <class T, class Layout>
int64_t view_offset(Layout layout, int i, int j) {
    alignas(1024) static T buffer[kKMax * kKMax * 2];
    auto tensor = make_tensor(make_smem_ptr(buffer), layout);
    return reinterpret_cast<const char*>(&tensor(i, j)) - reinterpret_cast<const char*>(buffer);
}

// Checks view(i, j) == tile(i, j) (or tile(j, i) when transposed) in bytes.
template <class T, class View, class Tile>
void expect_same_bytes(View view, Tile tile, bool transposed, const char* name) {
    int mismatches = 0;
    for (int i = 0; i < size<0>(view); ++i)
        for (int j = 0; j < size<1>(view); ++j) {
            const int64_t tile_offset = int64_t(transposed ? tile(j, i) : tile(i, j)) * int64_t(sizeof(T));
            if (view_offset<T>(view, i, j) != tile_offset) ++mismatches;
        }
    EXPECT_EQ(mismatches, 0) << name;
}

template <class Traits>
void check_views() {
    using W = WgmmaTraits<Traits>;
    using E = typename Traits::Element;
    using S = typename Traits::StateOp;
    expect_same_bytes<E>(typename W::LayoutP{}, typename Traits::LayoutP{}, false, "P");
    expect_same_bytes<S>(typename W::LayoutQ{}, typename Traits::LayoutQK{}, false, "Q");
    expect_same_bytes<E>(typename W::template LayoutKt<kChunk>{}, typename Traits::LayoutQK{}, true, "K^T");
    expect_same_bytes<E>(typename W::template LayoutVt<kChunk>{}, typename Traits::LayoutV{}, true, "V^T");
    expect_same_bytes<S>(typename W::LayoutRt{}, typename Traits::LayoutR{}, true, "state^T");
    // chunk_states' two-chunk stages.
    expect_same_bytes<E>(typename W::template LayoutKt<2 * kChunk>{}, SmemTile<E, 2 * kChunk, kKMax>{}, true,
                         "stage K^T");
    expect_same_bytes<E>(typename W::template LayoutVt<2 * kChunk>{}, SmemTile<E, 2 * kChunk, Traits::kVSlice>{},
                         true, "stage V^T");
}

// Elements 2j, 2j + 1 of every thread's accumulator fragment are columns
// (c, c + 1) of one row with c even (store_pair / load_pair in tile_ops.h).
template <class Mma, int kM, int kN>
void expect_column_pairs(const char* name) {
    Mma mma;
    int bad = 0;
    for (int t = 0; t < kThreads; ++t) {
        auto c = mma.get_thread_slice(t).partition_C(make_identity_tensor(Shape<Int<kM>, Int<kN>>{}));
        for (int i = 0; i + 1 < size(c); i += 2) {
            const bool ok = get<0>(c(i)) == get<0>(c(i + 1)) && get<1>(c(i)) % 2 == 0 &&
                            get<1>(c(i + 1)) == get<1>(c(i)) + 1;
            if (!ok) ++bad;
        }
    }
    EXPECT_EQ(bad, 0) << name;
}

template <class Traits>
void check_pairs() {
    using W = WgmmaTraits<Traits>;
    expect_column_pairs<typename Traits::MmaE, kChunk, kChunk>("mma.sync 64 x 64");
    expect_column_pairs<typename Traits::MmaE, kKMax, Traits::kVSlice>("mma.sync state");
    expect_column_pairs<typename Traits::MmaS, kChunk, Traits::kVSlice>("mma.sync Q x state");
    if constexpr (sizeof(typename Traits::Element) == 2) {
        expect_column_pairs<typename W::MmaPV, kChunk, Traits::kVSlice>("WGMMA P V");
        expect_column_pairs<typename W::MmaQR, kChunk, Traits::kVSlice>("WGMMA Q x state");
        expect_column_pairs<typename W::MmaState, kKMax, Traits::kVSlice>("WGMMA state");
    }
}

TEST(AccumulatorPairs, EveryInstance) {
    check_pairs<TraitsBf16>();
    check_pairs<TraitsF16>();
    check_pairs<TraitsF32Tf32>();
    check_pairs<TraitsF32Exact>();
}

TEST(WgmmaLayout, Bf16ViewsAddressTheTiles) { check_views<TraitsBf16>(); }
TEST(WgmmaLayout, F16ViewsAddressTheTiles) { check_views<TraitsF16>(); }

}  // namespace
}  // namespace lla::cuda::fwd
