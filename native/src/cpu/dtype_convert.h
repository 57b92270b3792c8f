// Scalar conversions between the API's storage dtypes and the compute
// precision (float or double). bfloat16 and float16 are stored as raw 16-bit
// patterns; conversions to them round to nearest, ties to even.
#pragma once

#include <cstdint>
#include <cstring>

namespace lla::cpu {

inline float bits_to_float(uint32_t bits) {
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

inline uint32_t float_to_bits(float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    return bits;
}

inline float bf16_to_float(uint16_t h) { return bits_to_float(static_cast<uint32_t>(h) << 16); }

inline uint16_t float_to_bf16(float f) {
    uint32_t bits = float_to_bits(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);  // quiet NaN
    uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
    return static_cast<uint16_t>((bits + rounding) >> 16);
}

inline float f16_to_float(uint16_t h) {
    uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1fu;
    uint32_t mantissa = h & 0x3ffu;
    if (exponent == 0x1fu) return bits_to_float(sign | 0x7f800000u | (mantissa << 13));  // inf, NaN
    if (exponent == 0) {
        if (mantissa == 0) return bits_to_float(sign);
        // Subnormal: value = mantissa * 2^-24, exact in float.
        float magnitude = static_cast<float>(mantissa) * (1.0f / 16777216.0f);
        return sign ? -magnitude : magnitude;
    }
    return bits_to_float(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

inline uint16_t float_to_f16(float f) {
    uint32_t bits = float_to_bits(f);
    uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
    uint32_t magnitude = bits & 0x7fffffffu;
    if (magnitude > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);  // NaN
    if (magnitude >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to inf
    if (magnitude < 0x38800000u) {
        // Result is subnormal (or zero): round magnitude * 2^24 to an integer.
        if (magnitude < 0x33000000u) return sign;  // below half the smallest subnormal
        uint32_t exponent = magnitude >> 23;
        uint32_t mantissa = (magnitude & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126u - exponent;  // 14..24
        uint32_t half = 1u << (shift - 1);
        uint32_t rest = mantissa & ((1u << shift) - 1u);
        uint32_t value = mantissa >> shift;
        if (rest > half || (rest == half && (value & 1u))) ++value;
        return static_cast<uint16_t>(sign | value);
    }
    // Normal: rebias the exponent and round the mantissa to 10 bits.
    uint32_t rebased = magnitude - (112u << 23);
    uint32_t rounding = 0xfffu + ((rebased >> 13) & 1u);
    return static_cast<uint16_t>(sign | ((rebased + rounding) >> 13));
}

}  // namespace lla::cpu
