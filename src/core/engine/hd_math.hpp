// Per-element distance math shared by the CUDA kernels and the CPU reference. Under nvcc the
// functions are __host__ __device__; elsewhere they are plain inline functions, so the exact math
// the kernels run is unit-tested on machines without a GPU.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>

#if defined(__CUDACC__)
#define PIRAMID_HD __host__ __device__ __forceinline__
#else
#define PIRAMID_HD inline
#endif

namespace piramid::engine::hd {

// Metric codes (same values as piramid::distance::Metric; plain ints cross the plugin ABI).
enum : int { kL2 = 0, kInnerProduct = 1, kCosine = 2, kL1 = 3 };

// The term one dimension contributes to the accumulator. Cosine accumulates the dot product;
// the norms are accumulated separately with kInnerProduct terms of a vector with itself.
template <int M>
PIRAMID_HD float term(float a, float b) {
    if constexpr (M == kL2) {
        const float d = a - b;
        return d * d;
    } else if constexpr (M == kL1) {
        return fabsf(a - b);
    } else {
        return a * b;
    }
}

PIRAMID_HD float term_rt(int metric, float a, float b) {
    switch (metric) {
        case kL2:
            return term<kL2>(a, b);
        case kL1:
            return term<kL1>(a, b);
        case kInnerProduct:
            return term<kInnerProduct>(a, b);
        default:
            return term<kCosine>(a, b);
    }
}

// A quiet NaN with the sign bit clear: radix sorts on float keys place it after +infinity.
PIRAMID_HD float positive_nan() {
#if defined(__CUDA_ARCH__)
    return __int_as_float(0x7fc00000);
#else
    return std::numeric_limits<float>::quiet_NaN();
#endif
}

// Turns an accumulator into the engine's distance (see engine.hpp). qq and bb are the squared
// norms of query and base vector (used by cosine only). Cosine is finished in double like the
// SQL operator, clamped to [0, 2], NaN when a norm is zero.
PIRAMID_HD float finalize(int metric, float acc, float qq, float bb) {
    switch (metric) {
        case kL2:
        case kL1:
            return acc;
        case kInnerProduct:
            return -acc;
        default: {
            const double denom = sqrt(static_cast<double>(qq) * static_cast<double>(bb));
            if (denom == 0.0) return positive_nan();
            double sim = static_cast<double>(acc) / denom;
            sim = sim > 1.0 ? 1.0 : (sim < -1.0 ? -1.0 : sim);
            return static_cast<float>(1.0 - sim);
        }
    }
}

// Maps NaN to the positive NaN and -0 to +0, so that every engine orders NaN distances last
// and a radix sort on float keys sees ties where the comparisons do.
PIRAMID_HD float canonical(float d) {
    return d != d ? positive_nan() : d + 0.0f;
}

// The CPU reference: one distance, the straightforward way, with the kernels' math.
inline float reference(int metric, const float* a, const float* b, size_t dim) {
    float acc = 0.0f, qq = 0.0f, bb = 0.0f;
    for (size_t i = 0; i < dim; ++i) {
        acc += term_rt(metric, a[i], b[i]);
        if (metric == kCosine) {
            qq += term<kInnerProduct>(a[i], a[i]);
            bb += term<kInnerProduct>(b[i], b[i]);
        }
    }
    return canonical(finalize(metric, acc, qq, bb));
}

}  // namespace piramid::engine::hd
