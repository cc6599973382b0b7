// Graph distances over the stored forms of float, half and bit vectors (see lanes.hpp).
#include "core/distance/lanes.hpp"

#include <cmath>

#include "core/distance/bits.hpp"
#include "core/distance/half.hpp"

namespace piramid::distance {
namespace {

// The stored forms are written and read as bytes (memcpy into pages and buffers), so viewing
// them through the kernels' element types is how they were laid out.
const half* as_half(const float* p) {
    return reinterpret_cast<const half*>(p);
}
const uint8_t* as_bytes(const float* p) {
    return reinterpret_cast<const uint8_t*>(p);
}

float f32_l2(const float* a, const float* b, size_t n) {
    return best().l2sq(a, b, n);
}
float f32_neg_dot(const float* a, const float* b, size_t n) {
    return -best().dot(a, b, n);
}
float f32_l1(const float* a, const float* b, size_t n) {
    return best().l1(a, b, n);
}
float f16_l2(const float* a, const float* b, size_t lanes) {
    return half_best().l2sq(as_half(a), as_half(b), 2 * lanes);
}
float f16_neg_dot(const float* a, const float* b, size_t lanes) {
    return -half_best().dot(as_half(a), as_half(b), 2 * lanes);
}
float f16_cosine(const float* a, const float* b, size_t lanes) {
    float ab, aa, bb;
    half_best().dot_norms(as_half(a), as_half(b), 2 * lanes, &ab, &aa, &bb);
    const double denom = std::sqrt(static_cast<double>(aa) * static_cast<double>(bb));
    if (!(denom > 0.0)) return 1.0f;  // a zero query: no direction, every row alike
    return static_cast<float>(1.0 - static_cast<double>(ab) / denom);
}
float f16_l1(const float* a, const float* b, size_t lanes) {
    return half_best().l1(as_half(a), as_half(b), 2 * lanes);
}
float bit_hamming(const float* a, const float* b, size_t lanes) {
    return static_cast<float>(bits_best().hamming(as_bytes(a), as_bytes(b), 4 * lanes));
}
float bit_jaccard(const float* a, const float* b, size_t lanes) {
    uint64_t ab, aa, bb;
    bits_best().jaccard_counts(as_bytes(a), as_bytes(b), 4 * lanes, &ab, &aa, &bb);
    return static_cast<float>(jaccard_from_counts(ab, aa, bb));
}

float sparse_l2_lanes(const float* a, const float* b, size_t) {
    return sparse_l2sq(sparse_ref(a), sparse_ref(b));
}
float sparse_neg_dot_lanes(const float* a, const float* b, size_t) {
    return -sparse_dot(sparse_ref(a), sparse_ref(b));
}
float sparse_l1_lanes(const float* a, const float* b, size_t) {
    return sparse_l1(sparse_ref(a), sparse_ref(b));
}

// Walks the union of the two index lists in ascending order: both(x, y) where both vectors
// hold an element, one(x) where only one does.
template <class Both, class One>
void sparse_merge(SparseRef a, SparseRef b, Both both, One one) {
    uint32_t i = 0, j = 0;
    while (i < a.nnz && j < b.nnz) {
        if (a.idx[i] == b.idx[j])
            both(a.val[i++], b.val[j++]);
        else if (a.idx[i] < b.idx[j])
            one(a.val[i++]);
        else
            one(b.val[j++]);
    }
    for (; i < a.nnz; ++i) one(a.val[i]);
    for (; j < b.nnz; ++j) one(b.val[j]);
}

}  // namespace

LaneFn lane_distance(Metric m) {
    switch (static_cast<uint8_t>(m)) {
        case 0:
            return f32_l2;
        case 1:
        case 2:
            return f32_neg_dot;
        case 3:
            return f32_l1;
        case 4:
            return f16_l2;
        case 5:
            return f16_neg_dot;
        case 6:
            return f16_cosine;
        case 7:
            return f16_l1;
        case 8:
            return bit_hamming;
        case 9:
            return bit_jaccard;
        case 10:
            return sparse_l2_lanes;
        case 11:
        case 12:
            return sparse_neg_dot_lanes;
        case 13:
            return sparse_l1_lanes;
        default:
            return f32_l2;
    }
}

float sparse_l2sq(SparseRef a, SparseRef b) {
    float s = 0.0f;
    sparse_merge(
        a, b,
        [&](float x, float y) {
            const float d = x - y;
            s += d * d;
        },
        [&](float x) { s += x * x; });
    return s;
}

float sparse_dot(SparseRef a, SparseRef b) {
    float s = 0.0f;
    uint32_t i = 0, j = 0;
    while (i < a.nnz && j < b.nnz) {
        if (a.idx[i] == b.idx[j])
            s += a.val[i++] * b.val[j++];
        else if (a.idx[i] < b.idx[j])
            ++i;
        else
            ++j;
    }
    return s;
}

float sparse_l1(SparseRef a, SparseRef b) {
    float s = 0.0f;
    sparse_merge(
        a, b, [&](float x, float y) { s += std::fabs(x - y); },
        [&](float x) { s += std::fabs(x); });
    return s;
}

const char* metric_name(Metric m) {
    static const char* const names[kMetricCount] = {"l2",
                                                    "ip",
                                                    "cosine",
                                                    "l1",
                                                    "halfvec_l2",
                                                    "halfvec_ip",
                                                    "halfvec_cosine",
                                                    "halfvec_l1",
                                                    "hamming",
                                                    "jaccard",
                                                    "sparsevec_l2",
                                                    "sparsevec_ip",
                                                    "sparsevec_cosine",
                                                    "sparsevec_l1"};
    const auto v = static_cast<uint8_t>(m);
    return v < kMetricCount ? names[v] : "unknown";
}

}  // namespace piramid::distance
