// O(T^2) materialized float64 reference of log-linear Mamba-2 (docs/math.md,
// sections 3, 5 and 7; docs/state-layout.md), for tests and the benchmark's
// materialized baseline. Every quantity is computed pair by pair from its
// definition:
//
//   o_t = sum_{s<=t} l[t, lev(t,s)] exp(G_t - G_s) scale (q_t . k_s) v_s
//
// per sequence and head, with G the cumulative sum of g within a sequence.
#pragma once

#include <cstdint>
#include <vector>

namespace lla_reference {

// One M2 problem in dense C-order float64 arrays of the layouts of
// docs/c-api.md, "Shapes".
struct M2Problem {
    int64_t B = 1, T = 0, H = 1, G = 1, K = 0, V = 0, L = 0;
    double scale = 1.0;
    std::vector<int64_t> cu_seqlens;  // empty: B sequences of T tokens; else B == 1 and packed sequences
    std::vector<double> q, k;         // [B, T, G, K]
    std::vector<double> v;            // [B, T, H, V]
    std::vector<double> g;            // [B, T, H]
    std::vector<double> l;            // [B, T, H, L]
};

struct M2Gradients {
    std::vector<double> dq, dk, dv, dg, dl;  // shapes of q, k, v, g, l
};

// Number of sequences: B, or the number of cu_seqlens ranges.
int64_t sequence_count(const M2Problem& p);

// o [B, T, H, V]. `threads` workers split the (sequence, head) pairs.
std::vector<double> forward(const M2Problem& p, int threads = 1);

// Gradients of sum(d_o * o) (d_o of o's shape); dq, dk summed over the heads of a group.
M2Gradients backward(const M2Problem& p, const std::vector<double>& d_o, int threads = 1);

// Canonical state [N, H, Ls, K, V] ready for target position prefixes[n] of
// sequence n, from its first prefixes[n] tokens.
std::vector<double> state(const M2Problem& p, const std::vector<int64_t>& prefixes, int64_t Ls);
// The same with one prefix for every sequence.
std::vector<double> state(const M2Problem& p, int64_t prefix, int64_t Ls);

// lev(t, s) for s <= t, with integer operations.
int level(int64_t t, int64_t s);

}  // namespace lla_reference
