// forward_check: checks and times the CUDA forward kernels (lla::cuda::forward)
// directly, without the public API.
//
//   forward_check [--check] [--time] [--reps N]
//
// --check: random cases (dtypes and math modes, varlen, initial states in
//   both forms at unaligned positions, final-state export, padded/strided
//   tensors, long sequences) against a float64 host reference computed from
//   the definitions of docs/math.md on the same rounded inputs. Prints one
//   line per case: relative Frobenius error of o and of the final state,
//   PASS/FAIL at the tolerance of the mode (docs/numerics.md, "Tolerances").
// --time: the anchor shapes of docs/benchmarks.md (bf16, H=32, K=128, V=64,
//   G=1): median ms of the whole forward and of its phases (CUDA events),
//   with a spot check of some outputs against the host reference.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/problem.h"
#include "cuda/forward/forward.h"
#include "cuda/forward/forward_instances.h"

namespace {

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "forward_check: %s\n", what.c_str());
    std::exit(2);
}
void ok(cudaError_t e, const char* what) {
    if (e != cudaSuccess) die(std::string(what) + ": " + cudaGetErrorString(e));
}

int bit_length(uint64_t x) { return x == 0 ? 0 : 64 - __builtin_clzll(x); }
int level_of(int64_t t, int64_t s) { return bit_length(static_cast<uint64_t>(t ^ s)); }

// Host values rounded as the device stores them, and the device bytes.
struct HostTensor {
    std::vector<double> val;     // logical values, indexed by the logical dense offset
    std::vector<uint8_t> bytes;  // device image (with the tensor's strides)
    int dtype;
    std::vector<int64_t> shape, strides;
    void* dev = nullptr;
};

int64_t numel(const std::vector<int64_t>& shape) {
    int64_t n = 1;
    for (auto s : shape) n *= s;
    return n;
}
int elem_size(int dtype) { return dtype == LLA_DTYPE_FLOAT32 ? 4 : (dtype == LLA_DTYPE_FLOAT64 ? 8 : 2); }

double round_to(int dtype, double x) {
    switch (dtype) {
        case LLA_DTYPE_BFLOAT16: return __bfloat162float(__float2bfloat16(static_cast<float>(x)));
        case LLA_DTYPE_FLOAT16: return __half2float(__float2half(static_cast<float>(x)));
        default: return static_cast<float>(x);
    }
}
void store_elem(uint8_t* p, int dtype, double x) {
    if (dtype == LLA_DTYPE_BFLOAT16) {
        __nv_bfloat16 b = __float2bfloat16(static_cast<float>(x));
        std::memcpy(p, &b, 2);
    } else if (dtype == LLA_DTYPE_FLOAT16) {
        __half b = __float2half(static_cast<float>(x));
        std::memcpy(p, &b, 2);
    } else {
        float f = static_cast<float>(x);
        std::memcpy(p, &f, 4);
    }
}
double load_elem(const uint8_t* p, int dtype) {
    if (dtype == LLA_DTYPE_BFLOAT16) {
        __nv_bfloat16 b;
        std::memcpy(&b, p, 2);
        return __bfloat162float(b);
    }
    if (dtype == LLA_DTYPE_FLOAT16) {
        __half b;
        std::memcpy(&b, p, 2);
        return __half2float(b);
    }
    float f;
    std::memcpy(&f, p, 4);
    return f;
}

