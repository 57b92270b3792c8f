// lla_bench_cuda: the CUDA backend at the anchor shapes of docs/benchmarks.md
// (the FLA and SDPA figures and the targets below are its "Baselines" and
// "Targets").
//
//   lla_bench_cuda [--repeats N] [--warmup N] [--markdown FILE] [--forward-only]
//
// 1. Copy bandwidth (cudaMemcpy device to device, bytes read + written): the
//    ceiling for memory-bound kernels.
// 2. Forward, bf16, H=32, K=128, V=64, G=1 at B x T = 16x4096, 4x16384,
//    1x65536, 1x16384, through the public C API with a caller workspace:
//    median ms (CUDA events), TFLOP/s and GB/s by the models below, and the
//    output of a prefix of one sequence checked against the CPU backend in
//    float64 on the same rounded inputs.
// 3. Forward + backward at the same shapes (bf16 gradients, dg float32):
//    median ms of the forward, the backward and both, backward TFLOP/s by
//    the model in bench_backward, the call's device memory (inputs, outputs,
//    one workspace serving both calls), and the gradients checked against
//    the CPU backend in float64 on a prefix (dq, dl from the timed run; dk,
//    dv, dg from a run with d_o zero past the prefix).
// 4. Decode step at B=64, H=32, K=128, V=64, position 65535 (16 nonempty
//    levels), float32 state, decode and canonical form: median ms of the
//    kernels (lla::cuda::decode_step, no validation) and of the public call
//    (whose validation reads the positions back to the host), effective
//    bandwidth on the bytes the step must move, and its share of the copy
//    bandwidth.
//
// Models (stated so the numbers can be checked):
//   forward bytes = every input read once + o written once (q, k, v, l, o
//   bf16; g float32);
//   forward FLOP  = per token and head: 2*64*(K+V) (intra-chunk tile of 64,
//   counted whole), 2*K*V (chunk state), 2*K*V per nonempty inter-chunk level
//   of the token's chunk (popcount of the chunk index);
//   decode bytes  = nonempty levels read once + merged level written (+ the
//   folded/rescaled levels written in the canonical form) + token tensors,
//   o and log_decay.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "core/problem.h"
#include "cuda/backward/backward.h"
#include "cuda/backward/dg_kernel.h"
#include "cuda/decode/decode_step.h"
#include "cuda/decode/decode_step_launch.cuh"
#include "loglinear/loglinear.h"

namespace {

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "lla_bench_cuda: %s\n", what.c_str());
    std::exit(1);
}

void cuda_ok(cudaError_t err, const char* what) {
    if (err != cudaSuccess) fail(std::string(what) + ": " + cudaGetErrorString(err));
}

void lla_ok(lla_status st, const char* what) {
    if (st != LLA_OK) fail(std::string(what) + ": " + lla_status_name(st) + ": " + lla_last_error());
}

