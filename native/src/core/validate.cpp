#include "core/validate.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/levels.h"
#include "core/error.h"
#include "core/tensor_check.h"

namespace lla {
namespace {

constexpr lla_status kInvalid = LLA_ERROR_INVALID_ARGUMENT;

lla_status null_argument(const char* name, const char* what) {
    return set_error(kInvalid, concat(name, " is NULL (", what, ")"));
}

lla_status check_config(const lla_config& c) {
    if (c.variant != LLA_VARIANT_MAMBA2 && c.variant != LLA_VARIANT_GATED_DELTANET)
        return set_error(kInvalid, concat("config.variant must be LLA_VARIANT_MAMBA2 (0) or "
                                          "LLA_VARIANT_GATED_DELTANET (1), got ", c.variant));
    if (c.backend != LLA_BACKEND_AUTO && c.backend != LLA_BACKEND_CPU && c.backend != LLA_BACKEND_CUDA)
        return set_error(kInvalid, concat("config.backend must be LLA_BACKEND_AUTO (0), _CPU (1) or "
                                          "_CUDA (2), got ", c.backend));
    if (c.math_mode != LLA_MATH_DEFAULT && c.math_mode != LLA_MATH_EXACT_FP32 &&
        c.math_mode != LLA_MATH_ALLOW_TF32)
        return set_error(kInvalid, concat("config.math_mode must be LLA_MATH_DEFAULT (0), "
                                          "_EXACT_FP32 (1) or _ALLOW_TF32 (2), got ", c.math_mode));
    if (c.num_threads < 0)
        return set_error(kInvalid, concat("config.num_threads must be >= 0 (0 = all hardware "
                                          "threads), got ", c.num_threads));
    if (!std::isfinite(c.scale))
        return set_error(kInvalid, concat("config.scale must be finite, got ", c.scale));
    return LLA_OK;
}

// The sizes of one call and where each comes from, for shape checks of the
// remaining tensors and their messages.
struct Shapes {
    Extent B{0, "B", "batch", ""}, T{0, "T", "tokens", ""}, G{0, "G", "groups", ""},
        K{0, "K", "key dim", ""}, H{0, "H", "heads", ""}, V{0, "V", "value dim", ""},
        L{0, "L", "levels", ""}, N{0, "N", "sequences", ""};
    Precision precision = Precision::F32;
    int32_t dtype = LLA_DTYPE_FLOAT32;  // of q, k, v
    std::string state_dtype_source;      // why states have their dtype; empty: the inputs' precision

