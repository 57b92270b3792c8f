#include "cuda_test_support.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>

namespace lla::cudatest {

const Mode kF32Exact{"f32-exact", LLA_DTYPE_FLOAT32, LLA_MATH_EXACT_FP32, 1e-5};
const Mode kF32Tf32{"f32-tf32", LLA_DTYPE_FLOAT32, LLA_MATH_ALLOW_TF32, 3e-3};
const Mode kBf16{"bf16", LLA_DTYPE_BFLOAT16, LLA_MATH_DEFAULT, 1e-2};
const Mode kF16{"f16", LLA_DTYPE_FLOAT16, LLA_MATH_DEFAULT, 1e-2};
const Mode kF64{"f64", LLA_DTYPE_FLOAT64, LLA_MATH_DEFAULT, 1e-10};

std::vector<Mode> forward_modes() { return {kF32Exact, kF32Tf32, kBf16, kF16}; }

namespace {

void cuda_check(cudaError_t err, const char* what) {
    if (err != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(err));
}

size_t element_size(int32_t dtype) {
    switch (dtype) {
        case LLA_DTYPE_FLOAT64:
        case LLA_DTYPE_INT64: return 8;
        case LLA_DTYPE_FLOAT32: return 4;
        default: return 2;
    }
}

int bit_length(uint64_t x) { return x == 0 ? 0 : 64 - __builtin_clzll(x); }

int64_t count_of(const std::vector<int64_t>& shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

void encode(int32_t dtype, double x, unsigned char* out) {
    switch (dtype) {
        case LLA_DTYPE_FLOAT64: std::memcpy(out, &x, 8); break;
        case LLA_DTYPE_FLOAT32: {
            const float f = static_cast<float>(x);
            std::memcpy(out, &f, 4);
            break;
        }
        case LLA_DTYPE_BFLOAT16: {
            const __nv_bfloat16 h = __float2bfloat16(static_cast<float>(x));
            std::memcpy(out, &h, 2);
            break;
        }
        case LLA_DTYPE_FLOAT16: {
            const __half h = __float2half(static_cast<float>(x));
            std::memcpy(out, &h, 2);
            break;
        }
        case LLA_DTYPE_INT64: {
            const int64_t i = static_cast<int64_t>(x);
            std::memcpy(out, &i, 8);
            break;
        }
    }
}

double decode(int32_t dtype, const unsigned char* in) {
    switch (dtype) {
        case LLA_DTYPE_FLOAT64: {
            double d;
            std::memcpy(&d, in, 8);
            return d;
        }
        case LLA_DTYPE_FLOAT32: {
            float f;
            std::memcpy(&f, in, 4);
            return f;
        }
        case LLA_DTYPE_BFLOAT16: {
            __nv_bfloat16 h;
            std::memcpy(&h, in, 2);
            return __bfloat162float(h);
        }
        case LLA_DTYPE_FLOAT16: {
            __half h;
            std::memcpy(&h, in, 2);
            return __half2float(h);
        }
        case LLA_DTYPE_INT64: {
            int64_t i;
            std::memcpy(&i, in, 8);
            return static_cast<double>(i);
        }
    }
    return NAN;
}

// The storage dtype of l and o: the inputs' dtype.
std::vector<double> uniform(std::mt19937_64& rng, size_t n, double lo, double hi) {
    std::uniform_real_distribution<double> d(lo, hi);
    std::vector<double> x(n);
    for (double& v : x) v = d(rng);
    return x;
}

}  // namespace

bool gpu_available() { return lla_backend_available(LLA_BACKEND_CUDA) != 0; }

void expect_ok(lla_status st, const std::string& call) {
    if (st != LLA_OK) throw std::runtime_error(call + " failed: " + lla_status_name(st) + ": " + lla_last_error());
}

double round_to(int32_t dtype, double x) {
    unsigned char buf[8];
    encode(dtype, x, buf);
    return decode(dtype, buf);
}

std::vector<double> round_all(int32_t dtype, std::vector<double> x) {
    for (double& v : x) v = round_to(dtype, v);
    return x;
}

// ---------------------------------------------------------------------------
DeviceArray::DeviceArray(int32_t dtype, std::vector<int64_t> shape, std::vector<int64_t> strides)
    : dtype_(dtype), shape_(std::move(shape)), strides_(std::move(strides)) {
    const int nd = static_cast<int>(shape_.size());
    if (strides_.empty()) {
        strides_.assign(nd, 1);
        for (int i = nd - 2; i >= 0; --i) strides_[i] = strides_[i + 1] * shape_[i + 1];
    }
    int64_t span = 1;
    for (int i = 0; i < nd; ++i) span += (shape_[i] - 1) * strides_[i];
    bytes_ = static_cast<size_t>(span) * element_size(dtype_);
    cuda_check(cudaMalloc(&data_, bytes_), "cudaMalloc");
    poison();
    tensor_.data = data_;
    tensor_.dtype = dtype_;
    tensor_.device_type = LLA_DEVICE_CUDA;
    tensor_.device_index = 0;
    tensor_.ndim = nd;
    for (int i = 0; i < nd; ++i) {
        tensor_.shape[i] = shape_[i];
        tensor_.strides[i] = strides_[i];
    }
}

DeviceArray::~DeviceArray() { cudaFree(data_); }

void DeviceArray::poison() {
    cuda_check(cudaMemset(data_, 0xff, bytes_), "cudaMemset (poison)");
}

void DeviceArray::upload(const std::vector<double>& values) {
    const int64_t n = count_of(shape_);
    if (static_cast<int64_t>(values.size()) != n) throw std::runtime_error("DeviceArray::upload: wrong size");
    std::vector<unsigned char> host(bytes_, 0xff);
    const size_t es = element_size(dtype_);
    const int nd = static_cast<int>(shape_.size());
    std::vector<int64_t> idx(nd, 0);
    for (int64_t i = 0; i < n; ++i) {
        int64_t off = 0;
        for (int d = 0; d < nd; ++d) off += idx[d] * strides_[d];
        encode(dtype_, values[i], host.data() + off * es);
        for (int d = nd - 1; d >= 0 && ++idx[d] == shape_[d]; --d) idx[d] = 0;
    }
    cuda_check(cudaMemcpy(data_, host.data(), bytes_, cudaMemcpyHostToDevice), "cudaMemcpy (upload)");
}

std::vector<double> DeviceArray::download() const {
    std::vector<unsigned char> host(bytes_);
    cuda_check(cudaDeviceSynchronize(), "cudaDeviceSynchronize (before download)");
    cuda_check(cudaMemcpy(host.data(), data_, bytes_, cudaMemcpyDeviceToHost), "cudaMemcpy (download)");
    const int64_t n = count_of(shape_);
    const size_t es = element_size(dtype_);
    const int nd = static_cast<int>(shape_.size());
    std::vector<double> out(n);
    std::vector<int64_t> idx(nd, 0);
    for (int64_t i = 0; i < n; ++i) {
        int64_t off = 0;
        for (int d = 0; d < nd; ++d) off += idx[d] * strides_[d];
        out[i] = decode(dtype_, host.data() + off * es);
        for (int d = nd - 1; d >= 0 && ++idx[d] == shape_[d]; --d) idx[d] = 0;
    }
    return out;
}

lla_tensor host_tensor(void* data, int32_t dtype, const std::vector<int64_t>& shape) {
    lla_tensor t;
    expect_ok(lla_tensor_make_contiguous(&t, data, dtype, LLA_DEVICE_CPU, 0, static_cast<int32_t>(shape.size()),
                                         shape.data()),
              "lla_tensor_make_contiguous");
    return t;
}

// ---------------------------------------------------------------------------
M2Problem M2Problem::rounded(int32_t dtype) const {
    M2Problem r = *this;
    r.q = round_all(dtype, q);
    r.k = round_all(dtype, k);
    r.v = round_all(dtype, v);
    r.l = round_all(dtype, l);
    r.g = round_all(dtype == LLA_DTYPE_FLOAT64 ? LLA_DTYPE_FLOAT64 : LLA_DTYPE_FLOAT32, g);
    return r;
}

M2Problem M2Problem::tokens(int64_t begin, int64_t count) const {
    M2Problem r = *this;
    r.T = count;
    r.cu_seqlens.clear();
    auto cut = [&](const std::vector<double>& x, int64_t per_token) {
        std::vector<double> out;
        out.reserve(B * count * per_token);
        for (int64_t b = 0; b < B; ++b)
            out.insert(out.end(), x.begin() + (b * T + begin) * per_token,
                       x.begin() + (b * T + begin + count) * per_token);
        return out;
    };
    r.q = cut(q, G * K);
    r.k = cut(k, G * K);
    r.v = cut(v, H * V);
    r.g = cut(g, H);
    r.l = cut(l, H * L);
    return r;
}

M2Problem random_problem(int64_t B, int64_t T, int64_t H, int64_t G, int64_t K, int64_t V, uint64_t seed,
                         int64_t extra_levels) {
    std::mt19937_64 rng(seed);
    M2Problem p;
    p.B = B;
    p.T = T;
    p.H = H;
    p.G = G;
    p.K = K;
    p.V = V;
    p.L = bit_length(static_cast<uint64_t>(T - 1)) + 1 + extra_levels;
    p.scale = 1.0 / std::sqrt(double(K));
    p.q = uniform(rng, B * T * G * K, -1, 1);
    p.k = uniform(rng, B * T * G * K, -1, 1);
    p.v = uniform(rng, B * T * H * V, -1, 1);
    p.g = uniform(rng, B * T * H, -0.3, 0);
    p.l = uniform(rng, B * T * H * p.L, -0.5, 1.5);
    return p;
}

// ---------------------------------------------------------------------------
HostState HostState::zeros(int64_t N, int64_t H, int64_t Ls, int64_t K, int64_t V, bool decode_form) {
    HostState s;
    s.N = N;
    s.H = H;
    s.Ls = Ls;
    s.K = K;
    s.V = V;
    s.levels.assign(N * H * Ls * K * V, 0.0);
    if (decode_form) s.log_decay.assign(N * H * Ls, 0.0);
    s.position.assign(N, 0);
    return s;
}

HostState HostState::canonical() const {
    HostState c = *this;
    c.log_decay.clear();
    const int64_t kv = K * V;
    for (int64_t n = 0; n < N; ++n)
        for (int64_t h = 0; h < H; ++h)
            for (int64_t l = 0; l < Ls; ++l) {
                const bool nonempty = l >= 1 && ((static_cast<uint64_t>(position[n]) >> (l - 1)) & 1u);
                const double f = !nonempty ? 0.0 : decode_form() ? std::exp(log_decay[(n * H + h) * Ls + l]) : 1.0;
                double* lv = c.levels.data() + ((n * H + h) * Ls + l) * kv;
                for (int64_t i = 0; i < kv; ++i) lv[i] = nonempty ? lv[i] * f : 0.0;
            }
    return c;
}

DeviceState::DeviceState(const HostState& s, bool f64)
    : N_(s.N), H_(s.H), Ls_(s.Ls), K_(s.K), V_(s.V), decode_form_(s.decode_form()) {
    const int32_t dt = f64 ? LLA_DTYPE_FLOAT64 : LLA_DTYPE_FLOAT32;
    levels_ = std::make_unique<DeviceArray>(dt, std::vector<int64_t>{N_, H_, Ls_, K_, V_});
    levels_->upload(s.levels);
    if (decode_form_) {
        log_decay_ = std::make_unique<DeviceArray>(dt, std::vector<int64_t>{N_, H_, Ls_});
        log_decay_->upload(s.log_decay);
    }
    position_ = std::make_unique<DeviceArray>(LLA_DTYPE_INT64, std::vector<int64_t>{N_});
    position_->upload(std::vector<double>(s.position.begin(), s.position.end()));
}

void DeviceState::poison() {
    levels_->poison();
    if (log_decay_) log_decay_->poison();
    position_->poison();
}

lla_state DeviceState::state() const {
    lla_state st{};
    st.levels = levels_->tensor();
    if (decode_form_) st.log_decay = log_decay_->tensor();
    st.position = position_->tensor();
    return st;
}

HostState DeviceState::download() const {
    HostState s;
    s.N = N_;
    s.H = H_;
    s.Ls = Ls_;
    s.K = K_;
    s.V = V_;
    s.levels = levels_->download();
    if (decode_form_) s.log_decay = log_decay_->download();
    for (double p : position_->download()) s.position.push_back(static_cast<int64_t>(p));
    return s;
}

// ---------------------------------------------------------------------------
ForwardResult cuda_forward(const M2Problem& p, const Mode& mode, const HostState* initial, int64_t final_levels,
                           bool final_decode_form) {
    const int32_t dt = mode.dtype;
    const DeviceInputs device(p, dt);
    const lla_inputs in = device.inputs();
    DeviceArray o(dt, {p.B, p.T, p.H, p.V});
    std::unique_ptr<DeviceState> init, fin;
    lla_state init_state{}, fin_state{};
    if (initial) {
        init = std::make_unique<DeviceState>(*initial, dt == LLA_DTYPE_FLOAT64);
        init_state = init->state();
    }
    if (final_levels > 0) {
        HostState poisoned = HostState::zeros(p.sequences(), p.H, final_levels, p.K, p.V, false);
        fin = std::make_unique<DeviceState>(poisoned, dt == LLA_DTYPE_FLOAT64);
        fin_state = fin->state();
        fin->poison();
    }
    lla_config cfg = lla_config_default();
    cfg.backend = LLA_BACKEND_CUDA;
    cfg.math_mode = mode.math_mode;
    cfg.scale = p.scale;
    const lla_tensor out = o.tensor();
    expect_ok(lla_forward(&cfg, &in, initial ? &init_state : nullptr, &out, final_levels > 0 ? &fin_state : nullptr,
                          nullptr, 0, nullptr),
              std::string("lla_forward (CUDA, ") + mode.name + ")");
    expect_ok(lla_synchronize(LLA_BACKEND_CUDA, nullptr), "lla_synchronize");
    ForwardResult r;
    r.o = o.download();
    if (fin && final_decode_form) {
        // The forward exports the canonical form; lla_state_convert gives the decode form.
        DeviceState decode(HostState::zeros(p.sequences(), p.H, final_levels, p.K, p.V, true),
                           dt == LLA_DTYPE_FLOAT64);
        decode.poison();
        const lla_state dst = decode.state();
        expect_ok(lla_state_convert(&cfg, &fin_state, &dst, nullptr), "lla_state_convert (canonical -> decode)");
        r.final_state = decode.download();
    } else if (fin) {
        r.final_state = fin->download();
    }
    return r;
}

namespace {

// Float64 host descriptors of problem c's inputs and of an initial state (a
// copy held here), for the CPU reference calls.
struct HostCall {
    lla_inputs inputs{};
    lla_state initial{};
    std::vector<int64_t> cu;
    HostState state;

