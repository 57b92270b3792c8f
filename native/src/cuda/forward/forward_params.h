// Kernel arguments of the CUDA forward (one struct for every kernel, passed by
// value). Pointers are device memory; strides are in elements.
#pragma once

#include <cstdint>

#include "cuda/forward/forward_common.h"
#include "cuda/tile/kernel_tensors.h"

namespace lla::cuda::fwd {

struct ForwardParams {
    // Sizes.
    int32_t H, G, heads_per_group, K, V;
    int32_t L;          // levels of l
    int32_t Vpad;       // V rounded up to the V slice of the instantiation
    int32_t v_slices;   // Vpad / slice
    int32_t log2S;      // superchunk size S = 2^log2S tokens
    int32_t N;          // sequences
    int64_t items;      // superchunk work items over all sequences
    int64_t item_offset;// first item of this launch (grid.y counts from here)
    float scale;

    RowTensor q, k, v, o;
    ScalarTensor g, l;
    StateTensor initial, final_state;

    const SeqInfo* seqs;       // [N]
    const int32_t* item_seq;   // [items] sequence of each item

    // Workspace.
    double* gloc;     // [H][items][S]   cumulative log decay inside each superchunk
    double* totals;   // [H][items]      sum of g over each superchunk
    double* dstart;   // [H][items + N]  cumulative log decay at superchunk starts
    float* states;    // [H][items][kKMax][Vpad]  superchunk states (fp32)
    void* slots;      // [H][items][kKMax][Vpad]  up-sweep blocks (state operand type)
    float* adiag;     // [G][items][S/64][8][kThreads] float4: Q K^T of diagonal chunk tiles
};

}  // namespace lla::cuda::fwd
