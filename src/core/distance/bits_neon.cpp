// AArch64 Advanced SIMD bit-vector kernels: cnt counts the ones of each byte of 16, the byte
// counts are added pairwise into 16-bit lanes (uadalp) and folded into 64-bit totals every
// kBlocksPerFold blocks; the last 0..15 bytes go through the portable code. Other architectures
// get no table.
#include "core/distance/bits_impl.hpp"

#if defined(__aarch64__)

#include <arm_neon.h>

namespace piramid::distance::detail {
namespace {

// A 16-bit lane gains at most 16 per block: 4095 blocks fit; fold well before that.
constexpr size_t kBlocksPerFold = 1024;

inline uint64_t tail_popcount(const uint8_t* a, size_t n) {
    return bits_scalar().popcount(a, n);
}

uint64_t popcount_neon(const uint8_t* a, size_t n) {
    uint64_t total = 0;
    size_t i = 0;
    while (i + 16 <= n) {
        size_t blocks = (n - i) / 16;
        if (blocks > kBlocksPerFold) blocks = kBlocksPerFold;
        uint16x8_t acc = vdupq_n_u16(0);
        for (size_t k = 0; k < blocks; ++k, i += 16)
            acc = vpadalq_u8(acc, vcntq_u8(vld1q_u8(a + i)));
        total += vaddlvq_u16(acc);
    }
    return total + tail_popcount(a + i, n - i);
}

uint64_t hamming_neon(const uint8_t* a, const uint8_t* b, size_t n) {
    uint64_t total = 0;
    size_t i = 0;
    while (i + 16 <= n) {
        size_t blocks = (n - i) / 16;
        if (blocks > kBlocksPerFold) blocks = kBlocksPerFold;
        uint16x8_t acc = vdupq_n_u16(0);
        for (size_t k = 0; k < blocks; ++k, i += 16)
            acc = vpadalq_u8(acc, vcntq_u8(veorq_u8(vld1q_u8(a + i), vld1q_u8(b + i))));
        total += vaddlvq_u16(acc);
    }
    return total + bits_scalar().hamming(a + i, b + i, n - i);
}

void jaccard_counts_neon(const uint8_t* a, const uint8_t* b, size_t n, uint64_t* ab, uint64_t* aa,
                         uint64_t* bb) {
    uint64_t x = 0, y = 0, z = 0;
    size_t i = 0;
    while (i + 16 <= n) {
        size_t blocks = (n - i) / 16;
        if (blocks > kBlocksPerFold) blocks = kBlocksPerFold;
        uint16x8_t cx = vdupq_n_u16(0), cy = cx, cz = cx;
        for (size_t k = 0; k < blocks; ++k, i += 16) {
            const uint8x16_t va = vld1q_u8(a + i), vb = vld1q_u8(b + i);
            cx = vpadalq_u8(cx, vcntq_u8(vandq_u8(va, vb)));
            cy = vpadalq_u8(cy, vcntq_u8(va));
            cz = vpadalq_u8(cz, vcntq_u8(vb));
        }
        x += vaddlvq_u16(cx);
        y += vaddlvq_u16(cy);
        z += vaddlvq_u16(cz);
    }
    uint64_t tx, ty, tz;
    bits_scalar().jaccard_counts(a + i, b + i, n - i, &tx, &ty, &tz);
    *ab = x + tx;
    *aa = y + ty;
    *bb = z + tz;
}

const BitKernels kNeon{Isa::kNeon, popcount_neon, hamming_neon, jaccard_counts_neon};

}  // namespace

const BitKernels* bits_neon_table() {
    return &kNeon;
}

}  // namespace piramid::distance::detail

#else

namespace piramid::distance::detail {
const BitKernels* bits_neon_table() {
    return nullptr;
}
}  // namespace piramid::distance::detail

#endif
