// Inputs that validation once accepted and that broke the process (issue
// "Reliability", findings 1-4): huge broadcast shapes whose workspace
// arithmetic wrapped, a K that narrowed to a negative int, positions near the
// int64 limit, and a cu_seqlens whose claimed length was allocated before it
// was checked. Each is now rejected with a message naming the argument and
// the limit of loglinear.h, before anything is allocated or written.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "loglinear/loglinear.h"

namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// A tensor of `shape` whose every stride is 0: one element, any shape.
lla_tensor broadcast(void* element, int32_t dtype, std::vector<int64_t> shape) {
    lla_tensor t;
    std::memset(&t, 0, sizeof t);
    t.data = element;
    t.dtype = dtype;
    t.device_type = LLA_DEVICE_CPU;
    t.ndim = static_cast<int32_t>(shape.size());
    for (size_t i = 0; i < shape.size(); ++i) t.shape[i] = shape[i];
    return t;
}

// Broadcast M2 inputs of B x T tokens, H heads, G = 1, K, V, L levels, and a
// dense output o when it is small (the calls below must be rejected: o stays
// zero).
struct BroadcastCall {
    double value = -0.01;
    std::vector<double> sink;
    lla_inputs in{};
    lla_tensor o{};
    lla_config config = lla_config_default();

    BroadcastCall(int64_t B, int64_t T, int64_t H, int64_t K, int64_t V, int64_t L) {
        config.backend = LLA_BACKEND_CPU;
        in.q = broadcast(&value, LLA_DTYPE_FLOAT64, {B, T, 1, K});
        in.k = broadcast(&value, LLA_DTYPE_FLOAT64, {B, T, 1, K});
        in.v = broadcast(&value, LLA_DTYPE_FLOAT64, {B, T, H, V});
        in.g = broadcast(&value, LLA_DTYPE_FLOAT64, {B, T, H});
        in.l = broadcast(&value, LLA_DTYPE_FLOAT64, {B, T, H, L});
        if (B <= 4096 && T <= 4096 && H * V <= 4096 && B * T * H * V <= 4096) {
            sink.assign(static_cast<size_t>(B * T * H * V), 0.0);
            const int64_t shape[] = {B, T, H, V};
            lla_tensor_make_contiguous(&o, sink.data(), LLA_DTYPE_FLOAT64, LLA_DEVICE_CPU, 0, 4, shape);
        }
    }
    bool output_untouched() const {
        for (double x : sink)
            if (x != 0.0) return false;
        return true;
    }
};

void expect_message(const std::string& fragment) {
    const std::string message = lla_last_error();
    EXPECT_NE(message.find(fragment), std::string::npos) << "message lacks \"" << fragment << "\": " << message;
}

// Finding 1: K = 2^62 or 2^61 + 1 under a broadcast wrapped the workspace
// size (the query returned 35,072 bytes and the forward wrote past them).
// Finding 2: K = 2^31 narrowed to a negative int.
TEST(Limits, HugeHeadDimensionsAreRejected) {
    for (int64_t K : {int64_t{1} << 62, (int64_t{1} << 61) + 1, int64_t{1} << 31, int64_t{8193}}) {
        SCOPED_TRACE("K = " + std::to_string(K));
        BroadcastCall c(1, 4, 1, K, 2, 3);
        size_t bytes = 12345;
        EXPECT_EQ(lla_forward_workspace_size(&c.config, &c.in, nullptr, &bytes), LLA_ERROR_INVALID_ARGUMENT);
        expect_message("q.shape[3] (K, key dim) = " + std::to_string(K) + " exceeds the limit of 8192");
        EXPECT_EQ(bytes, 12345u);
        EXPECT_EQ(lla_forward(&c.config, &c.in, nullptr, &c.o, nullptr, nullptr, 0, nullptr), LLA_ERROR_INVALID_ARGUMENT);
        expect_message("exceeds the limit");
        EXPECT_TRUE(c.output_untouched());
    }
    BroadcastCall c(1, 4, 1, 2, 9000, 3);
    size_t bytes = 0;
    EXPECT_EQ(lla_forward_workspace_size(&c.config, &c.in, nullptr, &bytes), LLA_ERROR_INVALID_ARGUMENT);
    expect_message("v.shape[3] (V, value dim) = 9000 exceeds the limit of 8192");
}

