// The decode-step kernel: one block per (sequence, head).
//
// For a state ready for target position n, with the token's log decay g:
//   nonempty levels: l >= 1 with bit l-1 of n set; level m = bit_length(n ^ (n+1))
//   is empty now and receives levels 1..m-1 (all nonempty) plus k v^T.
//   o = scale * sum_l l[l] * d_l * q^T S_l + scale * l[0] * (q . k) v,
//   with d_l = exp(log_decay[l] + g) in the decode form, exp(g) in the canonical.
// Each thread keeps kChunks vectors of the K x V tile in registers, streams
// every nonempty level through them once (accumulating the output mix and the
// fold), then writes the merged level. The bytes moved are the nonempty levels
// once plus one level written, which is what bounds this kernel.
#pragma once

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "cuda/decode/decode_args.cuh"

namespace lla::cuda {

// kVec elements of S as one load/store (16 bytes when kVec * sizeof(S) == 16).
template <class S, int kVec>
struct alignas(sizeof(S) * kVec) Pack {
    S x[kVec];
};

template <class S, int kVec>
__device__ __forceinline__ Pack<S, kVec> load_streaming(const S* p) {
    if constexpr (kVec * sizeof(S) == 16 && sizeof(S) == 4) {
        const float4 r = __ldcs(reinterpret_cast<const float4*>(p));
        return Pack<S, kVec>{{r.x, r.y, r.z, r.w}};
    } else if constexpr (kVec * sizeof(S) == 16 && sizeof(S) == 8) {
        const double2 r = __ldcs(reinterpret_cast<const double2*>(p));
        return Pack<S, kVec>{{r.x, r.y}};
    } else {
        return *reinterpret_cast<const Pack<S, kVec>*>(p);
    }
}

template <class S, int kVec>
__device__ __forceinline__ void store_pack(S* p, const Pack<S, kVec>& v) {
    *reinterpret_cast<Pack<S, kVec>*>(p) = v;
}

template <class S>
__device__ __forceinline__ S exp_of(S x) {
    if constexpr (sizeof(S) == 8) return exp(x);
    else return expf(x);
}

template <class S>
__device__ __forceinline__ S negative_infinity() {
    if constexpr (sizeof(S) == 8) return -__longlong_as_double(0x7ff0000000000000LL);
    else return -__int_as_float(0x7f800000);
}

// kDecodeForm: the state carries log_decay. kVec: elements per access along V
// (1 = any strides). kThreads per block (>= 65, a multiple of 32), kChunks
// vectors per thread and pass.
template <class S, bool kDecodeForm, int kVec, int kThreads = kDecodeThreads, int kChunks = kDecodeChunks>
__global__ void __launch_bounds__(kThreads)
decode_step_kernel(const DecodeArgs a, const StateArg<S> st) {
    constexpr int kMaxLevels = 65;
    static_assert(kThreads >= kMaxLevels && kThreads % 32 == 0, "one thread per level, whole warps");
    extern __shared__ __align__(16) unsigned char decode_smem[];
    S* const sq = reinterpret_cast<S*>(decode_smem);  // q [K]
    S* const sk = sq + a.K;                           // k [K]
    S* const sv = sk + a.K;                           // v [V]
    S* const so = sv + a.V;                           // output accumulator [V]
    __shared__ S out_weight[kMaxLevels];   // scale * l[l] * d_l, 0 for empty levels
    __shared__ S fold_weight[kMaxLevels];  // d_l for levels folded into m, else 0
    __shared__ S warp_dot[kThreads / 32];
    __shared__ int level_list[kMaxLevels];  // the nonempty levels, ascending

    const int tid = threadIdx.x;
    const int64_t n = blockIdx.x / a.H;
    const int64_t h = blockIdx.x % a.H;
    const int64_t group = h / (a.H / a.G);
    const uint64_t pos = static_cast<uint64_t>(st.position[n * st.position_stride]);
    const int merged = bit_length(pos ^ (pos + 1));
    const int top = bit_length(pos);  // highest level that may be nonempty
    const S g = load_as<S>(a.g.data, a.g.dtype, a.g.offset(n, h));
    const S scale = static_cast<S>(a.scale);

    for (int64_t i = tid; i < a.K; i += kThreads) {
        sq[i] = load_as<S>(a.q.data, a.q.dtype, a.q.offset(n, group, i));
        sk[i] = load_as<S>(a.k.data, a.k.dtype, a.k.offset(n, group, i));
    }
    for (int64_t i = tid; i < a.V; i += kThreads) {
        sv[i] = load_as<S>(a.v.data, a.v.dtype, a.v.offset(n, h, i));
        so[i] = S(0);
    }
    if (tid < kMaxLevels) {
        S w = S(0), f = S(0);
        if (tid <= top && level_nonempty(pos, tid)) {
            const S log_d = kDecodeForm ? st.log_decay[st.decay_offset(n, h, tid)] + g : g;
            const S d = exp_of(log_d);
            w = scale * load_as<S>(a.l.data, a.l.dtype, a.l.offset(n, h, tid)) * d;
            f = tid < merged ? d : S(0);
        }
        out_weight[tid] = w;
        fold_weight[tid] = f;
        // Rank of this level among the nonempty ones: the bits of pos below it.
        if (tid <= top && level_nonempty(pos, tid))
            level_list[__popcll(pos & ((uint64_t(1) << (tid - 1)) - 1))] = tid;
    }
    __syncthreads();
    const int level_count = __popcll(pos);

    // q . k for the level-0 (the token itself) term.
    S dot = S(0);
    for (int64_t i = tid; i < a.K; i += kThreads) dot += sq[i] * sk[i];
    for (int off = 16; off > 0; off >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, off);
    if ((tid & 31) == 0) warp_dot[tid >> 5] = dot;

    const S decay_step = exp_of(g);  // canonical form: every kept level is rescaled by exp(g)
    const int64_t vectors = a.K * a.V / kVec;
    const int64_t sk_ = st.level_stride[3];
    const int64_t sv_ = st.level_stride[4];
    for (int64_t tile = 0; tile < vectors; tile += int64_t(kThreads) * kChunks) {
        Pack<S, kVec> mix[kChunks];
        Pack<S, kVec> fold[kChunks];
        int64_t elem_off[kChunks];
        bool live[kChunks];
#pragma unroll
        for (int c = 0; c < kChunks; ++c) {
            const int64_t e = tile + tid + int64_t(c) * kThreads;
            live[c] = e < vectors;
            const int64_t flat = live[c] ? e * kVec : 0;
            elem_off[c] = (flat / a.V) * sk_ + (flat % a.V) * sv_;
#pragma unroll
            for (int j = 0; j < kVec; ++j) {
                mix[c].x[j] = S(0);
                fold[c].x[j] = S(0);
            }
        }
        // Two levels per iteration keep twice the loads in flight.
#pragma unroll 2
        for (int i = 0; i < level_count; ++i) {
            const int l = level_list[i];
            S* const level = st.levels + st.level_offset(n, h, l);
            const S w = out_weight[l];
            const S f = fold_weight[l];
            Pack<S, kVec> x[kChunks];
#pragma unroll
            for (int c = 0; c < kChunks; ++c)
                if (live[c]) x[c] = load_streaming<S, kVec>(level + elem_off[c]);
#pragma unroll
            for (int c = 0; c < kChunks; ++c) {
#pragma unroll
                for (int j = 0; j < kVec; ++j) {
                    mix[c].x[j] += w * x[c].x[j];
                    fold[c].x[j] += f * x[c].x[j];
                }
            }
            if constexpr (!kDecodeForm) {
                // Canonical form: levels folded away become zero, kept ones decay.
                const S keep = l < merged ? S(0) : decay_step;
#pragma unroll
                for (int c = 0; c < kChunks; ++c) {
                    if (!live[c]) continue;
#pragma unroll
                    for (int j = 0; j < kVec; ++j) x[c].x[j] *= keep;
                    store_pack<S, kVec>(level + elem_off[c], x[c]);
                }
            }
        }
        // The merged level: the folded levels plus the token's own k v^T.
        S* const target = st.levels + st.level_offset(n, h, merged);
#pragma unroll
        for (int c = 0; c < kChunks; ++c) {
            if (!live[c]) continue;
            const int64_t flat = (tile + tid + int64_t(c) * kThreads) * kVec;
            const int64_t kk = flat / a.V, vv = flat % a.V;
            const S kval = sk[kk];
            const S qval = sq[kk];
#pragma unroll
            for (int j = 0; j < kVec; ++j) {
                fold[c].x[j] += kval * sv[vv + j];
                atomicAdd(&so[vv + j], qval * mix[c].x[j]);
            }
            store_pack<S, kVec>(target + elem_off[c], fold[c]);
        }
    }
    __syncthreads();

    S qk = S(0);
#pragma unroll
    for (int w = 0; w < kThreads / 32; ++w) qk += warp_dot[w];
    const S self_weight = scale * load_as<S>(a.l.data, a.l.dtype, a.l.offset(n, h, 0)) * qk;
    for (int64_t i = tid; i < a.V; i += kThreads)
        store_as<S>(a.o.data, a.o.dtype, a.o.offset(n, h, i), so[i] + self_weight * sv[i]);

    if constexpr (kDecodeForm) {
        // Folded levels are empty now (exp(-inf) = 0 keeps "state = exp(log_decay) * levels"
        // true whatever they hold); the merged level is undecayed; kept levels decay by g.
        for (int l = 1 + tid; l < st.num_levels; l += kThreads) {
            S* const ld = st.log_decay + st.decay_offset(n, h, l);
            if (l < merged) *ld = negative_infinity<S>();
            else if (l == merged) *ld = S(0);
            else if (level_nonempty(pos, l)) *ld += g;
        }
    }
}

}  // namespace lla::cuda
