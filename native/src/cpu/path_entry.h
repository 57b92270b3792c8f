// How code is compiled once per kernel path (kernel_path.h) and how the
// chosen path's copy is picked. An entry point of path P carries
// LLA_PATH_ENTRY(P): P's target, and `flatten`, so that everything it calls
// with a body (helpers, lambdas, std::fill) is inlined into it and compiled
// for P too. No out-of-line helper is compiled for a wider ISA, so none can
// be shared, through the linker's merging of inline functions, with a path
// whose CPU lacks that ISA.
#pragma once

#include <type_traits>

#include "cpu/kernel_path.h"

#define LLA_ALWAYS_INLINE inline __attribute__((always_inline))

#define LLA_PATH_ENTRY(P) LLA_PATH_ENTRY_##P
#define LLA_PATH_ENTRY_Portable __attribute__((flatten))
#define LLA_PATH_ENTRY_X86_64 __attribute__((flatten))
#define LLA_PATH_ENTRY_X86_64_V3 __attribute__((target("arch=x86-64-v3"), flatten))
#define LLA_PATH_ENTRY_X86_64_V4 __attribute__((target("arch=x86-64-v4,prefer-vector-width=512"), flatten))

// M(P) for every path this build compiles.
#if LLA_X86_PATHS
#define LLA_FOR_EACH_PATH(M) M(X86_64) M(X86_64_V3) M(X86_64_V4)
#else
#define LLA_FOR_EACH_PATH(M) M(Portable)
#endif

namespace lla::cpu {

template <KernelPath P>
using PathTag = std::integral_constant<KernelPath, P>;

// make(PathTag<P>{}) for the chosen path P: how a table of P's entry points is picked.
template <class Make>
auto for_chosen_path(Make&& make) {
    switch (chosen_path().path) {
#if LLA_X86_PATHS
        case KernelPath::X86_64_V4: return make(PathTag<KernelPath::X86_64_V4>{});
        case KernelPath::X86_64_V3: return make(PathTag<KernelPath::X86_64_V3>{});
        default: return make(PathTag<KernelPath::X86_64>{});
#else
        default: return make(PathTag<KernelPath::Portable>{});
#endif
    }
}

}  // namespace lla::cpu
