// A golden-format case: a folder with case.json (variant, scale, shapes,
// cu_seqlens, state_position) and .npy arrays: inputs q k v g l [beta], the
// upstream gradient do, and (for reference cases) o, dq dk dv dg dl [dbeta],
// state. See docs/golden-format.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "npy.h"

namespace lla::caseio {

struct GoldenCase {
    std::string name;                  // folder name
    int32_t variant = 0;               // lla_variant
    double scale = 1.0;
    std::vector<int64_t> cu_seqlens;   // empty: not packed
    int64_t state_position = -1;       // -1: no state export
    std::map<std::string, Array> arrays;

    bool has(const std::string& array) const { return arrays.count(array) != 0; }
    // Throws std::runtime_error when the case has no such array.
    const Array& at(const std::string& array) const;
    bool is_gated_deltanet() const;
};

// Reads case.json and every .npy of the folder; checks the shapes case.json
// lists against the arrays. Throws std::runtime_error naming the problem.
GoldenCase load_case(const std::string& dir);

// Sub-folders of `root` that hold a case.json, sorted by name.
std::vector<std::string> list_case_dirs(const std::string& root);

}  // namespace lla::caseio
