// Sparse vectors in the core (core/distance/lanes.hpp: nnz, indices, values, variable length):
// the graph distances against dense double references, the builder's variable-length storage
// (memory, exact duplicates, level caps), and graphs over sparse data built by the builder and by
// inserts: every node reachable and the nearest neighbours found.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "core/distance/lanes.hpp"
#include "core/hnsw/builder.hpp"
#include "core/hnsw/insert.hpp"
#include "core/hnsw/search.hpp"
#include "memory_store.hpp"

namespace piramid::hnsw {
namespace {

namespace d = piramid::distance;

// One sparse vector: its stored form and the same values as index -> value.
struct Sparse {
    std::vector<float> stored;
    std::map<int, double> ref;
};

Sparse make_sparse(const std::map<int, float>& values) {
    Sparse s;
    const auto nnz = static_cast<uint32_t>(values.size());
    s.stored.assign(1 + 2 * nnz, 0.0f);
    std::memcpy(s.stored.data(), &nnz, sizeof nnz);
    uint32_t i = 0;
    for (const auto& [idx, v] : values) {
        std::memcpy(s.stored.data() + 1 + i, &idx, sizeof idx);
        s.stored[1 + nnz + i] = v;
        s.ref[idx] = v;
        ++i;
    }
    return s;
}

// Clustered sparse rows: each row picks a topic (a range of dims indices) and draws most of its
// non-zeros there. Cosine rows are normalised, as the glue stores them.
std::vector<Sparse> make_rows(size_t n, int dims, int max_nnz, bool normalise, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<Sparse> rows;
    const int topics = 20, span = dims / topics;
    for (size_t r = 0; r < n; ++r) {
        const int topic = static_cast<int>(rng() % topics);
        const int nnz = 1 + static_cast<int>(rng() % max_nnz);
        std::map<int, float> v;
        for (int k = 0; k < nnz; ++k) {
            const int idx = rng() % 4 == 0 ? static_cast<int>(rng() % dims)
                                           : topic * span + static_cast<int>(rng() % span);
            v[idx] = static_cast<float>(1 + rng() % 8) * 0.25f;
        }
        if (normalise) {
            double norm = 0;
            for (const auto& [i, x] : v) norm += double(x) * x;
            for (auto& [i, x] : v) x = static_cast<float>(x / std::sqrt(norm));
        }
        Sparse row = make_sparse(v);
        // distinct rows (the tests count items): draw again on an exact duplicate
        const bool dup = std::any_of(rows.begin(), rows.end(),
                                     [&](const Sparse& o) { return o.stored == row.stored; });
        if (dup) {
            --r;
            continue;
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

double ref_distance(d::Metric m, const Sparse& a, const Sparse& b) {
    std::map<int, std::pair<double, double>> u;
    for (const auto& [i, x] : a.ref) u[i].first = x;
    for (const auto& [i, x] : b.ref) u[i].second = x;
    double l2 = 0, dot = 0, l1 = 0;
    for (const auto& [i, p] : u) {
        l2 += (p.first - p.second) * (p.first - p.second);
        dot += p.first * p.second;
        l1 += std::fabs(p.first - p.second);
    }
    if (m == d::kSparseL2) return l2;
    if (m == d::kSparseL1) return l1;
    return -dot;
}

TEST(Sparse, LaneDistancesMatchDenseReference) {
    std::mt19937 rng(7);
    const d::Metric metrics[] = {d::kSparseL2, d::kSparseInnerProduct, d::kSparseCosine,
                                 d::kSparseL1};
    std::vector<Sparse> rows = make_rows(300, 500, 40, false, 3);
    rows.push_back(make_sparse({}));                       // empty
    rows.push_back(make_sparse({{0, 1.5f}}));              // first index
    rows.push_back(make_sparse({{999999999, -2.0f}}));     // a billion dimensions
    rows.push_back(make_sparse({{0, 1.5f}, {7, -3.0f}}));  // overlaps the one before last
    for (d::Metric m : metrics) {
        const d::LaneFn f = d::lane_distance(m);
        for (size_t i = 0; i < rows.size(); ++i) {
            for (size_t j : {i, (i + 1) % rows.size(), (i * 7 + 3) % rows.size()}) {
                const double want = ref_distance(m, rows[i], rows[j]);
                // the lanes argument is ignored: each operand says its own length
                const double got = f(rows[i].stored.data(), rows[j].stored.data(), 1);
                EXPECT_NEAR(got, want, 1e-5 * std::max(1.0, std::fabs(want)))
                    << d::metric_name(m) << " rows " << i << "," << j;
                EXPECT_EQ(got, f(rows[j].stored.data(), rows[i].stored.data(), 12345))
                    << "symmetric";
            }
        }
    }
    EXPECT_EQ(d::element_kind(d::kSparseL1), d::ElementKind::kSparse);
    EXPECT_EQ(d::element_kind(d::kJaccard), d::ElementKind::kBit);
    EXPECT_TRUE(d::normalizes(d::kSparseCosine));
    EXPECT_TRUE(d::is_inner_product(d::kSparseInnerProduct));
    EXPECT_EQ(d::lanes_for(d::ElementKind::kSparse, 123), d::kSparseLanes);
}

// Nodes not reachable over level 0 from the entry point.
template <class Graph>
size_t unreachable(Graph& g, size_t n, NodeId entry) {
    std::vector<char> seen(n, 0);
    std::vector<NodeId> stack{entry}, list;
    seen[entry] = 1;
    while (!stack.empty()) {
        const NodeId u = stack.back();
        stack.pop_back();
        g.neighbors(u, 0, list);
        for (NodeId x : list)
            if (!seen[x]) {
                seen[x] = 1;
                stack.push_back(x);
            }
    }
    return static_cast<size_t>(std::count(seen.begin(), seen.end(), 0));
}

// recall@10 at ef 64 of the queries over rows[0..n), by exact reference distances; `id_row`
// maps a graph node to its row.
template <class Graph>
double recall10(Graph& g, NodeId entry, int entry_level, d::Metric m,
                const std::vector<Sparse>& rows, size_t n, const std::vector<Sparse>& queries,
                const std::vector<size_t>& id_row) {
    Searcher<Graph> s;
    s.set_visit_cap(1u << 30);
    std::vector<Candidate> got;
    size_t hits = 0;
    for (const Sparse& q : queries) {
        std::vector<double> exact(n);
        for (size_t i = 0; i < n; ++i) exact[i] = ref_distance(m, q, rows[i]);
        std::vector<double> sorted = exact;
        std::nth_element(sorted.begin(), sorted.begin() + 9, sorted.end());
        const double kth = sorted[9];
        s.start(g, q.stored.data(), entry, entry_level);
        s.next_batch(64, got);
        for (size_t r = 0; r < std::min<size_t>(10, got.size()); ++r)
            hits += exact[id_row[got[r].id]] <= kth + 1e-5 * std::max(1.0, std::fabs(kth)) ? 1 : 0;
    }
    return double(hits) / double(queries.size() * 10);
}

class SparseGraph : public ::testing::TestWithParam<d::Metric> {};

TEST_P(SparseGraph, BuilderStoresVariableLengthAndFindsNeighbours) {
    const d::Metric m = GetParam();
    const bool cosine = m == d::kSparseCosine;
    const size_t n = 3000;
    std::vector<Sparse> rows = make_rows(n, 2000, 60, cosine, 11);
    const std::vector<Sparse> queries = make_rows(60, 2000, 30, cosine, 12);
    Params p;
    p.dim = d::kSparseLanes;
    p.metric = m;
    p.m = 16;
    p.ef_construction = 64;
    p.max_level = 8;
    Builder b(p, size_t(512) << 20);
    size_t lanes = 0;
    for (size_t i = 0; i < n; ++i) {
        ASSERT_TRUE(b.add(rows[i].stored.data(), i, i % 10 == 0 ? 0 : 255));
        lanes += rows[i].stored.size();
    }
    // exact duplicates of row 5 merge into its item
    for (uint64_t k = 0; k < 20; ++k) ASSERT_TRUE(b.add(rows[5].stored.data(), n + k));
    EXPECT_EQ(b.size(), n);
    EXPECT_EQ(b.labels(5).size(), 21u);
    // vectors take their own length, not kSparseLanes each (that would be 24 MB here)
    EXPECT_LT(b.memory_used(), 3 * lanes * sizeof(float) + n * 400);
    b.start(2);
    while (!b.wait_for(std::chrono::milliseconds(20))) {
    }
    b.join();
    for (NodeId id = 0; id < n; ++id) {
        ASSERT_EQ(std::memcmp(b.vector(id), rows[id].stored.data(),
                              rows[id].stored.size() * sizeof(float)),
                  0);
        if (id % 10 == 0) {
            ASSERT_EQ(b.level(id), 0) << "level cap of add()";
        }
    }
    EXPECT_EQ(unreachable(b.graph(), n, b.entry_point()), 0u);
    std::vector<size_t> id_row(n);
    for (size_t i = 0; i < n; ++i) id_row[i] = i;
    const double r =
        recall10(b.graph(), b.entry_point(), b.max_level(), m, rows, n, queries, id_row);
    // Measured 0.98-0.99; an L2 that drops the non-zeros only one operand has gives 0.15.
    EXPECT_GE(r, 0.95) << d::metric_name(m);
}

TEST_P(SparseGraph, InsertedGraphIsReachableAndFindsNeighbours) {
    const d::Metric m = GetParam();
    const bool cosine = m == d::kSparseCosine;
    const size_t n = 2000;
    std::vector<Sparse> rows = make_rows(n, 1000, 40, cosine, 21);
    // exact duplicates and empty vectors among them (not under cosine: not indexed)
    for (size_t i = 0; i < 50; ++i) rows[100 + i] = rows[99];
    if (!cosine)
        for (size_t i = 0; i < 5; ++i) rows[300 + i] = make_sparse({});
    const std::vector<Sparse> queries = make_rows(50, 1000, 20, cosine, 22);
    Params p;
    p.dim = d::kSparseLanes;
    p.metric = m;
    p.m = 8;
    p.ef_construction = 64;
    p.max_level = 6;
    InMemoryStore st(d::kSparseLanes, m, p.m);
    st.reserve(n);
    Scratch sc;
    NodeId entry = kInvalidNode;
    int entry_level = -1;
    std::vector<float> padded(d::kSparseLanes);
    for (size_t i = 0; i < n; ++i) {
        // The in-memory store keeps kSparseLanes lanes a node: zero padding after the vector.
        std::fill(padded.begin(), padded.end(), 0.0f);
        std::copy(rows[i].stored.begin(), rows[i].stored.end(), padded.begin());
        const int level = static_cast<int>((i * 2654435761u) % 64 == 0) + (i % 512 == 0);
        const NodeId id = st.add(padded.data(), level);
        insert(st, id, padded.data(), level, entry, entry_level, p, sc);
        if (level > entry_level) {
            entry = id;
            entry_level = level;
        }
    }
    EXPECT_EQ(unreachable(st, n, entry), 0u);
    std::vector<size_t> id_row(n);
    for (size_t i = 0; i < n; ++i) id_row[i] = i;
    const double r = recall10(st, entry, entry_level, m, rows, n, queries, id_row);
    EXPECT_GE(r, 0.9) << d::metric_name(m);
}

INSTANTIATE_TEST_SUITE_P(Metrics, SparseGraph,
                         ::testing::Values(d::kSparseL2, d::kSparseInnerProduct, d::kSparseCosine,
                                           d::kSparseL1),
                         [](const ::testing::TestParamInfo<d::Metric>& info) {
                             return std::string(d::metric_name(info.param));
                         });

}  // namespace
}  // namespace piramid::hnsw
