#pragma once
// bfloat16 as raw 16-bit patterns, for the CPU kernels that need no torch headers.
#include <cstdint>
#include <cstring>

namespace mpa::vlm::kernels {

inline float bf16ToFloat(std::uint16_t v)
{
    const std::uint32_t u = static_cast<std::uint32_t>(v) << 16;
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

// Round to nearest even, NaN kept quiet (c10::BFloat16's round_to_nearest_even).
inline std::uint16_t floatToBf16(float f)
{
    std::uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return static_cast<std::uint16_t>((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return static_cast<std::uint16_t>(u >> 16);
}

} // namespace mpa::vlm::kernels
