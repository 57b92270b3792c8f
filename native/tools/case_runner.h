// Runs a golden-format case through the public C API at a chosen dtype and
// returns the results as float64 arrays. Shared by llacheck and the native
// tests. Every output buffer is poisoned with NaN before the call, so an
// element a backend forgets to write shows up as a failure.
#pragma once

#include <map>
#include <stdexcept>
#include <string>

#include "golden_case.h"
#include "loglinear/loglinear.h"

namespace lla::caseio {

enum class ComputeDtype { F64, F32, BF16 };

// "f64", "f32", "bf16"; throws std::invalid_argument otherwise.
ComputeDtype parse_compute_dtype(const std::string& text);
const char* compute_dtype_name(ComputeDtype dtype);
// The tolerance (relative Frobenius error) for the CPU at this dtype:
// docs/numerics.md, "Tolerances".
double spec_tolerance(ComputeDtype dtype);

// The case with every input rounded as the library stores it at `dtype`
// (bf16: q k v l beta do to bfloat16, g to float32). The bf16 reference is the
// float64 result on these rounded inputs (docs/numerics.md, "Reduced precisions").
GoldenCase with_rounded_inputs(const GoldenCase& c, ComputeDtype dtype);

// A C API call that did not return LLA_OK.
class ApiError : public std::runtime_error {
public:
    ApiError(const std::string& call, lla_status status, const std::string& message);
    lla_status status() const { return status_; }

private:
    lla_status status_;
};

struct RunOptions {
    ComputeDtype dtype = ComputeDtype::F64;
    int32_t backend = LLA_BACKEND_CPU;  // lla_backend; CUDA puts the tensors in CUDA memory
    int64_t extra_state_levels = 0;     // export states with this many levels beyond the minimum
    int32_t math_mode = LLA_MATH_EXACT_FP32;  // f32 on a GPU: the 1e-5 of docs/numerics.md needs exact float32
};

// Forward over all tokens, then backward: "o", "dq", "dk", "dv", "dg", "dl"
// (and "dbeta" for Gated DeltaNet), each of its input's shape.
std::map<std::string, Array> run_forward_backward(const GoldenCase& c, const RunOptions& options);

// The same results as run_forward_backward from two chained calls split at
// token n of every batch row (docs/state-layout.md, "Training across
// segments"): forward [0, n) exporting the state, forward [n, T) from it,
// backward [n, T) giving d_initial_state, backward [0, n) with it as
// d_final_state; o and the gradients are written in place into full-length
// tensors. n in 0..T (0 and T leave one segment: a single call). Needs no
// cu_seqlens (throws std::invalid_argument).
std::map<std::string, Array> run_forward_backward_split(const GoldenCase& c, const RunOptions& options, int64_t n);

// Forward over the first c.state_position tokens of every batch row with the
// final state exported: "state" [B, H, bit_length(n) + 1 + extra, K, V].
// Then, continuing from that state, forward and backward over the remaining
// tokens: "o" over all T tokens (prefix and continued), and the gradients of
// the continued tokens, "dq", "dk", ... [B, T - n, ...]. Needs
// state_position and no cu_seqlens.
std::map<std::string, Array> run_split_at_state_position(const GoldenCase& c, const RunOptions& options);

}  // namespace lla::caseio
