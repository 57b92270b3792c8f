// Kernel 3 of the forward, one CTA per (superchunk, head, V slice): writes o
// for the superchunk's call tokens. Per chunk c of the superchunk:
//  1. intra-chunk: P = (Q K^T) .* M with M[i,j] = scale l[i, lev(i,j)]
//     exp(Gd_i - Gd_j) for j <= i (Q K^T from kernel 1, shared by the group),
//     O = P V;
//  2. the chunk's state (diag(exp(Gd_end - Gd_s)) K)^T V (K's rows are
//     weighted while the mask is built, so both products of the chunk run
//     back to back), merged Fenwick-style into the on-chip chunk-level states
//     R[1..r] (r = log2 chunks per superchunk), each kept with the cumulative
//     decay at its block end;
//  3. O += scale l[i, 6 + m] exp(Gd_i - Gd_ref(m)) Q R[m] for every set bit m-1
//     of c;
//  4. O += the same for each incoming state of the superchunk (up-sweep
//     slots and initial-state levels, see for_each_incoming), double-buffered
//     through the K tile and the V + P tiles, which steps 1-2 have finished
//     with, so that the next state loads while one is applied.
// The level scales l of chunk c + 1 load (cp.async) during all of chunk c.
// Products: WGMMA on sm_90a for 16-bit inputs (P V and the chunk state in
// flight together; each Q x state product waited for before its rows are
// weighted), mma.sync otherwise; both read the same shared tiles.
#pragma once

#include "cuda/forward/forward_params.h"
#include "cuda/forward/kernel_traits.h"
#include "cuda/tile/tile_ops.h"
#include "cuda/forward/wgmma_ops.h"

