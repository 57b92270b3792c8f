// Benchmark of the CPU backend for log-linear Mamba-2 through the public C
// API: B=1, H=4 heads, G=1 (q, k shared by the heads, the Mamba-2 layout),
// K=V=64, float32, T = 2^k tokens. Prints one markdown table row per T:
// chunked forward, forward+backward and decode-step times (median of
// repeats) with their GFLOP/s, and the O(T^2) materialized float64 reference
// (tests/native/reference) where it fits the time box. Then decode steps at
// positions 2^10-1 and 2^20-1 from an imported decode-form state, whose cost
// must follow the number of nonempty levels (10 and 20), not the position.
//
// Inputs are random and non-zero; every output is checked for NaN/Inf, and
// at T <= 2048 against the float64 reference on the same rounded inputs.
//
// Before each row, the machine's float32 GEMM rate (sgemm_ceiling.h, OpenBLAS
// at the same thread count): the forward and forward+backward rates are also
// given as a fraction of it, measured alternately so that the noise of a
// shared machine hits both.
//
// Last, the backward of one segment of a long sequence with both state
// gradients (d_final_state in, d_initial_state out) against the same
// backward without them (docs/training-in-segments.md).
//
// Usage: lla_bench_cpu [--min-t N] [--max-t N] [--materialized-max N]
//                      [--threads N] [--seconds S] [--segment-t N]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "loglinear/loglinear.h"
#include "m2_reference.h"
#include "sgemm_ceiling.h"

namespace {

constexpr int64_t kHeads = 4, kGroups = 1, kDim = 64;  // H, G, K = V
constexpr int64_t kChunk = 64;                         // chunk of the CPU backend, for the FLOP model

struct Options {
    int64_t min_t = 1024, max_t = 65536, materialized_max = 16384;
    int64_t segment_t = 16384;  // segment backward with state gradients (0: skip)
    int threads = 0;
    double seconds = 1.0;  // time budget per measured quantity (at least 3 repeats)
};

int64_t bit_length(uint64_t x) { return x == 0 ? 0 : 64 - __builtin_clzll(x); }

[[noreturn]] void fail(const std::string& message) {
    std::fprintf(stderr, "lla_bench_cpu: %s\n", message.c_str());
    std::exit(1);
}

void check(lla_status status, const char* what) {
    if (status != LLA_OK) fail(std::string(what) + " failed: " + lla_status_name(status) + ": " + lla_last_error());
}

double now_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// CPU time of the whole process (all threads): unlike wall time, it does not
// grow when other processes share the cores.
double cpu_seconds() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct Timing {
    double wall, cpu;  // seconds: medians over the repeats
};

double median(std::vector<double> x) {
    std::sort(x.begin(), x.end());
    return x[x.size() / 2];
}

// Median wall and CPU time of fn over repeats filling about `budget` seconds (3 to 1000 repeats).
Timing median_time(const std::function<void()>& fn, double budget) {
    std::vector<double> wall, cpu;
    const double start = now_seconds();
    while (wall.size() < 3 || (now_seconds() - start < budget && wall.size() < 1000)) {
        const double w0 = now_seconds(), c0 = cpu_seconds();
        fn();
        cpu.push_back(cpu_seconds() - c0);
        wall.push_back(now_seconds() - w0);
    }
    return Timing{median(wall), median(cpu)};
}

lla_tensor dense(void* data, int32_t dtype, std::vector<int64_t> shape) {
    lla_tensor t;
    check(lla_tensor_make_contiguous(&t, data, dtype, LLA_DEVICE_CPU, 0, static_cast<int32_t>(shape.size()), shape.data()),
          "lla_tensor_make_contiguous");
    return t;
}

std::vector<float> uniform(size_t n, float lo, float hi, std::mt19937_64& rng) {
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> out(n);
    for (float& x : out) x = dist(rng);
    return out;
}

bool all_finite(const std::vector<float>& x) {
    return std::all_of(x.begin(), x.end(), [](float v) { return std::isfinite(v); });
}

double relative_error(const std::vector<float>& x, const std::vector<double>& ref) {
    double diff = 0, norm = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        diff += (x[i] - ref[i]) * (x[i] - ref[i]);
        norm += ref[i] * ref[i];
    }
    return std::sqrt(diff / norm);
}

