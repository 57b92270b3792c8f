// Bad arguments to every entry point (docs/c-api.md, "Bad input"): each
// rejected call returns the expected status, a message naming the argument,
// and leaves every byte of every tensor (and the workspace-size result) as it
// was.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "valid_calls.h"

namespace {

using lla_test::Call;
using lla_test::Entry;
using lla_test::names_argument;
using lla_test::Slot;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

const Entry kAllEntries[] = {Entry::Forward, Entry::Backward, Entry::Decode, Entry::Convert,
                             Entry::ForwardWorkspace, Entry::BackwardWorkspace};

// Runs the call and checks a rejection: status, message naming `argument`
// (and containing `fragment` when given), nothing written.
void expect_rejected(Call& call, lla_status status, const std::string& argument, const std::string& fragment = "") {
    const std::vector<unsigned char> before = call.memory();
    const lla_status got = call.run();
    const std::string message = lla_last_error();
    EXPECT_EQ(got, status) << entry_name(call.entry) << ": " << lla_status_name(got) << ": " << message;
    EXPECT_TRUE(names_argument(message, argument)) << "message does not name " << argument << ": " << message;
    if (!fragment.empty()) {
        EXPECT_NE(message.find(fragment), std::string::npos) << "message lacks \"" << fragment << "\": " << message;
    }
    EXPECT_TRUE(call.memory() == before) << entry_name(call.entry) << " wrote memory on a rejected call";
}

std::string entry_param_name(const testing::TestParamInfo<Entry>& info) { return entry_name(info.param); }

// ---------------------------------------------------------------------------
// The unmutated calls are valid; everything below mutates one thing of them.

class ValidCall : public testing::TestWithParam<Entry> {};

TEST_P(ValidCall, SucceedsUnmutated) {
    for (int32_t dtype : {LLA_DTYPE_FLOAT32, LLA_DTYPE_FLOAT64, LLA_DTYPE_BFLOAT16, LLA_DTYPE_FLOAT16})
        for (bool packed : {false, true}) {
            if (packed && (GetParam() == Entry::Decode || GetParam() == Entry::Convert)) continue;
            Call call(GetParam(), dtype, packed);
            EXPECT_EQ(call.run(), LLA_OK) << "dtype " << dtype << (packed ? " packed" : "") << ": " << lla_last_error();
            EXPECT_STREQ(lla_last_error(), "");
        }
}

INSTANTIATE_TEST_SUITE_P(Entries, ValidCall, testing::ValuesIn(kAllEntries), entry_param_name);

// ---------------------------------------------------------------------------
// Every descriptor field of every tensor argument of every entry point.

class EveryArgument : public testing::TestWithParam<Entry> {
protected:
    // Applies `mutate` to argument `name` of a fresh call and expects a
    // rejection naming `expect_name` (default: the argument itself).
    void check(const std::string& name, const std::string& what, const std::function<void(lla_tensor&)>& mutate,
               const std::string& expect_name = "", bool packed = false) {
        SCOPED_TRACE(std::string(entry_name(GetParam())) + ": " + name + " " + what);
        Call call(GetParam(), LLA_DTYPE_FLOAT32, packed);
        mutate(*call.slot(name).tensor);
        expect_rejected(call, LLA_ERROR_INVALID_ARGUMENT, expect_name.empty() ? name : expect_name);
    }

