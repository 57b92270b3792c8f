// Level arithmetic of the Fenwick-tree partition (docs/math.md, section 2),
// the one copy that validation, the CPU backend and the CUDA kernels share.
// Integer operations only: a floating-point log2 rounds exact powers of two
// down on some hardware and silently moves tokens to the wrong level.
#pragma once

#include <cstdint>

#include "core/host_device.h"

namespace lla {

// Number of significant bits of x: 0 for 0, 1 for 1, 3 for 4..7, 64 for 2^63.
LLA_HD int bit_length(uint64_t x) {
#if defined(__CUDA_ARCH__)
    return x == 0 ? 0 : 64 - __clzll(static_cast<long long>(x));
#else
    return x == 0 ? 0 : 64 - __builtin_clzll(x);
#endif
}

// Levels 0..bit_length(n): what a token at position n reads from l, and what a
// state ready for target position n holds.
LLA_HD int64_t level_count(int64_t n) { return bit_length(static_cast<uint64_t>(n)) + 1; }

// lev(t, s) for s <= t: 0 when s == t, else bit_length(t XOR s).
LLA_HD int level_of(int64_t t, int64_t s) { return bit_length(static_cast<uint64_t>(t) ^ static_cast<uint64_t>(s)); }

// Level l of target t is nonempty iff l >= 1 and bit l-1 of t is set (false
// for l outside 1..64).
LLA_HD bool level_nonempty(uint64_t t, int l) { return l >= 1 && l <= 64 && ((t >> (l - 1)) & 1u) != 0; }

// First source position of level l >= 1 of target t; the level holds
// [level_begin, level_begin + 2^(l-1)) when it is nonempty.
LLA_HD int64_t level_begin(int64_t t, int l) { return static_cast<int64_t>((static_cast<uint64_t>(t) >> l) << l); }

// One past the last source of level l >= 1 of target t (when nonempty). It is
// also the position at which that block was completed: the boundary where it
// was merged into one level.
LLA_HD int64_t level_end(int64_t t, int l) { return level_begin(t, l) + (int64_t{1} << (l - 1)); }

// Level that token n joins when the position advances from n to n + 1.
LLA_HD int merge_level(int64_t n) { return level_of(n + 1, n); }

}  // namespace lla
