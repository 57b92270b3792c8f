// The device memory functions of the C API on a GPU: allocation, fills,
// copies in every direction (synchronous and on a stream), pointer queries,
// and the errors a caller can provoke, none of which leaves a sticky CUDA
// error behind. Memory from lla_cuda_malloc serves a forward.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "cuda_test_support.h"

namespace lla::cudatest {
namespace {

bool mentions(const std::string& needle) {
    return std::string(lla_last_error()).find(needle) != std::string::npos;
}

TEST(DeviceMemory, CountMatchesTheRuntime) {
    LLA_REQUIRE_GPU();
    int n = 0;
    ASSERT_EQ(cudaGetDeviceCount(&n), cudaSuccess);
    EXPECT_EQ(lla_cuda_device_count(), n);
}

TEST(DeviceMemory, FillsAndCopiesInEveryDirection) {
    LLA_REQUIRE_GPU();
    const size_t n = 1 << 18, bytes = n * sizeof(float);
    void* a = nullptr;
    void* b = nullptr;
    ASSERT_EQ(lla_cuda_malloc(0, bytes, &a), LLA_OK);
    ASSERT_EQ(lla_cuda_malloc(0, bytes, &b), LLA_OK);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 256, 0u);

    std::vector<float> out(n, 1.0f);
    ASSERT_EQ(lla_cuda_memset(a, 0, bytes, nullptr), LLA_OK);
    ASSERT_EQ(lla_memcpy(out.data(), a, bytes, nullptr), LLA_OK);
    EXPECT_EQ(out, std::vector<float>(n, 0.0f));

    std::vector<float> in(n);
    std::iota(in.begin(), in.end(), 1.0f);
    ASSERT_EQ(lla_memcpy(a, in.data(), bytes, nullptr), LLA_OK);        // host to device
    ASSERT_EQ(lla_memcpy(b, a, bytes, nullptr), LLA_OK);                // device to device
    ASSERT_EQ(lla_memcpy(out.data(), b, bytes, nullptr), LLA_OK);       // device to host
    EXPECT_EQ(out, in);

    cudaStream_t stream = nullptr;
    ASSERT_EQ(cudaStreamCreate(&stream), cudaSuccess);
    std::vector<float> doubled(n);
    for (size_t i = 0; i < n; ++i) doubled[i] = 2.0f * in[i];
    std::vector<float> back(n, 0.0f);
    ASSERT_EQ(lla_memcpy_async(a, doubled.data(), bytes, stream), LLA_OK);
    ASSERT_EQ(lla_memcpy_async(b, a, bytes, stream), LLA_OK);
    ASSERT_EQ(lla_memcpy_async(back.data(), b, bytes, stream), LLA_OK);
    ASSERT_EQ(lla_synchronize(LLA_BACKEND_CUDA, stream), LLA_OK);
    EXPECT_EQ(back, doubled);
    cudaStreamDestroy(stream);