// Strides: dense, optionally with the last axis padded by `pad` elements and
// the base offset by `offset` elements (misaligned rows force the pack path).
HostTensor make_tensor(int dtype, std::vector<int64_t> shape, int64_t pad = 0, int64_t offset = 0) {
    HostTensor t;
    t.dtype = dtype;
    t.shape = shape;
    t.strides.assign(shape.size(), 1);
    int64_t run = 1;
    for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
        t.strides[d] = run;
        run *= shape[d] + (d == static_cast<int>(shape.size()) - 1 ? pad : 0);
    }
    t.val.assign(numel(shape), 0.0);
    t.bytes.assign((run + offset) * elem_size(dtype), 0);
    t.strides.push_back(offset);  // stash the base offset after the strides
    return t;
}
int64_t dev_offset(const HostTensor& t, int64_t dense) {
    int64_t off = t.strides.back();
    for (int d = static_cast<int>(t.shape.size()) - 1; d >= 0; --d) {
        off += (dense % t.shape[d]) * t.strides[d];
        dense /= t.shape[d];
    }
    return off;
}
void fill(HostTensor& t, const std::function<double()>& gen) {
    for (int64_t i = 0; i < numel(t.shape); ++i) {
        t.val[i] = round_to(t.dtype, gen());
        store_elem(&t.bytes[dev_offset(t, i) * elem_size(t.dtype)], t.dtype, t.val[i]);
    }
}
void upload(HostTensor& t) {
    ok(cudaMalloc(&t.dev, t.bytes.size()), "cudaMalloc");
    ok(cudaMemcpy(t.dev, t.bytes.data(), t.bytes.size(), cudaMemcpyHostToDevice), "upload");
}
lla_tensor descr(const HostTensor& t) {
    lla_tensor d{};
    d.data = static_cast<uint8_t*>(t.dev) + t.strides.back() * elem_size(t.dtype);
    d.dtype = t.dtype;
    d.device_type = LLA_DEVICE_CUDA;
    d.ndim = static_cast<int32_t>(t.shape.size());
    for (int i = 0; i < d.ndim; ++i) {
        d.shape[i] = t.shape[i];
        d.strides[i] = t.strides[i];
    }
    return d;
}
std::vector<double> download(const HostTensor& t) {
    std::vector<uint8_t> b(t.bytes.size());
    ok(cudaMemcpy(b.data(), t.dev, b.size(), cudaMemcpyDeviceToHost), "download");
    std::vector<double> out(numel(t.shape));
    for (int64_t i = 0; i < numel(t.shape); ++i) out[i] = load_elem(&b[dev_offset(t, i) * elem_size(t.dtype)], t.dtype);
    return out;
}

struct Case {
    std::string name;
    int dtype = LLA_DTYPE_BFLOAT16;
    int math = LLA_MATH_DEFAULT;
    int H = 2, G = 1, K = 64, V = 64;
    double scale = 1.0;
    bool varlen = false;
    std::vector<std::pair<int64_t, int64_t>> seqs;  // (start position, length)
    int initial = 0;                                  // 0 none, 1 canonical, 2 decode form
    bool final_state = false;
    bool l_compute_dtype = false;
    bool odd_layout = false;  // padded / misaligned q and o
    double decay = 0.2;       // g ~ -U(0, decay)
    bool neg_lambda = false;
    int target_stride = 1;    // reference for every target_stride-th target (plus the last)
    int extra_levels = 0;
};

double tolerance(const Case& c) {
    if (c.dtype != LLA_DTYPE_FLOAT32) return 1e-2;
    return c.math == LLA_MATH_EXACT_FP32 ? 1e-5 : 3e-3;
}

struct Result {
    double err_o = 0, err_state = 0;
    bool finite = true;
    int64_t compared = 0;
};

