// The device memory functions of the C API where no CUDA device can be used
// (a build without the CUDA backend, or a machine without a GPU): each
// refuses with LLA_ERROR_UNSUPPORTED and says why, copies between host
// pointers still work, and every pointer is host memory. Skipped where a GPU
// is usable (tests/native/cuda/device_memory_test.cpp covers that).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "loglinear/loglinear.h"

namespace {

class MemoryWithoutGpu : public ::testing::Test {
protected:
    void SetUp() override {
        if (lla_cuda_device_count() > 0) GTEST_SKIP() << "a CUDA device is usable here";
    }
};

// "no CUDA backend" in a CPU-only build, "no usable device" in a CUDA build.
bool says_why(const std::string& message) {
    return message.find("no CUDA backend") != std::string::npos ||
           message.find("no usable device") != std::string::npos;
}

TEST_F(MemoryWithoutGpu, AllocationIsUnsupportedAndSaysWhy) {
    void* p = reinterpret_cast<void*>(uintptr_t{0x10});
    EXPECT_EQ(lla_cuda_malloc(0, 1024, &p), LLA_ERROR_UNSUPPORTED);
    EXPECT_EQ(p, nullptr);
    EXPECT_TRUE(says_why(lla_last_error())) << lla_last_error();
    EXPECT_NE(std::string(lla_last_error()).find("lla_cuda_malloc"), std::string::npos);
}

TEST_F(MemoryWithoutGpu, FillAndFreeAreUnsupported) {
    std::vector<float> host(16, 1.0f);
    EXPECT_EQ(lla_cuda_memset(host.data(), 0, 64, nullptr), LLA_ERROR_UNSUPPORTED);
    EXPECT_TRUE(says_why(lla_last_error()));
    EXPECT_EQ(host[0], 1.0f);
    EXPECT_EQ(lla_cuda_free(host.data()), LLA_ERROR_UNSUPPORTED);
    EXPECT_EQ(lla_cuda_free(nullptr), LLA_OK);
}

TEST_F(MemoryWithoutGpu, CopiesBetweenHostPointers) {
    std::vector<int64_t> src{1, 2, 3, 4}, dst(4, 0);
    ASSERT_EQ(lla_memcpy(dst.data(), src.data(), 4 * sizeof(int64_t), nullptr), LLA_OK);
    EXPECT_EQ(dst, src);
    std::vector<int64_t> again(4, 0);
    ASSERT_EQ(lla_memcpy_async(again.data(), src.data(), 4 * sizeof(int64_t), nullptr), LLA_OK);
    EXPECT_EQ(again, src);
}

TEST_F(MemoryWithoutGpu, EveryPointerIsHostMemory) {
    int x = 0;
    int32_t type = -1, index = -1;
    ASSERT_EQ(lla_pointer_device(&x, &type, &index), LLA_OK);
    EXPECT_EQ(type, LLA_DEVICE_CPU);
    EXPECT_EQ(index, 0);
}

TEST(MemoryArguments, NullArgumentsAreRejected) {
    EXPECT_EQ(lla_cuda_malloc(0, 16, nullptr), LLA_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(lla_last_error()).find("ptr is NULL"), std::string::npos);
    int x = 0;
    EXPECT_EQ(lla_memcpy(nullptr, &x, sizeof x, nullptr), LLA_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(lla_last_error()).find("dst is NULL"), std::string::npos);
    EXPECT_EQ(lla_memcpy_async(&x, nullptr, sizeof x, nullptr), LLA_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(lla_last_error()).find("src is NULL"), std::string::npos);
    EXPECT_EQ(lla_memcpy(nullptr, nullptr, 0, nullptr), LLA_OK);  // nothing to copy
    int32_t type = 0;
    EXPECT_EQ(lla_pointer_device(&x, &type, nullptr), LLA_ERROR_INVALID_ARGUMENT);
}

}  // namespace
