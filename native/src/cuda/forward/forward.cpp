// The CUDA forward's host side: picks the instantiation, lays out the
// workspace, uploads the per-sequence plan, packs tensors whose strides the
// tiled kernels cannot read directly, and launches the kernels.
#include "cuda/forward/forward.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/checked_size.h"
#include "core/error.h"
#include "cuda/common/cuda_status.h"
#include "cuda/common/kernel_args.h"
#include "cuda/forward/forward_instances.h"

namespace lla::cuda {
namespace {

using fwd::Instance;
using fwd::InstanceShape;

constexpr size_t kAlign = kPlanAlign;

Instance pick_instance(const ForwardProblem& p) {
    switch (p.inputs.q.dtype) {
        case LLA_DTYPE_BFLOAT16: return Instance::Bf16;
        case LLA_DTYPE_FLOAT16: return Instance::F16;
        default: return p.config.math_mode == LLA_MATH_EXACT_FP32 ? Instance::F32Exact : Instance::F32Tf32;
    }
}

struct Plan {
    Instance instance;
    InstanceShape shape;
    int v_slices = 0, Vpad = 0;
    int64_t items = 0;
    std::vector<fwd::SeqInfo> seqs;
    std::vector<int32_t> item_seq;
    Packed q, k, v, o;
    size_t off_seqs = 0, off_items = 0, off_gloc = 0, off_totals = 0, off_dstart = 0, off_states = 0,
           off_slots = 0, off_adiag = 0, total = 0;
};

Plan make_plan(const ForwardProblem& p) {
    Plan plan;
    plan.instance = pick_instance(p);
    plan.shape = fwd::instance_shape(plan.instance);
    const Dims& d = p.dims;
    plan.v_slices = static_cast<int>((d.V + plan.shape.v_slice - 1) / plan.shape.v_slice);
    plan.Vpad = plan.v_slices * plan.shape.v_slice;
    const int log2S = plan.shape.log2S;
    const int64_t items = plan_items(p.sequences, log2S, &plan.seqs, &plan.item_seq);
    plan.items = items;

    const int64_t S = int64_t(1) << log2S;
    const int64_t H = d.H, N = static_cast<int64_t>(plan.seqs.size());
    // Offsets of the buffers in the workspace; the sizes are products of caller
    // dimensions, checked (core/checked_size.h): total is kSizeOverflow when they do not fit.
    size_t cur = 0;
    auto take = [&](std::initializer_list<size_t> factors) {
        const size_t at = cur;
        cur = checked_align_up(checked_sum(cur, checked_product(factors)), kAlign);
        return at;
    };
    const size_t h = static_cast<size_t>(H), n = static_cast<size_t>(N), its = static_cast<size_t>(items);
    const size_t s = static_cast<size_t>(S), vpad = static_cast<size_t>(plan.Vpad), kmax = fwd::kKMax;
    plan.off_seqs = take({n, sizeof(fwd::SeqInfo)});
    plan.off_items = take({its, sizeof(int32_t)});
    plan.off_gloc = take({h, its, s, sizeof(double)});
    plan.off_totals = take({h, its, sizeof(double)});
    plan.off_dstart = take({h, checked_sum(its, n), sizeof(double)});
    plan.off_states = take({h, its, kmax, vpad, sizeof(float)});
    plan.off_slots = take({h, its, kmax, vpad, static_cast<size_t>(plan.shape.state_bytes)});
    plan.off_adiag = take({static_cast<size_t>(d.G), its, s, fwd::kChunk, sizeof(float)});
    plan.q = plan_packing(p.inputs.q, plan.shape.elem_bytes, &cur);
    plan.k = plan_packing(p.inputs.k, plan.shape.elem_bytes, &cur);
    plan.v = plan_packing(p.inputs.v, plan.shape.elem_bytes, &cur);
    plan.o = plan_packing(*p.o, plan.shape.elem_bytes, &cur);
    plan.total = cur > 0 ? cur : kAlign;
    return plan;
}


lla_status check_supported(const ForwardProblem& p) {
    return check_served(p.precision, p.config.variant, p.dims.K, "forward");
}

cudaEvent_t* g_phase_events = nullptr;

}  // namespace

namespace fwd {
void set_phase_events(cudaEvent_t* events) { g_phase_events = events; }
cudaEvent_t* phase_events() { return g_phase_events; }
}  // namespace fwd

size_t forward_workspace_bytes(const ForwardProblem& p) {
    if (check_supported(p) != LLA_OK) {
        clear_error();
        return kAlign;
    }
    return make_plan(p).total;
}

lla_status forward(const ForwardProblem& p, void* workspace, cudaStream_t stream) {
    if (const lla_status st = check_supported(p); st != LLA_OK) return st;
    const Plan plan = make_plan(p);
    char* ws = static_cast<char*>(workspace);
    const int eb = plan.shape.elem_bytes;

    LLA_TRY_STATUS(upload(ws, plan.off_seqs, plan.seqs, stream, "copy of the sequence plan to the device"));
    LLA_TRY_STATUS(upload(ws, plan.off_items, plan.item_seq, stream, "copy of the superchunk list to the device"));
    const std::pair<const lla_tensor*, const Packed*> inputs[] = {
        {&p.inputs.q, &plan.q}, {&p.inputs.k, &plan.k}, {&p.inputs.v, &plan.v}};
    for (const auto& [tensor, packed] : inputs) {
        if (!packed->packed) continue;
        if (const lla_status st = repack_tensor(*tensor, *packed, ws, eb, true, stream); st != LLA_OK) return st;
    }

    const Dims& d = p.dims;
    fwd::ForwardParams fp{};
    fp.H = static_cast<int32_t>(d.H);
    fp.G = static_cast<int32_t>(d.G);
    fp.heads_per_group = static_cast<int32_t>(d.H / d.G);
    fp.K = static_cast<int32_t>(d.K);
    fp.V = static_cast<int32_t>(d.V);
    fp.L = static_cast<int32_t>(d.L);
    fp.Vpad = plan.Vpad;
    fp.v_slices = plan.v_slices;
    fp.log2S = plan.shape.log2S;
    fp.N = static_cast<int32_t>(plan.seqs.size());
    fp.items = plan.items;
    fp.item_offset = 0;
    fp.scale = static_cast<float>(p.config.scale);
    fp.q = row_tensor(p.inputs.q, plan.q, ws);
    fp.k = row_tensor(p.inputs.k, plan.k, ws);
    fp.v = row_tensor(p.inputs.v, plan.v, ws);
    fp.o = row_tensor(*p.o, plan.o, ws);
    fp.g = scalar_tensor(p.inputs.g);
    fp.l = scalar_tensor(p.inputs.l);
    fp.initial = state_tensor(p.initial_state);
    fp.final_state = state_tensor(p.final_state);
    fp.seqs = reinterpret_cast<const fwd::SeqInfo*>(ws + plan.off_seqs);
    fp.item_seq = reinterpret_cast<const int32_t*>(ws + plan.off_items);
    fp.gloc = reinterpret_cast<double*>(ws + plan.off_gloc);
    fp.totals = reinterpret_cast<double*>(ws + plan.off_totals);
    fp.dstart = reinterpret_cast<double*>(ws + plan.off_dstart);
    fp.states = reinterpret_cast<float*>(ws + plan.off_states);
    fp.slots = ws + plan.off_slots;
    fp.adiag = reinterpret_cast<float*>(ws + plan.off_adiag);

    lla_status st = LLA_OK;
    switch (plan.instance) {
        case Instance::Bf16: st = fwd::launch_forward_bf16(fp, stream); break;
        case Instance::F16: st = fwd::launch_forward_f16(fp, stream); break;
        case Instance::F32Tf32: st = fwd::launch_forward_f32_tf32(fp, stream); break;
        case Instance::F32Exact: st = fwd::launch_forward_f32_exact(fp, stream); break;
    }
    if (st != LLA_OK) return st;
    if (plan.o.packed) return repack_tensor(*p.o, plan.o, ws, eb, false, stream);
    return LLA_OK;
}

}  // namespace lla::cuda