    EXPECT_EQ(lla_cuda_free(a), LLA_OK);
    EXPECT_EQ(lla_cuda_free(b), LLA_OK);
}

TEST(DeviceMemory, PointerDevice) {
    LLA_REQUIRE_GPU();
    void* d = nullptr;
    ASSERT_EQ(lla_cuda_malloc(0, 4096, &d), LLA_OK);
    int32_t type = -1, index = -1;
    ASSERT_EQ(lla_pointer_device(static_cast<char*>(d) + 100, &type, &index), LLA_OK);
    EXPECT_EQ(type, LLA_DEVICE_CUDA);
    EXPECT_EQ(index, 0);
    std::vector<char> host(16);
    ASSERT_EQ(lla_pointer_device(host.data(), &type, &index), LLA_OK);
    EXPECT_EQ(type, LLA_DEVICE_CPU);
    void* pinned = nullptr;
    ASSERT_EQ(cudaMallocHost(&pinned, 64), cudaSuccess);
    ASSERT_EQ(lla_pointer_device(pinned, &type, &index), LLA_OK);
    EXPECT_EQ(type, LLA_DEVICE_CPU);
    cudaFreeHost(pinned);
    EXPECT_EQ(lla_cuda_free(d), LLA_OK);
}

TEST(DeviceMemory, ErrorsNameTheArgumentAndLeaveNoStickyError) {
    LLA_REQUIRE_GPU();
    void* p = nullptr;
    EXPECT_EQ(lla_cuda_malloc(lla_cuda_device_count(), 64, &p), LLA_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(mentions("device_index")) << lla_last_error();
    EXPECT_EQ(lla_cuda_malloc(-1, 64, &p), LLA_ERROR_INVALID_ARGUMENT);

    EXPECT_EQ(lla_cuda_malloc(0, size_t{1} << 50, &p), LLA_ERROR_OUT_OF_MEMORY);  // a petabyte
    EXPECT_EQ(p, nullptr);
    EXPECT_TRUE(mentions("cudaMalloc of")) << lla_last_error();

    std::vector<float> host(16, 3.0f);
    EXPECT_EQ(lla_cuda_free(host.data()), LLA_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(mentions("not CUDA device memory")) << lla_last_error();
    EXPECT_EQ(lla_cuda_memset(host.data(), 0, 64, nullptr), LLA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(host[0], 3.0f);

    void* d = nullptr;
    ASSERT_EQ(lla_cuda_malloc(0, 64, &d), LLA_OK);
    EXPECT_EQ(lla_cuda_memset(d, 256, 64, nullptr), LLA_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(mentions("byte")) << lla_last_error();
    ASSERT_EQ(lla_cuda_malloc(0, 0, &p), LLA_OK);
    EXPECT_EQ(p, nullptr);

    // Nothing above poisoned the runtime: real work still runs.
    EXPECT_EQ(cudaGetLastError(), cudaSuccess);
    ASSERT_EQ(lla_cuda_memset(d, 0xAB, 64, nullptr), LLA_OK);
    unsigned char back[64] = {};
    ASSERT_EQ(lla_memcpy(back, d, 64, nullptr), LLA_OK);
    EXPECT_EQ(back[63], 0xAB);
    EXPECT_EQ(lla_cuda_free(d), LLA_OK);
}

// Inputs and output in memory from lla_cuda_malloc: the forward accepts it
// and matches the same forward on device memory from cudaMalloc.
TEST(DeviceMemory, ServesAForward) {
    LLA_REQUIRE_GPU();
    const M2Problem p = random_problem(1, 64, 2, 1, 16, 8, 3);
    DeviceInputs reference_inputs(p, LLA_DTYPE_FLOAT32);
    DeviceArray reference_o(LLA_DTYPE_FLOAT32, {1, 64, 2, 8});
    lla_inputs in = reference_inputs.inputs();
    lla_config cfg = lla_config_default();
    lla_tensor ro = reference_o.tensor();
    ASSERT_EQ(lla_forward(&cfg, &in, nullptr, &ro, nullptr, nullptr, 0, nullptr), LLA_OK) << lla_last_error();

    // The same inputs copied into memory of the library's allocator.
    std::vector<void*> owned;
    for (lla_tensor* t : {&in.q, &in.k, &in.v, &in.g, &in.l}) {
        ASSERT_EQ(t->dtype, LLA_DTYPE_FLOAT32);
        const size_t bytes = static_cast<size_t>(t->shape[0] * t->strides[0]) * sizeof(float);
        void* mine = nullptr;
        ASSERT_EQ(lla_cuda_malloc(0, bytes, &mine), LLA_OK);
        ASSERT_EQ(lla_memcpy(mine, t->data, bytes, nullptr), LLA_OK);
        t->data = mine;
        owned.push_back(mine);
    }
    void* o = nullptr;
    ASSERT_EQ(lla_cuda_malloc(0, 64 * 2 * 8 * sizeof(float), &o), LLA_OK);
    lla_tensor ot = ro;
    ot.data = o;
    ASSERT_EQ(lla_forward(&cfg, &in, nullptr, &ot, nullptr, nullptr, 0, nullptr), LLA_OK) << lla_last_error();
    std::vector<float> got(64 * 2 * 8), want(64 * 2 * 8);
    ASSERT_EQ(lla_memcpy(got.data(), o, got.size() * sizeof(float), nullptr), LLA_OK);
    ASSERT_EQ(lla_memcpy(want.data(), reference_o.tensor().data, want.size() * sizeof(float), nullptr), LLA_OK);
    EXPECT_EQ(got, want);
    for (void* m : owned) EXPECT_EQ(lla_cuda_free(m), LLA_OK);
    EXPECT_EQ(lla_cuda_free(o), LLA_OK);
}

}  // namespace
}  // namespace lla::cudatest
