// The continuation contract (docs/state-layout.md, "The continuation
// contract"): for splits T = n + r, at chunk-aligned and unaligned n, running
// n tokens, exporting the state (canonical or decode form) and continuing with
// r tokens, chunked or one decode step at a time, equals one call over T; and
// the backward of the continued call equals the materialized gradient of the
// whole sequence restricted to the tail tokens (loss on the tail only).
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <ostream>
#include <string>
#include <vector>

#include "m2_api_harness.h"
#include "m2_random_problem.h"

namespace lla_test {
namespace {

using lla_reference::M2Problem;

std::vector<int64_t> minus(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
    std::vector<int64_t> out(a.size());
    for (size_t i = 0; i < a.size(); ++i) out[i] = a[i] - b[i];
    return out;
}

M2Problem random_packed(const std::vector<int64_t>& lengths, int64_t H, int64_t G, int64_t K, int64_t V, double scale,
                        uint64_t seed) {
    ProblemShape s;
    s.T = std::accumulate(lengths.begin(), lengths.end(), int64_t{0});
    s.H = H;
    s.G = G;
    s.K = K;
    s.V = V;
    s.scale = scale;
    s.extra_levels = 1;
    s.cu_seqlens = {0};
    for (int64_t n : lengths) s.cu_seqlens.push_back(s.cu_seqlens.back() + n);
    return random_problem(s, seed);  // level weights for T: more than any sequence needs
}

struct Split {
    std::string name;
    std::vector<int64_t> lengths;  // whole sequences
    std::vector<int64_t> splits;   // tokens run before the state is exported
    int32_t dtype;
    bool decode_form;  // form the exported state is converted to before continuing
    Layout layout;
};

void PrintTo(const Split& s, std::ostream* os) { *os << s.name; }

// Steps 2 and 3 of ContinuingEqualsOneCall: the tail tokens as one chunked
// forward from `state` (and its backward), against the reference.
void continue_chunked(const Split& c, const M2Problem& full, const std::vector<double>& ref_o, const M2Problem& tail,
                      const ApiState& state, double tol) {
    const int64_t N = static_cast<int64_t>(c.lengths.size()), H = full.H, K = full.K, V = full.V;
    const int64_t Ls = state.levels.tensor().shape[2];
    const std::vector<int64_t> tails = minus(c.lengths, c.splits);

    // 2. Forward, exporting the state after the tail.
    const ApiInputs tail_inputs = make_inputs(tail, c.dtype, c.layout);
    ApiState final_state = empty_state(N, H, Ls, K, V, state_dtype(c.dtype), false, Layout::Contiguous);
    const std::vector<double> tail_o = api_forward(tail, tail_inputs, c.dtype, c.layout, 3, &state, &final_state);
    expect_close(tail_o, packed_rows(ref_o, full, c.splits, tails, H * V), tol, "continued o");
    expect_close(final_state.canonical(), lla_reference::state(full, c.lengths, Ls), tol, "state after continuing");
    EXPECT_EQ(final_state.positions(), c.lengths);

    // 3. Backward of the continued call: the materialized gradient of the
    // whole sequences with the loss on the tail tokens only.
    std::mt19937_64 rng(11);
    const std::vector<double> tail_do = make_tensor(uniform(tail_o.size(), -1, 1, rng), {1, tail.T, H, V}, c.dtype,
                                                    Layout::Contiguous).values();
    std::vector<double> full_do(ref_o.size(), 0.0);
    for (size_t j = 0; j < c.lengths.size(); ++j)
        std::copy(tail_do.begin() + tail.cu_seqlens[j] * H * V, tail_do.begin() + tail.cu_seqlens[j + 1] * H * V,
                  full_do.begin() + (full.cu_seqlens[j] + c.splits[j]) * H * V);
    const M2Gradients ref = lla_reference::backward(full, full_do);
    const M2Gradients got = api_backward(tail, tail_inputs, tail_do, c.dtype, c.layout, 2, &state);
    const M2Gradients ref_tail{packed_rows(ref.dq, full, c.splits, tails, full.G * K),
                               packed_rows(ref.dk, full, c.splits, tails, full.G * K),
                               packed_rows(ref.dv, full, c.splits, tails, H * V),
                               packed_rows(ref.dg, full, c.splits, tails, H),
                               packed_rows(ref.dl, full, c.splits, tails, H * full.L)};
    expect_gradients_close(got, ref_tail, tol, "backward after the state");
}

class Continuation : public ::testing::TestWithParam<Split> {};

// Prefill n tokens, export, then continue chunked (forward and backward) and
// with decode steps; every piece against the materialized reference.
TEST_P(Continuation, ContinuingEqualsOneCall) {
    const Split& c = GetParam();
    const M2Problem drawn = random_packed(c.lengths, 4, 2, 8, 6, 0.7, std::hash<std::string>{}(c.name));
    const ApiInputs full_inputs = make_inputs(drawn, c.dtype, c.layout);
    const M2Problem full = as_stored(drawn, full_inputs);
    const double tol = tolerance(c.dtype);
    const int64_t N = static_cast<int64_t>(c.lengths.size()), H = full.H, K = full.K, V = full.V;
    const int64_t longest = *std::max_element(c.lengths.begin(), c.lengths.end());
    const int64_t Ls = levels_for(longest) + 1;  // one spare level
    const int32_t sdt = state_dtype(c.dtype);
    const std::vector<int64_t> zeros(c.lengths.size(), 0);
    const std::vector<int64_t> tails = minus(c.lengths, c.splits);

    const std::vector<double> ref_o = lla_reference::forward(full);

    // 1. Prefill: n tokens of every sequence, exporting the (canonical) state,
    // then converting it to the form the rest of the test uses.
    // A call needs T >= 1: with nothing to prefill, the state is the fresh one.
    const M2Problem head = packed_slice(full, zeros, c.splits);
    ApiState exported = make_state(std::vector<double>(static_cast<size_t>(N * H * Ls * K * V), 0.0), zeros, H, Ls, K, V,
                                   sdt, false, c.layout);
    if (head.T > 0) {
        const ApiInputs head_inputs = make_inputs(head, c.dtype, c.layout);
        const std::vector<double> head_o = api_forward(head, head_inputs, c.dtype, c.layout, 2, nullptr, &exported);
        expect_close(head_o, packed_rows(ref_o, full, zeros, c.splits, H * V), tol, "prefill o");
    }
    expect_close(exported.canonical(), lla_reference::state(full, c.splits, Ls), tol, "exported state");
    EXPECT_EQ(exported.positions(), c.splits);
    ApiState state = empty_state(N, H, Ls, K, V, sdt, c.decode_form, Layout::Strided);
    api_convert(exported, state);
    expect_close(state.canonical(), lla_reference::state(full, c.splits, Ls), tol, "converted state");

    // 2, 3. The rest as one chunked call from that state, and its backward.
    const M2Problem tail = packed_slice(full, c.splits, tails);
    if (tail.T > 0) continue_chunked(c, full, ref_o, tail, state, tol);

    // 4. The rest one decode step at a time, from the exported state (the
    // sequences step together while all of them have tokens left).
    const int64_t steps = *std::min_element(tails.begin(), tails.end());
    for (int64_t i = 0; i < steps; ++i) {
        std::vector<int64_t> rows;
        for (size_t j = 0; j < c.lengths.size(); ++j) rows.push_back(full.cu_seqlens[j] + c.splits[j] + i);
        const std::vector<double> o = api_decode_step(full, rows, c.dtype, state, static_cast<int>(i % 3));
        std::vector<double> expected;
        for (int64_t r : rows) expected.insert(expected.end(), ref_o.begin() + r * H * V, ref_o.begin() + (r + 1) * H * V);
        expect_close(o, expected, tol, "decode step " + std::to_string(i));
    }
    std::vector<int64_t> reached(c.splits);
    for (int64_t& n : reached) n += steps;
    EXPECT_EQ(state.positions(), reached);
    expect_close(state.canonical(), lla_reference::state(full, reached, Ls), tol, "state after decoding");

    // 5. Converting the decoded state to the other form keeps its value.
    ApiState converted = empty_state(N, H, Ls, K, V, sdt, !c.decode_form, Layout::Contiguous);
    api_convert(state, converted);
    EXPECT_EQ(converted.positions(), reached);
    expect_close(converted.canonical(), lla_reference::state(full, reached, Ls), tol, "converted state");
}

std::vector<Split> splits() {
    const int32_t f64 = LLA_DTYPE_FLOAT64, f32 = LLA_DTYPE_FLOAT32;
    std::vector<Split> out;
    // One sequence, every kind of split point: fresh, unaligned, chunk-aligned
    // (64), one either side, a multiple of 128, the whole sequence.
    for (int64_t n : {0, 1, 2, 5, 37, 63, 64, 65, 100, 127, 128, 129, 191, 199, 200}) {
        for (bool decode_form : {false, true}) {
            out.push_back({"single_n" + std::to_string(n) + (decode_form ? "_decode_form" : "_canonical"), {200}, {n},
                           f64, decode_form, n % 2 ? Layout::Strided : Layout::Contiguous});
        }
    }
    out.push_back({"single_n77_f32", {200}, {77}, f32, true, Layout::Contiguous});
    out.push_back({"single_n128_f32", {300}, {128}, f32, false, Layout::Strided});
    // Packed sequences, each at its own position; an empty tail; a long
    // continuation over many boundaries.
    out.push_back({"packed_f64", {150, 70, 260, 40}, {77, 64, 1, 40}, f64, true, Layout::Contiguous});
    out.push_back({"packed_decode_f64", {100, 90, 130}, {77, 64, 1}, f64, false, Layout::Strided});
    out.push_back({"packed_f32", {150, 70, 260}, {77, 63, 129}, f32, false, Layout::Contiguous});
    out.push_back({"long_tail_f64", {1100, 600}, {333, 512}, f64, true, Layout::Contiguous});
    return out;
}

INSTANTIATE_TEST_SUITE_P(Splits, Continuation, ::testing::ValuesIn(splits()),
                         [](const ::testing::TestParamInfo<Split>& info) { return info.param.name; });

// A prefill split in several forward calls, each from the state of the last:
// the state after them equals the state after one call.
TEST(Continuation, ChainedForwardCallsEqualOneCall) {
    const std::vector<int64_t> pieces = {5, 59, 1, 64, 100, 3};
    const int64_t T = std::accumulate(pieces.begin(), pieces.end(), int64_t{0});
    const M2Problem drawn = random_packed({T}, 2, 1, 16, 8, 1.0, 99);
    const ApiInputs inputs = make_inputs(drawn, LLA_DTYPE_FLOAT64, Layout::Contiguous);
    const M2Problem full = as_stored(drawn, inputs);
    const int64_t Ls = levels_for(T);
    ApiState state = make_state(std::vector<double>(static_cast<size_t>(2 * Ls * 16 * 8), 0.0), {0}, 2, Ls, 16, 8,
                                LLA_DTYPE_FLOAT64, true, Layout::Contiguous);
    const std::vector<double> ref_o = lla_reference::forward(full);
    int64_t done = 0;
    for (int64_t piece : pieces) {
        const M2Problem part = packed_slice(full, {done}, {piece});
        ApiState next = empty_state(1, 2, Ls, 16, 8, LLA_DTYPE_FLOAT64, false, Layout::Contiguous);
        const std::vector<double> o =
            api_forward(part, make_inputs(part, LLA_DTYPE_FLOAT64, Layout::Contiguous), LLA_DTYPE_FLOAT64,
                        Layout::Contiguous, 2, &state, &next);
        expect_close(o, packed_rows(ref_o, full, {done}, {piece}, 2 * 8), 1e-10, "piece at " + std::to_string(done));
        done += piece;
        state = next;
    }
    EXPECT_EQ(state.positions(), std::vector<int64_t>{T});
    expect_close(state.canonical(), lla_reference::state(full, T, Ls), 1e-10, "state after all pieces");
}

}  // namespace
}  // namespace lla_test

