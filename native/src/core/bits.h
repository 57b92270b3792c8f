// Level arithmetic on positions with integer operations only: a floating-point
// log2 rounds exact powers of two down on some hardware and shifts levels.
#pragma once

#include <cstdint>

namespace lla {

// Number of significant bits of x: 0 for 0, 1 for 1, 3 for 4..7, 64 for 2^63.
inline int bit_length(uint64_t x) { return x == 0 ? 0 : 64 - __builtin_clzll(x); }

// Levels 0..bit_length(n): what a token at position n reads from l, and what a
// state ready for target position n holds.
inline int64_t level_count(int64_t n) { return bit_length(static_cast<uint64_t>(n)) + 1; }

}  // namespace lla
