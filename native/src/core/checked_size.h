// Byte sizes computed from caller dimensions, with overflow detection: a
// broadcast (stride-0) tensor makes huge shapes cost no memory, so a product
// of shapes can exceed size_t while every shape is within the documented
// limits. A size that does not fit is kSizeOverflow, and stays so through
// further sums and products; a backend reports it as LLA_ERROR_OUT_OF_MEMORY
// instead of carving a wrapped, too small workspace.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace lla {

constexpr size_t kSizeOverflow = SIZE_MAX;

inline size_t checked_product(std::initializer_list<size_t> factors) {
    size_t out = 1;
    for (size_t f : factors)
        if (out == kSizeOverflow || f == kSizeOverflow || __builtin_mul_overflow(out, f, &out)) return kSizeOverflow;
    return out;
}

inline size_t checked_sum(size_t a, size_t b) {
    size_t out = 0;
    return a == kSizeOverflow || b == kSizeOverflow || __builtin_add_overflow(a, b, &out) ? kSizeOverflow : out;
}

// a rounded up to a multiple of `align` (a power of two).
inline size_t checked_align_up(size_t a, size_t align) {
    const size_t up = checked_sum(a, align - 1);
    return up == kSizeOverflow ? kSizeOverflow : up / align * align;
}

}  // namespace lla