    // The present arguments of a fresh call, which lives until the next
    // present_slots (the slots point into it).
    std::vector<Slot> present_slots(bool packed = false) {
        probe_ = std::make_unique<Call>(GetParam(), LLA_DTYPE_FLOAT32, packed);
        std::vector<Slot> present;
        for (const Slot& s : probe_->slots())
            if (s.tensor->ndim != 0) present.push_back(s);
        return present;
    }

private:
    std::unique_ptr<Call> probe_;
};

TEST_P(EveryArgument, NullDataIsRejected) {
    for (const Slot& s : present_slots()) check(s.name, "data NULL", [](lla_tensor& t) { t.data = nullptr; });
}

TEST_P(EveryArgument, BadRankIsRejected) {
    for (const Slot& s : present_slots()) {
        if (!s.optional) check(s.name, "ndim 0 (absent)", [](lla_tensor& t) { t.ndim = 0; });
        check(s.name, "ndim -1", [](lla_tensor& t) { t.ndim = -1; });
        check(s.name, "ndim 6", [](lla_tensor& t) { t.ndim = LLA_MAX_DIMS + 1; });
        if (s.tensor->ndim < LLA_MAX_DIMS)
            check(s.name, "one trailing dim of 1", [](lla_tensor& t) {
                t.shape[t.ndim] = 1;
                t.strides[t.ndim] = 1;
                ++t.ndim;
            });
        if (s.tensor->ndim > 1) check(s.name, "one dim fewer", [](lla_tensor& t) { --t.ndim; });
    }
}

TEST_P(EveryArgument, BadDtypeIsRejected) {
    for (const Slot& s : present_slots()) {
        check(s.name, "dtype 99", [](lla_tensor& t) { t.dtype = 99; });
        check(s.name, "dtype -1", [](lla_tensor& t) { t.dtype = -1; });
        check(s.name, "another valid dtype", [](lla_tensor& t) {
            t.dtype = t.dtype == LLA_DTYPE_INT64 ? LLA_DTYPE_FLOAT32 : LLA_DTYPE_INT64;
        });
    }
}

TEST_P(EveryArgument, BadDeviceIsRejected) {
    for (const Slot& s : present_slots()) {
        check(s.name, "device_type 7", [](lla_tensor& t) { t.device_type = 7; });
        check(s.name, "CPU device_index 1", [](lla_tensor& t) { t.device_index = 1; });
        check(s.name, "on CUDA, the others on the CPU", [](lla_tensor& t) { t.device_type = LLA_DEVICE_CUDA; });
    }
}

// Each dim one larger (one smaller where one larger is allowed: extra levels
// in l and in a final state), zero and negative.
TEST_P(EveryArgument, BadShapeIsRejected) {
    for (bool packed : {false, true}) {
        if (packed && (GetParam() == Entry::Decode || GetParam() == Entry::Convert)) continue;
        for (const Slot& s : present_slots(packed)) {
            for (int32_t d = 0; d < s.tensor->ndim; ++d) {
                const std::string dim = s.name + ".shape[" + std::to_string(d) + "]";
                const bool more_levels_allowed =
                    (s.name == "l" && d == s.tensor->ndim - 1) || ((s.name == "final_state.levels" || s.name == "d_final_state") && d == 2);
                check(s.name, dim + (more_levels_allowed ? " - 1" : " + 1"), [&](lla_tensor& t) {
                    t.shape[d] += more_levels_allowed ? -1 : 1;
                }, dim, packed);
                check(s.name, dim + " = 0", [&](lla_tensor& t) { t.shape[d] = 0; }, dim, packed);
                check(s.name, dim + " = -3", [&](lla_tensor& t) { t.shape[d] = -3; }, dim, packed);
            }
        }
    }
}

TEST_P(EveryArgument, NegativeStrideIsRejected) {
    for (const Slot& s : present_slots())
        for (int32_t d = 0; d < s.tensor->ndim; ++d)
            check(s.name, "strides[" + std::to_string(d) + "] = -1", [&](lla_tensor& t) { t.strides[d] = -1; },
                  s.name + ".strides[" + std::to_string(d) + "]");
}

TEST_P(EveryArgument, MisalignedDataIsRejected) {
    for (const Slot& s : present_slots())
        check(s.name, "data + 1 byte", [](lla_tensor& t) { t.data = static_cast<char*>(t.data) + 1; });
}

TEST_P(EveryArgument, AddressOverflowIsRejected) {
    for (const Slot& s : present_slots())
        check(s.name, "stride 2^62", [](lla_tensor& t) {
            t.shape[0] = 4;
            t.strides[0] = int64_t{1} << 62;
        });
}

// An output whose elements alias: a zero stride on a dim of size > 1, or
// strides that interleave two dims.
TEST_P(EveryArgument, SelfAliasingOutputIsRejected) {
    for (const Slot& s : present_slots()) {
        if (!s.written) continue;
        for (int32_t d = 0; d < s.tensor->ndim; ++d) {
            if (s.tensor->shape[d] < 2) continue;
            check(s.name, "strides[" + std::to_string(d) + "] = 0", [&](lla_tensor& t) { t.strides[d] = 0; },
                  s.name + ".strides[" + std::to_string(d) + "]");
        }
        if (s.tensor->ndim >= 2 && s.tensor->shape[s.tensor->ndim - 1] > 1)
            check(s.name, "rows overlapping by one element", [](lla_tensor& t) {
                t.strides[t.ndim - 2] = t.shape[t.ndim - 1] - 1;
            });
    }
}

// An output sharing memory with any other argument.
TEST_P(EveryArgument, OutputOverlappingAnotherArgumentIsRejected) {
    Call shape_of(GetParam());
    for (const Slot& w : shape_of.slots()) {
        if (!w.written || w.tensor->ndim == 0) continue;
        for (const Slot& other : shape_of.slots()) {
            if (other.name == w.name || other.tensor->ndim == 0) continue;
            // lla_state_convert may write dst onto src exactly: an in-place conversion.
            if (GetParam() == Entry::Convert && w.name.substr(3) == other.name.substr(3)) continue;
            SCOPED_TRACE(w.name + " placed on " + other.name);
            Call call(GetParam());
            call.slot(w.name).tensor->data = call.slot(other.name).tensor->data;
            const std::vector<unsigned char> before = call.memory();
            const lla_status st = call.run();
            const std::string message = lla_last_error();
            EXPECT_EQ(st, LLA_ERROR_INVALID_ARGUMENT) << message;
            EXPECT_TRUE(names_argument(message, w.name) || names_argument(message, other.name)) << message;
            EXPECT_TRUE(call.memory() == before);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Entries, EveryArgument, testing::ValuesIn(kAllEntries), entry_param_name);

// ---------------------------------------------------------------------------
// Null pointers and config fields.

TEST(NullPointers, AreRejectedByEveryEntryPoint) {
    const lla_config config = lla_config_default();
    Call f(Entry::Forward), b(Entry::Backward), d(Entry::Decode), c(Entry::Convert);
    size_t bytes = 7;
    struct Case {
        const char* argument;
        std::function<lla_status()> run;
    };
    const Case cases[] = {
        {"config", [&] { return lla_forward(nullptr, &f.in, nullptr, &f.out, nullptr, nullptr, 0, nullptr); }},
        {"inputs", [&] { return lla_forward(&config, nullptr, nullptr, &f.out, nullptr, nullptr, 0, nullptr); }},
        {"o", [&] { return lla_forward(&config, &f.in, &f.state_a, nullptr, nullptr, nullptr, 0, nullptr); }},
        {"config", [&] { return lla_backward(nullptr, &b.in, &b.state_a, &b.out, nullptr, &b.grads, nullptr, 0, nullptr); }},
        {"inputs", [&] { return lla_backward(&config, nullptr, &b.state_a, &b.out, nullptr, &b.grads, nullptr, 0, nullptr); }},
        {"d_o", [&] { return lla_backward(&config, &b.in, &b.state_a, nullptr, nullptr, &b.grads, nullptr, 0, nullptr); }},
        {"grads", [&] { return lla_backward(&config, &b.in, &b.state_a, &b.out, nullptr, nullptr, nullptr, 0, nullptr); }},
        {"config", [&] { return lla_decode_step(nullptr, &d.in, &d.state_a, &d.out, nullptr); }},
        {"token", [&] { return lla_decode_step(&config, nullptr, &d.state_a, &d.out, nullptr); }},
        {"state", [&] { return lla_decode_step(&config, &d.in, nullptr, &d.out, nullptr); }},
        {"o", [&] { return lla_decode_step(&config, &d.in, &d.state_a, nullptr, nullptr); }},
        {"config", [&] { return lla_state_convert(nullptr, &c.state_a, &c.state_b, nullptr); }},
        {"src", [&] { return lla_state_convert(&config, nullptr, &c.state_b, nullptr); }},
        {"dst", [&] { return lla_state_convert(&config, &c.state_a, nullptr, nullptr); }},
        {"config", [&] { return lla_forward_workspace_size(nullptr, &f.in, nullptr, &bytes); }},
        {"inputs", [&] { return lla_forward_workspace_size(&config, nullptr, nullptr, &bytes); }},
        {"workspace_bytes", [&] { return lla_forward_workspace_size(&config, &f.in, &f.state_a, nullptr); }},
        {"config", [&] { return lla_backward_workspace_size(nullptr, &b.in, nullptr, &bytes); }},
        {"inputs", [&] { return lla_backward_workspace_size(&config, nullptr, nullptr, &bytes); }},
        {"workspace_bytes", [&] { return lla_backward_workspace_size(&config, &b.in, &b.state_a, nullptr); }},
        {"out", [&] { return lla_tensor_make_contiguous(nullptr, nullptr, LLA_DTYPE_FLOAT32, 0, 0, 1, nullptr); }},
    };
    const std::vector<unsigned char> fm = f.memory(), bm = b.memory(), dm = d.memory(), cm = c.memory();
    for (const Case& k : cases) {
        const lla_status st = k.run();
        EXPECT_EQ(st, LLA_ERROR_INVALID_ARGUMENT) << k.argument;
        EXPECT_TRUE(names_argument(lla_last_error(), k.argument)) << lla_last_error();
        EXPECT_NE(std::string(lla_last_error()).find("NULL"), std::string::npos) << lla_last_error();
    }
    EXPECT_EQ(bytes, 7u);
    EXPECT_TRUE(f.memory() == fm && b.memory() == bm && d.memory() == dm && c.memory() == cm);
}

class BadConfig : public testing::TestWithParam<Entry> {};

TEST_P(BadConfig, FieldsOutOfRangeAreRejected) {
    const std::pair<const char*, std::function<void(lla_config&)>> cases[] = {
        {"config.variant", [](lla_config& c) { c.variant = 2; }},
        {"config.variant", [](lla_config& c) { c.variant = -1; }},
        {"config.backend", [](lla_config& c) { c.backend = 3; }},
        {"config.math_mode", [](lla_config& c) { c.math_mode = 3; }},
        {"config.num_threads", [](lla_config& c) { c.num_threads = -1; }},
        {"config.scale", [](lla_config& c) { c.scale = std::numeric_limits<double>::quiet_NaN(); }},
        {"config.scale", [](lla_config& c) { c.scale = std::numeric_limits<double>::infinity(); }},
    };
    for (const auto& [field, mutate] : cases) {
        SCOPED_TRACE(field);
        Call call(GetParam());
        mutate(call.config);
        expect_rejected(call, LLA_ERROR_INVALID_ARGUMENT, field);
    }
}

INSTANTIATE_TEST_SUITE_P(Entries, BadConfig, testing::ValuesIn(kAllEntries), entry_param_name);

// ---------------------------------------------------------------------------
// Devices and backends.

class Devices : public testing::TestWithParam<Entry> {};

void move_all_to_cuda(Call& call) {
    for (const Slot& s : call.slots())
        if (s.tensor->ndim != 0) s.tensor->device_type = LLA_DEVICE_CUDA;
}

TEST_P(Devices, CpuBackendWithCudaTensorsIsRejected) {
    Call call(GetParam());
    move_all_to_cuda(call);
    call.config.backend = LLA_BACKEND_CPU;
    expect_rejected(call, LLA_ERROR_INVALID_ARGUMENT, "config.backend", "LLA_BACKEND_CPU");
}

TEST_P(Devices, CudaBackendWithHostTensorsIsRejected) {
    Call call(GetParam());
    call.config.backend = LLA_BACKEND_CUDA;
    expect_rejected(call, LLA_ERROR_INVALID_ARGUMENT, "config.backend", "LLA_BACKEND_CUDA");
}

TEST_P(Devices, CudaTensorsWithoutUsableCudaBackendAreUnsupported) {
    if (lla_backend_available(LLA_BACKEND_CUDA)) GTEST_SKIP() << "a CUDA device is available here";
    for (int32_t backend : {LLA_BACKEND_AUTO, LLA_BACKEND_CUDA}) {
        Call call(GetParam());
        move_all_to_cuda(call);
        call.config.backend = backend;
        const std::string first = call.slots().front().name;
        expect_rejected(call, LLA_ERROR_UNSUPPORTED, first, "CUDA");
    }
}

INSTANTIATE_TEST_SUITE_P(Entries, Devices, testing::ValuesIn(kAllEntries), entry_param_name);

TEST(Backends, AvailabilityAndSynchronize) {
    EXPECT_EQ(lla_backend_available(LLA_BACKEND_CPU), 1);
    EXPECT_EQ(lla_backend_available(LLA_BACKEND_AUTO), 1);
    EXPECT_EQ(lla_backend_available(7), 0);
    EXPECT_EQ(lla_synchronize(LLA_BACKEND_CPU, nullptr), LLA_OK);
    EXPECT_EQ(lla_synchronize(LLA_BACKEND_AUTO, nullptr), LLA_OK);
    EXPECT_EQ(lla_synchronize(9, nullptr), LLA_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(names_argument(lla_last_error(), "backend")) << lla_last_error();
    if (!lla_backend_available(LLA_BACKEND_CUDA)) {
        EXPECT_EQ(lla_synchronize(LLA_BACKEND_CUDA, nullptr), LLA_ERROR_UNSUPPORTED);
        EXPECT_NE(std::string(lla_last_error()).find("CUDA"), std::string::npos) << lla_last_error();
    }
}

// ---------------------------------------------------------------------------
// Dtype rules: q, k, v alike; float64 all-or-nothing; g float32 otherwise;
// l and beta float32 or q's dtype; outputs as their input; states float32.

TEST(Dtypes, RulesAcrossArguments) {
    struct Case {
        Entry entry;
        int32_t base;
        const char* argument;
        int32_t dtype;
    };
    const Case cases[] = {
        {Entry::Forward, LLA_DTYPE_FLOAT32, "k", LLA_DTYPE_FLOAT64},
        {Entry::Forward, LLA_DTYPE_FLOAT32, "v", LLA_DTYPE_BFLOAT16},
        {Entry::Forward, LLA_DTYPE_FLOAT32, "q", LLA_DTYPE_INT64},
        {Entry::Forward, LLA_DTYPE_FLOAT64, "g", LLA_DTYPE_FLOAT32},
        {Entry::Forward, LLA_DTYPE_FLOAT64, "l", LLA_DTYPE_FLOAT32},
        {Entry::Forward, LLA_DTYPE_FLOAT32, "g", LLA_DTYPE_FLOAT64},
        {Entry::Forward, LLA_DTYPE_BFLOAT16, "g", LLA_DTYPE_BFLOAT16},
        {Entry::Forward, LLA_DTYPE_BFLOAT16, "l", LLA_DTYPE_FLOAT16},
        {Entry::Forward, LLA_DTYPE_BFLOAT16, "o", LLA_DTYPE_FLOAT32},
        {Entry::Forward, LLA_DTYPE_FLOAT32, "initial_state.levels", LLA_DTYPE_FLOAT64},
        {Entry::Forward, LLA_DTYPE_FLOAT64, "initial_state.levels", LLA_DTYPE_FLOAT32},
        {Entry::Forward, LLA_DTYPE_FLOAT32, "initial_state.log_decay", LLA_DTYPE_BFLOAT16},
        {Entry::Forward, LLA_DTYPE_BFLOAT16, "final_state.levels", LLA_DTYPE_BFLOAT16},
        {Entry::Forward, LLA_DTYPE_FLOAT32, "final_state.position", LLA_DTYPE_FLOAT64},
        {Entry::Backward, LLA_DTYPE_FLOAT32, "d_o", LLA_DTYPE_FLOAT64},
        {Entry::Backward, LLA_DTYPE_BFLOAT16, "dq", LLA_DTYPE_FLOAT32},
        {Entry::Backward, LLA_DTYPE_BFLOAT16, "dg", LLA_DTYPE_BFLOAT16},
        {Entry::Backward, LLA_DTYPE_FLOAT32, "dl", LLA_DTYPE_FLOAT64},
        {Entry::Decode, LLA_DTYPE_FLOAT16, "v", LLA_DTYPE_BFLOAT16},
        {Entry::Decode, LLA_DTYPE_FLOAT32, "state.log_decay", LLA_DTYPE_FLOAT64},
        {Entry::Decode, LLA_DTYPE_FLOAT32, "state.position", LLA_DTYPE_FLOAT32},
        {Entry::Convert, LLA_DTYPE_FLOAT32, "dst.levels", LLA_DTYPE_FLOAT64},
        {Entry::Convert, LLA_DTYPE_FLOAT32, "src.levels", LLA_DTYPE_BFLOAT16},
    };
    for (const Case& k : cases) {
        SCOPED_TRACE(std::string(entry_name(k.entry)) + ": " + k.argument);
        Call call(k.entry, k.base);
        call.slot(k.argument).tensor->dtype = k.dtype;
        expect_rejected(call, LLA_ERROR_INVALID_ARGUMENT, std::string(k.argument), ".dtype must be");
    }
}

// Where a dtype may vary: l in float32 with bf16 inputs is allowed.
TEST(Dtypes, LevelScalesMayBeFloat32WithHalfInputs) {
    for (int32_t base : {LLA_DTYPE_BFLOAT16, LLA_DTYPE_FLOAT16}) {
        Call call(Entry::ForwardWorkspace, base);
        Call wide(Entry::ForwardWorkspace, LLA_DTYPE_FLOAT32);
        call.in.l = wide.in.l;
        EXPECT_EQ(call.run(), LLA_OK) << lla_last_error();
    }
}

// ---------------------------------------------------------------------------
// Groups, variants.

TEST(Groups, HeadsMustBeAMultipleOfGroups) {
    for (Entry e : {Entry::Forward, Entry::Decode}) {
        Call call(e);
        lla_tensor& q = call.in.q;
        const int32_t g_dim = e == Entry::Decode ? 1 : 2;
        q.shape[g_dim] = 3;  // H = 4
        call.in.k.shape[g_dim] = 3;
        expect_rejected(call, LLA_ERROR_INVALID_ARGUMENT, "v", "must be a multiple of");
    }
}

TEST(Variants, GatedDeltaNetNeedsBetaAndMamba2RejectsIt) {
    for (Entry e : {Entry::Forward, Entry::Backward, Entry::Decode, Entry::ForwardWorkspace}) {
        SCOPED_TRACE(entry_name(e));
        Call gdn(e);
        gdn.config.variant = LLA_VARIANT_GATED_DELTANET;
        expect_rejected(gdn, LLA_ERROR_INVALID_ARGUMENT, "beta", "needs it");

        Call m2(e);
        Call spare(e);
        m2.in.beta = spare.in.g;  // a valid [.., H] tensor, but M2 takes no beta
        expect_rejected(m2, LLA_ERROR_INVALID_ARGUMENT, "beta", "must be absent");
    }
}

TEST(Variants, ValidGatedDeltaNetIsUnsupportedForNow) {
    for (Entry e : {Entry::Forward, Entry::Backward, Entry::Decode, Entry::ForwardWorkspace, Entry::BackwardWorkspace}) {
        SCOPED_TRACE(entry_name(e));
        Call call(e);
        call.config.variant = LLA_VARIANT_GATED_DELTANET;
        Call spare(e);
        call.in.beta = spare.in.g;  // float32 [.., H]: a valid beta
        if (e == Entry::Backward) call.grads.dbeta = spare.grads.dg;
        expect_rejected(call, LLA_ERROR_UNSUPPORTED, "config.variant", "LLA_VARIANT_GATED_DELTANET");
    }
}

TEST(Variants, Mamba2BackwardRejectsDbeta) {
    Call call(Entry::Backward);
    Call spare(Entry::Backward);
    call.grads.dbeta = spare.grads.dg;
    expect_rejected(call, LLA_ERROR_INVALID_ARGUMENT, "dbeta", "must be absent");
}

TEST(States, FinalStateMustBeCanonical) {
    Call call(Entry::Forward);
    Call spare(Entry::Forward);
    call.state_b.log_decay = spare.state_a.log_decay;
    expect_rejected(call, LLA_ERROR_INVALID_ARGUMENT, "final_state.log_decay", "canonical");
}

TEST(States, ConvertMayWorkInPlaceButNotPartlyOverlapping) {
    Call call(Entry::Convert);
    call.state_b.levels = call.state_a.levels;  // in place: the same view
    call.state_b.position = call.state_a.position;
    EXPECT_EQ(call.run(), LLA_OK) << lla_last_error();

    Call shifted(Entry::Convert);
    shifted.state_b.levels = shifted.state_a.levels;
    shifted.state_b.levels.data = static_cast<float*>(shifted.state_b.levels.data) + 1;
    expect_rejected(shifted, LLA_ERROR_INVALID_ARGUMENT, "dst.levels", "overlaps");
}

TEST(States, ForwardFromAStateIntoTheSameStateIsRejected) {
    Call call(Entry::Forward);
    call.state_b.levels = call.state_a.levels;
    expect_rejected(call, LLA_ERROR_INVALID_ARGUMENT, "final_state.levels", "overlaps");
}

// State gradients: d_final_state in, grads.d_initial_state out.
TEST(StateGradients, InitialStateGradientNeedsAnInitialState) {
    Call call(Entry::Backward);
    lla_gradients grads = call.grads;
    const std::vector<unsigned char> before = call.memory();
    EXPECT_EQ(lla_backward(&call.config, &call.in, nullptr, &call.out, &call.d_final, &grads, nullptr, 0, nullptr),
              LLA_ERROR_INVALID_ARGUMENT);
    const std::string message = lla_last_error();
    EXPECT_TRUE(names_argument(message, "grads.d_initial_state")) << message;
    EXPECT_TRUE(names_argument(message, "initial_state")) << message;
    EXPECT_TRUE(call.memory() == before);
}

TEST(StateGradients, InitialStateGradientHasTheInitialStatesLevels) {
    Call call(Entry::Backward);
    call.grads.d_initial_state.shape[2] -= 1;  // as many levels as the initial state: fewer is an error too
    expect_rejected(call, LLA_ERROR_INVALID_ARGUMENT, "grads.d_initial_state.shape[2]", "must equal");
}

TEST(StateGradients, FinalStateGradientNeedsTheFinalPositionsLevels) {
    Call call(Entry::Backward);
    call.d_final.shape[2] = 4;  // sequence 0 ends ready for 8: 5 levels
    expect_rejected(call, LLA_ERROR_INVALID_ARGUMENT, "d_final_state.shape[2]", "bit_length(8) + 1 = 5");
}

TEST(StateGradients, FinalStateGradientIsReadAndInitialStateGradientWrittenAlone) {
    {  // written onto the state it is the gradient of
        Call call(Entry::Backward);
        call.grads.d_initial_state.data = call.state_a.levels.data;
        expect_rejected(call, LLA_ERROR_INVALID_ARGUMENT, "grads.d_initial_state", "overlaps");
    }
    {  // written onto d_final_state: no in-place chaining
        Call call(Entry::Backward);
        call.grads.d_initial_state.data = call.d_final.data;
        expect_rejected(call, LLA_ERROR_INVALID_ARGUMENT, "grads.d_initial_state", "overlaps");
    }
    {  // a gradient output onto d_final_state
        Call call(Entry::Backward);
        call.grads.dq.data = call.d_final.data;
        expect_rejected(call, LLA_ERROR_INVALID_ARGUMENT, "dq", "overlaps");
    }
}

TEST(StateGradients, BothAreOptional) {
    for (int absent = 0; absent < 3; ++absent) {
        Call call(Entry::Backward);
        if (absent != 1) call.d_final = lla_tensor{};
        if (absent != 2) call.grads.d_initial_state = lla_tensor{};
        EXPECT_EQ(call.run(), LLA_OK) << lla_last_error();
    }
    Call call(Entry::Backward);  // a NULL d_final_state is absent too
    EXPECT_EQ(lla_backward(&call.config, &call.in, &call.state_a, &call.out, nullptr, &call.grads, nullptr, 0, nullptr),
              LLA_OK)
        << lla_last_error();
}

// ---------------------------------------------------------------------------
// Positions, levels and cu_seqlens (values read from memory).

TEST(Positions, NegativeOrOverflowingPositionsAreRejected) {
    for (Entry e : kAllEntries) {
        SCOPED_TRACE(entry_name(e));
        const std::string state = e == Entry::Decode ? "state" : e == Entry::Convert ? "src" : "initial_state";
        for (int64_t bad : {int64_t{-1}, std::numeric_limits<int64_t>::min(), kInt64Max, kInt64Max - 2}) {
            Call call(e);
            Call::set_int64(call.state_a.position, 1, bad);
            expect_rejected(call, LLA_ERROR_INVALID_ARGUMENT, state + ".position");
        }
    }
}

// Levels are tight in the valid calls: one position further needs one more.
TEST(Positions, MoreLevelsThanAvailableAreRejected) {
    {  // forward: sequence 0 from 12 runs to 16, which needs 6 levels of l (and of the final state)
        Call call(Entry::Forward);
        Call::set_int64(call.state_a.position, 0, 12);
        expect_rejected(call, LLA_ERROR_INVALID_ARGUMENT, "l", "needs more levels than l has");
    }
    {  // forward: the final state of sequence 1 (9 + 5 = 14) fits 5 levels; of 16 it does not
        Call call(Entry::Forward);
        Call::set_int64(call.state_a.position, 1, 11);
        call.in.l.shape[3] = 6;  // l big enough, strides as before are fine for reading
        call.in.l.strides[2] = 6;
        call.in.l.strides[1] = 24;
        call.in.l.strides[0] = 120;
        expect_rejected(call, LLA_ERROR_INVALID_ARGUMENT, "final_state.levels", "bit_length(16) + 1 = 6");
    }
    {  // initial state at 16 needs 6 levels
        Call call(Entry::Backward);
        Call::set_int64(call.state_a.position, 0, 16);
        expect_rejected(call, LLA_ERROR_INVALID_ARGUMENT, "initial_state.levels", "bit_length(16) + 1 = 6");
    }
    {  // decode at 16: l needs 6 levels
        Call call(Entry::Decode);
        Call::set_int64(call.state_a.position, 0, 16);
        expect_rejected(call, LLA_ERROR_INVALID_ARGUMENT, "l", "bit_length(16) + 1 = 6");
    }
    {  // decode at 15 advances to 16: the state needs 6 levels
        Call call(Entry::Decode);
        Call::set_int64(call.state_a.position, 0, 15);
        expect_rejected(call, LLA_ERROR_INVALID_ARGUMENT, "state.levels", "bit_length(16) + 1 = 6");
    }
    {  // convert: a state at 16 has no room in 5 levels
        Call call(Entry::Convert);
        Call::set_int64(call.state_a.position, 1, 16);
        expect_rejected(call, LLA_ERROR_INVALID_ARGUMENT, "src.position", "bit_length(16) + 1 = 6");
    }
}

TEST(CuSeqlens, MalformedOffsetsAreRejected) {
    const std::pair<std::vector<int64_t>, const char*> cases[] = {
        {{1, 2, 5}, "cu_seqlens[0] must be 0"},
        {{0, 3, 2}, "non-decreasing"},
        {{0, 2, 4}, "must equal q.shape[1]"},
        {{0, 2, 6}, "must equal q.shape[1]"},
        {{0, -1, 5}, "non-decreasing"},
    };
    for (Entry e : {Entry::Forward, Entry::Backward, Entry::ForwardWorkspace}) {
        for (const auto& [offsets, fragment] : cases) {
            SCOPED_TRACE(std::string(entry_name(e)) + ": " + fragment);
            Call call(e, LLA_DTYPE_FLOAT32, true);
            for (size_t i = 0; i < offsets.size(); ++i) Call::set_int64(call.in.cu_seqlens, static_cast<int64_t>(i), offsets[i]);
            expect_rejected(call, LLA_ERROR_INVALID_ARGUMENT, "cu_seqlens", fragment);
        }
    }
}

TEST(CuSeqlens, NeedsBatchOneAtLeastOneSequenceAndOneDimension) {
    {
        Call call(Entry::Forward);  // B = 2
        Call packed(Entry::Forward, LLA_DTYPE_FLOAT32, true);
        call.in.cu_seqlens = packed.in.cu_seqlens;
        expect_rejected(call, LLA_ERROR_INVALID_ARGUMENT, "q.shape[0]", "when cu_seqlens is given");
    }
    {
        Call call(Entry::Forward, LLA_DTYPE_FLOAT32, true);
        call.in.cu_seqlens.shape[0] = 1;
        expect_rejected(call, LLA_ERROR_INVALID_ARGUMENT, "cu_seqlens.shape[0]", "at least 2");
    }
    {
        Call call(Entry::Decode);
        Call packed(Entry::Forward, LLA_DTYPE_FLOAT32, true);
        call.in.cu_seqlens = packed.in.cu_seqlens;
        expect_rejected(call, LLA_ERROR_INVALID_ARGUMENT, "cu_seqlens", "decode step");
    }
}

// ---------------------------------------------------------------------------
// Workspace, small API functions.

TEST(Workspace, TooSmallCallerWorkspaceIsRejected) {
    for (Entry e : {Entry::Forward, Entry::Backward}) {
        Call query(e == Entry::Forward ? Entry::ForwardWorkspace : Entry::BackwardWorkspace);
        ASSERT_EQ(query.run(), LLA_OK) << lla_last_error();
        if (query.workspace_bytes == 0) continue;  // this backend needs none: nothing can be too small
        Call call(e);
        std::vector<unsigned char> workspace(query.workspace_bytes);
        const std::vector<unsigned char> before = call.memory();
        const lla_status st =
            e == Entry::Forward
                ? lla_forward(&call.config, &call.in, &call.state_a, &call.out, &call.state_b, workspace.data(),
                              workspace.size() - 1, nullptr)
                : lla_backward(&call.config, &call.in, &call.state_a, &call.out, &call.d_final, &call.grads, workspace.data(),
                               workspace.size() - 1, nullptr);
        EXPECT_EQ(st, LLA_ERROR_OUT_OF_MEMORY) << lla_last_error();
        EXPECT_TRUE(names_argument(lla_last_error(), "workspace_bytes")) << lla_last_error();
        EXPECT_TRUE(call.memory() == before);
    }
}

TEST(MakeContiguous, ValidatesAndWritesNothingOnError) {
    lla_tensor t{};
    t.ndim = 3;  // sentinel: must survive rejected calls
    const int64_t shape[] = {2, 3, 4};
    const int64_t negative[] = {2, -3, 4};
    EXPECT_EQ(lla_tensor_make_contiguous(&t, nullptr, LLA_DTYPE_FLOAT32, 0, 0, 6, shape), LLA_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(names_argument(lla_last_error(), "ndim")) << lla_last_error();
    EXPECT_EQ(lla_tensor_make_contiguous(&t, nullptr, LLA_DTYPE_FLOAT32, 0, 0, 3, nullptr), LLA_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(names_argument(lla_last_error(), "shape")) << lla_last_error();
    EXPECT_EQ(lla_tensor_make_contiguous(&t, nullptr, 42, 0, 0, 3, shape), LLA_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(names_argument(lla_last_error(), "dtype")) << lla_last_error();
    EXPECT_EQ(lla_tensor_make_contiguous(&t, nullptr, LLA_DTYPE_FLOAT32, 5, 0, 3, shape), LLA_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(names_argument(lla_last_error(), "device_type")) << lla_last_error();
    EXPECT_EQ(lla_tensor_make_contiguous(&t, nullptr, LLA_DTYPE_FLOAT32, 0, 0, 3, negative), LLA_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(names_argument(lla_last_error(), "shape[1]")) << lla_last_error();
    EXPECT_EQ(t.ndim, 3);

    float data[24];
    ASSERT_EQ(lla_tensor_make_contiguous(&t, data, LLA_DTYPE_FLOAT32, LLA_DEVICE_CPU, 0, 3, shape), LLA_OK);
    EXPECT_EQ(t.data, data);
    EXPECT_EQ(t.ndim, 3);
    EXPECT_EQ(t.strides[0], 12);
    EXPECT_EQ(t.strides[1], 4);
    EXPECT_EQ(t.strides[2], 1);
}

TEST(SmallFunctions, VersionStatusNamesAndDefaults) {
    EXPECT_EQ(lla_version_major(), LLA_VERSION_MAJOR);
    EXPECT_EQ(lla_version_minor(), LLA_VERSION_MINOR);
    EXPECT_EQ(lla_version_patch(), LLA_VERSION_PATCH);
    EXPECT_EQ(std::string(lla_version_string()), std::to_string(LLA_VERSION_MAJOR) + "." +
                                                     std::to_string(LLA_VERSION_MINOR) + "." +
                                                     std::to_string(LLA_VERSION_PATCH));
    EXPECT_STREQ(lla_status_name(LLA_OK), "LLA_OK");
    EXPECT_STREQ(lla_status_name(LLA_ERROR_INVALID_ARGUMENT), "LLA_ERROR_INVALID_ARGUMENT");
    EXPECT_STREQ(lla_status_name(LLA_ERROR_UNSUPPORTED), "LLA_ERROR_UNSUPPORTED");
    EXPECT_STREQ(lla_status_name(LLA_ERROR_OUT_OF_MEMORY), "LLA_ERROR_OUT_OF_MEMORY");
    EXPECT_STREQ(lla_status_name(LLA_ERROR_BACKEND), "LLA_ERROR_BACKEND");
    EXPECT_STREQ(lla_status_name(LLA_ERROR_INTERNAL), "LLA_ERROR_INTERNAL");
    EXPECT_STREQ(lla_status_name(77), "LLA_STATUS_UNKNOWN");
    const lla_config c = lla_config_default();
    EXPECT_EQ(c.variant, LLA_VARIANT_MAMBA2);
    EXPECT_EQ(c.backend, LLA_BACKEND_AUTO);
    EXPECT_EQ(c.math_mode, LLA_MATH_DEFAULT);
    EXPECT_EQ(c.num_threads, 0);
    EXPECT_EQ(c.scale, 1.0);
}

TEST(Errors, MessageIsPerThreadAndClearedBySuccess) {
    Call bad(Entry::ForwardWorkspace);
    bad.in.q.data = nullptr;
    ASSERT_NE(bad.run(), LLA_OK);
    const std::string mine = lla_last_error();
    std::string other = "unset";
    std::thread([&] { other = lla_last_error(); }).join();
    EXPECT_EQ(other, "");
    EXPECT_EQ(lla_last_error(), mine);
    Call good(Entry::ForwardWorkspace);
    ASSERT_EQ(good.run(), LLA_OK);
    EXPECT_STREQ(lla_last_error(), "");
}

}  // namespace
