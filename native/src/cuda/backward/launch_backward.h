// Host side of one backward instantiation: the seven passes of
// backward_params.h in stream order.
#pragma once

#include <algorithm>

#include "cuda/backward/dg_kernel.h"
#include "cuda/backward/dkv_kernel.h"
#include "cuda/backward/downsweep_kernel.h"
#include "cuda/backward/dq_kernel.h"
#include "cuda/backward/group_sum.h"
#include "cuda/backward/pieces_kernel.h"
#include "cuda/backward/prep_kernel.h"
#include "cuda/common/cuda_status.h"
#include "cuda/forward/final_state_kernel.h"
#include "cuda/forward/upsweep_kernel.h"

namespace lla::cuda::bwd {

constexpr int64_t kMaxGridX = (int64_t{1} << 31) - 1;

template <class Kernel>
lla_status allow_smem(Kernel kernel, int bytes, const char* name) {
    return cuda_status(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes), name);
}

template <class Traits>
lla_status launch_backward(const BackwardParams& params, cudaStream_t stream) {
    using Op = typename Traits::Op;
    using Element = typename Traits::Element;
    BackwardParams p = params;
    constexpr int kPrep = sizeof(PrepSmem<Traits>), kPieces = sizeof(PiecesSmem<Traits>);
    constexpr int kDq = sizeof(DqSmem<Traits>), kDkv = sizeof(DkvSmem<Traits>);
    LLA_TRY_STATUS(allow_smem(prep_kernel<Traits>, kPrep, "cudaFuncSetAttribute(prep_kernel)"));
    LLA_TRY_STATUS(allow_smem(pieces_kernel<Traits>, kPieces, "cudaFuncSetAttribute(pieces_kernel)"));
    LLA_TRY_STATUS(allow_smem(dq_kernel<Traits>, kDq, "cudaFuncSetAttribute(dq_kernel)"));
    LLA_TRY_STATUS(allow_smem(dkv_kernel<Traits>, kDkv, "cudaFuncSetAttribute(dkv_kernel)"));
    if (p.items == 0 && p.d_initial.levels == nullptr) return LLA_OK;

    auto over_items = [&](auto&& launch) -> lla_status {
        for (int64_t off = 0; off < p.items; off += kMaxGridX) {
            p.item_offset = off;
            launch(static_cast<unsigned>(std::min(kMaxGridX, p.items - off)));
            LLA_CUDA_TRY(cudaGetLastError(), "launch of a backward kernel");
        }
        p.item_offset = 0;
        return LLA_OK;
    };
    const unsigned H = static_cast<unsigned>(p.H), GS = static_cast<unsigned>(p.G * p.head_splits);
    cudaEvent_t* events = phase_events();
    auto mark = [&](int pass) {
        if (events != nullptr) cudaEventRecord(events[pass], stream);
    };
    mark(0);
    LLA_TRY_STATUS(over_items([&](unsigned n) { prep_kernel<Traits><<<dim3(n, H), kThreads, kPrep, stream>>>(p); }));

    // The forward's up-sweep over chunk states (and, for <dF, F>, the final state).
    mark(1);
    fwd::ForwardParams fp = p;
    fp.final_state = tile::StateTensor{};
    const bool with_final = p.final_state != nullptr && p.d_final.levels != nullptr;
    if (with_final) {
        fp.final_state.levels = p.final_state;
        fp.final_state.num_levels = p.final_levels;
        fp.final_state.stride_v = 1;
        fp.final_state.stride_k = p.V;
        fp.final_state.stride_l = static_cast<int64_t>(p.K) * p.V;
        fp.final_state.stride_h = fp.final_state.stride_l * p.final_levels;
        fp.final_state.stride_n = fp.final_state.stride_h * p.H;
    }
    const int per_head = kKMax * p.Vpad / 4;
    const dim3 sweep_grid(static_cast<unsigned>(p.N), H, static_cast<unsigned>((per_head + 127) / 128));
    fwd::upsweep_kernel<Op><<<sweep_grid, 128, 0, stream>>>(fp);
    LLA_CUDA_TRY(cudaGetLastError(), "launch of upsweep_kernel (backward)");
    if (with_final) {
        const dim3 grid(static_cast<unsigned>(p.N * p.H), static_cast<unsigned>(p.final_levels),
                        static_cast<unsigned>((p.V + 63) / 64));
        fwd::final_state_kernel<Element><<<grid, 256, 0, stream>>>(fp);
        LLA_CUDA_TRY(cudaGetLastError(), "launch of final_state_kernel (backward)");
    }

    mark(2);
    for (int64_t off = 0; off < p.num_pieces; off += kMaxGridX) {
        p.item_offset = off;
        const dim3 grid(static_cast<unsigned>(std::min(kMaxGridX, p.num_pieces - off)), H * p.v_slices);
        pieces_kernel<Traits><<<grid, kThreads, kPieces, stream>>>(p);
        LLA_CUDA_TRY(cudaGetLastError(), "launch of pieces_kernel");
    }
    p.item_offset = 0;
    mark(3);
    downsweep_kernel<Op><<<sweep_grid, 128, 0, stream>>>(p);
    LLA_CUDA_TRY(cudaGetLastError(), "launch of downsweep_kernel");
    mark(4);
    LLA_TRY_STATUS(over_items([&](unsigned n) { dq_kernel<Traits><<<dim3(n, GS), kThreads, kDq, stream>>>(p); }));
    if (p.heads_per_group > 1) LLA_TRY_STATUS(launch_group_sum(p, p.dq, p.dq_stride, stream));
    mark(5);
    LLA_TRY_STATUS(over_items([&](unsigned n) { dkv_kernel<Traits><<<dim3(n, GS), kThreads, kDkv, stream>>>(p); }));
    if (p.heads_per_group > 1) LLA_TRY_STATUS(launch_group_sum(p, p.dk, p.dk_stride, stream));
    mark(6);
    LLA_TRY_STATUS(launch_dg(p, stream));
    mark(7);
    return LLA_OK;
}

}  // namespace lla::cuda::bwd
