#include "m2_reference.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <thread>

namespace lla_reference {
namespace {

struct Span {
    int64_t batch, begin, length;
};

std::vector<Span> spans(const M2Problem& p) {
    std::vector<Span> out;
    if (p.cu_seqlens.empty()) {
        for (int64_t b = 0; b < p.B; ++b) out.push_back({b, 0, p.T});
    } else {
        for (size_t i = 1; i < p.cu_seqlens.size(); ++i)
            out.push_back({0, p.cu_seqlens[i - 1], p.cu_seqlens[i] - p.cu_seqlens[i - 1]});
    }
    return out;
}

// Row pointers of one (sequence, head): token i of the sequence.
struct PairRows {
    const M2Problem& p;
    Span s;
    int64_t h;
    int64_t row(int64_t i) const { return s.batch * p.T + s.begin + i; }
    const double* q(int64_t i) const { return &p.q[static_cast<size_t>((row(i) * p.G + h / (p.H / p.G)) * p.K)]; }
    const double* k(int64_t i) const { return &p.k[static_cast<size_t>((row(i) * p.G + h / (p.H / p.G)) * p.K)]; }
    size_t v_at(int64_t i) const { return static_cast<size_t>((row(i) * p.H + h) * p.V); }
    size_t g_at(int64_t i) const { return static_cast<size_t>(row(i) * p.H + h); }
    size_t l_at(int64_t i) const { return static_cast<size_t>((row(i) * p.H + h) * p.L); }
    // [K][length]: key component i of every token, contiguous over tokens.
    std::vector<double> keys_transposed() const {
        std::vector<double> out(static_cast<size_t>(p.K * s.length));
        for (int64_t i = 0; i < s.length; ++i)
            for (int64_t c = 0; c < p.K; ++c) out[static_cast<size_t>(c * s.length + i)] = k(i)[c];
        return out;
    }
    // [V][length]
    std::vector<double> values_transposed() const {
        std::vector<double> out(static_cast<size_t>(p.V * s.length));
        for (int64_t i = 0; i < s.length; ++i)
            for (int64_t c = 0; c < p.V; ++c) out[static_cast<size_t>(c * s.length + i)] = p.v[v_at(i) + static_cast<size_t>(c)];
        return out;
    }
    // cum[i] = g_0 + ... + g_i
    std::vector<double> cumulative_decay() const {
        std::vector<double> cum(static_cast<size_t>(s.length));
        double sum = 0;
        for (int64_t i = 0; i < s.length; ++i) cum[static_cast<size_t>(i)] = sum += p.g[g_at(i)];
        return cum;
    }
};

// y += a * x: the one vectorizable building block of the loops below.
void axpy(int64_t n, double a, const double* __restrict x, double* __restrict y) {
    for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// Runs fn(item) for item in [0, count) on `threads` std::threads.
void run_items(int64_t count, int threads, const std::function<void(int64_t)>& fn) {
    threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, count)));
    std::vector<std::thread> pool;
    for (int w = 0; w < threads; ++w)
        pool.emplace_back([&, w] {
            for (int64_t item = w; item < count; item += threads) fn(item);
        });
    for (std::thread& t : pool) t.join();
}

}  // namespace

int level(int64_t t, int64_t s) {
    uint64_t x = static_cast<uint64_t>(t ^ s);
    return x == 0 ? 0 : 64 - __builtin_clzll(x);
}

int64_t sequence_count(const M2Problem& p) { return static_cast<int64_t>(spans(p).size()); }

std::vector<double> forward(const M2Problem& p, int threads) {
    std::vector<double> o(static_cast<size_t>(p.B * p.T * p.H * p.V), 0.0);
    const std::vector<Span> seqs = spans(p);
    run_items(static_cast<int64_t>(seqs.size()) * p.H, threads, [&](int64_t item) {
        PairRows r{p, seqs[static_cast<size_t>(item / p.H)], item % p.H};
        const int64_t n = r.s.length;
        const std::vector<double> cum = r.cumulative_decay();
        const std::vector<double> kT = r.keys_transposed();
        std::vector<double> score(static_cast<size_t>(n));
        for (int64_t t = 0; t < n; ++t) {
            // score[s] = q_t . k_s for s <= t, then the weight of v_s in o_t.
            std::fill(score.begin(), score.begin() + t + 1, 0.0);
            for (int64_t i = 0; i < p.K; ++i) axpy(t + 1, r.q(t)[i], &kT[static_cast<size_t>(i * n)], score.data());
            const double* lt = &p.l[r.l_at(t)];
            double* out = &o[r.v_at(t)];
            for (int64_t s = 0; s <= t; ++s) {
                const double w = lt[level(t, s)] * std::exp(cum[static_cast<size_t>(t)] - cum[static_cast<size_t>(s)]) *
                                 p.scale * score[static_cast<size_t>(s)];
                axpy(p.V, w, &p.v[r.v_at(s)], out);
            }
        }
    });
    return o;
}