// One float32 problem of T tokens with its outputs and gradients.
struct Problem {
    int64_t T, L;
    std::vector<float> q, k, v, g, l, o, d_o, dq, dk, dv, dg, dl;
    lla_inputs inputs;
    lla_tensor o_t, d_o_t;
    lla_gradients grads;

    // `last_position`: the last position the level weights must reach (default T - 1).
    explicit Problem(int64_t tokens, int64_t last_position = -1)
        : T(tokens), L(bit_length(static_cast<uint64_t>(last_position < 0 ? tokens - 1 : last_position)) + 1) {
        std::mt19937_64 rng(static_cast<uint64_t>(tokens));
        const size_t qk = static_cast<size_t>(T * kGroups * kDim), vo = static_cast<size_t>(T * kHeads * kDim);
        q = uniform(qk, -1, 1, rng);
        k = uniform(qk, -1, 1, rng);
        v = uniform(vo, -1, 1, rng);
        g = uniform(static_cast<size_t>(T * kHeads), -0.1f, -0.001f, rng);
        l = uniform(static_cast<size_t>(T * kHeads * L), 0.5f, 1.5f, rng);
        d_o = uniform(vo, -1, 1, rng);
        o.assign(vo, 0);
        dq.assign(qk, 0);
        dk.assign(qk, 0);
        dv.assign(vo, 0);
        dg.assign(static_cast<size_t>(T * kHeads), 0);
        dl.assign(static_cast<size_t>(T * kHeads * L), 0);
        std::memset(&inputs, 0, sizeof inputs);
        std::memset(&grads, 0, sizeof grads);
        inputs.q = dense(q.data(), LLA_DTYPE_FLOAT32, {1, T, kGroups, kDim});
        inputs.k = dense(k.data(), LLA_DTYPE_FLOAT32, {1, T, kGroups, kDim});
        inputs.v = dense(v.data(), LLA_DTYPE_FLOAT32, {1, T, kHeads, kDim});
        inputs.g = dense(g.data(), LLA_DTYPE_FLOAT32, {1, T, kHeads});
        inputs.l = dense(l.data(), LLA_DTYPE_FLOAT32, {1, T, kHeads, L});
        o_t = dense(o.data(), LLA_DTYPE_FLOAT32, {1, T, kHeads, kDim});
        d_o_t = dense(d_o.data(), LLA_DTYPE_FLOAT32, {1, T, kHeads, kDim});
        grads.dq = dense(dq.data(), LLA_DTYPE_FLOAT32, {1, T, kGroups, kDim});
        grads.dk = dense(dk.data(), LLA_DTYPE_FLOAT32, {1, T, kGroups, kDim});
        grads.dv = dense(dv.data(), LLA_DTYPE_FLOAT32, {1, T, kHeads, kDim});
        grads.dg = dense(dg.data(), LLA_DTYPE_FLOAT32, {1, T, kHeads});
        grads.dl = dense(dl.data(), LLA_DTYPE_FLOAT32, {1, T, kHeads, L});
    }

    lla_reference::M2Problem as_reference() const {
        lla_reference::M2Problem p;
        p.T = T;
        p.H = kHeads;
        p.G = kGroups;
        p.K = p.V = kDim;
        p.L = L;
        p.q.assign(q.begin(), q.end());
        p.k.assign(k.begin(), k.end());
        p.v.assign(v.begin(), v.end());
        p.g.assign(g.begin(), g.end());
        p.l.assign(l.begin(), l.end());
        return p;
    }
};

// FLOP model of the chunked algorithm per head (multiply-add = 2 FLOP):
// intra-chunk products on the causal half, C x K by K x V state products per
// chunk and per nonempty level of its state.
double chunk_reads(int64_t T) {
    double reads = 0;
    for (int64_t c = 0; c < T / kChunk; ++c) reads += __builtin_popcountll(static_cast<uint64_t>(c));
    return reads;
}
double forward_flops(int64_t T) {
    const double K = kDim, V = kDim, t = static_cast<double>(T);
    return kHeads * (t * kChunk * (K + V) + 2 * t * K * V + 2.0 * kChunk * K * V * chunk_reads(T));
}
double backward_flops(int64_t T) {
    const double K = kDim, V = kDim, t = static_cast<double>(T);
    const double reads = 2.0 * kChunk * K * V * chunk_reads(T);
    return kHeads * (t * kChunk * (3 * K + 2 * V) + 2 * reads + 6 * t * K * V);
}
double materialized_forward_flops(int64_t T) { return kHeads * 0.5 * T * (T + 1.0) * 2 * (kDim + kDim); }
double materialized_backward_flops(int64_t T) { return kHeads * 0.5 * T * (T + 1.0) * 2 * (3 * kDim + 2 * kDim); }

