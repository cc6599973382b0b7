// AArch64 Advanced SIMD half-precision kernels: fcvtl widens 4 halves to floats (exact), sums in
// float with four accumulators; the last 1..3 elements go through the scalar conversion, which
// gives the same floats. Other architectures get no table.
#include "core/distance/half_impl.hpp"

#if defined(__aarch64__)

#include <arm_neon.h>

#include <cmath>

namespace piramid::distance::detail {
namespace {

inline float32x4_t load4(const half* p) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
}

float l2sq_neon(const half* a, const half* b, size_t n) {
    float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const float32x4_t d0 = vsubq_f32(load4(a + i), load4(b + i));
        const float32x4_t d1 = vsubq_f32(load4(a + i + 4), load4(b + i + 4));
        const float32x4_t d2 = vsubq_f32(load4(a + i + 8), load4(b + i + 8));
        const float32x4_t d3 = vsubq_f32(load4(a + i + 12), load4(b + i + 12));
        s0 = vfmaq_f32(s0, d0, d0);
        s1 = vfmaq_f32(s1, d1, d1);
        s2 = vfmaq_f32(s2, d2, d2);
        s3 = vfmaq_f32(s3, d3, d3);
    }
    for (; i + 4 <= n; i += 4) {
        const float32x4_t d = vsubq_f32(load4(a + i), load4(b + i));
        s0 = vfmaq_f32(s0, d, d);
    }
    float s = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
    for (; i < n; ++i) {
        const float d = half_to_float(a[i]) - half_to_float(b[i]);
        s += d * d;
    }
    return s;
}

float dot_neon(const half* a, const half* b, size_t n) {
    float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = vfmaq_f32(s0, load4(a + i), load4(b + i));
        s1 = vfmaq_f32(s1, load4(a + i + 4), load4(b + i + 4));
        s2 = vfmaq_f32(s2, load4(a + i + 8), load4(b + i + 8));
        s3 = vfmaq_f32(s3, load4(a + i + 12), load4(b + i + 12));
    }
    for (; i + 4 <= n; i += 4) s0 = vfmaq_f32(s0, load4(a + i), load4(b + i));
    float s = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
    for (; i < n; ++i) s += half_to_float(a[i]) * half_to_float(b[i]);
    return s;
}

float l1_neon(const half* a, const half* b, size_t n) {
    float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = vaddq_f32(s0, vabdq_f32(load4(a + i), load4(b + i)));
        s1 = vaddq_f32(s1, vabdq_f32(load4(a + i + 4), load4(b + i + 4)));
        s2 = vaddq_f32(s2, vabdq_f32(load4(a + i + 8), load4(b + i + 8)));
        s3 = vaddq_f32(s3, vabdq_f32(load4(a + i + 12), load4(b + i + 12)));
    }
    for (; i + 4 <= n; i += 4) s0 = vaddq_f32(s0, vabdq_f32(load4(a + i), load4(b + i)));
    float s = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
    for (; i < n; ++i) s += std::fabs(half_to_float(a[i]) - half_to_float(b[i]));
    return s;
}

void dot_norms_neon(const half* a, const half* b, size_t n, float* ab, float* aa, float* bb) {
    float32x4_t x0 = vdupq_n_f32(0.0f), x1 = x0, y0 = x0, y1 = x0, z0 = x0, z1 = x0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float32x4_t a0 = load4(a + i), b0 = load4(b + i);
        const float32x4_t a1 = load4(a + i + 4), b1 = load4(b + i + 4);
        x0 = vfmaq_f32(x0, a0, b0);
        y0 = vfmaq_f32(y0, a0, a0);
        z0 = vfmaq_f32(z0, b0, b0);
        x1 = vfmaq_f32(x1, a1, b1);
        y1 = vfmaq_f32(y1, a1, a1);
        z1 = vfmaq_f32(z1, b1, b1);
    }
    float x = vaddvq_f32(vaddq_f32(x0, x1)), y = vaddvq_f32(vaddq_f32(y0, y1)),
          z = vaddvq_f32(vaddq_f32(z0, z1));
    for (; i < n; ++i) {
        const float fa = half_to_float(a[i]), fb = half_to_float(b[i]);
        x += fa * fb;
        y += fa * fa;
        z += fb * fb;
    }
    *ab = x;
    *aa = y;
    *bb = z;
}

void to_float_neon(const half* in, float* out, size_t n) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(out + i, load4(in + i));
    for (; i < n; ++i) out[i] = half_to_float(in[i]);
}

void from_float_neon(const float* in, half* out, size_t n) {
    // fcvtn rounds by FPCR's mode: to nearest even unless a program changed it.
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1_u16(out + i, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(in + i))));
    for (; i < n; ++i) out[i] = float_to_half(in[i]);
}

const HalfKernels kNeon{Isa::kNeon,     l2sq_neon,     dot_neon,       l1_neon,
                        dot_norms_neon, to_float_neon, from_float_neon};

}  // namespace

const HalfKernels* half_neon_table() {
    return &kNeon;
}

}  // namespace piramid::distance::detail

#else

namespace piramid::distance::detail {
const HalfKernels* half_neon_table() {
    return nullptr;
}
}  // namespace piramid::distance::detail

#endif
