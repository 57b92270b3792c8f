// A token with g = -inf is a full reset (issue "Reliability", finding 5: it
// gave NaN in half the outputs and in the gradients). Nothing before the
// reset reaches a target at or after it, so the sequence is exactly two
// independent pieces: tokens [0, r) as a fresh call, and tokens [r, T) from
// an all-zero state at position r (their levels stay those of their absolute
// positions), where g_r no longer matters. The library's one call must equal
// that, outputs and gradients, with dg_r = 0; and both equal the O(T^2)
// materialized form with g_r = -1e4 (whose decays across r are exactly 0).
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "m2_api_harness.h"
#include "m2_random_problem.h"

namespace lla_test {
namespace {

using lla_reference::M2Problem;

struct Pieces {
    std::vector<double> o;
    M2Gradients grads;
};

// The two pieces of p cut at r (B = 1, every head reset at r), glued back.
Pieces independent_pieces(const M2Problem& p, int64_t r, const std::vector<double>& d_o, int32_t dtype) {
    Pieces out;
    out.o.assign(static_cast<size_t>(p.T * p.H * p.V), 0);
    out.grads = M2Gradients{std::vector<double>(p.q.size()), std::vector<double>(p.k.size()),
                            std::vector<double>(p.v.size()), std::vector<double>(p.g.size()),
                            std::vector<double>(p.l.size())};
    for (int piece = 0; piece < 2; ++piece) {
        const int64_t first = piece == 0 ? 0 : r, count = piece == 0 ? r : p.T - r;
        M2Problem part = token_slice(p, first, count);
        ApiState zero;
        if (piece == 1) {
            for (int64_t h = 0; h < p.H; ++h) part.g[static_cast<size_t>(h)] = 0.0;  // g_r drops out
            const int64_t Ls = levels_for(r);
            zero = make_state(std::vector<double>(static_cast<size_t>(p.H * Ls * p.K * p.V), 0.0), {r}, p.H, Ls, p.K,
                              p.V, state_dtype(dtype), false, Layout::Contiguous);
        }
        const ApiInputs in = make_inputs(part, dtype, Layout::Contiguous);
        const ApiState* init = piece == 1 ? &zero : nullptr;
        const std::vector<double> o = api_forward(part, in, dtype, Layout::Contiguous, 2, init);
        const M2Gradients g = api_backward(part, in, token_slice(d_o, p, first, count, p.H * p.V), dtype,
                                           Layout::Contiguous, 2, init);
        auto put = [&](const std::vector<double>& rows, int64_t width, std::vector<double>& all) {
            std::copy(rows.begin(), rows.end(), all.begin() + first * width);
        };
        put(o, p.H * p.V, out.o);
        put(g.dq, p.G * p.K, out.grads.dq);
        put(g.dk, p.G * p.K, out.grads.dk);
        put(g.dv, p.H * p.V, out.grads.dv);
        put(g.dg, p.H, out.grads.dg);
        put(g.dl, p.H * p.L, out.grads.dl);
    }
    for (int64_t h = 0; h < p.H; ++h) out.grads.dg[static_cast<size_t>(r * p.H + h)] = 0.0;  // exp(-inf + x)' = 0
    return out;
}

class FullReset : public ::testing::TestWithParam<int32_t> {};

TEST_P(FullReset, MinusInfinityInGCutsTheSequenceExactly) {
    const int32_t dtype = GetParam();
    for (int64_t r : {int64_t{1}, int64_t{37}, int64_t{64}, int64_t{100}, int64_t{149}}) {
        SCOPED_TRACE("reset at " + std::to_string(r));
        ProblemShape shape = shape_of(1, 150, 2, 1, 8, 4);
        shape.scale = 0.4;
        M2Problem p = random_problem(shape, static_cast<uint64_t>(r));
        const M2Problem stored = as_stored(p, make_inputs(p, dtype, Layout::Contiguous));
        std::mt19937_64 rng(3);
        const std::vector<double> d_o = uniform(static_cast<size_t>(p.T * p.H * p.V), -1, 1, rng);
        const Pieces expected = independent_pieces(stored, r, d_o, LLA_DTYPE_FLOAT64);

        M2Problem reset = stored;
        for (int64_t h = 0; h < p.H; ++h)
            reset.g[static_cast<size_t>(r * p.H + h)] = -std::numeric_limits<double>::infinity();
        const ApiInputs in = make_inputs(reset, dtype, Layout::Strided);
        const double tol = tolerance(dtype);
        expect_close(api_forward(reset, in, dtype, Layout::Strided, 2), expected.o, tol, "o");
        expect_gradients_close(api_backward(reset, in, d_o, dtype, Layout::Strided, 2), expected.grads, tol, "grads");

        // The O(T^2) materialized form (tests/native/reference) of the same
        // sequence with g_r = -1e4: every decay across r is exp(-1e4 + ...),
        // exactly 0 in float64, the -inf limit.
        M2Problem far = stored;
        for (int64_t h = 0; h < p.H; ++h) far.g[static_cast<size_t>(r * p.H + h)] = -1e4;
        expect_close(expected.o, lla_reference::forward(far, 2), tol, "pieces vs materialized o");
        expect_gradients_close(expected.grads, lla_reference::backward(far, d_o, 2), tol, "pieces vs materialized");

        // A finite log decay far below -1e4 is a reset too, with the same result.
        for (int64_t h = 0; h < p.H; ++h) reset.g[static_cast<size_t>(r * p.H + h)] = -1e300;
        if (dtype == LLA_DTYPE_FLOAT64)
            expect_close(api_forward(reset, make_inputs(reset, dtype, Layout::Contiguous), dtype, Layout::Contiguous, 2),
                         expected.o, tol, "o with g = -1e300");
    }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, FullReset, ::testing::Values(LLA_DTYPE_FLOAT64, LLA_DTYPE_FLOAT32),
                         [](const ::testing::TestParamInfo<int32_t>& info) { return dtype_name(info.param); });

}  // namespace
}  // namespace lla_test
