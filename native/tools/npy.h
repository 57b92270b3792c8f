// NumPy .npy files (format versions 1.0, 2.0, 3.0): the array format of the
// golden cases. Arrays are read into float64 whatever their stored dtype
// (little-endian float64, float32, int64 or int32, C order) and written as
// float64 version 1.0.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lla::caseio {

struct Array {
    std::vector<int64_t> shape;
    std::vector<double> values;  // C order

    int64_t size() const;
    std::string shape_string() const;  // "[2, 100, 4, 16]"
};

// Throws std::runtime_error naming the file and what is wrong with it.
Array read_npy(const std::string& path);
void write_npy(const std::string& path, const Array& array);

}  // namespace lla::caseio
