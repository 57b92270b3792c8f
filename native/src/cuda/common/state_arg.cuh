// A recurrent state (lla_state) as a kernel argument: levels [N,H,Ls,K,V],
// optional log_decay [N,H,Ls] (the decode form: the state is
// exp(log_decay[l]) * levels[l]), position [N]. Strides in elements.
//
// Level l >= 1 of a state ready for target position n is nonempty iff bit
// l-1 of n is set (docs/math.md, "2. Levels"); kernels read only nonempty levels and
// treat the others as zero, whatever their memory holds.
#pragma once

#include <cstdint>

#include "core/levels.h"
#include "loglinear/loglinear.h"

namespace lla::cuda {

template <class S>
struct StateArg {
    S* levels;
    int64_t level_stride[5];  // n, h, l, k, v
    S* log_decay;             // nullptr: canonical form
    int64_t decay_stride[3];  // n, h, l
    int64_t* position;
    int64_t position_stride;
    int32_t num_levels;       // Ls

    __host__ __device__ __forceinline__ int64_t level_offset(int64_t n, int64_t h, int64_t l) const {
        return n * level_stride[0] + h * level_stride[1] + l * level_stride[2];
    }
    __host__ __device__ __forceinline__ int64_t decay_offset(int64_t n, int64_t h, int64_t l) const {
        return n * decay_stride[0] + h * decay_stride[1] + l * decay_stride[2];
    }
};

// From a validated lla_state whose levels have element type S.
template <class S>
StateArg<S> state_arg(const lla_state& s) {
    StateArg<S> a{};
    a.levels = static_cast<S*>(s.levels.data);
    for (int i = 0; i < 5; ++i) a.level_stride[i] = s.levels.strides[i];
    a.num_levels = static_cast<int32_t>(s.levels.shape[2]);
    if (s.log_decay.ndim != 0) {
        a.log_decay = static_cast<S*>(s.log_decay.data);
        for (int i = 0; i < 3; ++i) a.decay_stride[i] = s.log_decay.strides[i];
    }
    a.position = static_cast<int64_t*>(s.position.data);
    a.position_stride = s.position.strides[0];
    return a;
}

}  // namespace lla::cuda