// Finding 1, with T = 2^63 - 1: the query returned a wrapped size.
TEST(Limits, TooManyTokensAreRejected) {
    for (int64_t T : {kInt64Max, (int64_t{1} << 40) + 1}) {
        BroadcastCall c(1, T, 1, 2, 2, 64);
        size_t bytes = 0;
        EXPECT_EQ(lla_forward_workspace_size(&c.config, &c.in, nullptr, &bytes), LLA_ERROR_INVALID_ARGUMENT);
        expect_message("exceeds the limit of 2^40 tokens per call");
    }
    BroadcastCall c(1 << 21, 1 << 20, 1, 2, 2, 21);  // B x T overflows 2^40 though each fits
    size_t bytes = 0;
    EXPECT_EQ(lla_backward_workspace_size(&c.config, &c.in, nullptr, &bytes), LLA_ERROR_INVALID_ARGUMENT);
    expect_message("tokens of the call");
}

// Within every limit, a workspace larger than size_t can count is reported
// as such (it used to wrap): 2^40 tokens x 65536 heads x 8192 values.
TEST(Limits, WorkspaceBeyondSizeTIsOutOfMemoryNotWrapped) {
    BroadcastCall c(1, int64_t{1} << 40, 65536, 8, 8192, 41);
    size_t bytes = 12345;
    EXPECT_EQ(lla_forward_workspace_size(&c.config, &c.in, nullptr, &bytes), LLA_ERROR_OUT_OF_MEMORY);
    expect_message("more workspace than size_t can count");
    EXPECT_EQ(bytes, 12345u);
}

// Finding 3: positions near INT64_MAX (L = Ls = 64, T = 5) overflowed the
// chunk geometry in the query, the forward and the backward.
TEST(Limits, PositionsBeyondTwoToTheSixtyTwoAreRejected) {
    for (int64_t start : {kInt64Max - 10, (int64_t{1} << 62) - 4}) {
        SCOPED_TRACE("start " + std::to_string(start));
        BroadcastCall c(1, 5, 1, 2, 2, 64);
        double level = 0.5;
        int64_t position = start;
        lla_state state{};
        state.levels = broadcast(&level, LLA_DTYPE_FLOAT64, {1, 1, 64, 2, 2});
        state.position = broadcast(&position, LLA_DTYPE_INT64, {1});
        size_t bytes = 0;
        EXPECT_EQ(lla_forward_workspace_size(&c.config, &c.in, &state, &bytes), LLA_ERROR_INVALID_ARGUMENT);
        expect_message("beyond position 2^62");
        EXPECT_EQ(lla_backward_workspace_size(&c.config, &c.in, &state, &bytes), LLA_ERROR_INVALID_ARGUMENT);
        EXPECT_EQ(lla_forward(&c.config, &c.in, &state, &c.o, nullptr, nullptr, 0, nullptr), LLA_ERROR_INVALID_ARGUMENT);
        expect_message("beyond position 2^62");
        EXPECT_TRUE(c.output_untouched());
    }
}

TEST(Limits, MoreThanSixtyFourLevelsAreRejected) {
    BroadcastCall c(1, 5, 1, 2, 2, 65);
    size_t bytes = 0;
    EXPECT_EQ(lla_forward_workspace_size(&c.config, &c.in, nullptr, &bytes), LLA_ERROR_INVALID_ARGUMENT);
    expect_message("l.shape[3] (L, levels) = 65 exceeds the limit of 64");
}

// Finding 4: cu_seqlens [2^31] with stride 0 made validation allocate and
// zero-fill 16 GB before reading a value; the process was killed.
TEST(Limits, HugeCuSeqlensIsRejectedBeforeAnyAllocation) {
    BroadcastCall c(1, 100, 1, 2, 2, 8);
    int64_t zero = 0;
    c.in.cu_seqlens = broadcast(&zero, LLA_DTYPE_INT64, {int64_t{1} << 31});
    const auto start = std::chrono::steady_clock::now();
    size_t bytes = 0;
    EXPECT_EQ(lla_forward_workspace_size(&c.config, &c.in, nullptr, &bytes), LLA_ERROR_INVALID_ARGUMENT);
    expect_message("cu_seqlens.shape[0] - 1 (N, sequences) = 2147483647 exceeds q.shape[1] (T, tokens) + 4096");
    EXPECT_EQ(lla_forward(&c.config, &c.in, nullptr, &c.o, nullptr, nullptr, 0, nullptr), LLA_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(c.output_untouched());
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 1.0);
    // Empty sequences up to the limit are fine: T + 4096 of them, all but one empty.
    std::vector<int64_t> cu(100 + 4096 + 1, 0);
    cu.back() = 100;
    c.in.cu_seqlens = broadcast(cu.data(), LLA_DTYPE_INT64, {static_cast<int64_t>(cu.size())});
    c.in.cu_seqlens.strides[0] = 1;
    EXPECT_EQ(lla_forward_workspace_size(&c.config, &c.in, nullptr, &bytes), LLA_OK) << lla_last_error();
}

