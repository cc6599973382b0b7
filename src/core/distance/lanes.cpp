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
        default:
            return f32_l2;
    }
}

const char* metric_name(Metric m) {
    static const char* const names[kMetricCount] = {
        "l2",         "ip",      "cosine", "l1", "halfvec_l2", "halfvec_ip", "halfvec_cosine",
        "halfvec_l1", "hamming", "jaccard"};
    const auto v = static_cast<uint8_t>(m);
    return v < kMetricCount ? names[v] : "unknown";
}

}  // namespace piramid::distance
