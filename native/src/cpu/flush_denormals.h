// Denormal (subnormal) floats make x86 arithmetic up to ~100x slower on many
// cores, and the chunked algorithm produces them as a matter of course: a
// decay exp(G_t - G_s) over a few thousand tokens drops below the smallest
// normal float (~1e-38) and so do the state entries it scales. Their
// contribution to any output is below 1e-38 in absolute value, far under the
// float32 rounding of the result, so tasks run with denormals flushed to zero
// (MXCSR FTZ + DAZ), and the thread's previous mode is restored afterwards.
#pragma once

#include <cstdint>
#include <utility>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define LLA_HAVE_MXCSR 1
#endif

namespace lla::cpu {

class FlushDenormals {
public:
#if defined(LLA_HAVE_MXCSR)
    FlushDenormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | kFlushToZero | kDenormalsAreZero); }
    ~FlushDenormals() { _mm_setcsr(saved_); }
#endif
    FlushDenormals(const FlushDenormals&) = delete;
    FlushDenormals& operator=(const FlushDenormals&) = delete;

private:
#if defined(LLA_HAVE_MXCSR)
    static constexpr unsigned kFlushToZero = 0x8000, kDenormalsAreZero = 0x0040;
    unsigned saved_;
#endif
};

// A parallel_for body that runs `body` with denormals flushed to zero.
template <class Body>
auto without_denormals(Body body) {
    return [body = std::move(body)](int64_t item, int worker) {
        FlushDenormals guard;
        body(item, worker);
    };
}

}  // namespace lla::cpu
