// AVX2+FMA and AVX-512F kernels. Each function carries its own target attribute, so this file
// builds with the project's plain flags and the instructions only run after kernels_for() has
// checked the CPU.
//
// Every kernel keeps four independent accumulators: an FMA has a latency of about four cycles and
// a throughput of two per cycle, so a single accumulator chain would leave most of the FMA units
// idle. Tails are read with masked loads (masked-off lanes read as 0 and never fault), which
// keeps short and odd dimensions on the vector path.
#include "core/distance/kernels_impl.hpp"

#if defined(__x86_64__)

// GCC 12's AVX-512 headers initialise their "undefined" placeholder registers from themselves
// (GCC PR105593), which -Wuninitialized reports at every inlined use. The state is recorded per
// source location, so ignoring the warning for the header's own lines silences only that.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif

#include <cstdint>

#define PIRAMID_AVX2 __attribute__((target("avx2,fma")))
#define PIRAMID_AVX512 __attribute__((target("avx512f")))

namespace piramid::distance::detail {
namespace {

// ---------------------------------------------------------------------------------------------
// AVX2 + FMA: 8 floats per register, 32 per main-loop iteration.

// Eight -1 then eight 0: loading 8 int32 from &kTailMask[8 - r] gives a mask of r leading lanes.
alignas(64) constexpr int32_t kTailMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                               0,  0,  0,  0,  0,  0,  0,  0};

PIRAMID_AVX2 inline __m256i tail_mask8(size_t r) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kTailMask + 8 - r));
}

PIRAMID_AVX2 inline float hsum8(__m256 v) {
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

PIRAMID_AVX2 inline __m256 abs8(__m256 v) {
    return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v);
}

PIRAMID_AVX2 float l2sq_avx2(const float* a, const float* b, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
        const __m256 d2 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
        const __m256 d3 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));
        s0 = _mm256_fmadd_ps(d0, d0, s0);
        s1 = _mm256_fmadd_ps(d1, d1, s1);
        s2 = _mm256_fmadd_ps(d2, d2, s2);
        s3 = _mm256_fmadd_ps(d3, d3, s3);
    }
    for (; i + 8 <= n; i += 8) {
        const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        s0 = _mm256_fmadd_ps(d, d, s0);
    }
    if (i < n) {
        const __m256i m = tail_mask8(n - i);
        const __m256 d = _mm256_sub_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m));
        s1 = _mm256_fmadd_ps(d, d, s1);
    }
    return hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

PIRAMID_AVX2 float dot_avx2(const float* a, const float* b, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    }
    if (i < n) {
        const __m256i m = tail_mask8(n - i);
        s1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m), s1);
    }
    return hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

PIRAMID_AVX2 float l1_avx2(const float* a, const float* b, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_add_ps(s0, abs8(_mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i))));
        s1 = _mm256_add_ps(
            s1, abs8(_mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8))));
        s2 = _mm256_add_ps(
            s2, abs8(_mm256_sub_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16))));
        s3 = _mm256_add_ps(
            s3, abs8(_mm256_sub_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24))));
    }
    for (; i + 8 <= n; i += 8) {
        s0 = _mm256_add_ps(s0, abs8(_mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i))));
    }
    if (i < n) {
        const __m256i m = tail_mask8(n - i);
        s1 = _mm256_add_ps(
            s1, abs8(_mm256_sub_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m))));
    }
    return hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

PIRAMID_AVX2 void dot_norms_avx2(const float* a, const float* b, size_t n, float* ab, float* aa,
                                 float* bb) {
    // Two iterations' worth of three sums: six independent chains.
    __m256 x0 = _mm256_setzero_ps(), x1 = x0, y0 = x0, y1 = x0, z0 = x0, z1 = x0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256 a0 = _mm256_loadu_ps(a + i), b0 = _mm256_loadu_ps(b + i);
        const __m256 a1 = _mm256_loadu_ps(a + i + 8), b1 = _mm256_loadu_ps(b + i + 8);
        x0 = _mm256_fmadd_ps(a0, b0, x0);
        y0 = _mm256_fmadd_ps(a0, a0, y0);
        z0 = _mm256_fmadd_ps(b0, b0, z0);
        x1 = _mm256_fmadd_ps(a1, b1, x1);
        y1 = _mm256_fmadd_ps(a1, a1, y1);
        z1 = _mm256_fmadd_ps(b1, b1, z1);
    }
    for (; i < n; i += 8) {
        // Also covers the tail: the mask is all ones until the last partial register.
        const __m256i m = tail_mask8(n - i < 8 ? n - i : 8);
        const __m256 a0 = _mm256_maskload_ps(a + i, m), b0 = _mm256_maskload_ps(b + i, m);
        x0 = _mm256_fmadd_ps(a0, b0, x0);
        y0 = _mm256_fmadd_ps(a0, a0, y0);
        z0 = _mm256_fmadd_ps(b0, b0, z0);
    }
    *ab = hsum8(_mm256_add_ps(x0, x1));
    *aa = hsum8(_mm256_add_ps(y0, y1));
    *bb = hsum8(_mm256_add_ps(z0, z1));
}

template <float (*K)(const float*, const float*, size_t)>
PIRAMID_AVX2 void batch_avx2(const float* q, const float* const* vecs, size_t count, size_t dim,
                             float* out) {
    prefetch_batch_start(vecs, count, dim);
    for (size_t i = 0; i < count; ++i) {
        if (i + kPrefetchAhead < count) prefetch_head(vecs[i + kPrefetchAhead], dim);
        out[i] = K(q, vecs[i], dim);
    }
}

