// The arithmetic of the chunked M2 algorithm, one task at a time, for float
// and double compute precision. Each task touches one pair (sequence, head)
// and writes only memory that no other task of the same pass writes, so the
// drivers (m2_forward.cpp, m2_backward.cpp) run the tasks of a pass in any
// order on any thread.
//
// Forward, per pair:  merge_segment (every boundary, parallel)
//                     -> fold_merged_states (sequential, cheap)
//                     -> forward_segment (every segment, parallel)
//                     -> final_state_level (levels of the exported state)
// Backward, per pair: the forward's first two steps, then
//                     merged_gradient_from_readers (every boundary, parallel)
//                     and initial_gradient_from_readers (every initial level)
//                     -> unfold_merged_gradients (sequential, cheap)
//                     -> backward_segment (every segment, parallel)
//                     -> decay_gradients (+ final_state_decay_gradient)
// With d_final_state (PairData::final_grad) the exported state is one more
// reader: unfold_merged_gradients hands its gradient to the matrices the state
// is formed from, backward_segment to the tail's tokens, and
// final_state_decay_gradient gives its term of dG at the last token.
#pragma once

#include <cstdint>

#include "cpu/m2_pair.h"

namespace lla::cpu {

// merged[j] = sum over the segment ending at boundary j of exp(G(b-1) - G(s)) k_s v_s^T.
void merge_segment(const PairData<float>& d, int64_t j, Scratch<float>& scratch);
void merge_segment(const PairData<double>& d, int64_t j, Scratch<double>& scratch);

// Adds into every merged state the lower levels it absorbs at its boundary,
// in boundary order (after merge_segment ran for every boundary of the pair).
void fold_merged_states(const PairData<float>& d);
void fold_merged_states(const PairData<double>& d);

// Output rows of segment s (attention inside the segment plus the reads of the
// state ready for its first token) into scratch.out, rows x V.
void forward_segment(const PairData<float>& d, int64_t s, Scratch<float>& scratch);
void forward_segment(const PairData<double>& d, int64_t s, Scratch<double>& scratch);

// Level `level` (nonempty for target d.end) of the canonical state ready for
// target d.end, into scratch.matrix (K x V).
void final_state_level(const PairData<float>& d, int level, Scratch<float>& scratch);
void final_state_level(const PairData<double>& d, int level, Scratch<double>& scratch);

// merged_grad[j] = gradient of the loss with respect to merged[j] through the
// targets that read it directly (those in the block right of its own).
void merged_gradient_from_readers(const PairData<float>& d, int64_t j, Scratch<float>& scratch);
void merged_gradient_from_readers(const PairData<double>& d, int64_t j, Scratch<double>& scratch);

// initial_grad[level] = gradient of the loss with respect to level `level`
// of the initial state through the targets that read it directly (those
// before the boundary where it is absorbed); zero for a level the initial
// state does not hold. Only when d.initial_grad is bound.
void initial_gradient_from_readers(const PairData<float>& d, int level, Scratch<float>& scratch);
void initial_gradient_from_readers(const PairData<double>& d, int level, Scratch<double>& scratch);

// Adds d_final_state's share to the gradients of the merged states and
// initial levels the exported state is formed from, then pushes each merged
// state's gradient into the merged states (and initial levels, when
// d.initial_grad is bound) it absorbed, in reverse boundary order.
void unfold_merged_gradients(const PairData<float>& d);
void unfold_merged_gradients(const PairData<double>& d);

// Gradients of segment s: dq, dk rows (this head only) into d.dq, d.dk; dv
// rows into scratch.out (rows x V); dl rows into scratch.dl (rows x d.levels).
// The tail segment's sources also receive d_final_state's gradient.
void backward_segment(const PairData<float>& d, int64_t s, Scratch<float>& scratch);
void backward_segment(const PairData<double>& d, int64_t s, Scratch<double>& scratch);

// dL/dG_t of every token of the pair, into dG[0..len): q_t . dq_t - k_t . dk_t
// (this head's dq, dk; every path through exp(G_t - G_s) adds its term at t
// and subtracts it at s), accumulated in double.
void decay_gradients(const PairData<float>& d, double* dG);
void decay_gradients(const PairData<double>& d, double* dG);

// The exported state's term of dL/dG at the call's last token:
// sum over levels of <d_final_state[l], final state[l]> (0 without d.final_grad).
// Reads the cumulative decays: call it before decay_gradients reuses them.
double final_state_decay_gradient(const PairData<float>& d, Scratch<float>& scratch);
double final_state_decay_gradient(const PairData<double>& d, Scratch<double>& scratch);

}  // namespace lla::cpu