Result run_case(const Case& c, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> U(-1.0, 1.0), U01(0.0, 1.0);
    const int64_t N = static_cast<int64_t>(c.seqs.size());
    int64_t T = 0, B = 0;
    std::vector<lla::Sequence> seqs;
    if (c.varlen) {
        B = 1;
        for (auto& s : c.seqs) {
            seqs.push_back({0, T, s.second, s.first});
            T += s.second;
        }
    } else {
        B = N;
        for (int64_t i = 0; i < N; ++i) {
            T = std::max(T, c.seqs[i].second);
            seqs.push_back({i, 0, c.seqs[i].second, c.seqs[i].first});
        }
    }
    int64_t max_pos = 1;
    for (auto& s : c.seqs) max_pos = std::max(max_pos, s.first + s.second);
    const int L = bit_length(max_pos - 1) + 1 + c.extra_levels;
    const int H = c.H, G = c.G, K = c.K, V = c.V;

    HostTensor q = make_tensor(c.dtype, {B, T, G, K}, c.odd_layout ? 3 : 0, c.odd_layout ? 1 : 0);
    HostTensor k = make_tensor(c.dtype, {B, T, G, K});
    HostTensor v = make_tensor(c.dtype, {B, T, H, V});
    HostTensor g = make_tensor(LLA_DTYPE_FLOAT32, {B, T, H});
    HostTensor l = make_tensor(c.l_compute_dtype ? c.dtype : LLA_DTYPE_FLOAT32, {B, T, H, L});
    HostTensor o = make_tensor(c.dtype, {B, T, H, V}, c.odd_layout ? 5 : 0, c.odd_layout ? 3 : 0);
    const double qk_scale = 1.0 / std::sqrt(static_cast<double>(K));
    fill(q, [&] { return U(rng) * 1.5 * std::sqrt(qk_scale); });
    fill(k, [&] { return U(rng) * 1.5 * std::sqrt(qk_scale); });
    fill(v, [&] { return U(rng); });
    fill(g, [&] { return -U01(rng) * c.decay; });
    fill(l, [&] { return c.neg_lambda ? U(rng) * 1.2 : 0.3 + U01(rng); });
    for (auto* t : {&q, &k, &v, &g, &l, &o}) upload(*t);
    ok(cudaMemset(o.dev, 0xff, o.bytes.size()), "poison o");

    // States.
    int Ls0 = 1, Lf = 1;
    for (auto& s : c.seqs) {
        Ls0 = std::max(Ls0, bit_length(s.first) + 1);
        Lf = std::max(Lf, bit_length(s.first + s.second) + 1);
    }
    Lf += 1;  // an extra level that must come back zero
    HostTensor s0 = make_tensor(LLA_DTYPE_FLOAT32, {N, H, Ls0, K, V});
    HostTensor ld = make_tensor(LLA_DTYPE_FLOAT32, {N, H, Ls0});
    std::vector<double> s0_canonical(numel(s0.shape), 0.0);
    HostTensor pos = make_tensor(LLA_DTYPE_FLOAT32, {N, 2});  // int64 positions as raw bytes
    lla_state initial{}, final_state{};
    if (c.initial != 0) {
        fill(ld, [&] { return c.initial == 2 ? -U01(rng) * 2.0 : 0.0; });
        for (int64_t i = 0; i < numel(s0.shape); ++i) {
            int64_t r = i;
            r /= V;
            r /= K;
            const int lev = static_cast<int>(r % Ls0);
            const int64_t seq = r / Ls0 / H;
            const bool nonempty = lev >= 1 && ((c.seqs[seq].first >> (lev - 1)) & 1);
            const double canon = nonempty ? U(rng) * 2.0 : 0.0;
            s0_canonical[i] = static_cast<float>(canon);
            const double stored = c.initial == 2 ? canon * std::exp(-ld.val[i / (K * V)]) : canon;
            s0.val[i] = static_cast<float>(stored);
            store_elem(&s0.bytes[dev_offset(s0, i) * 4], LLA_DTYPE_FLOAT32, stored);
            if (c.initial == 2) s0_canonical[i] = static_cast<float>(stored) * std::exp(ld.val[i / (K * V)]);
        }
        upload(s0);
        upload(ld);
        for (int64_t i = 0; i < N; ++i) std::memcpy(&pos.bytes[i * 8], &c.seqs[i].first, 8);
        upload(pos);
        initial.levels = descr(s0);
        if (c.initial == 2) initial.log_decay = descr(ld);
        initial.position = descr(pos);
        initial.position.dtype = LLA_DTYPE_INT64;
        initial.position.ndim = 1;
        initial.position.shape[0] = N;
        initial.position.strides[0] = 1;
    }
    HostTensor sf = make_tensor(LLA_DTYPE_FLOAT32, {N, H, Lf, K, V});
    if (c.final_state) {
        upload(sf);
        ok(cudaMemset(sf.dev, 0xff, sf.bytes.size()), "poison final state");
        final_state.levels = descr(sf);
        final_state.position = initial.position;
    }

    lla::ForwardProblem p{};
    p.config.variant = LLA_VARIANT_MAMBA2;
    p.config.backend = LLA_BACKEND_CUDA;
    p.config.math_mode = c.math;
    p.config.scale = c.scale;
    p.dims.B = B;
    p.dims.T = T;
    p.dims.H = H;
    p.dims.G = G;
    p.dims.K = K;
    p.dims.V = V;
    p.dims.L = L;
    p.dims.N = N;
    p.precision = lla::Precision::F32;
    p.inputs.q = descr(q);
    p.inputs.k = descr(k);
    p.inputs.v = descr(v);
    p.inputs.g = descr(g);
    p.inputs.l = descr(l);
    p.sequences = seqs;
    p.initial_state = c.initial ? &initial : nullptr;
    lla_tensor o_d = descr(o);
    p.o = &o_d;
    p.final_state = c.final_state ? &final_state : nullptr;
    const size_t ws_bytes = lla::cuda::forward_workspace_bytes(p);
    void* ws = nullptr;
    ok(cudaMalloc(&ws, ws_bytes), "cudaMalloc workspace");
    ok(cudaMemset(ws, 0xff, ws_bytes), "poison workspace");
    const lla_status st = lla::cuda::forward(p, ws, nullptr);
    if (st != LLA_OK) die(c.name + ": forward failed: " + lla::last_error_message());
    ok(cudaDeviceSynchronize(), "forward kernels");
    const std::vector<double> o_dev = download(o);
    const std::vector<double> sf_dev = c.final_state ? download(sf) : std::vector<double>{};

    // Reference (float64, the definitions of docs/math.md) and comparison, threaded over (sequence, head).
    Result res;
    std::vector<double> num(N * H, 0), den(N * H, 0), snum(N * H, 0), sden(N * H, 0);
    std::vector<int64_t> cnt(N * H, 0);
    auto idx_q = [&](int64_t b, int64_t t, int64_t gg, int64_t kk) { return ((b * T + t) * G + gg) * K + kk; };
    auto idx_v = [&](int64_t b, int64_t t, int64_t h, int64_t vv) { return ((b * T + t) * H + h) * V + vv; };
    auto idx_s = [&](int64_t n, int64_t h, int64_t lev, int64_t Ls, int64_t kk, int64_t vv) {
        return (((n * H + h) * Ls + lev) * K + kk) * V + vv;
    };
    auto work = [&](int64_t job) {
        const int64_t si = job / H, h = job % H, gg = h / (H / G);
        const lla::Sequence& s = seqs[si];
        const int64_t n = s.start_position, len = s.length, b = s.batch;
        std::vector<double> Gd(len);
        double run = 0;
        for (int64_t j = 0; j < len; ++j) {
            run += g.val[(b * T + s.token_begin + j) * H + h];
            Gd[j] = run;
        }
        std::vector<double> acc(V);
        for (int64_t j = 0; j < len; ++j) {
            if (!(j % c.target_stride == 0 || j == len - 1)) continue;
            const int64_t t = n + j, tok = s.token_begin + j;
            std::fill(acc.begin(), acc.end(), 0.0);
            for (int64_t sj = 0; sj <= j; ++sj) {
                const int64_t src = n + sj, stok = s.token_begin + sj;
                double dot = 0;
                for (int kk = 0; kk < K; ++kk) dot += q.val[idx_q(b, tok, gg, kk)] * k.val[idx_q(b, stok, gg, kk)];
                const double w = l.val[((b * T + tok) * H + h) * L + level_of(t, src)] * std::exp(Gd[j] - Gd[sj]) *
                                 c.scale * dot;
                for (int vv = 0; vv < V; ++vv) acc[vv] += w * v.val[idx_v(b, stok, h, vv)];
            }
            if (c.initial)
                for (int lev = 1; lev < Ls0; ++lev) {
                    if (((n >> (lev - 1)) & 1) == 0) continue;
                    const int64_t bucket = (n >> lev) << lev;
                    const double w = l.val[((b * T + tok) * H + h) * L + level_of(t, bucket)] * std::exp(Gd[j]) * c.scale;
                    for (int vv = 0; vv < V; ++vv) {
                        double d = 0;
                        for (int kk = 0; kk < K; ++kk)
                            d += q.val[idx_q(b, tok, gg, kk)] * s0_canonical[idx_s(si, h, lev, Ls0, kk, vv)];
                        acc[vv] += w * d;
                    }
                }
            for (int vv = 0; vv < V; ++vv) {
                const double got = o_dev[idx_v(b, tok, h, vv)];
                const double diff = got - acc[vv];
                num[job] += diff * diff;
                den[job] += acc[vv] * acc[vv];
            }
            cnt[job] += V;
        }
        if (c.final_state) {
            const int64_t x = n + len;
            const double gend = len > 0 ? Gd[len - 1] : 0.0;
            for (int lev = 0; lev < Lf; ++lev) {
                std::vector<double> S(K * V, 0.0);
                if (lev >= 1 && lev < 63 && ((x >> (lev - 1)) & 1)) {
                    const int64_t bx = (x >> lev) << lev, ex = bx + (int64_t(1) << (lev - 1));
                    for (int64_t src = std::max(bx, n); src < ex; ++src) {
                        const int64_t sj = src - n, stok = s.token_begin + sj;
                        const double w = std::exp(gend - Gd[sj]);
                        for (int kk = 0; kk < K; ++kk)
                            for (int vv = 0; vv < V; ++vv)
                                S[kk * V + vv] += w * k.val[idx_q(b, stok, gg, kk)] * v.val[idx_v(b, stok, h, vv)];
                    }
                    if (c.initial)
                        for (int l2 = 1; l2 < Ls0; ++l2) {
                            if (((n >> (l2 - 1)) & 1) == 0) continue;
                            const int64_t bb = (n >> l2) << l2;
                            if (bb < bx || bb >= ex) continue;
                            for (int kk = 0; kk < K; ++kk)
                                for (int vv = 0; vv < V; ++vv)
                                    S[kk * V + vv] += std::exp(gend) * s0_canonical[idx_s(si, h, l2, Ls0, kk, vv)];
                        }
                }
                for (int kk = 0; kk < K; ++kk)
                    for (int vv = 0; vv < V; ++vv) {
                        const double got = sf_dev[idx_s(si, h, lev, Lf, kk, vv)];
                        const double want = S[kk * V + vv];
                        snum[job] += (got - want) * (got - want);
                        sden[job] += want * want;
                        if (!std::isfinite(got)) res.finite = false;
                    }
            }
        }
    };
    const int64_t jobs = N * H;
    const int nthreads = std::max(1u, std::min(32u, std::thread::hardware_concurrency()));
    std::vector<std::thread> pool;
    std::atomic<int64_t> next{0};
    for (int i = 0; i < nthreads; ++i)
        pool.emplace_back([&] {
            for (int64_t j; (j = next++) < jobs;) work(j);
        });
    for (auto& th : pool) th.join();
    double tn = 0, td = 0, sn = 0, sd = 0;
    for (int64_t j = 0; j < jobs; ++j) {
        tn += num[j];
        td += den[j];
        sn += snum[j];
        sd += sden[j];
        res.compared += cnt[j];
    }
    // Every valid output element must be written and finite.
    for (const auto& s : seqs)
        for (int64_t j = 0; j < s.length; ++j)
            for (int h = 0; h < H; ++h)
                for (int vv = 0; vv < V; ++vv)
                    if (!std::isfinite(o_dev[idx_v(s.batch, s.token_begin + j, h, vv)])) res.finite = false;
    res.err_o = std::sqrt(tn / std::max(td, 1e-300));
    res.err_state = c.final_state ? std::sqrt(sn / std::max(sd, 1e-300)) : 0.0;
    for (auto* t : {&q, &k, &v, &g, &l, &o}) cudaFree(t->dev);
    if (c.initial) {
        cudaFree(s0.dev);
        cudaFree(ld.dev);
        cudaFree(pos.dev);
    }
    if (c.final_state) cudaFree(sf.dev);
    cudaFree(ws);
    return res;
}

