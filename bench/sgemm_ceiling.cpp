// measure_sgemm (sgemm_ceiling.h): OpenBLAS when the build found it
// (LLA_BENCH_OPENBLAS), else an explanation of what to install.
#include "sgemm_ceiling.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#ifdef LLA_BENCH_OPENBLAS
#include <cblas.h>
#endif

SgemmCeiling measure_sgemm(int threads, int n, double seconds) {
    SgemmCeiling c;
#ifdef LLA_BENCH_OPENBLAS
    const int t = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    openblas_set_num_threads(t);
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    std::vector<float> a(size_t(n) * n), b(size_t(n) * n), out(size_t(n) * n);
    for (float& x : a) x = u(rng);
    for (float& x : b) x = u(rng);
    auto product = [&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.f, a.data(), n, b.data(), n, 0.f,
                    out.data(), n);
    };
    product();  // warm-up: threads started, pages touched
    std::vector<double> rates;
    const auto start = std::chrono::steady_clock::now();
    while (rates.size() < 3 ||
           std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds) {
        const auto t0 = std::chrono::steady_clock::now();
        product();
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        rates.push_back(2.0 * n * n * double(n) / s * 1e-9);
    }
    std::sort(rates.begin(), rates.end());
    c.measured = true;
    c.gflops = rates[rates.size() / 2];
    std::string version = OPENBLAS_VERSION;  // " OpenBLAS 0.3.21 "
    version.erase(0, version.find_first_not_of(' '));
    version.erase(version.find_last_not_of(' ') + 1);
    char text[160];
    std::snprintf(text, sizeof text, "%s cblas_sgemm, %d^3 float32, %d threads, median of %zu", version.c_str(), n, t,
                  rates.size());
    c.note = text;
#else
    (void)threads, (void)n, (void)seconds;
    c.note = "not measured: built without OpenBLAS (apt install libopenblas-dev, then reconfigure)";
#endif
    return c;
}
