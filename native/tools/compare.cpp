#include "compare.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace lla::caseio {

double relative_error(const Array& got, const Array& ref) {
    if (got.shape != ref.shape) return std::numeric_limits<double>::infinity();
    double diff = 0, norm = 0;
    for (size_t i = 0; i < got.values.size(); ++i) {
        if (!std::isfinite(got.values[i])) return std::numeric_limits<double>::infinity();
        const double d = got.values[i] - ref.values[i];
        diff += d * d;
        norm += ref.values[i] * ref.values[i];
    }
    return norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

Array slice(const Array& a, int dim, int64_t begin, int64_t count) {
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < dim; ++i) outer *= a.shape[i];
    for (size_t i = dim + 1; i < a.shape.size(); ++i) inner *= a.shape[i];
    Array s{a.shape, {}};
    s.shape[dim] = count;
    s.values.reserve(static_cast<size_t>(outer * count * inner));
    for (int64_t o = 0; o < outer; ++o) {
        const auto first = a.values.begin() + (o * a.shape[dim] + begin) * inner;
        s.values.insert(s.values.end(), first, first + count * inner);
    }
    return s;
}

double max_abs(const Array& a) {
    double m = 0;
    for (double x : a.values) m = std::isnan(x) ? x : std::max(m, std::fabs(x));
    return m;
}

StateError state_error(const Array& got, const Array& ref) {
    constexpr double kInf = std::numeric_limits<double>::infinity();
    if (got.shape.size() != 5 || ref.shape.size() != 5 || got.shape[2] < ref.shape[2]) return {kInf, kInf};
    for (int d : {0, 1, 3, 4})
        if (got.shape[d] != ref.shape[d]) return {kInf, kInf};
    const int64_t levels = ref.shape[2], extra = got.shape[2] - levels;
    return {relative_error(slice(got, 2, 0, levels), ref),
            extra > 0 ? max_abs(slice(got, 2, levels, extra)) : 0.0};
}

}  // namespace lla::caseio
