// HNSW over half and bit vectors (core/distance/lanes.hpp): the lane distances against
// independent double-precision references, and graphs built by one-at-a-time inserts over each
// element kind: every node reachable, and top-10 results as good as the exact answer within a
// stated recall bound (recall counts a result as right when its exact distance is at most the
// exact 10th distance, so ties, common under Hamming distance, count either way).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/distance/half.hpp"
#include "core/distance/lanes.hpp"
#include "core/hnsw/insert.hpp"
#include "core/hnsw/search.hpp"
#include "memory_store.hpp"

namespace piramid::hnsw {
namespace {

namespace d = distance;

// Stored forms of n elements of `dims` dimensions: lanes words each, zero padded.
struct Stored {
    size_t n = 0, dims = 0, lanes = 0;
    std::vector<float> data;
    std::vector<std::vector<double>> ref;  // the values as doubles (bits: 0/1)
    const float* row(size_t i) const { return data.data() + i * lanes; }
};

Stored make_half(size_t n, size_t dims, uint64_t seed, bool normalize) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> g(0.0f, 1.0f);
    Stored s;
    s.n = n;
    s.dims = dims;
    s.lanes = d::lanes_for(d::ElementKind::kF16, dims);
    s.data.assign(n * s.lanes, 0.0f);
    for (size_t i = 0; i < n; ++i) {
        std::vector<float> x(dims);
        double norm = 0;
        for (auto& v : x) {
            v = g(rng) * (1.0f + static_cast<float>(i % 7));  // mixed magnitudes
            norm += double(v) * v;
        }
        auto* h = reinterpret_cast<d::half*>(s.data.data() + i * s.lanes);
        std::vector<double> r(dims);
        for (size_t k = 0; k < dims; ++k) {
            const float v = normalize ? static_cast<float>(x[k] / std::sqrt(norm)) : x[k];
            h[k] = d::float_to_half(v);
            r[k] = d::half_to_float(h[k]);
        }
        s.ref.push_back(std::move(r));
    }
    return s;
}

Stored make_bits(size_t n, size_t dims, uint64_t seed) {
    // Bits of random projections of clustered points: neighbours share most bits.
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> g(0.0f, 1.0f);
    const size_t centres = 20, src = 16;
    std::vector<float> c(centres * src), proj(dims * src);
    for (auto& v : c) v = g(rng);
    for (auto& v : proj) v = g(rng);
    Stored s;
    s.n = n;
    s.dims = dims;
    s.lanes = d::lanes_for(d::ElementKind::kBit, dims);
    s.data.assign(n * s.lanes, 0.0f);
    for (size_t i = 0; i < n; ++i) {
        std::vector<float> p(src);
        for (size_t k = 0; k < src; ++k) p[k] = c[(i % centres) * src + k] + 0.6f * g(rng);
        auto* b = reinterpret_cast<uint8_t*>(s.data.data() + i * s.lanes);
        std::vector<double> r(dims);
        for (size_t k = 0; k < dims; ++k) {
            float dot = 0;
            for (size_t j = 0; j < src; ++j) dot += proj[k * src + j] * p[j];
            if (dot > 0) {
                b[k / 8] |= static_cast<uint8_t>(0x80u >> (k % 8));  // SQL bit order
                r[k] = 1;
            }
        }
        s.ref.push_back(std::move(r));
    }
    return s;
}

// The graph distance in double, from the reference values.
double ref_distance(d::Metric m, const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0, ab = 0, uni = 0, aa = 0, bb = 0;
    for (size_t k = 0; k < a.size(); ++k) {
        switch (static_cast<uint8_t>(m)) {
            case 4:
                s += (a[k] - b[k]) * (a[k] - b[k]);
                break;
            case 5:
                s -= a[k] * b[k];
                break;
            case 6:
                ab += a[k] * b[k];
                aa += a[k] * a[k];
                bb += b[k] * b[k];
                break;
            case 7:
                s += std::fabs(a[k] - b[k]);
                break;
            case 8:
                s += a[k] != b[k] ? 1 : 0;
                break;
            case 9:
                ab += (a[k] != 0 && b[k] != 0) ? 1 : 0;
                uni += (a[k] != 0 || b[k] != 0) ? 1 : 0;
                break;
            default:
                break;
        }
    }
    if (m == d::kJaccard) return ab == 0 ? 1.0 : 1.0 - ab / uni;
    if (m == d::kHalfCosine) return aa * bb == 0 ? 1.0 : 1.0 - ab / std::sqrt(aa * bb);
    return s;
}

Stored make(d::Metric m, size_t n, size_t dims, uint64_t seed) {
    return d::element_kind(m) == d::ElementKind::kBit ? make_bits(n, dims, seed)
                                                      : make_half(n, dims, seed, false);
}

struct KindCase {
    const char* name;
    d::Metric metric;
    size_t dims;
};

class Kinds : public ::testing::TestWithParam<KindCase> {};

TEST_P(Kinds, LaneDistanceMatchesReference) {
    const KindCase c = GetParam();
    const Stored s = make(c.metric, 200, c.dims, 3);
    const d::LaneFn f = d::lane_distance(c.metric);
    for (size_t i = 0; i + 1 < s.n; ++i) {
        const double want = ref_distance(c.metric, s.ref[i], s.ref[i + 1]);
        const double got = f(s.row(i), s.row(i + 1), s.lanes);
        if (d::element_kind(c.metric) == d::ElementKind::kBit) {
            // Counts are exact; Jaccard is one float rounding of the exact ratio.
            EXPECT_NEAR(got, want, 1e-7) << c.name << " pair " << i;
        } else if (c.metric == d::kHalfCosine) {
            // Three float sums, each relatively off by about dims * 2^-24, then one division.
            EXPECT_NEAR(got, want, double(s.dims) * 2e-7 + 1e-7) << c.name << " pair " << i;
        } else {
            // Float accumulation over products of halves: relative error about dims * 2^-24 of
            // the sum of magnitudes.
            double mag = 0;
            for (size_t k = 0; k < s.dims; ++k)
                mag += std::fabs(s.ref[i][k]) * std::fabs(s.ref[i + 1][k]) +
                       std::fabs(s.ref[i][k] - s.ref[i + 1][k]) *
                           (std::fabs(s.ref[i][k]) + std::fabs(s.ref[i + 1][k]) + 1);
            EXPECT_NEAR(got, want, mag * double(s.dims) * 6e-8 + 1e-30) << c.name << " pair " << i;
        }
    }
}

int level_for(size_t i, int m) {
    std::mt19937_64 rng(i * 0x9E3779B97F4A7C15ull + 7);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    return std::min(8, static_cast<int>(-std::log(1.0 - u(rng)) / std::log(double(m))));
}

size_t unreachable(InMemoryStore& st, NodeId entry) {
    std::vector<char> seen(st.size(), 0);
    std::vector<NodeId> stack{entry}, list;
    seen[entry] = 1;
    while (!stack.empty()) {
        const NodeId id = stack.back();
        stack.pop_back();
        st.neighbors(id, 0, list);
        for (NodeId x : list)
            if (!seen[x]) {
                seen[x] = 1;
                stack.push_back(x);
            }
    }
    return static_cast<size_t>(std::count(seen.begin(), seen.end(), 0));
}

// Builds a graph by inserts over rows (lanes words each) and returns recall@10 at ef 64 for the
// queries, scored against the reference distances; *lost gets the unreachable count.
double build_and_search(const Stored& s, const std::vector<float>& rows, size_t lanes,
                        d::Metric metric, d::Metric ref_metric, size_t n, size_t nq, size_t* lost) {
    const size_t k = 10, ef = 64;
    Params p;
    p.dim = lanes;
    p.metric = metric;
    p.m = 16;
    p.ef_construction = 64;
    InMemoryStore st(lanes, metric, p.m);
    st.reserve(n);
    Scratch sc;
    NodeId entry = kInvalidNode;
    int entry_level = -1;
    for (size_t i = 0; i < n; ++i) {
        const int level = level_for(i, p.m);
        const float* row = rows.data() + i * lanes;
        const NodeId id = st.add(row, level);
        insert(st, id, row, level, entry, entry_level, p, sc);
        if (level > entry_level) {
            entry = id;
            entry_level = level;
        }
    }
    *lost = unreachable(st, entry);
    double hits = 0;
    Searcher<InMemoryStore> searcher;
    searcher.set_visit_cap(1u << 30);
    std::vector<Candidate> got;
    for (size_t q = n; q < n + nq; ++q) {
        std::vector<double> exact(n);
        for (size_t i = 0; i < n; ++i) exact[i] = ref_distance(ref_metric, s.ref[q], s.ref[i]);
        std::vector<double> sorted = exact;
        std::nth_element(sorted.begin(), sorted.begin() + (k - 1), sorted.end());
        const double kth = sorted[k - 1];
        searcher.start(st, rows.data() + q * lanes, entry, entry_level);
        searcher.next_batch(ef, got);
        if (got.size() < k) return 0.0;
        for (size_t r = 0; r < k; ++r)
            hits += exact[got[r].id] <= kth + 1e-6 * std::fabs(kth) ? 1 : 0;
    }
    return hits / double(nq * k);
}

TEST_P(Kinds, InsertedGraphIsReachableAndFindsNeighbours) {
    const KindCase c = GetParam();
    const size_t n = 3000, nq = 100;
    const Stored s = make(c.metric, n + nq, c.dims, 17);
    size_t lost = 0;
    const double recall = build_and_search(s, s.data, s.lanes, c.metric, c.metric, n, nq, &lost);
    EXPECT_EQ(lost, 0u) << c.name;
    if (d::element_kind(c.metric) == d::ElementKind::kBit) {
        // Measured 0.99-1.00 (clustered bits); a wrong lane distance gives about 0.01.
        EXPECT_GE(recall, 0.95) << c.name;
        return;
    }
    // Half vectors: the same graph over the widened values as float vectors (exact: every half
    // is a float) under the float metric is the yardstick, so that the bound measures the half
    // path and not how hard the data is.
    std::vector<float> widened((n + nq) * s.dims);
    for (size_t i = 0; i < n + nq; ++i) {
        // float cosine indexes normalised vectors (the glue normalises them)
        double norm = 1;
        if (c.metric == d::kHalfCosine) {
            norm = 0;
            for (double x : s.ref[i]) norm += x * x;
            norm = std::sqrt(norm);
        }
        for (size_t k = 0; k < s.dims; ++k)
            widened[i * s.dims + k] = static_cast<float>(s.ref[i][k] / norm);
    }
    const auto f32 = static_cast<d::Metric>(static_cast<uint8_t>(c.metric) - 4);
    size_t lost32 = 0;
    const double recall32 = build_and_search(s, widened, s.dims, f32, c.metric, n, nq, &lost32);
    EXPECT_EQ(lost32, 0u) << c.name;
    EXPECT_GE(recall, recall32 - 0.02) << c.name << " float: " << recall32;
    EXPECT_GE(recall, 0.7) << c.name;
}

INSTANTIATE_TEST_SUITE_P(Hnsw, Kinds,
                         ::testing::Values(KindCase{"half_l2_25", d::kHalfL2, 25},
                                           KindCase{"half_ip_24", d::kHalfInnerProduct, 24},
                                           KindCase{"half_cosine_33", d::kHalfCosine, 33},
                                           KindCase{"half_l1_16", d::kHalfL1, 16},
                                           KindCase{"half_l2_1", d::kHalfL2, 1},
                                           KindCase{"bit_hamming_200", d::kHamming, 200},
                                           KindCase{"bit_jaccard_256", d::kJaccard, 256},
                                           KindCase{"bit_hamming_7", d::kHamming, 7}),
                         [](const ::testing::TestParamInfo<KindCase>& info) {
                             return std::string(info.param.name);
                         });

}  // namespace
}  // namespace piramid::hnsw
