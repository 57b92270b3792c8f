// The CUDA decode step and state conversion against the float64 CPU backend:
// sequences at different positions in one batch (0, odd, even, all levels
// full, deep positions), both state forms, float32 and float64 states, and a
// strided state that takes the non-vectorised path.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "cuda_test_support.h"

namespace lla::cudatest {
namespace {

int bit_length(uint64_t x) { return x == 0 ? 0 : 64 - __builtin_clzll(x); }

// A random valid state at the given positions: random nonempty levels (and
// log decays in the decode form), zero empty levels.
HostState random_state(const std::vector<int64_t>& positions, int64_t H, int64_t Ls, int64_t K, int64_t V,
                       bool decode_form, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(-1, 1), d(-2, 0);
    HostState s = HostState::zeros(int64_t(positions.size()), H, Ls, K, V, false);
    s.position = positions;
    for (double& x : s.levels) x = u(rng);
    s = s.canonical();  // zero the empty levels
    if (decode_form) {
        s.log_decay.assign(s.N * H * Ls, 0.0);
        for (double& x : s.log_decay) x = d(rng);
    }
    return s;
}

struct DecodeCase {
    const char* name;
    bool decode_form;
    bool f64;
};

void PrintTo(const DecodeCase& c, std::ostream* os) { *os << c.name; }

class DecodeStep : public ::testing::TestWithParam<DecodeCase> {};

TEST_P(DecodeStep, MatchesCpuOnMixedPositions) {
    LLA_REQUIRE_GPU();
    const DecodeCase& c = GetParam();
    const std::vector<int64_t> positions = {0, 1, 6, 7, 64, 255, 1000, 65535, (int64_t(1) << 20) - 1};
    const int64_t H = 4, G = 2, K = 64, V = 32;
    const int64_t Ls = bit_length(uint64_t(1) << 20) + 1, L = Ls;
    const Mode mode = c.f64 ? kF64 : kF32Exact;
    HostState gpu_state = random_state(positions, H, Ls, K, V, c.decode_form, 5);
    if (!c.f64) gpu_state.levels = round_all(LLA_DTYPE_FLOAT32, gpu_state.levels);
    if (!c.f64) gpu_state.log_decay = round_all(LLA_DTYPE_FLOAT32, gpu_state.log_decay);
    HostState cpu_state = gpu_state;
    for (int step = 0; step < 3; ++step) {
        SCOPED_TRACE(step);
        M2Problem t = random_tokens(int64_t(positions.size()), H, G, K, V, L, 100 + step);
        if (!c.f64) {
            for (auto* x : {&t.q, &t.k, &t.v, &t.l, &t.g}) *x = round_all(LLA_DTYPE_FLOAT32, *x);
        }
        const std::vector<double> got = cuda_decode_step(t, mode, &gpu_state);
        const std::vector<double> want = cpu_decode_step(t, &cpu_state);
        ASSERT_TRUE(all_finite(got)) << "o not fully written";
        EXPECT_LE(relative_error(got, want), mode.tolerance) << "o";
        EXPECT_EQ(gpu_state.position, cpu_state.position);
        EXPECT_LE(relative_error(gpu_state.canonical().levels, cpu_state.canonical().levels), mode.tolerance)
            << "state after the step";
    }
}

INSTANTIATE_TEST_SUITE_P(Forms, DecodeStep,
                         ::testing::Values(DecodeCase{"decode_f32", true, false}, DecodeCase{"canonical_f32", false, false},
                                           DecodeCase{"decode_f64", true, true}, DecodeCase{"canonical_f64", false, true}),
                         [](const ::testing::TestParamInfo<DecodeCase>& i) { return std::string(i.param.name); });

// The decode form rewrites only the merged level: every other level's memory
// is left as it was (only log_decay changes).
TEST(DecodeStepWrites, DecodeFormTouchesOnlyTheMergedLevel) {
    LLA_REQUIRE_GPU();
    const std::vector<int64_t> positions = {11, 65535};  // merge into levels 3 and 17
    const int64_t H = 2, K = 32, V = 16, Ls = 18;
    HostState before = random_state(positions, H, Ls, K, V, true, 9);
    before.levels = round_all(LLA_DTYPE_FLOAT32, before.levels);
    HostState after = before;
    cuda_decode_step(random_tokens(2, H, 1, K, V, Ls, 3), kF32Exact, &after);
    const int merged[] = {3, 17};
    for (int64_t n = 0; n < 2; ++n)
        for (int64_t h = 0; h < H; ++h)
            for (int64_t l = 0; l < Ls; ++l) {
                if (l == merged[n]) continue;
                const int64_t base = ((n * H + h) * Ls + l) * K * V;
                for (int64_t i = 0; i < K * V; ++i)
                    ASSERT_EQ(after.levels[base + i], before.levels[base + i]) << "n " << n << " level " << l;
            }
}

// Levels with a padded V stride: not 16-byte vectorisable.
TEST(DecodeStepStrided, PaddedStateMatchesDense) {
    LLA_REQUIRE_GPU();
    const std::vector<int64_t> positions = {5, 300};
    const int64_t N = 2, H = 3, G = 1, K = 16, V = 12, Ls = 11, L = 10;
    const HostState start = random_state(positions, H, Ls, K, V, true, 21);
    const M2Problem t = random_tokens(N, H, G, K, V, L, 22);

    HostState dense = start;
    const std::vector<double> o_dense = cuda_decode_step(t, kF32Exact, &dense);

    // Same step with levels stored at stride V + 3 along K.
    const int64_t sk = V + 3;
    DeviceArray levels(LLA_DTYPE_FLOAT32, {N, H, Ls, K, V}, {H * Ls * K * sk, Ls * K * sk, K * sk, sk, 1});
    levels.upload(start.levels);
    DeviceArray log_decay(LLA_DTYPE_FLOAT32, {N, H, Ls});
    log_decay.upload(start.log_decay);
    DeviceArray position(LLA_DTYPE_INT64, {N});
    position.upload({5, 300});
    const DeviceInputs device(t, LLA_DTYPE_FLOAT32, true);
    DeviceArray o(LLA_DTYPE_FLOAT32, {N, H, V});
    lla_state st{};
    st.levels = levels.tensor();
    st.log_decay = log_decay.tensor();
    st.position = position.tensor();
    lla_config cfg = lla_config_default();
    cfg.scale = t.scale;
    const lla_tensor out = o.tensor();
    expect_ok(lla_decode_step(&cfg, &device.inputs(), &st, &out, nullptr), "lla_decode_step (strided state)");
    EXPECT_LE(relative_error(o.download(), o_dense), 1e-6);  // only the summation order differs
    EXPECT_EQ(levels.download(), dense.levels);
    EXPECT_EQ(log_decay.download(), dense.log_decay);
}

TEST(StateConvert, RoundTripAndDecodeToCanonical) {
    LLA_REQUIRE_GPU();
    const std::vector<int64_t> positions = {0, 13, 1024, 4095};
    const int64_t H = 2, K = 32, V = 16, Ls = 14;
    for (const bool f64 : {false, true}) {
        SCOPED_TRACE(f64 ? "f64" : "f32");
        const int32_t dt = f64 ? LLA_DTYPE_FLOAT64 : LLA_DTYPE_FLOAT32;
        HostState decode = random_state(positions, H, Ls, K, V, true, 31);
        decode.levels = round_all(dt, decode.levels);
        decode.log_decay = round_all(dt, decode.log_decay);
        const HostState want = decode.canonical();

        DeviceState src(decode, f64);
        DeviceState canonical(HostState::zeros(4, H, Ls, K, V, false), f64);
        DeviceState back(HostState::zeros(4, H, Ls, K, V, true), f64);
        canonical.poison();
        back.poison();
        lla_config cfg = lla_config_default();
        const lla_state s = src.state(), c = canonical.state(), b = back.state();
        expect_ok(lla_state_convert(&cfg, &s, &c, nullptr), "lla_state_convert (decode -> canonical)");
        expect_ok(lla_state_convert(&cfg, &c, &b, nullptr), "lla_state_convert (canonical -> decode)");
        const HostState got = canonical.download();
        ASSERT_TRUE(all_finite(got.levels));
        EXPECT_LE(relative_error(got.levels, want.levels), f64 ? 1e-15 : 1e-7);
        EXPECT_EQ(got.position, positions);
        const HostState round_trip = back.download();
        ASSERT_TRUE(all_finite(round_trip.log_decay));
        EXPECT_EQ(round_trip.canonical().levels, got.levels) << "canonical -> decode keeps the values";
    }
}

}  // namespace
}  // namespace lla::cudatest
