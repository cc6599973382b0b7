// Half-precision kernels for x86-64: AVX2 + FMA + F16C, and AVX-512 (F for vcvtph2ps/vcvtps2ph on
// 16 lanes, BW + VL for the 16-bit masked loads and stores of the tails). As in distance_x86.cpp,
// each function carries its own target attribute and runs only after half_kernels_for() has
// checked the CPU.
//
// Each half is widened to float (exact) and the sums are kept in float with four independent
// accumulators (the FMA latency is about four cycles). No kernel reads or writes past element
// n - 1: AVX2 handles a tail by reloading the last 8 elements (overlapping the previous block)
// and zeroing the lanes already counted, or, when n < 8, through a small zeroed stack buffer;
// AVX-512 uses masked loads and stores, which never fault on masked-off lanes.
//
// AVX-512 FP16 arithmetic (vfmadd on 32 halves) is not used: it would sum in half precision
// (too coarse for distances) or need the same widening as here, and the CPUs this was measured on
// do not have it.
#include "core/distance/half_impl.hpp"

#if defined(__x86_64__)

// GCC 12's AVX-512 headers trip -Wuninitialized (GCC PR105593); see distance_x86.cpp.
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
#include <cstring>

#define PIRAMID_F16C __attribute__((target("avx2,fma,f16c")))
#define PIRAMID_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,f16c")))

namespace piramid::distance::detail {
namespace {

// vcvtps2ph's immediate: round to nearest even (not MXCSR's mode), no precision exception.
constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;

// ---------------------------------------------------------------------------------------------
// AVX2 + FMA + F16C: 8 halves per register, 32 per main-loop iteration.

// Eight 0 then eight -1: loading 8 int32 from &kHighMask[r] keeps lanes 8 - r .. 7, the last r.
alignas(64) constexpr int32_t kHighMask[16] = {0,  0,  0,  0,  0,  0,  0,  0,
                                               -1, -1, -1, -1, -1, -1, -1, -1};

PIRAMID_F16C inline __m256 load8(const half* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// The r (1..7) elements p[0..r-1] as floats in some lanes, zeros in the others. `full` says that
// the 8 elements ending at p + r are all inside the vector (n >= 8), so they can be loaded
// directly; otherwise the r elements go through a zeroed buffer. The lanes differ between the
// two ways, which does not matter for a sum.
PIRAMID_F16C inline __m256 load_tail(const half* p, size_t r, bool full) {
    if (full) {
        const __m256 mask = _mm256_castsi256_ps(
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kHighMask + r)));
        return _mm256_and_ps(load8(p + r - 8), mask);
    }
    alignas(16) half buf[8] = {};
    std::memcpy(buf, p, r * sizeof(half));
    return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(buf)));
}

PIRAMID_F16C inline float hsum8(__m256 v) {
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

PIRAMID_F16C inline __m256 abs8(__m256 v) {
    return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v);
}

PIRAMID_F16C float l2sq_avx2(const half* a, const half* b, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m256 d0 = _mm256_sub_ps(load8(a + i), load8(b + i));
        const __m256 d1 = _mm256_sub_ps(load8(a + i + 8), load8(b + i + 8));
        const __m256 d2 = _mm256_sub_ps(load8(a + i + 16), load8(b + i + 16));
        const __m256 d3 = _mm256_sub_ps(load8(a + i + 24), load8(b + i + 24));
        s0 = _mm256_fmadd_ps(d0, d0, s0);
        s1 = _mm256_fmadd_ps(d1, d1, s1);
        s2 = _mm256_fmadd_ps(d2, d2, s2);
        s3 = _mm256_fmadd_ps(d3, d3, s3);
    }
    for (; i + 8 <= n; i += 8) {
        const __m256 d = _mm256_sub_ps(load8(a + i), load8(b + i));
        s0 = _mm256_fmadd_ps(d, d, s0);
    }
    if (i < n) {
        const __m256 d =
            _mm256_sub_ps(load_tail(a + i, n - i, n >= 8), load_tail(b + i, n - i, n >= 8));
        s1 = _mm256_fmadd_ps(d, d, s1);
    }
    return hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

