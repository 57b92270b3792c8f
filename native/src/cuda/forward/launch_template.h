// Host side of one instantiation: launches the four forward kernels in stream
// order (chunk_states -> upsweep -> output -> final_state).
#pragma once

#include <algorithm>

#include "cuda/common/cuda_status.h"
#include "cuda/forward/chunk_states_kernel.h"
#include "cuda/forward/final_state_kernel.h"
#include "cuda/forward/forward_instances.h"
#include "cuda/forward/output_kernel.h"
#include "cuda/forward/upsweep_kernel.h"

namespace lla::cuda::fwd {

// Largest grid.y; items beyond it go to further launches.
constexpr int64_t kMaxGridY = 65535;

template <class Traits>
constexpr InstanceShape traits_shape() {
    return InstanceShape{int(sizeof(typename Traits::Element)), int(sizeof(typename Traits::StateOp)),
                         Traits::kVSlice, Traits::kLog2S};
}

template <class Traits>
lla_status launch_forward(const ForwardParams& params, cudaStream_t stream) {
    using Element = typename Traits::Element;
    using StateOp = typename Traits::StateOp;
    ForwardParams p = params;
    constexpr int kSmem1 = ChunkStatesSmem<Traits>::kBytes;
    constexpr int kSmem3 = OutputSmem<Traits>::kBytes;
    LLA_CUDA_TRY(cudaFuncSetAttribute(chunk_states_kernel<Traits>, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmem1),
                 "cudaFuncSetAttribute(chunk_states_kernel)");
    LLA_CUDA_TRY(cudaFuncSetAttribute(output_kernel<Traits>, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmem3),
                 "cudaFuncSetAttribute(output_kernel)");

    cudaEvent_t* events = phase_events();
    auto mark = [&](int phase) {
        if (events != nullptr) cudaEventRecord(events[phase], stream);
    };
    const unsigned heads_x = static_cast<unsigned>(p.H * p.v_slices);
    mark(0);
    for (int64_t off = 0; off < p.items; off += kMaxGridY) {
        p.item_offset = off;
        // One state CTA per (head, V slice) and one Q K^T CTA per group.
        const dim3 grid(heads_x + static_cast<unsigned>(p.G), static_cast<unsigned>(std::min(kMaxGridY, p.items - off)));
        chunk_states_kernel<Traits><<<grid, kThreads, kSmem1, stream>>>(p);
        LLA_CUDA_TRY(cudaGetLastError(), "launch of chunk_states_kernel");
    }
    mark(1);
    {
        const int per_head = kKMax * p.Vpad / 4;
        const dim3 grid(static_cast<unsigned>(p.N), static_cast<unsigned>(p.H),
                        static_cast<unsigned>((per_head + 127) / 128));
        upsweep_kernel<StateOp><<<grid, 128, 0, stream>>>(p);
        LLA_CUDA_TRY(cudaGetLastError(), "launch of upsweep_kernel");
    }
    mark(2);
    for (int64_t off = 0; off < p.items; off += kMaxGridY) {
        p.item_offset = off;
        const dim3 grid(heads_x, static_cast<unsigned>(std::min(kMaxGridY, p.items - off)));
        output_kernel<Traits><<<grid, kThreads, kSmem3, stream>>>(p);
        LLA_CUDA_TRY(cudaGetLastError(), "launch of output_kernel");
    }
    mark(3);
    if (p.final_state.levels != nullptr) {
        const dim3 grid(static_cast<unsigned>(p.N * p.H), static_cast<unsigned>(p.final_state.num_levels),
                        static_cast<unsigned>((p.V + 63) / 64));
        final_state_kernel<Element><<<grid, 256, 0, stream>>>(p);
        LLA_CUDA_TRY(cudaGetLastError(), "launch of final_state_kernel");
    }
    mark(4);
    return LLA_OK;
}

}  // namespace lla::cuda::fwd
