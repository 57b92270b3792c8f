// llacheck: run one golden-format case through the C API and write what the
// library computes as float64 .npy files.
//
//   llacheck --case DIR --out DIR --dtype f64|f32|bf16 [--backend cpu|cuda] [--split-at N]
//
// Writes o.npy and every gradient (dq dk dv dg dl [dbeta]); with --split-at N
// they come from two calls chained through the state at token N, forward and
// backward (d_initial_state of [N, T) is the d_final_state of [0, N)), so the
// golden references check the backward contract directly. When case.json
// has state_position n, also runs the first n tokens with final-state export
// (state.npy, [B, H, bit_length(n) + 1, K, V]) and continues from that state
// over the rest, checking the continuation contract against the one-call
// results (exit status 2 when it fails). bf16 rounds the inputs to bfloat16.
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <map>
#include <string>

#include "case_runner.h"
#include "compare.h"
#include "golden_case.h"
#include "npy.h"

namespace {

using namespace lla::caseio;

constexpr const char* kUsage =
    "usage: llacheck --case DIR --out DIR --dtype f64|f32|bf16 [--backend cpu|cuda] [--split-at N]\n";

struct Args {
    std::string case_dir, out_dir, dtype, backend = "cpu", split_at;
};

bool parse_args(int argc, char** argv, Args* args) {
    const std::map<std::string, std::string*> options = {
        {"--case", &args->case_dir}, {"--out", &args->out_dir}, {"--dtype", &args->dtype}, {"--backend", &args->backend},
        {"--split-at", &args->split_at}};
    for (int i = 1; i < argc; ++i) {
        const auto it = options.find(argv[i]);
        if (it == options.end() || i + 1 == argc) {
            std::fprintf(stderr, "llacheck: unexpected argument '%s'\n%s", argv[i], kUsage);
            return false;
        }
        *it->second = argv[++i];
    }
    if (args->case_dir.empty() || args->out_dir.empty() || args->dtype.empty()) {
        std::fprintf(stderr, "llacheck: --case, --out and --dtype are required\n%s", kUsage);
        return false;
    }
    if (args->backend != "cpu" && args->backend != "cuda") {
        std::fprintf(stderr, "llacheck: --backend must be cpu or cuda, got '%s'\n", args->backend.c_str());
        return false;
    }
    if (!args->split_at.empty() && args->split_at.find_first_not_of("0123456789") != std::string::npos) {
        std::fprintf(stderr, "llacheck: --split-at must be a token count, got '%s'\n", args->split_at.c_str());
        return false;
    }
    return true;
}

void write(const std::string& dir, const std::string& name, const Array& a) {
    write_npy((std::filesystem::path(dir) / (name + ".npy")).string(), a);
    std::printf("  wrote %-6s %s\n", (name + ".npy").c_str(), a.shape_string().c_str());
}

// Continuation contract: the split run agrees with the one-call run on o and
// on the gradients of the continued tokens. Returns whether it holds.
bool check_continuation(const std::map<std::string, Array>& whole, const std::map<std::string, Array>& split,
                        int64_t n, double tolerance) {
    bool ok = true;
    for (const auto& [name, got] : split) {
        if (name == "state") continue;
        const Array& ref = whole.at(name);
        const Array expected = name == "o" ? ref : slice(ref, 1, n, ref.shape[1] - n);
        const double err = relative_error(got, expected);
        const bool pass = err <= tolerance;
        ok = ok && pass;
        std::printf("  continuation at %lld: %-5s relative error %.3e %s\n", static_cast<long long>(n),
                    name.c_str(), err, pass ? "ok" : "FAILED");
    }
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    Args args;
    if (!parse_args(argc, argv, &args)) return 1;
    try {
        const GoldenCase c = load_case(args.case_dir);
        RunOptions options;
        options.dtype = parse_compute_dtype(args.dtype);
        options.backend = args.backend == "cuda" ? LLA_BACKEND_CUDA : LLA_BACKEND_CPU;
        std::filesystem::create_directories(args.out_dir);
        std::printf("llacheck: case %s, dtype %s, backend %s\n", c.name.c_str(), args.dtype.c_str(),
                    args.backend.c_str());

        const std::map<std::string, Array> whole =
            args.split_at.empty() ? run_forward_backward(c, options)
                                  : run_forward_backward_split(c, options, std::stoll(args.split_at));
        if (!args.split_at.empty()) std::printf("  chained through the state at token %s\n", args.split_at.c_str());
        for (const auto& [name, a] : whole) write(args.out_dir, name, a);
        if (c.state_position < 0) return 0;

        const std::map<std::string, Array> split = run_split_at_state_position(c, options);
        write(args.out_dir, "state", split.at("state"));
        return check_continuation(whole, split, c.state_position, spec_tolerance(options.dtype)) ? 0 : 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "llacheck: %s\n", e.what());
        return 1;
    }
}
