#include "core/distance/distance.hpp"

#include <cmath>

namespace piramid::distance {
namespace {

float l2sq_scalar(const float* a, const float* b, size_t n) {
    float s = 0.0f;
    for (size_t i = 0; i < n; ++i) {
        const float d = a[i] - b[i];
        s += d * d;
    }
    return s;
}

float dot_scalar(const float* a, const float* b, size_t n) {
    float s = 0.0f;
    for (size_t i = 0; i < n; ++i) s += a[i] * b[i];
    return s;
}

float l1_scalar(const float* a, const float* b, size_t n) {
    float s = 0.0f;
    for (size_t i = 0; i < n; ++i) s += std::fabs(a[i] - b[i]);
    return s;
}

void dot_norms_scalar(const float* a, const float* b, size_t n, float* ab, float* aa, float* bb) {
    float x = 0.0f, y = 0.0f, z = 0.0f;
    for (size_t i = 0; i < n; ++i) {
        x += a[i] * b[i];
        y += a[i] * a[i];
        z += b[i] * b[i];
    }
    *ab = x;
    *aa = y;
    *bb = z;
}

const Kernels kScalar{Isa::kScalar, l2sq_scalar, dot_scalar, l1_scalar, dot_norms_scalar};

}  // namespace

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::kScalar: return "scalar";
        case Isa::kAvx2: return "avx2";
        case Isa::kAvx512: return "avx512";
        case Isa::kNeon: return "neon";
    }
    return "unknown";
}

const Kernels& scalar() { return kScalar; }
const Kernels& best() { return kScalar; }
const Kernels* kernels_for(Isa isa) { return isa == Isa::kScalar ? &kScalar : nullptr; }

double cosine_distance(const float* a, const float* b, size_t n) {
    float ab, aa, bb;
    best().dot_norms(a, b, n, &ab, &aa, &bb);
    const double denom = std::sqrt(static_cast<double>(aa) * static_cast<double>(bb));
    if (denom == 0.0) return std::nan("");
    double sim = static_cast<double>(ab) / denom;
    if (sim > 1.0) sim = 1.0;
    if (sim < -1.0) sim = -1.0;
    return 1.0 - sim;
}

}  // namespace piramid::distance
