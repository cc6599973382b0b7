// The scalar reference kernels, the run-time choice of ISA, and cosine_distance.
#include "core/distance/distance.hpp"

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "core/distance/kernels_impl.hpp"

namespace piramid::distance {
namespace {

// The reference: one accumulator, in index order. Without -ffast-math the compiler keeps this
// order (float addition is not associative), so these are true scalar loops on every build.
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

template <float (*K)(const float*, const float*, size_t)>
void batch_scalar(const float* q, const float* const* vecs, size_t count, size_t dim, float* out) {
    detail::prefetch_batch_start(vecs, count, dim);
    for (size_t i = 0; i < count; ++i) {
        if (i + detail::kPrefetchAhead < count)
            detail::prefetch_head(vecs[i + detail::kPrefetchAhead], dim);
        out[i] = K(q, vecs[i], dim);
    }
}

const Kernels kScalar{Isa::kScalar,
                      l2sq_scalar,
                      dot_scalar,
                      l1_scalar,
                      dot_norms_scalar,
                      batch_scalar<l2sq_scalar>,
                      batch_scalar<dot_scalar>,
                      batch_scalar<l1_scalar>};

bool cpu_has(Isa isa) {
    switch (isa) {
        case Isa::kScalar:
            return true;
#if defined(__x86_64__)
        case Isa::kAvx2:
            __builtin_cpu_init();  // idempotent; needed if called before libgcc's constructor
            return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        case Isa::kAvx512:
            __builtin_cpu_init();
            return __builtin_cpu_supports("avx512f");
#endif
#if defined(__aarch64__)
        case Isa::kNeon:
            return true;  // Advanced SIMD is mandatory on AArch64
#endif
        default:
            return false;
    }
}

const Kernels* resolve() {
    return detail::resolve_table<Kernels>([](Isa isa) { return kernels_for(isa); }, &kScalar);
}

}  // namespace

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::kScalar:
            return "scalar";
        case Isa::kAvx2:
            return "avx2";
        case Isa::kAvx512:
            return "avx512";
        case Isa::kNeon:
            return "neon";
    }
    return "unknown";
}

const Kernels& scalar() {
    return kScalar;
}

const Kernels& best() {
    // A function-local static: initialised once, thread-safe, and after that a single load.
    static const Kernels* const chosen = resolve();
    return *chosen;
}

const Kernels* kernels_for(Isa isa) {
    if (!cpu_has(isa)) return nullptr;
    switch (isa) {
        case Isa::kScalar:
            return &kScalar;
        case Isa::kAvx2:
            return detail::avx2_table();
        case Isa::kAvx512:
            return detail::avx512_table();
        case Isa::kNeon:
            return detail::neon_table();
    }
    return nullptr;
}

double cosine_distance(const float* a, const float* b, size_t n) {
    float ab, aa, bb;
    best().dot_norms(a, b, n, &ab, &aa, &bb);
    const double denom = std::sqrt(static_cast<double>(aa) * static_cast<double>(bb));
    if (denom == 0.0) return std::nan("");
    double sim = static_cast<double>(ab) / denom;
    // Rounding can push |sim| a little past 1; clamping keeps the distance within [0, 2].
    if (sim > 1.0) sim = 1.0;
    if (sim < -1.0) sim = -1.0;
    return 1.0 - sim;
}

}  // namespace piramid::distance
