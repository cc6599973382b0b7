// k-means for ivfflat list centers (pure core code: no Postgres).
//
// Lloyd iterations seeded by k-means++ on a sample. L2 lists use Euclidean k-means; inner product
// and cosine lists use spherical k-means (the samples and the centers are unit vectors and
// assignment maximises the dot product), as pgvector's ivfflat does. Assignment runs on the
// CpuEngine's threaded top-1 search. Deterministic for a given seed, sample order and thread
// count independent (ties go to the lower center index).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/engine/engine.hpp"

namespace piramid::ivf {

struct KmeansParams {
    size_t k = 1;            // centers
    size_t dim = 1;          // floats per vector
    bool spherical = false;  // unit samples, unit centers, nearest = largest dot product
    int max_iterations = 25;
    uint64_t seed = 0x1F5EEDull;
    unsigned threads = 1;
};

// Trains params.k centers (row-major, k x dim, written to `centers`) from n samples (row-major,
// n x dim). With spherical, the samples must already be unit vectors (or zero). Fewer samples than
// centers: every sample becomes a center and the rest are random (unit vectors when spherical).
// A cluster that ends an iteration empty is re-seeded with the sample farthest from its center.
// `iterations` (optional) receives the Lloyd iterations run.
engine::Status kmeans(const float* samples, size_t n, const KmeansParams& params, float* centers,
                      engine::Cancel* cancel, int* iterations = nullptr) noexcept;

// For each of n vectors, the index of its nearest center (L2, or largest dot product when
// spherical; ties to the lower index). Threads as the CpuEngine.
engine::Status assign(const float* centers, size_t k, const float* vecs, size_t n, size_t dim,
                      bool spherical, unsigned threads, int32_t* out,
                      engine::Cancel* cancel) noexcept;

// Scales v to unit length in place; leaves a zero (or non-finite norm) vector as it is. Returns
// whether it was scaled.
bool normalize(float* v, size_t dim) noexcept;

}  // namespace piramid::ivf