    Dims dims() const {
        Dims d;
        d.B = B.size; d.T = T.size; d.H = H.size; d.G = G.size;
        d.K = K.size; d.V = V.size; d.L = L.size; d.N = N.size;
        return d;
    }
};

Extent from(const lla_tensor& t, const char* tensor, int dim, Extent like) {
    like.size = t.shape[dim];
    like.source = concat(tensor, ".shape[", dim, "]");
    return like;
}

Extent any_size(Extent like) {
    like.size = Extent::kAnySize;
    return like;
}

// q, k, v same floating dtype; g, l, beta per docs/c-api.md, "Shapes"; float64
// is all-or-nothing.
lla_status check_input_dtypes(const lla_config& config, const lla_inputs& in, Shapes* s) {
    LLA_TRY(check_dtype(in.q, "q", {LLA_DTYPE_FLOAT32, LLA_DTYPE_FLOAT64, LLA_DTYPE_BFLOAT16, LLA_DTYPE_FLOAT16},
                        "the compute dtype of the call"));
    const int32_t dt = in.q.dtype;
    const std::string as_q = concat("as q, which is ", dtype_name(dt));
    LLA_TRY(check_dtype(in.k, "k", {dt}, as_q));
    LLA_TRY(check_dtype(in.v, "v", {dt}, as_q));
    if (dt == LLA_DTYPE_FLOAT64) {
        const std::string all64 = "q is float64, so every floating tensor must be float64";
        LLA_TRY(check_dtype(in.g, "g", {LLA_DTYPE_FLOAT64}, all64));
        LLA_TRY(check_dtype(in.l, "l", {LLA_DTYPE_FLOAT64}, all64));
        if (config.variant == LLA_VARIANT_GATED_DELTANET)
            LLA_TRY(check_dtype(in.beta, "beta", {LLA_DTYPE_FLOAT64}, all64));
    } else {
        LLA_TRY(check_dtype(in.g, "g", {LLA_DTYPE_FLOAT32},
                            "log decays are float32 unless q is float64"));
        LLA_TRY(check_dtype(in.l, "l", {LLA_DTYPE_FLOAT32, dt}, "float32 or q's dtype"));
        if (config.variant == LLA_VARIANT_GATED_DELTANET)
            LLA_TRY(check_dtype(in.beta, "beta", {LLA_DTYPE_FLOAT32, dt}, "float32 or q's dtype"));
    }
    s->dtype = dt;
    s->precision = dt == LLA_DTYPE_FLOAT64 ? Precision::F64 : Precision::F32;
    return LLA_OK;
}

lla_status check_beta_presence(const lla_config& config, const lla_tensor& beta) {
    if (config.variant == LLA_VARIANT_GATED_DELTANET && !is_present(beta))
        return set_error(kInvalid, "beta is absent (ndim 0) but config.variant is "
                                   "LLA_VARIANT_GATED_DELTANET, which needs it");
    if (config.variant == LLA_VARIANT_MAMBA2 && is_present(beta))
        return set_error(kInvalid, concat("beta must be absent (ndim 0) for LLA_VARIANT_MAMBA2, got ndim ",
                                          beta.ndim, " (set config.variant to "
                                                     "LLA_VARIANT_GATED_DELTANET to use it)"));
    return LLA_OK;
}

// The documented limits of a call (loglinear.h, "Limits"), checked before any
// size is computed from the shapes: stride-0 broadcasts make huge shapes
// cost no memory, so every product of dims below must fit int64 and every
// K x V matrix an int.
constexpr int64_t kMaxHeadDim = 8192;               // K, V
constexpr int64_t kMaxHeads = 65536;                // H (and G)
constexpr int64_t kMaxLevels = 64;                  // L, state Ls
constexpr int64_t kMaxTokens = int64_t{1} << 40;    // B * T per call; N per decode step
constexpr int64_t kMaxPosition = int64_t{1} << 62;  // start position + tokens of a sequence
constexpr int64_t kMaxEmptySequences = 4096;        // cu_seqlens: N <= T + this

lla_status check_limit(const Extent& e, int64_t limit) {
    if (e.size <= limit) return LLA_OK;
    return set_error(kInvalid, concat(e.source, " (", e.symbol, ", ", e.meaning, ") = ", e.size,
                                      " exceeds the limit of ", limit, " (loglinear.h, \"Limits\")"));
}

lla_status check_limits(const Shapes& s) {
    LLA_TRY(check_limit(s.K, kMaxHeadDim));
    LLA_TRY(check_limit(s.V, kMaxHeadDim));
    LLA_TRY(check_limit(s.H, kMaxHeads));
    LLA_TRY(check_limit(s.L, kMaxLevels));
    int64_t tokens = 0;
    if (__builtin_mul_overflow(s.B.size, s.T.size, &tokens) || tokens > kMaxTokens)
        return set_error(kInvalid, concat(s.B.source, " x ", s.T.source, " (B x T, tokens of the call) = ", s.B.size,
                                          " x ", s.T.size, " exceeds the limit of 2^40 tokens per call "
                                          "(loglinear.h, \"Limits\")"));
    return LLA_OK;
}

// q, k [B,T,G,K]; v [B,T,H,V]; g, beta [B,T,H]; l [B,T,H,L]; cu_seqlens [N+1].
lla_status check_sequence_inputs(const lla_config& config, const lla_inputs& in, Shapes* s) {
    LLA_TRY(check_descriptor(in.q, "q"));
    LLA_TRY(check_shape(in.q, "q", {any_size(s->B), any_size(s->T), any_size(s->G), any_size(s->K)}));
    s->B = from(in.q, "q", 0, s->B);
    s->T = from(in.q, "q", 1, s->T);
    s->G = from(in.q, "q", 2, s->G);
    s->K = from(in.q, "q", 3, s->K);
    LLA_TRY(check_descriptor(in.k, "k"));
    LLA_TRY(check_shape(in.k, "k", {s->B, s->T, s->G, s->K}));
    LLA_TRY(check_descriptor(in.v, "v"));
    LLA_TRY(check_shape(in.v, "v", {s->B, s->T, any_size(s->H), any_size(s->V)}));
    s->H = from(in.v, "v", 2, s->H);
    s->V = from(in.v, "v", 3, s->V);
    if (s->H.size % s->G.size != 0)
        return set_error(kInvalid, concat("v.shape[2] (H, heads) = ", s->H.size,
                                          " must be a multiple of q.shape[2] (G, groups) = ", s->G.size));
    LLA_TRY(check_descriptor(in.g, "g"));
    LLA_TRY(check_shape(in.g, "g", {s->B, s->T, s->H}));
    LLA_TRY(check_descriptor(in.l, "l"));
    LLA_TRY(check_shape(in.l, "l", {s->B, s->T, s->H, any_size(s->L)}));
    s->L = from(in.l, "l", 3, s->L);
    LLA_TRY(check_beta_presence(config, in.beta));
    if (is_present(in.beta)) {
        LLA_TRY(check_descriptor(in.beta, "beta"));
        LLA_TRY(check_shape(in.beta, "beta", {s->B, s->T, s->H}));
    }
    LLA_TRY(check_input_dtypes(config, in, s));
    LLA_TRY(check_limits(*s));
    if (!is_present(in.cu_seqlens)) {
        s->N.size = s->B.size;
        s->N.source = "q.shape[0] (one sequence per batch row: no cu_seqlens)";
        return LLA_OK;
    }
    const lla_tensor& cu = in.cu_seqlens;
    LLA_TRY(check_descriptor(cu, "cu_seqlens"));
    if (cu.ndim != 1)
        return set_error(kInvalid, concat("cu_seqlens must have 1 dimension [N + 1], got ndim ", cu.ndim));
    if (cu.shape[0] < 2)
        return set_error(kInvalid, concat("cu_seqlens.shape[0] must be at least 2 (N + 1 offsets for "
                                          "N >= 1 sequences), got ", cu.shape[0]));
    LLA_TRY(check_dtype(cu, "cu_seqlens", {LLA_DTYPE_INT64}, "token offsets"));
    if (s->B.size != 1)
        return set_error(kInvalid, concat("q.shape[0] (B, batch) must be 1 when cu_seqlens is given "
                                          "(sequences are packed along T), got ", s->B.size));
    // Bounded before anything is read or allocated in proportion to it.
    if (cu.shape[0] - 1 > s->T.size + kMaxEmptySequences)
        return set_error(kInvalid, concat("cu_seqlens.shape[0] - 1 (N, sequences) = ", cu.shape[0] - 1,
                                          " exceeds q.shape[1] (T, tokens) + ", kMaxEmptySequences, " = ",
                                          s->T.size + kMaxEmptySequences, ": at most ", kMaxEmptySequences,
                                          " more sequences than tokens (loglinear.h, \"Limits\")"));
    s->N.size = cu.shape[0] - 1;
    s->N.source = "cu_seqlens.shape[0] - 1";
    return LLA_OK;
}

// Decode token tensors: q, k [N,G,K]; v [N,H,V]; g, beta [N,H]; l [N,H,L].
lla_status check_token_inputs(const lla_config& config, const lla_inputs& in, Shapes* s) {
    LLA_TRY(check_descriptor(in.q, "q"));
    LLA_TRY(check_shape(in.q, "q", {any_size(s->N), any_size(s->G), any_size(s->K)}));
    s->N = from(in.q, "q", 0, s->N);
    s->G = from(in.q, "q", 1, s->G);
    s->K = from(in.q, "q", 2, s->K);
    s->B = s->N;
    s->T.size = 1;
    LLA_TRY(check_descriptor(in.k, "k"));
    LLA_TRY(check_shape(in.k, "k", {s->N, s->G, s->K}));
    LLA_TRY(check_descriptor(in.v, "v"));
    LLA_TRY(check_shape(in.v, "v", {s->N, any_size(s->H), any_size(s->V)}));
    s->H = from(in.v, "v", 1, s->H);
    s->V = from(in.v, "v", 2, s->V);
    if (s->H.size % s->G.size != 0)
        return set_error(kInvalid, concat("v.shape[1] (H, heads) = ", s->H.size,
                                          " must be a multiple of q.shape[1] (G, groups) = ", s->G.size));
    LLA_TRY(check_descriptor(in.g, "g"));
    LLA_TRY(check_shape(in.g, "g", {s->N, s->H}));
    LLA_TRY(check_descriptor(in.l, "l"));
    LLA_TRY(check_shape(in.l, "l", {s->N, s->H, any_size(s->L)}));
    s->L = from(in.l, "l", 2, s->L);
    LLA_TRY(check_beta_presence(config, in.beta));
    if (is_present(in.beta)) {
        LLA_TRY(check_descriptor(in.beta, "beta"));
        LLA_TRY(check_shape(in.beta, "beta", {s->N, s->H}));
    }
    if (is_present(in.cu_seqlens))
        return set_error(kInvalid, concat("cu_seqlens must be absent (ndim 0) for a decode step "
                                          "(one token per sequence), got ndim ", in.cu_seqlens.ndim));
    LLA_TRY(check_input_dtypes(config, in, s));
    return check_limits(*s);
}

// A tensor whose shape and dtype equal those of an input (o as v, dq as q...).
lla_status check_like(const lla_tensor& t, const std::string& name, const std::vector<Extent>& shape,
                      const lla_tensor& input, const char* input_name) {
    LLA_TRY(check_descriptor(t, name));
    LLA_TRY(check_shape(t, name, shape));
    return check_dtype(t, name, {input.dtype}, concat("as ", input_name));
}

int32_t state_dtype(Precision p) { return p == Precision::F64 ? LLA_DTYPE_FLOAT64 : LLA_DTYPE_FLOAT32; }

std::string state_dtype_rule(Precision p) {
    return p == Precision::F64 ? "states are float64 when the inputs are float64"
                               : "states are float32 unless the inputs are float64";
}

enum class LogDecay { Allowed, Forbidden };

// State levels (or their gradient) [N,H,Ls,K,V] in the state dtype, any Ls.
lla_status check_state_levels(const lla_tensor& t, const std::string& name, const Shapes& s) {
    LLA_TRY(check_descriptor(t, name));
    LLA_TRY(check_shape(t, name, {s.N, s.H, Extent{Extent::kAnySize, "Ls", "state levels", ""}, s.K, s.V}));
    LLA_TRY(check_limit(from(t, name.c_str(), 2, Extent{0, "Ls", "state levels", ""}), kMaxLevels));
    return check_dtype(t, name, {state_dtype(s.precision)},
                       s.state_dtype_source.empty() ? state_dtype_rule(s.precision) : s.state_dtype_source);
}

// levels [N,H,Ls,K,V], log_decay [N,H,Ls] (optional), position [N] int64.
lla_status check_state(const lla_state& st, const std::string& name, const Shapes& s, LogDecay log_decay) {
    const std::string levels = name + ".levels";
    LLA_TRY(check_state_levels(st.levels, levels, s));
    const Extent Ls = from(st.levels, levels.c_str(), 2, Extent{Extent::kAnySize, "Ls", "state levels", ""});
    if (is_present(st.log_decay)) {
        const std::string ld = name + ".log_decay";
        if (log_decay == LogDecay::Forbidden)
            return set_error(kInvalid, concat(ld, " must be absent (ndim 0): a final state is exported in the "
                                                  "canonical form (lla_state_convert gives the decode form), got ndim ",
                                              st.log_decay.ndim));
        LLA_TRY(check_descriptor(st.log_decay, ld));
        LLA_TRY(check_shape(st.log_decay, ld, {s.N, s.H, Ls}));
        LLA_TRY(check_dtype(st.log_decay, ld, {state_dtype(s.precision)}, concat("as ", levels)));
    }
    const std::string position = name + ".position";
    LLA_TRY(check_descriptor(st.position, position));
    LLA_TRY(check_shape(st.position, position, {s.N}));
    return check_dtype(st.position, position, {LLA_DTYPE_INT64}, "positions");
}

enum class InPlace { Allowed, Forbidden };

// Same memory, dtype and layout: an in-place update of that tensor.
bool same_view(const lla_tensor& a, const lla_tensor& b) {
    if (a.data != b.data || a.dtype != b.dtype || a.ndim != b.ndim) return false;
    for (int32_t i = 0; i < a.ndim; ++i)
        if (a.shape[i] != b.shape[i] || a.strides[i] != b.strides[i]) return false;
    return true;
}

// The tensors of one call, for the checks that span several of them.
class Arguments {
public:
    void add(const lla_tensor& t, std::string name, bool written) {
        if (is_present(t)) args_.push_back({&t, std::move(name), written});
    }
    void add_state(const lla_state& st, const std::string& name, bool written) {
        add(st.levels, name + ".levels", written);
        add(st.log_decay, name + ".log_decay", written);
        add(st.position, name + ".position", written);
    }