struct DecodeTiming {
    double decode_form, canonical;  // seconds per step
};

// Median time of one decode step at `position` for B=1, H=4, K=V=64, from an
// imported random state (each step restarts from the same state).
DecodeTiming time_decode(int64_t position, int threads, double budget) {
    const int64_t Ls = bit_length(static_cast<uint64_t>(position + 1)) + 1;
    std::mt19937_64 rng(static_cast<uint64_t>(position));
    const size_t matrix = kDim * kDim;
    std::vector<float> levels = uniform(static_cast<size_t>(kHeads * Ls) * matrix, -1, 1, rng);
    const std::vector<float> levels0 = levels;
    std::vector<float> log_decay = uniform(static_cast<size_t>(kHeads * Ls), -1, 0, rng);
    const std::vector<float> log_decay0 = log_decay;
    std::vector<int64_t> pos = {position};
    std::vector<float> q = uniform(kGroups * kDim, -1, 1, rng), k = uniform(kGroups * kDim, -1, 1, rng);
    std::vector<float> v = uniform(kHeads * kDim, -1, 1, rng), g = uniform(kHeads, -0.1f, 0, rng);
    std::vector<float> l = uniform(static_cast<size_t>(kHeads * Ls), 0.5f, 1.5f, rng), o(kHeads * kDim);
    lla_inputs token;
    std::memset(&token, 0, sizeof token);
    token.q = dense(q.data(), LLA_DTYPE_FLOAT32, {1, kGroups, kDim});
    token.k = dense(k.data(), LLA_DTYPE_FLOAT32, {1, kGroups, kDim});
    token.v = dense(v.data(), LLA_DTYPE_FLOAT32, {1, kHeads, kDim});
    token.g = dense(g.data(), LLA_DTYPE_FLOAT32, {1, kHeads});
    token.l = dense(l.data(), LLA_DTYPE_FLOAT32, {1, kHeads, Ls});
    lla_tensor o_t = dense(o.data(), LLA_DTYPE_FLOAT32, {1, kHeads, kDim});
    lla_state state;
    std::memset(&state, 0, sizeof state);
    state.levels = dense(levels.data(), LLA_DTYPE_FLOAT32, {1, kHeads, Ls, kDim, kDim});
    state.position = dense(pos.data(), LLA_DTYPE_INT64, {1});
    lla_config config = lla_config_default();
    config.backend = LLA_BACKEND_CPU;
    config.num_threads = threads;

    auto measure = [&](bool decode_form) {
        state.log_decay = decode_form ? dense(log_decay.data(), LLA_DTYPE_FLOAT32, {1, kHeads, Ls}) : lla_tensor{};
        std::vector<double> times;
        const double start = now_seconds();
        while (times.size() < 50 || (now_seconds() - start < budget && times.size() < 100000)) {
            pos[0] = position;  // restart from the same state, outside the timed call
            if (decode_form) log_decay = log_decay0; else levels = levels0;
            const double t0 = now_seconds();
            check(lla_decode_step(&config, &token, &state, &o_t, nullptr), "lla_decode_step");
            times.push_back(now_seconds() - t0);
            if (!std::all_of(o.begin(), o.end(), [](float x) { return std::isfinite(x); })) fail("decode output not finite");
        }
        std::sort(times.begin(), times.end());
        return times[times.size() / 2];
    };
    return DecodeTiming{measure(true), measure(false)};
}

