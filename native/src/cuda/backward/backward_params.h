// Kernel arguments of the CUDA backward: the forward's (the backward re-runs
// its chunk-state and up-sweep kernels at chunk granularity, log2S = 6) plus
// the gradients and the buffers of the reverse pass. Passed by value.
//
// Pass structure (one launch each, in stream order; docs/cuda.md "How the
// backward works"):
//  1. prep       per (chunk, head): local cumulative decays and the chunk
//                state sum_s exp(G_end - G_s) k_s v_s^T (fp32).
//  2. upsweep    the forward's kernel 2 over chunk states: slots (the dyadic
//                block of chunks ending at each chunk) and, when d_final_state
//                is given, the final state's high levels; final_state_kernel
//                writes its low levels.
//  3. pieces     per (piece, head, V slice): a gradient state
//                scale * sum_t l[t, level] exp(G_t - G_ref) q_t do_t^T over at
//                most kPieceChunks chunks of the readers of one slot or of one
//                initial-state level.
//  4. downsweep  per (sequence, head, 4 state elements): the adjoint of the
//                up-sweep, a reverse binary-counter scan turning slot
//                gradients (sums of pieces) and d_final_state into the
//                gradient of every chunk state, and d_initial_state.
//  5. dq         per (chunk, group, head split): dq (summed over the split's
//                heads in registers; group_sum adds the splits), dl, dG's
//                row sums.
//  6. dkv        per (chunk, group, head split): dk (summed likewise), dv,
//                dG's column sums over later chunks.
//  7. dg         per (sequence, head): dG_t = q.dq - k.dk (+ <dF, F> at the
//                last token), reverse cumulative sum -> dg.
#pragma once

#include <cstdint>

#include "cuda/forward/forward_params.h"

namespace lla::cuda::bwd {

using tile::RowTensor;
using tile::ScalarTensor;
using tile::SeqInfo;
using tile::StateTensor;

constexpr int kLog2Item = 6;     // backward items are single chunks
constexpr int kPieceChunks = 8;  // chunks of readers summed by one pieces CTA

// One gradient-state piece: readers [pos_lo, pos_hi) of one state, all in the
// chunks [item, item + kPieceChunks) of sequence seq. level >= 0: every reader
// reads it at that level; -1: at level_of(pos, src_pos). gref_item >= 0: the
// reference decay is dstart[dstart_index(seq, gref_item)]; -1: 0 (an
// initial-state level).
struct Piece {
    int64_t pos_lo, pos_hi;
    int64_t src_pos;
    int32_t seq;
    int32_t item;        // global item of the first chunk
    int32_t level;
    int32_t gref_item;
};

// A scalar tensor the backward writes (dg, dl).
struct ScalarOut {
    void* data;
    int32_t dtype;
    int64_t stride_b, stride_t, stride_h, stride_l;
};

struct BackwardParams : fwd::ForwardParams {
    int32_t in_dtype;         // dtype of q, k, v, d_o (and dq, dk, dv)
    RowTensor d_o;
    // Gradients: dq, dk [B,T,G,K], dv [B,T,H,V] with any strides (element stores).
    void* dq;
    int64_t dq_stride[4];
    void* dk;
    int64_t dk_stride[4];
    void* dv;
    int64_t dv_stride[4];
    ScalarOut dg, dl;
    StateTensor d_final;      // canonical; levels == nullptr: zero
    StateTensor d_initial;    // canonical output; levels == nullptr: not requested

    int64_t num_pieces;
    const Piece* pieces;         // [num_pieces]
    const int32_t* slot_pieces;  // [items + 1]: pieces of slot i are slot_pieces[i] .. slot_pieces[i + 1]
    const int32_t* init_pieces;  // [N * 65]: pieces of initial level l of sequence n, n * 65 + l .. + 1
    float* piece_states;         // [H][num_pieces][kKMax][Vpad] fp32 (aliases states)
    void* dstates;               // [H][items][kKMax][Vpad] gradient of each chunk state (state operand type)
    double* dgq;                 // [H][items][64] row sums minus intra-chunk column sums (dg_kernel.h)
    double* dgk;                 // [H][items][64] column sums over later chunks and the final state
    int32_t head_splits;         // CTAs sharing one group's heads in the dq and dkv passes
    float* group_partial;        // [head_splits][G][items][64][kKMax] their dq (then dk) sums (groups of > 1 head)
    float* final_state;          // [N][H][final_levels][K][V] the forward's final state (with d_final_state)
    int32_t final_levels;        // levels of final_state: bit_length(largest end position) + 1
};

}  // namespace lla::cuda::bwd
