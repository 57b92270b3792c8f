// The continuation contract (docs/state-layout.md) on CUDA: prefill n tokens
// and export the state (canonical or decode form), then continue with the
// remaining tokens chunked (one forward from the state) or one decode step at
// a time followed by a chunked forward; the outputs match one forward over
// all tokens.
#include <gtest/gtest.h>

#include <vector>

#include "cuda_test_support.h"

namespace lla::cudatest {
namespace {

class Continuation : public ::testing::TestWithParam<std::tuple<int64_t, bool>> {};

TEST_P(Continuation, PrefillThenChunkedAndDecodeSteps) {
    LLA_REQUIRE_GPU();
    const int64_t n = std::get<0>(GetParam());
    const bool decode_form = std::get<1>(GetParam());
    const int64_t T = 400, steps = 24;
    const M2Problem p = random_problem(2, T, 4, 2, 64, 32, 4242);
    const M2Problem r = p.rounded(LLA_DTYPE_FLOAT32);
    const int64_t Ls = 64 - __builtin_clzll(static_cast<uint64_t>(T)) + 1;
    const ForwardResult full = cpu_forward(r);

    // Prefill, exported state against the CPU's.
    const ForwardResult prefix = cuda_forward(p.tokens(0, n), kF32Exact, nullptr, Ls, decode_form);
    ASSERT_TRUE(all_finite(prefix.o));
    EXPECT_LE(relative_error(prefix.o, token_slice(full.o, p, 0, n)), kF32Exact.tolerance) << "prefix";
    const ForwardResult cpu_prefix = cpu_forward(r.tokens(0, n), nullptr, Ls);
    EXPECT_LE(relative_error(prefix.final_state.canonical().levels, cpu_prefix.final_state.levels),
              kF32Exact.tolerance)
        << "state after " << n << " tokens";

    // Chunked continuation.
    const ForwardResult rest = cuda_forward(p.tokens(n, T - n), kF32Exact, &prefix.final_state);
    EXPECT_LE(relative_error(rest.o, token_slice(full.o, p, n, T - n)), kF32Exact.tolerance) << "chunked rest";

    // Decode steps, then a chunked forward from the stepped state.
    HostState state = prefix.final_state;
    std::vector<double> stepped, expected;
    for (int64_t t = n; t < n + steps; ++t) {
        const std::vector<double> o = cuda_decode_step(p.tokens(t, 1), kF32Exact, &state);
        stepped.insert(stepped.end(), o.begin(), o.end());
        const std::vector<double> want = token_slice(full.o, p, t, 1);
        expected.insert(expected.end(), want.begin(), want.end());
    }
    ASSERT_TRUE(all_finite(stepped));
    EXPECT_LE(relative_error(stepped, expected), kF32Exact.tolerance) << "decode steps";
    for (int64_t pos : state.position) EXPECT_EQ(pos, n + steps);
    const ForwardResult after = cuda_forward(p.tokens(n + steps, T - n - steps), kF32Exact, &state);
    EXPECT_LE(relative_error(after.o, token_slice(full.o, p, n + steps, T - n - steps)), kF32Exact.tolerance)
        << "chunked after decode steps";
}

INSTANTIATE_TEST_SUITE_P(SplitPoints, Continuation,
                         ::testing::Combine(::testing::Values<int64_t>(1, 63, 64, 100, 255, 257),
                                            ::testing::Bool()));

TEST(ContinuationBf16, DecodeStepsFromAPrefillAtBfloat16) {
    LLA_REQUIRE_GPU();
    const int64_t T = 300, n = 200;
    const M2Problem p = random_problem(3, T, 4, 1, 128, 64, 99);
    const M2Problem r = p.rounded(LLA_DTYPE_BFLOAT16);
    const ForwardResult full = cpu_forward(r);
    ForwardResult prefix = cuda_forward(p.tokens(0, n), kBf16, nullptr, 10, true);
    std::vector<double> stepped, expected;
    for (int64_t t = n; t < T; ++t) {
        const std::vector<double> o = cuda_decode_step(p.tokens(t, 1), kBf16, &prefix.final_state);
        stepped.insert(stepped.end(), o.begin(), o.end());
        const std::vector<double> want = token_slice(full.o, p, t, 1);
        expected.insert(expected.end(), want.begin(), want.end());
    }
    EXPECT_LE(relative_error(stepped, expected), kBf16.tolerance);
}

}  // namespace
}  // namespace lla::cudatest
