// Backward instantiation: bfloat16 inputs.
#include "cuda/backward/backward_instances.h"
#include "cuda/backward/launch_backward.h"

namespace lla::cuda::bwd {

static_assert(TraitsBf16::kVs == (sizeof(typename TraitsBf16::Op) == 2 ? kVSlice16 : kVSlice32),
              "backward_instances.h must describe TraitsBf16");

lla_status launch_backward_bf16(const BackwardParams& p, cudaStream_t stream) {
    return launch_backward<TraitsBf16>(p, stream);
}

}  // namespace lla::cuda::bwd