// A decode step at 2^62 - 1 is the last one: it advances to the limit.
TEST(Limits, DecodePositionsEndAtTwoToTheSixtyTwo) {
    double value = -0.01, out[2] = {};
    lla_inputs token{};
    token.q = broadcast(&value, LLA_DTYPE_FLOAT64, {1, 1, 2});
    token.k = broadcast(&value, LLA_DTYPE_FLOAT64, {1, 1, 2});
    token.v = broadcast(&value, LLA_DTYPE_FLOAT64, {1, 1, 2});
    token.g = broadcast(&value, LLA_DTYPE_FLOAT64, {1, 1});
    token.l = broadcast(&value, LLA_DTYPE_FLOAT64, {1, 1, 64});
    lla_tensor o = broadcast(out, LLA_DTYPE_FLOAT64, {1, 1, 2});
    o.strides[2] = 1;
    std::vector<double> levels(64 * 4, 0.0);
    int64_t position = int64_t{1} << 62;
    lla_state state{};
    state.levels = broadcast(levels.data(), LLA_DTYPE_FLOAT64, {1, 1, 64, 2, 2});
    state.levels.strides[4] = 1;
    state.levels.strides[3] = 2;
    state.levels.strides[2] = 4;
    state.position = broadcast(&position, LLA_DTYPE_INT64, {1});
    lla_config config = lla_config_default();
    EXPECT_EQ(lla_decode_step(&config, &token, &state, &o, nullptr), LLA_ERROR_INVALID_ARGUMENT);
    expect_message("must be in 0..2^62 - 1");
    EXPECT_EQ(position, int64_t{1} << 62);
    position = (int64_t{1} << 62) - 1;
    EXPECT_EQ(lla_decode_step(&config, &token, &state, &o, nullptr), LLA_OK) << lla_last_error();
    EXPECT_EQ(position, int64_t{1} << 62);
}

// Finding 7: results below the normal range of their dtype are flushed to
// zero, as loglinear.h and docs/c-api.md document (the CPU backend runs with
// FTZ/DAZ): a forward whose exact output is ~1e-40 (float32) or ~1e-320
// (float64), both subnormal, returns exactly 0.
TEST(Limits, SubnormalResultsAreFlushedToZeroAsDocumented) {
    for (int32_t dtype : {LLA_DTYPE_FLOAT32, LLA_DTYPE_FLOAT64}) {
        const double tiny = dtype == LLA_DTYPE_FLOAT32 ? 1e-20 : 1e-160;  // q.k * v = tiny^2, subnormal
        std::vector<double> one(1, tiny);
        std::vector<float> one_f(1, static_cast<float>(tiny));
        void* element = dtype == LLA_DTYPE_FLOAT32 ? static_cast<void*>(one_f.data()) : static_cast<void*>(one.data());
        double zero_d = 0.0, lw_d = 1.0;
        float zero_f = 0.0f, lw_f = 1.0f;
        void* zero = dtype == LLA_DTYPE_FLOAT32 ? static_cast<void*>(&zero_f) : static_cast<void*>(&zero_d);
        void* lw = dtype == LLA_DTYPE_FLOAT32 ? static_cast<void*>(&lw_f) : static_cast<void*>(&lw_d);
        lla_inputs in{};
        in.q = broadcast(element, dtype, {1, 1, 1, 1});
        in.k = broadcast(lw, dtype, {1, 1, 1, 1});
        in.v = broadcast(element, dtype, {1, 1, 1, 1});
        in.g = broadcast(zero, dtype, {1, 1, 1});
        in.l = broadcast(lw, dtype, {1, 1, 1, 1});
        double out_d = -1;
        float out_f = -1;
        lla_tensor o = broadcast(dtype == LLA_DTYPE_FLOAT32 ? static_cast<void*>(&out_f) : static_cast<void*>(&out_d),
                                 dtype, {1, 1, 1, 1});
        lla_config config = lla_config_default();
        config.backend = LLA_BACKEND_CPU;
        ASSERT_EQ(lla_forward(&config, &in, nullptr, &o, nullptr, nullptr, 0, nullptr), LLA_OK) << lla_last_error();
        EXPECT_EQ(dtype == LLA_DTYPE_FLOAT32 ? static_cast<double>(out_f) : out_d, 0.0) << "dtype " << dtype;
    }
}

}  // namespace