// The backward of tokens [n, n + T) of a long sequence (n unaligned), from a
// random initial state at n: plain, and with d_final_state given and
// d_initial_state returned. The two calls alternate in every repeat so that
// the noise of a shared machine hits both alike. Prints one table.
void time_segment_backward(int64_t T, int threads, double seconds) {
    const int64_t n = 5 * T + 37;
    Problem p(T, n + T - 1);
    const int64_t Ls_in = bit_length(static_cast<uint64_t>(n)) + 1, Ls_out = bit_length(static_cast<uint64_t>(n + T)) + 1;
    std::mt19937_64 rng(7);
    const size_t matrix = kDim * kDim;
    std::vector<float> levels = uniform(static_cast<size_t>(kHeads * Ls_in) * matrix, -1, 1, rng);
    std::vector<float> d_final = uniform(static_cast<size_t>(kHeads * Ls_out) * matrix, -1, 1, rng);
    std::vector<float> d_initial(levels.size(), std::nanf(""));
    std::vector<int64_t> position = {n};
    lla_state initial;
    std::memset(&initial, 0, sizeof initial);
    initial.levels = dense(levels.data(), LLA_DTYPE_FLOAT32, {1, kHeads, Ls_in, kDim, kDim});
    initial.position = dense(position.data(), LLA_DTYPE_INT64, {1});
    const lla_tensor d_final_t = dense(d_final.data(), LLA_DTYPE_FLOAT32, {1, kHeads, Ls_out, kDim, kDim});
    lla_gradients with_states = p.grads;
    with_states.d_initial_state = dense(d_initial.data(), LLA_DTYPE_FLOAT32, {1, kHeads, Ls_in, kDim, kDim});
    lla_config config = lla_config_default();
    config.backend = LLA_BACKEND_CPU;
    config.num_threads = threads;
    size_t bytes = 0;  // the query covers both state gradients
    check(lla_backward_workspace_size(&config, &p.inputs, &initial, &bytes), "lla_backward_workspace_size");
    std::vector<char> workspace(bytes);
    auto plain = [&] {
        check(lla_backward(&config, &p.inputs, &initial, &p.d_o_t, nullptr, &p.grads, workspace.data(), bytes, nullptr),
              "lla_backward");
    };
    auto both = [&] {
        check(lla_backward(&config, &p.inputs, &initial, &p.d_o_t, &d_final_t, &with_states, workspace.data(), bytes,
                           nullptr),
              "lla_backward (state gradients)");
    };
    std::vector<double> plain_wall, both_wall, plain_cpu, both_cpu;
    const double start = now_seconds();
    while (plain_wall.size() < 5 || (now_seconds() - start < 2 * seconds && plain_wall.size() < 200)) {
        for (int which = 0; which < 2; ++which) {
            const double w0 = now_seconds(), c0 = cpu_seconds();
            if (which == 0) plain(); else both();
            (which == 0 ? plain_cpu : both_cpu).push_back(cpu_seconds() - c0);
            (which == 0 ? plain_wall : both_wall).push_back(now_seconds() - w0);
        }
    }
    for (const std::vector<float>* x : {&p.dq, &p.dk, &p.dv, &p.dg, &p.dl, &d_initial})
        if (!all_finite(*x)) fail("non-finite gradient in the segment backward");
    if (std::all_of(d_initial.begin(), d_initial.end(), [](float x) { return x == 0; })) fail("d_initial_state is all zero");
    const double pw = median(plain_wall), bw = median(both_wall);
    std::printf("\nBackward of one segment, tokens [%lld, %lld) of a long sequence (B=1, H=%lld, K=V=%lld, float32), "
                "from an initial state at %lld; %zu alternating repeats, medians, wall (CPU):\n\n",
                (long long)n, (long long)(n + T), (long long)kHeads, (long long)kDim, (long long)n, plain_wall.size());
    std::printf("| backward | ms | ratio |\n|---|---|---|\n");
    std::printf("| plain (no state gradients) | %.2f (%.2f) | 1.00 |\n", pw * 1e3, median(plain_cpu) * 1e3);
    std::printf("| with d_final_state and d_initial_state | %.2f (%.2f) | %.3f (%.3f) |\n", bw * 1e3,
                median(both_cpu) * 1e3, bw / pw, median(both_cpu) / median(plain_cpu));
    std::fflush(stdout);
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) fail("missing value after " + a);
            return argv[++i];
        };
        if (a == "--min-t") o.min_t = std::atoll(value());
        else if (a == "--max-t") o.max_t = std::atoll(value());
        else if (a == "--materialized-max") o.materialized_max = std::atoll(value());
        else if (a == "--threads") o.threads = std::atoi(value());
        else if (a == "--seconds") o.seconds = std::atof(value());
        else if (a == "--segment-t") o.segment_t = std::atoll(value());
        else fail("unknown argument " + a + " (see the header of bench/cpu_bench.cpp)");
    }
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    const Options opt = parse(argc, argv);
    lla_config config = lla_config_default();
    config.backend = LLA_BACKEND_CPU;
    config.num_threads = opt.threads;
    const int ref_threads = opt.threads > 0 ? opt.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

    const char* isa = lla_cpu_isa();
    if (isa == nullptr) fail(std::string("lla_cpu_isa: ") + lla_last_error());
    std::printf("loglinear %s CPU benchmark: M2, B=1, H=%lld, G=%lld, K=V=%lld, float32, num_threads=%d, kernels %s "
                "(LLA_CPU_ISA, docs/cpu.md)\n",
                lla_version_string(), (long long)kHeads, (long long)kGroups, (long long)kDim, opt.threads, isa);
    std::printf("Times are medians, wall clock and (in brackets) CPU time of all threads; GFLOP/s from wall time.\n");
    constexpr int kSgemmN = 2048;
    const SgemmCeiling first = measure_sgemm(opt.threads, kSgemmN, 0.5);
    std::printf("Ceiling: %s%s; measured again before each row.\n\n", first.note.c_str(),
                first.measured ? (", " + std::to_string(static_cast<int>(first.gflops)) + " GFLOP/s").c_str() : "");
    std::printf("| T | fwd ms | fwd GFLOP/s | fwd+bwd ms | fwd+bwd GFLOP/s | sgemm GFLOP/s | fwd / sgemm | "
                "fwd+bwd / sgemm | decode step us (pos T-1) | materialized fwd+bwd ms | speedup fwd+bwd | check |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    std::fflush(stdout);
    std::vector<std::pair<int64_t, Timing>> forward_times;
    for (int64_t T = opt.min_t; T <= opt.max_t; T *= 2) {
        Problem p(T);
        size_t fwd_bytes = 0, bwd_bytes = 0;
        check(lla_forward_workspace_size(&config, &p.inputs, nullptr, &fwd_bytes), "lla_forward_workspace_size");
        check(lla_backward_workspace_size(&config, &p.inputs, nullptr, &bwd_bytes), "lla_backward_workspace_size");
        std::vector<char> workspace(std::max(fwd_bytes, bwd_bytes));
        auto forward = [&] {
            check(lla_forward(&config, &p.inputs, nullptr, &p.o_t, nullptr, workspace.data(), workspace.size(), nullptr),
                  "lla_forward");
        };
        auto backward = [&] {
            check(lla_backward(&config, &p.inputs, nullptr, &p.d_o_t, nullptr, &p.grads, workspace.data(), workspace.size(), nullptr),
                  "lla_backward");
        };
        const SgemmCeiling ceiling = measure_sgemm(opt.threads, kSgemmN, 0.3);
        const Timing fwd = median_time(forward, opt.seconds);
        const Timing fwd_bwd = median_time([&] { forward(); backward(); }, opt.seconds);
        forward_times.emplace_back(T, fwd);
        for (const std::vector<float>* x : {&p.o, &p.dq, &p.dk, &p.dv, &p.dg, &p.dl})
            if (!all_finite(*x)) fail("non-finite output or gradient at T=" + std::to_string(T));

        std::string verdict = "finite";
        if (T <= 2048) {  // against the float64 reference on the same inputs
            const lla_reference::M2Problem ref = p.as_reference();
            const std::vector<double> d_o(p.d_o.begin(), p.d_o.end());
            const double err_o = relative_error(p.o, lla_reference::forward(ref, ref_threads));
            const lla_reference::M2Gradients rg = lla_reference::backward(ref, d_o, ref_threads);
            double err = err_o;
            for (auto pair : {std::make_pair(&p.dq, &rg.dq), std::make_pair(&p.dk, &rg.dk), std::make_pair(&p.dv, &rg.dv),
                              std::make_pair(&p.dg, &rg.dg), std::make_pair(&p.dl, &rg.dl)})
                err = std::max(err, relative_error(*pair.first, *pair.second));
            if (err > 1e-4) fail("chunked result differs from the reference at T=" + std::to_string(T) + ": " + std::to_string(err));
            char text[64];
            std::snprintf(text, sizeof text, "max rel err %.1e", err);
            verdict = text;
        }

        std::string materialized = "-", speedup = "-";
        if (T <= opt.materialized_max) {  // run once: seconds to minutes
            const lla_reference::M2Problem ref = p.as_reference();
            const std::vector<double> d_o(p.d_o.begin(), p.d_o.end());
            const double w0 = now_seconds(), c0 = cpu_seconds();
            lla_reference::forward(ref, ref_threads);
            lla_reference::backward(ref, d_o, ref_threads);
            const double wall = now_seconds() - w0, cpu = cpu_seconds() - c0;
            char text[96];
            std::snprintf(text, sizeof text, "%.0f (%.0f), %.1f GFLOP/s", wall * 1e3, cpu * 1e3,
                          (materialized_forward_flops(T) + materialized_backward_flops(T)) / wall * 1e-9);
            materialized = text;
            std::snprintf(text, sizeof text, "%.0fx (%.0fx)", wall / fwd_bwd.wall, cpu / fwd_bwd.cpu);
            speedup = text;
        }
        const DecodeTiming decode = time_decode(T - 1, opt.threads, 0.2);
        const double fwd_gflops = forward_flops(T) / fwd.wall * 1e-9;
        const double fb_gflops = (forward_flops(T) + backward_flops(T)) / fwd_bwd.wall * 1e-9;
        char sgemm[32] = "-", fwd_share[32] = "-", fb_share[32] = "-";
        if (ceiling.measured) {
            std::snprintf(sgemm, sizeof sgemm, "%.1f", ceiling.gflops);
            std::snprintf(fwd_share, sizeof fwd_share, "%.0f%%", 100 * fwd_gflops / ceiling.gflops);
            std::snprintf(fb_share, sizeof fb_share, "%.0f%%", 100 * fb_gflops / ceiling.gflops);
        }
        std::printf("| %lld | %.2f (%.2f) | %.1f | %.2f (%.2f) | %.1f | %s | %s | %s | %.1f | %s | %s | %s |\n",
                    (long long)T, fwd.wall * 1e3, fwd.cpu * 1e3, fwd_gflops, fwd_bwd.wall * 1e3, fwd_bwd.cpu * 1e3,
                    fb_gflops, sgemm, fwd_share, fb_share, decode.decode_form * 1e6, materialized.c_str(),
                    speedup.c_str(), verdict.c_str());
        std::fflush(stdout);
    }

    std::printf("\nForward time ratio time(T) / time(T/2), wall (CPU):");
    for (size_t i = 1; i < forward_times.size(); ++i)
        std::printf(" T=%lld: %.2f (%.2f);", (long long)forward_times[i].first,
                    forward_times[i].second.wall / forward_times[i - 1].second.wall,
                    forward_times[i].second.cpu / forward_times[i - 1].second.cpu);
    std::printf("\n");
    if (opt.segment_t > 0) time_segment_backward(opt.segment_t, opt.threads, opt.seconds);

    std::printf("\nDecode step (B=1, H=4, K=V=64, float32), median wall time over repeats from the same imported state:\n\n");
    std::printf("| position | nonempty levels | decode form us | canonical form us |\n|---|---|---|---|\n");
    double at10 = 0, at20 = 0;
    for (int64_t position : {int64_t{1} << 10, (int64_t{1} << 10) - 1, (int64_t{1} << 20) - 1, (int64_t{1} << 20),
                             (int64_t{1} << 30) - 1}) {
        const DecodeTiming d = time_decode(position, opt.threads, 1.0);
        std::printf("| %lld | %d | %.2f | %.2f |\n", (long long)position, __builtin_popcountll(static_cast<uint64_t>(position)),
                    d.decode_form * 1e6, d.canonical * 1e6);
        if (position == (int64_t{1} << 10) - 1) at10 = d.decode_form;
        if (position == (int64_t{1} << 20) - 1) at20 = d.decode_form;
    }
    std::printf("\nDecode step at 2^20-1 / at 2^10-1 (decode form): %.2f\n", at20 / at10);
    return 0;
}