namespace lla_test {
namespace {

// Far positions, where no reference can prefill: a chunked call from a random
// state at position P must equal P's decode steps, token by token, and leave
// the same state. P just below 2^40 crosses a boundary that merges 40 levels;
// P near 2^62 needs all 64 levels of an int64 position.
TEST(Continuation, FarPositionsChunkedEqualsDecodeSteps) {
    for (int64_t P : {(int64_t{1} << 40) - 3, (int64_t{1} << 62) - 200, (int64_t{1} << 33) + 64 * 5 + 7}) {  // positions end by 2^62
        SCOPED_TRACE("start position " + std::to_string(P));
        const int64_t r = 150, H = 2, K = 4, V = 3;
        ProblemShape shape = shape_of(1, r, H, 1, K, V);
        shape.extra_levels = levels_for(P + r - 1) - levels_for(r - 1);
        const M2Problem drawn = random_problem(shape, static_cast<uint64_t>(P));
        const ApiInputs inputs = make_inputs(drawn, LLA_DTYPE_FLOAT64, Layout::Contiguous);
        const M2Problem p = as_stored(drawn, inputs);
        const int64_t Ls = levels_for(P + r);
        std::mt19937_64 rng(static_cast<uint64_t>(P));
        std::vector<double> canonical = uniform(static_cast<size_t>(H * Ls * K * V), -1, 1, rng);
        for (int64_t h = 0; h < H; ++h)  // empty levels of P hold zeros
            for (int64_t l = 0; l < Ls; ++l)
                if (l == 0 || !((P >> (l - 1)) & 1))
                    std::fill_n(canonical.begin() + (h * Ls + l) * K * V, K * V, 0.0);

        const ApiState initial = make_state(canonical, {P}, H, Ls, K, V, LLA_DTYPE_FLOAT64, true, Layout::Strided);
        ApiState chunked_state = empty_state(1, H, Ls, K, V, LLA_DTYPE_FLOAT64, false, Layout::Contiguous);
        const std::vector<double> chunked = api_forward(p, inputs, LLA_DTYPE_FLOAT64, Layout::Contiguous, 2, &initial,
                                                        &chunked_state);
        EXPECT_EQ(chunked_state.positions(), std::vector<int64_t>{P + r});

        const ApiState stepped = make_state(canonical, {P}, H, Ls, K, V, LLA_DTYPE_FLOAT64, true, Layout::Contiguous);
        std::vector<double> steps;
        for (int64_t t = 0; t < r; ++t) {
            const std::vector<double> o = api_decode_step(p, {t}, LLA_DTYPE_FLOAT64, stepped, 1);
            steps.insert(steps.end(), o.begin(), o.end());
        }
        expect_close(chunked, steps, 1e-10, "chunked vs decode steps");
        expect_close(chunked_state.canonical(), stepped.canonical(), 1e-10, "state after the tokens");
        EXPECT_EQ(stepped.positions(), std::vector<int64_t>{P + r});
    }
}

}  // namespace
}  // namespace lla_test
