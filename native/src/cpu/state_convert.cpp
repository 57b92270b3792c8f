// Copies a state between the canonical and the decode form (either way, or
// form to same form). Levels that are empty at the state's position are
// written as zeros whatever the source holds there, and the decode form is
// written with log_decay 0, so the result is exact for either reading.
#include <vector>

#include "core/levels.h"
#include "cpu/m2_drivers.h"
#include "cpu/m2_tensor_io.h"
#include "cpu/strided_copy.h"
#include "cpu/thread_pool.h"

namespace lla::cpu {

template <class R>
lla_status convert_state(const ConvertProblem& p) {
    const lla_state& src = *p.src;
    const lla_state& dst = *p.dst;
    const int64_t N = p.dims.N, H = p.dims.H;
    // Read every position before writing any: src and dst may share memory.
    std::vector<int64_t> positions(static_cast<size_t>(N));
    for (int64_t n = 0; n < N; ++n) positions[static_cast<size_t>(n)] = load_int64(src.position, n * src.position.strides[0]);
    const int64_t src_levels = src.levels.shape[2], dst_levels = dst.levels.shape[2];
    const size_t kv = static_cast<size_t>(p.dims.K * p.dims.V);
    const double work = static_cast<double>(N * H * dst_levels) * static_cast<double>(kv);
    const int threads = work < 1e6 ? 1 : resolve_thread_count(p.config.num_threads);
    parallel_for(N * H, threads, [&](int64_t pair, int) {
        const int64_t n = pair / H, h = pair % H, position = positions[static_cast<size_t>(n)];
        std::vector<R> level(kv);
        for (int64_t l = 0; l < dst_levels; ++l) {
            const bool nonempty = l >= 1 && l < src_levels && l < 64 && level_nonempty(position, static_cast<int>(l));
            if (nonempty) read_state_level(src, n, h, l, level.data());
            write_state_level(dst, n, h, l, nonempty ? level.data() : static_cast<const R*>(nullptr));
        }
    });
    for (int64_t n = 0; n < N; ++n) store_int64(dst.position, n * dst.position.strides[0], positions[static_cast<size_t>(n)]);
    return LLA_OK;
}

template lla_status convert_state<float>(const ConvertProblem&);
template lla_status convert_state<double>(const ConvertProblem&);

}  // namespace lla::cpu
