// Valid calls of every entry point, with all tensors in one host arena, for
// the bad-input tests: a test mutates one argument, runs the call and checks
// the status, the message and that not one byte of the arena changed.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "loglinear/loglinear.h"

namespace lla_test {

// Host memory for every tensor of a call, with slack after each tensor so
// that mutated strides or shapes stay inside it.
class Arena {
public:
    Arena();
    // A dense tensor filled with small deterministic values (or `values`).
    lla_tensor tensor(int32_t dtype, const std::vector<int64_t>& shape, const std::vector<int64_t>& values = {});
    const std::vector<unsigned char>& bytes() const { return memory_; }

private:
    std::vector<unsigned char> memory_;
    size_t used_ = 0;
};

enum class Entry { Forward, Backward, Decode, Convert, ForwardWorkspace, BackwardWorkspace };
const char* entry_name(Entry entry);
void PrintTo(Entry entry, std::ostream* os);  // for GoogleTest messages

// One tensor argument of a call.
struct Slot {
    std::string name;
    lla_tensor* tensor;
    bool optional;  // absent (ndim 0) is allowed
    bool written;   // an output of the call
};

// Sizes: B = 2, T = 5, G = 2, H = 4, K = 3, V = 2 (packed: B = 1, cu_seqlens
// {0, 2, 5}); sequences continue from positions {3, 9} (decode and convert:
// {6, 11}); l and every state have exactly the levels the positions need, so
// one level less is an error. The backward passes d_final_state and asks for
// d_initial_state.
class Call {
public:
    // dtype: of q, k, v (g and states follow docs/c-api.md, "Shapes"). Forward
    // and backward carry an initial state in the decode form; forward exports
    // a final state.
    Call(Entry entry, int32_t dtype = LLA_DTYPE_FLOAT32, bool packed = false);
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;

    lla_status run();
    std::vector<Slot> slots();
    Slot slot(const std::string& name);
    // Everything the call may write: the arena and the workspace-size result.
    std::vector<unsigned char> memory() const;
    // Sets element i of a 1-D int64 tensor of the call (positions, cu_seqlens).
    static void set_int64(const lla_tensor& t, int64_t i, int64_t value);

    const Entry entry;
    lla_config config;
    lla_inputs in{};
    lla_state state_a{};  // forward/backward: initial_state; decode: state; convert: src
    lla_state state_b{};  // forward: final_state; convert: dst
    lla_tensor out{};     // forward/decode: o; backward: d_o
    lla_tensor d_final{}; // backward: d_final_state
    lla_gradients grads{};  // backward: with d_initial_state
    size_t workspace_bytes = 12345;  // result of the size queries

private:
    Arena arena_;
};

// Whether `message` names `argument` as a word ("q" in "q.shape[1]" or
// "as q," but not in "sequence").
bool names_argument(const std::string& message, const std::string& argument);

}  // namespace lla_test