    // One device for all, and the backend that serves it.
    lla_status pick_backend(int32_t config_backend, Backend** backend) const {
        const Arg& first = args_.front();
        for (const Arg& a : args_)
            if (a.t->device_type != first.t->device_type || a.t->device_index != first.t->device_index)
                return set_error(kInvalid, concat("all tensors of a call must be on one device: ", first.name,
                                                  " is on ", device_name(first.t->device_type, first.t->device_index),
                                                  " but ", a.name, " is on ",
                                                  device_name(a.t->device_type, a.t->device_index)));
        return resolve_backend(config_backend, first.t->device_type, first.name, backend);
    }

    lla_status check_memory(Backend& backend) const {
        for (const Arg& a : args_) LLA_TRY(backend.check_memory(*a.t, a.name.c_str()));
        return LLA_OK;
    }

    // A written tensor aliases neither itself nor any other argument, except,
    // where the call allows in-place work, a read tensor it exactly equals.
    lla_status check_aliasing(InPlace in_place) const {
        for (const Arg& w : args_) {
            if (!w.written) continue;
            LLA_TRY(check_no_self_overlap(*w.t, w.name));
            const ByteRange wr = byte_range(*w.t);
            for (const Arg& a : args_) {
                if (&a == &w || !byte_range(*a.t).overlaps(wr)) continue;
                if (in_place == InPlace::Allowed && !a.written && same_view(*a.t, *w.t)) continue;
                return set_error(kInvalid, concat(w.name, " overlaps ", a.name, " in memory; ",
                                                  w.name, " is written by this call, so it must not "
                                                              "share memory with any other argument"));
            }
        }
        return LLA_OK;
    }

private:
    struct Arg {
        const lla_tensor* t;
        std::string name;
        bool written;
    };
    std::vector<Arg> args_;
};

// The elements of a 1-D int64 tensor, read through the backend.
lla_status read_int64s(Backend& backend, const lla_tensor& t, void* stream, std::vector<int64_t>* out) {
    const int64_t count = t.shape[0];
    out->assign(static_cast<size_t>(count), 0);
    const int64_t* base = static_cast<const int64_t*>(t.data);
    if (t.strides[0] == 1 || count == 1)
        return backend.copy_to_host(out->data(), base, static_cast<size_t>(count) * sizeof(int64_t), stream);
    for (int64_t i = 0; i < count; ++i)
        LLA_TRY(backend.copy_to_host(&(*out)[i], base + i * t.strides[0], sizeof(int64_t), stream));
    return LLA_OK;
}

// Sequences of the call from cu_seqlens (packed) or the batch rows, all fresh.
lla_status read_sequences(Backend& backend, const lla_inputs& in, const Shapes& s, void* stream,
                          std::vector<Sequence>* sequences) {
    sequences->clear();
    if (!is_present(in.cu_seqlens)) {
        for (int64_t b = 0; b < s.B.size; ++b) sequences->push_back({b, 0, s.T.size, 0});
        return LLA_OK;
    }
    std::vector<int64_t> cu;
    LLA_TRY(read_int64s(backend, in.cu_seqlens, stream, &cu));
    if (cu[0] != 0) return set_error(kInvalid, concat("cu_seqlens[0] must be 0, got ", cu[0]));
    for (size_t i = 1; i < cu.size(); ++i) {
        if (cu[i] < cu[i - 1])
            return set_error(kInvalid, concat("cu_seqlens must be non-decreasing: cu_seqlens[", i, "] = ", cu[i],
                                              " < cu_seqlens[", i - 1, "] = ", cu[i - 1]));
        sequences->push_back({0, cu[i - 1], cu[i] - cu[i - 1], 0});
    }
    if (cu.back() != s.T.size)
        return set_error(kInvalid, concat("cu_seqlens[", cu.size() - 1, "] (the last offset) must equal q.shape[1] "
                                          "(T, tokens) = ", s.T.size, ", got ", cu.back()));
    return LLA_OK;
}

// Start positions from an initial state; every position of every sequence
// must fit int64 and the levels, and so must its final position the levels
// of `final_levels` (an exported final state, or its gradient) when present.
lla_status check_positions(Backend& backend, const lla_state* initial, const lla_tensor* final_levels,
                           const std::string& final_name, const Shapes& s, void* stream,
                           std::vector<Sequence>* sequences) {
    std::vector<int64_t> start(sequences->size(), 0);
    if (initial) LLA_TRY(read_int64s(backend, initial->position, stream, &start));
    for (size_t i = 0; i < sequences->size(); ++i) {
        Sequence& q = (*sequences)[i];
        const int64_t p = start[i];
        if (initial) {
            if (p < 0)
                return set_error(kInvalid, concat("initial_state.position[", i, "] must be >= 0, got ", p));
            const int64_t Ls = initial->levels.shape[2];
            if (Ls < level_count(p))
                return set_error(kInvalid, concat("sequence ", i, " is at initial_state.position[", i, "] = ", p,
                                                  ", so initial_state.levels.shape[2] (Ls, state levels) must be "
                                                  ">= bit_length(", p, ") + 1 = ", level_count(p), ", got ", Ls));
        }
        q.start_position = p;
        int64_t end = 0;
        if (__builtin_add_overflow(p, q.length, &end) || end > kMaxPosition)
            return set_error(kInvalid, concat("sequence ", i, " starts at position ", p, " and has ", q.length,
                                              " tokens: it would end beyond position 2^62, the limit "
                                              "(loglinear.h, \"Limits\")"));
        if (q.length > 0 && s.L.size < level_count(end - 1))
            return set_error(kInvalid, concat("sequence ", i, " (positions ", p, "..", end - 1,
                                              ") needs more levels than l has: ", s.L.source,
                                              " (L, levels) must be >= bit_length(", end - 1, ") + 1 = ",
                                              level_count(end - 1), ", got ", s.L.size));
        if (final_levels && final_levels->shape[2] < level_count(end))
            return set_error(kInvalid, concat("sequence ", i, " ends ready for position ", end, ", so ", final_name,
                                              ".shape[2] (Ls, state levels) must be >= bit_length(", end,
                                              ") + 1 = ", level_count(end), ", got ", final_levels->shape[2]));
    }
    return LLA_OK;
}

// Checks shared by forward and backward up to the backend and sequences.
lla_status check_sequence_call(const lla_config* config, const lla_inputs* inputs,
                               const lla_state* initial_state, Shapes* s, Arguments* args) {
    if (!config) return null_argument("config", "pass lla_config_default() or your own configuration");
    if (!inputs) return null_argument("inputs", "q, k, v, g, l are required");
    LLA_TRY(check_config(*config));
    LLA_TRY(check_sequence_inputs(*config, *inputs, s));
    if (initial_state) LLA_TRY(check_state(*initial_state, "initial_state", *s, LogDecay::Allowed));
    args->add(inputs->q, "q", false);
    args->add(inputs->k, "k", false);
    args->add(inputs->v, "v", false);
    args->add(inputs->g, "g", false);
    args->add(inputs->l, "l", false);
    args->add(inputs->beta, "beta", false);
    args->add(inputs->cu_seqlens, "cu_seqlens", false);
    if (initial_state) args->add_state(*initial_state, "initial_state", false);
    return LLA_OK;
}

lla_status pick_and_check(const lla_config& config, const Arguments& args, Backend** backend,
                          InPlace in_place = InPlace::Forbidden) {
    LLA_TRY(args.pick_backend(config.backend, backend));
    LLA_TRY(args.check_memory(**backend));
    return args.check_aliasing(in_place);
}

// The rest of forward and backward once their outputs are checked: backend,
// sequences, positions, and the fields both problems share.
template <class Problem>
lla_status finish_sequence_call(const lla_config& config, const lla_inputs& inputs, const lla_state* initial_state,
                                const lla_tensor* final_levels, const std::string& final_name, const Shapes& s,
                                const Arguments& args, void* workspace, size_t workspace_bytes, void* stream,
                                Problem* problem, Backend** backend) {
    LLA_TRY(pick_and_check(config, args, backend));
    std::vector<Sequence> sequences;
    LLA_TRY(read_sequences(**backend, inputs, s, stream, &sequences));
    LLA_TRY(check_positions(**backend, initial_state, final_levels, final_name, s, stream, &sequences));
    problem->config = config;
    problem->dims = s.dims();
    problem->precision = s.precision;
    problem->inputs = inputs;
    problem->sequences = std::move(sequences);
    problem->initial_state = initial_state;
    problem->workspace = workspace;
    problem->workspace_bytes = workspace_bytes;
    problem->stream = stream;
    return LLA_OK;
}

}  // namespace

lla_status require_cuda_backend(const std::string& subject, Backend** out) {
    Backend* cuda = cuda_backend();
    if (!cuda)
        return set_error(LLA_ERROR_UNSUPPORTED, concat(subject, " but this build of loglinear has no CUDA "
                                                                "backend (configure with -DLLA_CUDA=ON)"));
    if (!cuda->available())
        return set_error(LLA_ERROR_UNSUPPORTED, concat(subject, " but the CUDA backend has no usable device "
                                                                "(no GPU, or no driver) on this machine"));
    *out = cuda;
    return LLA_OK;
}

lla_status resolve_backend(int32_t backend, int32_t device_type, const std::string& tensor_name,
                           Backend** out) {
    const bool on_cuda = device_type == LLA_DEVICE_CUDA;
    if (backend == LLA_BACKEND_CPU && on_cuda)
        return set_error(kInvalid, concat("config.backend is LLA_BACKEND_CPU but ", tensor_name,
                                          " is CUDA memory (device_type LLA_DEVICE_CUDA); the CPU backend "
                                          "reads host memory only"));
    if (backend == LLA_BACKEND_CUDA && !on_cuda)
        return set_error(kInvalid, concat("config.backend is LLA_BACKEND_CUDA but ", tensor_name,
                                          " is host memory (device_type LLA_DEVICE_CPU); pass device "
                                          "memory with device_type LLA_DEVICE_CUDA"));
    if (!on_cuda) {
        *out = &cpu_backend();
        return LLA_OK;
    }
    return require_cuda_backend(concat(tensor_name, " is CUDA memory"), out);
}

lla_status validate_forward(const lla_config* config, const lla_inputs* inputs,
                            const lla_state* initial_state, const lla_tensor* o,
                            const lla_state* final_state, void* workspace, size_t workspace_bytes,
                            void* stream, bool is_size_query, ForwardProblem* problem,
                            Backend** backend) {
    Shapes s;
    Arguments args;
    LLA_TRY(check_sequence_call(config, inputs, initial_state, &s, &args));
    if (!is_size_query) {
        if (!o) return null_argument("o", "the output tensor [B, T, H, V] is required");
        LLA_TRY(check_like(*o, "o", {s.B, s.T, s.H, s.V}, inputs->v, "v"));
        args.add(*o, "o", true);
        if (final_state) {
            LLA_TRY(check_state(*final_state, "final_state", s, LogDecay::Forbidden));
            args.add_state(*final_state, "final_state", true);
        }
    }
    problem->o = is_size_query ? nullptr : o;
    problem->final_state = is_size_query ? nullptr : final_state;
    return finish_sequence_call(*config, *inputs, initial_state,
                                problem->final_state ? &problem->final_state->levels : nullptr,
                                "final_state.levels", s, args, workspace, workspace_bytes, stream, problem, backend);
}

lla_status validate_backward(const lla_config* config, const lla_inputs* inputs,
                             const lla_state* initial_state, const lla_tensor* d_o,
                             const lla_tensor* d_final_state, const lla_gradients* grads, void* workspace,
                             size_t workspace_bytes, void* stream, bool is_size_query, BackwardProblem* problem,
                             Backend** backend) {
    Shapes s;
    Arguments args;
    LLA_TRY(check_sequence_call(config, inputs, initial_state, &s, &args));
    if (!is_size_query) {
        if (!d_o) return null_argument("d_o", "the upstream gradient dLoss/do [B, T, H, V] is required");
        if (!grads) return null_argument("grads", "the gradient outputs dq, dk, dv, dg, dl are required");
        LLA_TRY(check_like(*d_o, "d_o", {s.B, s.T, s.H, s.V}, inputs->v, "v"));
        args.add(*d_o, "d_o", false);
        if (config->variant == LLA_VARIANT_MAMBA2 && is_present(grads->dbeta))
            return set_error(kInvalid, concat("dbeta must be absent (ndim 0) for LLA_VARIANT_MAMBA2, got ndim ",
                                              grads->dbeta.ndim));
        struct Gradient {
            const lla_tensor& grad;
            const char* name;
            std::vector<Extent> shape;
            const lla_tensor& input;
            const char* input_name;
        };
        const Gradient gradients[] = {
            {grads->dq, "dq", {s.B, s.T, s.G, s.K}, inputs->q, "q"},
            {grads->dk, "dk", {s.B, s.T, s.G, s.K}, inputs->k, "k"},
            {grads->dv, "dv", {s.B, s.T, s.H, s.V}, inputs->v, "v"},
            {grads->dg, "dg", {s.B, s.T, s.H}, inputs->g, "g"},
            {grads->dl, "dl", {s.B, s.T, s.H, s.L}, inputs->l, "l"},
            {grads->dbeta, "dbeta", {s.B, s.T, s.H}, inputs->beta, "beta"},
        };
        for (const Gradient& g : gradients) {
            if (&g.grad == &grads->dbeta && config->variant != LLA_VARIANT_GATED_DELTANET) continue;
            LLA_TRY(check_like(g.grad, g.name, g.shape, g.input, g.input_name));
            args.add(g.grad, g.name, true);
        }
        if (d_final_state && !is_present(*d_final_state)) d_final_state = nullptr;
        if (d_final_state) {
            LLA_TRY(check_state_levels(*d_final_state, "d_final_state", s));
            args.add(*d_final_state, "d_final_state", false);
        }
        const lla_tensor& d_initial = grads->d_initial_state;
        if (is_present(d_initial)) {
            if (!initial_state)
                return set_error(kInvalid, concat("grads.d_initial_state is present (ndim ", d_initial.ndim,
                                                  ") but initial_state is NULL: fresh sequences start from a "
                                                  "constant zero state, which has no gradient"));
            LLA_TRY(check_state_levels(d_initial, "grads.d_initial_state", s));
            if (d_initial.shape[2] != initial_state->levels.shape[2])
                return set_error(kInvalid, concat("grads.d_initial_state.shape[2] (Ls, state levels) must equal "
                                                  "initial_state.levels.shape[2] = ", initial_state->levels.shape[2],
                                                  ", got ", d_initial.shape[2]));
            args.add(d_initial, "grads.d_initial_state", true);
        }
    }
    problem->size_query = is_size_query;
    problem->d_o = is_size_query ? nullptr : d_o;
    problem->d_final_state = is_size_query ? nullptr : d_final_state;
    problem->grads = is_size_query ? lla_gradients{} : *grads;
    return finish_sequence_call(*config, *inputs, initial_state, problem->d_final_state, "d_final_state", s, args,
                                workspace, workspace_bytes, stream, problem, backend);
}

lla_status validate_decode(const lla_config* config, const lla_inputs* token,
                           const lla_state* state, const lla_tensor* o, void* stream,
                           DecodeProblem* problem, Backend** backend) {
    if (!config) return null_argument("config", "pass lla_config_default() or your own configuration");
    if (!token) return null_argument("token", "q, k, v, g, l of one token per sequence are required");
    if (!state) return null_argument("state", "the decode step advances a state in place");
    if (!o) return null_argument("o", "the output tensor [N, H, V] is required");
    LLA_TRY(check_config(*config));
    Shapes s;
    LLA_TRY(check_token_inputs(*config, *token, &s));
    LLA_TRY(check_like(*o, "o", {s.N, s.H, s.V}, token->v, "v"));
    LLA_TRY(check_state(*state, "state", s, LogDecay::Allowed));
    Arguments args;
    args.add(token->q, "q", false);
    args.add(token->k, "k", false);
    args.add(token->v, "v", false);
    args.add(token->g, "g", false);
    args.add(token->l, "l", false);
    args.add(token->beta, "beta", false);
    args.add(*o, "o", true);
    args.add_state(*state, "state", true);
    LLA_TRY(pick_and_check(*config, args, backend));
    std::vector<int64_t> positions;
    LLA_TRY(read_int64s(**backend, state->position, stream, &positions));
    const int64_t Ls = state->levels.shape[2];
    for (size_t i = 0; i < positions.size(); ++i) {
        const int64_t p = positions[i];
        if (p < 0 || p >= kMaxPosition)
            return set_error(kInvalid, concat("state.position[", i, "] must be in 0..2^62 - 1 (the step "
                                              "advances it by one; positions end at 2^62, loglinear.h, \"Limits\"), got ", p));
        if (s.L.size < level_count(p))
            return set_error(kInvalid, concat("sequence ", i, " is at state.position[", i, "] = ", p,
                                              ", which needs more levels than l has: l.shape[2] (L, levels) "
                                              "must be >= bit_length(", p, ") + 1 = ", level_count(p), ", got ",
                                              s.L.size));
        if (Ls < level_count(p + 1))
            return set_error(kInvalid, concat("sequence ", i, " advances to position ", p + 1,
                                              ", so state.levels.shape[2] (Ls, state levels) must be >= "
                                              "bit_length(", p + 1, ") + 1 = ", level_count(p + 1), ", got ", Ls));
    }
    problem->config = *config;
    problem->dims = s.dims();
    problem->precision = s.precision;
    problem->token = *token;
    problem->positions = std::move(positions);
    problem->state = state;
    problem->o = o;
    problem->stream = stream;
    return LLA_OK;
}

lla_status validate_convert(const lla_config* config, const lla_state* src, const lla_state* dst,
                            void* stream, ConvertProblem* problem, Backend** backend) {
    if (!config) return null_argument("config", "pass lla_config_default() or your own configuration");
    if (!src) return null_argument("src", "the state to convert");
    if (!dst) return null_argument("dst", "the state to write");
    LLA_TRY(check_config(*config));
    // The source state defines the sizes; the destination must match them.
    LLA_TRY(check_descriptor(src->levels, "src.levels"));
    Shapes s;
    LLA_TRY(check_shape(src->levels, "src.levels",
                        {any_size(s.N), any_size(s.H), Extent{Extent::kAnySize, "Ls", "state levels", ""},
                         any_size(s.K), any_size(s.V)}));
    LLA_TRY(check_dtype(src->levels, "src.levels", {LLA_DTYPE_FLOAT32, LLA_DTYPE_FLOAT64},
                        "states are float32, or float64 for float64 inputs"));
    s.N = from(src->levels, "src.levels", 0, s.N);
    s.H = from(src->levels, "src.levels", 1, s.H);
    s.K = from(src->levels, "src.levels", 3, s.K);
    s.V = from(src->levels, "src.levels", 4, s.V);
    LLA_TRY(check_limits(s));  // K, V, H (no tokens or level weights in a conversion)
    s.precision = src->levels.dtype == LLA_DTYPE_FLOAT64 ? Precision::F64 : Precision::F32;
    s.state_dtype_source = concat("as src.levels, which is ", dtype_name(src->levels.dtype));
    LLA_TRY(check_state(*src, "src", s, LogDecay::Allowed));
    LLA_TRY(check_state(*dst, "dst", s, LogDecay::Allowed));
    const int64_t Ls = src->levels.shape[2];
    if (dst->levels.shape[2] != Ls)
        return set_error(kInvalid, concat("dst.levels.shape[2] (Ls, state levels) must equal src.levels.shape[2] = ",
                                          Ls, ", got ", dst->levels.shape[2]));
    Arguments args;
    args.add_state(*src, "src", false);
    args.add_state(*dst, "dst", true);
    // dst may be src itself (each part exactly), converting in place.
    LLA_TRY(pick_and_check(*config, args, backend, InPlace::Allowed));
    std::vector<int64_t> positions;
    LLA_TRY(read_int64s(**backend, src->position, stream, &positions));
    for (size_t i = 0; i < positions.size(); ++i) {
        const int64_t p = positions[i];
        if (p < 0) return set_error(kInvalid, concat("src.position[", i, "] must be >= 0, got ", p));
        if (Ls < level_count(p))
            return set_error(kInvalid, concat("src.position[", i, "] = ", p, " needs src.levels.shape[2] (Ls, "
                                              "state levels) >= bit_length(", p, ") + 1 = ", level_count(p),
                                              ", got ", Ls));
    }
    Dims d;
    d.B = d.N = s.N.size;
    d.T = 1;
    d.H = s.H.size;
    d.G = 1;
    d.K = s.K.size;
    d.V = s.V.size;
    d.L = Ls;
    problem->config = *config;
    problem->dims = d;
    problem->precision = s.precision;
    problem->src = src;
    problem->dst = dst;
    problem->stream = stream;
    return LLA_OK;
}

}  // namespace lla
