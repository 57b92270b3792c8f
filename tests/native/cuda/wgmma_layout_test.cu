// The WGMMA operand views (cuda/forward/wgmma_ops.h) must address exactly the
// bytes of the shared tiles that cp.async, the mask and the state merge write
// (kernel_traits.h layouts): every element offset is compared. Host-only, so
// it runs without a GPU.
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

TEST(WgmmaLayout, Bf16ViewsAddressTheTiles) { check_views<TraitsBf16>(); }
TEST(WgmmaLayout, F16ViewsAddressTheTiles) { check_views<TraitsF16>(); }

}  // namespace
}  // namespace lla::cuda::fwd