PIRAMID_F16C float dot_avx2(const half* a, const half* b, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(load8(a + i), load8(b + i), s0);
        s1 = _mm256_fmadd_ps(load8(a + i + 8), load8(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(load8(a + i + 16), load8(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(load8(a + i + 24), load8(b + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(load8(a + i), load8(b + i), s0);
    if (i < n) {
        s1 = _mm256_fmadd_ps(load_tail(a + i, n - i, n >= 8), load_tail(b + i, n - i, n >= 8), s1);
    }
    return hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

PIRAMID_F16C float l1_avx2(const half* a, const half* b, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_add_ps(s0, abs8(_mm256_sub_ps(load8(a + i), load8(b + i))));
        s1 = _mm256_add_ps(s1, abs8(_mm256_sub_ps(load8(a + i + 8), load8(b + i + 8))));
        s2 = _mm256_add_ps(s2, abs8(_mm256_sub_ps(load8(a + i + 16), load8(b + i + 16))));
        s3 = _mm256_add_ps(s3, abs8(_mm256_sub_ps(load8(a + i + 24), load8(b + i + 24))));
    }
    for (; i + 8 <= n; i += 8)
        s0 = _mm256_add_ps(s0, abs8(_mm256_sub_ps(load8(a + i), load8(b + i))));
    if (i < n) {
        s1 = _mm256_add_ps(s1, abs8(_mm256_sub_ps(load_tail(a + i, n - i, n >= 8),
                                                  load_tail(b + i, n - i, n >= 8))));
    }
    return hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

PIRAMID_F16C void dot_norms_avx2(const half* a, const half* b, size_t n, float* ab, float* aa,
                                 float* bb) {
    // Two blocks' worth of three sums: six independent chains.
    __m256 x0 = _mm256_setzero_ps(), x1 = x0, y0 = x0, y1 = x0, z0 = x0, z1 = x0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256 a0 = load8(a + i), b0 = load8(b + i);
        const __m256 a1 = load8(a + i + 8), b1 = load8(b + i + 8);
        x0 = _mm256_fmadd_ps(a0, b0, x0);
        y0 = _mm256_fmadd_ps(a0, a0, y0);
        z0 = _mm256_fmadd_ps(b0, b0, z0);
        x1 = _mm256_fmadd_ps(a1, b1, x1);
        y1 = _mm256_fmadd_ps(a1, a1, y1);
        z1 = _mm256_fmadd_ps(b1, b1, z1);
    }
    if (i + 8 <= n) {
        const __m256 a0 = load8(a + i), b0 = load8(b + i);
        x0 = _mm256_fmadd_ps(a0, b0, x0);
        y0 = _mm256_fmadd_ps(a0, a0, y0);
        z0 = _mm256_fmadd_ps(b0, b0, z0);
        i += 8;
    }
    if (i < n) {
        const __m256 a1 = load_tail(a + i, n - i, n >= 8), b1 = load_tail(b + i, n - i, n >= 8);
        x1 = _mm256_fmadd_ps(a1, b1, x1);
        y1 = _mm256_fmadd_ps(a1, a1, y1);
        z1 = _mm256_fmadd_ps(b1, b1, z1);
    }
    *ab = hsum8(_mm256_add_ps(x0, x1));
    *aa = hsum8(_mm256_add_ps(y0, y1));
    *bb = hsum8(_mm256_add_ps(z0, z1));
}

PIRAMID_F16C void to_float_avx2(const half* in, float* out, size_t n) {
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m256 v0 = load8(in + i), v1 = load8(in + i + 8);
        const __m256 v2 = load8(in + i + 16), v3 = load8(in + i + 24);
        _mm256_storeu_ps(out + i, v0);
        _mm256_storeu_ps(out + i + 8, v1);
        _mm256_storeu_ps(out + i + 16, v2);
        _mm256_storeu_ps(out + i + 24, v3);
    }
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, load8(in + i));
    if (i == n) return;
    if (n >= 8) {
        // The last 8 again: the overlap rewrites the same values (in and out do not overlap).
        _mm256_storeu_ps(out + n - 8, load8(in + n - 8));
        return;
    }
    alignas(16) half buf[8] = {};
    alignas(32) float res[8];
    std::memcpy(buf, in, n * sizeof(half));
    _mm256_store_ps(res, _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(buf))));
    std::memcpy(out, res, n * sizeof(float));
}

PIRAMID_F16C inline __m128i cvt8(const float* p) {
    return _mm256_cvtps_ph(_mm256_loadu_ps(p), kRound);
}

PIRAMID_F16C void from_float_avx2(const float* in, half* out, size_t n) {
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m128i h0 = cvt8(in + i), h1 = cvt8(in + i + 8);
        const __m128i h2 = cvt8(in + i + 16), h3 = cvt8(in + i + 24);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), h0);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i + 8), h1);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i + 16), h2);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i + 24), h3);
    }
    for (; i + 8 <= n; i += 8) _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), cvt8(in + i));
    if (i == n) return;
    if (n >= 8) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + n - 8), cvt8(in + n - 8));
        return;
    }
    alignas(32) float buf[8] = {};
    alignas(16) half res[8];
    std::memcpy(buf, in, n * sizeof(float));
    _mm_store_si128(reinterpret_cast<__m128i*>(res), _mm256_cvtps_ph(_mm256_load_ps(buf), kRound));
    std::memcpy(out, res, n * sizeof(half));
}

