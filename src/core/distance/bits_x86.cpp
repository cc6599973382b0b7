// Bit-vector popcount kernels for x86-64. Each function carries its own target attribute and runs
// only after bits_kernels_for() has checked the CPU.
//
//  - POPCNT on 64-bit words (target "popcnt"): four independent counters, the last 1..7 bytes
//    gathered into one zero-padded word.
//  - AVX2 nibble lookup (vpshufb on the two 4-bit halves of each byte, byte counters summed
//    into 64-bit lanes with vpsadbw), the tail through the POPCNT code. This is the kAvx2
//    table; from 1024 to 8000 bytes it beat the POPCNT words by 1.3x to 1.7x. Short inputs
//    (popcount below 384 bytes, hamming below 160) use the POPCNT words, which win there. The
//    POPCNT table stays for the benchmark (bits/<op>/popcnt64) and its tests.
//  - AVX-512 VPOPCNTDQ: vpopcntq on 64-byte blocks, the tail with a byte-masked load
//    (AVX-512 BW), which never faults on masked-off bytes.
// None reads past nbytes.
#include "core/distance/bits_impl.hpp"

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

#define PIRAMID_POPCNT __attribute__((target("popcnt")))
#define PIRAMID_AVX2 __attribute__((target("avx2,popcnt")))
#define PIRAMID_VPOPCNT __attribute__((target("avx512f,avx512bw,avx512vpopcntdq")))

namespace piramid::distance::detail {
namespace {

// ---------------------------------------------------------------------------------------------
// POPCNT on 64-bit words.

PIRAMID_POPCNT inline uint64_t pc(uint64_t v) {
    return static_cast<uint64_t>(__builtin_popcountll(v));
}

inline uint64_t load64(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// The r (0..7) bytes at p, zero-extended to a word (a byte loop: cheaper than a call to memcpy).
inline uint64_t load_partial(const uint8_t* p, size_t r) {
    uint64_t v = 0;
    for (size_t k = 0; k < r; ++k) v |= static_cast<uint64_t>(p[k]) << (8 * k);
    return v;
}

// Inlined into the AVX2 kernels for their tails as well (a call costs more than a short tail).
#define PIRAMID_POPCNT_INLINE inline __attribute__((always_inline, target("popcnt")))

PIRAMID_POPCNT_INLINE uint64_t popcount_popcnt(const uint8_t* a, size_t n) {
    uint64_t c0 = 0, c1 = 0, c2 = 0, c3 = 0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        c0 += pc(load64(a + i));
        c1 += pc(load64(a + i + 8));
        c2 += pc(load64(a + i + 16));
        c3 += pc(load64(a + i + 24));
    }
    for (; i + 8 <= n; i += 8) c0 += pc(load64(a + i));
    if (i < n) c1 += pc(load_partial(a + i, n - i));
    return (c0 + c1) + (c2 + c3);
}

PIRAMID_POPCNT_INLINE uint64_t hamming_popcnt(const uint8_t* a, const uint8_t* b, size_t n) {
    uint64_t c0 = 0, c1 = 0, c2 = 0, c3 = 0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        c0 += pc(load64(a + i) ^ load64(b + i));
        c1 += pc(load64(a + i + 8) ^ load64(b + i + 8));
        c2 += pc(load64(a + i + 16) ^ load64(b + i + 16));
        c3 += pc(load64(a + i + 24) ^ load64(b + i + 24));
    }
    for (; i + 8 <= n; i += 8) c0 += pc(load64(a + i) ^ load64(b + i));
    if (i < n) c1 += pc(load_partial(a + i, n - i) ^ load_partial(b + i, n - i));
    return (c0 + c1) + (c2 + c3);
}

PIRAMID_POPCNT_INLINE void jaccard_counts_popcnt(const uint8_t* a, const uint8_t* b, size_t n,
                                                 uint64_t* ab, uint64_t* aa, uint64_t* bb) {
    uint64_t x0 = 0, x1 = 0, y0 = 0, y1 = 0, z0 = 0, z1 = 0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const uint64_t a0 = load64(a + i), b0 = load64(b + i);
        const uint64_t a1 = load64(a + i + 8), b1 = load64(b + i + 8);
        x0 += pc(a0 & b0);
        y0 += pc(a0);
        z0 += pc(b0);
        x1 += pc(a1 & b1);
        y1 += pc(a1);
        z1 += pc(b1);
    }
    for (; i < n; i += 8) {
        const size_t r = n - i < 8 ? n - i : 8;
        const uint64_t a0 = load_partial(a + i, r), b0 = load_partial(b + i, r);
        x0 += pc(a0 & b0);
        y0 += pc(a0);
        z0 += pc(b0);
    }
    *ab = x0 + x1;
    *aa = y0 + y1;
    *bb = z0 + z1;
}

// ---------------------------------------------------------------------------------------------
// AVX2 nibble lookup: 32 bytes per register.

