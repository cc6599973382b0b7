// Distance kernels over float32 vectors: a scalar reference and SIMD versions chosen at run time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace piramid::distance {

enum class Metric : uint8_t { kL2 = 0, kInnerProduct = 1, kCosine = 2, kL1 = 3 };

enum class Isa : uint8_t { kScalar = 0, kAvx2 = 1, kAvx512 = 2, kNeon = 3 };

const char* isa_name(Isa isa);

// One set of kernels. All take n >= 0 and unaligned pointers.
struct Kernels {
    Isa isa;
    float (*l2sq)(const float* a, const float* b, size_t n);  // sum (a-b)^2
    float (*dot)(const float* a, const float* b, size_t n);   // sum a*b
    float (*l1)(const float* a, const float* b, size_t n);    // sum |a-b|
    // dot(a,b), |a|^2 and |b|^2 in one pass (for cosine)
    void (*dot_norms)(const float* a, const float* b, size_t n, float* ab, float* aa, float* bb);
};

// The best kernels this CPU supports (resolved once, thread-safe).
const Kernels& best();
// The kernels for one ISA; nullptr when this build or CPU lacks it.
const Kernels* kernels_for(Isa isa);
// The scalar reference.
const Kernels& scalar();

// Convenience wrappers on best().
inline float l2sq(const float* a, const float* b, size_t n) { return best().l2sq(a, b, n); }
inline float dot(const float* a, const float* b, size_t n) { return best().dot(a, b, n); }
inline float l1(const float* a, const float* b, size_t n) { return best().l1(a, b, n); }

// Cosine distance 1 - a.b / (|a||b|) computed in double from float sums, clamped to [0, 2];
// NaN when either vector has norm 0 (as pgvector does).
double cosine_distance(const float* a, const float* b, size_t n);

}  // namespace piramid::distance
