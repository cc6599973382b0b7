// Bit-vector popcount kernels: the portable reference and the run-time choice of ISA (the SIMD
// tables are in bits_x86.cpp and bits_neon.cpp).
#include "core/distance/bits.hpp"

#include <bit>
#include <cstdlib>
#include <cstring>

#include "core/distance/bits_impl.hpp"
#include "core/distance/kernels_impl.hpp"

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

namespace {

bool cpu_has(Isa isa) {
    switch (isa) {
        case Isa::kScalar:
            return true;
#if defined(__x86_64__)
        case Isa::kAvx2:
            __builtin_cpu_init();
            return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
        case Isa::kAvx512:
            // BW for the byte-masked tail loads.
            __builtin_cpu_init();
            return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                   __builtin_cpu_supports("avx512vpopcntdq");
#endif
#if defined(__aarch64__)
        case Isa::kNeon:
            return true;
#endif
        default:
            return false;
    }
}

const BitKernels* resolve() {
    return detail::resolve_table<BitKernels>([](Isa isa) { return bits_kernels_for(isa); },
                                             &kScalar);
}

}  // namespace

const BitKernels* bits_kernels_for(Isa isa) {
    if (!cpu_has(isa)) return nullptr;
    switch (isa) {
        case Isa::kScalar:
            return &kScalar;
        case Isa::kAvx2:
            return detail::bits_avx2_table();
        case Isa::kAvx512:
            return detail::bits_avx512_table();
        case Isa::kNeon:
            return detail::bits_neon_table();
    }
    return nullptr;
}

const BitKernels& bits_best() {
    static const BitKernels* const chosen = resolve();  // once, thread-safe
    return *chosen;
}

// pgvector's BitJaccardDistance: 1 when the intersection is empty, which includes two all-zero
// (or empty) inputs: jaccard_distance('', '') and jaccard_distance('000', '000') are 1.
double jaccard_from_counts(uint64_t ab, uint64_t aa, uint64_t bb) {
    if (ab == 0) return 1.0;
    return 1.0 - static_cast<double>(ab) / static_cast<double>(aa + bb - ab);
}

}  // namespace piramid::distance
