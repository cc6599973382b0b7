// Half-precision conversion and the scalar reference kernels; the run-time choice of ISA for
// the half kernels (the SIMD tables are in half_x86.cpp and half_neon.cpp).
#include "core/distance/half.hpp"

#include <cmath>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "core/distance/half_impl.hpp"
#include "core/distance/kernels_impl.hpp"

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
        // Infinity, or NaN with its payload kept and the quiet bit set, as F16C's vcvtph2ps
        // does (so the scalar and SIMD conversions agree bit for bit).
        bits = sign | 0x7f800000u | (mant << 13) | (mant != 0 ? 0x00400000u : 0u);
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
    if (ax == 0x7f800000u) return static_cast<half>(sign | 0x7c00u);
    // NaN: quiet, with the top 9 bits of the payload kept, as F16C's vcvtps2ph does.
    if (ax > 0x7f800000u) return static_cast<half>(sign | 0x7e00u | ((ax >> 13) & 0x1ffu));
    if (ax >= 0x477ff000u)  // >= 65520 rounds to infinity
        return static_cast<half>(sign | 0x7c00u);
    if (ax < 0x38800000u) {  // below 2^-14: a subnormal half or zero
        // At most 2^-25 (half the smallest subnormal; the tie goes to the even 0): zero. This
        // covers float subnormals too.
        if (ax <= 0x33000000u) return static_cast<half>(sign);
        // |f| = m * 2^(e - 150) with a 24-bit m and e in [102, 112]; in units of 2^-24 that is
        // m >> (126 - e), rounded to nearest even in integers (no dependence on the FP rounding
        // mode or on flush-to-zero). A carry to 1024 is the smallest normal's encoding.
        const uint32_t m = (ax & 0x7fffffu) | 0x800000u;
        const uint32_t shift = 126u - (ax >> 23);
        uint32_t h = m >> shift;
        const uint32_t rem = m & ((1u << shift) - 1u), tie = 1u << (shift - 1u);
        if (rem > tie || (rem == tie && (h & 1u) != 0)) ++h;
        return static_cast<half>(sign | h);
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

namespace {

#if defined(__x86_64__)
bool cpu_has_f16c() {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
    return (ecx & bit_F16C) != 0;
}
#endif

bool cpu_has(Isa isa) {
    switch (isa) {
        case Isa::kScalar:
            return true;
#if defined(__x86_64__)
        case Isa::kAvx2:
            // libgcc reports AVX2 only when the OS saves the YMM state, which F16C needs too.
            __builtin_cpu_init();
            return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                   cpu_has_f16c();
        case Isa::kAvx512:
            // BW and VL for the 16-bit masked loads and stores of the tails.
            __builtin_cpu_init();
            return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                   __builtin_cpu_supports("avx512vl");
#endif
#if defined(__aarch64__)
        case Isa::kNeon:
            return true;  // Advanced SIMD, with its half<->float conversions, is mandatory
#endif
        default:
            return false;
    }
}

const HalfKernels* resolve() {
    return detail::resolve_table<HalfKernels>([](Isa isa) { return half_kernels_for(isa); },
                                              &kScalar);
}

}  // namespace

const HalfKernels* half_kernels_for(Isa isa) {
    if (!cpu_has(isa)) return nullptr;
    switch (isa) {
        case Isa::kScalar:
            return &kScalar;
        case Isa::kAvx2:
            return detail::half_avx2_table();
        case Isa::kAvx512:
            return detail::half_avx512_table();
        case Isa::kNeon:
            return detail::half_neon_table();
    }
    return nullptr;
}

const HalfKernels& half_best() {
    static const HalfKernels* const chosen = resolve();  // once, thread-safe
    return *chosen;
}

}  // namespace piramid::distance
