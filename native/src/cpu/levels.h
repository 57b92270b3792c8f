// Level arithmetic of the Fenwick-tree partition (SPEC "Levels"), with
// integer operations only: a floating-point log2 rounds exact powers of two
// down on some hardware and silently moves tokens to the wrong level.
#pragma once

#include <cstdint>

#include "core/bits.h"

namespace lla::cpu {

using lla::bit_length;

// lev(t, s) for s <= t: 0 when s == t, else bit_length(t XOR s).
inline int level_of(int64_t t, int64_t s) {
    return bit_length(static_cast<uint64_t>(t) ^ static_cast<uint64_t>(s));
}

// Level l >= 1 of target t is nonempty iff bit l-1 of t is set.
inline bool level_nonempty(int64_t t, int l) { return ((static_cast<uint64_t>(t) >> (l - 1)) & 1u) != 0; }

// First source position of level l >= 1 of target t; the level holds
// [level_begin, level_begin + 2^(l-1)) when it is nonempty.
inline int64_t level_begin(int64_t t, int l) {
    return static_cast<int64_t>((static_cast<uint64_t>(t) >> l) << l);
}

// One past the last source of level l >= 1 of target t (when nonempty). It is
// also the position at which that block was completed: the boundary where it
// was merged into one level.
inline int64_t level_end(int64_t t, int l) { return level_begin(t, l) + (int64_t{1} << (l - 1)); }

// Level that token n joins when the position advances from n to n + 1.
inline int merge_level(int64_t n) { return level_of(n + 1, n); }

}  // namespace lla::cpu
