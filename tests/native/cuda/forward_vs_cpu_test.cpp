// The CUDA forward against the float64 CPU backend on random problems:
// batch 1 at T = 70000 (more chunks than any golden case, levels up to 17)
// and at T = 2^20 + 24 (one sequence of over a million tokens, 22 levels),
// groups G > 1, odd sizes, packed sequences (cu_seqlens, one of them empty),
// extra levels, and the exported final state.
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "cuda_test_support.h"

namespace lla::cudatest {
namespace {


using Shape = RandomShape;

const Shape kShapes[] = {
    {"b1_t70000", 1, 70000, 2, 1, 64, 64, 0},
    {"b1_t2pow20_long", 1, (int64_t(1) << 20) + 24, 1, 1, 16, 16, 0},  // the "at least 2^20 tokens"
    {"b2_t300_groups", 2, 300, 4, 2, 64, 32, 0},
    {"b3_t1000_k128", 3, 1000, 6, 3, 128, 64, 0},
    {"b1_t129_small", 1, 129, 1, 1, 16, 8, 0},
    {"b2_t200_odd_v", 2, 200, 3, 1, 32, 24, 2},
    {"b1_t64_k100_v40", 1, 64, 2, 2, 100, 40, 0},
};

class ForwardVsCpu : public ::testing::TestWithParam<std::tuple<Shape, Mode>> {};

TEST_P(ForwardVsCpu, OutputAndFinalState) {
    LLA_REQUIRE_GPU();
    const Shape& s = std::get<0>(GetParam());
    const Mode& mode = std::get<1>(GetParam());
    const M2Problem p = random_problem(s.B, s.T, s.H, s.G, s.K, s.V, 1000 + s.T, s.extra_levels);
    const M2Problem r = p.rounded(mode.dtype);
    const int64_t Ls = 64 - __builtin_clzll(static_cast<uint64_t>(s.T)) + 1;
    const ForwardResult ref = cpu_forward(r, nullptr, Ls);
    const ForwardResult got = cuda_forward(p, mode, nullptr, Ls, false);
    ASSERT_TRUE(all_finite(got.o));
    EXPECT_LE(relative_error(got.o, ref.o), mode.tolerance) << s.name << " " << mode.name;
    ASSERT_TRUE(all_finite(got.final_state.levels));
    EXPECT_LE(relative_error(got.final_state.levels, ref.final_state.levels), mode.tolerance) << "final state";
    for (int64_t pos : got.final_state.position) EXPECT_EQ(pos, s.T);
}


INSTANTIATE_TEST_SUITE_P(RandomShapes, ForwardVsCpu,
                         ::testing::Combine(::testing::ValuesIn(kShapes), ::testing::Values(kF32Exact, kBf16)),
                         shape_mode_name);

TEST(ForwardVsCpuPacked, CuSeqlensWithAnEmptySequence) {
    LLA_REQUIRE_GPU();
    M2Problem p = random_problem(1, 1200, 4, 2, 64, 32, 77);
    p.cu_seqlens = {0, 1, 64, 64, 65, 1000, 1200};
    for (const Mode& mode : {kF32Exact, kBf16}) {
        SCOPED_TRACE(mode.name);
        const M2Problem r = p.rounded(mode.dtype);
        const ForwardResult ref = cpu_forward(r, nullptr, 11);
        const ForwardResult got = cuda_forward(p, mode, nullptr, 11, true);
        ASSERT_TRUE(all_finite(got.o));
        EXPECT_LE(relative_error(got.o, ref.o), mode.tolerance);
        const HostState state = got.final_state.canonical();
        EXPECT_LE(relative_error(state.levels, ref.final_state.levels), mode.tolerance) << "final states";
        const std::vector<int64_t> expected_positions = {1, 63, 0, 1, 935, 200};
        EXPECT_EQ(got.final_state.position, expected_positions);
    }
}

TEST(ForwardVsCpuPacked, TensorFloat32ModeOnALongSequence) {
    LLA_REQUIRE_GPU();
    const M2Problem p = random_problem(1, 5000, 4, 1, 128, 64, 5);
    const ForwardResult ref = cpu_forward(p.rounded(LLA_DTYPE_FLOAT32));
    const ForwardResult got = cuda_forward(p, kF32Tf32);
    EXPECT_LE(relative_error(got.o, ref.o), kF32Tf32.tolerance);
}

// g = -inf is a full reset (docs/c-api.md, "Limits"): the CUDA forward agrees
// with the CPU backend, which cuts the sequence exactly there
// (tests/native/full_reset_test.cpp), inside a superchunk, on a chunk
// boundary and at a superchunk boundary.
TEST(ForwardVsCpuFullReset, MinusInfinityInG) {
    LLA_REQUIRE_GPU();
    M2Problem p = random_problem(2, 3000, 2, 1, 64, 32, 91);
    for (int64_t t : {int64_t{37}, int64_t{1024}, int64_t{1500}, int64_t{2047}})
        p.g[static_cast<size_t>(t * p.H + 1)] = -std::numeric_limits<double>::infinity();  // head 1 of row 0
    p.g[static_cast<size_t>((p.T + 512) * p.H)] = -1e300;                                  // head 0 of row 1
    for (const Mode& mode : {kF32Exact, kBf16}) {
        SCOPED_TRACE(mode.name);
        const M2Problem r = p.rounded(mode.dtype);
        const ForwardResult ref = cpu_forward(r, nullptr, 13);
        ASSERT_TRUE(all_finite(ref.o));
        const ForwardResult got = cuda_forward(p, mode, nullptr, 13, false);
        ASSERT_TRUE(all_finite(got.o));
        EXPECT_LE(relative_error(got.o, ref.o), mode.tolerance);
        ASSERT_TRUE(all_finite(got.final_state.levels));
        EXPECT_LE(relative_error(got.final_state.levels, ref.final_state.levels), mode.tolerance) << "final state";
    }
}

}  // namespace
}  // namespace lla::cudatest