namespace lla::cuda::fwd {

// Incoming states whose level scales are prefetched with the chunk's; the
// rest (superchunk indices with more than 4 set bits, initial states with many
// levels) read l directly. 7 would cover every index below 255 but costs more
// at 16 x 4096 than it saves (bench/NOTES-forward.md).
constexpr int kInPrefetch = 4;

template <class Traits>
struct OutputSmem {
    static constexpr int kLevels = Traits::kLog2S + 1;  // level scales kept per row: 0..log2S
    static constexpr int kTiles = Traits::kQKBytes * 2 + Traits::kVBytes + Traits::kPBytes +
                                  Traits::kRLevels * Traits::kRBytes;
    static constexpr int kBytes = kTiles + Traits::kS * 8 + kMaxIncoming * 8 + kMaxIncoming * int(sizeof(Incoming)) +
                                  (kChunk * kLevels + kInPrefetch * kChunk) * 4 * 2 + kChunk * 4 * (1 + Traits::kRLevels + 2 + 2) +
                                  kMaxIncoming * 4 + 16;
    static_assert(Traits::kVBytes + Traits::kPBytes >= Traits::kRBytes, "an incoming state fits in the V + P tiles");
    // Two CTAs per SM for 16-bit inputs (228 KB of shared memory, 1 KB reserved per CTA).
    static_assert(Traits::kMinBlocks == 1 || 2 * (kBytes + 1024) <= 228 * 1024, "two CTAs per SM");
};

template <class Traits>
__global__ void __launch_bounds__(kThreads, Traits::kMinBlocks) output_kernel(ForwardParams p) {
    using Element = typename Traits::Element;
    using StateOp = typename Traits::StateOp;
    using Smem = OutputSmem<Traits>;
    constexpr int kS = Traits::kS;
    constexpr int kVs = Traits::kVSlice;
    constexpr int kNC = Traits::kChunksPerSuper;
    constexpr int kR = Traits::kRLevels;
    constexpr int kLevels = Smem::kLevels;
    constexpr bool kWgmma = kWgmmaCompiled && sizeof(Element) == 2;
    using Mmas = ForwardMmas<Traits, kWgmma>;

    // 1024-byte alignment: the 128-byte swizzle of WGMMA operands is a
    // function of the address (every tile offset below is a multiple of 1 KB).
    extern __shared__ __align__(1024) unsigned char smem[];
    if constexpr (kWgmma) require_1k_aligned(smem);
    StateOp* q_ptr = reinterpret_cast<StateOp*>(smem);
    Element* k_ptr = reinterpret_cast<Element*>(q_ptr + kChunk * kKMax);
    Element* v_ptr = k_ptr + kChunk * kKMax;
    Element* p_ptr = v_ptr + kChunk * kVs;
    StateOp* r_ptr = reinterpret_cast<StateOp*>(p_ptr + kChunk * kChunk);
    double* gsm = reinterpret_cast<double*>(r_ptr + kR * kKMax * kVs);
    double* ent_gref = gsm + kS;
    Incoming* ents = reinterpret_cast<Incoming*>(ent_gref + kMaxIncoming);
    float* lsm = reinterpret_cast<float*>(ents + kMaxIncoming);
    float* lin = lsm + kChunk * kLevels;   // l at incoming state e's level, e * kChunk + row (e < kInPrefetch)
    uint32_t* lraw = reinterpret_cast<uint32_t*>(lin + kInPrefetch * kChunk);  // words in flight for lsm, lin
    float* wsm = reinterpret_cast<float*>(lraw + kChunk * Smem::kLevels + kInPrefetch * kChunk);  // chunk-state weights per source row
    // log2(e) (Gd[row] - Gd[chunk start]) as a float pair hi + lo, so that the
    // mask's differences need no double arithmetic (see the mask below).
    float* ghi = wsm + kChunk;
    float* glo = ghi + kChunk;
    float* rw_level = glo + kChunk;        // row weights of the chunk-level states R[m], (m - 1) * kChunk + row
    float* rw_in = rw_level + kR * kChunk; // row weights of the incoming state in buffer b, b * kChunk + row
    float* ent_mult = rw_in + 2 * kChunk;
    int* ent_count = reinterpret_cast<int*>(ent_mult + kMaxIncoming);

    Tensor sQ = make_tensor(make_smem_ptr(q_ptr), typename Traits::LayoutQK{});
    Tensor sK = make_tensor(make_smem_ptr(k_ptr), typename Traits::LayoutQK{});
    Tensor sKt = make_tensor(make_smem_ptr(k_ptr), typename Traits::LayoutKt{});
    Tensor sV = make_tensor(make_smem_ptr(v_ptr), typename Traits::LayoutV{});
    Tensor sVt = make_tensor(make_smem_ptr(v_ptr), typename Traits::LayoutVt{});
    Tensor sP = make_tensor(make_smem_ptr(p_ptr), typename Traits::LayoutP{});
    Tensor sO = make_tensor(make_smem_ptr(p_ptr), typename Traits::LayoutO{});
    // Incoming-state buffers: the K tile and the (contiguous) V + P tiles.
    auto in_ptr = [&](int b) { return reinterpret_cast<StateOp*>(b == 0 ? k_ptr : v_ptr); };
    auto sR = [&](int m) { return make_tensor(make_smem_ptr(r_ptr + (m - 1) * kKMax * kVs), typename Traits::LayoutR{}); };

    const int64_t item = p.item_offset + blockIdx.y;
    const int seq = p.item_seq[item];
    const SeqInfo s = p.seqs[seq];
    const int64_t rel = item - s.item_begin;
    const int64_t P = s.sc0 + rel;
    const int h = blockIdx.x / p.v_slices;
    const int vs = blockIdx.x % p.v_slices;
    const int grp = h / p.heads_per_group;
    const int64_t base = P << Traits::kLog2S;
    const int64_t lo = base > s.start ? base : s.start;
    const int64_t hi = (base + kS < s.start + s.length) ? base + kS : s.start + s.length;
    const int64_t head_item = static_cast<int64_t>(h) * p.items + item;
    const int64_t dbase = static_cast<int64_t>(h) * (p.items + p.N);
    const bool has_initial = p.initial.levels != nullptr;
    const double d_super = p.dstart[dbase + dstart_index(s, seq, rel)];


    const int c_first = static_cast<int>((lo - base) >> kLog2Chunk);
    const int c_last = static_cast<int>((hi - 1 - base) >> kLog2Chunk);

    // Queues the Q, K, V tiles of chunk c (cp.async; Q converted when StateOp differs).
    auto issue_tiles = [&](int c) {
        const int64_t cbase = base + c * kChunk;
        const int64_t token0 = s.token_begin + (cbase - s.start);
        const RowRange row_ok = row_range(cbase, lo, hi, kChunk);
        const Element* k_row0 = static_cast<const Element*>(p.k.data) + s.batch * p.k.stride_b +
                                token0 * p.k.stride_t + grp * p.k.stride_x;
        Tensor gK = make_tensor(make_gmem_ptr(k_row0),
                                make_layout(Shape<Int<kChunk>, Int<kKMax>>{}, make_stride(p.k.stride_t, _1{})));
        load_tile_async<Element>(gK, sK, row_ok, p.K);
        const Element* v_row0 = static_cast<const Element*>(p.v.data) + s.batch * p.v.stride_b +
                                token0 * p.v.stride_t + h * p.v.stride_x + vs * kVs;
        Tensor gV = make_tensor(make_gmem_ptr(v_row0),
                                make_layout(Shape<Int<kChunk>, Int<kVs>>{}, make_stride(p.v.stride_t, _1{})));
        load_tile_async<Element>(gV, sV, row_ok, p.V - vs * kVs);
        const Element* q_row0 = static_cast<const Element*>(p.q.data) + s.batch * p.q.stride_b +
                                token0 * p.q.stride_t + grp * p.q.stride_x;
        if constexpr (std::is_same_v<Element, StateOp>) {
            Tensor gQ = make_tensor(make_gmem_ptr(q_row0),
                                    make_layout(Shape<Int<kChunk>, Int<kKMax>>{}, make_stride(p.q.stride_t, _1{})));
            load_tile_async<Element>(gQ, sQ, row_ok, p.K);
        } else {
            load_tile_convert<Element, StateOp>(
                sQ, [&](int r) { return q_row0 + r * p.q.stride_t; }, row_ok, p.K);
        }
        cp_async_fence();
    };

    // Level scales of chunk c: l[t, 0..log2S] (lsm, kLevels per row) and
    // l[t, level of incoming state e] (lin, e < kInPrefetch, once ents is
    // known), queued a chunk ahead as 4-byte cp.async words into lraw; each
    // thread converts the words it queued when the chunk starts. Thread t
    // owns row t / 4: its levels t % 4 + 4 i and incoming state t % 4, so the
    // row's offset in p.l is computed once.
    constexpr int kLsm = kChunk * kLevels;
    constexpr int kLevelSteps = (kLevels + 3) / 4;
    static_assert(kThreads == 4 * kChunk && kInPrefetch == 4, "four threads per row, one prefetched state each");
    struct LevelRow {
        int r, q;          // row, thread within the row
        int64_t off;       // element offset of l[row, level 0]
        bool ok;           // a call token
    };
    auto level_row = [&](int c) {
        const int64_t cbase = base + c * kChunk;
        LevelRow lr;
        // Through opaque_zero: the row's lraw / lsm indices are recomputed per
        // chunk instead of being hoisted out of the loop and kept live.
        lr.r = static_cast<int>(threadIdx.x >> 2) + opaque_zero();
        lr.q = static_cast<int>(threadIdx.x & 3);
        lr.off = scalar_offset(p.l, s.batch, s.token_begin + (cbase + lr.r - s.start), h, 0);
        lr.ok = row_range(cbase, lo, hi, kChunk)(lr.r);
        return lr;
    };
    auto in_level = [&](int c, const LevelRow& lr) { return level_of(base + c * kChunk + lr.r, ents[lr.q].source_pos); };
    // Calls f(lraw / lsm index, offset in p.l, whether it reads l) for this
    // thread's lsm entries of chunk c (with_lsm) and its lin entry if the
    // row's state index is below in_limit.
    auto for_each_level_entry = [&](int c, bool with_lsm, int in_limit, auto&& f) {
        const LevelRow lr = level_row(c);
        if (with_lsm) {
#pragma unroll
            for (int i = 0; i < kLevelSteps; ++i) {
                const int lev = lr.q + 4 * i;
                if (lev < kLevels) f(lr.r * kLevels + lev, lr.off + lev * p.l.stride_l, lr.ok && lev < p.L);
            }
        }
        if (lr.q < in_limit) {
            const int lev = in_level(c, lr);
            f(kLsm + lr.q * kChunk + lr.r, lr.off + lev * p.l.stride_l, lr.ok && lev < p.L);
        }
    };
    auto issue_levels = [&](int c, bool with_lsm, int in_limit) {
        for_each_level_entry(c, with_lsm, in_limit, [&](int idx, int64_t off, bool ok) {
            cp_async_scalar_word(lraw + idx, p.l, off, ok);
        });
    };
    // lin follows lsm, so one index space; the scale is folded in.
    auto convert_levels = [&](int c, int in_limit) {
        for_each_level_entry(c, true, in_limit, [&](int idx, int64_t off, bool) {
            lsm[idx] = p.scale * scalar_from_word(lraw[idx], p.l, off);
        });
    };

    // The first chunk's loads go out before the prologue's serial work (its
    // incoming levels after it).
    issue_tiles(c_first);
    issue_levels(c_first, true, 0);

    if (threadIdx.x == 0) {
        int count = 0;
        for_each_incoming(P, s, Traits::kLog2S, has_initial, [&](const Incoming& in) {
            if (count >= kMaxIncoming) return;
            ents[count] = in;
            if (in.kind == kFromSlot) {
                ent_gref[count] = p.dstart[dbase + dstart_index(s, seq, in.index + 1)];
                ent_mult[count] = 1.f;
            } else {
                ent_gref[count] = 0.0;
                ent_mult[count] = state_multiplier(p.initial, seq, h, in.level);
            }
            ++count;
        });
        *ent_count = count;
    }
    for (int r = threadIdx.x; r < kS; r += kThreads) gsm[r] = p.gloc[head_item * kS + r];
    __syncthreads();
    const int num_incoming = *ent_count;
    const int in_prefetched = num_incoming < kInPrefetch ? num_incoming : kInPrefetch;
    issue_levels(c_first, false, in_prefetched);
    cp_async_fence();

    typename Traits::MmaE mma_e;  // the layout of the Q K^T tiles (kernel 1) and the mask
    auto thr_mma = mma_e.get_thread_slice(threadIdx.x);
    Tensor cS = thr_mma.partition_C(make_identity_tensor(Shape<Int<kChunk>, Int<kChunk>>{}));
    typename Mmas::O mma_o;
    typename Mmas::U mma_u;
    typename Mmas::H mma_h;
    auto thr_o = mma_o.get_thread_slice(threadIdx.x);
    auto thr_h = mma_h.get_thread_slice(threadIdx.x);
    Tensor cO = thr_o.partition_C(make_identity_tensor(Shape<Int<kChunk>, Int<kVs>>{}));
    // acc_u = Q x state (state: a tile of LayoutR at st_ptr); WGMMA: issued only.
    auto q_times_state = [&](auto& acc_u, StateOp* st_ptr) {
        if constexpr (kWgmma) {
            using W = WgmmaTraits<Traits>;
            wgmma_issue<true>(mma_u, acc_u, make_tensor(make_smem_ptr(q_ptr), typename W::LayoutQ{}),
                              make_tensor(make_smem_ptr(st_ptr), typename W::LayoutRt{}));
        } else {
            clear(acc_u);
            gemm_smem<CopyAtomN<StateOp>, CopyAtomT<StateOp>>(
                mma_u, acc_u, sQ, make_tensor(make_smem_ptr(st_ptr), typename Traits::LayoutRt{}));
        }
    };

    uint32_t r_valid = 0;       // bit m: R[m] holds a block
    double r_gref[kR + 1];      // cumulative decay (local) at the end of R[m]'s block
#pragma unroll
    for (int m = 0; m <= kR; ++m) r_gref[m] = 0.0;

    for (int c = c_first; c <= c_last; ++c) {
        const int64_t cbase = base + c * kChunk;
        const int64_t token0 = s.token_begin + (cbase - s.start);
        const double* gchunk = gsm + c * kChunk;
        const RowRange row_ok = row_range(cbase, lo, hi, kChunk);  // the chunk's call tokens

        // Queues incoming state e into buffer b and writes its row weights.
        // Every call commits one cp.async group (empty for an initial-state
        // level, which is copied synchronously) so that waits count uniformly.
        auto issue_incoming = [&](int e, int b) {
            const Incoming in = ents[e];
            Tensor sB = make_tensor(make_smem_ptr(in_ptr(b)), typename Traits::LayoutR{});
            if (in.kind == kFromSlot) {
                const StateOp* src = static_cast<const StateOp*>(p.slots) +
                                     (static_cast<int64_t>(h) * p.items + s.item_begin + in.index) * kKMax * p.Vpad +
                                     vs * kVs;
                Tensor gE = make_tensor(make_gmem_ptr(src),
                                        make_layout(Shape<Int<kKMax>, Int<kVs>>{}, make_stride(int64_t(p.Vpad), _1{})));
                load_tile_async<StateOp>(gE, sB, [](int) { return true; }, kVs);
            } else {
                const float mult = ent_mult[e];
                for (int idx = threadIdx.x; idx < kKMax * kVs; idx += kThreads) {
                    const int kk = idx / kVs, vv = idx % kVs;
                    const int v = vs * kVs + vv;
                    const float x = (kk < p.K && v < p.V) ? mult * load_state(p.initial, seq, h, in.level, kk, v) : 0.f;
                    sB(kk, vv) = StateOp(x);
                }
            }
            cp_async_fence();
            // Buffer b's weights by warps 4b, 4b + 1 (the chunk-level ones by warps 2, 3).
            const int r = static_cast<int>(threadIdx.x) - b * 128;
            if (r >= 0 && r < kChunk) {
                const int64_t pos = cbase + r;
                float w = 0.f;
                if (row_ok(r)) {
                    const float lv = e < kInPrefetch ? lin[e * kChunk + r]
                                                     : p.scale * load_scalar(p.l, s.batch, s.token_begin + (pos - s.start),
                                                                             h, level_of(pos, in.source_pos));
                    w = lv * exp_diff(d_super + gchunk[r] - ent_gref[e]);
                }
                rw_in[b * kChunk + r] = w;
            }
        };

        // 1. Tiles and level scales of the chunk (queued by the previous iteration after the first).
        const bool need_state = c < c_last;
        if (need_state && threadIdx.x < kChunk) {
            const int r = threadIdx.x;
            wsm[r] = row_ok(r) ? exp_diff(gchunk[kChunk - 1] - gchunk[r]) : 0.f;
        }
        if (threadIdx.x >= kChunk && threadIdx.x < 2 * kChunk) {
            const int r = threadIdx.x - kChunk;
            const double y = (gchunk[r] - gchunk[0]) * 1.4426950408889634;
            const float y_hi = static_cast<float>(y);
            ghi[r] = y_hi;
            glo[r] = static_cast<float>(y - static_cast<double>(y_hi));
        }
        Tensor acc_s = partition_fragment_C(mma_e, Shape<Int<kChunk>, Int<kChunk>>{});
        static_assert(decltype(size(acc_s))::value == Traits::kDiagFrag, "diagonal tile fragment size");
        {
            const float4* src = reinterpret_cast<const float4*>(p.adiag) +
                                ((static_cast<int64_t>(grp) * p.items + item) * kNC + c) *
                                    (Traits::kDiagFrag / 4) * kThreads;
#pragma unroll
            for (int j = 0; j < Traits::kDiagFrag / 4; ++j) {
                const float4 a = src[j * kThreads + threadIdx.x];
                acc_s(4 * j) = a.x;
                acc_s(4 * j + 1) = a.y;
                acc_s(4 * j + 2) = a.z;
                acc_s(4 * j + 3) = a.w;
            }
        }
        cp_async_wait<0>();
        convert_levels(c, in_prefetched);
        if (c < c_last) {
            issue_levels(c + 1, true, in_prefetched);
            cp_async_fence();
        }
        sync_for_mma<kWgmma>();

        // Row weights of the chunk-level states that step 4 applies (the
        // merge in step 3 changes no level that chunk c reads).
        if (threadIdx.x >= kChunk && threadIdx.x < 2 * kChunk) {
            const int r = threadIdx.x - kChunk;
#pragma unroll
            for (int m = 1; m <= kR; ++m)
                if (((c >> (m - 1)) & 1) != 0 && ((r_valid >> m) & 1u) != 0)
                    rw_level[(m - 1) * kChunk + r] =
                        lsm[r * kLevels + kLog2Chunk + m] * exp_diff(gchunk[r] - r_gref[m]);
        }

        // 2. Level mask fused into the diagonal tile (in-chunk level: bit_length(r ^ col));
        //    K's rows weighted for the chunk state.
        {
            Tensor tPs = thr_mma.partition_C(sP);
            // The coordinates go through opaque_zero: the 16 chunk-invariant
            // lsm addresses are recomputed per chunk, not kept live.
            const int zero = opaque_zero();
            // exp(Gd_r - Gd_col) = 2^((hi_r - hi_col) + (lo_r - lo_col)): each
            // float difference is rounded relative to itself, as good as the
            // double difference rounded to float (exp_diff). Computed for every
            // element, selected by the causal / call-token mask.
            auto masked = [&](int i) {
                const int r = get<0>(cS(i)) + zero, col = get<1>(cS(i)) + zero;
                const int lev = 32 - __clz(r ^ col);
                const float arg = (ghi[r] - ghi[col]) + (glo[r] - glo[col]);
                float decay;
                asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(decay) : "f"(arg));
                const float val = acc_s(i) * lsm[r * kLevels + lev] * decay;
                return (col <= r && col >= row_ok.lo && r < row_ok.hi) ? val : 0.f;
            };
#pragma unroll
            for (int i = 0; i < size(acc_s); i += 2) store_pair(tPs, i, masked(i), masked(i + 1));
        }
        if (need_state) scale_rows<Element>(sK, wsm);
        sync_for_mma<kWgmma>();
        // 3. ... and the chunk state (both WGMMA batches in flight together).
        Tensor acc_o = partition_fragment_C(mma_o, Shape<Int<kChunk>, Int<kVs>>{});
        Tensor acc_h = partition_fragment_C(mma_h, Shape<Int<kKMax>, Int<kVs>>{});
        if constexpr (kWgmma) {
            using W = WgmmaTraits<Traits>;
            Tensor wVt = make_tensor(make_smem_ptr(v_ptr), typename W::template LayoutVt<kChunk>{});
            wgmma_issue<true>(mma_o, acc_o, make_tensor(make_smem_ptr(p_ptr), typename W::LayoutP{}), wVt);
            // Issued on the last chunk too (unused there): a conditional batch
            // would make ptxas serialize every WGMMA of the kernel (C7518).
            wgmma_issue<true>(mma_h, acc_h, make_tensor(make_smem_ptr(k_ptr), typename W::template LayoutKt<kChunk>{}), wVt);
            wgmma_wait<0>(acc_o, acc_h);
        } else {
            clear(acc_o);
            gemm_smem<CopyAtomN<Element>, CopyAtomT<Element>>(mma_o, acc_o, sP, sVt);
            if (need_state) {
                clear(acc_h);
                gemm_smem<CopyAtomT<Element>, CopyAtomT<Element>>(mma_h, acc_h, sKt, sVt);
            }
        }

        // The chunk state merged into R[m] (m = level of the block ending at c).
        if (need_state) {
            const int m = bit_length(static_cast<uint64_t>(c ^ (c + 1)));
            const double g_cur = gchunk[kChunk - 1];
            float fac[kR + 1];
#pragma unroll
            for (int l = 1; l <= kR; ++l)
                fac[l] = (l < m && ((r_valid >> l) & 1u)) ? exp_diff(g_cur - r_gref[l]) : 0.f;
#pragma unroll
            for (int l = 1; l <= kR; ++l) {
                if (fac[l] == 0.f) continue;
                Tensor tRl = thr_h.partition_C(sR(l));
#pragma unroll
                for (int i = 0; i < size(acc_h); i += 2) {
                    float a, b;
                    load_pair(tRl, i, a, b);
                    acc_h(i) += fac[l] * a;
                    acc_h(i + 1) += fac[l] * b;
                }
            }
            Tensor tRm = thr_h.partition_C(sR(m));
#pragma unroll
            for (int i = 0; i < size(acc_h); i += 2) store_pair(tRm, i, acc_h(i), acc_h(i + 1));
            r_valid |= 1u << m;
#pragma unroll
            for (int l = 1; l <= kR; ++l)
                if (l == m) r_gref[l] = g_cur;
        }
        sync_for_mma<kWgmma>();  // K, V, P are free: incoming states load into them; R[m] is visible

        // The first two incoming states start loading.
        if (num_incoming > 0) issue_incoming(0, 0);
        if (num_incoming > 1) issue_incoming(1, 1);

        // 4. Chunk-level states of earlier chunks in the superchunk, one
        //    product at a time (WGMMA batches issued under a condition and
        //    waited for after it make ptxas serialize every WGMMA, C7515).
        using AccU = decltype(partition_fragment_C(mma_u, Shape<Int<kChunk>, Int<kVs>>{}));
        auto add_weighted = [&](AccU const& acc_u, const float* w) {
#pragma unroll
            for (int i = 0; i < size(acc_u); ++i) acc_o(i) += w[get<0>(cO(i))] * acc_u(i);
        };
#pragma unroll
        for (int m = 1; m <= kR; ++m) {
            if (((c >> (m - 1)) & 1) == 0 || ((r_valid >> m) & 1u) == 0) continue;
            AccU acc_u = partition_fragment_C(mma_u, Shape<Int<kChunk>, Int<kVs>>{});
            q_times_state(acc_u, r_ptr + (m - 1) * kKMax * kVs);
            if constexpr (kWgmma) wgmma_wait<0>(acc_u);
            add_weighted(acc_u, rw_level + (m - 1) * kChunk);
        }

        // 5. Incoming states of the superchunk, state e in buffer e & 1, e + 2 queued behind it.
        for (int e = 0; e < num_incoming; ++e) {
            const int b = e & 1;
            if (e + 1 < num_incoming) cp_async_wait<1>();
            else cp_async_wait<0>();
            sync_for_mma<kWgmma>();
            AccU acc_u = partition_fragment_C(mma_u, Shape<Int<kChunk>, Int<kVs>>{});
            q_times_state(acc_u, in_ptr(b));
            if constexpr (kWgmma) wgmma_wait<0>(acc_u);
            add_weighted(acc_u, rw_in + b * kChunk);
            if (e + 2 < num_incoming) {
                __syncthreads();  // buffer b and its weights are read by every warp
                issue_incoming(e + 2, b);
            }
        }
        __syncthreads();  // Q and the buffers are read: the next chunk's tiles may land

        // 6. Output rows of the chunk, while the next chunk's tiles load.
        if (c < c_last) issue_tiles(c + 1);
        Element* o_row0 = static_cast<Element*>(p.o.data) + s.batch * p.o.stride_b + token0 * p.o.stride_t +
                          h * p.o.stride_x + vs * kVs;
        Tensor gO = make_tensor(make_gmem_ptr(o_row0),
                                make_layout(Shape<Int<kChunk>, Int<kVs>>{}, make_stride(p.o.stride_t, _1{})));
        const int col_limit = p.V - vs * kVs;
        // Staged through shared memory for 16-byte stores (4-byte stores
        // straight from the accumulators measured 3% slower at 16 x 4096).
        {
            Tensor tOs = thr_o.partition_C(sO);
#pragma unroll
            for (int i = 0; i < size(acc_o); i += 2) store_pair(tOs, i, acc_o(i), acc_o(i + 1));
        }
        __syncthreads();
        store_tile<Element>(sO, gO, row_ok, col_limit);
        __syncthreads();
    }
}

}  // namespace lla::cuda::fwd
