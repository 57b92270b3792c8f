// Gradients that cross a saved state (docs/state-layout.md, "Training across
// segments"): d_final_state in, d_initial_state out.
//
// - Finite differences in float64 of loss = sum(d_o * o) + sum(d_final * final
//   state) through the public forward, against the public backward: the state
//   gradient d_initial_state itself, and every input gradient once the final
//   state is part of the loss.
// - The backward contract: a problem cut into segments (one cut at many
//   positions, and chains of three or more), each forward continuing from the
//   state the previous one exported and the backwards run in reverse, handing
//   d_initial_state on as d_final_state, gives the gradients of one call.
#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

#include "m2_api_harness.h"
#include "m2_random_problem.h"

namespace lla_test {
namespace {

using lla_reference::M2Problem;

std::vector<int64_t> sequence_lengths(const M2Problem& p) {
    if (p.cu_seqlens.empty()) return std::vector<int64_t>(static_cast<size_t>(p.B), p.T);
    std::vector<int64_t> out;
    for (size_t i = 1; i < p.cu_seqlens.size(); ++i) out.push_back(p.cu_seqlens[i] - p.cu_seqlens[i - 1]);
    return out;
}

// Levels of a state that holds every sequence at `positions`, plus one extra.
int64_t state_levels(const std::vector<int64_t>& positions) {
    int64_t levels = 1;
    for (int64_t n : positions) levels = std::max(levels, levels_for(n));
    return levels + 1;
}

std::vector<int64_t> plus(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
    std::vector<int64_t> out(a.size());
    for (size_t i = 0; i < a.size(); ++i) out[i] = a[i] + b[i];
    return out;
}

// A random canonical state (every level, empty or not, holds values: the
// library must ignore the empty ones) of the sequences of p at `positions`.
ApiState random_state(const M2Problem& p, const std::vector<int64_t>& positions, int32_t dtype, bool decode_form,
                      uint64_t seed) {
    std::mt19937_64 rng(seed);
    const int64_t Ls = state_levels(positions);
    const size_t count = positions.size() * static_cast<size_t>(p.H * Ls * p.K * p.V);
    return make_state(uniform(count, -1, 1, rng), positions, p.H, Ls, p.K, p.V, state_dtype(dtype), decode_form,
                      Layout::Contiguous);
}

// A random gradient of the state the call exports (levels for its end positions).
HostTensor random_state_gradient(const M2Problem& p, const std::vector<int64_t>& end_positions, int32_t dtype,
                                 uint64_t seed) {
    std::mt19937_64 rng(seed);
    const int64_t N = static_cast<int64_t>(end_positions.size()), Ls = state_levels(end_positions);
    return make_tensor(uniform(static_cast<size_t>(N * p.H * Ls * p.K * p.V), -1, 1, rng), {N, p.H, Ls, p.K, p.V},
                       state_dtype(dtype), Layout::Strided);
}

// ---------------------------------------------------------------------------
// Finite differences.

struct FiniteDifferenceCase {
    std::string name;
    ProblemShape shape;
    std::vector<int64_t> start;  // per sequence; empty: fresh sequences
    bool decode_form;            // the initial state's form
};

void PrintTo(const FiniteDifferenceCase& c, std::ostream* os) { *os << c.name; }

class StateFiniteDifferences : public ::testing::TestWithParam<FiniteDifferenceCase> {};

TEST_P(StateFiniteDifferences, BackwardWithStateGradientsMatchesCentralDifferences) {
    const FiniteDifferenceCase& c = GetParam();
    ProblemShape shape = c.shape;
    int64_t last = shape.T;
    for (int64_t s : c.start) last = std::max(last, s + shape.T);
    shape.extra_levels = levels_for(last) - levels_for(shape.T - 1) + 1;
    M2Problem p = random_problem(shape, std::hash<std::string>{}(c.name));
    const std::vector<int64_t> lengths = sequence_lengths(p);
    const bool fresh = c.start.empty();
    const std::vector<int64_t> start = fresh ? std::vector<int64_t>(lengths.size(), 0) : c.start;
    const std::vector<int64_t> end = plus(start, lengths);

    std::mt19937_64 rng(11);
    const std::vector<double> d_o = uniform(static_cast<size_t>(p.B * p.T * p.H * p.V), -1, 1, rng);
    const HostTensor d_final = random_state_gradient(p, end, LLA_DTYPE_FLOAT64, 12);
    const std::vector<double> dF = d_final.values();
    ApiState initial = fresh ? ApiState{} : random_state(p, start, LLA_DTYPE_FLOAT64, c.decode_form, 13);
    std::vector<double> initial_values = fresh ? std::vector<double>{} : initial.canonical();
    const int64_t Ls = fresh ? 0 : initial.levels.tensor().shape[2];

    // The loss of the current p and initial_values.
    auto loss = [&] {
        ApiState init;
        if (!fresh)
            init = make_state(initial_values, start, p.H, Ls, p.K, p.V, LLA_DTYPE_FLOAT64, c.decode_form,
                              Layout::Contiguous);
        ApiState fin = empty_state(static_cast<int64_t>(end.size()), p.H, d_final.tensor().shape[2], p.K, p.V,
                                   LLA_DTYPE_FLOAT64, false, Layout::Contiguous);
        const std::vector<double> o = api_forward(p, make_inputs(p, LLA_DTYPE_FLOAT64, Layout::Contiguous),
                                                  LLA_DTYPE_FLOAT64, Layout::Contiguous, 2, fresh ? nullptr : &init,
                                                  &fin);
        const std::vector<double> F = fin.canonical();
        double sum = 0;
        for (size_t i = 0; i < o.size(); ++i) sum += d_o[i] * o[i];
        for (size_t i = 0; i < F.size(); ++i) sum += dF[i] * F[i];
        return sum;
    };

    HostTensor d_initial;
    if (!fresh) d_initial = HostTensor({static_cast<int64_t>(start.size()), p.H, Ls, p.K, p.V}, LLA_DTYPE_FLOAT64,
                                       Layout::Strided);
    const M2Gradients analytic = api_backward(p, make_inputs(p, LLA_DTYPE_FLOAT64, Layout::Strided), d_o,
                                              LLA_DTYPE_FLOAT64, Layout::Strided, 2, fresh ? nullptr : &initial,
                                              &d_final, fresh ? nullptr : &d_initial);
    const double tol = 1e-7;  // O(h^2) truncation and rounding of the differences
    if (!fresh) expect_close(d_initial.values(), central_differences(initial_values, loss), tol, c.name + " d_initial");
    expect_close(analytic.dq, central_differences(p.q, loss), tol, c.name + " dq");
    expect_close(analytic.dk, central_differences(p.k, loss), tol, c.name + " dk");
    expect_close(analytic.dv, central_differences(p.v, loss), tol, c.name + " dv");
    expect_close(analytic.dg, central_differences(p.g, loss), tol, c.name + " dg");
    expect_close(analytic.dl, central_differences(p.l, loss), tol, c.name + " dl");
}

ProblemShape small(int64_t B, int64_t T, int64_t H, int64_t G, int64_t K, int64_t V,
                   std::vector<int64_t> cu_seqlens = {}) {
    ProblemShape s = shape_of(B, T, H, G, K, V);
    s.scale = 0.7;
    s.cu_seqlens = std::move(cu_seqlens);
    return s;
}

INSTANTIATE_TEST_SUITE_P(
    Float64, StateFiniteDifferences,
    ::testing::Values(FiniteDifferenceCase{"fresh_final_only", small(1, 150, 2, 1, 3, 2), {}, false},
                      FiniteDifferenceCase{"from_37", small(2, 100, 2, 1, 3, 2), {37, 3}, false},
                      FiniteDifferenceCase{"from_64_decode_form", small(1, 70, 1, 1, 2, 3), {64}, true},
                      FiniteDifferenceCase{"from_1005", small(1, 90, 2, 2, 2, 2), {1005}, false},
                      FiniteDifferenceCase{"packed_with_empty", small(1, 150, 4, 2, 2, 2, {0, 40, 40, 150}),
                                           {37, 5, 900}, true}),
    [](const ::testing::TestParamInfo<FiniteDifferenceCase>& info) { return info.param.name; });

// ---------------------------------------------------------------------------
// The backward contract, segment by segment.

// Cut points of every sequence: segment i of sequence n is tokens
// [cuts[n][i], cuts[n][i + 1]). Batched problems cut all rows alike.
using Cuts = std::vector<std::vector<int64_t>>;

Cuts same_cuts(const M2Problem& p, std::vector<int64_t> inner) {
    inner.insert(inner.begin(), 0);
    inner.push_back(p.T);
    return Cuts(static_cast<size_t>(p.B), inner);
}

struct Segment {
    std::vector<int64_t> first, count;
    int64_t tokens() const {
        int64_t t = 0;
        for (int64_t c : count) t += c;
        return t;
    }
};

Segment segment(const Cuts& cuts, size_t i) {
    Segment s;
    for (const std::vector<int64_t>& c : cuts) {
        s.first.push_back(c[i]);
        s.count.push_back(c[i + 1] - c[i]);
    }
    return s;
}

M2Problem piece(const M2Problem& p, const Segment& s) {
    return p.cu_seqlens.empty() ? token_slice(p, s.first[0], s.count[0]) : packed_slice(p, s.first, s.count);
}

std::vector<double> piece_rows(const std::vector<double>& x, const M2Problem& p, const Segment& s, int64_t width) {
    return p.cu_seqlens.empty() ? token_slice(x, p, s.first[0], s.count[0], width)
                                : packed_rows(x, p, s.first, s.count, width);
}

// Writes a piece's rows (width values per token) back to their place in x.
void place_rows(const std::vector<double>& rows, const M2Problem& p, const Segment& s, int64_t width,
                std::vector<double>& x) {
    size_t at = 0;
    for (size_t n = 0; n < s.count.size(); ++n) {
        const int64_t base = p.cu_seqlens.empty() ? static_cast<int64_t>(n) * p.T : p.cu_seqlens[n];
        for (int64_t t = 0; t < s.count[n]; ++t)
            for (int64_t c = 0; c < width; ++c) x[static_cast<size_t>((base + s.first[n] + t) * width + c)] = rows[at++];
    }
}

struct ChainResult {
    std::vector<double> o;
    M2Gradients grads;
    std::vector<double> d_initial;  // when the chain starts from a state
};

// Forward over the segments in order, each from the state the previous one
// exported; backward in reverse, each segment's d_initial_state becoming the
// previous one's d_final_state. A segment without tokens is skipped: the
// state and its gradient pass through unchanged.
ChainResult run_chain(const M2Problem& p, const std::vector<double>& d_o, int32_t dtype, const Cuts& cuts,
                      const ApiState* initial, const std::vector<int64_t>& start, const HostTensor* d_final) {
    const size_t segments = cuts[0].size() - 1;
    ChainResult r;
    r.o.assign(static_cast<size_t>(p.B * p.T * p.H * p.V), 0);
    r.grads = M2Gradients{std::vector<double>(p.q.size()), std::vector<double>(p.k.size()),
                          std::vector<double>(p.v.size()), std::vector<double>(p.g.size()),
                          std::vector<double>(p.l.size())};
    std::vector<ApiState> exported(segments);
    std::vector<const ApiState*> from(segments, nullptr);
    const ApiState* state = initial;
    for (size_t i = 0; i < segments; ++i) {
        const Segment s = segment(cuts, i);
        from[i] = state;
        if (s.tokens() == 0) continue;
        const M2Problem part = piece(p, s);
        std::vector<int64_t> end;
        for (size_t n = 0; n < s.first.size(); ++n) end.push_back(start[n] + s.first[n] + s.count[n]);
        exported[i] = empty_state(static_cast<int64_t>(end.size()), p.H, state_levels(end), p.K, p.V, state_dtype(dtype),
                                  false, Layout::Contiguous);
        place_rows(api_forward(part, make_inputs(part, dtype, Layout::Contiguous), dtype, Layout::Contiguous, 2, state,
                               &exported[i]),
                   p, s, p.H * p.V, r.o);
        state = &exported[i];
    }
    std::vector<HostTensor> d_initial(segments);
    const HostTensor* gradient = d_final;
    for (size_t i = segments; i-- > 0;) {
        const Segment s = segment(cuts, i);
        if (s.tokens() == 0) continue;
        const M2Problem part = piece(p, s);
        HostTensor* d_from = nullptr;
        if (from[i]) {
            const lla_tensor& levels = from[i]->levels.tensor();
            d_initial[i] = HostTensor(std::vector<int64_t>(levels.shape, levels.shape + 5), state_dtype(dtype),
                                      Layout::Contiguous);
            d_from = &d_initial[i];
        }
        const M2Gradients g = api_backward(part, make_inputs(part, dtype, Layout::Contiguous),
                                           piece_rows(d_o, p, s, p.H * p.V), dtype, Layout::Contiguous, 2, from[i],
                                           gradient, d_from);
        place_rows(g.dq, p, s, p.G * p.K, r.grads.dq);
        place_rows(g.dk, p, s, p.G * p.K, r.grads.dk);
        place_rows(g.dv, p, s, p.H * p.V, r.grads.dv);
        place_rows(g.dg, p, s, p.H, r.grads.dg);
        place_rows(g.dl, p, s, p.H * p.L, r.grads.dl);
        gradient = d_from;
    }
    if (initial && gradient) r.d_initial = gradient->values();
    return r;
}

struct ContractCase {
    std::string name;
    ProblemShape shape;
    std::vector<int64_t> start;  // empty: fresh sequences, no d_final_state
    std::vector<Cuts> (*cuts)(const M2Problem&);
};

void PrintTo(const ContractCase& c, std::ostream* os) { *os << c.name; }

class BackwardContract : public ::testing::TestWithParam<std::tuple<ContractCase, int32_t>> {};

// Every dtype against the float64 one-call result on the same rounded inputs.
TEST_P(BackwardContract, SegmentsChainedThroughTheStateEqualOneCall) {
    const ContractCase& c = std::get<0>(GetParam());
    const int32_t dtype = std::get<1>(GetParam());
    ProblemShape shape = c.shape;
    int64_t last = shape.T;
    for (int64_t s : c.start) last = std::max(last, s + shape.T);
    shape.extra_levels = levels_for(last) - levels_for(shape.T - 1);
    const M2Problem full = random_problem(shape, std::hash<std::string>{}(c.name));
    const M2Problem p = as_stored(full, make_inputs(full, dtype, Layout::Contiguous));
    std::mt19937_64 rng(21);
    const std::vector<double> d_o =
        make_tensor(uniform(static_cast<size_t>(p.B * p.T * p.H * p.V), -1, 1, rng), {p.B, p.T, p.H, p.V}, dtype,
                    Layout::Contiguous)
            .values();
    const std::vector<int64_t> lengths = sequence_lengths(p);
    const bool fresh = c.start.empty();
    const std::vector<int64_t> start = fresh ? std::vector<int64_t>(lengths.size(), 0) : c.start;
    ApiState initial64, initial;
    HostTensor d_final64, d_final;
    if (!fresh) {
        initial64 = random_state(p, start, LLA_DTYPE_FLOAT64, false, 22);
        initial = random_state(p, start, dtype, false, 22);  // the same values in the state dtype
        d_final64 = random_state_gradient(p, plus(start, lengths), LLA_DTYPE_FLOAT64, 23);
        d_final = random_state_gradient(p, plus(start, lengths), dtype, 23);
    }
    // The reference: one float64 call on the (rounded) values.
    const Cuts whole = [&] {
        Cuts w;
        for (int64_t len : lengths) w.push_back({0, len});
        return w;
    }();
    const ChainResult ref = run_chain(p, d_o, LLA_DTYPE_FLOAT64, whole, fresh ? nullptr : &initial64, start,
                                      fresh ? nullptr : &d_final64);
    const double tol = tolerance(dtype);
    for (const Cuts& cuts : c.cuts(p)) {
        std::string name = c.name + " " + dtype_name(dtype) + " cuts";
        for (int64_t x : cuts.back()) name += " " + std::to_string(x);
        const ChainResult got = run_chain(p, d_o, dtype, cuts, fresh ? nullptr : &initial, start,
                                          fresh ? nullptr : &d_final);
        expect_close(got.o, ref.o, tol, name + " o");
        expect_gradients_close(got.grads, ref.grads, tol, name);
        if (!fresh) expect_close(got.d_initial, ref.d_initial, tol, name + " d_initial");
    }
}

// One cut at 0, 1, a chunk boundary and one off it, T - 1, T; and chains.
std::vector<Cuts> batched_cuts(const M2Problem& p) {
    std::vector<Cuts> out;
    for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{63}, int64_t{64}, int64_t{65}, int64_t{128}, p.T - 1, p.T})
        out.push_back(same_cuts(p, {n}));
    out.push_back(same_cuts(p, {37, 130, 200}));
    out.push_back(same_cuts(p, {64, 128, 192, 256}));
    out.push_back(same_cuts(p, {1, 2, 3, 67, 299}));
    return out;
}

