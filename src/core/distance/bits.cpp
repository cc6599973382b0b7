// Bit-vector popcount kernels: the portable reference and the run-time choice of ISA.
#include "core/distance/bits.hpp"

#include <bit>
#include <cstring>

namespace piramid::distance {

namespace {

uint64_t load64(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

uint64_t popcount_scalar(const uint8_t* a, size_t n) {
    uint64_t c = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) c += static_cast<uint64_t>(std::popcount(load64(a + i)));
    for (; i < n; ++i) c += static_cast<uint64_t>(std::popcount(static_cast<unsigned>(a[i])));
    return c;
}

uint64_t hamming_scalar(const uint8_t* a, const uint8_t* b, size_t n) {
    uint64_t c = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        c += static_cast<uint64_t>(std::popcount(load64(a + i) ^ load64(b + i)));
    for (; i < n; ++i)
        c += static_cast<uint64_t>(std::popcount(static_cast<unsigned>(a[i] ^ b[i])));
    return c;
}

void jaccard_counts_scalar(const uint8_t* a, const uint8_t* b, size_t n, uint64_t* ab, uint64_t* aa,
                           uint64_t* bb) {
    uint64_t x = 0, y = 0, z = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const uint64_t va = load64(a + i), vb = load64(b + i);
        x += static_cast<uint64_t>(std::popcount(va & vb));
        y += static_cast<uint64_t>(std::popcount(va));
        z += static_cast<uint64_t>(std::popcount(vb));
    }
    for (; i < n; ++i) {
        x += static_cast<uint64_t>(std::popcount(static_cast<unsigned>(a[i] & b[i])));
        y += static_cast<uint64_t>(std::popcount(static_cast<unsigned>(a[i])));
        z += static_cast<uint64_t>(std::popcount(static_cast<unsigned>(b[i])));
    }
    *ab = x;
    *aa = y;
    *bb = z;
}

const BitKernels kScalar{Isa::kScalar, popcount_scalar, hamming_scalar, jaccard_counts_scalar};

}  // namespace

const BitKernels& bits_scalar() {
    return kScalar;
}

// SIMD tables: none yet; the portable reference serves every ISA.
const BitKernels* bits_kernels_for(Isa isa) {
    return isa == Isa::kScalar ? &kScalar : nullptr;
}

const BitKernels& bits_best() {
    return kScalar;
}

double jaccard_from_counts(uint64_t ab, uint64_t aa, uint64_t bb) {
    const uint64_t uni = aa + bb - ab;
    if (uni == 0) return 0.0;
    return 1.0 - static_cast<double>(ab) / static_cast<double>(uni);
}

}  // namespace piramid::distance
