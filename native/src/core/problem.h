// The validated, normalised description of one call that the core hands to a
// backend. The core (api.cpp + validate.cpp) checks every argument against
// the rules of docs/c-api.md ("Limits", "Bad input", "Shapes") before a
// Problem exists, so backends trust these fields and never re-validate; they
// only report resource or runtime failures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "loglinear/loglinear.h"

namespace lla {

// One sequence of a call: batch row `batch`, tokens [token_begin,
// token_begin + length) of the T axis, first token at absolute position
// `start_position` (0 for a fresh sequence, n when continuing a state).
struct Sequence {
    int64_t batch;
    int64_t token_begin;
    int64_t length;
    int64_t start_position;
};

// Sizes shared by every problem. For a decode step T == 1 and the token
// tensors have no T axis (see DecodeProblem).
struct Dims {
    int64_t B = 0, T = 0, H = 0, G = 0, K = 0, V = 0;
    int64_t L = 0;        // last dim of l
    int64_t N = 0;        // number of sequences (B, or cu_seqlens' count)
    int64_t heads_per_group() const { return H / G; }
};

// Accumulation precision: F64 iff the inputs are float64, else F32.
enum class Precision { F32, F64 };

struct ForwardProblem {
    lla_config config;
    Dims dims;
    Precision precision;
    lla_inputs inputs;              // beta, cu_seqlens absent when ndim == 0
    std::vector<Sequence> sequences; // host copy, N entries, in order
    const lla_state* initial_state;  // nullptr: all sequences fresh
    const lla_tensor* o;
    const lla_state* final_state;    // nullptr: not requested
    void* workspace;                 // nullptr: allocate internally
    size_t workspace_bytes;
    void* stream;
};

struct BackwardProblem {
    lla_config config;
    Dims dims;
    Precision precision;
    lla_inputs inputs;
    std::vector<Sequence> sequences;
    const lla_state* initial_state;  // nullptr: all sequences fresh
    const lla_tensor* d_o;
    const lla_tensor* d_final_state; // nullptr: zero (also in a workspace-size query)
    lla_gradients grads;             // dbeta absent unless GATED_DELTANET; d_initial_state optional
    void* workspace;
    size_t workspace_bytes;
    void* stream;
    bool size_query = false;         // a workspace-size query: size a call with both state gradients
};

// token tensors: q, k [N,G,K]; v [N,H,V]; g, beta [N,H]; l [N,H,L]; o [N,H,V].
struct DecodeProblem {
    lla_config config;
    Dims dims;                        // T == 1, B == N
    Precision precision;
    lla_inputs token;
    std::vector<int64_t> positions;   // host copy of state->position
    const lla_state* state;           // in/out, either form
    const lla_tensor* o;
    void* stream;
};

struct ConvertProblem {
    lla_config config;
    Dims dims;                        // N, H, K, V, L = Ls of the state
    Precision precision;
    const lla_state* src;
    const lla_state* dst;
    void* stream;
};

}  // namespace lla