    HostCall(M2Problem& c, const HostState* init) : cu(c.cu_seqlens) {
        const int32_t f64 = LLA_DTYPE_FLOAT64;
        inputs.q = host_tensor(c.q.data(), f64, {c.B, c.T, c.G, c.K});
        inputs.k = host_tensor(c.k.data(), f64, {c.B, c.T, c.G, c.K});
        inputs.v = host_tensor(c.v.data(), f64, {c.B, c.T, c.H, c.V});
        inputs.g = host_tensor(c.g.data(), f64, {c.B, c.T, c.H});
        inputs.l = host_tensor(c.l.data(), f64, {c.B, c.T, c.H, c.L});
        if (!cu.empty()) inputs.cu_seqlens = host_tensor(cu.data(), LLA_DTYPE_INT64, {int64_t(cu.size())});
        if (init == nullptr) return;
        state = *init;
        initial.levels = host_tensor(state.levels.data(), f64, {state.N, state.H, state.Ls, state.K, state.V});
        if (state.decode_form()) initial.log_decay = host_tensor(state.log_decay.data(), f64, {state.N, state.H, state.Ls});
        initial.position = host_tensor(state.position.data(), LLA_DTYPE_INT64, {state.N});
    }
    HostCall(const HostCall&) = delete;
    HostCall& operator=(const HostCall&) = delete;
};

}  // namespace

ForwardResult cpu_forward(const M2Problem& p, const HostState* initial, int64_t final_levels) {
    const int32_t f64 = LLA_DTYPE_FLOAT64;
    M2Problem c = p;
    ForwardResult r;
    r.o.assign(p.B * p.T * p.H * p.V, NAN);
    const HostCall call(c, initial);
    const lla_inputs& in = call.inputs;
    const lla_state& init_state = call.initial;
    lla_state fin_state{};
    if (final_levels > 0) {
        r.final_state = HostState::zeros(p.sequences(), p.H, final_levels, p.K, p.V, false);
        HostState& f = r.final_state;
        fin_state.levels = host_tensor(f.levels.data(), f64, {f.N, f.H, f.Ls, f.K, f.V});
        fin_state.position = host_tensor(f.position.data(), LLA_DTYPE_INT64, {f.N});
    }
    lla_config cfg = lla_config_default();
    cfg.backend = LLA_BACKEND_CPU;
    cfg.scale = p.scale;
    const lla_tensor out = host_tensor(r.o.data(), f64, {p.B, p.T, p.H, p.V});
    expect_ok(lla_forward(&cfg, &in, initial ? &init_state : nullptr, &out, final_levels > 0 ? &fin_state : nullptr,
                          nullptr, 0, nullptr),
              "lla_forward (CPU, f64)");
    return r;
}

// ---------------------------------------------------------------------------
std::string shape_mode_name(const ::testing::TestParamInfo<std::tuple<RandomShape, Mode>>& info) {
    std::string s = std::string(std::get<0>(info.param).name) + "_" + std::get<1>(info.param).name;
    for (char& ch : s)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return s;
}

std::vector<double> random_values(size_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    return uniform(rng, n, -1, 1);
}

namespace {

// The gradient tensors of a backward, allocated by `make` (device or host).
template <class Make>
lla_gradients gradient_tensors(const M2Problem& p, int64_t init_levels, Make&& make) {
    lla_gradients g{};
    g.dq = make(0, std::vector<int64_t>{p.B, p.T, p.G, p.K});
    g.dk = make(1, std::vector<int64_t>{p.B, p.T, p.G, p.K});
    g.dv = make(2, std::vector<int64_t>{p.B, p.T, p.H, p.V});
    g.dg = make(3, std::vector<int64_t>{p.B, p.T, p.H});
    g.dl = make(4, std::vector<int64_t>{p.B, p.T, p.H, p.L});
    if (init_levels > 0) g.d_initial_state = make(5, std::vector<int64_t>{p.sequences(), p.H, init_levels, p.K, p.V});
    return g;
}

}  // namespace

BackwardResult cuda_backward(const M2Problem& p, const Mode& mode, const BackwardArgs& a) {
    const int32_t dt = mode.dtype;
    const DeviceInputs device(p, dt);
    const lla_inputs in = device.inputs();
    DeviceArray d_o(dt, {p.B, p.T, p.H, p.V});
    d_o.upload(a.d_o);
    std::unique_ptr<DeviceState> init;
    lla_state init_state{};
    if (a.initial) {
        init = std::make_unique<DeviceState>(*a.initial, false);
        init_state = init->state();
    }
    std::unique_ptr<DeviceArray> d_final;
    if (!a.d_final.empty()) {
        d_final = std::make_unique<DeviceArray>(LLA_DTYPE_FLOAT32,
                                                std::vector<int64_t>{p.sequences(), p.H, a.final_levels, p.K, p.V});
        d_final->upload(a.d_final);
    }
    std::vector<std::unique_ptr<DeviceArray>> arrays(6);
    const int64_t init_levels = a.want_d_initial && a.initial ? a.initial->Ls : 0;
    const lla_gradients grads = gradient_tensors(p, init_levels, [&](int i, std::vector<int64_t> shape) {
        const int32_t t = i == 3 || i == 5 ? LLA_DTYPE_FLOAT32 : dt;
        arrays[i] = std::make_unique<DeviceArray>(t, shape);
        arrays[i]->poison();
        return arrays[i]->tensor();
    });
    lla_config cfg = lla_config_default();
    cfg.backend = LLA_BACKEND_CUDA;
    cfg.math_mode = mode.math_mode;
    cfg.scale = p.scale;
    const lla_tensor dout = d_o.tensor();
    const lla_tensor dfin = d_final ? d_final->tensor() : lla_tensor{};
    expect_ok(lla_backward(&cfg, &in, a.initial ? &init_state : nullptr, &dout, d_final ? &dfin : nullptr, &grads,
                           nullptr, 0, nullptr),
              std::string("lla_backward (CUDA, ") + mode.name + ")");
    expect_ok(lla_synchronize(LLA_BACKEND_CUDA, nullptr), "lla_synchronize");
    BackwardResult r;
    r.dq = arrays[0]->download();
    r.dk = arrays[1]->download();
    r.dv = arrays[2]->download();
    r.dg = arrays[3]->download();
    r.dl = arrays[4]->download();
    if (arrays[5]) r.d_initial = arrays[5]->download();
    return r;
}

BackwardResult cpu_backward(const M2Problem& p, const BackwardArgs& a) {
    const int32_t f64 = LLA_DTYPE_FLOAT64;
    M2Problem c = p;
    const HostCall call(c, a.initial);
    const lla_inputs& in = call.inputs;
    const lla_state& init_state = call.initial;
    std::vector<double> d_o = a.d_o, d_final = a.d_final;
    BackwardResult r;
    std::vector<double>* outs[6] = {&r.dq, &r.dk, &r.dv, &r.dg, &r.dl, &r.d_initial};
    const int64_t init_levels = a.want_d_initial && a.initial ? a.initial->Ls : 0;
    const lla_gradients grads = gradient_tensors(p, init_levels, [&](int i, std::vector<int64_t> shape) {
        int64_t n = 1;
        for (int64_t x : shape) n *= x;
        outs[i]->assign(static_cast<size_t>(n), NAN);
        return host_tensor(outs[i]->data(), f64, shape);
    });
    lla_config cfg = lla_config_default();
    cfg.backend = LLA_BACKEND_CPU;
    cfg.scale = p.scale;
    const lla_tensor dout = host_tensor(d_o.data(), f64, {p.B, p.T, p.H, p.V});
    const lla_tensor dfin = d_final.empty() ? lla_tensor{}
                                            : host_tensor(d_final.data(), f64, {p.sequences(), p.H, a.final_levels, p.K, p.V});
    expect_ok(lla_backward(&cfg, &in, a.initial ? &init_state : nullptr, &dout, d_final.empty() ? nullptr : &dfin,
                           &grads, nullptr, 0, nullptr),
              "lla_backward (CPU, f64)");
    return r;
}

bool gradients_within(const BackwardResult& got, const BackwardResult& ref, double tolerance, double dg_tolerance,
                      std::string* report) {
    const std::pair<const char*, std::pair<const std::vector<double>*, const std::vector<double>*>> all[] = {
        {"dq", {&got.dq, &ref.dq}}, {"dk", {&got.dk, &ref.dk}}, {"dv", {&got.dv, &ref.dv}},
        {"dg", {&got.dg, &ref.dg}}, {"dl", {&got.dl, &ref.dl}}, {"d_initial_state", {&got.d_initial, &ref.d_initial}}};
    bool ok = true;
    std::string text = "rel. errors ";
    for (const auto& [name, pair] : all) {
        if (pair.second->empty() && pair.first->empty()) continue;
        const double e = relative_error(*pair.first, *pair.second);
        const double bound = std::string(name) == "dg" ? dg_tolerance : tolerance;
        text += std::string(name) + "=" + std::to_string(e) + (e <= bound ? " " : " (over) ");
        ok = ok && e <= bound;
    }
    if (report) *report = text;
    return ok;
}

double dg_tolerance(double tolerance, int64_t tokens_per_sequence) {
    const double chunks = double((tokens_per_sequence + 63) / 64);
    return 2.0 * tolerance * (chunks > 16 ? std::sqrt(chunks / 16) : 1.0);
}

M2Problem random_tokens(int64_t N, int64_t H, int64_t G, int64_t K, int64_t V, int64_t L, uint64_t seed) {
    return random_problem(N, 1, H, G, K, V, seed, L - 1);
}

DeviceInputs::DeviceInputs(const M2Problem& p, int32_t dtype, bool decode_step) {
    const int32_t gdt = dtype == LLA_DTYPE_FLOAT64 ? LLA_DTYPE_FLOAT64 : LLA_DTYPE_FLOAT32;
    // Forward: [B, T, ...]; decode step: [N, ...] with N = B.
    auto shape = [&](const std::vector<int64_t>& rest) {
        std::vector<int64_t> full = decode_step ? std::vector<int64_t>{p.B} : std::vector<int64_t>{p.B, p.T};
        full.insert(full.end(), rest.begin(), rest.end());
        return full;
    };
    auto make = [&](int32_t dt, std::vector<int64_t> rest, const std::vector<double>& values) {
        auto a = std::make_unique<DeviceArray>(dt, shape(rest));
        a->upload(values);
        return a;
    };
    q_ = make(dtype, {p.G, p.K}, p.q);
    k_ = make(dtype, {p.G, p.K}, p.k);
    v_ = make(dtype, {p.H, p.V}, p.v);
    g_ = make(gdt, {p.H}, p.g);
    l_ = make(dtype, {p.H, p.L}, p.l);
    inputs_.q = q_->tensor();
    inputs_.k = k_->tensor();
    inputs_.v = v_->tensor();
    inputs_.g = g_->tensor();
    inputs_.l = l_->tensor();
    if (!p.cu_seqlens.empty()) {
        cu_seqlens_ = std::make_unique<DeviceArray>(LLA_DTYPE_INT64, std::vector<int64_t>{int64_t(p.cu_seqlens.size())});
        cu_seqlens_->upload(std::vector<double>(p.cu_seqlens.begin(), p.cu_seqlens.end()));
        inputs_.cu_seqlens = cu_seqlens_->tensor();
    }
}

std::vector<double> cuda_decode_step(const M2Problem& t, const Mode& mode, HostState* state) {
    const bool f64 = mode.dtype == LLA_DTYPE_FLOAT64;
    const DeviceInputs device(t, mode.dtype, true);
    DeviceArray o(mode.dtype, {t.B, t.H, t.V});
    DeviceState st(*state, f64);
    lla_config cfg = lla_config_default();
    cfg.backend = LLA_BACKEND_CUDA;
    cfg.math_mode = mode.math_mode;
    cfg.scale = t.scale;
    const lla_state s = st.state();
    const lla_tensor out = o.tensor();
    expect_ok(lla_decode_step(&cfg, &device.inputs(), &s, &out, nullptr),
              std::string("lla_decode_step (CUDA, ") + mode.name + ")");
    expect_ok(lla_synchronize(LLA_BACKEND_CUDA, nullptr), "lla_synchronize");
    *state = st.download();
    return o.download();
}

std::vector<double> cpu_decode_step(const M2Problem& t, HostState* state) {
    const int32_t f64 = LLA_DTYPE_FLOAT64;
    M2Problem c = t;
    std::vector<double> o(t.B * t.H * t.V, NAN);
    lla_inputs in{};
    in.q = host_tensor(c.q.data(), f64, {t.B, t.G, t.K});
    in.k = host_tensor(c.k.data(), f64, {t.B, t.G, t.K});
    in.v = host_tensor(c.v.data(), f64, {t.B, t.H, t.V});
    in.g = host_tensor(c.g.data(), f64, {t.B, t.H});
    in.l = host_tensor(c.l.data(), f64, {t.B, t.H, t.L});
    HostState& s = *state;
    lla_state st{};
    st.levels = host_tensor(s.levels.data(), f64, {s.N, s.H, s.Ls, s.K, s.V});
    if (s.decode_form()) st.log_decay = host_tensor(s.log_decay.data(), f64, {s.N, s.H, s.Ls});
    st.position = host_tensor(s.position.data(), LLA_DTYPE_INT64, {s.N});
    lla_config cfg = lla_config_default();
    cfg.backend = LLA_BACKEND_CPU;
    cfg.scale = t.scale;
    const lla_tensor out = host_tensor(o.data(), f64, {t.B, t.H, t.V});
    expect_ok(lla_decode_step(&cfg, &in, &st, &out, nullptr), "lla_decode_step (CPU, f64)");
    return o;
}

std::vector<double> token_slice(const std::vector<double>& o, const M2Problem& p, int64_t begin, int64_t count) {
    std::vector<double> out;
    const int64_t per = p.H * p.V;
    for (int64_t b = 0; b < p.B; ++b)
        out.insert(out.end(), o.begin() + (b * p.T + begin) * per, o.begin() + (b * p.T + begin + count) * per);
    return out;
}

// ---------------------------------------------------------------------------
double relative_error(const std::vector<double>& got, const std::vector<double>& ref) {
    if (got.size() != ref.size()) return INFINITY;
    double num = 0, den = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        if (!std::isfinite(got[i])) return INFINITY;
        num += (got[i] - ref[i]) * (got[i] - ref[i]);
        den += ref[i] * ref[i];
    }
    return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

bool all_finite(const std::vector<double>& x) {
    for (double v : x)
        if (!std::isfinite(v)) return false;
    return true;
}

}  // namespace lla::cudatest
