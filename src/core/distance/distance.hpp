// Distance kernels over float32 vectors: a scalar reference and SIMD versions chosen at run time.
//
// One binary runs on any CPU of its architecture: the SIMD kernels are compiled with per-function
// target attributes (no -march flag) and picked once, at first use, from what the CPU reports.
// The environment variable PIRAMID_SIMD=scalar|avx2|avx512|neon forces one ISA (when this CPU
// and build have it; otherwise it is ignored), for tests and benchmarks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace piramid::distance {

enum class Metric : uint8_t { kL2 = 0, kInnerProduct = 1, kCosine = 2, kL1 = 3 };

enum class Isa : uint8_t { kScalar = 0, kAvx2 = 1, kAvx512 = 2, kNeon = 3 };

const char* isa_name(Isa isa);

// One query against `count` vectors of `dim` floats: out[i] = kernel(q, vecs[i], dim).
// For HNSW neighbour lists scattered in memory: it prefetches the first 512 bytes of the vectors
// up to 32 places ahead (with __builtin_prefetch) so that their cache misses overlap.
using BatchFn = void (*)(const float* q, const float* const* vecs, size_t count, size_t dim,
                         float* out);

// One set of kernels. All take n >= 0 and unaligned pointers; n == 0 gives 0.
struct Kernels {
    Isa isa;
    float (*l2sq)(const float* a, const float* b, size_t n);  // sum (a-b)^2
    float (*dot)(const float* a, const float* b, size_t n);   // sum a*b
    float (*l1)(const float* a, const float* b, size_t n);    // sum |a-b|
    // dot(a,b), |a|^2 and |b|^2 in one pass (for cosine)
    void (*dot_norms)(const float* a, const float* b, size_t n, float* ab, float* aa, float* bb);
    BatchFn l2sq_batch;
    BatchFn dot_batch;
    BatchFn l1_batch;
};

// The best kernels this CPU supports (resolved once, thread-safe), or the ISA that PIRAMID_SIMD
// names when it is available.
const Kernels& best();
// The kernels for one ISA; nullptr when this build or CPU lacks it.
const Kernels* kernels_for(Isa isa);
// The scalar reference.
const Kernels& scalar();

// Convenience wrappers on best().
inline float l2sq(const float* a, const float* b, size_t n) {
    return best().l2sq(a, b, n);
}
inline float dot(const float* a, const float* b, size_t n) {
    return best().dot(a, b, n);
}
inline float l1(const float* a, const float* b, size_t n) {
    return best().l1(a, b, n);
}

inline void l2sq_batch(const float* q, const float* const* vecs, size_t count, size_t dim,
                       float* out) {
    best().l2sq_batch(q, vecs, count, dim, out);
}
inline void dot_batch(const float* q, const float* const* vecs, size_t count, size_t dim,
                      float* out) {
    best().dot_batch(q, vecs, count, dim, out);
}
inline void l1_batch(const float* q, const float* const* vecs, size_t count, size_t dim,
                     float* out) {
    best().l1_batch(q, vecs, count, dim, out);
}

// Cosine distance 1 - a.b / (|a||b|) computed in double from float sums, clamped to [0, 2];
// NaN when either vector has norm 0 (as pgvector does).
double cosine_distance(const float* a, const float* b, size_t n);

}  // namespace piramid::distance
