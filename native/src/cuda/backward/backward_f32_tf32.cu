// Backward instantiation: float32 inputs, TF32 products.
#include "cuda/backward/backward_instances.h"
#include "cuda/backward/launch_backward.h"

namespace lla::cuda::bwd {

static_assert(TraitsF32Tf32::kVs == (sizeof(typename TraitsF32Tf32::Op) == 2 ? kVSlice16 : kVSlice32),
              "backward_instances.h must describe TraitsF32Tf32");

lla_status launch_backward_f32_tf32(const BackwardParams& p, cudaStream_t stream) {
    return launch_backward<TraitsF32Tf32>(p, stream);
}

}  // namespace lla::cuda::bwd
