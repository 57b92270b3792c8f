#include "case_runner.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

#include "device_memory.h"

namespace lla::caseio {

ComputeDtype parse_compute_dtype(const std::string& text) {
    if (text == "f64") return ComputeDtype::F64;
    if (text == "f32") return ComputeDtype::F32;
    if (text == "bf16") return ComputeDtype::BF16;
    throw std::invalid_argument("dtype must be f64, f32 or bf16, got \"" + text + "\"");
}

const char* compute_dtype_name(ComputeDtype dtype) {
    switch (dtype) {
        case ComputeDtype::F64: return "f64";
        case ComputeDtype::F32: return "f32";
        case ComputeDtype::BF16: return "bf16";
    }
    return "?";
}

double spec_tolerance(ComputeDtype dtype) {
    switch (dtype) {
        case ComputeDtype::F64: return 1e-10;
        case ComputeDtype::F32: return 1e-5;
        case ComputeDtype::BF16: return 1e-2;
    }
    return 0;
}

ApiError::ApiError(const std::string& call, lla_status status, const std::string& message)
    : std::runtime_error(call + " failed with " + lla_status_name(status) + ": " + message), status_(status) {}

namespace {

// The lla_dtype a tensor named `name` (an input, output or state part) is
// stored in when computing at `dtype`: float32 log decays and states unless
// everything is float64.
int32_t storage_dtype(const std::string& name, ComputeDtype dtype) {
    if (name == "cu_seqlens" || name == "position") return LLA_DTYPE_INT64;
    switch (dtype) {
        case ComputeDtype::F64: return LLA_DTYPE_FLOAT64;
        case ComputeDtype::F32: return LLA_DTYPE_FLOAT32;
        case ComputeDtype::BF16:
            return name == "g" || name == "dg" || name == "state" ? LLA_DTYPE_FLOAT32 : LLA_DTYPE_BFLOAT16;
    }
    return LLA_DTYPE_FLOAT64;
}

// bfloat16 with round-to-nearest-even; NaN stays a (quiet) NaN.
uint16_t float_to_bf16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if (std::isnan(f)) return 0x7fc0;
    u += 0x7fffu + ((u >> 16) & 1u);
    return static_cast<uint16_t>(u >> 16);
}

float bf16_to_float(uint16_t h) {
    const uint32_t u = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

size_t element_size(int32_t dtype) {
    return dtype == LLA_DTYPE_FLOAT64 || dtype == LLA_DTYPE_INT64 ? 8 : dtype == LLA_DTYPE_FLOAT32 ? 4 : 2;
}

std::vector<unsigned char> encode(const std::vector<double>& values, int32_t dtype) {
    std::vector<unsigned char> bytes(values.size() * element_size(dtype));
    for (size_t i = 0; i < values.size(); ++i) {
        unsigned char* p = bytes.data() + i * element_size(dtype);
        if (dtype == LLA_DTYPE_FLOAT64) {
            std::memcpy(p, &values[i], 8);
        } else if (dtype == LLA_DTYPE_FLOAT32) {
            const float f = static_cast<float>(values[i]);
            std::memcpy(p, &f, 4);
        } else if (dtype == LLA_DTYPE_BFLOAT16) {
            const uint16_t h = float_to_bf16(static_cast<float>(values[i]));
            std::memcpy(p, &h, 2);
        } else {
            const int64_t x = static_cast<int64_t>(values[i]);
            std::memcpy(p, &x, 8);
        }
    }
    return bytes;
}

std::vector<double> decode(const std::vector<unsigned char>& bytes, int32_t dtype) {
    std::vector<double> values(bytes.size() / element_size(dtype));
    for (size_t i = 0; i < values.size(); ++i) {
        const unsigned char* p = bytes.data() + i * element_size(dtype);
        if (dtype == LLA_DTYPE_FLOAT64) {
            std::memcpy(&values[i], p, 8);
        } else if (dtype == LLA_DTYPE_FLOAT32) {
            float f;
            std::memcpy(&f, p, 4);
            values[i] = f;
        } else if (dtype == LLA_DTYPE_BFLOAT16) {
            uint16_t h;
            std::memcpy(&h, p, 2);
            values[i] = bf16_to_float(h);
        } else {
            int64_t x;
            std::memcpy(&x, p, 8);
            values[i] = static_cast<double>(x);
        }
    }
    return values;
}

// A dense C-order tensor in its storage dtype on the device of the run.
class Tensor {
public:
    Tensor(std::vector<int64_t> shape, int32_t dtype, int32_t device_type) : dtype_(dtype) {
        array_shape_ = std::move(shape);
        int64_t count = 1;
        for (int64_t d : array_shape_) count *= d;
        count_ = count;
        buffer_ = std::make_unique<DeviceBuffer>(static_cast<size_t>(count) * element_size(dtype), device_type, 0);
        const lla_status st = lla_tensor_make_contiguous(&desc_, buffer_->data(), dtype, device_type, 0,
                                                         static_cast<int32_t>(array_shape_.size()),
                                                         array_shape_.data());
        if (st != LLA_OK) throw ApiError("lla_tensor_make_contiguous", st, lla_last_error());
    }

    static Tensor of(const Array& a, int32_t dtype, int32_t device_type) {
        Tensor t(a.shape, dtype, device_type);
        t.fill(a.values);
        return t;
    }

    void fill(const std::vector<double>& values) {
        const std::vector<unsigned char> bytes = encode(values, dtype_);
        buffer_->upload(bytes.data(), bytes.size());
    }
    // NaN in floating tensors, -1 in int64 ones: whatever is not written shows.
    void poison() {
        const double bad = dtype_ == LLA_DTYPE_INT64 ? -1.0 : std::numeric_limits<double>::quiet_NaN();
        fill(std::vector<double>(static_cast<size_t>(count_), bad));
    }
    Array to_array() const {
        std::vector<unsigned char> bytes(static_cast<size_t>(count_) * element_size(dtype_));
        buffer_->download(bytes.data(), bytes.size());
        return Array{array_shape_, decode(bytes, dtype_)};
    }
    const lla_tensor& desc() const { return desc_; }
    // The view of tokens [begin, begin + count) along dimension 1 (T).
    lla_tensor tokens(int64_t begin, int64_t count) const {
        lla_tensor t = desc_;
        t.data = static_cast<char*>(t.data) + begin * t.strides[1] * static_cast<int64_t>(element_size(dtype_));
        t.shape[1] = count;
        return t;
    }

private:
    std::vector<int64_t> array_shape_;
    int64_t count_ = 0;
    int32_t dtype_;
    std::unique_ptr<DeviceBuffer> buffer_;
    lla_tensor desc_{};
};

void check(lla_status status, const char* call) {
    if (status != LLA_OK) throw ApiError(call, status, lla_last_error());
}

int32_t device_type_of(const RunOptions& options) {
    return options.backend == LLA_BACKEND_CUDA ? LLA_DEVICE_CUDA : LLA_DEVICE_CPU;
}

// Waits for the call's work so that results can be read (no-op on the CPU).
void finish(const RunOptions& options) { check(lla_synchronize(options.backend, nullptr), "lla_synchronize"); }

// The case's inputs and upstream gradient, on the run's device.
class CaseTensors {
public:
    CaseTensors(const GoldenCase& c, const RunOptions& options) : device_(device_type_of(options)) {
        for (const char* name : {"q", "k", "v", "g", "l", "beta", "do"})
            if (c.has(name)) tensors_.emplace(name, Tensor::of(c.at(name), storage_dtype(name, options.dtype), device_));
        if (!c.cu_seqlens.empty()) {
            Array cu{{static_cast<int64_t>(c.cu_seqlens.size())}, {}};
            for (int64_t x : c.cu_seqlens) cu.values.push_back(static_cast<double>(x));
            tensors_.emplace("cu_seqlens", Tensor::of(cu, LLA_DTYPE_INT64, device_));
        }
        config_ = lla_config_default();
        config_.variant = c.variant;
        config_.scale = c.scale;
        config_.backend = options.backend;
        config_.math_mode = options.math_mode;
    }

    const lla_config& config() const { return config_; }
    const Tensor& at(const std::string& name) const { return tensors_.at(name); }
    bool has(const std::string& name) const { return tensors_.count(name) != 0; }

    // Inputs restricted to tokens [begin, begin + count) of every batch row.
    lla_inputs inputs(int64_t begin, int64_t count) const {
        lla_inputs in{};
        in.q = at("q").tokens(begin, count);
        in.k = at("k").tokens(begin, count);
        in.v = at("v").tokens(begin, count);
        in.g = at("g").tokens(begin, count);
        in.l = at("l").tokens(begin, count);
        if (has("beta")) in.beta = at("beta").tokens(begin, count);
        if (has("cu_seqlens")) in.cu_seqlens = at("cu_seqlens").desc();
        return in;
    }

    // A poisoned output of the shape of input `like` with `count` tokens.
    Tensor output_like(const std::string& like, const std::string& name, int64_t count,
                       ComputeDtype dtype) const {
        std::vector<int64_t> shape(at(like).desc().shape, at(like).desc().shape + at(like).desc().ndim);
        shape[1] = count;
        Tensor t(shape, storage_dtype(name, dtype), device_);
        t.poison();
        return t;
    }

    int32_t device() const { return device_; }

private:
    int32_t device_;
    lla_config config_{};
    std::map<std::string, Tensor> tensors_;
};

const char* const kGradientOf[][2] = {{"dq", "q"}, {"dk", "k"}, {"dv", "v"}, {"dg", "g"}, {"dl", "l"}, {"dbeta", "beta"}};

// Poisoned gradient tensors of `count` tokens, one per input the case has.
std::map<std::string, Tensor> gradient_tensors(const CaseTensors& ct, const RunOptions& options, int64_t count) {
    std::map<std::string, Tensor> grads;
    for (const auto& [grad, input] : kGradientOf)
        if (ct.has(input)) grads.emplace(grad, ct.output_like(input, grad, count, options.dtype));
    return grads;
}

// Backward over tokens [begin, begin + count) into tokens [at, at + count)
// of `grads`; d_final_state and d_initial_state (absent: null / ndim 0).
void backward_into(const CaseTensors& ct, const RunOptions& options, int64_t begin, int64_t count,
                   const lla_state* initial_state, const lla_tensor* d_final_state, const lla_tensor& d_initial_state,
                   const std::map<std::string, Tensor>& grads, int64_t at) {
    lla_gradients g{};
    lla_tensor* fields[] = {&g.dq, &g.dk, &g.dv, &g.dg, &g.dl, &g.dbeta};
    for (size_t i = 0; i < 6; ++i)
        if (grads.count(kGradientOf[i][0])) *fields[i] = grads.at(kGradientOf[i][0]).tokens(at, count);
    g.d_initial_state = d_initial_state;
    const lla_inputs in = ct.inputs(begin, count);
    const lla_tensor d_o = ct.at("do").tokens(begin, count);
    check(lla_backward(&ct.config(), &in, initial_state, &d_o, d_final_state, &g, nullptr, 0, nullptr), "lla_backward");
    finish(options);
}

std::map<std::string, Array> arrays_of(const std::map<std::string, Tensor>& tensors) {
    std::map<std::string, Array> out;
    for (const auto& [name, t] : tensors) out[name] = t.to_array();
    return out;
}

// Backward over tokens [begin, begin + count): the gradients, as arrays.
std::map<std::string, Array> backward(const CaseTensors& ct, const RunOptions& options, int64_t begin,
                                      int64_t count, const lla_state* initial_state) {
    const std::map<std::string, Tensor> grads = gradient_tensors(ct, options, count);
    backward_into(ct, options, begin, count, initial_state, nullptr, lla_tensor{}, grads, 0);
    return arrays_of(grads);
}

// bit_length(n) + 1 + extra: the levels of a state ready for position n.
int64_t state_levels(int64_t n, int64_t extra) {
    int64_t levels = extra + 1;
    for (uint64_t x = static_cast<uint64_t>(n); x; x >>= 1) ++levels;
    return levels;
}

int64_t tokens_of(const GoldenCase& c) { return c.at("q").shape[1]; }

}  // namespace

GoldenCase with_rounded_inputs(const GoldenCase& c, ComputeDtype dtype) {
    GoldenCase rounded = c;
    for (const char* name : {"q", "k", "v", "g", "l", "beta", "do"}) {
        if (!rounded.has(name)) continue;
        Array& a = rounded.arrays[name];
        a.values = decode(encode(a.values, storage_dtype(name, dtype)), storage_dtype(name, dtype));
    }
    return rounded;
}

std::map<std::string, Array> run_forward_backward(const GoldenCase& c, const RunOptions& options) {
    const CaseTensors ct(c, options);
    const int64_t T = tokens_of(c);
    const Tensor o = ct.output_like("v", "o", T, options.dtype);
    const lla_inputs in = ct.inputs(0, T);
    check(lla_forward(&ct.config(), &in, nullptr, &o.desc(), nullptr, nullptr, 0, nullptr), "lla_forward");
    finish(options);
    std::map<std::string, Array> out = backward(ct, options, 0, T, nullptr);
    out["o"] = o.to_array();
    return out;
}

std::map<std::string, Array> run_forward_backward_split(const GoldenCase& c, const RunOptions& options, int64_t n) {
    const int64_t T = tokens_of(c);
    if (!c.cu_seqlens.empty())
        throw std::invalid_argument("case " + c.name + ": --split-at needs batch rows without cu_seqlens (the case "
                                    "packs sequences; split each sequence on its own instead)");
    if (n < 0 || n > T)
        throw std::invalid_argument("case " + c.name + ": the split must be in 0.." + std::to_string(T) + ", got " +
                                    std::to_string(n));
    if (n == 0 || n == T) return run_forward_backward(c, options);
    const CaseTensors ct(c, options);
    const std::vector<int64_t>& v = c.at("v").shape;
    const int64_t B = v[0], H = v[2], V = v[3], K = c.at("q").shape[3];
    const int64_t levels = state_levels(n, options.extra_state_levels);
    const int32_t state_dtype = storage_dtype("state", options.dtype);
    Tensor state({B, H, levels, K, V}, state_dtype, ct.device()), position({B}, LLA_DTYPE_INT64, ct.device());
    Tensor d_state({B, H, levels, K, V}, state_dtype, ct.device());
    state.poison();
    position.poison();
    d_state.poison();
    const lla_state st{state.desc(), lla_tensor{}, position.desc()};

    const Tensor o = ct.output_like("v", "o", T, options.dtype);
    const lla_inputs head = ct.inputs(0, n), tail = ct.inputs(n, T - n);
    const lla_tensor o_head = o.tokens(0, n), o_tail = o.tokens(n, T - n);
    check(lla_forward(&ct.config(), &head, nullptr, &o_head, &st, nullptr, 0, nullptr), "lla_forward [0, n)");
    finish(options);
    check(lla_forward(&ct.config(), &tail, &st, &o_tail, nullptr, nullptr, 0, nullptr), "lla_forward [n, T)");
    finish(options);
    const std::map<std::string, Tensor> grads = gradient_tensors(ct, options, T);
    backward_into(ct, options, n, T - n, &st, nullptr, d_state.desc(), grads, n);
    backward_into(ct, options, 0, n, nullptr, &d_state.desc(), lla_tensor{}, grads, 0);
    std::map<std::string, Array> out = arrays_of(grads);
    out["o"] = o.to_array();
    return out;
}

std::map<std::string, Array> run_split_at_state_position(const GoldenCase& c, const RunOptions& options) {
    const int64_t n = c.state_position, T = tokens_of(c);
    if (!c.cu_seqlens.empty()) throw std::invalid_argument("case " + c.name + ": state_position with cu_seqlens is not supported");
    if (n < 1 || n >= T)
        throw std::invalid_argument("case " + c.name + ": state_position must be in 1.." + std::to_string(T - 1) +
                                    ", got " + std::to_string(n));
    const CaseTensors ct(c, options);
    const std::vector<int64_t>& v = c.at("v").shape;
    const int64_t B = v[0], H = v[2], V = v[3], K = c.at("q").shape[3];
    const int64_t levels = state_levels(n, options.extra_state_levels);

    Tensor state({B, H, levels, K, V}, storage_dtype("state", options.dtype), ct.device());
    Tensor position({B}, LLA_DTYPE_INT64, ct.device());
    state.poison();
    position.poison();
    const lla_state st{state.desc(), lla_tensor{}, position.desc()};
    const Tensor o = ct.output_like("v", "o", T, options.dtype);

    const lla_inputs prefix = ct.inputs(0, n);
    const lla_tensor o_prefix = o.tokens(0, n);
    check(lla_forward(&ct.config(), &prefix, nullptr, &o_prefix, &st, nullptr, 0, nullptr), "lla_forward (prefix)");
    finish(options);
    for (double p : position.to_array().values)
        if (p != static_cast<double>(n))
            throw std::runtime_error("case " + c.name + ": the exported state's position is " + std::to_string(p) +
                                     ", expected " + std::to_string(n));

    const lla_inputs suffix = ct.inputs(n, T - n);
    const lla_tensor o_suffix = o.tokens(n, T - n);
    check(lla_forward(&ct.config(), &suffix, &st, &o_suffix, nullptr, nullptr, 0, nullptr), "lla_forward (continued)");
    finish(options);
    std::map<std::string, Array> out = backward(ct, options, n, T - n, &st);
    out["o"] = o.to_array();
    out["state"] = state.to_array();
    return out;
}

}  // namespace lla::caseio
