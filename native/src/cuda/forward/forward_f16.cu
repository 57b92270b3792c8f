// Forward instantiation: float16 inputs (state products in bfloat16), K <= 128.
#include "cuda/forward/launch_template.h"

namespace lla::cuda::fwd {

static_assert(same_shape(traits_shape<TraitsF16>(), instance_shape(Instance::F16)),
              "instance_shape() must describe TraitsF16");

lla_status launch_forward_f16(const ForwardParams& p, cudaStream_t stream) {
    return launch_forward<TraitsF16>(p, stream);
}

}  // namespace lla::cuda::fwd
