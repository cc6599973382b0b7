// AArch64 Advanced SIMD (NEON) kernels. NEON is part of the AArch64 base ISA, so no target
// attribute or run-time check is needed; other architectures get no table.
#include "core/distance/kernels_impl.hpp"

#if defined(__aarch64__)

#include <arm_neon.h>

#include <cmath>

namespace piramid::distance::detail {
namespace {

// 4 floats per register, four accumulators (16 floats per iteration) to cover FMA latency,
// then a 4-wide loop and a scalar tail.

float l2sq_neon(const float* a, const float* b, size_t n) {
    float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const float32x4_t d0 = vsubq_f32(vld1q_f32(a + i), vld1q_f32(b + i));
        const float32x4_t d1 = vsubq_f32(vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
        const float32x4_t d2 = vsubq_f32(vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
        const float32x4_t d3 = vsubq_f32(vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
        s0 = vfmaq_f32(s0, d0, d0);
        s1 = vfmaq_f32(s1, d1, d1);
        s2 = vfmaq_f32(s2, d2, d2);
        s3 = vfmaq_f32(s3, d3, d3);
    }
    for (; i + 4 <= n; i += 4) {
        const float32x4_t d = vsubq_f32(vld1q_f32(a + i), vld1q_f32(b + i));
        s0 = vfmaq_f32(s0, d, d);
    }
    float s = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
    for (; i < n; ++i) {
        const float d = a[i] - b[i];
        s += d * d;
    }
    return s;
}

float dot_neon(const float* a, const float* b, size_t n) {
    float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
        s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
        s2 = vfmaq_f32(s2, vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
        s3 = vfmaq_f32(s3, vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
    }
    for (; i + 4 <= n; i += 4) s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
    float s = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
    for (; i < n; ++i) s += a[i] * b[i];
    return s;
}

float l1_neon(const float* a, const float* b, size_t n) {
    float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = vaddq_f32(s0, vabdq_f32(vld1q_f32(a + i), vld1q_f32(b + i)));
        s1 = vaddq_f32(s1, vabdq_f32(vld1q_f32(a + i + 4), vld1q_f32(b + i + 4)));
        s2 = vaddq_f32(s2, vabdq_f32(vld1q_f32(a + i + 8), vld1q_f32(b + i + 8)));
        s3 = vaddq_f32(s3, vabdq_f32(vld1q_f32(a + i + 12), vld1q_f32(b + i + 12)));
    }
    for (; i + 4 <= n; i += 4) s0 = vaddq_f32(s0, vabdq_f32(vld1q_f32(a + i), vld1q_f32(b + i)));
    float s = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
    for (; i < n; ++i) s += std::fabs(a[i] - b[i]);
    return s;
}

void dot_norms_neon(const float* a, const float* b, size_t n, float* ab, float* aa, float* bb) {
    float32x4_t x0 = vdupq_n_f32(0.0f), x1 = x0, y0 = x0, y1 = x0, z0 = x0, z1 = x0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float32x4_t a0 = vld1q_f32(a + i), b0 = vld1q_f32(b + i);
        const float32x4_t a1 = vld1q_f32(a + i + 4), b1 = vld1q_f32(b + i + 4);
        x0 = vfmaq_f32(x0, a0, b0);
        y0 = vfmaq_f32(y0, a0, a0);
        z0 = vfmaq_f32(z0, b0, b0);
        x1 = vfmaq_f32(x1, a1, b1);
        y1 = vfmaq_f32(y1, a1, a1);
        z1 = vfmaq_f32(z1, b1, b1);
    }
    float x = vaddvq_f32(vaddq_f32(x0, x1));
    float y = vaddvq_f32(vaddq_f32(y0, y1));
    float z = vaddvq_f32(vaddq_f32(z0, z1));
    for (; i < n; ++i) {
        x += a[i] * b[i];
        y += a[i] * a[i];
        z += b[i] * b[i];
    }
    *ab = x;
    *aa = y;
    *bb = z;
}

template <float (*K)(const float*, const float*, size_t)>
void batch_neon(const float* q, const float* const* vecs, size_t count, size_t dim, float* out) {
    prefetch_batch_start(vecs, count, dim);
    for (size_t i = 0; i < count; ++i) {
        if (i + kPrefetchAhead < count) prefetch_head(vecs[i + kPrefetchAhead], dim);
        out[i] = K(q, vecs[i], dim);
    }
}

const Kernels kNeon{Isa::kNeon,
                    l2sq_neon,
                    dot_neon,
                    l1_neon,
                    dot_norms_neon,
                    batch_neon<l2sq_neon>,
                    batch_neon<dot_neon>,
                    batch_neon<l1_neon>};

}  // namespace

const Kernels* neon_table() {
    return &kNeon;
}

}  // namespace piramid::distance::detail

#else  // not AArch64

namespace piramid::distance::detail {
const Kernels* neon_table() {
    return nullptr;
}
}  // namespace piramid::distance::detail

#endif
