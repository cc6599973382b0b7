// What an index stores per element, for every metric it supports: the element kind (float,
// half or bit vectors) and the graph distance over the stored form.
//
// The HNSW code and the page storage see every stored vector as `lanes` 32-bit words (passed as
// const float*): a float vector of d dimensions is d lanes, a half vector is ceil(d / 2) lanes
// (two halves a lane, the last one padded with +0), a bit vector is ceil(d / 32) lanes (its bytes
// in the SQL type's order, padded with zero bits). Only the graph distance looks inside a lane.
// Padding is zero in the stored elements and in the query alike, so it adds nothing to any of the
// distances (a zero half adds 0 to L2, dot and L1; zero bits count in no popcount).
//
// Sparse vectors (sparsevec) have a stored form of variable length: lane 0 holds nnz (uint32),
// lanes 1..nnz the 0-based indices (int32, strictly ascending), then nnz float values. An index
// element holds at most kSparseMaxNnz of them, so its buffers are kSparseLanes long; a query may
// hold up to kSparseQueryMaxNnz. The sparse distances read nnz from each operand and ignore the
// lane count they are passed.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/distance/distance.hpp"

namespace piramid::distance {

enum class ElementKind : uint8_t { kF32 = 0, kF16 = 1, kBit = 2, kSparse = 3 };

// The metrics an index can have. The first four are distance.hpp's Metric values (float
// vectors); on disk an index records one of these in its meta page.
inline constexpr Metric kHalfL2 = static_cast<Metric>(4);
inline constexpr Metric kHalfInnerProduct = static_cast<Metric>(5);
inline constexpr Metric kHalfCosine = static_cast<Metric>(6);
inline constexpr Metric kHalfL1 = static_cast<Metric>(7);
inline constexpr Metric kHamming = static_cast<Metric>(8);
inline constexpr Metric kJaccard = static_cast<Metric>(9);
inline constexpr Metric kSparseL2 = static_cast<Metric>(10);
inline constexpr Metric kSparseInnerProduct = static_cast<Metric>(11);
inline constexpr Metric kSparseCosine = static_cast<Metric>(12);
inline constexpr Metric kSparseL1 = static_cast<Metric>(13);
inline constexpr uint8_t kMetricCount = 14;

// Sparse elements (see above): at most this many non-zeros in an index element (pgvector's
// limit for hnsw), and in a query.
inline constexpr size_t kSparseMaxNnz = 1000;
inline constexpr size_t kSparseQueryMaxNnz = 16000;
inline constexpr size_t kSparseLanes = 1 + 2 * kSparseMaxNnz;

inline bool metric_valid(uint8_t m) {
    return m < kMetricCount;
}

inline ElementKind element_kind(Metric m) {
    const auto v = static_cast<uint8_t>(m);
    return v < 4    ? ElementKind::kF32
           : v < 8  ? ElementKind::kF16
           : v < 10 ? ElementKind::kBit
                    : ElementKind::kSparse;
}

// Cosine: zero vectors are not indexed (their cosine distance is NaN).
inline bool is_cosine(Metric m) {
    return m == Metric::kCosine || m == kHalfCosine || m == kSparseCosine;
}
// Float cosine: the stored vectors and the query are normalised, and the graph distance is -dot.
// Half cosine stores the halves as they are and computes 1 - a.b / (|a||b|) from float sums
// (halves of a normalised vector would carry only 11 bits: two rows whose cosine distances to a
// query differ by 1e-5 could no longer be told apart).
// Sparse cosine does as float cosine: normalised values, -dot.
inline bool normalizes(Metric m) {
    return m == Metric::kCosine || m == kSparseCosine;
}
// Inner product: not a metric (a point need not be its own nearest neighbour), which the insert
// code must allow for when it keeps every node reachable.
inline bool is_inner_product(Metric m) {
    return m == Metric::kInnerProduct || m == kHalfInnerProduct || m == kSparseInnerProduct;
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
        case ElementKind::kSparse:
            return kSparseLanes;
    }
    return dims;
}

// The non-zeros of a sparse stored form (lane 0).
inline uint32_t sparse_nnz(const float* v) {
    uint32_t n;
    __builtin_memcpy(&n, v, sizeof n);
    return n;
}
// Lanes a sparse stored form uses.
inline size_t sparse_lanes(const float* v) {
    return 1 + 2 * static_cast<size_t>(sparse_nnz(v));
}

// A sparse vector's non-zeros: nnz ascending 0-based indices and their values.
struct SparseRef {
    uint32_t nnz;
    const int32_t* idx;
    const float* val;
};
// The view of a sparse stored form.
inline SparseRef sparse_ref(const float* v) {
    const uint32_t n = sparse_nnz(v);
    return SparseRef{n, reinterpret_cast<const int32_t*>(v + 1), v + 1 + n};
}
// Squared L2, dot product and L1 over the union of the indices, summed in float in ascending
// index order: the sparsevec SQL operators (as pgvector's) and the sparse graph distances both
// call these, so an index scan orders rows exactly as ORDER BY over the operator does.
float sparse_l2sq(SparseRef a, SparseRef b);
float sparse_dot(SparseRef a, SparseRef b);
float sparse_l1(SparseRef a, SparseRef b);

// The graph distance over stored forms: smaller is closer. L2: squared L2; inner product and
// float cosine: -dot (normalised vectors); half cosine: 1 - cos; L1: L1; Hamming: differing bits;
// Jaccard: 1 - |a & b| / |a | b| (1 when a & b is empty, as pgvector has it); sparse: squared
// L2, -dot (inner product and cosine, normalised) and L1 over the union of the indices.
using LaneFn = float (*)(const float* a, const float* b, size_t lanes);
LaneFn lane_distance(Metric m);

// "l2", "ip", "cosine", "l1", "halfvec_l2", ..., "hamming", "jaccard".
const char* metric_name(Metric m);

}  // namespace piramid::distance