const char* dtype_name(int d, int math) {
    if (d == LLA_DTYPE_BFLOAT16) return "bf16";
    if (d == LLA_DTYPE_FLOAT16) return "f16";
    return math == LLA_MATH_EXACT_FP32 ? "f32x3" : "tf32";
}

int run_checks() {
    std::vector<Case> cases;
    const int dtypes[][2] = {{LLA_DTYPE_BFLOAT16, LLA_MATH_DEFAULT},
                             {LLA_DTYPE_FLOAT16, LLA_MATH_DEFAULT},
                             {LLA_DTYPE_FLOAT32, LLA_MATH_ALLOW_TF32},
                             {LLA_DTYPE_FLOAT32, LLA_MATH_EXACT_FP32}};
    for (auto& dt : dtypes) {
        auto base = [&](const std::string& name) {
            Case c;
            c.name = name;
            c.dtype = dt[0];
            c.math = dt[1];
            return c;
        };
        Case c = base("t1");
        c.seqs = {{0, 1}};
        cases.push_back(c);
        c = base("t7_h3");
        c.H = 3;
        c.G = 3;
        c.K = 32;
        c.V = 16;
        c.seqs = {{0, 7}};
        c.scale = 0.7;
        cases.push_back(c);
        c = base("b2_t1000");
        c.H = 2;
        c.seqs = {{0, 1000}, {0, 1000}};
        c.final_state = true;
        cases.push_back(c);
        c = base("t2100_k128_v96");
        c.H = 2;
        c.K = 128;
        c.V = 96;
        c.seqs = {{0, 2100}};
        c.target_stride = 3;
        c.final_state = true;
        cases.push_back(c);
        c = base("varlen_init_canon");
        c.H = 4;
        c.G = 2;
        c.varlen = true;
        c.seqs = {{0, 5}, {37, 700}, {1000, 1}, {4095, 300}, {523, 1500}};
        c.initial = 1;
        c.final_state = true;
        c.l_compute_dtype = true;
        cases.push_back(c);
        c = base("init_decode_far");
        c.H = 2;
        c.K = 48;
        c.V = 40;
        c.seqs = {{(int64_t(1) << 20) + 12345, 2000}, {(int64_t(1) << 21) - 3, 5}};
        c.initial = 2;
        c.final_state = true;
        c.extra_levels = 2;
        c.odd_layout = true;
        cases.push_back(c);
        c = base("strong_decay_neg_l");
        c.H = 2;
        c.K = 32;
        c.V = 32;
        c.seqs = {{0, 600}};
        c.decay = 7.0;
        c.neg_lambda = true;
        cases.push_back(c);
        c = base("long_t70000");
        c.H = 1;
        c.K = 32;
        c.V = 16;
        c.seqs = {{0, 70000}};
        c.target_stride = 997;
        c.decay = 0.002;
        c.final_state = true;
        cases.push_back(c);
    }
    int failures = 0;
    std::printf("%-20s %-6s %12s %12s %8s  %s\n", "case", "mode", "err_o", "err_state", "targets", "result");
    uint64_t seed = 1234;
    for (const Case& c : cases) {
        const Result r = run_case(c, seed++);
        const double tol = tolerance(c);
        const bool pass = r.finite && r.err_o <= tol && r.err_state <= tol;
        failures += !pass;
        std::printf("%-20s %-6s %12.3e %12.3e %8lld  %s%s\n", c.name.c_str(), dtype_name(c.dtype, c.math), r.err_o,
                    r.err_state, static_cast<long long>(r.compared / std::max(1, c.V)), pass ? "PASS" : "FAIL",
                    r.finite ? "" : " (non-finite)");
        std::fflush(stdout);
    }
    std::printf("checks: %d failed of %zu\n", failures, cases.size());
    return failures;
}

