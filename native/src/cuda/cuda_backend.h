// The CUDA backend (lla::Backend): memory checks and host copies for the
// core's validation, the forward (cuda/forward/), the decode step
// (cuda/decode/) and state conversion (cuda/state/). Every call runs on the
// device of its tensors and queues its work on the caller's stream.
#pragma once

#include "core/backend.h"

namespace lla::cuda {

class CudaBackend final : public Backend {
public:
    const char* name() const override { return "CUDA"; }
    bool available() const override;

    lla_status forward_workspace_size(const ForwardProblem& p, size_t* bytes) override;
    lla_status backward_workspace_size(const BackwardProblem& p, size_t* bytes) override;
    lla_status forward(const ForwardProblem& p) override;
    lla_status backward(const BackwardProblem& p) override;
    lla_status decode_step(const DecodeProblem& p) override;
    lla_status state_convert(const ConvertProblem& p) override;
    lla_status synchronize(void* stream) override;

    lla_status check_memory(const lla_tensor& t, const char* name) override;
    lla_status copy_to_host(void* host_dst, const void* src, size_t bytes, void* stream) override;
};

}  // namespace lla::cuda
