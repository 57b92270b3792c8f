// Which instruction set the CPU kernels run with: the "kernel path". The
// library is compiled for the x86-64 baseline (no -march=native); the
// functions that carry the arithmetic (m2_chunk_kernels.cpp, m2_decode.cpp)
// are compiled once per path with that path's target and vector width, and a
// table of them is chosen once per process: the widest path the CPU runs, or
// the one the environment variable LLA_CPU_ISA forces (docs/cpu.md).
#pragma once

#include "loglinear/loglinear.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(LLA_NO_MULTIVERSION)
#define LLA_X86_PATHS 1
#endif

namespace lla::cpu {

enum class KernelPath {
    Portable,  // no target attributes: the compiler's own ISA (every non-x86 build)
    X86_64,    // x86-64 baseline (SSE2)
    X86_64_V3, // AVX2 + FMA
    X86_64_V4  // AVX-512 F/BW/CD/DQ/VL
};

// The name LLA_CPU_ISA takes and lla_cpu_isa() returns: "x86-64", "x86-64-v3", "x86-64-v4" or "portable".
const char* path_name(KernelPath path);

// Whether this CPU (and its OS) runs the path's instructions.
bool path_supported(KernelPath path);

// The path of this process, chosen on first use. A bad or unsupported
// LLA_CPU_ISA leaves no path: then `error` says why and every call that runs
// kernels fails with it (check_kernel_path), instead of guessing.
struct PathChoice {
    KernelPath path;
    lla_status status;  // LLA_OK, or what the calls return
    const char* error;  // nullptr when status is LLA_OK
};
const PathChoice& chosen_path();

// LLA_OK, or sets lla_last_error() to the choice's error and returns its status.
lla_status check_kernel_path();

}  // namespace lla::cpu