// ---- timing ----------------------------------------------------------------

__global__ void fill_random(void* data, int64_t n, int dtype, uint64_t seed, float lo, float hi) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
        uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed;
        x ^= x >> 31;
        x *= 0xBF58476D1CE4E5B9ull;
        x ^= x >> 27;
        const float u = static_cast<float>(x >> 40) / static_cast<float>(1 << 24);
        const float val = lo + (hi - lo) * u;
        if (dtype == LLA_DTYPE_BFLOAT16)
            static_cast<__nv_bfloat16*>(data)[i] = __float2bfloat16(val);
        else
            static_cast<float*>(data)[i] = val;
    }
}

void* device_random(int64_t n, int dtype, uint64_t seed, float lo, float hi) {
    void* p = nullptr;
    ok(cudaMalloc(&p, n * elem_size(dtype)), "cudaMalloc");
    fill_random<<<1024, 256>>>(p, n, dtype, seed, lo, hi);
    ok(cudaGetLastError(), "fill_random");
    return p;
}

lla_tensor dense(void* data, int dtype, std::vector<int64_t> shape) {
    lla_tensor t{};
    t.data = data;
    t.dtype = dtype;
    t.device_type = LLA_DEVICE_CUDA;
    t.ndim = static_cast<int32_t>(shape.size());
    int64_t run = 1;
    for (int d = t.ndim - 1; d >= 0; --d) {
        t.shape[d] = shape[d];
        t.strides[d] = run;
        run *= shape[d];
    }
    return t;
}

