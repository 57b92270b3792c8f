// Backward instantiation: float32 inputs, 3xTF32 products (exact-fp32 mode).
#include "cuda/backward/backward_instances.h"
#include "cuda/backward/launch_backward.h"

namespace lla::cuda::bwd {

static_assert(TraitsF32Exact::kVs == (sizeof(typename TraitsF32Exact::Op) == 2 ? kVSlice16 : kVSlice32),
              "backward_instances.h must describe TraitsF32Exact");

lla_status launch_backward_f32_exact(const BackwardParams& p, cudaStream_t stream) {
    return launch_backward<TraitsF32Exact>(p, stream);
}

}  // namespace lla::cuda::bwd
