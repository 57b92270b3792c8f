// Helpers of the CUDA backend tests: device arrays that convert from and to
// float64 host vectors, random M2 problems, and the two ways to run one
// (CUDA at a chosen precision, CPU in float64 as the reference), all through
// the public C API.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "loglinear/loglinear.h"

namespace lla::cudatest {

// Skips the calling test when this machine has no usable CUDA device.
bool gpu_available();
#define LLA_REQUIRE_GPU()                                                            \
    do {                                                                             \
        if (!::lla::cudatest::gpu_available()) GTEST_SKIP() << "no CUDA device here"; \
    } while (0)

// How the CUDA side computes, with its tolerance (docs/numerics.md, "Tolerances").
struct Mode {
    const char* name;
    int32_t dtype;      // q, k, v, l, o
    int32_t math_mode;  // lla_math_mode
    double tolerance;
};
// gtest prints a parameter with its name instead of its bytes.
inline void PrintTo(const Mode& m, std::ostream* os) { *os << m.name; }
extern const Mode kF32Exact;  // float32, no TF32: 1e-5
extern const Mode kF32Tf32;   // float32, TF32 allowed: 3e-3
extern const Mode kBf16;      // bfloat16 inputs: 1e-2
extern const Mode kF16;       // float16 inputs: 1e-2
extern const Mode kF64;       // float64 (decode step, state conversion): 1e-10
std::vector<Mode> forward_modes();

// `x` rounded to what a tensor of `dtype` stores (identity for float64).
double round_to(int32_t dtype, double x);
std::vector<double> round_all(int32_t dtype, std::vector<double> x);

// Owned CUDA memory holding a tensor of `dtype`; dense unless `strides` is given.
class DeviceArray {
public:
    DeviceArray(int32_t dtype, std::vector<int64_t> shape, std::vector<int64_t> strides = {});
    ~DeviceArray();
    DeviceArray(const DeviceArray&) = delete;
    DeviceArray& operator=(const DeviceArray&) = delete;

    // Dense C-order values in, converted to dtype; padding between strided
    // elements is left poisoned.
    void upload(const std::vector<double>& values);
    std::vector<double> download() const;
    // All bytes 0xFF: NaN in every float dtype, -1 in int64.
    void poison();
    const lla_tensor& tensor() const { return tensor_; }
    void* data() const { return data_; }

private:
    int32_t dtype_;
    std::vector<int64_t> shape_, strides_;
    size_t bytes_ = 0;
    void* data_ = nullptr;
    lla_tensor tensor_{};
};

// A dense host tensor descriptor (CPU backend) over `data`.
lla_tensor host_tensor(void* data, int32_t dtype, const std::vector<int64_t>& shape);

// A log-linear Mamba-2 problem in float64 on the host (C order).
struct M2Problem {
    int64_t B = 1, T = 1, H = 1, G = 1, K = 1, V = 1, L = 1;
    double scale = 1.0;
    std::vector<int64_t> cu_seqlens;  // empty: B sequences of T tokens
    std::vector<double> q, k, v, g, l;

    int64_t sequences() const { return cu_seqlens.empty() ? B : int64_t(cu_seqlens.size()) - 1; }
    // The same problem with q k v l rounded to `dtype` and g to float32.
    M2Problem rounded(int32_t dtype) const;
    // Tokens [begin, begin + count) of every batch row (no cu_seqlens).
    M2Problem tokens(int64_t begin, int64_t count) const;
};

// Random inputs: q, k, v uniform in [-1, 1], g in [-0.3, 0] (log decays), l
// in [-0.5, 1.5]; L = bit_length(T - 1) + 1 + extra_levels; scale 1/sqrt(K).
M2Problem random_problem(int64_t B, int64_t T, int64_t H, int64_t G, int64_t K, int64_t V, uint64_t seed,
                         int64_t extra_levels = 0);

// A named random-problem shape of the parameterized tests.
struct RandomShape {
    const char* name;
    int64_t B, T, H, G, K, V;
    int64_t extra_levels;
};
inline void PrintTo(const RandomShape& s, std::ostream* os) { *os << s.name; }
// "<shape>_<mode>" with every non-alphanumeric character as '_'.
std::string shape_mode_name(const ::testing::TestParamInfo<std::tuple<RandomShape, Mode>>& info);

// A state of N sequences on the host in float64: levels [N,H,Ls,K,V],
// log_decay [N,H,Ls] (empty vector: canonical form), position [N].
struct HostState {
    int64_t N = 0, H = 0, Ls = 0, K = 0, V = 0;
    std::vector<double> levels, log_decay;
    std::vector<int64_t> position;

