// The CPU backend: log-linear Mamba-2 with the chunked O(T log T) algorithm,
// float64 (accumulating in double) and float32 / bfloat16 / float16 inputs
// (accumulating in float). Problems arrive validated by the core (shapes,
// level counts, state sizes, positions), so nothing is re-checked here.
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "core/backend.h"
#include "core/checked_size.h"
#include "core/error.h"
#include "cpu/kernel_path.h"
#include "cpu/m2_drivers.h"
#include "cpu/workspace_memory.h"

namespace lla {
namespace {

lla_status unsupported_variant(int32_t variant) {
    return set_error(LLA_ERROR_UNSUPPORTED, "config.variant: the CPU backend implements LLA_VARIANT_MAMBA2 (0), got " +
                                                std::to_string(variant));
}

// Runs an operation, turning exceptions into statuses.
template <class Fn>
lla_status guarded(Fn&& fn) {
    try {
        return fn();
    } catch (const std::bad_alloc&) {
        return set_error(LLA_ERROR_OUT_OF_MEMORY, "CPU backend: out of host memory");
    } catch (const std::exception& e) {
        return set_error(LLA_ERROR_INTERNAL, std::string("CPU backend: ") + e.what());
    }
}

// A measured workspace size, or the error of one that overflowed size_t.
lla_status checked_size(size_t needed, size_t* bytes) {
    if (needed == kSizeOverflow) return cpu::WorkspaceMemory::too_large();
    *bytes = needed;
    return LLA_OK;
}

class CpuBackend final : public Backend {
public:
    const char* name() const override { return "cpu"; }
    bool available() const override { return true; }

    lla_status forward_workspace_size(const ForwardProblem& p, size_t* bytes) override {
        if (p.config.variant != LLA_VARIANT_MAMBA2) return unsupported_variant(p.config.variant);
        return guarded([&] {
            return checked_size(p.precision == Precision::F64 ? cpu::m2_forward_workspace_bytes<double>(p)
                                                              : cpu::m2_forward_workspace_bytes<float>(p),
                                bytes);
        });
    }

    lla_status backward_workspace_size(const BackwardProblem& p, size_t* bytes) override {
        if (p.config.variant != LLA_VARIANT_MAMBA2) return unsupported_variant(p.config.variant);
        return guarded([&] {
            return checked_size(p.precision == Precision::F64 ? cpu::m2_backward_workspace_bytes<double>(p)
                                                              : cpu::m2_backward_workspace_bytes<float>(p),
                                bytes);
        });
    }

    lla_status forward(const ForwardProblem& p) override {
        if (p.config.variant != LLA_VARIANT_MAMBA2) return unsupported_variant(p.config.variant);
        LLA_TRY(cpu::check_kernel_path());
        return guarded([&] { return p.precision == Precision::F64 ? cpu::m2_forward<double>(p) : cpu::m2_forward<float>(p); });
    }

    lla_status backward(const BackwardProblem& p) override {
        if (p.config.variant != LLA_VARIANT_MAMBA2) return unsupported_variant(p.config.variant);
        LLA_TRY(cpu::check_kernel_path());
        return guarded([&] { return p.precision == Precision::F64 ? cpu::m2_backward<double>(p) : cpu::m2_backward<float>(p); });
    }

    lla_status decode_step(const DecodeProblem& p) override {
        if (p.config.variant != LLA_VARIANT_MAMBA2) return unsupported_variant(p.config.variant);
        LLA_TRY(cpu::check_kernel_path());
        return guarded([&] {
            return p.precision == Precision::F64 ? cpu::m2_decode_step<double>(p) : cpu::m2_decode_step<float>(p);
        });
    }

    lla_status state_convert(const ConvertProblem& p) override {
        return guarded([&] { return p.precision == Precision::F64 ? cpu::convert_state<double>(p) : cpu::convert_state<float>(p); });
    }

    lla_status synchronize(void*) override { return LLA_OK; }

    lla_status check_memory(const lla_tensor& t, const char* name) override {
        if (t.device_type == LLA_DEVICE_CPU) return LLA_OK;
        return set_error(LLA_ERROR_INVALID_ARGUMENT, std::string(name) + ": expected a CPU tensor (device_type " +
                                                         std::to_string(LLA_DEVICE_CPU) + ") for the CPU backend, got device_type " +
                                                         std::to_string(t.device_type));
    }

    lla_status copy_to_host(void* host_dst, const void* src, size_t bytes, void*) override {
        if (bytes > 0) std::memcpy(host_dst, src, bytes);
        return LLA_OK;
    }
};

}  // namespace

Backend& cpu_backend() {
    static CpuBackend backend;
    return backend;
}

}  // namespace lla