// The number of ones in each byte of v.
PIRAMID_AVX2 inline __m256i byte_counts(__m256i v) {
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,  //
                                         0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const __m256i lo = _mm256_and_si256(v, low4);
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
    return _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi));
}

PIRAMID_AVX2 inline __m256i load256(const uint8_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

PIRAMID_AVX2 inline uint64_t hsum64(__m256i v) {
    const __m128i x = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    return static_cast<uint64_t>(_mm_cvtsi128_si64(x)) +
           static_cast<uint64_t>(_mm_extract_epi64(x, 1));
}

// Sum of byte_counts(block(i)) over the 32-byte blocks at 0, 32, ... while a whole block fits;
// returns the bytes covered. Two byte accumulators take one block each per step; a byte counter
// gains at most 8 per block, so 31 steps (248) fit before they are folded into 64-bit lanes with
// vpsadbw.
template <typename Block>
PIRAMID_AVX2 inline size_t count_blocks(size_t n, Block block, __m256i* total) {
    const __m256i zero = _mm256_setzero_si256();
    __m256i t = *total;
    size_t i = 0;
    while (i + 64 <= n) {
        size_t steps = (n - i) / 64;
        if (steps > 31) steps = 31;
        __m256i c0 = zero, c1 = zero;
        for (size_t k = 0; k < steps; ++k, i += 64) {
            c0 = _mm256_add_epi8(c0, byte_counts(block(i)));
            c1 = _mm256_add_epi8(c1, byte_counts(block(i + 32)));
        }
        t = _mm256_add_epi64(
            t, _mm256_add_epi64(_mm256_sad_epu8(c0, zero), _mm256_sad_epu8(c1, zero)));
    }
    if (i + 32 <= n) {
        t = _mm256_add_epi64(t, _mm256_sad_epu8(byte_counts(block(i)), zero));
        i += 32;
    }
    *total = t;
    return i;
}

// Below these sizes POPCNT on words beats the lookup, whose fixed cost (folding the byte counters,
// the horizontal sum) is not yet paid back. Medians of 5 on an AMD EPYC (Zen 4), GB/s of input,
// lookup vs words: popcount 22 vs 32 at 128 bytes, 31 vs 36 at 256, 42 vs 38 at 384; hamming
// 24 vs 39 at 64, 25-32 vs 42-45 at 96, 39-42 vs 43-48 at 128, about even at 160, 44-50 vs 38-46
// at 192. jaccard_counts (three counts per byte) is as fast or faster with the lookup at every
// size measured (64 to 8000), so it has no threshold.
constexpr size_t kPopcountLookupMin = 384;
constexpr size_t kHammingLookupMin = 160;

PIRAMID_AVX2 uint64_t popcount_avx2(const uint8_t* a, size_t n) {
    if (n < kPopcountLookupMin) return popcount_popcnt(a, n);
    __m256i total = _mm256_setzero_si256();
    const size_t i = count_blocks(
        n, [a](size_t j) PIRAMID_AVX2 { return load256(a + j); }, &total);
    return hsum64(total) + popcount_popcnt(a + i, n - i);
}

PIRAMID_AVX2 uint64_t hamming_avx2(const uint8_t* a, const uint8_t* b, size_t n) {
    if (n < kHammingLookupMin) return hamming_popcnt(a, b, n);
    __m256i total = _mm256_setzero_si256();
    const size_t i = count_blocks(
        n,
        [a, b](size_t j) PIRAMID_AVX2 { return _mm256_xor_si256(load256(a + j), load256(b + j)); },
        &total);
    return hsum64(total) + hamming_popcnt(a + i, b + i, n - i);
}

PIRAMID_AVX2 void jaccard_counts_avx2(const uint8_t* a, const uint8_t* b, size_t n, uint64_t* ab,
                                      uint64_t* aa, uint64_t* bb) {
    const __m256i zero = _mm256_setzero_si256();
    __m256i tx = zero, ty = zero, tz = zero;
    size_t i = 0;
    while (i + 32 <= n) {
        size_t blocks = (n - i) / 32;
        if (blocks > 31) blocks = 31;  // 8 per block: 248 fits in a byte
        __m256i x = zero, y = zero, z = zero;
        for (size_t k = 0; k < blocks; ++k, i += 32) {
            const __m256i va = load256(a + i), vb = load256(b + i);
            x = _mm256_add_epi8(x, byte_counts(_mm256_and_si256(va, vb)));
            y = _mm256_add_epi8(y, byte_counts(va));
            z = _mm256_add_epi8(z, byte_counts(vb));
        }
        tx = _mm256_add_epi64(tx, _mm256_sad_epu8(x, zero));
        ty = _mm256_add_epi64(ty, _mm256_sad_epu8(y, zero));
        tz = _mm256_add_epi64(tz, _mm256_sad_epu8(z, zero));
    }
    uint64_t x, y, z;
    jaccard_counts_popcnt(a + i, b + i, n - i, &x, &y, &z);
    *ab = hsum64(tx) + x;
    *aa = hsum64(ty) + y;
    *bb = hsum64(tz) + z;
}

// ---------------------------------------------------------------------------------------------
// AVX-512 VPOPCNTDQ: 64 bytes per register, 128 per main-loop iteration.

PIRAMID_VPOPCNT inline __m512i load512(const uint8_t* p) {
    return _mm512_loadu_si512(p);
}

// The first r (0..63) bytes at p; the others read as 0 and never fault.
PIRAMID_VPOPCNT inline __m512i load512_partial(const uint8_t* p, size_t r) {
    return _mm512_maskz_loadu_epi8(static_cast<__mmask64>((uint64_t{1} << r) - 1u), p);
}

PIRAMID_VPOPCNT uint64_t popcount_avx512(const uint8_t* a, size_t n) {
    __m512i s0 = _mm512_setzero_si512(), s1 = s0;
    size_t i = 0;
    for (; i + 128 <= n; i += 128) {
        s0 = _mm512_add_epi64(s0, _mm512_popcnt_epi64(load512(a + i)));
        s1 = _mm512_add_epi64(s1, _mm512_popcnt_epi64(load512(a + i + 64)));
    }
    if (i + 64 <= n) {
        s0 = _mm512_add_epi64(s0, _mm512_popcnt_epi64(load512(a + i)));
        i += 64;
    }
    if (i < n) s1 = _mm512_add_epi64(s1, _mm512_popcnt_epi64(load512_partial(a + i, n - i)));
    return static_cast<uint64_t>(_mm512_reduce_add_epi64(_mm512_add_epi64(s0, s1)));
}

PIRAMID_VPOPCNT uint64_t hamming_avx512(const uint8_t* a, const uint8_t* b, size_t n) {
    __m512i s0 = _mm512_setzero_si512(), s1 = s0;
    size_t i = 0;
    for (; i + 128 <= n; i += 128) {
        s0 = _mm512_add_epi64(
            s0, _mm512_popcnt_epi64(_mm512_xor_si512(load512(a + i), load512(b + i))));
        s1 = _mm512_add_epi64(
            s1, _mm512_popcnt_epi64(_mm512_xor_si512(load512(a + i + 64), load512(b + i + 64))));
    }
    if (i + 64 <= n) {
        s0 = _mm512_add_epi64(
            s0, _mm512_popcnt_epi64(_mm512_xor_si512(load512(a + i), load512(b + i))));
        i += 64;
    }
    if (i < n) {
        s1 = _mm512_add_epi64(s1,
                              _mm512_popcnt_epi64(_mm512_xor_si512(load512_partial(a + i, n - i),
                                                                   load512_partial(b + i, n - i))));
    }
    return static_cast<uint64_t>(_mm512_reduce_add_epi64(_mm512_add_epi64(s0, s1)));
}

PIRAMID_VPOPCNT void jaccard_counts_avx512(const uint8_t* a, const uint8_t* b, size_t n,
                                           uint64_t* ab, uint64_t* aa, uint64_t* bb) {
    __m512i x = _mm512_setzero_si512(), y = x, z = x;
    for (size_t i = 0; i < n; i += 64) {
        // Also covers the tail: a full block until the last partial one.
        const size_t r = n - i < 64 ? n - i : 64;
        const __m512i va = r == 64 ? load512(a + i) : load512_partial(a + i, r);
        const __m512i vb = r == 64 ? load512(b + i) : load512_partial(b + i, r);
        x = _mm512_add_epi64(x, _mm512_popcnt_epi64(_mm512_and_si512(va, vb)));
        y = _mm512_add_epi64(y, _mm512_popcnt_epi64(va));
        z = _mm512_add_epi64(z, _mm512_popcnt_epi64(vb));
    }
    *ab = static_cast<uint64_t>(_mm512_reduce_add_epi64(x));
    *aa = static_cast<uint64_t>(_mm512_reduce_add_epi64(y));
    *bb = static_cast<uint64_t>(_mm512_reduce_add_epi64(z));
}

const BitKernels kPopcnt{Isa::kAvx2, popcount_popcnt, hamming_popcnt, jaccard_counts_popcnt};
const BitKernels kAvx2{Isa::kAvx2, popcount_avx2, hamming_avx2, jaccard_counts_avx2};
const BitKernels kAvx512{Isa::kAvx512, popcount_avx512, hamming_avx512, jaccard_counts_avx512};

}  // namespace

const BitKernels* bits_avx2_table() {
    return &kAvx2;
}
const BitKernels* bits_popcnt64_table() {
    return &kPopcnt;
}
const BitKernels* bits_avx512_table() {
    return &kAvx512;
}

}  // namespace piramid::distance::detail

#else  // not x86-64

namespace piramid::distance::detail {
const BitKernels* bits_avx2_table() {
    return nullptr;
}
const BitKernels* bits_popcnt64_table() {
    return nullptr;
}
const BitKernels* bits_avx512_table() {
    return nullptr;
}
}  // namespace piramid::distance::detail

#endif
