// Host side of the kernels' tensor vocabulary (see kernel_args.h).
#include "cuda/common/kernel_args.h"

#include "core/checked_size.h"
#include "core/error.h"
#include "core/tensor_check.h"
#include "cuda/forward/repack.h"

namespace lla::cuda {
namespace {
int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }
}  // namespace

lla_status check_served(Precision precision, int32_t variant, int64_t K, const char* pass) {
    if (precision == Precision::F64)
        return set_error(LLA_ERROR_UNSUPPORTED, concat("q.dtype is float64: the CUDA ", pass,
                                                       " computes in float32, bfloat16 or float16 (use the CPU "
                                                       "backend for float64)"));
    if (variant != LLA_VARIANT_MAMBA2)
        return set_error(LLA_ERROR_UNSUPPORTED, concat("config.variant: the CUDA ", pass, " serves LLA_VARIANT_MAMBA2 only"));
    if (K > tile::kKMax)
        return set_error(LLA_ERROR_UNSUPPORTED,
                         concat("q.shape[3] (K) = ", K, ": the CUDA ", pass, " supports K <= ", tile::kKMax));
    return LLA_OK;
}

int64_t plan_items(const std::vector<Sequence>& sequences, int log2, std::vector<tile::SeqInfo>* seqs,
                   std::vector<int32_t>* item_seq) {
    int64_t items = 0;
    for (const Sequence& s : sequences) {
        tile::SeqInfo info{};
        info.start = s.start_position;
        info.length = s.length;
        info.batch = s.batch;
        info.token_begin = s.token_begin;
        info.sc0 = s.start_position >> log2;
        info.nsc = s.length > 0 ? static_cast<int32_t>(((s.start_position + s.length - 1) >> log2) - info.sc0 + 1) : 0;
        info.item_begin = static_cast<int32_t>(items);
        for (int32_t i = 0; i < info.nsc; ++i) item_seq->push_back(static_cast<int32_t>(seqs->size()));
        items += info.nsc;
        seqs->push_back(info);
    }
    return items;
}

// Whether the tiled kernels can read a [B,T,X,D] tensor in place: unit stride
// on D, 16-byte aligned rows and D a whole number of 16-byte vectors.
bool rows_readable(const lla_tensor& t, int elem_bytes) {
    const int64_t vec = 16 / elem_bytes;
    if (reinterpret_cast<uintptr_t>(t.data) % 16 != 0) return false;
    if (t.shape[3] % vec != 0) return false;
    if (t.shape[3] > 1 && t.strides[3] != 1) return false;
    for (int d = 0; d < 3; ++d)
        if (t.shape[d] > 1 && t.strides[d] % vec != 0) return false;
    return true;
}

Packed plan_packing(const lla_tensor& t, int elem_bytes, size_t* cursor) {
    Packed pk;
    if (rows_readable(t, elem_bytes)) return pk;
    pk.packed = true;
    pk.dpad = round_up(t.shape[3], 16 / elem_bytes);
    pk.offset = *cursor;
    pk.bytes = checked_product({static_cast<size_t>(t.shape[0]), static_cast<size_t>(t.shape[1]),
                                static_cast<size_t>(t.shape[2]), static_cast<size_t>(pk.dpad),
                                static_cast<size_t>(elem_bytes)});
    *cursor = checked_align_up(checked_sum(*cursor, pk.bytes), kPlanAlign);
    return pk;
}

tile::RowTensor row_tensor(const lla_tensor& t, const Packed& pk, char* ws) {
    if (pk.packed) {
        const int64_t x = t.shape[2], tt = t.shape[1];
        return tile::RowTensor{ws + pk.offset, tt * x * pk.dpad, x * pk.dpad, pk.dpad};
    }
    auto st = [&](int dim) { return t.shape[dim] > 1 ? t.strides[dim] : 0; };
    return tile::RowTensor{t.data, st(0), st(1), st(2)};
}

tile::ScalarTensor scalar_tensor(const lla_tensor& t) {
    tile::ScalarTensor s{t.data, t.dtype, t.strides[0], t.strides[1], t.strides[2], t.ndim > 3 ? t.strides[3] : 0};
    return s;
}

tile::StateTensor state_tensor(const lla_state* st) {
    tile::StateTensor s{};
    if (st == nullptr) return s;
    const lla_tensor& lv = st->levels;
    s.levels = static_cast<float*>(lv.data);
    s.stride_n = lv.strides[0];
    s.stride_h = lv.strides[1];
    s.stride_l = lv.strides[2];
    s.stride_k = lv.strides[3];
    s.stride_v = lv.strides[4];
    s.num_levels = static_cast<int32_t>(lv.shape[2]);
    if (st->log_decay.ndim != 0) {
        s.log_decay = static_cast<const float*>(st->log_decay.data);
        s.ld_stride_n = st->log_decay.strides[0];
        s.ld_stride_h = st->log_decay.strides[1];
        s.ld_stride_l = st->log_decay.strides[2];
    }
    return s;
}

// Copies tensor t into its dense padded buffer (to_buffer) or back.
lla_status repack_tensor(const lla_tensor& t, const Packed& pk, char* ws, int elem_bytes, bool to_buffer,
                         cudaStream_t stream) {
    const int64_t dense[4] = {t.shape[1] * t.shape[2] * pk.dpad, t.shape[2] * pk.dpad, pk.dpad, 1};
    fwd::RepackArgs a{};
    a.src = to_buffer ? t.data : ws + pk.offset;
    a.dst = to_buffer ? static_cast<void*>(ws + pk.offset) : t.data;
    a.elem_bytes = elem_bytes;
    for (int i = 0; i < 4; ++i) {
        a.shape[i] = t.shape[i];
        a.src_stride[i] = to_buffer ? t.strides[i] : dense[i];
        a.dst_stride[i] = to_buffer ? dense[i] : t.strides[i];
    }
    a.dst_last = to_buffer ? pk.dpad : t.shape[3];
    return fwd::repack(a, stream);
}

tile::StateTensor state_tensor(const lla_tensor* lv) {
    tile::StateTensor s{};
    if (lv == nullptr || lv->data == nullptr) return s;
    s.levels = static_cast<float*>(lv->data);
    s.stride_n = lv->strides[0];
    s.stride_h = lv->strides[1];
    s.stride_l = lv->strides[2];
    s.stride_k = lv->strides[3];
    s.stride_v = lv->strides[4];
    s.num_levels = static_cast<int32_t>(lv->shape[2]);
    return s;
}

}  // namespace lla::cuda
