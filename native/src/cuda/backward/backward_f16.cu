// Backward instantiation: float16 inputs (float operands, TF32 products).
#include "cuda/backward/backward_instances.h"
#include "cuda/backward/launch_backward.h"

namespace lla::cuda::bwd {

static_assert(TraitsF16::kVs == (sizeof(typename TraitsF16::Op) == 2 ? kVSlice16 : kVSlice32),
              "backward_instances.h must describe TraitsF16");

lla_status launch_backward_f16(const BackwardParams& p, cudaStream_t stream) {
    return launch_backward<TraitsF16>(p, stream);
}

}  // namespace lla::cuda::bwd
