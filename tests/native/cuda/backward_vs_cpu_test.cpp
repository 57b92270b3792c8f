// The CUDA backward against the float64 CPU backward on random problems
// (dg within dg_tolerance, every other gradient within the tolerance of
// docs/numerics.md):
// batch 1 at T = 70000, groups G in {1, 2, H}, odd sizes, extra levels,
// packed sequences (cu_seqlens, one of them empty), an initial state at
// unaligned positions with d_final_state and d_initial_state, and one
// sequence of 2^20 + 24 tokens.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cuda_test_support.h"

namespace lla::cudatest {
namespace {


using Shape = RandomShape;

const Shape kShapes[] = {
    {"b1_t70000", 1, 70000, 2, 1, 64, 64, 0},
    {"b2_t300_groups", 2, 300, 4, 2, 64, 32, 0},
    {"b3_t1000_k128", 3, 1000, 6, 3, 128, 64, 0},
    {"b1_t129_small", 1, 129, 1, 1, 16, 8, 0},
    {"b2_t200_odd_v", 2, 200, 3, 1, 32, 24, 2},
    {"b1_t64_k100_v40_g_eq_h", 1, 64, 2, 2, 100, 40, 0},
    {"b1_t700_v136_g_eq_h", 1, 700, 3, 3, 64, 136, 0},
};

class BackwardVsCpu : public ::testing::TestWithParam<std::tuple<Shape, Mode>> {};

TEST_P(BackwardVsCpu, AllGradients) {
    LLA_REQUIRE_GPU();
    const Shape& s = std::get<0>(GetParam());
    const Mode& mode = std::get<1>(GetParam());
    const M2Problem p = random_problem(s.B, s.T, s.H, s.G, s.K, s.V, 2000 + s.T, s.extra_levels);
    BackwardArgs args;
    args.d_o = random_values(static_cast<size_t>(s.B * s.T * s.H * s.V), 3000 + s.T);
    BackwardArgs rounded = args;
    rounded.d_o = round_all(mode.dtype, args.d_o);
    const BackwardResult ref = cpu_backward(p.rounded(mode.dtype), rounded);
    const BackwardResult got = cuda_backward(p, mode, args);
    std::string report;
    EXPECT_TRUE(gradients_within(got, ref, mode.tolerance, dg_tolerance(mode.tolerance, s.T), &report))
        << s.name << " " << mode.name << ": " << report;
}


INSTANTIATE_TEST_SUITE_P(RandomShapes, BackwardVsCpu, ::testing::Combine(::testing::ValuesIn(kShapes),
                                                                         ::testing::ValuesIn(forward_modes())),
                         shape_mode_name);

TEST(BackwardVsCpuPacked, CuSeqlensWithAnEmptySequence) {
    LLA_REQUIRE_GPU();
    M2Problem p = random_problem(1, 1200, 4, 2, 64, 32, 78);
    p.cu_seqlens = {0, 1, 64, 64, 65, 1000, 1200};
    BackwardArgs args;
    args.d_o = random_values(static_cast<size_t>(p.T * p.H * p.V), 79);
    for (const Mode& mode : {kF32Exact, kBf16}) {
        SCOPED_TRACE(mode.name);
        BackwardArgs rounded = args;
        rounded.d_o = round_all(mode.dtype, args.d_o);
        const BackwardResult ref = cpu_backward(p.rounded(mode.dtype), rounded);
        const BackwardResult got = cuda_backward(p, mode, args);
        std::string report;
        EXPECT_TRUE(gradients_within(got, ref, mode.tolerance, dg_tolerance(mode.tolerance, 1000), &report)) << report;
    }
}

// A random state ready for position n of every sequence (canonical, or in
// the decode form), with Ls levels.
HostState random_state(int64_t N, int64_t H, int64_t Ls, int64_t K, int64_t V, const std::vector<int64_t>& pos,
                       bool decode_form, uint64_t seed) {
    HostState st = HostState::zeros(N, H, Ls, K, V, decode_form);
    st.levels = random_values(st.levels.size(), seed);
    for (double& x : st.levels) x *= 4.0;
    if (decode_form)
        for (double& x : st.log_decay) x = -0.5;
    st.position = pos;
    return st;
}

// The state gradients: an initial state at unaligned positions (one inside
// the first chunk, one past several chunks), d_final_state in, and
// d_initial_state out, for both initial-state forms.
TEST(BackwardVsCpuState, InitialStateAndBothStateGradients) {
    LLA_REQUIRE_GPU();
    const int64_t B = 3, T = 900, H = 4, G = 2, K = 64, V = 32;
    const M2Problem p = random_problem(B, T, H, G, K, V, 501, 7);  // l levels for positions up to 70901
    const std::vector<int64_t> pos = {37, 5000, 70001};
    const int64_t Ls = 18;  // bit_length(70001 + 900) + 1
    for (const bool decode_form : {false, true}) {
        SCOPED_TRACE(decode_form ? "decode-form initial state" : "canonical initial state");
        const HostState init = random_state(B, H, Ls, K, V, pos, decode_form, 502);
        BackwardArgs args;
        args.d_o = random_values(static_cast<size_t>(B * T * H * V), 503);
        args.initial = &init;
        args.final_levels = Ls;
        args.d_final = random_values(static_cast<size_t>(B * H * Ls * K * V), 504);
        args.want_d_initial = true;
        for (const Mode& mode : {kF32Exact, kBf16}) {
            SCOPED_TRACE(mode.name);
            BackwardArgs rounded = args;
            rounded.d_o = round_all(mode.dtype, args.d_o);
            rounded.d_final = round_all(LLA_DTYPE_FLOAT32, args.d_final);
            HostState init32 = init;
            init32.levels = round_all(LLA_DTYPE_FLOAT32, init.levels);
            rounded.initial = &init32;
            const BackwardResult ref = cpu_backward(p.rounded(mode.dtype), rounded);
            const BackwardResult got = cuda_backward(p, mode, args);
            std::string report;
            EXPECT_TRUE(gradients_within(got, ref, mode.tolerance, dg_tolerance(mode.tolerance, T), &report)) << report;
        }
    }
}

// One sequence of over a million tokens (the "at least 2^20").
TEST(BackwardVsCpuLong, OneSequenceOf2Pow20Tokens) {
    LLA_REQUIRE_GPU();
    const M2Problem p = random_problem(1, (int64_t(1) << 20) + 24, 1, 1, 16, 16, 505);
    BackwardArgs args;
    args.d_o = random_values(static_cast<size_t>(p.T * p.V), 506);
    const BackwardResult ref = cpu_backward(p.rounded(LLA_DTYPE_FLOAT32), args);
    const BackwardResult got = cuda_backward(p, kF32Exact, args);
    std::string report;
    EXPECT_TRUE(gradients_within(got, ref, kF32Exact.tolerance, dg_tolerance(kF32Exact.tolerance, p.T), &report))
        << report;
}

}  // namespace
}  // namespace lla::cudatest
