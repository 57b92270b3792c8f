#include "valid_calls.h"

#include <cctype>
#include <cstring>
#include <stdexcept>

namespace lla_test {

namespace {

constexpr size_t kArenaBytes = 512 << 10;
constexpr size_t kSlackBytes = 16 << 10;

size_t element_size(int32_t dtype) {
    return dtype == LLA_DTYPE_FLOAT64 || dtype == LLA_DTYPE_INT64 ? 8 : dtype == LLA_DTYPE_FLOAT32 ? 4 : 2;
}

void store(unsigned char* p, int32_t dtype, double x) {
    if (dtype == LLA_DTYPE_FLOAT64) {
        std::memcpy(p, &x, 8);
    } else if (dtype == LLA_DTYPE_FLOAT32) {
        const float f = static_cast<float>(x);
        std::memcpy(p, &f, 4);
    } else if (dtype == LLA_DTYPE_BFLOAT16) {
        const float f = static_cast<float>(x);
        uint32_t u;
        std::memcpy(&u, &f, 4);
        const uint16_t h = static_cast<uint16_t>(u >> 16);
        std::memcpy(p, &h, 2);
    } else if (dtype == LLA_DTYPE_FLOAT16) {
        const uint16_t h = x < 0 ? 0xae66 : 0x2e66;  // -0.1 / 0.1: the sign is all a test needs
        std::memcpy(p, &h, 2);
    } else {
        const int64_t i = static_cast<int64_t>(x);
        std::memcpy(p, &i, 8);
    }
}

int32_t state_dtype(int32_t dtype) { return dtype == LLA_DTYPE_FLOAT64 ? LLA_DTYPE_FLOAT64 : LLA_DTYPE_FLOAT32; }

}  // namespace

Arena::Arena() : memory_(kArenaBytes, 0) {}

lla_tensor Arena::tensor(int32_t dtype, const std::vector<int64_t>& shape, const std::vector<int64_t>& values) {
    int64_t count = 1;
    for (int64_t d : shape) count *= d;
    const size_t bytes = static_cast<size_t>(count) * element_size(dtype);
    used_ = (used_ + 63) / 64 * 64;
    if (used_ + bytes + kSlackBytes > memory_.size()) throw std::length_error("test arena is full");
    unsigned char* base = memory_.data() + used_;
    used_ += bytes + kSlackBytes;
    for (int64_t i = 0; i < count; ++i) {
        // Small values of both signs; log decays (any floating tensor) stay finite.
        const double x = values.empty() ? 0.01 * static_cast<double>((i * 37) % 41 - 20) : static_cast<double>(values[i]);
        store(base + i * element_size(dtype), dtype, x);
    }
    lla_tensor t;
    if (lla_tensor_make_contiguous(&t, base, dtype, LLA_DEVICE_CPU, 0, static_cast<int32_t>(shape.size()), shape.data()) !=
        LLA_OK)
        throw std::runtime_error(std::string("lla_tensor_make_contiguous: ") + lla_last_error());
    return t;
}

const char* entry_name(Entry entry) {
    switch (entry) {
        case Entry::Forward: return "lla_forward";
        case Entry::Backward: return "lla_backward";
        case Entry::Decode: return "lla_decode_step";
        case Entry::Convert: return "lla_state_convert";
        case Entry::ForwardWorkspace: return "lla_forward_workspace_size";
        case Entry::BackwardWorkspace: return "lla_backward_workspace_size";
    }
    return "?";
}

void PrintTo(Entry entry, std::ostream* os) { *os << entry_name(entry); }

Call::Call(Entry e, int32_t dtype, bool packed) : entry(e), config(lla_config_default()) {
    const int64_t B = packed ? 1 : 2, T = 5, G = 2, H = 4, K = 3, V = 2, N = 2, L = 5;
    const int32_t gdt = state_dtype(dtype), sdt = state_dtype(dtype);
    config.num_threads = 1;
    if (entry == Entry::Convert) {
        state_a.levels = arena_.tensor(sdt, {N, H, L, K, V});
        state_a.position = arena_.tensor(LLA_DTYPE_INT64, {N}, {6, 11});
        state_b.levels = arena_.tensor(sdt, {N, H, L, K, V});
        state_b.log_decay = arena_.tensor(sdt, {N, H, L});
        state_b.position = arena_.tensor(LLA_DTYPE_INT64, {N}, {0, 0});
        return;
    }
    if (entry == Entry::Decode) {
        in.q = arena_.tensor(dtype, {N, G, K});
        in.k = arena_.tensor(dtype, {N, G, K});
        in.v = arena_.tensor(dtype, {N, H, V});
        in.g = arena_.tensor(gdt, {N, H});
        in.l = arena_.tensor(dtype, {N, H, L});
        out = arena_.tensor(dtype, {N, H, V});
        state_a.levels = arena_.tensor(sdt, {N, H, L, K, V});
        state_a.log_decay = arena_.tensor(sdt, {N, H, L});
        state_a.position = arena_.tensor(LLA_DTYPE_INT64, {N}, {6, 11});
        return;
    }
    in.q = arena_.tensor(dtype, {B, T, G, K});
    in.k = arena_.tensor(dtype, {B, T, G, K});
    in.v = arena_.tensor(dtype, {B, T, H, V});
    in.g = arena_.tensor(gdt, {B, T, H});
    in.l = arena_.tensor(dtype, {B, T, H, L});
    if (packed) in.cu_seqlens = arena_.tensor(LLA_DTYPE_INT64, {N + 1}, {0, 2, 5});
    state_a.levels = arena_.tensor(sdt, {N, H, L, K, V});
    state_a.log_decay = arena_.tensor(sdt, {N, H, L});
    state_a.position = arena_.tensor(LLA_DTYPE_INT64, {N}, {3, 9});
    if (entry == Entry::Forward) {
        out = arena_.tensor(dtype, {B, T, H, V});
        state_b.levels = arena_.tensor(sdt, {N, H, L, K, V});
        state_b.position = arena_.tensor(LLA_DTYPE_INT64, {N}, {0, 0});
    } else if (entry == Entry::Backward) {
        out = arena_.tensor(dtype, {B, T, H, V});
        grads.dq = arena_.tensor(dtype, {B, T, G, K});
        grads.dk = arena_.tensor(dtype, {B, T, G, K});
        grads.dv = arena_.tensor(dtype, {B, T, H, V});
        grads.dg = arena_.tensor(gdt, {B, T, H});
        grads.dl = arena_.tensor(dtype, {B, T, H, L});
        d_final = arena_.tensor(sdt, {N, H, L, K, V});
        grads.d_initial_state = arena_.tensor(sdt, {N, H, L, K, V});
    }
}

lla_status Call::run() {
    switch (entry) {
        case Entry::Forward: return lla_forward(&config, &in, &state_a, &out, &state_b, nullptr, 0, nullptr);
        case Entry::Backward: return lla_backward(&config, &in, &state_a, &out, &d_final, &grads, nullptr, 0, nullptr);
        case Entry::Decode: return lla_decode_step(&config, &in, &state_a, &out, nullptr);
        case Entry::Convert: return lla_state_convert(&config, &state_a, &state_b, nullptr);
        case Entry::ForwardWorkspace: return lla_forward_workspace_size(&config, &in, &state_a, &workspace_bytes);
        case Entry::BackwardWorkspace: return lla_backward_workspace_size(&config, &in, &state_a, &workspace_bytes);
    }
    return LLA_ERROR_INTERNAL;
}

std::vector<Slot> Call::slots() {
    std::vector<Slot> s;
    if (entry == Entry::Convert) {
        s = {{"src.levels", &state_a.levels, false, false}, {"src.log_decay", &state_a.log_decay, true, false},
             {"src.position", &state_a.position, false, false}, {"dst.levels", &state_b.levels, false, true},
             {"dst.log_decay", &state_b.log_decay, true, true}, {"dst.position", &state_b.position, false, true}};
        return s;
    }
    s = {{"q", &in.q, false, false}, {"k", &in.k, false, false},       {"v", &in.v, false, false},
         {"g", &in.g, false, false}, {"l", &in.l, false, false},       {"beta", &in.beta, true, false},
         {"cu_seqlens", &in.cu_seqlens, true, false}};
    const std::string state = entry == Entry::Decode ? "state" : "initial_state";
    const bool state_written = entry == Entry::Decode;
    s.push_back({state + ".levels", &state_a.levels, false, state_written});
    s.push_back({state + ".log_decay", &state_a.log_decay, true, state_written});
    s.push_back({state + ".position", &state_a.position, false, state_written});
    if (entry == Entry::Forward || entry == Entry::Decode) s.push_back({"o", &out, false, true});
    if (entry == Entry::Forward) {
        s.push_back({"final_state.levels", &state_b.levels, false, true});
        s.push_back({"final_state.log_decay", &state_b.log_decay, true, true});
        s.push_back({"final_state.position", &state_b.position, false, true});
    }
    if (entry == Entry::Backward) {
        s.push_back({"d_o", &out, false, false});
        s.push_back({"dq", &grads.dq, false, true});
        s.push_back({"dk", &grads.dk, false, true});
        s.push_back({"dv", &grads.dv, false, true});
        s.push_back({"dg", &grads.dg, false, true});
        s.push_back({"dl", &grads.dl, false, true});
        s.push_back({"dbeta", &grads.dbeta, true, true});
        s.push_back({"d_final_state", &d_final, true, false});
        s.push_back({"grads.d_initial_state", &grads.d_initial_state, true, true});
    }
    return s;
}

Slot Call::slot(const std::string& name) {
    for (const Slot& s : slots())
        if (s.name == name) return s;
    throw std::invalid_argument(std::string(entry_name(entry)) + " has no argument " + name);
}

std::vector<unsigned char> Call::memory() const {
    std::vector<unsigned char> m = arena_.bytes();
    const unsigned char* w = reinterpret_cast<const unsigned char*>(&workspace_bytes);
    m.insert(m.end(), w, w + sizeof workspace_bytes);
    return m;
}

void Call::set_int64(const lla_tensor& t, int64_t i, int64_t value) {
    std::memcpy(static_cast<int64_t*>(t.data) + i * t.strides[0], &value, sizeof value);
}

bool names_argument(const std::string& message, const std::string& argument) {
    const auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    for (size_t at = message.find(argument); at != std::string::npos; at = message.find(argument, at + 1)) {
        const size_t end = at + argument.size();
        const bool starts = at == 0 || (!word(message[at - 1]) && message[at - 1] != '.');
        const bool ends = end == message.size() || !word(message[end]);
        if (starts && ends) return true;
    }
    return false;
}

}  // namespace lla_test
