// Internal to src/core/distance: the per-ISA kernel tables and helpers shared by their sources.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "core/distance/distance.hpp"

namespace piramid::distance::detail {

// The run-time choice of a kernel table, shared by the float, half and bit kernels: the ISA that
// PIRAMID_SIMD names when `lookup(isa)` has a table for it on this CPU, else the best of avx512,
// avx2, neon that it has, else `fallback` (the scalar reference). An unknown or unavailable name
// falls through to the automatic choice: the variable is a testing aid and must never make a
// production backend fail.
template <class T, class Lookup>
const T* resolve_table(Lookup&& lookup, const T* fallback) {
    if (const char* want = std::getenv("PIRAMID_SIMD"); want != nullptr && *want != '\0') {
        for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon}) {
            if (std::strcmp(want, isa_name(isa)) == 0) {
                if (const T* k = lookup(isa)) return k;
            }
        }
    }
    for (Isa isa : {Isa::kAvx512, Isa::kAvx2, Isa::kNeon}) {
        if (const T* k = lookup(isa)) return k;
    }
    return fallback;
}

// Each returns its table when this build has the ISA, nullptr otherwise. They do not look at the
// CPU: kernels_for() checks that before handing a table out.
const Kernels* avx2_table();
const Kernels* avx512_table();
const Kernels* neon_table();

// Prefetching for the batch helpers. An HNSW search scores neighbours scattered over the index,
// so each vector is a cache miss whose latency (~100 ns from DRAM) dwarfs the kernel (~5-30 ns).
// Measured on the micro-benchmark (32 random vectors from a 256 MiB pool): asking early for the
// first 512 bytes of many vectors keeps enough misses in flight and beats prefetching whole
// vectors one ahead; the hardware prefetcher streams the rest of a long vector once it starts.
inline constexpr size_t kPrefetchAhead = 32;       // vectors
inline constexpr size_t kPrefetchHeadBytes = 512;  // per vector (8 cache lines)

// Plain code (no target attribute) so that it inlines into every ISA's batch loop.
inline void prefetch_head(const float* p, size_t dim) {
    const char* c = reinterpret_cast<const char*>(p);
    const size_t bytes = dim * sizeof(float);
    const size_t end = bytes < kPrefetchHeadBytes ? bytes : kPrefetchHeadBytes;
    for (size_t off = 0; off < end; off += 64) __builtin_prefetch(c + off, 0, 3);
}

// The heads of the first kPrefetchAhead vectors, before the loop starts.
inline void prefetch_batch_start(const float* const* vecs, size_t count, size_t dim) {
    const size_t n = count < kPrefetchAhead ? count : kPrefetchAhead;
    for (size_t i = 0; i < n; ++i) prefetch_head(vecs[i], dim);
}

}  // namespace piramid::distance::detail
