// Decode step with a float32 state (float32, bfloat16 and float16 inputs).
#include "cuda/decode/decode_step_launch.cuh"

namespace lla::cuda {
template lla_status launch_decode_step<float>(const DecodeArgs&, const StateArg<float>&, bool,
                                              cudaStream_t);
}  // namespace lla::cuda
