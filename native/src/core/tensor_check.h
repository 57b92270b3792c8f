// Checks on single lla_tensor descriptors, shared by every entry point's
// validation (validate.cpp). Each check either returns LLA_OK or records a
// message naming the argument, the expected and the actual value (error.h)
// and returns the failing status.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "loglinear/loglinear.h"

namespace lla {

// Appends one part of a message as operator<< on a default std::ostream would
// write it, without a stream for the common types: some messages (argument
// sources, dtype rules) are built on every call, also when it is valid, and a
// stream costs microseconds (locale facets, dynamic_cast).
template <class T>
void append_part(std::string& s, const T& v) {
    using D = std::decay_t<T>;
    if constexpr (std::is_same_v<D, const char*> || std::is_same_v<D, char*>) {
        if (v != nullptr) s += v;  // a stream writes nothing for a null string
    } else if constexpr (std::is_same_v<D, std::string>) {
        s += v;
    } else if constexpr (std::is_same_v<D, char> || std::is_same_v<D, signed char> ||
                         std::is_same_v<D, unsigned char>) {
        s += static_cast<char>(v);
    } else if constexpr (std::is_same_v<D, bool>) {
        s += v ? '1' : '0';
    } else if constexpr (std::is_integral_v<D>) {
        s += std::to_string(v);
    } else if constexpr (std::is_floating_point_v<D>) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", static_cast<double>(v));  // the stream default: 6 significant digits
        s += buf;
    } else {
        std::ostringstream out;
        out << v;
        s += out.str();
    }
}

// Concatenates its arguments as operator<< would (for error messages).
template <class... Parts>
std::string concat(const Parts&... parts) {
    std::string s;
    (append_part(s, parts), ...);
    return s;
}

// "float32", "float64", "bfloat16", "float16", "int64", or "unknown dtype 9".
std::string dtype_name(int32_t dtype);
// Bytes per element; 0 for an unknown dtype.
size_t dtype_size(int32_t dtype);
// "cpu" or "cuda:1" (or "unknown device type 7").
std::string device_name(int32_t device_type, int32_t device_index);

inline bool is_present(const lla_tensor& t) { return t.ndim != 0; }

// One expected dimension: its size (kAnySize: not constrained here), its
// symbol and meaning for messages ("G", "groups"), and where the expected
// size comes from ("q.shape[2]").
struct Extent {
    static constexpr int64_t kAnySize = -1;
    int64_t size;
    const char* symbol;
    const char* meaning;
    std::string source;
};

// A present, well-formed descriptor: ndim in 1..LLA_MAX_DIMS, non-NULL data
// aligned to its element, known dtype and device, every dim >= 1, strides
// >= 0, and an element span that fits in the address space.
lla_status check_descriptor(const lla_tensor& t, const std::string& name);
// ndim and every dim as expected; message e.g. "k.shape[2] (G, groups) must
// equal q.shape[2] = 2, got 3".
lla_status check_shape(const lla_tensor& t, const std::string& name,
                       const std::vector<Extent>& expected);
// dtype is one of `allowed`; `rule` says why, e.g. "as q".
lla_status check_dtype(const lla_tensor& t, const std::string& name,
                       std::initializer_list<int32_t> allowed, const std::string& rule);
// No two elements of an output share memory (a zero stride on a dim of size
// > 1, or strides that interleave). Sufficient test: sorted by stride, each
// stride is at least the span of all smaller-stride dims.
lla_status check_no_self_overlap(const lla_tensor& t, const std::string& name);

// Half-open byte interval [begin, end) a valid descriptor may touch.
struct ByteRange {
    uintptr_t begin;
    uintptr_t end;
    bool overlaps(const ByteRange& other) const { return begin < other.end && other.begin < end; }
};
ByteRange byte_range(const lla_tensor& t);

}  // namespace lla
