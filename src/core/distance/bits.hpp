// Bit-vector distances for the SQL type bit (hamming_distance, jaccard_distance, the <~> and <%>
// operators, and bit hnsw indexes): popcount kernels over byte strings, a portable reference and
// SIMD versions chosen at run time (PIRAMID_SIMD applies, as in distance.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/distance/distance.hpp"

namespace piramid::distance {

// All take nbytes >= 0 and unaligned pointers and read exactly nbytes of each input.
struct BitKernels {
    Isa isa;
    uint64_t (*popcount)(const uint8_t* a, size_t nbytes);
    uint64_t (*hamming)(const uint8_t* a, const uint8_t* b, size_t nbytes);  // popcount(a ^ b)
    // popcount(a & b), popcount(a), popcount(b) in one pass (Jaccard).
    void (*jaccard_counts)(const uint8_t* a, const uint8_t* b, size_t nbytes, uint64_t* ab,
                           uint64_t* aa, uint64_t* bb);
};

const BitKernels& bits_best();
const BitKernels* bits_kernels_for(Isa isa);
const BitKernels& bits_scalar();

// 1 - |a & b| / |a | b| from the counts, as pgvector computes it: 1 whenever a & b is empty,
// including two all-zero (or empty) inputs.
double jaccard_from_counts(uint64_t ab, uint64_t aa, uint64_t bb);

}  // namespace piramid::distance
