// Random M2 problems for the native tests: inputs of the shapes of
// docs/c-api.md, "Shapes", with seeded uniform values (decays g <= 0, level
// weights of both signs).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "m2_reference.h"

namespace lla_test {

struct ProblemShape {
    int64_t B = 1, T = 1, H = 1, G = 1, K = 4, V = 4;
    int64_t extra_levels = 0;  // level weights beyond bit_length(T - 1) + 1
    double scale = 1.0;
    std::vector<int64_t> cu_seqlens;  // empty: B sequences of T tokens
    double max_decay = 0.3;           // g uniform in [-max_decay, 0]
};

inline ProblemShape shape_of(int64_t B, int64_t T, int64_t H, int64_t G, int64_t K, int64_t V) {
    ProblemShape s;
    s.B = B;
    s.T = T;
    s.H = H;
    s.G = G;
    s.K = K;
    s.V = V;
    return s;
}

inline int64_t levels_for(int64_t last_position) {
    int64_t bits = 0;
    while ((last_position >> bits) != 0) ++bits;
    return bits + 1;
}

inline std::vector<double> uniform(size_t n, double lo, double hi, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> dist(lo, hi);
    std::vector<double> out(n);
    for (double& x : out) x = dist(rng);
    return out;
}

inline lla_reference::M2Problem random_problem(const ProblemShape& s, uint64_t seed) {
    std::mt19937_64 rng(seed);
    lla_reference::M2Problem p;
    p.B = s.B;
    p.T = s.T;
    p.H = s.H;
    p.G = s.G;
    p.K = s.K;
    p.V = s.V;
    p.L = levels_for(s.T - 1) + s.extra_levels;
    p.scale = s.scale;
    p.cu_seqlens = s.cu_seqlens;
    const size_t rows = static_cast<size_t>(s.B * s.T);
    p.q = uniform(rows * static_cast<size_t>(s.G * s.K), -1, 1, rng);
    p.k = uniform(rows * static_cast<size_t>(s.G * s.K), -1, 1, rng);
    p.v = uniform(rows * static_cast<size_t>(s.H * s.V), -1, 1, rng);
    p.g = uniform(rows * static_cast<size_t>(s.H), -s.max_decay, 0, rng);
    p.l = uniform(rows * static_cast<size_t>(s.H * p.L), -0.5, 1.5, rng);
    return p;
}

// Copies tokens [first, first + count) of every row of `from` (a [B, T, ...]
// array with `width` values per token) into `to` at token offset `at`.
inline void copy_tokens(const std::vector<double>& from, int64_t from_T, int64_t first, int64_t count,
                        std::vector<double>& to, int64_t to_T, int64_t at, int64_t B, int64_t width) {
    for (int64_t b = 0; b < B; ++b)
        for (int64_t t = 0; t < count; ++t)
            for (int64_t c = 0; c < width; ++c)
                to[static_cast<size_t>(((b * to_T) + at + t) * width + c)] =
                    from[static_cast<size_t>(((b * from_T) + first + t) * width + c)];
}

// r with every input x replaced by slice(x, values per token of x).
template <class Slice>
lla_reference::M2Problem with_sliced_inputs(lla_reference::M2Problem r, Slice&& slice) {
    r.q = slice(r.q, r.G * r.K);
    r.k = slice(r.k, r.G * r.K);
    r.v = slice(r.v, r.H * r.V);
    r.g = slice(r.g, r.H);
    r.l = slice(r.l, r.H * r.L);
    return r;
}

// The sub-problem of `count` tokens starting at `first` of every sequence
// (B rows, no cu_seqlens).
inline lla_reference::M2Problem token_slice(const lla_reference::M2Problem& p, int64_t first, int64_t count) {
    lla_reference::M2Problem r = p;
    r.T = count;
    return with_sliced_inputs(r, [&](const std::vector<double>& x, int64_t width) {
        std::vector<double> out(static_cast<size_t>(p.B * count * width));
        copy_tokens(x, p.T, first, count, out, count, 0, p.B, width);
        return out;
    });
}

// Same slicing for an array of o's shape [B, T, H, V].
inline std::vector<double> token_slice(const std::vector<double>& x, const lla_reference::M2Problem& p, int64_t first,
                                       int64_t count, int64_t width) {
    std::vector<double> out(static_cast<size_t>(p.B * count * width));
    copy_tokens(x, p.T, first, count, out, count, 0, p.B, width);
    return out;
}

// Packed (cu_seqlens) problem of tokens [first[j], first[j] + count[j]) of
// the sequences of a packed problem `full`.
inline lla_reference::M2Problem packed_slice(const lla_reference::M2Problem& full, const std::vector<int64_t>& first, const std::vector<int64_t>& count) {
    lla_reference::M2Problem r = full;
    r.cu_seqlens = {0};
    for (int64_t c : count) r.cu_seqlens.push_back(r.cu_seqlens.back() + c);
    r.T = r.cu_seqlens.back();
    return with_sliced_inputs(r, [&](const std::vector<double>& x, int64_t width) {
        std::vector<double> out(static_cast<size_t>(r.T * width));
        for (size_t j = 0; j < count.size(); ++j)
            copy_tokens(x, full.T, full.cu_seqlens[j] + first[j], count[j], out, r.T, r.cu_seqlens[j], 1, width);
        return out;
    });
}

// The same selection of an array with `width` values per token.
inline std::vector<double> packed_rows(const std::vector<double>& x, const lla_reference::M2Problem& full, const std::vector<int64_t>& first,
                                const std::vector<int64_t>& count, int64_t width) {
    std::vector<double> out;
    for (size_t j = 0; j < count.size(); ++j) {
        auto begin = x.begin() + (full.cu_seqlens[j] + first[j]) * width;
        out.insert(out.end(), begin, begin + count[j] * width);
    }
    return out;
}

}  // namespace lla_test
