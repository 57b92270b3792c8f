// The machine's matrix rate, measured in the benchmark's own run: a float32
// GEMM through OpenBLAS (a bench-only dependency, never linked into the
// library) at the benchmark's thread count. The CPU backend's rates are
// reported as a fraction of it (issue: forward at half of sgemm's speed).
#pragma once

#include <string>

struct SgemmCeiling {
    bool measured = false;
    double gflops = 0;  // median rate of n x n x n products, 2 n^3 FLOP each
    std::string note;   // how it was measured, or why it was not
};

// Median GFLOP/s of C = A B (float32, n x n, row-major) over at least three
// products and about `seconds` of them, with `threads` OpenBLAS threads
// (0: all hardware threads). Without OpenBLAS at build time, not measured.
SgemmCeiling measure_sgemm(int threads, int n, double seconds);
