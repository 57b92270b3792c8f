#include "core/tensor_check.h"

#include <algorithm>
#include <array>
#include <utility>
#include <limits>

#include "core/error.h"

namespace lla {

std::string dtype_name(int32_t dtype) {
    switch (dtype) {
        case LLA_DTYPE_FLOAT32: return "float32";
        case LLA_DTYPE_FLOAT64: return "float64";
        case LLA_DTYPE_BFLOAT16: return "bfloat16";
        case LLA_DTYPE_FLOAT16: return "float16";
        case LLA_DTYPE_INT64: return "int64";
        default: return concat("unknown dtype ", dtype);
    }
}

size_t dtype_size(int32_t dtype) {
    switch (dtype) {
        case LLA_DTYPE_FLOAT32: return 4;
        case LLA_DTYPE_FLOAT64: return 8;
        case LLA_DTYPE_BFLOAT16: return 2;
        case LLA_DTYPE_FLOAT16: return 2;
        case LLA_DTYPE_INT64: return 8;
        default: return 0;
    }
}

std::string device_name(int32_t device_type, int32_t device_index) {
    switch (device_type) {
        case LLA_DEVICE_CPU: return "cpu";
        case LLA_DEVICE_CUDA: return concat("cuda:", device_index);
        default: return concat("unknown device type ", device_type);
    }
}

namespace {

std::string shape_string(const lla_tensor& t) {
    std::string s = "[";
    for (int32_t i = 0; i < t.ndim; ++i) s += concat(i ? ", " : "", t.shape[i]);
    return s + "]";
}

std::string symbols_string(const std::vector<Extent>& expected) {
    std::string s = "[";
    for (size_t i = 0; i < expected.size(); ++i) s += concat(i ? ", " : "", expected[i].symbol);
    return s + "]";
}

// Largest element offset, with overflow detection.
bool max_offset(const lla_tensor& t, int64_t* out) {
    int64_t total = 0;
    for (int32_t i = 0; i < t.ndim; ++i) {
        int64_t step = 0;
        if (__builtin_mul_overflow(t.shape[i] - 1, t.strides[i], &step)) return false;
        if (__builtin_add_overflow(total, step, &total)) return false;
    }
    *out = total;
    return true;
}

}  // namespace

lla_status check_descriptor(const lla_tensor& t, const std::string& name) {
    if (t.ndim < 1 || t.ndim > LLA_MAX_DIMS)
        return set_error(LLA_ERROR_INVALID_ARGUMENT,
                         concat(name, ".ndim must be between 1 and ", LLA_MAX_DIMS, ", got ", t.ndim,
                                t.ndim == 0 ? " (the tensor is absent but required)" : ""));
    if (t.data == nullptr)
        return set_error(LLA_ERROR_INVALID_ARGUMENT,
                         concat(name, ".data is NULL (a present tensor, ndim ", t.ndim,
                                ", needs memory)"));
    const size_t elem = dtype_size(t.dtype);
    if (elem == 0)
        return set_error(LLA_ERROR_INVALID_ARGUMENT,
                         concat(name, ".dtype must be an lla_dtype (0..4), got ", t.dtype));
    if (t.device_type != LLA_DEVICE_CPU && t.device_type != LLA_DEVICE_CUDA)
        return set_error(LLA_ERROR_INVALID_ARGUMENT,
                         concat(name, ".device_type must be LLA_DEVICE_CPU (0) or LLA_DEVICE_CUDA (1), got ",
                                t.device_type));
    if (t.device_type == LLA_DEVICE_CPU && t.device_index != 0)
        return set_error(LLA_ERROR_INVALID_ARGUMENT,
                         concat(name, ".device_index must be 0 for a CPU tensor, got ", t.device_index));
    if (t.device_index < 0)
        return set_error(LLA_ERROR_INVALID_ARGUMENT,
                         concat(name, ".device_index must be >= 0, got ", t.device_index));
    for (int32_t i = 0; i < t.ndim; ++i) {
        if (t.shape[i] < 1)
            return set_error(LLA_ERROR_INVALID_ARGUMENT,
                             concat(name, ".shape[", i, "] must be >= 1, got ", t.shape[i],
                                    " (shape ", shape_string(t), ")"));
        if (t.strides[i] < 0)
            return set_error(LLA_ERROR_INVALID_ARGUMENT,
                             concat(name, ".strides[", i, "] must be >= 0, got ", t.strides[i]));
    }
    if (reinterpret_cast<uintptr_t>(t.data) % elem != 0)
        return set_error(LLA_ERROR_INVALID_ARGUMENT,
                         concat(name, ".data must be aligned to ", elem, " bytes (", dtype_name(t.dtype),
                                "), got address ", t.data));
    int64_t last = 0;
    uintptr_t bytes = 0, end = 0;
    if (!max_offset(t, &last) ||
        __builtin_mul_overflow(static_cast<uint64_t>(last) + 1, elem, &bytes) ||
        __builtin_add_overflow(reinterpret_cast<uintptr_t>(t.data), bytes, &end))
        return set_error(LLA_ERROR_INVALID_ARGUMENT,
                         concat(name, ": shape ", shape_string(t),
                                " with its strides spans more memory than can be addressed"));
    return LLA_OK;
}

lla_status check_shape(const lla_tensor& t, const std::string& name,
                       const std::vector<Extent>& expected) {
    if (t.ndim != static_cast<int32_t>(expected.size()))
        return set_error(LLA_ERROR_INVALID_ARGUMENT,
                         concat(name, " must have ", expected.size(), " dimensions ",
                                symbols_string(expected), ", got ndim ", t.ndim, " (shape ",
                                shape_string(t), ")"));
    for (size_t i = 0; i < expected.size(); ++i) {
        const Extent& e = expected[i];
        if (e.size != Extent::kAnySize && t.shape[i] != e.size)
            return set_error(LLA_ERROR_INVALID_ARGUMENT,
                             concat(name, ".shape[", i, "] (", e.symbol, ", ", e.meaning,
                                    ") must equal ", e.source, " = ", e.size, ", got ", t.shape[i]));
    }
    return LLA_OK;
}

lla_status check_dtype(const lla_tensor& t, const std::string& name,
                       std::initializer_list<int32_t> allowed, const std::string& rule) {
    if (std::find(allowed.begin(), allowed.end(), t.dtype) != allowed.end()) return LLA_OK;
    std::string names;
    size_t i = 0;
    for (int32_t d : allowed) {
        names += concat(i == 0 ? "" : (i + 1 == allowed.size() ? " or " : ", "), dtype_name(d));
        ++i;
    }
    return set_error(LLA_ERROR_INVALID_ARGUMENT,
                     concat(name, ".dtype must be ", names, " (", rule, "), got ", dtype_name(t.dtype)));
}

lla_status check_no_self_overlap(const lla_tensor& t, const std::string& name) {
    std::array<int32_t, LLA_MAX_DIMS> order{};
    int32_t count = 0;
    for (int32_t i = 0; i < t.ndim; ++i)
        if (t.shape[i] > 1) order[count++] = i;
    // Insertion sort by stride (at most LLA_MAX_DIMS entries).
    for (int32_t j = 1; j < count; ++j)
        for (int32_t i = j; i > 0 && t.strides[order[i]] < t.strides[order[i - 1]]; --i)
            std::swap(order[i], order[i - 1]);
    int64_t span = 0;  // largest offset reachable with the dims seen so far
    for (int32_t j = 0; j < count; ++j) {
        const int32_t d = order[j];
        if (t.strides[d] <= span)
            return set_error(LLA_ERROR_INVALID_ARGUMENT,
                             concat(name, ".strides[", d, "] = ", t.strides[d],
                                    " makes output elements alias: it must exceed ", span,
                                    ", the largest offset of the dims with smaller strides"
                                    " (an output needs a distinct element for every index)"));
        span += (t.shape[d] - 1) * t.strides[d];
    }
    return LLA_OK;
}

ByteRange byte_range(const lla_tensor& t) {
    int64_t last = 0;
    max_offset(t, &last);
    const uintptr_t begin = reinterpret_cast<uintptr_t>(t.data);
    return {begin, begin + (static_cast<uintptr_t>(last) + 1) * dtype_size(t.dtype)};
}

}  // namespace lla
