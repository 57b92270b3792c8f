#include "golden_case.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "loglinear/loglinear.h"

namespace lla::caseio {

namespace fs = std::filesystem;

const Array& GoldenCase::at(const std::string& array) const {
    const auto it = arrays.find(array);
    if (it == arrays.end()) throw std::runtime_error("case " + name + " has no " + array + ".npy");
    return it->second;
}

bool GoldenCase::is_gated_deltanet() const { return variant == LLA_VARIANT_GATED_DELTANET; }

GoldenCase load_case(const std::string& dir) {
    const fs::path root(dir);
    const fs::path json_path = root / "case.json";
    std::ifstream in(json_path);
    if (!in) throw std::runtime_error(json_path.string() + ": cannot open");
    nlohmann::json meta;
    try {
        in >> meta;
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(json_path.string() + ": " + e.what());
    }

    GoldenCase c;
    c.name = root.filename().empty() ? root.parent_path().filename().string() : root.filename().string();
    const std::string variant = meta.value("variant", "m2");
    if (variant == "m2") c.variant = LLA_VARIANT_MAMBA2;
    else if (variant == "gdn") c.variant = LLA_VARIANT_GATED_DELTANET;
    else throw std::runtime_error(json_path.string() + ": variant must be \"m2\" or \"gdn\", got \"" + variant + "\"");
    c.scale = meta.value("scale", 1.0);
    if (meta.contains("cu_seqlens") && !meta["cu_seqlens"].is_null())
        c.cu_seqlens = meta["cu_seqlens"].get<std::vector<int64_t>>();
    if (meta.contains("state_position") && !meta["state_position"].is_null())
        c.state_position = meta["state_position"].get<int64_t>();

    for (const auto& entry : fs::directory_iterator(root))
        if (entry.path().extension() == ".npy")
            c.arrays[entry.path().stem().string()] = read_npy(entry.path().string());

    for (const char* required : {"q", "k", "v", "g", "l", "do"}) c.at(required);
    if (c.is_gated_deltanet()) c.at("beta");
    if (meta.contains("shapes"))
        for (const auto& [array, shape] : meta["shapes"].items()) {
            const Array& a = c.at(array);
            if (a.shape != shape.get<std::vector<int64_t>>())
                throw std::runtime_error(json_path.string() + ": shapes." + array + " is " + shape.dump() +
                                         " but " + array + ".npy has shape " + a.shape_string());
        }
    return c;
}

std::vector<std::string> list_case_dirs(const std::string& root) {
    std::vector<std::string> dirs;
    for (const auto& entry : fs::directory_iterator(root))
        if (entry.is_directory() && fs::exists(entry.path() / "case.json")) dirs.push_back(entry.path().string());
    std::sort(dirs.begin(), dirs.end());
    return dirs;
}

}  // namespace lla::caseio
