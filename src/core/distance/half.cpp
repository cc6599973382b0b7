// Half-precision conversion and the scalar reference kernels; the run-time choice of ISA for
// the half kernels.
#include "core/distance/half.hpp"

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace piramid::distance {

float half_to_float(half h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    const uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {  // subnormal: mant * 2^-24, exact in float
            const float f = static_cast<float>(mant) * 0x1p-24f;
            return sign != 0 ? -f : f;
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 112u) << 23) | (mant << 13);
    }
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

half float_to_half(float f) {
    uint32_t x;
    std::memcpy(&x, &f, sizeof x);
    const uint32_t sign = (x >> 16) & 0x8000u;
    const uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u)  // infinity or NaN (kept quiet)
        return static_cast<half>(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0u));
    if (ax >= 0x477ff000u)  // >= 65520 rounds to infinity
        return static_cast<half>(sign | 0x7c00u);
    if (ax < 0x38800000u) {  // below 2^-14: a subnormal half or zero
        float a;
        std::memcpy(&a, &ax, sizeof a);
        // a * 2^24 < 2^10 is exact; nearbyint rounds to nearest even. 1024 is the encoding of
        // the smallest normal, which is the right answer when it rounds up that far.
        return static_cast<half>(sign | static_cast<uint32_t>(std::nearbyint(a * 0x1p24f)));
    }
    uint32_t h = ((((ax >> 23) - 112u) << 10) | ((ax & 0x7fffffu) >> 13));
    const uint32_t rem = ax & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) != 0)) ++h;  // a carry may reach the exponent
    return static_cast<half>(sign | h);
}

namespace {

float l2sq_scalar(const half* a, const half* b, size_t n) {
    float s = 0.0f;
    for (size_t i = 0; i < n; ++i) {
        const float d = half_to_float(a[i]) - half_to_float(b[i]);
        s += d * d;
    }
    return s;
}

float dot_scalar(const half* a, const half* b, size_t n) {
    float s = 0.0f;
    for (size_t i = 0; i < n; ++i) s += half_to_float(a[i]) * half_to_float(b[i]);
    return s;
}

float l1_scalar(const half* a, const half* b, size_t n) {
    float s = 0.0f;
    for (size_t i = 0; i < n; ++i) s += std::fabs(half_to_float(a[i]) - half_to_float(b[i]));
    return s;
}

void dot_norms_scalar(const half* a, const half* b, size_t n, float* ab, float* aa, float* bb) {
    float x = 0.0f, y = 0.0f, z = 0.0f;
    for (size_t i = 0; i < n; ++i) {
        const float fa = half_to_float(a[i]), fb = half_to_float(b[i]);
        x += fa * fb;
        y += fa * fa;
        z += fb * fb;
    }
    *ab = x;
    *aa = y;
    *bb = z;
}

void to_float_scalar(const half* in, float* out, size_t n) {
    for (size_t i = 0; i < n; ++i) out[i] = half_to_float(in[i]);
}

void from_float_scalar(const float* in, half* out, size_t n) {
    for (size_t i = 0; i < n; ++i) out[i] = float_to_half(in[i]);
}

const HalfKernels kScalar{Isa::kScalar,     l2sq_scalar,     dot_scalar,       l1_scalar,
                          dot_norms_scalar, to_float_scalar, from_float_scalar};

}  // namespace

const HalfKernels& half_scalar() {
    return kScalar;
}

// SIMD tables: none yet; the scalar reference serves every ISA.
const HalfKernels* half_kernels_for(Isa isa) {
    return isa == Isa::kScalar ? &kScalar : nullptr;
}

const HalfKernels& half_best() {
    return kScalar;
}

}  // namespace piramid::distance