// ---------------------------------------------------------------------------------------------
// AVX-512: 16 halves per register, 64 per main-loop iteration, tails with a k-mask.

PIRAMID_AVX512 inline __m512 load16(const half* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

PIRAMID_AVX512 inline __mmask16 tail_mask16(size_t r) {
    return static_cast<__mmask16>((1u << r) - 1u);
}

// The first r (0..16) elements; masked-off lanes read as 0 and never fault.
PIRAMID_AVX512 inline __m512 load16_masked(const half* p, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}

PIRAMID_AVX512 float l2sq_avx512(const half* a, const half* b, size_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const __m512 d0 = _mm512_sub_ps(load16(a + i), load16(b + i));
        const __m512 d1 = _mm512_sub_ps(load16(a + i + 16), load16(b + i + 16));
        const __m512 d2 = _mm512_sub_ps(load16(a + i + 32), load16(b + i + 32));
        const __m512 d3 = _mm512_sub_ps(load16(a + i + 48), load16(b + i + 48));
        s0 = _mm512_fmadd_ps(d0, d0, s0);
        s1 = _mm512_fmadd_ps(d1, d1, s1);
        s2 = _mm512_fmadd_ps(d2, d2, s2);
        s3 = _mm512_fmadd_ps(d3, d3, s3);
    }
    for (; i + 16 <= n; i += 16) {
        const __m512 d = _mm512_sub_ps(load16(a + i), load16(b + i));
        s0 = _mm512_fmadd_ps(d, d, s0);
    }
    if (i < n) {
        const __mmask16 m = tail_mask16(n - i);
        const __m512 d = _mm512_sub_ps(load16_masked(a + i, m), load16_masked(b + i, m));
        s1 = _mm512_fmadd_ps(d, d, s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

PIRAMID_AVX512 float dot_avx512(const half* a, const half* b, size_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        s0 = _mm512_fmadd_ps(load16(a + i), load16(b + i), s0);
        s1 = _mm512_fmadd_ps(load16(a + i + 16), load16(b + i + 16), s1);
        s2 = _mm512_fmadd_ps(load16(a + i + 32), load16(b + i + 32), s2);
        s3 = _mm512_fmadd_ps(load16(a + i + 48), load16(b + i + 48), s3);
    }
    for (; i + 16 <= n; i += 16) s0 = _mm512_fmadd_ps(load16(a + i), load16(b + i), s0);
    if (i < n) {
        const __mmask16 m = tail_mask16(n - i);
        s1 = _mm512_fmadd_ps(load16_masked(a + i, m), load16_masked(b + i, m), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

PIRAMID_AVX512 float l1_avx512(const half* a, const half* b, size_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        s0 = _mm512_add_ps(s0, _mm512_abs_ps(_mm512_sub_ps(load16(a + i), load16(b + i))));
        s1 =
            _mm512_add_ps(s1, _mm512_abs_ps(_mm512_sub_ps(load16(a + i + 16), load16(b + i + 16))));
        s2 =
            _mm512_add_ps(s2, _mm512_abs_ps(_mm512_sub_ps(load16(a + i + 32), load16(b + i + 32))));
        s3 =
            _mm512_add_ps(s3, _mm512_abs_ps(_mm512_sub_ps(load16(a + i + 48), load16(b + i + 48))));
    }
    for (; i + 16 <= n; i += 16) {
        s0 = _mm512_add_ps(s0, _mm512_abs_ps(_mm512_sub_ps(load16(a + i), load16(b + i))));
    }
    if (i < n) {
        const __mmask16 m = tail_mask16(n - i);
        s1 = _mm512_add_ps(
            s1, _mm512_abs_ps(_mm512_sub_ps(load16_masked(a + i, m), load16_masked(b + i, m))));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

PIRAMID_AVX512 void dot_norms_avx512(const half* a, const half* b, size_t n, float* ab, float* aa,
                                     float* bb) {
    __m512 x0 = _mm512_setzero_ps(), x1 = x0, y0 = x0, y1 = x0, z0 = x0, z1 = x0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512 a0 = load16(a + i), b0 = load16(b + i);
        const __m512 a1 = load16(a + i + 16), b1 = load16(b + i + 16);
        x0 = _mm512_fmadd_ps(a0, b0, x0);
        y0 = _mm512_fmadd_ps(a0, a0, y0);
        z0 = _mm512_fmadd_ps(b0, b0, z0);
        x1 = _mm512_fmadd_ps(a1, b1, x1);
        y1 = _mm512_fmadd_ps(a1, a1, y1);
        z1 = _mm512_fmadd_ps(b1, b1, z1);
    }
    for (; i < n; i += 16) {
        // Also covers the tail: the mask is all ones until the last partial register.
        const __mmask16 m = tail_mask16(n - i < 16 ? n - i : 16);
        const __m512 a0 = load16_masked(a + i, m), b0 = load16_masked(b + i, m);
        x0 = _mm512_fmadd_ps(a0, b0, x0);
        y0 = _mm512_fmadd_ps(a0, a0, y0);
        z0 = _mm512_fmadd_ps(b0, b0, z0);
    }
    *ab = _mm512_reduce_add_ps(_mm512_add_ps(x0, x1));
    *aa = _mm512_reduce_add_ps(_mm512_add_ps(y0, y1));
    *bb = _mm512_reduce_add_ps(_mm512_add_ps(z0, z1));
}

PIRAMID_AVX512 void to_float_avx512(const half* in, float* out, size_t n) {
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const __m512 v0 = load16(in + i), v1 = load16(in + i + 16);
        const __m512 v2 = load16(in + i + 32), v3 = load16(in + i + 48);
        _mm512_storeu_ps(out + i, v0);
        _mm512_storeu_ps(out + i + 16, v1);
        _mm512_storeu_ps(out + i + 32, v2);
        _mm512_storeu_ps(out + i + 48, v3);
    }
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, load16(in + i));
    if (i < n) {
        const __mmask16 m = tail_mask16(n - i);
        _mm512_mask_storeu_ps(out + i, m, load16_masked(in + i, m));
    }
}

PIRAMID_AVX512 inline __m256i cvt16(__m512 v) {
    return _mm512_cvtps_ph(v, kRound);
}

PIRAMID_AVX512 void from_float_avx512(const float* in, half* out, size_t n) {
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const __m256i h0 = cvt16(_mm512_loadu_ps(in + i)), h1 = cvt16(_mm512_loadu_ps(in + i + 16));
        const __m256i h2 = cvt16(_mm512_loadu_ps(in + i + 32));
        const __m256i h3 = cvt16(_mm512_loadu_ps(in + i + 48));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), h0);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i + 16), h1);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i + 32), h2);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i + 48), h3);
    }
    for (; i + 16 <= n; i += 16) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), cvt16(_mm512_loadu_ps(in + i)));
    }
    if (i < n) {
        const __mmask16 m = tail_mask16(n - i);
        _mm256_mask_storeu_epi16(out + i, m, cvt16(_mm512_maskz_loadu_ps(m, in + i)));
    }
}

const HalfKernels kAvx2{Isa::kAvx2,     l2sq_avx2,     dot_avx2,       l1_avx2,
                        dot_norms_avx2, to_float_avx2, from_float_avx2};

const HalfKernels kAvx512{Isa::kAvx512,     l2sq_avx512,     dot_avx512,       l1_avx512,
                          dot_norms_avx512, to_float_avx512, from_float_avx512};

}  // namespace

const HalfKernels* half_avx2_table() {
    return &kAvx2;
}
const HalfKernels* half_avx512_table() {
    return &kAvx512;
}

}  // namespace piramid::distance::detail

#else  // not x86-64

namespace piramid::distance::detail {
const HalfKernels* half_avx2_table() {
    return nullptr;
}
const HalfKernels* half_avx512_table() {
    return nullptr;
}
}  // namespace piramid::distance::detail

#endif
