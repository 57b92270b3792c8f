// Bad inputs that only the CUDA backend can detect: host memory (pageable or
// pinned) passed as device memory, the wrong device ordinal, a tensor larger
// than its allocation; requests the backend does not serve. Every rejected
// call names the argument and leaves the outputs untouched, and a valid call
// afterwards still works (no sticky CUDA error).
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "cuda_test_support.h"

namespace lla::cudatest {
namespace {

// The last error message of this thread contains `needle`.
::testing::AssertionResult LastErrorMentions(const std::string& needle) {
    const std::string msg = lla_last_error();
    if (msg.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "lla_last_error() = \"" << msg << "\" does not mention \"" << needle
                                         << "\"";
}

// A small valid forward on CUDA whose tensors a test then breaks one at a time.
class BadInputCuda : public ::testing::Test {
protected:
    void SetUp() override {
        if (!gpu_available()) GTEST_SKIP() << "no CUDA device here";
        p_ = random_problem(1, 40, 2, 1, 16, 8, 3);
        device_ = std::make_unique<DeviceInputs>(p_, LLA_DTYPE_FLOAT32);
        o_ = std::make_unique<DeviceArray>(LLA_DTYPE_FLOAT32, std::vector<int64_t>{1, 40, 2, 8});
        in_ = device_->inputs();
        cfg_ = lla_config_default();
        out_ = o_->tensor();
    }

    lla_status forward() { return lla_forward(&cfg_, &in_, nullptr, &out_, nullptr, nullptr, 0, nullptr); }

    // The output still holds the 0xFF poison of DeviceArray's constructor.
    void expect_output_untouched() {
        for (double x : o_->download()) ASSERT_TRUE(std::isnan(x)) << "a rejected call wrote o";
    }

    void expect_valid_call_still_works() {
        const lla_tensor out = o_->tensor();
        expect_ok(lla_forward(&cfg_, &device_->inputs(), nullptr, &out, nullptr, nullptr, 0, nullptr),
                  "valid lla_forward");
        EXPECT_TRUE(all_finite(o_->download()));
    }

    M2Problem p_;
    std::unique_ptr<DeviceInputs> device_;
    std::unique_ptr<DeviceArray> o_;
    lla_inputs in_{};
    lla_config cfg_{};
    lla_tensor out_{};
};

TEST_F(BadInputCuda, PageableHostMemoryAsDeviceMemory) {
    std::vector<float> host(40 * 16, 1.0f);
    in_.q.data = host.data();
    EXPECT_EQ(forward(), LLA_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(LastErrorMentions("q.data"));
    EXPECT_TRUE(LastErrorMentions("host memory"));
    expect_output_untouched();
    expect_valid_call_still_works();
}

TEST_F(BadInputCuda, PinnedHostMemoryAsDeviceMemory) {
    void* pinned = nullptr;
    ASSERT_EQ(cudaMallocHost(&pinned, 40 * 2 * 8 * sizeof(float)), cudaSuccess);
    in_.v.data = pinned;
    EXPECT_EQ(forward(), LLA_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(LastErrorMentions("v.data"));
    EXPECT_TRUE(LastErrorMentions("pinned host memory"));
    cudaFreeHost(pinned);
    expect_output_untouched();
    expect_valid_call_still_works();
}

TEST_F(BadInputCuda, HostMemoryAsOutput) {
    std::vector<float> host(40 * 2 * 8, 0.0f);
    out_.data = host.data();
    EXPECT_EQ(forward(), LLA_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(LastErrorMentions("o.data"));
    for (float x : host) ASSERT_EQ(x, 0.0f);
}

TEST_F(BadInputCuda, WrongDeviceOrdinal) {
    int devices = 0;
    cudaGetDeviceCount(&devices);
    // Memory of device 0 labelled as another device (that may or may not exist).
    for (lla_tensor* t : {&in_.q, &in_.k, &in_.v, &in_.g, &in_.l, &out_}) t->device_index = 1;
    EXPECT_EQ(forward(), LLA_ERROR_INVALID_ARGUMENT) << lla_last_error();
    EXPECT_TRUE(LastErrorMentions("q"));
    if (devices > 1) {
        EXPECT_TRUE(LastErrorMentions("cuda:0"));
    }
    expect_output_untouched();
}

TEST_F(BadInputCuda, TensorLargerThanItsAllocation) {
    // The tensors claim 100000 tokens (megabytes, past any allocation
    // granularity) over memory that holds 40.
    for (lla_tensor* t : {&in_.q, &in_.k, &in_.v, &in_.g, &in_.l, &out_}) t->shape[1] = 100000;
    EXPECT_EQ(forward(), LLA_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(LastErrorMentions("allocation"));
    expect_output_untouched();
    expect_valid_call_still_works();
}

TEST_F(BadInputCuda, DecodeStepWithHostState) {
    const int64_t H = 2, K = 16, V = 8, Ls = 4;
    std::vector<float> host_levels(H * Ls * K * V, 0.5f);
    DeviceArray position(LLA_DTYPE_INT64, {1});
    position.upload({3});
    DeviceArray o(LLA_DTYPE_FLOAT32, {1, H, V});
    const DeviceInputs device(random_tokens(1, H, 1, K, V, 3, 1), LLA_DTYPE_FLOAT32, true);
    lla_state st{};
    // A CUDA descriptor over host memory.
    const int64_t shape[5] = {1, H, Ls, K, V};
    ASSERT_EQ(lla_tensor_make_contiguous(&st.levels, host_levels.data(), LLA_DTYPE_FLOAT32, LLA_DEVICE_CUDA, 0, 5, shape),
              LLA_OK);
    st.position = position.tensor();
    const lla_tensor out = o.tensor();
    EXPECT_EQ(lla_decode_step(&cfg_, &device.inputs(), &st, &out, nullptr), LLA_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(LastErrorMentions("state.levels"));
    for (float x : host_levels) ASSERT_EQ(x, 0.5f);
    EXPECT_EQ(position.download(), std::vector<double>{3.0}) << "position advanced by a rejected step";
    for (double x : o.download()) ASSERT_TRUE(std::isnan(x)) << "a rejected step wrote o";
}

// Poisoned device gradients of dtype for the fixture's problem.
struct Gradients {
    DeviceArray dq, dk, dv, dg, dl;
    Gradients(int32_t dtype, const M2Problem& p)
        : dq(dtype, {p.B, p.T, p.G, p.K}), dk(dtype, {p.B, p.T, p.G, p.K}), dv(dtype, {p.B, p.T, p.H, p.V}),
          dg(dtype, {p.B, p.T, p.H}), dl(dtype, {p.B, p.T, p.H, p.L}) {}
    lla_gradients tensors() const {
        lla_gradients g{};
        g.dq = dq.tensor();
        g.dk = dk.tensor();
        g.dv = dv.tensor();
        g.dg = dg.tensor();
        g.dl = dl.tensor();
        return g;
    }
};

// A backward whose gradient dq lies in host memory is rejected before any
// kernel runs: no gradient is written; the same call with device memory works.
TEST_F(BadInputCuda, BackwardWithHostMemoryGradient) {
    DeviceArray d_o(LLA_DTYPE_FLOAT32, {1, 40, 2, 8});
    d_o.upload(p_.v);
    const Gradients g(LLA_DTYPE_FLOAT32, p_);
    lla_gradients grads = g.tensors();
    std::vector<float> host(40 * 16, 0.0f);
    grads.dq.data = host.data();
    const lla_tensor dout = d_o.tensor();
    EXPECT_EQ(lla_backward(&cfg_, &in_, nullptr, &dout, nullptr, &grads, nullptr, 0, nullptr),
              LLA_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(LastErrorMentions("dq"));
    for (float x : host) ASSERT_EQ(x, 0.0f);
    for (double x : g.dk.download()) ASSERT_TRUE(std::isnan(x)) << "a rejected backward wrote dk";
    grads.dq = g.dq.tensor();
    expect_ok(lla_backward(&cfg_, &in_, nullptr, &dout, nullptr, &grads, nullptr, 0, nullptr), "valid lla_backward");
    expect_ok(lla_synchronize(LLA_BACKEND_CUDA, nullptr), "lla_synchronize");
    EXPECT_TRUE(all_finite(g.dq.download()));
    EXPECT_TRUE(all_finite(g.dl.download()));
}

// float64 tensors on the GPU: the CUDA backward computes in float32 at most.
TEST_F(BadInputCuda, BackwardInFloat64IsUnsupported) {
    const DeviceInputs f64(p_, LLA_DTYPE_FLOAT64);
    DeviceArray d_o(LLA_DTYPE_FLOAT64, {1, 40, 2, 8});
    d_o.upload(p_.v);
    const Gradients g(LLA_DTYPE_FLOAT64, p_);
    const lla_gradients grads = g.tensors();
    const lla_tensor dout = d_o.tensor();
    EXPECT_EQ(lla_backward(&cfg_, &f64.inputs(), nullptr, &dout, nullptr, &grads, nullptr, 0, nullptr),
              LLA_ERROR_UNSUPPORTED);
    EXPECT_TRUE(LastErrorMentions("float64"));
    for (double x : g.dq.download()) ASSERT_TRUE(std::isnan(x));
}

TEST_F(BadInputCuda, CallerWorkspaceTooSmall) {
    size_t need = 0;
    expect_ok(lla_forward_workspace_size(&cfg_, &in_, nullptr, &need), "lla_forward_workspace_size");
    ASSERT_GT(need, 0u);
    // The query answers for any output layout; a few bytes are too few for any.
    DeviceArray ws(LLA_DTYPE_FLOAT32, {16});
    EXPECT_EQ(lla_forward(&cfg_, &in_, nullptr, &out_, nullptr, ws.data(), 64, nullptr), LLA_ERROR_OUT_OF_MEMORY);
    EXPECT_TRUE(LastErrorMentions("workspace"));
    expect_output_untouched();
    // The exact size works, from an unaligned start too.
    DeviceArray big(LLA_DTYPE_FLOAT32, {int64_t(need / 4 + 64)});
    void* unaligned = static_cast<char*>(big.data()) + 4;
    expect_ok(lla_forward(&cfg_, &in_, nullptr, &out_, nullptr, unaligned, need, nullptr), "lla_forward (workspace)");
    expect_ok(lla_synchronize(LLA_BACKEND_CUDA, nullptr), "lla_synchronize");
    EXPECT_TRUE(all_finite(o_->download()));
}

}  // namespace
}  // namespace lla::cudatest
