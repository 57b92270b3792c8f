// Randomized bad input: random descriptor fields, config fields, positions
// and cu_seqlens values thrown at every entry point. Whatever the library
// decides, it must not crash; a rejected call must name one of the mutated
// arguments and leave every byte as it was. Seeds are fixed (reproducible).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "valid_calls.h"

namespace {

using lla_test::Call;
using lla_test::Entry;
using lla_test::names_argument;
using lla_test::Slot;

// Iterations per entry point; LLA_RANDOM_ITERATIONS raises it for a soak run.
int iterations() {
    const char* env = std::getenv("LLA_RANDOM_ITERATIONS");
    return env ? std::atoi(env) : 400;
}

class Mutator {
public:
    explicit Mutator(uint32_t seed) : rng_(seed) {}

    int64_t pick(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng_); }

    // Changes one field of one argument (or of the config) of `call`; returns
    // the name a message about it would use.
    std::string mutate(Call& call) {
        std::vector<Slot> slots = call.slots();
        if (pick(0, 9) == 0) return mutate_config(call.config);
        const Slot s = slots[static_cast<size_t>(pick(0, static_cast<int64_t>(slots.size()) - 1))];
        lla_tensor& t = *s.tensor;
        const int dim = static_cast<int>(pick(0, LLA_MAX_DIMS - 1));
        switch (pick(0, 8)) {
            case 0: t.data = nullptr; break;
            case 1: t.data = static_cast<char*>(t.data) + pick(1, 3); break;
            case 2: t.data = slots[static_cast<size_t>(pick(0, static_cast<int64_t>(slots.size()) - 1))].tensor->data; break;
            case 3: t.ndim = static_cast<int32_t>(pick(-1, LLA_MAX_DIMS + 1)); break;
            case 4: t.dtype = static_cast<int32_t>(pick(-1, 5)); break;
            case 5: t.device_type = static_cast<int32_t>(pick(-1, 2)); break;
            case 6: t.device_index = static_cast<int32_t>(pick(-1, 2)); break;
            case 7: t.shape[dim] = pick(-1, 8); break;
            default: t.strides[dim] = pick(-2, 40); break;
        }
        return s.name;
    }

    // Random values in the positions (and cu_seqlens) the call reads.
    std::string mutate_values(Call& call) {
        static const int64_t interesting[] = {-1, 0, 1, 2, 3, 5, 7, 8, 15, 16, 31, 1 << 20,
                                              int64_t{1} << 62, std::numeric_limits<int64_t>::max(),
                                              std::numeric_limits<int64_t>::min()};
        const bool cu = call.in.cu_seqlens.ndim == 1 && pick(0, 1) == 0;
        const lla_tensor& t = cu ? call.in.cu_seqlens : call.state_a.position;
        const int64_t value = pick(0, 2) == 0 ? pick(-100, 100) : interesting[pick(0, 14)];
        Call::set_int64(t, pick(0, t.shape[0] - 1), value);
        return cu ? "cu_seqlens" : call.slots()[0].name.find("src") == 0 ? "src.position"
                                   : call.entry == Entry::Decode        ? "state.position"
                                                                        : "initial_state.position";
    }

private:
    std::string mutate_config(lla_config& c) {
        switch (pick(0, 4)) {
            case 0: c.variant = static_cast<int32_t>(pick(-1, 2)); break;
            case 1: c.backend = static_cast<int32_t>(pick(-1, 3)); break;
            case 2: c.math_mode = static_cast<int32_t>(pick(-1, 3)); break;
            case 3: c.num_threads = static_cast<int32_t>(pick(-2, 2)); break;
            default: c.scale = pick(0, 1) ? std::numeric_limits<double>::quiet_NaN() : -std::numeric_limits<double>::infinity(); break;
        }
        return "config";
    }

    std::mt19937 rng_;
};

// A rejected call names one of the mutated arguments. Messages may name the
// argument whose size another one contradicts, so the related names count:
// any argument a mutated one shares a dimension with is named as its source.
void check_outcome(Call& call, const std::vector<unsigned char>& before, const std::set<std::string>& mutated,
                   const std::string& trace) {
    SCOPED_TRACE(trace);
    const lla_status st = call.run();
    if (st == LLA_OK) return;
    const std::string message = lla_last_error();
    EXPECT_TRUE(st == LLA_ERROR_INVALID_ARGUMENT || st == LLA_ERROR_UNSUPPORTED) << lla_status_name(st) << ": " << message;
    EXPECT_FALSE(message.empty());
    bool named = false;
    for (const std::string& name : mutated) named = named || names_argument(message, name);
    EXPECT_TRUE(named) << "message names none of the mutated arguments: " << message;
    EXPECT_TRUE(call.memory() == before) << "a rejected call wrote memory: " << message;
}

class RandomBadInput : public testing::TestWithParam<Entry> {};

TEST_P(RandomBadInput, DescriptorsAndConfig) {
    Mutator m(1234u + static_cast<uint32_t>(GetParam()));
    for (int i = 0, n = iterations(); i < n; ++i) {
        Call call(GetParam(), LLA_DTYPE_FLOAT32, GetParam() != Entry::Decode && GetParam() != Entry::Convert && i % 2);
        std::set<std::string> mutated;
        std::string trace = std::string(entry_name(GetParam())) + " iteration " + std::to_string(i) + ":";
        const int64_t count = m.pick(1, 3);
        for (int64_t j = 0; j < count; ++j) {
            const std::string name = m.mutate(call);
            mutated.insert(name);
            trace += " " + name;
        }
        check_outcome(call, call.memory(), mutated, trace);
    }
}

class RandomPositions : public testing::TestWithParam<Entry> {};

TEST_P(RandomPositions, PositionsAndOffsets) {
    Mutator m(777u + static_cast<uint32_t>(GetParam()));
    for (int i = 0, n = iterations(); i < n; ++i) {
        Call call(GetParam(), LLA_DTYPE_FLOAT32, GetParam() != Entry::Decode && GetParam() != Entry::Convert && i % 2);
        std::set<std::string> mutated;
        for (int64_t j = m.pick(1, 2); j > 0; --j) mutated.insert(m.mutate_values(call));
        // Messages about a position name the sequence and the levels it needs.
        mutated.insert("sequence");
        check_outcome(call, call.memory(), mutated, std::string(entry_name(GetParam())) + " iteration " + std::to_string(i));
    }
}

std::string entry_param_name(const testing::TestParamInfo<Entry>& info) { return entry_name(info.param); }

INSTANTIATE_TEST_SUITE_P(Entries, RandomBadInput,
                         testing::Values(Entry::Forward, Entry::Backward, Entry::Decode, Entry::Convert,
                                         Entry::ForwardWorkspace, Entry::BackwardWorkspace),
                         entry_param_name);
// The workspace queries read the same positions as forward and backward.
INSTANTIATE_TEST_SUITE_P(Entries, RandomPositions,
                         testing::Values(Entry::Forward, Entry::Backward, Entry::Decode, Entry::Convert),
                         entry_param_name);

}  // namespace
