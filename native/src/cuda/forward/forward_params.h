// Kernel arguments of the CUDA forward (one struct for every kernel, passed by
// value). Pointers are device memory; strides are in elements.
#pragma once

#include <cstdint>

#include "cuda/forward/forward_common.h"

namespace lla::cuda::fwd {

// q, k [B,T,G,K] or v, o [B,T,H,V] with a unit stride on the last axis, the
// other strides multiples of 16 bytes (the planner packs tensors that are not).
struct RowTensor {
    void* data;
    int64_t stride_b, stride_t, stride_x;  // batch, token, group/head
};

// g [B,T,H] float32, l [B,T,H,L] float32 or the compute dtype: any strides.
struct ScalarTensor {
    const void* data;
    int32_t dtype;
    int64_t stride_b, stride_t, stride_h, stride_l;
};

// A state [N,H,Ls,K,V] float32 (initial or final), with optional log_decay
// [N,H,Ls] (decode form: state = exp(log_decay) * levels).
struct StateTensor {
    float* levels;  // nullptr: absent
    int64_t stride_n, stride_h, stride_l, stride_k, stride_v;
    int32_t num_levels;
    const float* log_decay;  // nullptr: canonical form
    int64_t ld_stride_n, ld_stride_h, ld_stride_l;
};

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
