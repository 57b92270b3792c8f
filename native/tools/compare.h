// Error measures of docs/numerics.md, "Error measure": relative Frobenius error, with NaN or
// Inf anywhere counting as a failure, and the level-aware state comparison.
#pragma once

#include "npy.h"

namespace lla::caseio {

// ||got - ref|| / ||ref|| (Frobenius); +inf when got holds NaN or Inf or the
// shapes differ; ||got|| when ref is all zero.
double relative_error(const Array& got, const Array& ref);

// A state [N, H, Ls, K, V] against a golden one with Lg <= Ls levels: the
// relative error over the golden's levels, and the largest |x| over levels
// Lg.. (those must be zero: docs/golden-format.md, "The state"). relative is
// +inf when Ls < Lg or the other dims differ.
struct StateError {
    double relative;
    double beyond_max;
};
StateError state_error(const Array& got, const Array& ref);

// Entries [begin, begin + count) of dimension `dim`.
Array slice(const Array& a, int dim, int64_t begin, int64_t count);
// Largest |x| (NaN when there is a NaN; 0 for an empty array).
double max_abs(const Array& a);

}  // namespace lla::caseio
