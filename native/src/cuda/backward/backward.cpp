// The CUDA backward's host side: picks the instantiation, builds the chunk
// and piece lists (backward_params.h), lays out the workspace, packs inputs
// whose rows the tiled kernels cannot read, and launches the passes.
#include "cuda/backward/backward.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/checked_size.h"
#include "core/error.h"
#include "core/levels.h"
#include "cuda/backward/backward_instances.h"
#include "cuda/common/cuda_status.h"
#include "cuda/common/kernel_args.h"

namespace lla::cuda {
namespace {

using bwd::kLog2Item;
using bwd::kPieceChunks;
using bwd::Piece;

enum class Instance { Bf16, F16, F32Tf32, F32Exact };

Instance pick_instance(const BackwardProblem& p) {
    switch (p.inputs.q.dtype) {
        case LLA_DTYPE_BFLOAT16: return Instance::Bf16;
        case LLA_DTYPE_FLOAT16: return Instance::F16;
        default: return p.config.math_mode == LLA_MATH_EXACT_FP32 ? Instance::F32Exact : Instance::F32Tf32;
    }
}

struct Plan {
    Instance instance;
    int elem_bytes = 0, op_bytes = 0, v_slice = 0, v_slices = 0, Vpad = 0;
    int64_t items = 0;
    std::vector<tile::SeqInfo> seqs;
    std::vector<int32_t> item_seq;
    std::vector<Piece> pieces;
    std::vector<int32_t> slot_pieces;  // [items + 1]
    std::vector<int32_t> init_pieces;  // [N * 65 + 1]
    int final_levels = 0;              // levels of the final-state scratch (0: no d_final_state)
    int head_splits = 1;
    Packed q, k, v, d_o;
    size_t off_seqs = 0, off_items = 0, off_pieces = 0, off_slot_pieces = 0, off_init_pieces = 0, off_gloc = 0,
           off_totals = 0, off_dstart = 0, off_states = 0, off_slots = 0, off_dstates = 0, off_dgq = 0, off_dgk = 0,
           off_final = 0, off_partial = 0, total = 0;
};

// Appends the pieces of readers [lo, hi) (positions of sequence seq) of one state.
void add_pieces(Plan& plan, int32_t seq, const tile::SeqInfo& s, int64_t lo, int64_t hi, int64_t src_pos, int32_t level,
                int32_t gref_item) {
    if (lo >= hi) return;
    const int64_t first = lo >> kLog2Item, last = (hi - 1) >> kLog2Item;
    for (int64_t c = first; c <= last; c += kPieceChunks) {
        Piece pc{};
        pc.pos_lo = std::max(lo, c << kLog2Item);
        pc.pos_hi = std::min(hi, (c + kPieceChunks) << kLog2Item);
        pc.src_pos = src_pos;
        pc.seq = seq;
        pc.item = static_cast<int32_t>(s.item_begin + (c - s.sc0));
        pc.level = level;
        pc.gref_item = gref_item;
        plan.pieces.push_back(pc);
    }
}

Plan make_plan(const BackwardProblem& p) {
    Plan plan;
    plan.instance = pick_instance(p);
    const bool f32 = plan.instance == Instance::F32Tf32 || plan.instance == Instance::F32Exact;
    const bool f32_ops = plan.instance != Instance::Bf16;  // float16 inputs: float operands
    plan.elem_bytes = f32 ? 4 : 2;
    plan.op_bytes = f32_ops ? 4 : 2;
    plan.v_slice = f32_ops ? bwd::kVSlice32 : bwd::kVSlice16;
    const Dims& d = p.dims;
    plan.v_slices = static_cast<int>((d.V + plan.v_slice - 1) / plan.v_slice);
    plan.Vpad = plan.v_slices * plan.v_slice;
    const bool has_initial = p.initial_state != nullptr;

    const int64_t items = plan_items(p.sequences, kLog2Item, &plan.seqs, &plan.item_seq);
    plan.items = items;

    // Pieces: the readers of every slot (its right sibling), then of every
    // initial-state level that chunks read directly (for_each_incoming).
    const int32_t N = static_cast<int32_t>(plan.seqs.size());
    plan.slot_pieces.assign(static_cast<size_t>(items) + 1, 0);
    for (int32_t n = 0; n < N; ++n) {
        const tile::SeqInfo& s = plan.seqs[n];
        const int64_t last = s.sc0 + s.nsc - 1;
        for (int32_t i = 0; i < s.nsc; ++i) {
            plan.slot_pieces[s.item_begin + i] = static_cast<int32_t>(plan.pieces.size());
            const int64_t P = s.sc0 + i;
            int hh = 0;
            while (hh < fwd::kMaxHeights && ((P >> hh) & 1)) ++hh;
            if (hh >= fwd::kMaxHeights || P + 1 > last) continue;
            const int64_t r_last = std::min(last, P + (int64_t(1) << hh));
            const int64_t lo = std::max(s.start, (P + 1) << kLog2Item);
            const int64_t hi = std::min(s.start + s.length, (r_last + 1) << kLog2Item);
            add_pieces(plan, n, s, lo, hi, P << kLog2Item, kLog2Item + 1 + hh, i + 1);
        }
    }
    plan.slot_pieces[items] = static_cast<int32_t>(plan.pieces.size());
    plan.init_pieces.assign(static_cast<size_t>(N) * 65 + 1, static_cast<int32_t>(plan.pieces.size()));
    for (int32_t n = 0; n < N; ++n) {
        const tile::SeqInfo& s = plan.seqs[n];
        const uint64_t start = static_cast<uint64_t>(s.start);
        for (int l = 0; l <= 64; ++l) {
            plan.init_pieces[static_cast<size_t>(n) * 65 + l] = static_cast<int32_t>(plan.pieces.size());
            if (!has_initial || l == 0 || l == 64 || ((start >> (l - 1)) & 1u) == 0 || s.length == 0) continue;
            const int64_t src = static_cast<int64_t>((start >> l) << l);
            const int64_t e = l > kLog2Item ? static_cast<int64_t>(((start >> (l - 1)) + 1) << (l - 1))
                                            : static_cast<int64_t>(((start >> kLog2Item) + 1) << kLog2Item);
            add_pieces(plan, n, s, s.start, std::min(e, s.start + s.length), src, l > kLog2Item ? l : -1, -1);
        }
    }
    plan.init_pieces[static_cast<size_t>(N) * 65] = static_cast<int32_t>(plan.pieces.size());
    // With d_final_state, dg needs <d_final_state, final state>: the final
    // state's nonzero levels are those below bit_length(end) + 1.
    if (p.d_final_state != nullptr || p.size_query) {
        int levels = 1;
        for (const tile::SeqInfo& s : plan.seqs)
            levels = std::max(levels, bit_length(static_cast<uint64_t>(s.start + s.length)) + 1);
        plan.final_levels = levels;
    }

    // Head splits: more CTAs per (chunk, group) when a group has many heads,
    // within 8 per chunk and 512 MiB of partial sums.
    const int64_t hpg = d.H / d.G;
    for (int64_t sp = std::min<int64_t>(hpg, std::max<int64_t>(1, 8 / d.G)); sp > 1; --sp) {
        const double bytes = double(sp) * double(d.G) * double(items) * tile::kChunk * tile::kKMax * 4;
        if (hpg % sp == 0 && bytes <= double(512u << 20)) {
            plan.head_splits = static_cast<int>(sp);
            break;
        }
    }

    size_t cur = 0;
    auto take = [&](std::initializer_list<size_t> factors) {
        const size_t at = cur;
        cur = checked_align_up(checked_sum(cur, checked_product(factors)), kPlanAlign);
        return at;
    };
    const size_t h = static_cast<size_t>(d.H), n = static_cast<size_t>(N), its = static_cast<size_t>(items);
    const size_t pcs = plan.pieces.size();
    const size_t vpad = static_cast<size_t>(plan.Vpad), kmax = tile::kKMax, chunk = tile::kChunk;
    plan.off_seqs = take({n, sizeof(tile::SeqInfo)});
    plan.off_items = take({its, sizeof(int32_t)});
    plan.off_pieces = take({pcs, sizeof(Piece)});
    plan.off_slot_pieces = take({checked_sum(its, 1), sizeof(int32_t)});
    plan.off_init_pieces = take({checked_sum(checked_product({n, 65}), 1), sizeof(int32_t)});
    plan.off_gloc = take({h, its, chunk, sizeof(double)});
    plan.off_totals = take({h, its, sizeof(double)});
    plan.off_dstart = take({h, checked_sum(its, n), sizeof(double)});
    // Chunk states (read by the up-sweep only) share their memory with the pieces written after it.
    plan.off_states = take({h, std::max(its, pcs), kmax, vpad, sizeof(float)});
    plan.off_slots = take({h, its, kmax, vpad, static_cast<size_t>(plan.op_bytes)});
    plan.off_dstates = take({h, its, kmax, vpad, static_cast<size_t>(plan.op_bytes)});
    plan.off_dgq = take({h, its, chunk, sizeof(double)});
    plan.off_dgk = take({h, its, chunk, sizeof(double)});
    if (hpg > 1)
        plan.off_partial = take({static_cast<size_t>(plan.head_splits), static_cast<size_t>(d.G), its, chunk, kmax,
                                 sizeof(float)});
    if (plan.final_levels > 0)
        plan.off_final = take({n, h, static_cast<size_t>(plan.final_levels), static_cast<size_t>(d.K),
                               static_cast<size_t>(d.V), sizeof(float)});
    plan.q = plan_packing(p.inputs.q, plan.elem_bytes, &cur);
    plan.k = plan_packing(p.inputs.k, plan.elem_bytes, &cur);
    plan.v = plan_packing(p.inputs.v, plan.elem_bytes, &cur);
    if (p.d_o != nullptr) {
        plan.d_o = plan_packing(*p.d_o, plan.elem_bytes, &cur);
    } else {  // a size query: d_o sized like v
        plan.d_o = plan_packing(p.inputs.v, plan.elem_bytes, &cur);
        if (!plan.d_o.packed) {  // the call's d_o may need packing even where v does not
            lla_tensor unreadable = p.inputs.v;
            unreadable.data = reinterpret_cast<void*>(uintptr_t{1});
            plan.d_o = plan_packing(unreadable, plan.elem_bytes, &cur);
        }
    }
    plan.total = cur > 0 ? cur : kPlanAlign;
    return plan;
}


lla_status check_supported(const BackwardProblem& p) {
    return check_served(p.precision, p.config.variant, p.dims.K, "backward");
}

bwd::ScalarOut scalar_out(const lla_tensor& t) {
    return bwd::ScalarOut{t.data, t.dtype, t.strides[0], t.strides[1], t.strides[2], t.ndim > 3 ? t.strides[3] : 0};
}

void row_strides(const lla_tensor& t, int64_t* out) {
    for (int i = 0; i < 4; ++i) out[i] = t.shape[i] > 1 ? t.strides[i] : 0;
}

}  // namespace

size_t backward_workspace_bytes(const BackwardProblem& p) {
    if (check_supported(p) != LLA_OK) {
        clear_error();
        return kPlanAlign;
    }
    return make_plan(p).total;
}

lla_status backward(const BackwardProblem& p, void* workspace, cudaStream_t stream) {
    if (const lla_status st = check_supported(p); st != LLA_OK) return st;
    const Plan plan = make_plan(p);
    char* ws = static_cast<char*>(workspace);
    LLA_TRY_STATUS(upload(ws, plan.off_seqs, plan.seqs, stream, "copy of the sequence plan to the device"));
    LLA_TRY_STATUS(upload(ws, plan.off_items, plan.item_seq, stream, "copy of the chunk list to the device"));
    LLA_TRY_STATUS(upload(ws, plan.off_pieces, plan.pieces, stream, "copy of the piece list to the device"));
    LLA_TRY_STATUS(upload(ws, plan.off_slot_pieces, plan.slot_pieces, stream, "copy of the slot pieces to the device"));
    LLA_TRY_STATUS(upload(ws, plan.off_init_pieces, plan.init_pieces, stream, "copy of the initial pieces to the device"));
    const std::pair<const lla_tensor*, const Packed*> inputs[] = {
        {&p.inputs.q, &plan.q}, {&p.inputs.k, &plan.k}, {&p.inputs.v, &plan.v}, {p.d_o, &plan.d_o}};
    for (const auto& [tensor, packed] : inputs) {
        if (!packed->packed) continue;
        LLA_TRY_STATUS(repack_tensor(*tensor, *packed, ws, plan.elem_bytes, true, stream));
    }

    const Dims& d = p.dims;
    bwd::BackwardParams bp{};
    bp.H = static_cast<int32_t>(d.H);
    bp.G = static_cast<int32_t>(d.G);
    bp.heads_per_group = static_cast<int32_t>(d.H / d.G);
    bp.K = static_cast<int32_t>(d.K);
    bp.V = static_cast<int32_t>(d.V);
    bp.L = static_cast<int32_t>(d.L);
    bp.Vpad = plan.Vpad;
    bp.v_slices = plan.v_slices;
    bp.log2S = kLog2Item;
    bp.N = static_cast<int32_t>(plan.seqs.size());
    bp.items = plan.items;
    bp.scale = static_cast<float>(p.config.scale);
    bp.q = row_tensor(p.inputs.q, plan.q, ws);
    bp.k = row_tensor(p.inputs.k, plan.k, ws);
    bp.v = row_tensor(p.inputs.v, plan.v, ws);
    bp.g = scalar_tensor(p.inputs.g);
    bp.l = scalar_tensor(p.inputs.l);
    bp.initial = state_tensor(p.initial_state);
    bp.seqs = reinterpret_cast<const tile::SeqInfo*>(ws + plan.off_seqs);
    bp.item_seq = reinterpret_cast<const int32_t*>(ws + plan.off_items);
    bp.gloc = reinterpret_cast<double*>(ws + plan.off_gloc);
    bp.totals = reinterpret_cast<double*>(ws + plan.off_totals);
    bp.dstart = reinterpret_cast<double*>(ws + plan.off_dstart);
    bp.states = reinterpret_cast<float*>(ws + plan.off_states);
    bp.slots = ws + plan.off_slots;

    bp.in_dtype = p.inputs.q.dtype;
    bp.d_o = row_tensor(*p.d_o, plan.d_o, ws);
    bp.dq = p.grads.dq.data;
    row_strides(p.grads.dq, bp.dq_stride);
    bp.dk = p.grads.dk.data;
    row_strides(p.grads.dk, bp.dk_stride);
    bp.dv = p.grads.dv.data;
    row_strides(p.grads.dv, bp.dv_stride);
    bp.dg = scalar_out(p.grads.dg);
    bp.dl = scalar_out(p.grads.dl);
    bp.d_final = state_tensor(p.d_final_state);
    bp.d_initial = p.grads.d_initial_state.ndim != 0 ? state_tensor(&p.grads.d_initial_state) : tile::StateTensor{};
    bp.num_pieces = static_cast<int64_t>(plan.pieces.size());
    bp.pieces = reinterpret_cast<const Piece*>(ws + plan.off_pieces);
    bp.slot_pieces = reinterpret_cast<const int32_t*>(ws + plan.off_slot_pieces);
    bp.init_pieces = reinterpret_cast<const int32_t*>(ws + plan.off_init_pieces);
    bp.piece_states = reinterpret_cast<float*>(ws + plan.off_states);
    bp.dstates = ws + plan.off_dstates;
    bp.dgq = reinterpret_cast<double*>(ws + plan.off_dgq);
    bp.dgk = reinterpret_cast<double*>(ws + plan.off_dgk);
    bp.head_splits = plan.head_splits;
    bp.group_partial = d.H / d.G > 1 ? reinterpret_cast<float*>(ws + plan.off_partial) : nullptr;
    bp.final_state = plan.final_levels > 0 ? reinterpret_cast<float*>(ws + plan.off_final) : nullptr;
    bp.final_levels = plan.final_levels;

    switch (plan.instance) {
        case Instance::Bf16: return bwd::launch_backward_bf16(bp, stream);
        case Instance::F16: return bwd::launch_backward_f16(bp, stream);
        case Instance::F32Tf32: return bwd::launch_backward_f32_tf32(bp, stream);
        case Instance::F32Exact: return bwd::launch_backward_f32_exact(bp, stream);
    }
    return LLA_OK;
}

}  // namespace lla::cuda
