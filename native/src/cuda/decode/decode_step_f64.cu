// Decode step with a float64 state (float64 inputs).
#include "cuda/decode/decode_step_launch.cuh"

namespace lla::cuda {
template lla_status launch_decode_step<double>(const DecodeArgs&, const StateArg<double>&, bool,
                                               cudaStream_t);
}  // namespace lla::cuda
