// Brute-force k-nearest-neighbour graph over n gathered vectors, through a DistanceEngine. Test
// support only (the engine build in src/core/hnsw/engine_build.cpp has its own tiled k-NN): the
// tests use it as an exact reference for engines and graphs.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/engine/engine.hpp"

namespace piramid::engine {

// For every vector i of data (n x dim, row-major), its k nearest other vectors (itself excluded),
// closest first, ties by index: out_ids[i * k + j] / out_dists[i * k + j]. When n - 1 < k the
// remaining slots get id -1 and +infinity. Queries go to the engine `batch` at a time against
// all n vectors. Returns the engine's status (kInvalidArgument for k out of 1..kMaxK - 1).
Status knn_graph(DistanceEngine& engine, const float* data, size_t n, size_t dim, Metric metric,
                 size_t k, int64_t* out_ids, double* out_dists, Cancel* cancel,
                 size_t batch = 1024) noexcept;

}  // namespace piramid::engine