// ---------------------------------------------------------------------------------------------
// AVX-512F: 16 floats per register, 64 per main-loop iteration, tails with a k-mask.

PIRAMID_AVX512 inline __mmask16 tail_mask16(size_t r) {
    return static_cast<__mmask16>((1u << r) - 1u);
}

PIRAMID_AVX512 float l2sq_avx512(const float* a, const float* b, size_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
        const __m512 d2 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32));
        const __m512 d3 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48));
        s0 = _mm512_fmadd_ps(d0, d0, s0);
        s1 = _mm512_fmadd_ps(d1, d1, s1);
        s2 = _mm512_fmadd_ps(d2, d2, s2);
        s3 = _mm512_fmadd_ps(d3, d3, s3);
    }
    for (; i + 16 <= n; i += 16) {
        const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        s0 = _mm512_fmadd_ps(d, d, s0);
    }
    if (i < n) {
        const __mmask16 m = tail_mask16(n - i);
        const __m512 d =
            _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
        s1 = _mm512_fmadd_ps(d, d, s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

PIRAMID_AVX512 float dot_avx512(const float* a, const float* b, size_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
        s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
        s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
    }
    for (; i + 16 <= n; i += 16) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    }
    if (i < n) {
        const __mmask16 m = tail_mask16(n - i);
        s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

PIRAMID_AVX512 float l1_avx512(const float* a, const float* b, size_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        s0 = _mm512_add_ps(
            s0, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i))));
        s1 = _mm512_add_ps(s1, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i + 16),
                                                           _mm512_loadu_ps(b + i + 16))));
        s2 = _mm512_add_ps(s2, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i + 32),
                                                           _mm512_loadu_ps(b + i + 32))));
        s3 = _mm512_add_ps(s3, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i + 48),
                                                           _mm512_loadu_ps(b + i + 48))));
    }
    for (; i + 16 <= n; i += 16) {
        s0 = _mm512_add_ps(
            s0, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i))));
    }
    if (i < n) {
        const __mmask16 m = tail_mask16(n - i);
        s1 = _mm512_add_ps(s1, _mm512_abs_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i),
                                                           _mm512_maskz_loadu_ps(m, b + i))));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

PIRAMID_AVX512 void dot_norms_avx512(const float* a, const float* b, size_t n, float* ab, float* aa,
                                     float* bb) {
    __m512 x0 = _mm512_setzero_ps(), x1 = x0, y0 = x0, y1 = x0, z0 = x0, z1 = x0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512 a0 = _mm512_loadu_ps(a + i), b0 = _mm512_loadu_ps(b + i);
        const __m512 a1 = _mm512_loadu_ps(a + i + 16), b1 = _mm512_loadu_ps(b + i + 16);
        x0 = _mm512_fmadd_ps(a0, b0, x0);
        y0 = _mm512_fmadd_ps(a0, a0, y0);
        z0 = _mm512_fmadd_ps(b0, b0, z0);
        x1 = _mm512_fmadd_ps(a1, b1, x1);
        y1 = _mm512_fmadd_ps(a1, a1, y1);
        z1 = _mm512_fmadd_ps(b1, b1, z1);
    }
    for (; i < n; i += 16) {
        const __mmask16 m = tail_mask16(n - i < 16 ? n - i : 16);
        const __m512 a0 = _mm512_maskz_loadu_ps(m, a + i), b0 = _mm512_maskz_loadu_ps(m, b + i);
        x0 = _mm512_fmadd_ps(a0, b0, x0);
        y0 = _mm512_fmadd_ps(a0, a0, y0);
        z0 = _mm512_fmadd_ps(b0, b0, z0);
    }
    *ab = _mm512_reduce_add_ps(_mm512_add_ps(x0, x1));
    *aa = _mm512_reduce_add_ps(_mm512_add_ps(y0, y1));
    *bb = _mm512_reduce_add_ps(_mm512_add_ps(z0, z1));
}

template <float (*K)(const float*, const float*, size_t)>
PIRAMID_AVX512 void batch_avx512(const float* q, const float* const* vecs, size_t count, size_t dim,
                                 float* out) {
    prefetch_batch_start(vecs, count, dim);
    for (size_t i = 0; i < count; ++i) {
        if (i + kPrefetchAhead < count) prefetch_head(vecs[i + kPrefetchAhead], dim);
        out[i] = K(q, vecs[i], dim);
    }
}

const Kernels kAvx2{Isa::kAvx2,
                    l2sq_avx2,
                    dot_avx2,
                    l1_avx2,
                    dot_norms_avx2,
                    batch_avx2<l2sq_avx2>,
                    batch_avx2<dot_avx2>,
                    batch_avx2<l1_avx2>};

const Kernels kAvx512{Isa::kAvx512,
                      l2sq_avx512,
                      dot_avx512,
                      l1_avx512,
                      dot_norms_avx512,
                      batch_avx512<l2sq_avx512>,
                      batch_avx512<dot_avx512>,
                      batch_avx512<l1_avx512>};

}  // namespace

const Kernels* avx2_table() {
    return &kAvx2;
}
const Kernels* avx512_table() {
    return &kAvx512;
}

}  // namespace piramid::distance::detail

#else  // not x86-64

namespace piramid::distance::detail {
const Kernels* avx2_table() {
    return nullptr;
}
const Kernels* avx512_table() {
    return nullptr;
}
}  // namespace piramid::distance::detail

#endif
