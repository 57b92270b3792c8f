// Every golden M2 case through the public API with CUDA tensors, at each
// tolerance of docs/numerics.md: float32 exact (1e-5) and TF32 (3e-3)
// against the golden float64 output; bfloat16 and float16 (1e-2) against the
// float64 CPU result on the same rounded inputs. Cases with a state_position also export the
// state after n tokens and continue from it. The backward's gradients too.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "cuda_test_support.h"
#include "golden_case.h"

namespace lla::cudatest {
namespace {

// The build's tests/data/golden, or $LLA_GOLDEN_DIR (binaries run from another checkout).
std::string golden_dir() {
    const char* env = std::getenv("LLA_GOLDEN_DIR");
    return env && *env ? env : LLA_GOLDEN_DIR;
}

std::vector<std::string> m2_case_dirs() {
    std::vector<std::string> dirs;
    if (!std::filesystem::is_directory(golden_dir())) return dirs;
    for (const std::string& d : caseio::list_case_dirs(golden_dir()))
        if (std::filesystem::path(d).filename().string().rfind("m2_", 0) == 0) dirs.push_back(d);
    return dirs;
}

M2Problem from_case(const caseio::GoldenCase& c) {
    const caseio::Array& q = c.at("q");
    const caseio::Array& v = c.at("v");
    const caseio::Array& l = c.at("l");
    M2Problem p;
    p.B = q.shape[0];
    p.T = q.shape[1];
    p.G = q.shape[2];
    p.K = q.shape[3];
    p.H = v.shape[2];
    p.V = v.shape[3];
    p.L = l.shape[3];
    p.scale = c.scale;
    p.cu_seqlens = c.cu_seqlens;
    p.q = q.values;
    p.k = c.at("k").values;
    p.v = v.values;
    p.g = c.at("g").values;
    p.l = l.values;
    return p;
}

// o[:, begin:begin+count] of a [B, T, H, V] output.
int bit_length(uint64_t x) { return x == 0 ? 0 : 64 - __builtin_clzll(x); }

struct GoldenParam {
    std::string dir;
    Mode mode;
};

void PrintTo(const GoldenParam& p, std::ostream* os) { *os << p.dir << " " << p.mode.name; }

class GoldenCuda : public ::testing::TestWithParam<GoldenParam> {};

TEST(GoldenCudaCases, DirectoryHoldsM2Cases) {
    EXPECT_GE(m2_case_dirs().size(), 10u) << "golden M2 cases expected in " << golden_dir();
}

TEST_P(GoldenCuda, ForwardAndStateWithinSpecTolerance) {
    LLA_REQUIRE_GPU();
    const GoldenParam& param = GetParam();
    const Mode& mode = param.mode;
    const caseio::GoldenCase c = caseio::load_case(param.dir);
    const M2Problem exact = from_case(c);
    const M2Problem rounded = exact.rounded(mode.dtype);
    const bool fp32 = mode.dtype == LLA_DTYPE_FLOAT32;
    // float32 modes: the golden output; 16-bit: float64 on the rounded inputs.
    const std::vector<double> ref = fp32 ? c.at("o").values : cpu_forward(rounded).o;

    const ForwardResult got = cuda_forward(exact, mode);
    ASSERT_TRUE(all_finite(got.o)) << "o has NaN/Inf (unwritten or overflowed)";
    EXPECT_LE(relative_error(got.o, ref), mode.tolerance) << c.name << " " << mode.name;

    if (c.state_position < 0) return;
    const int64_t n = c.state_position;
    const int64_t Ls = bit_length(static_cast<uint64_t>(exact.T)) + 1;
    for (const bool decode_form : {false, true}) {
        SCOPED_TRACE(decode_form ? "decode-form state" : "canonical state");
        const ForwardResult prefix = cuda_forward(exact.tokens(0, n), mode, nullptr, Ls, decode_form);
        ASSERT_TRUE(all_finite(prefix.final_state.levels)) << "state levels not fully written";
        if (decode_form) {
            ASSERT_TRUE(all_finite(prefix.final_state.log_decay)) << "log_decay not fully written";
        }
        for (int64_t pos : prefix.final_state.position) EXPECT_EQ(pos, n);
        // Golden state: [B, H, bit_length(n) + 1, K, V]; the extra levels must be zero.
        const caseio::Array& gold = c.at("state");
        const HostState state = prefix.final_state.canonical();
        const int64_t gl = gold.shape[2], kv = exact.K * exact.V;
        std::vector<double> have, want;
        double extra = 0;
        for (int64_t bh = 0; bh < exact.B * exact.H; ++bh)
            for (int64_t lv = 0; lv < Ls; ++lv)
                for (int64_t i = 0; i < kv; ++i) {
                    const double x = state.levels[(bh * Ls + lv) * kv + i];
                    if (lv < gl) {
                        have.push_back(x);
                        want.push_back(gold.values[(bh * gl + lv) * kv + i]);
                    } else {
                        extra += std::abs(x);
                    }
                }
        const std::vector<double> state_ref =
            fp32 ? want : [&] {
                const HostState s = cpu_forward(rounded.tokens(0, n), nullptr, gl).final_state;
                return s.levels;
            }();
        EXPECT_LE(relative_error(have, state_ref), mode.tolerance) << "exported state";
        EXPECT_EQ(extra, 0.0) << "levels beyond bit_length(n) must be zero";

        const ForwardResult rest = cuda_forward(exact.tokens(n, exact.T - n), mode, &prefix.final_state);
        ASSERT_TRUE(all_finite(rest.o));
        EXPECT_LE(relative_error(rest.o, token_slice(ref, exact, n, exact.T - n)), mode.tolerance)
            << "continued from the exported state";
    }
}

// Every gradient of the case: float32 modes against the golden float64
// gradients, 16-bit modes against the float64 CPU backward on the same
// rounded inputs and d_o.
TEST_P(GoldenCuda, GradientsWithinSpecTolerance) {
    LLA_REQUIRE_GPU();
    const GoldenParam& param = GetParam();
    const Mode& mode = param.mode;
    const caseio::GoldenCase c = caseio::load_case(param.dir);
    const M2Problem exact = from_case(c);
    BackwardArgs args;
    args.d_o = c.at("do").values;
    BackwardResult ref;
    if (mode.dtype == LLA_DTYPE_FLOAT32) {
        ref.dq = c.at("dq").values;
        ref.dk = c.at("dk").values;
        ref.dv = c.at("dv").values;
        ref.dg = c.at("dg").values;
        ref.dl = c.at("dl").values;
    } else {
        BackwardArgs rounded = args;
        rounded.d_o = round_all(mode.dtype, args.d_o);
        ref = cpu_backward(exact.rounded(mode.dtype), rounded);
    }
    const BackwardResult got = cuda_backward(exact, mode, args);
    std::string report;
    EXPECT_TRUE(gradients_within(got, ref, mode.tolerance, mode.tolerance, &report))
        << c.name << " " << mode.name << ": " << report;
}

std::vector<GoldenParam> golden_params() {
    std::vector<GoldenParam> params;
    for (const std::string& d : m2_case_dirs())
        for (const Mode& m : forward_modes()) params.push_back({d, m});
    return params;
}

std::string param_name(const ::testing::TestParamInfo<GoldenParam>& info) {
    std::string s = std::filesystem::path(info.param.dir).filename().string() + "_" + info.param.mode.name;
    for (char& ch : s)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return s;
}

INSTANTIATE_TEST_SUITE_P(AllM2Cases, GoldenCuda, ::testing::ValuesIn(golden_params()), param_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(GoldenCuda);

}  // namespace
}  // namespace lla::cudatest
