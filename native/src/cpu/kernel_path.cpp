#include "cpu/kernel_path.h"

#include <cstdlib>
#include <cstring>
#include <string>

#include "core/error.h"

namespace lla::cpu {
namespace {

struct NamedPath {
    KernelPath path;
    const char* name;
    const char* alias;  // the name users know the ISA by
};

#if LLA_X86_PATHS
constexpr NamedPath kPaths[] = {{KernelPath::X86_64_V4, "x86-64-v4", "avx512"},
                                {KernelPath::X86_64_V3, "x86-64-v3", "avx2"},
                                {KernelPath::X86_64, "x86-64", "baseline"}};
#else
constexpr NamedPath kPaths[] = {{KernelPath::Portable, "portable", "baseline"}};
#endif

std::string supported_list() {
    std::string out;
    for (const NamedPath& p : kPaths) {
        if (!path_supported(p.path)) continue;
        if (!out.empty()) out += ", ";
        out += p.name;
    }
    return out;
}

// The path a failed choice holds: one every x86-64 runs, should a kernel run regardless.
constexpr KernelPath kSafest = kPaths[sizeof kPaths / sizeof kPaths[0] - 1].path;

PathChoice choose() {
    const char* forced = std::getenv("LLA_CPU_ISA");
    if (forced == nullptr || *forced == '\0') {
        for (const NamedPath& p : kPaths)
            if (path_supported(p.path)) return {p.path, LLA_OK, nullptr};
        return {kSafest, LLA_OK, nullptr};  // unreachable: the last path always runs
    }
    // The messages live as long as the process (the choice is made once).
    static std::string message;
    for (const NamedPath& p : kPaths) {
        if (std::strcmp(forced, p.name) != 0 && std::strcmp(forced, p.alias) != 0) continue;
        if (path_supported(p.path)) return {p.path, LLA_OK, nullptr};
        message = std::string("LLA_CPU_ISA=") + forced + ": this CPU does not run the " + p.name +
                  " kernels; it runs " + supported_list() + " (unset LLA_CPU_ISA to use the widest)";
        return {kSafest, LLA_ERROR_UNSUPPORTED, message.c_str()};
    }
    std::string names;
    for (const NamedPath& p : kPaths) names += std::string(names.empty() ? "" : ", ") + p.name + " (" + p.alias + ")";
    message = std::string("LLA_CPU_ISA=") + forced + ": unknown kernel path; expected one of " + names +
              ", or unset for the widest this CPU runs (" + supported_list() + ")";
    return {kSafest, LLA_ERROR_INVALID_ARGUMENT, message.c_str()};
}

}  // namespace

const char* path_name(KernelPath path) {
    switch (path) {
        case KernelPath::X86_64: return "x86-64";
        case KernelPath::X86_64_V3: return "x86-64-v3";
        case KernelPath::X86_64_V4: return "x86-64-v4";
        case KernelPath::Portable: break;
    }
    return "portable";
}

bool path_supported(KernelPath path) {
#if LLA_X86_PATHS
    // libgcc checks the CPUID bits and that the OS saves the wider registers (XCR0).
    __builtin_cpu_init();
    switch (path) {
        case KernelPath::X86_64: return true;
        case KernelPath::X86_64_V3: return __builtin_cpu_supports("x86-64-v3");
        case KernelPath::X86_64_V4: return __builtin_cpu_supports("x86-64-v4");
        case KernelPath::Portable: return false;
    }
    return false;
#else
    return path == KernelPath::Portable;
#endif
}

const PathChoice& chosen_path() {
    static const PathChoice choice = choose();
    return choice;
}

lla_status check_kernel_path() {
    const PathChoice& c = chosen_path();
    return c.status == LLA_OK ? LLA_OK : set_error(c.status, c.error);
}

}  // namespace lla::cpu

// The C API's report of the choice, beside the choice itself.
extern "C" LLA_API const char* lla_cpu_isa(void) {
    lla::clear_error();
    const lla::cpu::PathChoice& c = lla::cpu::chosen_path();
    if (c.status != LLA_OK) {
        lla::set_error(c.status, c.error);
        return nullptr;
    }
    return lla::cpu::path_name(c.path);
}