// Device memory owned for the bench's lifetime.
struct DeviceBuffer {
    void* ptr = nullptr;
    size_t bytes = 0;
    explicit DeviceBuffer(size_t n) : bytes(n) { cuda_ok(cudaMalloc(&ptr, n ? n : 1), "cudaMalloc"); }
    ~DeviceBuffer() { cudaFree(ptr); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

__device__ __forceinline__ float hash_uniform(uint64_t i, uint64_t seed) {
    uint64_t z = i + seed * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return static_cast<float>(z >> 40) * (1.0f / 16777216.0f);  // [0, 1)
}

template <class T>
__global__ void fill_uniform_kernel(T* out, int64_t n, float lo, float hi, uint64_t seed) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
        out[i] = static_cast<T>(lo + (hi - lo) * hash_uniform(static_cast<uint64_t>(i), seed));
}

template <class T>
void fill_uniform(T* out, int64_t n, float lo, float hi, uint64_t seed) {
    fill_uniform_kernel<T><<<1024, 256>>>(out, n, lo, hi, seed);
    cuda_ok(cudaGetLastError(), "fill_uniform_kernel");
}

lla_tensor cuda_tensor(void* data, int32_t dtype, std::vector<int64_t> shape) {
    lla_tensor t;
    lla_ok(lla_tensor_make_contiguous(&t, data, dtype, LLA_DEVICE_CUDA, 0, static_cast<int32_t>(shape.size()),
                                      shape.data()),
           "lla_tensor_make_contiguous");
    return t;
}

lla_tensor host_tensor(void* data, int32_t dtype, std::vector<int64_t> shape) {
    lla_tensor t;
    lla_ok(lla_tensor_make_contiguous(&t, data, dtype, LLA_DEVICE_CPU, 0, static_cast<int32_t>(shape.size()),
                                      shape.data()),
           "lla_tensor_make_contiguous");
    return t;
}

int bit_length(uint64_t x) { return x == 0 ? 0 : 64 - __builtin_clzll(x); }

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Timing {
    double median_ms, min_ms, max_ms;
};

// Times `body` with CUDA events on the default stream: `warmup` untimed runs,
// then `repeats` timed ones; `before` runs untimed ahead of each.
Timing time_events(int warmup, int repeats, const std::function<void()>& body,
                   const std::function<void()>& before = [] {}) {
    cudaEvent_t start, stop;
    cuda_ok(cudaEventCreate(&start), "cudaEventCreate");
    cuda_ok(cudaEventCreate(&stop), "cudaEventCreate");
    for (int i = 0; i < warmup; ++i) {
        before();
        body();
    }
    cuda_ok(cudaDeviceSynchronize(), "warm-up");
    std::vector<double> ms;
    for (int i = 0; i < repeats; ++i) {
        before();
        cuda_ok(cudaEventRecord(start), "cudaEventRecord");
        body();
        cuda_ok(cudaEventRecord(stop), "cudaEventRecord");
        cuda_ok(cudaEventSynchronize(stop), "cudaEventSynchronize");
        float t = 0;
        cuda_ok(cudaEventElapsedTime(&t, start, stop), "cudaEventElapsedTime");
        ms.push_back(t);
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    return {median(ms), *std::min_element(ms.begin(), ms.end()), *std::max_element(ms.begin(), ms.end())};
}

std::vector<double> download_as_double_bf16(const void* device, size_t count) {
    std::vector<__nv_bfloat16> h(count);
    cuda_ok(cudaMemcpy(h.data(), device, count * 2, cudaMemcpyDeviceToHost), "download");
    std::vector<double> out(count);
    for (size_t i = 0; i < count; ++i) out[i] = __bfloat162float(h[i]);
    return out;
}

std::vector<double> download_as_double_f32(const void* device, size_t count) {
    std::vector<float> h(count);
    cuda_ok(cudaMemcpy(h.data(), device, count * 4, cudaMemcpyDeviceToHost), "download");
    return std::vector<double>(h.begin(), h.end());
}

double relative_error(const std::vector<double>& got, const std::vector<double>& ref) {
    double num = 0, den = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        if (!std::isfinite(got[i])) return INFINITY;
        num += (got[i] - ref[i]) * (got[i] - ref[i]);
        den += ref[i] * ref[i];
    }
    return std::sqrt(num / (den > 0 ? den : 1));
}

struct Options {
    int repeats = 30;
    int warmup = 5;
    std::string markdown;
    bool forward_only = false;
};

std::ostringstream report;  // the markdown tables, also printed at the end

// ---------------------------------------------------------------------------
double copy_bandwidth(const Options& opt) {
    const size_t bytes = size_t(2) << 30;  // 2 GiB each way
    DeviceBuffer a(bytes), b(bytes);
    cuda_ok(cudaMemset(a.ptr, 1, bytes), "cudaMemset");
    const Timing t = time_events(3, opt.repeats, [&] {
        cuda_ok(cudaMemcpyAsync(b.ptr, a.ptr, bytes, cudaMemcpyDeviceToDevice), "cudaMemcpyAsync");
    });
    const double gbs = 2.0 * bytes / (t.median_ms * 1e-3) / 1e9;
    std::printf("copy: %.1f GB/s (2 GiB D2D, read+write, median %.3f ms)\n", gbs, t.median_ms);
    report << "| copy (cudaMemcpy D2D, 2 GiB) | " << t.median_ms << " ms | " << gbs << " GB/s (read + write) |\n";
    return gbs;
}

// ---------------------------------------------------------------------------
struct Anchor {
    int64_t B, T;
    double fla_ms, fla_linear_ms;
};

void bench_forward(const Options& opt, double copy_gbs) {
    const int64_t H = 32, G = 1, K = 128, V = 64;
    const Anchor anchors[] = {{16, 4096, 5.53, 0.955}, {4, 16384, 8.09, 1.045}, {1, 65536, 17.2, 1.85},
                              {1, 16384, 4.95, 0.692}};
    report << "\n| B x T | median ms | min ms | TFLOP/s | GB/s | % of copy BW | FLA log-linear ms | speed-up vs FLA "
              "| 4x target ms | FLA linear ms | check (rel. err vs CPU f64) |\n"
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
    for (const Anchor& a : anchors) {
        const int64_t B = a.B, T = a.T;
        const int64_t L = bit_length(static_cast<uint64_t>(T - 1)) + 1;
        const int64_t nqk = B * T * G * K, nv = B * T * H * V, ng = B * T * H, nl = B * T * H * L;
        DeviceBuffer q(nqk * 2), k(nqk * 2), v(nv * 2), g(ng * 4), l(nl * 2), o(nv * 2);
        fill_uniform(static_cast<__nv_bfloat16*>(q.ptr), nqk, -1.f, 1.f, 1);
        fill_uniform(static_cast<__nv_bfloat16*>(k.ptr), nqk, -1.f, 1.f, 2);
        fill_uniform(static_cast<__nv_bfloat16*>(v.ptr), nv, -1.f, 1.f, 3);
        fill_uniform(static_cast<float*>(g.ptr), ng, -0.2f, -0.001f, 4);  // log decays, like log(sigmoid)
        fill_uniform(static_cast<__nv_bfloat16*>(l.ptr), nl, 0.f, 1.f, 5);

        lla_config cfg = lla_config_default();
        cfg.backend = LLA_BACKEND_CUDA;
        cfg.scale = 1.0 / std::sqrt(double(K));
        lla_inputs in{};
        in.q = cuda_tensor(q.ptr, LLA_DTYPE_BFLOAT16, {B, T, G, K});
        in.k = cuda_tensor(k.ptr, LLA_DTYPE_BFLOAT16, {B, T, G, K});
        in.v = cuda_tensor(v.ptr, LLA_DTYPE_BFLOAT16, {B, T, H, V});
        in.g = cuda_tensor(g.ptr, LLA_DTYPE_FLOAT32, {B, T, H});
        in.l = cuda_tensor(l.ptr, LLA_DTYPE_BFLOAT16, {B, T, H, L});
        const lla_tensor out = cuda_tensor(o.ptr, LLA_DTYPE_BFLOAT16, {B, T, H, V});
        size_t ws_bytes = 0;
        lla_ok(lla_forward_workspace_size(&cfg, &in, nullptr, &ws_bytes), "lla_forward_workspace_size");
        DeviceBuffer ws(ws_bytes);
        cuda_ok(cudaMemset(o.ptr, 0xff, nv * 2), "poison o");
        cuda_ok(cudaDeviceSynchronize(), "inputs");

        const Timing t = time_events(opt.warmup, opt.repeats, [&] {
            lla_ok(lla_forward(&cfg, &in, nullptr, &out, nullptr, ws.ptr, ws_bytes, nullptr), "lla_forward");
        });

        // Check: the last sequence's first Tc tokens (causal, so a prefix is
        // self-contained) against the CPU backend in float64.
        const int64_t Tc = std::min<int64_t>(T, 1024), b = B - 1;
        std::vector<double> hq = download_as_double_bf16(static_cast<char*>(q.ptr) + b * T * G * K * 2, Tc * G * K);
        std::vector<double> hk = download_as_double_bf16(static_cast<char*>(k.ptr) + b * T * G * K * 2, Tc * G * K);
        std::vector<double> hv = download_as_double_bf16(static_cast<char*>(v.ptr) + b * T * H * V * 2, Tc * H * V);
        std::vector<double> hg = download_as_double_f32(static_cast<char*>(g.ptr) + b * T * H * 4, Tc * H);
        std::vector<double> hl_full = download_as_double_bf16(static_cast<char*>(l.ptr) + b * T * H * L * 2, Tc * H * L);
        std::vector<double> ho = download_as_double_bf16(static_cast<char*>(o.ptr) + b * T * H * V * 2, Tc * H * V);
        std::vector<double> ref(Tc * H * V, 0.0);
        lla_config ccfg = cfg;
        ccfg.backend = LLA_BACKEND_CPU;
        lla_inputs cin{};
        cin.q = host_tensor(hq.data(), LLA_DTYPE_FLOAT64, {1, Tc, G, K});
        cin.k = host_tensor(hk.data(), LLA_DTYPE_FLOAT64, {1, Tc, G, K});
        cin.v = host_tensor(hv.data(), LLA_DTYPE_FLOAT64, {1, Tc, H, V});
        cin.g = host_tensor(hg.data(), LLA_DTYPE_FLOAT64, {1, Tc, H});
        cin.l = host_tensor(hl_full.data(), LLA_DTYPE_FLOAT64, {1, Tc, H, L});
        const lla_tensor cout = host_tensor(ref.data(), LLA_DTYPE_FLOAT64, {1, Tc, H, V});
        lla_ok(lla_forward(&ccfg, &cin, nullptr, &cout, nullptr, nullptr, 0, nullptr), "CPU reference forward");
        const double err = relative_error(ho, ref);

        const double bytes = double(2 * nqk * 2 + nv * 2 + ng * 4 + nl * 2 + nv * 2);
        double flop = 0;
        const int64_t chunks = (T + 63) / 64;
        for (int64_t c = 0; c < chunks; ++c) {
            const int64_t tokens = std::min<int64_t>(64, T - c * 64);
            flop += double(tokens) * (2.0 * 64 * (K + V) + 2.0 * K * V * (1 + __builtin_popcountll(c)));
        }
        flop *= double(B * H);
        const double tflops = flop / (t.median_ms * 1e-3) / 1e12;
        const double gbs = bytes / (t.median_ms * 1e-3) / 1e9;
        std::printf("forward %2lld x %-6lld  median %8.3f ms  min %8.3f  %6.1f TFLOP/s  %7.1f GB/s  "
                    "FLA %6.2f ms (x%.2f)  check rel.err %.2e %s\n",
                    (long long)B, (long long)T, t.median_ms, t.min_ms, tflops, gbs, a.fla_ms, a.fla_ms / t.median_ms,
                    err, err <= 1e-2 ? "ok" : "FAILED");
        report << "| " << B << " x " << T << " | " << t.median_ms << " | " << t.min_ms << " | " << tflops << " | "
               << gbs << " | " << 100.0 * gbs / copy_gbs << " | " << a.fla_ms << " | " << a.fla_ms / t.median_ms
               << "x | " << a.fla_ms / 4 << " | " << a.fla_linear_ms << " | " << err
               << (err <= 1e-2 ? " ok" : " FAILED") << " |\n";
    }
}

// ---------------------------------------------------------------------------
struct TrainAnchor {
    int64_t B, T;
    double fla_fb_ms, sdpa_fb_ms, target_ms, fla_peak_gb;
};

void bench_backward(const Options& opt) {
    const int64_t H = 32, G = 1, K = 128, V = 64;
    const TrainAnchor anchors[] = {{16, 4096, 26.3, 8.48, 6.6, 5.35},
                                   {4, 16384, 41.0, 28.7, 10.3, 4.38},
                                   {1, 65536, 131, 116, 32.8, 4.41},
                                   {1, 16384, 30.4, 7.37, 7.37, 1.31}};
    report << "\n| B x T | forward ms | backward ms | forward+backward ms | target ms (min of FLA/4, SDPA) | "
              "vs FLA fwd+bwd | vs SDPA fwd+bwd | backward TFLOP/s | peak memory of the call GB (FLA) | check "
              "(max rel. err vs CPU f64) |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
    for (const TrainAnchor& a : anchors) {
        const int64_t B = a.B, T = a.T;
        const int64_t L = bit_length(static_cast<uint64_t>(T - 1)) + 1;
        const int64_t nqk = B * T * G * K, nv = B * T * H * V, ng = B * T * H, nl = B * T * H * L;
        DeviceBuffer q(nqk * 2), k(nqk * 2), v(nv * 2), g(ng * 4), l(nl * 2), o(nv * 2), d_o(nv * 2);
        DeviceBuffer dq(nqk * 2), dk(nqk * 2), dv(nv * 2), dg(ng * 4), dl(nl * 2);
        fill_uniform(static_cast<__nv_bfloat16*>(q.ptr), nqk, -1.f, 1.f, 21);
        fill_uniform(static_cast<__nv_bfloat16*>(k.ptr), nqk, -1.f, 1.f, 22);
        fill_uniform(static_cast<__nv_bfloat16*>(v.ptr), nv, -1.f, 1.f, 23);
        fill_uniform(static_cast<float*>(g.ptr), ng, -0.2f, -0.001f, 24);
        fill_uniform(static_cast<__nv_bfloat16*>(l.ptr), nl, 0.f, 1.f, 25);
        fill_uniform(static_cast<__nv_bfloat16*>(d_o.ptr), nv, -1.f, 1.f, 26);

        lla_config cfg = lla_config_default();
        cfg.backend = LLA_BACKEND_CUDA;
        cfg.scale = 1.0 / std::sqrt(double(K));
        lla_inputs in{};
        in.q = cuda_tensor(q.ptr, LLA_DTYPE_BFLOAT16, {B, T, G, K});
        in.k = cuda_tensor(k.ptr, LLA_DTYPE_BFLOAT16, {B, T, G, K});
        in.v = cuda_tensor(v.ptr, LLA_DTYPE_BFLOAT16, {B, T, H, V});
        in.g = cuda_tensor(g.ptr, LLA_DTYPE_FLOAT32, {B, T, H});
        in.l = cuda_tensor(l.ptr, LLA_DTYPE_BFLOAT16, {B, T, H, L});
        const lla_tensor out = cuda_tensor(o.ptr, LLA_DTYPE_BFLOAT16, {B, T, H, V});
        const lla_tensor dout = cuda_tensor(d_o.ptr, LLA_DTYPE_BFLOAT16, {B, T, H, V});
        lla_gradients grads{};
        grads.dq = cuda_tensor(dq.ptr, LLA_DTYPE_BFLOAT16, {B, T, G, K});
        grads.dk = cuda_tensor(dk.ptr, LLA_DTYPE_BFLOAT16, {B, T, G, K});
        grads.dv = cuda_tensor(dv.ptr, LLA_DTYPE_BFLOAT16, {B, T, H, V});
        grads.dg = cuda_tensor(dg.ptr, LLA_DTYPE_FLOAT32, {B, T, H});
        grads.dl = cuda_tensor(dl.ptr, LLA_DTYPE_BFLOAT16, {B, T, H, L});
        size_t fws = 0, bws = 0;
        lla_ok(lla_forward_workspace_size(&cfg, &in, nullptr, &fws), "lla_forward_workspace_size");
        lla_ok(lla_backward_workspace_size(&cfg, &in, nullptr, &bws), "lla_backward_workspace_size");
        const size_t ws_bytes = std::max(fws, bws);  // one caller workspace serves both calls
        DeviceBuffer ws(ws_bytes);
        for (const DeviceBuffer* b : {&o, &dq, &dk, &dv, &dg, &dl}) cuda_ok(cudaMemset(b->ptr, 0xff, b->bytes), "poison");
        cuda_ok(cudaDeviceSynchronize(), "inputs");

        auto fwd = [&] {
            lla_ok(lla_forward(&cfg, &in, nullptr, &out, nullptr, ws.ptr, ws_bytes, nullptr), "lla_forward");
        };
        auto bwd = [&] {
            lla_ok(lla_backward(&cfg, &in, nullptr, &dout, nullptr, &grads, ws.ptr, ws_bytes, nullptr), "lla_backward");
        };
        const Timing tf = time_events(opt.warmup, opt.repeats, fwd);
        const Timing tb = time_events(opt.warmup, opt.repeats, bwd);
        const Timing tfb = time_events(opt.warmup, opt.repeats, [&] {
            fwd();
            bwd();
        });
        // Where the backward's time goes: its passes, from events around each,
        // in one call of the backend's entry point (the static library's copy,
        // whose event hook this binary can set).
        {
            lla::BackwardProblem bp{};
            bp.config = cfg;
            bp.dims.B = B;
            bp.dims.T = T;
            bp.dims.H = H;
            bp.dims.G = G;
            bp.dims.K = K;
            bp.dims.V = V;
            bp.dims.L = L;
            bp.dims.N = B;
            bp.precision = lla::Precision::F32;
            bp.inputs = in;
            for (int64_t b = 0; b < B; ++b) bp.sequences.push_back(lla::Sequence{b, 0, T, 0});
            bp.d_o = &dout;
            bp.grads = grads;
            cudaEvent_t ev[8];
            for (cudaEvent_t& e : ev) cuda_ok(cudaEventCreate(&e), "cudaEventCreate");
            lla::cuda::bwd::set_phase_events(ev);
            lla_ok(lla::cuda::backward(bp, ws.ptr, nullptr), "lla::cuda::backward");
            cuda_ok(cudaDeviceSynchronize(), "phase run");
            lla::cuda::bwd::set_phase_events(nullptr);
            const char* names[7] = {"prep", "upsweep", "pieces", "downsweep", "dq", "dkv", "dg"};
            std::printf("  backward passes (ms):");
            for (int i = 0; i < 7; ++i) {
                float t = 0;
                cuda_ok(cudaEventElapsedTime(&t, ev[i], ev[i + 1]), "cudaEventElapsedTime");
                std::printf(" %s %.3f", names[i], t);
            }
            std::printf("\n");
            for (cudaEvent_t& e : ev) cudaEventDestroy(e);
        }

        // Check 1 (the timed run's output): dq and dl are causal, so the last
        // sequence's first Tc tokens match the CPU on that prefix.
        const int64_t Tc = std::min<int64_t>(T, 1024), b = B - 1;
        auto prefix = [&](const DeviceBuffer& buf, int64_t per_token, bool f32) {
            const char* at = static_cast<const char*>(buf.ptr) + b * T * per_token * (f32 ? 4 : 2);
            return f32 ? download_as_double_f32(at, Tc * per_token) : download_as_double_bf16(at, Tc * per_token);
        };
        std::vector<double> hq = prefix(q, G * K, false), hk = prefix(k, G * K, false), hv = prefix(v, H * V, false),
                            hg = prefix(g, H, true), hl = prefix(l, H * L, false), hdo = prefix(d_o, H * V, false);
        const std::vector<double> got_dq = prefix(dq, G * K, false), got_dl = prefix(dl, H * L, false);
        // Check 2: the backward again with d_o zero beyond the prefix (then
        // every gradient of the prefix is the prefix's own), untimed.
        cuda_ok(cudaMemset(static_cast<char*>(d_o.ptr) + (b * T + Tc) * H * V * 2, 0, (T - Tc) * H * V * 2),
                "mask d_o");
        bwd();
        cuda_ok(cudaDeviceSynchronize(), "masked backward");
        const std::vector<double> got_dk = prefix(dk, G * K, false), got_dv = prefix(dv, H * V, false),
                                  got_dg = prefix(dg, H, true);
        std::vector<double> rq(Tc * G * K), rk(Tc * G * K), rv(Tc * H * V), rg(Tc * H), rl(Tc * H * L);
        lla_config ccfg = cfg;
        ccfg.backend = LLA_BACKEND_CPU;
        lla_inputs cin{};
        cin.q = host_tensor(hq.data(), LLA_DTYPE_FLOAT64, {1, Tc, G, K});
        cin.k = host_tensor(hk.data(), LLA_DTYPE_FLOAT64, {1, Tc, G, K});
        cin.v = host_tensor(hv.data(), LLA_DTYPE_FLOAT64, {1, Tc, H, V});
        cin.g = host_tensor(hg.data(), LLA_DTYPE_FLOAT64, {1, Tc, H});
        cin.l = host_tensor(hl.data(), LLA_DTYPE_FLOAT64, {1, Tc, H, L});
        const lla_tensor cdo = host_tensor(hdo.data(), LLA_DTYPE_FLOAT64, {1, Tc, H, V});
        lla_gradients cg{};
        cg.dq = host_tensor(rq.data(), LLA_DTYPE_FLOAT64, {1, Tc, G, K});
        cg.dk = host_tensor(rk.data(), LLA_DTYPE_FLOAT64, {1, Tc, G, K});
        cg.dv = host_tensor(rv.data(), LLA_DTYPE_FLOAT64, {1, Tc, H, V});
        cg.dg = host_tensor(rg.data(), LLA_DTYPE_FLOAT64, {1, Tc, H});
        cg.dl = host_tensor(rl.data(), LLA_DTYPE_FLOAT64, {1, Tc, H, L});
        lla_ok(lla_backward(&ccfg, &cin, nullptr, &cdo, nullptr, &cg, nullptr, 0, nullptr), "CPU reference backward");
        const double err = std::max({relative_error(got_dq, rq), relative_error(got_dk, rk), relative_error(got_dv, rv),
                                     relative_error(got_dg, rg), relative_error(got_dl, rl)});

        // Useful FLOP of the backward per token and head (chunk c):
        // intra 2*64*(3K + 2V); chunk state, dk and dv from the chunk-state
        // gradient 3 * 2KV; per nonempty inter-chunk level, dq, dl's Q x state
        // and the gradient-state piece 3 * 2KV.
        double flop = 0;
        const int64_t chunks = (T + 63) / 64;
        for (int64_t c = 0; c < chunks; ++c) {
            const int64_t tokens = std::min<int64_t>(64, T - c * 64);
            flop += double(tokens) * (2.0 * 64 * (3 * K + 2 * V) + 2.0 * K * V * (3 + 3 * __builtin_popcountll(c)));
        }
        flop *= double(B * H);
        const double tflops = flop / (tb.median_ms * 1e-3) / 1e12;
        const double io = double(q.bytes + k.bytes + v.bytes + g.bytes + l.bytes + d_o.bytes + o.bytes + dq.bytes +
                                 dk.bytes + dv.bytes + dg.bytes + dl.bytes);
        const double peak_gb = (io + double(ws_bytes)) / 1e9;
        const bool ok = err <= 1e-2;
        std::printf("fwd+bwd %2lld x %-6lld  fwd %7.3f ms  bwd %7.3f ms  fwd+bwd %7.3f ms (target %.2f; FLA x%.2f, "
                    "SDPA x%.2f)  bwd %5.1f TFLOP/s  peak %.2f GB (FLA %.2f)  check %.2e %s\n",
                    (long long)B, (long long)T, tf.median_ms, tb.median_ms, tfb.median_ms, a.target_ms,
                    a.fla_fb_ms / tfb.median_ms, a.sdpa_fb_ms / tfb.median_ms, tflops, peak_gb, a.fla_peak_gb, err,
                    ok ? "ok" : "FAILED");
        report << "| " << B << " x " << T << " | " << tf.median_ms << " | " << tb.median_ms << " | " << tfb.median_ms
               << " | " << a.target_ms << " | " << a.fla_fb_ms / tfb.median_ms << "x | "
               << a.sdpa_fb_ms / tfb.median_ms << "x | " << tflops << " | " << peak_gb << " (" << a.fla_peak_gb
               << ") | " << err << (ok ? " ok" : " FAILED") << " |\n";
    }
}

// ---------------------------------------------------------------------------
std::ostringstream variants;  // the block-shape table of the decode kernel

// The decode-form step kernel alone at other block shapes (threads, 16-byte
// vectors per thread and pass), to justify the library's choice.
template <int kThreads, int kChunks>
void time_block_shape(const Options& opt, const lla::DecodeProblem& p, double bytes, double copy_gbs,
                      const std::function<void()>& reset) {
    const lla::cuda::DecodeArgs args = lla::cuda::decode_args(p);
    const lla::cuda::StateArg<float> state = lla::cuda::state_arg<float>(*p.state);
    const bool vec = lla::cuda::can_vectorize(p.state->levels, sizeof(float));
    const Timing t = time_events(opt.warmup, opt.repeats, [&] {
        lla_ok(lla::cuda::launch_decode_kernel<float, kThreads, kChunks>(args, state, vec, nullptr), "decode kernel");
    }, reset);
    const double gbs = bytes / (t.median_ms * 1e-3) / 1e9;
    std::printf("decode kernel %3d threads x %d vectors: %.4f ms, %.1f GB/s = %.1f%% of copy%s\n", kThreads, kChunks,
                t.median_ms, gbs, 100 * gbs / copy_gbs,
                kThreads == lla::cuda::kDecodeThreads && kChunks == lla::cuda::kDecodeChunks ? " (library)" : "");
    variants << "| " << kThreads << " x " << kChunks
             << (kThreads == lla::cuda::kDecodeThreads && kChunks == lla::cuda::kDecodeChunks ? " (library)" : "")
             << " | " << t.median_ms << " | " << gbs << " | " << 100 * gbs / copy_gbs << " |\n";
}

void decode_block_shapes(const Options& opt, const lla::DecodeProblem& p, double bytes, double copy_gbs,
                         const std::function<void()>& reset) {
    variants << "\n| decode-form step kernel, threads x vectors per thread | median ms | GB/s | % of copy BW |\n"
                "| --- | --- | --- | --- |\n";
    time_block_shape<256, 4>(opt, p, bytes, copy_gbs, reset);
    time_block_shape<128, 4>(opt, p, bytes, copy_gbs, reset);
    time_block_shape<128, 8>(opt, p, bytes, copy_gbs, reset);
    time_block_shape<256, 2>(opt, p, bytes, copy_gbs, reset);
    time_block_shape<512, 2>(opt, p, bytes, copy_gbs, reset);
    time_block_shape<96, 8>(opt, p, bytes, copy_gbs, reset);
}

void bench_decode(const Options& opt, double copy_gbs) {
    const int64_t N = 64, H = 32, G = 1, K = 128, V = 64;
    const int64_t position = 65535;
    const int64_t Ls = bit_length(position + 1) + 1;  // room for the step's merged level
    const int64_t L = bit_length(position) + 1;
    const int64_t level_elems = N * H * K * V;
    DeviceBuffer levels(Ls * level_elems * 4), log_decay(N * H * Ls * 4), pos(N * 8);
    DeviceBuffer saved_levels(Ls * level_elems * 4), saved_log_decay(N * H * Ls * 4), saved_pos(N * 8);
    DeviceBuffer l2_flush(size_t(256) << 20);  // larger than the 60 MB L2
    DeviceBuffer q(N * G * K * 2), k(N * G * K * 2), v(N * H * V * 2), g(N * H * 4), l(N * H * L * 2),
        o(N * H * V * 2);
    fill_uniform(static_cast<float*>(saved_levels.ptr), Ls * level_elems, -1.f, 1.f, 11);
    fill_uniform(static_cast<float*>(saved_log_decay.ptr), N * H * Ls, -3.f, 0.f, 12);
    fill_uniform(static_cast<__nv_bfloat16*>(q.ptr), N * G * K, -1.f, 1.f, 13);
    fill_uniform(static_cast<__nv_bfloat16*>(k.ptr), N * G * K, -1.f, 1.f, 14);
    fill_uniform(static_cast<__nv_bfloat16*>(v.ptr), N * H * V, -1.f, 1.f, 15);
    fill_uniform(static_cast<float*>(g.ptr), N * H, -0.2f, -0.001f, 16);
    fill_uniform(static_cast<__nv_bfloat16*>(l.ptr), N * H * L, 0.f, 1.f, 17);
    const std::vector<int64_t> host_pos(N, position);
    cuda_ok(cudaMemcpy(saved_pos.ptr, host_pos.data(), N * 8, cudaMemcpyHostToDevice), "positions");
    cuda_ok(cudaDeviceSynchronize(), "inputs");

    lla_config cfg = lla_config_default();
    cfg.backend = LLA_BACKEND_CUDA;
    cfg.scale = 1.0 / std::sqrt(double(K));
    lla_inputs tok{};
    tok.q = cuda_tensor(q.ptr, LLA_DTYPE_BFLOAT16, {N, G, K});
    tok.k = cuda_tensor(k.ptr, LLA_DTYPE_BFLOAT16, {N, G, K});
    tok.v = cuda_tensor(v.ptr, LLA_DTYPE_BFLOAT16, {N, H, V});
    tok.g = cuda_tensor(g.ptr, LLA_DTYPE_FLOAT32, {N, H});
    tok.l = cuda_tensor(l.ptr, LLA_DTYPE_BFLOAT16, {N, H, L});
    const lla_tensor out = cuda_tensor(o.ptr, LLA_DTYPE_BFLOAT16, {N, H, V});

    // Every rep starts from the same state at position 65535 (the canonical
    // form zeroes the levels it folds), with a cold L2.
    auto reset = [&] {
        cuda_ok(cudaMemcpyAsync(levels.ptr, saved_levels.ptr, levels.bytes, cudaMemcpyDeviceToDevice),
                "reset levels");
        cuda_ok(cudaMemcpyAsync(pos.ptr, saved_pos.ptr, N * 8, cudaMemcpyDeviceToDevice), "reset positions");
        cuda_ok(cudaMemcpyAsync(log_decay.ptr, saved_log_decay.ptr, N * H * Ls * 4, cudaMemcpyDeviceToDevice),
                "reset log_decay");
        cuda_ok(cudaMemsetAsync(l2_flush.ptr, 0, l2_flush.bytes), "flush L2");
    };

    const int nonempty = __builtin_popcountll(position);
    const int merged = bit_length(static_cast<uint64_t>(position ^ (position + 1)));
    const double level_bytes = double(level_elems) * 4;
    const double token_bytes = double(2 * N * G * K * 2 + N * H * V * 2 + N * H * 4 + N * H * L * 2 + N * H * V * 2);
    report << "\n| decode step (B=64, H=32, K=128, V=64, position 65535, f32 state, bf16 tokens) | kernels median ms "
              "| bytes moved (GB) | GB/s | % of copy BW | public call median ms |\n| --- | --- | --- | --- | --- | --- |\n";
    for (const bool decode_form : {true, false}) {
        lla_state st{};
        st.levels = cuda_tensor(levels.ptr, LLA_DTYPE_FLOAT32, {N, H, Ls, K, V});
        if (decode_form) st.log_decay = cuda_tensor(log_decay.ptr, LLA_DTYPE_FLOAT32, {N, H, Ls});
        st.position = cuda_tensor(pos.ptr, LLA_DTYPE_INT64, {N});

        lla::DecodeProblem p{};
        p.config = cfg;
        p.dims.B = p.dims.N = N;
        p.dims.T = 1;
        p.dims.H = H;
        p.dims.G = G;
        p.dims.K = K;
        p.dims.V = V;
        p.dims.L = L;
        p.precision = lla::Precision::F32;
        p.token = tok;
        p.positions = host_pos;
        p.state = &st;
        p.o = &out;
        p.stream = nullptr;

        const Timing kernel = time_events(opt.warmup, opt.repeats, [&] {
            lla_ok(lla::cuda::decode_step(p, nullptr), "lla::cuda::decode_step");
        }, reset);
        const Timing api = time_events(opt.warmup, opt.repeats, [&] {
            lla_ok(lla_decode_step(&cfg, &tok, &st, &out, nullptr), "lla_decode_step");
        }, reset);
        // Decode form: read the nonempty levels, write the merged one. Canonical:
        // also write every nonempty level back (folded ones zeroed, others rescaled).
        const double bytes = level_bytes * (nonempty + 1 + (decode_form ? 0 : nonempty)) + token_bytes +
                             (decode_form ? 2.0 * N * H * Ls * 4 : 0.0);
        const double gbs = bytes / (kernel.median_ms * 1e-3) / 1e9;
        std::printf("decode (%s form): kernels %.4f ms, %.3f GB moved, %.1f GB/s = %.1f%% of copy; public call %.4f ms "
                    "(merged level %d)\n",
                    decode_form ? "decode" : "canonical", kernel.median_ms, bytes / 1e9, gbs, 100 * gbs / copy_gbs,
                    api.median_ms, merged);
        report << "| " << (decode_form ? "decode form (log_decay)" : "canonical form") << " | " << kernel.median_ms
               << " | " << bytes / 1e9 << " | " << gbs << " | " << 100 * gbs / copy_gbs << " | " << api.median_ms
               << " |\n";
        if (decode_form) decode_block_shapes(opt, p, bytes, copy_gbs, reset);
    }
    report << variants.str();
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--repeats" && i + 1 < argc) opt.repeats = std::atoi(argv[++i]);
        else if (a == "--warmup" && i + 1 < argc) opt.warmup = std::atoi(argv[++i]);
        else if (a == "--markdown" && i + 1 < argc) opt.markdown = argv[++i];
        else if (a == "--forward-only") opt.forward_only = true;
        else fail("usage: lla_bench_cuda [--repeats N] [--warmup N] [--markdown FILE] [--forward-only]");
    }
    if (!lla_backend_available(LLA_BACKEND_CUDA)) fail("no CUDA device (lla_backend_available(CUDA) == 0)");
    cudaDeviceProp prop{};
    cuda_ok(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
    int driver = 0;
    cudaDriverGetVersion(&driver);
    char date[32];
    const std::time_t now = std::time(nullptr);
    std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
    std::printf("device: %s, %d SMs, cc %d.%d, driver %d, loglinear %s, %s; %d repeats after %d warm-up runs\n",
                prop.name, prop.multiProcessorCount, prop.major, prop.minor, driver, lla_version_string(), date,
                opt.repeats, opt.warmup);
    report << "Device: " << prop.name << " (" << prop.multiProcessorCount << " SMs, cc " << prop.major << "."
           << prop.minor << ", driver " << driver << "), " << date << ", median of " << opt.repeats
           << " runs after " << opt.warmup << " warm-up runs.\n\n| measure | time | rate |\n| --- | --- | --- |\n";
    report.precision(4);
    variants.precision(4);

    const double copy_gbs = copy_bandwidth(opt);
    bench_forward(opt, copy_gbs);
    if (!opt.forward_only) bench_backward(opt);
    bench_decode(opt, copy_gbs);

    std::printf("\n%s", report.str().c_str());
    if (!opt.markdown.empty()) {
        std::ofstream f(opt.markdown);
        f << report.str();
    }
    return 0;
}
