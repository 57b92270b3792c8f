// Forward instantiation: bfloat16 inputs, K <= 128.
#include "cuda/forward/launch_template.h"

namespace lla::cuda::fwd {

static_assert(same_shape(traits_shape<TraitsBf16>(), instance_shape(Instance::Bf16)),
              "instance_shape() must describe TraitsBf16");

lla_status launch_forward_bf16(const ForwardParams& p, cudaStream_t stream) {
    return launch_forward<TraitsBf16>(p, stream);
}

}  // namespace lla::cuda::fwd