    bool decode_form() const { return !log_decay.empty(); }
    static HostState zeros(int64_t N, int64_t H, int64_t Ls, int64_t K, int64_t V, bool decode_form);
    // The canonical state: exp(log_decay) * levels, zero where bit l-1 of the
    // position is clear (and at level 0).
    HostState canonical() const;
};

// A state living in CUDA memory (levels float32, or float64 when f64).
class DeviceState {
public:
    DeviceState(const HostState& s, bool f64);
    lla_state state() const;
    HostState download() const;
    // Every byte of levels, log_decay and position to 0xFF (NaN, -1).
    void poison();

private:
    int64_t N_, H_, Ls_, K_, V_;
    bool decode_form_;
    std::unique_ptr<DeviceArray> levels_, log_decay_, position_;
};

// Outputs of one forward.
struct ForwardResult {
    std::vector<double> o;
    HostState final_state;  // when requested
};

// Forward on CUDA at `mode` (inputs rounded to mode.dtype on upload). The
// output and the final state are poisoned first; callers check that they are
// finite. `final_levels` > 0 requests a final state with that many levels
// (exported canonical, then turned into the decode form by
// lla_state_convert if `final_decode_form`).
ForwardResult cuda_forward(const M2Problem& p, const Mode& mode, const HostState* initial = nullptr,
                           int64_t final_levels = 0, bool final_decode_form = false);
// The float64 CPU forward, the reference; its final state is canonical.
ForwardResult cpu_forward(const M2Problem& p, const HostState* initial = nullptr, int64_t final_levels = 0);

// Gradients of one backward (dense C order); d_initial when requested.
struct BackwardResult {
    std::vector<double> dq, dk, dv, dg, dl, d_initial;
};

// What a backward call is given beyond the problem: d_o [B,T,H,V], an
// initial state, d_final_state levels [N,H,Ls,K,V] (empty: none) and
// whether d_initial_state is requested (it has initial->Ls levels).
struct BackwardArgs {
    std::vector<double> d_o;
    const HostState* initial = nullptr;
    std::vector<double> d_final;
    int64_t final_levels = 0;
    bool want_d_initial = false;
};

// Backward on CUDA at `mode` (inputs and d_o rounded to mode.dtype on
// upload; gradients poisoned first, dq dk dv dl in mode.dtype, dg float32).
BackwardResult cuda_backward(const M2Problem& p, const Mode& mode, const BackwardArgs& a);
// The float64 CPU backward, the reference (pass the rounded problem and d_o).
BackwardResult cpu_backward(const M2Problem& p, const BackwardArgs& a);
// n values uniform in [-1, 1].
std::vector<double> random_values(size_t n, uint64_t seed);
// Whether every gradient of got is within `tolerance` of ref (relative
// Frobenius error), dg within dg_tolerance; *report lists each error.
bool gradients_within(const BackwardResult& got, const BackwardResult& ref, double tolerance, double dg_tolerance,
                      std::string* report);
// The bound the CUDA backward keeps for dg (docs/cuda.md, "Precision of dg"):
// dg is a reverse cumulative sum over the sequence, whose rounding grows
// like the square root of its chunks: 2x the tolerance up to 16 chunks
// of 64 tokens, times sqrt(chunks / 16) beyond.
double dg_tolerance(double tolerance, int64_t tokens_per_sequence);

// Decode-step tokens are an M2Problem with T == 1: its batch rows are the N
// sequences (q, k [N,1,G,K] hold the same elements as [N,G,K]).
M2Problem random_tokens(int64_t N, int64_t H, int64_t G, int64_t K, int64_t V, int64_t L, uint64_t seed);

// The inputs of a problem uploaded to CUDA memory at `dtype` (g at float32,
// float64 for float64): forward shapes, or, with `decode_step`, the token
// shapes of a decode step (no T axis; needs T == 1).
class DeviceInputs {
public:
    DeviceInputs(const M2Problem& p, int32_t dtype, bool decode_step = false);
    const lla_inputs& inputs() const { return inputs_; }

private:
    std::unique_ptr<DeviceArray> q_, k_, v_, g_, l_, cu_seqlens_;
    lla_inputs inputs_{};
};

// Decode step on tokens t (T == 1) in place on `state`; returns o [N,H,V].
std::vector<double> cuda_decode_step(const M2Problem& t, const Mode& mode, HostState* state);
std::vector<double> cpu_decode_step(const M2Problem& t, HostState* state);

// o[:, begin:begin+count] of an output [B, T, H, V] of problem p.
std::vector<double> token_slice(const std::vector<double>& o, const M2Problem& p, int64_t begin, int64_t count);

// ||got - ref|| / ||ref||; +inf when got has NaN/Inf or the sizes differ.
double relative_error(const std::vector<double>& got, const std::vector<double>& ref);
bool all_finite(const std::vector<double>& x);

// Throws with the call, status and lla_last_error() unless st == LLA_OK.
void expect_ok(lla_status st, const std::string& call);

}  // namespace lla::cudatest
