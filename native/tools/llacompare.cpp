// llacompare: compare the .npy outputs of llacheck (or `lla compute`) with a
// golden case, per docs/numerics.md ("Error measure", "Tolerances").
//
//   llacompare --ref CASE_DIR --out DIR --tol TOLERANCE
//
// Every output the reference has (o, dq, dk, dv, dg, dl, dbeta, state) must
// be in --out with relative Frobenius error <= TOLERANCE, no NaN or Inf, and
// states zero beyond the golden's levels. Exit status 0 when all pass.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>

#include "compare.h"
#include "npy.h"

int main(int argc, char** argv) {
    using namespace lla::caseio;
    std::string ref_dir, out_dir;
    double tolerance = -1;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--ref") ref_dir = argv[i + 1];
        else if (flag == "--out") out_dir = argv[i + 1];
        else if (flag == "--tol") tolerance = std::atof(argv[i + 1]);
    }
    if (ref_dir.empty() || out_dir.empty() || !(tolerance > 0) || argc != 7) {
        std::fprintf(stderr, "usage: llacompare --ref CASE_DIR --out DIR --tol TOLERANCE\n");
        return 1;
    }
    const std::filesystem::path ref(ref_dir), out(out_dir);
    bool ok = true;
    try {
        for (const char* name : {"o", "dq", "dk", "dv", "dg", "dl", "dbeta", "state"}) {
            const std::filesystem::path want = ref / (std::string(name) + ".npy");
            if (!std::filesystem::exists(want)) continue;
            const std::filesystem::path got = out / (std::string(name) + ".npy");
            if (!std::filesystem::exists(got)) {
                std::printf("%-6s missing from %s FAILED\n", name, out_dir.c_str());
                ok = false;
                continue;
            }
            const Array expected = read_npy(want.string()), actual = read_npy(got.string());
            double err = 0, beyond = 0;
            if (std::string(name) == "state") {
                const StateError e = state_error(actual, expected);
                err = e.relative;
                beyond = e.beyond_max;
            } else {
                err = relative_error(actual, expected);
            }
            const bool pass = err <= tolerance && beyond == 0;
            ok = ok && pass;
            std::printf("%-6s relative error %.3e (tolerance %.0e)%s %s\n", name, err, tolerance,
                        beyond != 0 ? " nonzero beyond the golden levels" : "", pass ? "ok" : "FAILED");
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "llacompare: %s\n", e.what());
        return 1;
    }
    return ok ? 0 : 1;
}
