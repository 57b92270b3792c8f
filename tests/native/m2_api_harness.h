// Test harness for the public C API (loglinear.h) with M2 problems held as
// lla_reference::M2Problem: host tensors of any dtype and memory layout
// (including non-contiguous, permuted strides with NaN-poisoned padding),
// states in either form, and thin wrappers of forward, backward, decode step
// and state conversion that return float64 values for comparison.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "loglinear/loglinear.h"
#include "m2_reference.h"

namespace lla_test {

using lla_reference::M2Gradients;
using lla_reference::M2Problem;

// How a tensor's elements are placed in memory.
enum class Layout {
    Contiguous,  // dense C order
    Strided      // every axis padded by one element, the two innermost axes swapped in memory
};

inline float bf16_bits_to_float(uint16_t h) {
    uint32_t bits = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

inline uint16_t float_to_bf16_bits(float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    return static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

// float16 of finite values (tests only; the library has its own conversions).
inline float f16_bits_to_float(uint16_t h) {
    const int exponent = (h >> 10) & 0x1f;
    const double mantissa = (h & 0x3ff) / 1024.0;
    const double magnitude = exponent == 0 ? std::ldexp(mantissa, -14) : std::ldexp(1.0 + mantissa, exponent - 15);
    return static_cast<float>((h & 0x8000) ? -magnitude : magnitude);
}

inline uint16_t float_to_f16_bits(float f) {
    const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
    const double x = std::fabs(static_cast<double>(f));
    if (x >= 65520.0) return sign | 0x7c00;
    if (x < std::ldexp(1.0, -14)) return static_cast<uint16_t>(sign | std::lrint(x * std::ldexp(1.0, 24)));
    int e;
    std::frexp(x, &e);  // x = (1 + m / 1024) * 2^(e - 1)
    const long mantissa = std::lrint((x / std::ldexp(1.0, e - 1) - 1.0) * 1024.0);
    return static_cast<uint16_t>(sign | ((static_cast<long>(e - 1 + 15) << 10) + mantissa));  // a carry bumps the exponent
}

inline size_t dtype_size(int32_t dtype) {
    switch (dtype) {
        case LLA_DTYPE_FLOAT64:
        case LLA_DTYPE_INT64: return 8;
        case LLA_DTYPE_FLOAT32: return 4;
        default: return 2;
    }
}

inline const char* dtype_name(int32_t dtype) {
    switch (dtype) {
        case LLA_DTYPE_FLOAT64: return "f64";
        case LLA_DTYPE_FLOAT32: return "f32";
        case LLA_DTYPE_BFLOAT16: return "bf16";
        case LLA_DTYPE_FLOAT16: return "f16";
        default: return "int64";
    }
}

// A tensor in host memory that owns its storage.
class HostTensor {
public:
    HostTensor() { std::memset(&t_, 0, sizeof t_); }
    HostTensor(const std::vector<int64_t>& shape, int32_t dtype, Layout layout) {
        std::memset(&t_, 0, sizeof t_);
        t_.dtype = dtype;
        t_.device_type = LLA_DEVICE_CPU;
        t_.ndim = static_cast<int32_t>(shape.size());
        const int nd = t_.ndim;
        std::vector<int64_t> extent(shape);
        std::vector<int> order(static_cast<size_t>(nd));  // axes from outermost to innermost in memory
        std::iota(order.begin(), order.end(), 0);
        if (layout == Layout::Strided) {
            for (int64_t& e : extent) e += 1;
            if (nd >= 2) std::swap(order[static_cast<size_t>(nd - 1)], order[static_cast<size_t>(nd - 2)]);
        }
        int64_t stride = 1;
        for (int i = nd - 1; i >= 0; --i) {
            const int axis = order[static_cast<size_t>(i)];
            t_.shape[axis] = shape[static_cast<size_t>(axis)];
            t_.strides[axis] = stride;
            stride *= extent[static_cast<size_t>(axis)];
        }
        bytes_.assign(static_cast<size_t>(stride) * dtype_size(dtype) + 8, 0);
        t_.data = bytes_.data();
        poison();
    }

    // Copies own their storage: the descriptor points into the copy's bytes.
    HostTensor(const HostTensor& other) : t_(other.t_), bytes_(other.bytes_) { t_.data = storage(); }
    HostTensor& operator=(const HostTensor& other) {
        t_ = other.t_;
        bytes_ = other.bytes_;
        t_.data = storage();
        return *this;
    }

    const lla_tensor& tensor() const { return t_; }
    // All storage, padding included (to check that a rejected call wrote nothing).
    const std::vector<unsigned char>& bytes() const { return bytes_; }
    int64_t count() const {
        int64_t n = 1;
        for (int i = 0; i < t_.ndim; ++i) n *= t_.shape[i];
        return n;
    }

    // Fills all storage (padding included) with NaN (or -1 for int64).
    void poison() {
        const size_t n = bytes_.size() / dtype_size(t_.dtype);
        for (size_t i = 0; i < n; ++i) store_raw(static_cast<int64_t>(i), std::numeric_limits<double>::quiet_NaN());
    }

    // Element at logical C-order index `flat`.
    double get(int64_t flat) const { return load_raw(offset(flat)); }
    void set(int64_t flat, double value) { store_raw(offset(flat), value); }

    // Exact int64 elements (positions beyond 2^53 do not survive a double).
    int64_t get_int64(int64_t flat) const { return reinterpret_cast<const int64_t*>(bytes_.data())[offset(flat)]; }
    void set_int64(int64_t flat, int64_t value) { reinterpret_cast<int64_t*>(bytes_.data())[offset(flat)] = value; }

    std::vector<double> values() const {
        std::vector<double> out(static_cast<size_t>(count()));
        for (int64_t i = 0; i < count(); ++i) out[static_cast<size_t>(i)] = get(i);
        return out;
    }
    void assign(const std::vector<double>& values) {
        for (int64_t i = 0; i < count(); ++i) set(i, values[static_cast<size_t>(i)]);
    }

private:
    void* storage() { return bytes_.empty() ? nullptr : bytes_.data(); }
    int64_t offset(int64_t flat) const {
        int64_t off = 0;
        for (int i = t_.ndim - 1; i >= 0; --i) {
            off += (flat % t_.shape[i]) * t_.strides[i];
            flat /= t_.shape[i];
        }
        return off;
    }
    double load_raw(int64_t at) const {
        switch (t_.dtype) {
            case LLA_DTYPE_FLOAT64: return reinterpret_cast<const double*>(bytes_.data())[at];
            case LLA_DTYPE_FLOAT32: return reinterpret_cast<const float*>(bytes_.data())[at];
            case LLA_DTYPE_BFLOAT16: return bf16_bits_to_float(reinterpret_cast<const uint16_t*>(bytes_.data())[at]);
            case LLA_DTYPE_FLOAT16: return f16_bits_to_float(reinterpret_cast<const uint16_t*>(bytes_.data())[at]);
            default: return static_cast<double>(reinterpret_cast<const int64_t*>(bytes_.data())[at]);
        }
    }
    void store_raw(int64_t at, double value) {
        switch (t_.dtype) {
            case LLA_DTYPE_FLOAT64: reinterpret_cast<double*>(bytes_.data())[at] = value; break;
            case LLA_DTYPE_FLOAT32: reinterpret_cast<float*>(bytes_.data())[at] = static_cast<float>(value); break;
            case LLA_DTYPE_BFLOAT16:
                reinterpret_cast<uint16_t*>(bytes_.data())[at] =
                    std::isnan(value) ? uint16_t{0x7fc0} : float_to_bf16_bits(static_cast<float>(value));
                break;
            case LLA_DTYPE_FLOAT16:
                reinterpret_cast<uint16_t*>(bytes_.data())[at] =
                    std::isnan(value) ? uint16_t{0x7e00} : float_to_f16_bits(static_cast<float>(value));
                break;
            default: reinterpret_cast<int64_t*>(bytes_.data())[at] = std::isnan(value) ? -1 : static_cast<int64_t>(value);
        }
    }

    lla_tensor t_;
    std::vector<unsigned char> bytes_;
};

inline HostTensor make_tensor(const std::vector<double>& values, const std::vector<int64_t>& shape, int32_t dtype,
                              Layout layout) {
    HostTensor t(shape, dtype, layout);
    t.assign(values);
    return t;
}

// dtype of g (float32 or float64) and of states for inputs of `dtype`.
inline int32_t decay_dtype(int32_t dtype) { return dtype == LLA_DTYPE_FLOAT64 ? LLA_DTYPE_FLOAT64 : LLA_DTYPE_FLOAT32; }
inline int32_t state_dtype(int32_t dtype) { return decay_dtype(dtype); }

// The inputs of a problem as API tensors.
struct ApiInputs {
    HostTensor q, k, v, g, l, cu_seqlens;
    lla_inputs view() const {
        lla_inputs in;
        std::memset(&in, 0, sizeof in);
        in.q = q.tensor();
        in.k = k.tensor();
        in.v = v.tensor();
        in.g = g.tensor();
        in.l = l.tensor();
        if (cu_seqlens.count() > 0 && cu_seqlens.tensor().ndim > 0) in.cu_seqlens = cu_seqlens.tensor();
        return in;
    }
};

inline ApiInputs make_inputs(const M2Problem& p, int32_t dtype, Layout layout) {
    ApiInputs in;
    in.q = make_tensor(p.q, {p.B, p.T, p.G, p.K}, dtype, layout);
    in.k = make_tensor(p.k, {p.B, p.T, p.G, p.K}, dtype, layout);
    in.v = make_tensor(p.v, {p.B, p.T, p.H, p.V}, dtype, layout);
    in.g = make_tensor(p.g, {p.B, p.T, p.H}, decay_dtype(dtype), layout);
    in.l = make_tensor(p.l, {p.B, p.T, p.H, p.L}, dtype, layout);
    if (!p.cu_seqlens.empty()) {
        std::vector<double> cu(p.cu_seqlens.begin(), p.cu_seqlens.end());
        in.cu_seqlens = make_tensor(cu, {static_cast<int64_t>(cu.size())}, LLA_DTYPE_INT64, Layout::Contiguous);
    }
    return in;
}

// The problem as the API sees it: inputs rounded to their dtype.
inline M2Problem as_stored(const M2Problem& p, const ApiInputs& in) {
    M2Problem r = p;
    r.q = in.q.values();
    r.k = in.k.values();
    r.v = in.v.values();
    r.g = in.g.values();
    r.l = in.l.values();
    return r;
}

// A state of N sequences in either form.
struct ApiState {
    HostTensor levels, log_decay, position;
    bool decode_form = false;
    lla_state view() const {
        lla_state s;
        std::memset(&s, 0, sizeof s);
        s.levels = levels.tensor();
        if (decode_form) s.log_decay = log_decay.tensor();
        s.position = position.tensor();
        return s;
    }
    // exp(log_decay) * levels (decode form) or levels, [N, H, Ls, K, V].
    std::vector<double> canonical() const {
        std::vector<double> out = levels.values();
        if (!decode_form) return out;
        const int64_t matrix = levels.tensor().shape[3] * levels.tensor().shape[4];
        for (size_t i = 0; i < out.size(); ++i) {
            const double factor = std::exp(log_decay.get(static_cast<int64_t>(i) / matrix));
            out[i] = factor == 0 ? 0 : factor * out[i];
        }
        return out;
    }
    std::vector<int64_t> positions() const {
        std::vector<int64_t> out;
        for (int64_t n = 0; n < position.count(); ++n) out.push_back(position.get_int64(n));
        return out;
    }
};

// A state with the given canonical values; in the decode form, the values are
// split into exp(log_decay) * levels with arbitrary log_decay in [-3, 1].
inline ApiState make_state(const std::vector<double>& canonical, const std::vector<int64_t>& positions, int64_t H,
                           int64_t Ls, int64_t K, int64_t V, int32_t dtype, bool decode_form, Layout layout) {
    ApiState s;
    const int64_t N = static_cast<int64_t>(positions.size());
    s.decode_form = decode_form;
    s.levels = HostTensor({N, H, Ls, K, V}, dtype, layout);
    s.log_decay = HostTensor({N, H, Ls}, dtype, layout);
    s.position = HostTensor({N}, LLA_DTYPE_INT64, Layout::Contiguous);
    for (int64_t n = 0; n < N; ++n) s.position.set_int64(n, positions[static_cast<size_t>(n)]);
    std::vector<double> stored = canonical;
    if (decode_form) {
        for (int64_t i = 0; i < N * H * Ls; ++i) {
            const double ld = -3.0 + 4.0 * static_cast<double>((i * 7919) % 101) / 100.0;
            s.log_decay.set(i, ld);
            for (int64_t e = 0; e < K * V; ++e) {
                size_t at = static_cast<size_t>(i * K * V + e);
                stored[at] = canonical[at] * std::exp(-s.log_decay.get(i));
            }
        }
    }
    s.levels.assign(stored);
    return s;
}

// An output state (poisoned) for N sequences.
inline ApiState empty_state(int64_t N, int64_t H, int64_t Ls, int64_t K, int64_t V, int32_t dtype, bool decode_form,
                            Layout layout) {
    ApiState s;
    s.decode_form = decode_form;
    s.levels = HostTensor({N, H, Ls, K, V}, dtype, layout);
    s.log_decay = HostTensor({N, H, Ls}, dtype, layout);
    s.position = HostTensor({N}, LLA_DTYPE_INT64, Layout::Contiguous);
    return s;
}

inline lla_config make_config(double scale, int threads) {
    lla_config c = lla_config_default();
    c.backend = LLA_BACKEND_CPU;
    c.num_threads = threads;
    c.scale = scale;
    return c;
}

#define LLA_EXPECT_OK(call)                                                                              \
    do {                                                                                                 \
        lla_status status_ = (call);                                                                     \
        EXPECT_EQ(status_, LLA_OK) << #call << ": " << lla_status_name(status_) << ": " << lla_last_error(); \
    } while (0)

// o of a forward call (poisoned output buffer, so unwritten elements are NaN).
inline std::vector<double> api_forward(const M2Problem& p, const ApiInputs& in, int32_t dtype, Layout layout, int threads,
                                       const ApiState* initial = nullptr, ApiState* final_state = nullptr) {
    HostTensor o({p.B, p.T, p.H, p.V}, dtype, layout);
    lla_config config = make_config(p.scale, threads);
    lla_inputs inputs = in.view();
    lla_state init = initial ? initial->view() : lla_state{};
    lla_state fin = final_state ? final_state->view() : lla_state{};
    LLA_EXPECT_OK(lla_forward(&config, &inputs, initial ? &init : nullptr, &o.tensor(), final_state ? &fin : nullptr,
                              nullptr, 0, nullptr));
    return o.values();
}

// Gradients of a backward call; with d_final, the final state's gradient
// goes in as d_final_state, and d_initial (of initial's levels' shape)
// receives d_initial_state.
inline M2Gradients api_backward(const M2Problem& p, const ApiInputs& in, const std::vector<double>& d_o, int32_t dtype,
                                Layout layout, int threads, const ApiState* initial = nullptr,
                                const HostTensor* d_final = nullptr, HostTensor* d_initial = nullptr) {
    HostTensor dot = make_tensor(d_o, {p.B, p.T, p.H, p.V}, dtype, layout);
    HostTensor dq({p.B, p.T, p.G, p.K}, dtype, layout), dk({p.B, p.T, p.G, p.K}, dtype, layout);
    HostTensor dv({p.B, p.T, p.H, p.V}, dtype, layout), dg({p.B, p.T, p.H}, decay_dtype(dtype), layout);
    HostTensor dl({p.B, p.T, p.H, p.L}, dtype, layout);
    lla_gradients grads;
    std::memset(&grads, 0, sizeof grads);
    grads.dq = dq.tensor();
    grads.dk = dk.tensor();
    grads.dv = dv.tensor();
    grads.dg = dg.tensor();
    grads.dl = dl.tensor();
    if (d_initial) grads.d_initial_state = d_initial->tensor();
    lla_config config = make_config(p.scale, threads);
    lla_inputs inputs = in.view();
    lla_state init = initial ? initial->view() : lla_state{};
    LLA_EXPECT_OK(lla_backward(&config, &inputs, initial ? &init : nullptr, &dot.tensor(),
                               d_final ? &d_final->tensor() : nullptr, &grads, nullptr, 0, nullptr));
    return M2Gradients{dq.values(), dk.values(), dv.values(), dg.values(), dl.values()};
}

// One decode step for N sequences; token n is row rows[n] of p's [B * T]
// token grid. Returns o [N, H, V]; the state advances in place.
inline std::vector<double> api_decode_step(const M2Problem& p, const std::vector<int64_t>& rows, int32_t dtype,
                                           const ApiState& state, int threads) {
    const int64_t N = static_cast<int64_t>(rows.size());
    auto pick = [&](const std::vector<double>& x, int64_t width) {
        std::vector<double> out;
        for (int64_t r : rows) out.insert(out.end(), x.begin() + r * width, x.begin() + (r + 1) * width);
        return out;
    };
    ApiInputs token;  // time axis dropped: [N, ...]
    token.q = make_tensor(pick(p.q, p.G * p.K), {N, p.G, p.K}, dtype, Layout::Strided);
    token.k = make_tensor(pick(p.k, p.G * p.K), {N, p.G, p.K}, dtype, Layout::Contiguous);
    token.v = make_tensor(pick(p.v, p.H * p.V), {N, p.H, p.V}, dtype, Layout::Contiguous);
    token.g = make_tensor(pick(p.g, p.H), {N, p.H}, decay_dtype(dtype), Layout::Contiguous);
    token.l = make_tensor(pick(p.l, p.H * p.L), {N, p.H, p.L}, dtype, Layout::Strided);
    HostTensor o({N, p.H, p.V}, dtype, Layout::Contiguous);
    const lla_inputs inputs = token.view();
    lla_config config = make_config(p.scale, threads);
    lla_state s = state.view();
    LLA_EXPECT_OK(lla_decode_step(&config, &inputs, &s, &o.tensor(), nullptr));
    return o.values();
}

inline void api_convert(const ApiState& src, const ApiState& dst) {
    lla_config config = make_config(1.0, 1);
    lla_state a = src.view(), b = dst.view();
    LLA_EXPECT_OK(lla_state_convert(&config, &a, &b, nullptr));
}

// ||x - ref|| / ||ref|| (infinity when x has a NaN or Inf or the sizes differ).
inline double relative_error(const std::vector<double>& x, const std::vector<double>& ref) {
    if (x.size() != ref.size()) return std::numeric_limits<double>::infinity();
    double diff = 0, norm = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        if (!std::isfinite(x[i])) return std::numeric_limits<double>::infinity();
        diff += (x[i] - ref[i]) * (x[i] - ref[i]);
        norm += ref[i] * ref[i];
    }
    if (norm == 0) return std::sqrt(diff);
    return std::sqrt(diff / norm);
}

// d f / d x[i] by central differences with step h, for every element of x
// (restored after each).
template <class F>
std::vector<double> central_differences(std::vector<double>& x, F&& f, double h = 1e-5) {
    std::vector<double> grad(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
        const double saved = x[i];
        x[i] = saved + h;
        const double up = f();
        x[i] = saved - h;
        const double down = f();
        x[i] = saved;
        grad[i] = (up - down) / (2 * h);
    }
    return grad;
}

// Tolerance of docs/numerics.md, "Tolerances", for inputs of `dtype`.
inline double tolerance(int32_t dtype) {
    switch (dtype) {
        case LLA_DTYPE_FLOAT64: return 1e-10;
        case LLA_DTYPE_FLOAT32: return 1e-5;
        default: return 1e-2;
    }
}

inline void expect_close(const std::vector<double>& x, const std::vector<double>& ref, double tol, const std::string& what) {
    const double err = relative_error(x, ref);
    if (std::getenv("LLA_TEST_VERBOSE")) std::printf("%-44s %.3e\n", what.c_str(), err);  // error budget at a glance
    EXPECT_LE(err, tol) << what << ": relative Frobenius error " << err << " > " << tol;
}

inline void expect_gradients_close(const M2Gradients& x, const M2Gradients& ref, double tol, const std::string& what) {
    expect_close(x.dq, ref.dq, tol, what + " dq");
    expect_close(x.dk, ref.dk, tol, what + " dk");
    expect_close(x.dv, ref.dv, tol, what + " dv");
    expect_close(x.dg, ref.dg, tol, what + " dg");
    expect_close(x.dl, ref.dl, tol, what + " dl");
}

}  // namespace lla_test
