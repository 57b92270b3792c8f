// Central finite differences in float64 of loss = sum(d_o * o) through the
// public forward, against the gradients of the public backward: q, k, v, g
// (per token) and l, for a fresh call, packed sequences with groups, and a
// call continuing from a state at an unaligned position (gradient into q, g
// and l through the state's contribution).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "m2_api_harness.h"
#include "m2_random_problem.h"

namespace lla_test {
namespace {

using lla_reference::M2Problem;

struct FiniteDifferenceCase {
    std::string name;
    ProblemShape shape;
    int64_t start_position;  // > 0: continue from a random state at this position
};

void PrintTo(const FiniteDifferenceCase& c, std::ostream* os) { *os << c.name; }

double loss(const M2Problem& p, const std::vector<double>& d_o, const ApiState* initial) {
    const std::vector<double> o =
        api_forward(p, make_inputs(p, LLA_DTYPE_FLOAT64, Layout::Contiguous), LLA_DTYPE_FLOAT64, Layout::Contiguous, 2, initial);
    double sum = 0;
    for (size_t i = 0; i < o.size(); ++i) sum += d_o[i] * o[i];
    return sum;
}

// d loss / d x[i] by central differences, for every element of the input
// `member` of p.
std::vector<double> numeric_gradient(const M2Problem& p, std::vector<double> M2Problem::*member,
                                     const std::vector<double>& d_o, const ApiState* initial) {
    M2Problem x = p;
    return central_differences(x.*member, [&] { return loss(x, d_o, initial); });
}

class FiniteDifferences : public ::testing::TestWithParam<FiniteDifferenceCase> {};

TEST_P(FiniteDifferences, BackwardMatchesCentralDifferences) {
    const FiniteDifferenceCase& c = GetParam();
    ProblemShape shape = c.shape;
    const int64_t last = c.start_position + shape.T - 1;
    shape.extra_levels = levels_for(last) - levels_for(shape.T - 1) + 1;  // enough for the last position, plus one
    const M2Problem p = random_problem(shape, std::hash<std::string>{}(c.name));
    std::mt19937_64 rng(5);
    const std::vector<double> d_o = uniform(static_cast<size_t>(p.B * p.T * p.H * p.V), -1, 1, rng);

    ApiState initial;
    const ApiState* init = nullptr;
    if (c.start_position > 0) {
        const int64_t Ls = levels_for(c.start_position);
        const size_t count = static_cast<size_t>(lla_reference::sequence_count(p) * p.H * Ls * p.K * p.V);
        initial = make_state(uniform(count, -1, 1, rng),
                             std::vector<int64_t>(static_cast<size_t>(lla_reference::sequence_count(p)), c.start_position),
                             p.H, Ls, p.K, p.V, LLA_DTYPE_FLOAT64, true, Layout::Contiguous);
        init = &initial;
    }

    const M2Gradients analytic = api_backward(p, make_inputs(p, LLA_DTYPE_FLOAT64, Layout::Contiguous), d_o,
                                              LLA_DTYPE_FLOAT64, Layout::Contiguous, 2, init);
    const double tol = 1e-7;  // O(h^2) truncation and rounding of the differences
    expect_close(analytic.dq, numeric_gradient(p, &M2Problem::q, d_o, init), tol, c.name + " dq");
    expect_close(analytic.dk, numeric_gradient(p, &M2Problem::k, d_o, init), tol, c.name + " dk");
    expect_close(analytic.dv, numeric_gradient(p, &M2Problem::v, d_o, init), tol, c.name + " dv");
    expect_close(analytic.dg, numeric_gradient(p, &M2Problem::g, d_o, init), tol, c.name + " dg");
    expect_close(analytic.dl, numeric_gradient(p, &M2Problem::l, d_o, init), tol, c.name + " dl");
}

ProblemShape small(int64_t B, int64_t T, int64_t H, int64_t G, int64_t K, int64_t V, double scale,
                   std::vector<int64_t> cu_seqlens = {}) {
    ProblemShape s = shape_of(B, T, H, G, K, V);
    s.scale = scale;
    s.cu_seqlens = std::move(cu_seqlens);
    return s;
}

INSTANTIATE_TEST_SUITE_P(
    Float64, FiniteDifferences,
    ::testing::Values(FiniteDifferenceCase{"fresh_t70", small(1, 70, 2, 1, 3, 2, 0.8), 0},
                      FiniteDifferenceCase{"packed_groups", small(1, 75, 4, 2, 2, 2, 1.0, {0, 9, 75}), 0},
                      FiniteDifferenceCase{"from_state_at_45", small(2, 40, 2, 1, 3, 2, 1.0), 45},
                      FiniteDifferenceCase{"from_state_at_128", small(1, 20, 1, 1, 2, 3, 0.5), 128}),
    [](const ::testing::TestParamInfo<FiniteDifferenceCase>& info) { return info.param.name; });

}  // namespace
}  // namespace lla_test
