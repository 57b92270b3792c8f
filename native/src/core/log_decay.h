// Log decays below -10^4, -inf included, are full resets: no state crosses
// such a token. The chunked algorithms work with differences of cumulative
// sums of g, where -inf gives -inf - (-inf) = NaN and a huge finite value
// erases the precision of every later difference; so the backends use
// max(g, kFullResetLogDecay) instead. Any decay across it is then
// exp(-10^4 + the other log decays in between) = 0 exactly (float64
// underflows below -745), its gradient is 0 as the true one, and the
// cumulative sums of even thousands of resets keep ~1e-12 absolute precision.
// NaN stays NaN (it is not a reset: the caller's data is broken).
#pragma once

#include "core/host_device.h"

namespace lla {

constexpr double kFullResetLogDecay = -1.0e4;

template <class T>
LLA_HD T reset_clamped(T g) {
    return g < static_cast<T>(kFullResetLogDecay) ? static_cast<T>(kFullResetLogDecay) : g;
}

}  // namespace lla
