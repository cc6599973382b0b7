// What an index stores per element, for every metric it supports: the element kind (float,
// half or bit vectors) and the graph distance over the stored form.
//
// The HNSW code and the page storage see every stored vector as `lanes` 32-bit words (passed as
// const float*): a float vector of d dimensions is d lanes, a half vector is ceil(d / 2) lanes
// (two halves a lane, the last one padded with +0), a bit vector is ceil(d / 32) lanes (its bytes
// in the SQL type's order, padded with zero bits). Only the graph distance looks inside a lane.
// Padding is zero in the stored elements and in the query alike, so it adds nothing to any of the
// distances (a zero half adds 0 to L2, dot and L1; zero bits count in no popcount).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/distance/distance.hpp"

namespace piramid::distance {

enum class ElementKind : uint8_t { kF32 = 0, kF16 = 1, kBit = 2 };

// The metrics an index can have. The first four are distance.hpp's Metric values (float
// vectors); on disk an index records one of these in its meta page.
inline constexpr Metric kHalfL2 = static_cast<Metric>(4);
inline constexpr Metric kHalfInnerProduct = static_cast<Metric>(5);
inline constexpr Metric kHalfCosine = static_cast<Metric>(6);
inline constexpr Metric kHalfL1 = static_cast<Metric>(7);
inline constexpr Metric kHamming = static_cast<Metric>(8);
inline constexpr Metric kJaccard = static_cast<Metric>(9);
inline constexpr uint8_t kMetricCount = 10;

inline bool metric_valid(uint8_t m) {
    return m < kMetricCount;
}

inline ElementKind element_kind(Metric m) {
    const auto v = static_cast<uint8_t>(m);
    return v < 4 ? ElementKind::kF32 : v < 8 ? ElementKind::kF16 : ElementKind::kBit;
}

// Cosine: zero vectors are not indexed (their cosine distance is NaN).
inline bool is_cosine(Metric m) {
    return m == Metric::kCosine || m == kHalfCosine;
}
// Float cosine: the stored vectors and the query are normalised, and the graph distance is -dot.
// Half cosine stores the halves as they are and computes 1 - a.b / (|a||b|) from float sums
// (halves of a normalised vector would carry only 11 bits: two rows whose cosine distances to a
// query differ by 1e-5 could no longer be told apart).
inline bool normalizes(Metric m) {
    return m == Metric::kCosine;
}
// Inner product: not a metric (a point need not be its own nearest neighbour), which the insert
// code must allow for when it keeps every node reachable.
inline bool is_inner_product(Metric m) {
    return m == Metric::kInnerProduct || m == kHalfInnerProduct;
}

// Lanes that one element of `dims` dimensions takes.
inline size_t lanes_for(ElementKind kind, size_t dims) {
    switch (kind) {
        case ElementKind::kF32:
            return dims;
        case ElementKind::kF16:
            return (dims + 1) / 2;
        case ElementKind::kBit:
            return (dims + 31) / 32;
    }
    return dims;
}

// The graph distance over stored forms: smaller is closer. L2: squared L2; inner product and
// float cosine: -dot (normalised vectors); half cosine: 1 - cos; L1: L1; Hamming: differing bits;
// Jaccard: 1 - |a & b| / |a | b| (1 when a & b is empty, as pgvector has it).
using LaneFn = float (*)(const float* a, const float* b, size_t lanes);
LaneFn lane_distance(Metric m);

// "l2", "ip", "cosine", "l1", "halfvec_l2", ..., "hamming", "jaccard".
const char* metric_name(Metric m);

}  // namespace piramid::distance
