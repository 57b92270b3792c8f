// Host side of the kernels' tensor vocabulary (cuda/forward/forward_params.h:
// RowTensor, ScalarTensor, StateTensor): how a caller's lla_tensor becomes a
// kernel argument, and the packing of row tensors that the tiled kernels
// cannot read in place. Shared by the forward and the backward planners.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/problem.h"
#include "cuda/common/cuda_status.h"
#include "cuda/forward/forward_params.h"
#include "loglinear/loglinear.h"

namespace lla::cuda {

constexpr size_t kPlanAlign = 256;  // alignment of every workspace buffer

// LLA_OK when the tiled kernels serve a call (variant M2, float32 or 16-bit
// inputs, K <= 128), else LLA_ERROR_UNSUPPORTED naming what `pass` (forward,
// backward) does not serve.
lla_status check_served(Precision precision, int32_t variant, int64_t K, const char* pass);

// The work items of a call: every aligned block of 2^log2 positions that a
// sequence's call tokens touch (superchunks in the forward, chunks in the
// backward). Fills one SeqInfo per sequence and the sequence of each item;
// returns the number of items.
int64_t plan_items(const std::vector<Sequence>& sequences, int log2, std::vector<tile::SeqInfo>* seqs,
                   std::vector<int32_t>* item_seq);

// Whether the tiled kernels can read a [B,T,X,D] tensor in place: unit stride
// on D, 16-byte aligned rows and D a whole number of 16-byte vectors.
bool rows_readable(const lla_tensor& t, int elem_bytes);

// Dense [B,T,X,Dpad] workspace buffer for a tensor that is packed.
struct Packed {
    bool packed = false;
    int64_t dpad = 0;
    size_t offset = 0;
    size_t bytes = 0;
};

// Reserves a packed buffer at *cursor when t is not readable in place
// (checked sizes: *cursor becomes kSizeOverflow when they do not fit).
Packed plan_packing(const lla_tensor& t, int elem_bytes, size_t* cursor);

tile::RowTensor row_tensor(const lla_tensor& t, const Packed& pk, char* ws);
tile::ScalarTensor scalar_tensor(const lla_tensor& t);
tile::StateTensor state_tensor(const lla_state* st);
// A canonical [N,H,Ls,K,V] float32 tensor (d_final_state, d_initial_state).
tile::StateTensor state_tensor(const lla_tensor* levels);

// Queues the copy of a host plan array (sequence infos, item lists) to
// workspace offset `offset`; nothing for an empty one.
template <class T>
lla_status upload(char* ws, size_t offset, const std::vector<T>& v, cudaStream_t stream, const char* what) {
    if (v.empty()) return LLA_OK;
    LLA_CUDA_TRY(cudaMemcpyAsync(ws + offset, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice, stream), what);
    return LLA_OK;
}

// Copies tensor t into its dense padded buffer (to_buffer) or back.
lla_status repack_tensor(const lla_tensor& t, const Packed& pk, char* ws, int elem_bytes, bool to_buffer,
                         cudaStream_t stream);

}  // namespace lla::cuda
