// The chunked CPU backend (through the public C API) against the O(T^2)
// materialized float64 reference, on random shapes: G > 1, T not a multiple
// of the chunk, packed sequences, scale, extra levels, strided layouts,
// every input dtype; forward output and every gradient.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "m2_api_harness.h"
#include "m2_random_problem.h"

namespace lla_test {
namespace {

struct Case {
    std::string name;
    ProblemShape shape;
    int32_t dtype;
    Layout layout;
    int threads;
};

ProblemShape with(ProblemShape s, double scale, int64_t extra_levels, double max_decay = 0.3,
                  std::vector<int64_t> cu_seqlens = {}) {
    s.scale = scale;
    s.extra_levels = extra_levels;
    s.max_decay = max_decay;
    s.cu_seqlens = std::move(cu_seqlens);
    return s;
}

std::vector<Case> cases() {
    const int32_t f64 = LLA_DTYPE_FLOAT64, f32 = LLA_DTYPE_FLOAT32, bf16 = LLA_DTYPE_BFLOAT16, f16 = LLA_DTYPE_FLOAT16;
    const Layout dense = Layout::Contiguous, strided = Layout::Strided;
    return {
        {"t1", shape_of(1, 1, 1, 1, 4, 4), f64, dense, 1},
        {"t7_b2_strided", shape_of(2, 7, 2, 1, 8, 4), f64, strided, 2},
        {"t63_h3_k5_v3", shape_of(1, 63, 3, 1, 5, 3), f64, dense, 2},
        {"t64_f32", shape_of(1, 64, 2, 1, 16, 16), f32, dense, 2},
        {"t65_groups2", shape_of(1, 65, 4, 2, 16, 8), f64, dense, 2},
        {"t129_b3_one_thread", shape_of(3, 129, 2, 1, 8, 8), f64, dense, 1},
        {"varlen_f64", with(shape_of(1, 200, 2, 1, 16, 8), 1.0, 0, 0.3, {0, 5, 70, 200}), f64, dense, 2},
        {"varlen_f32_strided", with(shape_of(1, 200, 2, 1, 16, 8), 1.0, 0, 0.3, {0, 5, 70, 70, 131, 200}), f32, strided, 3},
        {"t300_scale_extra_levels", with(shape_of(1, 300, 2, 2, 12, 10), 0.125, 3), f64, strided, 2},
        {"t1000_many_boundaries", shape_of(1, 1000, 2, 1, 8, 8), f64, dense, 3},
        {"t1000_f32", shape_of(1, 1000, 1, 1, 32, 16), f32, dense, 2},
        {"strong_decay_f64", with(shape_of(1, 200, 2, 1, 16, 16), 1.0, 0, 5.0), f64, dense, 2},
        {"strong_decay_f32", with(shape_of(1, 200, 2, 1, 16, 16), 1.0, 0, 5.0), f32, dense, 2},
        {"k1_v1", shape_of(1, 100, 2, 2, 1, 1), f64, dense, 2},
        {"k64_v64_f32", shape_of(1, 260, 2, 1, 64, 64), f32, dense, 2},
        {"bf16", shape_of(1, 130, 2, 1, 16, 16), bf16, dense, 2},
        {"f16_strided", with(shape_of(2, 70, 2, 2, 8, 8), 0.5, 1), f16, strided, 2},
    };
}

class ChunkedVsMaterialized : public ::testing::TestWithParam<Case> {};

TEST_P(ChunkedVsMaterialized, ForwardAndGradientsMatchReference) {
    const Case& c = GetParam();
    const M2Problem drawn = random_problem(c.shape, std::hash<std::string>{}(c.name));
    const ApiInputs inputs = make_inputs(drawn, c.dtype, c.layout);
    const M2Problem p = as_stored(drawn, inputs);  // the reference sees the rounded inputs
    const double tol = tolerance(c.dtype);

    const std::vector<double> o = api_forward(p, inputs, c.dtype, c.layout, c.threads);
    expect_close(o, lla_reference::forward(p), tol, c.name + " o");

    std::mt19937_64 rng(7);
    HostTensor rounded_do = make_tensor(uniform(o.size(), -1, 1, rng), {p.B, p.T, p.H, p.V}, c.dtype, Layout::Contiguous);
    const std::vector<double> d_o = rounded_do.values();
    const M2Gradients grads = api_backward(p, inputs, d_o, c.dtype, c.layout, c.threads);
    expect_gradients_close(grads, lla_reference::backward(p, d_o), tol, c.name);

    // Levels no position reaches get exactly zero gradient.
    const int64_t used = levels_for(p.T - 1);
    for (size_t i = 0; i < grads.dl.size(); ++i) {
        if (static_cast<int64_t>(i % static_cast<size_t>(p.L)) < used) continue;
        ASSERT_EQ(grads.dl[i], 0.0) << "dl index " << i;
    }
}

INSTANTIATE_TEST_SUITE_P(RandomShapes, ChunkedVsMaterialized, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

}  // namespace
}  // namespace lla_test