// Per-sequence cuts of the packed problem {0, 70, 70, 200} (lengths 70, 0, 130).
std::vector<Cuts> packed_cuts(const M2Problem&) {
    return {Cuts{{0, 30, 70}, {0, 0, 0}, {0, 65, 130}}, Cuts{{0, 0, 70}, {0, 0, 0}, {0, 130, 130}},
            Cuts{{0, 30, 64, 64, 70}, {0, 0, 0, 0, 0}, {0, 1, 65, 127, 130}}};
}

ProblemShape contract_shape(int64_t B, int64_t T, int64_t H, int64_t G, std::vector<int64_t> cu_seqlens = {}) {
    ProblemShape s = shape_of(B, T, H, G, 8, 4);
    s.scale = 0.35;
    s.cu_seqlens = std::move(cu_seqlens);
    return s;
}

INSTANTIATE_TEST_SUITE_P(
    Splits, BackwardContract,
    ::testing::Combine(
        ::testing::Values(ContractCase{"fresh", contract_shape(2, 300, 3, 1), {}, batched_cuts},
                          ContractCase{"from_states", contract_shape(2, 300, 2, 2), {1005, 37}, batched_cuts},
                          ContractCase{"packed", contract_shape(1, 200, 4, 2, {0, 70, 70, 200}), {37, 5, 900},
                                       packed_cuts}),
        ::testing::Values(LLA_DTYPE_FLOAT64, LLA_DTYPE_FLOAT32, LLA_DTYPE_BFLOAT16)),
    [](const ::testing::TestParamInfo<std::tuple<ContractCase, int32_t>>& info) {
        return std::get<0>(info.param).name + "_" + dtype_name(std::get<1>(info.param));
    });

}  // namespace
}  // namespace lla_test
