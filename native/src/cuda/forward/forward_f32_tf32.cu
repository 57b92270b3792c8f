// Forward instantiation: float32 inputs on TF32 tensor cores, K <= 128.
#include "cuda/forward/launch_template.h"

namespace lla::cuda::fwd {

static_assert(same_shape(traits_shape<TraitsF32Tf32>(), instance_shape(Instance::F32Tf32)),
              "instance_shape() must describe TraitsF32Tf32");

lla_status launch_forward_f32_tf32(const ForwardParams& p, cudaStream_t stream) {
    return launch_forward<TraitsF32Tf32>(p, stream);
}

}  // namespace lla::cuda::fwd
