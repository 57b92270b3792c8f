// One decode step of M2 for a batch of sequences (docs/math.md, "5. The
// recurrent view: one state per level"): decay, read, merge. The step's cost follows the
// number of nonempty levels of each position, not the position.
//
// Canonical form: every nonempty level is rewritten (decayed, or cleared when
// it is merged). Decode form (log_decay present): level l stands for
// exp(log_decay[l]) * levels[l]; the step adds g to the scalars of the levels
// that stay, writes the merged level with log_decay 0, and marks the levels
// it absorbed with log_decay = -inf (exp(-inf) * levels = 0) without touching
// their matrices.
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "cpu/dense_kernels.h"
#include "core/levels.h"
#include "cpu/m2_drivers.h"
#include "cpu/path_entry.h"
#include "cpu/strided_copy.h"
#include "cpu/flush_denormals.h"
#include "cpu/thread_pool.h"

namespace lla::cpu {
namespace {

// A K x V level of a state tensor in place.
template <class R>
struct LevelRef {
    R* base;
    int64_t row_stride, col_stride;
    R* row(int r) const { return base + r * row_stride; }
};

// One nonempty level as the step sees it.
template <class R>
struct StepLevel {
    LevelRef<R> ref;
    R decay;     // exp(g) (canonical) or exp(log_decay + g) (decode form): factor to its canonical value now
    R read;      // scale * l[level] * decay: weight of q^T level in the output
    bool merge;  // absorbed into the merged level
};

template <class R>
struct StepArgs {
    int K, V;
    bool canonical;
    const R* q;
    const R* k;
    const R* v;
    R self_scale;  // scale * l[0]: the token's own weight is self_scale * (q . k)
    const StepLevel<R>* levels;
    int count;
    LevelRef<R> merged;
    R* o;        // V
    R* acc;      // K x V scratch
    R* row_tmp;  // V scratch, for levels whose columns are not contiguous
};

template <KernelPath P, class R>
LLA_ALWAYS_INLINE void step_impl(const StepArgs<R>& a) {
    const int K = a.K, V = a.V;
    const R self_weight = a.self_scale * dot<P>(K, a.q, a.k);
    for (int c = 0; c < V; ++c) a.o[c] = self_weight * a.v[c];
    for (int r = 0; r < K; ++r) scaled_copy(V, a.k[r], a.v, a.acc + static_cast<size_t>(r) * V);
    for (int n = 0; n < a.count; ++n) {
        const StepLevel<R>& level = a.levels[n];
        const bool contiguous = level.ref.col_stride == 1;
        for (int r = 0; r < K; ++r) {
            R* stored = level.ref.row(r);
            R* row = stored;
            if (!contiguous) {
                for (int c = 0; c < V; ++c) a.row_tmp[c] = stored[c * level.ref.col_stride];
                row = a.row_tmp;
            }
            axpy(V, level.read * a.q[r], row, a.o);
            if (level.merge) axpy(V, level.decay, row, a.acc + static_cast<size_t>(r) * V);
            if (!a.canonical) continue;
            // Canonical form: the stored level is the state itself.
            const R factor = level.merge ? R(0) : level.decay;
            for (int c = 0; c < V; ++c) stored[c * level.ref.col_stride] = factor * row[c];
        }
    }
    for (int r = 0; r < K; ++r) {
        R* dst = a.merged.row(r);
        const R* src = a.acc + static_cast<size_t>(r) * V;
        for (int c = 0; c < V; ++c) dst[c * a.merged.col_stride] = src[c];
    }
}

// The step of each kernel path, compiled for its target (path_entry.h); the
// chosen one is picked on first use.
template <KernelPath P>
struct PathStep;
#define LLA_PATH_STEP(P)                                                                   \
    template <>                                                                            \
    struct PathStep<KernelPath::P> {                                                       \
        template <class R>                                                                 \
        LLA_PATH_ENTRY(P) static void step(const StepArgs<R>& a) { step_impl<KernelPath::P>(a); }         \
    };
LLA_FOR_EACH_PATH(LLA_PATH_STEP)
#undef LLA_PATH_STEP

template <class R>
void step(const StepArgs<R>& a) {
    using Step = void (*)(const StepArgs<R>&);
    static const Step chosen = for_chosen_path([](auto path) -> Step { return &PathStep<decltype(path)::value>::template step<R>; });
    chosen(a);
}

template <class R>
LevelRef<R> level_ref(const lla_tensor& levels, int64_t n, int64_t h, int64_t l) {
    R* base = static_cast<R*>(levels.data) + n * levels.strides[0] + h * levels.strides[1] + l * levels.strides[2];
    return LevelRef<R>{base, levels.strides[3], levels.strides[4]};
}

template <class R>
void decode_pair(const DecodeProblem& p, int64_t n, int64_t h) {
    const lla_inputs& tok = p.token;
    const lla_state& state = *p.state;
    const int K = static_cast<int>(p.dims.K), V = static_cast<int>(p.dims.V);
    const int64_t group = h / p.dims.heads_per_group();
    const int64_t position = p.positions[static_cast<size_t>(n)];
    const int top = bit_length(static_cast<uint64_t>(position));
    const int merge_into = merge_level(position);
    const bool canonical = state.log_decay.ndim == 0;

    thread_local std::vector<R> buffer;
    buffer.resize(static_cast<size_t>(2 * K + 3 * V + 64) + static_cast<size_t>(K) * V);
    R* q = buffer.data();
    R* k = q + K;
    R* v = k + K;
    R* o = v + V;
    R* row_tmp = o + V;
    R* lw = row_tmp + V;
    R* acc = lw + 64;
    gather_block(tok.q, Block2D{n * tok.q.strides[0] + group * tok.q.strides[1], 1, 0, K, tok.q.strides[2]}, q);
    gather_block(tok.k, Block2D{n * tok.k.strides[0] + group * tok.k.strides[1], 1, 0, K, tok.k.strides[2]}, k);
    gather_block(tok.v, Block2D{n * tok.v.strides[0] + h * tok.v.strides[1], 1, 0, V, tok.v.strides[2]}, v);
    gather_block(tok.l, Block2D{n * tok.l.strides[0] + h * tok.l.strides[1], 1, 0, top + 1, tok.l.strides[2]}, lw);
    const double g = load_element<double>(tok.g, n * tok.g.strides[0] + h * tok.g.strides[1]);
    const R scale = static_cast<R>(p.config.scale);

    StepLevel<R> levels[64];
    int count = 0;
    for (int l = 1; l <= top; ++l) {
        if (!level_nonempty(position, l)) continue;
        double log_factor = g;
        if (!canonical) {
            const int64_t at = n * state.log_decay.strides[0] + h * state.log_decay.strides[1] + l * state.log_decay.strides[2];
            log_factor += load_element<double>(state.log_decay, at);
            const double kept = l < merge_into ? -std::numeric_limits<double>::infinity() : log_factor;
            store_element<double>(state.log_decay, at, kept);
        }
        const R decay = static_cast<R>(std::exp(log_factor));
        levels[count++] = StepLevel<R>{level_ref<R>(state.levels, n, h, l), decay, scale * lw[l] * decay, l < merge_into};
    }
    if (!canonical)
        store_element<double>(state.log_decay,
                              n * state.log_decay.strides[0] + h * state.log_decay.strides[1] + merge_into * state.log_decay.strides[2],
                              0.0);

    StepArgs<R> args{K, V, canonical, q, k, v, scale * lw[0], levels, count,
                     level_ref<R>(state.levels, n, h, merge_into), o, acc, row_tmp};
    step(args);
    scatter_block(*p.o, Block2D{n * p.o->strides[0] + h * p.o->strides[1], 1, 0, V, p.o->strides[2]}, o);
}

}  // namespace

template <class R>
lla_status m2_decode_step(const DecodeProblem& p) {
    const int64_t N = p.dims.N, H = p.dims.H;
    // Small batches run on the calling thread: a step is microseconds.
    double work = 0;
    for (int64_t position : p.positions) work += (__builtin_popcountll(static_cast<uint64_t>(position)) + 1.0);
    work *= static_cast<double>(H * p.dims.K * p.dims.V);
    const int threads = work < 1e6 ? 1 : resolve_thread_count(p.config.num_threads);
    parallel_for(N * H, threads, without_denormals([&](int64_t pair, int) { decode_pair<R>(p, pair / H, pair % H); }));
    const lla_tensor& position = p.state->position;
    for (int64_t n = 0; n < N; ++n)
        store_int64(position, n * position.strides[0], p.positions[static_cast<size_t>(n)] + 1);
    return LLA_OK;
}

template lla_status m2_decode_step<float>(const DecodeProblem&);
template lla_status m2_decode_step<double>(const DecodeProblem&);

}  // namespace lla::cpu