int run_timing(int reps) {
    const int H = 32, K = 128, V = 64;
    const int64_t shapes[][2] = {{16, 4096}, {4, 16384}, {1, 65536}, {1, 16384}};
    std::printf("\nanchor forward, bf16, H=32 K=128 V=64 G=1 (median of %d, ms)\n", reps);
    std::printf("%-10s %9s %9s %9s %9s %9s %9s\n", "BxT", "total", "states", "upsweep", "output", "min", "max");
    cudaEvent_t ev[5];
    for (auto& e : ev) ok(cudaEventCreate(&e), "event");
    for (auto& sh : shapes) {
        const int64_t B = sh[0], T = sh[1];
        const int L = bit_length(T - 1) + 1;
        void* q = device_random(B * T * K, LLA_DTYPE_BFLOAT16, 1, -0.15f, 0.15f);
        void* k = device_random(B * T * K, LLA_DTYPE_BFLOAT16, 2, -0.15f, 0.15f);
        void* v = device_random(B * T * H * V, LLA_DTYPE_BFLOAT16, 3, -1.f, 1.f);
        void* g = device_random(B * T * H, LLA_DTYPE_FLOAT32, 4, -0.1f, 0.f);
        void* l = device_random(B * T * H * L, LLA_DTYPE_BFLOAT16, 5, 0.3f, 1.3f);
        void* o = nullptr;
        ok(cudaMalloc(&o, B * T * H * V * 2), "cudaMalloc o");
        lla::ForwardProblem p{};
        p.config.variant = LLA_VARIANT_MAMBA2;
        p.config.math_mode = LLA_MATH_DEFAULT;
        p.config.scale = 1.0;
        p.dims = lla::Dims{};
        p.dims.B = B;
        p.dims.T = T;
        p.dims.H = H;
        p.dims.G = 1;
        p.dims.K = K;
        p.dims.V = V;
        p.dims.L = L;
        p.dims.N = B;
        p.precision = lla::Precision::F32;
        p.inputs.q = dense(q, LLA_DTYPE_BFLOAT16, {B, T, 1, K});
        p.inputs.k = dense(k, LLA_DTYPE_BFLOAT16, {B, T, 1, K});
        p.inputs.v = dense(v, LLA_DTYPE_BFLOAT16, {B, T, H, V});
        p.inputs.g = dense(g, LLA_DTYPE_FLOAT32, {B, T, H});
        p.inputs.l = dense(l, LLA_DTYPE_BFLOAT16, {B, T, H, L});
        lla_tensor o_d = dense(o, LLA_DTYPE_BFLOAT16, {B, T, H, V});
        p.o = &o_d;
        for (int64_t b = 0; b < B; ++b) p.sequences.push_back({b, 0, T, 0});
        const size_t ws_bytes = lla::cuda::forward_workspace_bytes(p);
        void* ws = nullptr;
        ok(cudaMalloc(&ws, ws_bytes), "cudaMalloc workspace");
        std::vector<float> total, phase[3];
        for (int r = 0; r < reps + 3; ++r) {
            lla::cuda::fwd::set_phase_events(ev);
            if (lla::cuda::forward(p, ws, nullptr) != LLA_OK) die(std::string("forward: ") + lla::last_error_message());
            ok(cudaEventSynchronize(ev[4]), "forward");
            if (r < 3) continue;
            float ms;
            cudaEventElapsedTime(&ms, ev[0], ev[4]);
            total.push_back(ms);
            for (int i = 0; i < 3; ++i) {
                cudaEventElapsedTime(&ms, ev[i], ev[i + 1]);
                phase[i].push_back(ms);
            }
        }
        lla::cuda::fwd::set_phase_events(nullptr);
        auto median = [](std::vector<float> x) {
            std::sort(x.begin(), x.end());
            return x[x.size() / 2];
        };
        std::printf("%lldx%-7lld %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f\n", static_cast<long long>(B),
                    static_cast<long long>(T), median(total), median(phase[0]), median(phase[1]), median(phase[2]),
                    *std::min_element(total.begin(), total.end()), *std::max_element(total.begin(), total.end()));
        std::fflush(stdout);
        for (void* ptr : {q, k, v, g, l, o, ws}) cudaFree(ptr);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    bool check = false, timing = false;
    int reps = 20;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--check") check = true;
        else if (a == "--time") timing = true;
        else if (a == "--reps" && i + 1 < argc) reps = std::atoi(argv[++i]);
        else die("unknown argument " + a);
    }
    if (!check && !timing) check = timing = true;
    cudaDeviceProp prop{};
    ok(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
    std::printf("device: %s, %d SMs\n", prop.name, prop.multiProcessorCount);
    int failures = 0;
    if (check) failures = run_checks();
    if (timing) run_timing(reps);
    return failures == 0 ? 0 : 1;
}
