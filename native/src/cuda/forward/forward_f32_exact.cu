// Forward instantiation: float32 inputs, 3xTF32 (float32 accuracy), K <= 128.
#include "cuda/forward/launch_template.h"

namespace lla::cuda::fwd {

static_assert(same_shape(traits_shape<TraitsF32Exact>(), instance_shape(Instance::F32Exact)),
              "instance_shape() must describe TraitsF32Exact");

lla_status launch_forward_f32_exact(const ForwardParams& p, cudaStream_t stream) {
    return launch_forward<TraitsF32Exact>(p, stream);
}

}  // namespace lla::cuda::fwd