M2Gradients backward(const M2Problem& p, const std::vector<double>& d_o, int threads) {
    M2Gradients grads;
    grads.dq.assign(p.q.size(), 0.0);
    grads.dk.assign(p.k.size(), 0.0);
    grads.dv.assign(p.v.size(), 0.0);
    grads.dg.assign(p.g.size(), 0.0);
    grads.dl.assign(p.l.size(), 0.0);
    const std::vector<Span> seqs = spans(p);
    const int64_t pairs = static_cast<int64_t>(seqs.size()) * p.H;
    // dq, dk per pair first (heads of a group write the same rows), summed below.
    std::vector<std::vector<double>> dq_pair(static_cast<size_t>(pairs)), dk_pair(static_cast<size_t>(pairs));
    run_items(pairs, threads, [&](int64_t item) {
        PairRows r{p, seqs[static_cast<size_t>(item / p.H)], item % p.H};
        const int64_t n = r.s.length, K = p.K, V = p.V;
        const std::vector<double> cum = r.cumulative_decay();
        const std::vector<double> kT = r.keys_transposed(), vT = r.values_transposed();
        std::vector<double>& dq = dq_pair[static_cast<size_t>(item)];
        std::vector<double>& dk = dk_pair[static_cast<size_t>(item)];
        dq.assign(static_cast<size_t>(n * K), 0.0);
        dk.assign(static_cast<size_t>(n * K), 0.0);
        std::vector<double> dG(static_cast<size_t>(n), 0.0), qk(static_cast<size_t>(n)), dov(static_cast<size_t>(n));
        for (int64_t t = 0; t < n; ++t) {
            const double* do_t = &d_o[r.v_at(t)];
            const double* lt = &p.l[r.l_at(t)];
            double* dlt = &grads.dl[r.l_at(t)];
            // qk[s] = q_t . k_s and dov[s] = do_t . v_s for s <= t.
            std::fill(qk.begin(), qk.begin() + t + 1, 0.0);
            std::fill(dov.begin(), dov.begin() + t + 1, 0.0);
            for (int64_t i = 0; i < K; ++i) axpy(t + 1, r.q(t)[i], &kT[static_cast<size_t>(i * n)], qk.data());
            for (int64_t i = 0; i < V; ++i) axpy(t + 1, do_t[i], &vT[static_cast<size_t>(i * n)], dov.data());
            for (int64_t s = 0; s <= t; ++s) {
                const int lev = level(t, s);
                const double c = std::exp(cum[static_cast<size_t>(t)] - cum[static_cast<size_t>(s)]) * p.scale;
                const double e = c * qk[static_cast<size_t>(s)] * dov[static_cast<size_t>(s)];
                dlt[lev] += e;
                dG[static_cast<size_t>(t)] += lt[lev] * e;  // the pair's term of sum(d_o * o), at G_t and -G_s
                dG[static_cast<size_t>(s)] -= lt[lev] * e;
                const double wq = lt[lev] * c * dov[static_cast<size_t>(s)];
                axpy(K, wq, r.k(s), &dq[static_cast<size_t>(t * K)]);
                axpy(K, wq, r.q(t), &dk[static_cast<size_t>(s * K)]);
                axpy(V, lt[lev] * c * qk[static_cast<size_t>(s)], do_t, &grads.dv[r.v_at(s)]);
            }
        }
        double running = 0;  // dg_r = sum_{t >= r} dL/dG_t
        for (int64_t t = n - 1; t >= 0; --t) grads.dg[r.g_at(t)] = running += dG[static_cast<size_t>(t)];
    });
    for (int64_t item = 0; item < pairs; ++item) {
        PairRows r{p, seqs[static_cast<size_t>(item / p.H)], item % p.H};
        for (int64_t t = 0; t < r.s.length; ++t) {
            const size_t at = static_cast<size_t>((r.row(t) * p.G + r.h / (p.H / p.G)) * p.K);
            for (int64_t i = 0; i < p.K; ++i) {
                grads.dq[at + static_cast<size_t>(i)] += dq_pair[static_cast<size_t>(item)][static_cast<size_t>(t * p.K + i)];
                grads.dk[at + static_cast<size_t>(i)] += dk_pair[static_cast<size_t>(item)][static_cast<size_t>(t * p.K + i)];
            }
        }
    }
    return grads;
}

std::vector<double> state(const M2Problem& p, int64_t prefix, int64_t Ls) {
    return state(p, std::vector<int64_t>(static_cast<size_t>(sequence_count(p)), prefix), Ls);
}

std::vector<double> state(const M2Problem& p, const std::vector<int64_t>& prefixes, int64_t Ls) {
    const std::vector<Span> seqs = spans(p);
    const int64_t N = static_cast<int64_t>(seqs.size());
    if (static_cast<int64_t>(prefixes.size()) != N)
        throw std::invalid_argument("lla_reference::state: one prefix per sequence expected");
    std::vector<double> out(static_cast<size_t>(N * p.H * Ls * p.K * p.V), 0.0);
    for (int64_t n = 0; n < N; ++n) {
        const int64_t prefix = prefixes[static_cast<size_t>(n)];
        if (seqs[static_cast<size_t>(n)].length < prefix)
            throw std::invalid_argument("lla_reference::state: a sequence is shorter than the prefix");
        for (int64_t h = 0; h < p.H; ++h) {
            PairRows r{p, seqs[static_cast<size_t>(n)], h};
            const std::vector<double> cum = r.cumulative_decay();
            for (int64_t s = 0; s < prefix; ++s) {
                const int lev = level(prefix, s);
                if (lev >= Ls) throw std::invalid_argument("lla_reference::state: Ls too small for the prefix");
                const double w = std::exp(cum[static_cast<size_t>(prefix - 1)] - cum[static_cast<size_t>(s)]);
                double* S = &out[static_cast<size_t>(((n * p.H + h) * Ls + lev) * p.K * p.V)];
                for (int64_t i = 0; i < p.K; ++i)
                    for (int64_t c = 0; c < p.V; ++c) S[i * p.V + c] += w * r.k(s)[i] * p.v[r.v_at(s) + static_cast<size_t>(c)];
            }
        }
    }
    return out;
}

}  // namespace lla_reference
