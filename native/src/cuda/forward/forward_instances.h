// The forward instantiations (one .cu each) as plain host functions, so that
// the planner (forward.cpp, host C++) needs no CuTe. instance_shape() is what
// the planner must know of each; every .cu checks it against its traits.
#pragma once

#include <cuda_runtime.h>

#include "cuda/forward/forward_params.h"
#include "loglinear/loglinear.h"

namespace lla::cuda::fwd {

enum class Instance { Bf16, F16, F32Tf32, F32Exact };

struct InstanceShape {
    int elem_bytes;   // q, k, v, o element
    int state_bytes;  // operand type of the state products (slots)
    int v_slice;      // V columns per CTA
    int log2S;        // superchunk size
};

constexpr InstanceShape instance_shape(Instance i) {
    return i == Instance::Bf16 || i == Instance::F16 ? InstanceShape{2, 2, 64, 9} : InstanceShape{4, 4, 32, 8};
}

constexpr bool same_shape(InstanceShape a, InstanceShape b) {
    return a.elem_bytes == b.elem_bytes && a.state_bytes == b.state_bytes && a.v_slice == b.v_slice &&
           a.log2S == b.log2S;
}

// Benchmarks only: when set (5 events), launch_forward records events[i]
// before phase i (chunk states, up-sweep, output, final state) and after the
// last, so that each phase can be timed. nullptr (the default) disables it.
void set_phase_events(cudaEvent_t* events);
cudaEvent_t* phase_events();

lla_status launch_forward_bf16(const ForwardParams& p, cudaStream_t stream);
lla_status launch_forward_f16(const ForwardParams& p, cudaStream_t stream);
lla_status launch_forward_f32_tf32(const ForwardParams& p, cudaStream_t stream);
lla_status launch_forward_f32_exact(const ForwardParams& p, cudaStream_t stream);

}  // namespace lla::cuda::fwd
