// The level-0 in-link guarantee of one-at-a-time inserts (Params::keep_in_links) and of repair,
// over InMemoryStore: every node must stay reachable over level 0 from the entry point, with
// data that makes the heuristic prune hard (one-hot vectors, clusters of near copies, tiny m),
// single-threaded and with concurrent inserting threads.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/hnsw/connect.hpp"
#include "core/hnsw/insert.hpp"
#include "hnsw_test_data.hpp"
#include "memory_store.hpp"

namespace piramid::hnsw {
namespace {

using distance::Metric;

// Nodes not reachable over level 0 from entry and the extra entry points `seeds` (deleted nodes
// are not traversed and not counted).
size_t unreachable_level0(InMemoryStore& s, NodeId entry, std::span<const NodeId> seeds = {}) {
    std::vector<char> seen(s.size(), 0);
    std::vector<NodeId> stack{entry};
    seen[entry] = 1;
    for (NodeId x : seeds)
        if (!seen[x]) {
            seen[x] = 1;
            stack.push_back(x);
        }
    std::vector<NodeId> list;
    while (!stack.empty()) {
        const NodeId id = stack.back();
        stack.pop_back();
        if (s.is_deleted(id)) continue;
        s.neighbors(id, 0, list);
        for (NodeId n : list)
            if (!seen[n]) {
                seen[n] = 1;
                stack.push_back(n);
            }
    }
    size_t lost = 0;
    for (NodeId i = 0; i < s.size(); ++i)
        if (!seen[i] && !s.is_deleted(i)) ++lost;
    return lost;
}

struct Bits {
    std::vector<char> b;
    bool test(NodeId id) const { return id < b.size() && b[id]; }
    bool set(NodeId id) {
        if (id >= b.size() || b[id]) return false;
        b[id] = 1;
        return true;
    }
};

// VACUUM's pass: walk level 0 from the entry over live nodes, link in every node not reached.
// Returns how many had to be linked in.
size_t connect_all(InMemoryStore& s, NodeId entry, int entry_level, const Params& p) {
    std::vector<NodeId> roomy;
    const size_t cap = static_cast<size_t>(2 * p.m);
    auto traverse = [&s, &roomy, cap](NodeId id, std::vector<NodeId>& list) {
        s.neighbors(id, 0, list);
        const bool live = !s.is_deleted(id);
        if (live) note_room(roomy, id, list.size(), cap);
        return live;
    };
    auto step = [] {};
    Scratch sc;
    size_t total = 0;
    // A displacement by link_in can cut off a node marked reached before: another round walks
    // the graph afresh.
    for (int round = 0; round < 3; ++round) {
        Bits reached{std::vector<char>(s.size(), 0)};
        roomy.clear();
        std::vector<NodeId> stack{entry};
        reached.set(entry);
        walk_level0(reached, stack, traverse, step);
        size_t linked = 0;
        for (NodeId x = 0; x < s.size(); ++x) {
            if (reached.test(x) || s.is_deleted(x)) continue;
            if (link_in(s, x, s.vector_ptr(x), entry, entry_level, p, sc, reached, roomy)) {
                ++linked;
                reached.set(x);
                stack.assign(1, x);
                walk_level0(reached, stack, traverse, step);
            }
        }
        total += linked;
        if (linked == 0) break;
    }
    return total;
}

Vecs one_hot(size_t n, size_t dim) {
    Vecs v;
    v.n = n;
    v.dim = dim;
    v.data.assign(n * dim, 0.0f);
    for (size_t i = 0; i < n; ++i) v.data[i * dim + (i % dim)] = 1.0f + float(i / dim) * 1e-3f;
    return v;
}

Vecs near_copies(size_t n, size_t dim, uint64_t seed) {
    // Few centres, each repeated with tiny noise: lists fill with near-equal candidates.
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> g(0.0f, 1.0f);
    Vecs centres = random_vecs(8, dim, seed);
    Vecs v;
    v.n = n;
    v.dim = dim;
    v.data.resize(n * dim);
    for (size_t i = 0; i < n; ++i)
        for (size_t d = 0; d < dim; ++d)
            v.data[i * dim + d] = centres.row(i % 8)[d] + 1e-4f * g(rng);
    return v;
}

// Vectors so small that every squared L2 distance underflows float32 to 0 (the oracle's
// 'magnitudes' shape at 1e-30): every comparison is a tie.
Vecs tiny(size_t n, size_t dim, uint64_t seed) {
    Vecs v = random_vecs(n, dim, seed);
    for (float& x : v.data) x *= 1e-30f;
    return v;
}

Vecs shape_vecs(int shape, size_t n, size_t dim, uint64_t seed) {
    switch (shape) {
        case 0:
            return random_vecs(n, dim, seed);
        case 1:
            return one_hot(n, dim);
        case 2:
            return near_copies(n, dim, seed);
        default:
            return tiny(n, dim, seed);
    }
}

struct Graph {
    InMemoryStore store;
    NodeId entry = kInvalidNode;
    int entry_level = -1;
    Graph(size_t dim, Metric metric, int m) : store(dim, metric, m) {}
};

int level_of(size_t i, int m) {
    std::mt19937_64 rng(i * 0x9E3779B97F4A7C15ull + 1);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    return std::min(8, static_cast<int>(-std::log(1.0 - u(rng)) / std::log(double(m))));
}

// Returns the nodes the inserts reported as not linked for sure (Scratch::il_unlinked).
std::vector<NodeId> insert_serial(Graph& g, const Vecs& v, const Params& p) {
    Scratch sc;
    for (size_t i = 0; i < v.n; ++i) {
        const int level = level_of(i, p.m);
        const NodeId id = g.store.add(v.row(i), level);
        insert(g.store, id, v.row(i), level, g.entry, g.entry_level, p, sc);
        if (level > g.entry_level) {
            g.entry = id;
            g.entry_level = level;
        }
    }
    return sc.il_unlinked;
}

struct Case {
    const char* name;
    Metric metric;
    int m;
    int shape;   // 0 gaussian, 1 one-hot, 2 near copies, 3 tiny (all distances 0)
    bool plain;  // data and m an insert path must keep fully reachable by itself
    size_t dim = 16;
};

// After VACUUM's pass every live node is reachable, for every metric (under inner product the
// pass and the inserts link nodes in where a reached list has room, never by displacement).
void expect_connected(Graph& g, const Params& p, const Case& c) {
    const size_t before = unreachable_level0(g.store, g.entry);
    connect_all(g.store, g.entry, g.entry_level, p);
    const size_t after = unreachable_level0(g.store, g.entry);
    EXPECT_LE(after, before) << c.name;
    EXPECT_EQ(after, 0u) << c.name;
}

class InLinks : public ::testing::TestWithParam<Case> {};

TEST_P(InLinks, SerialInsertsLeaveNoNodeUnreachable) {
    const Case c = GetParam();
    const size_t n = 3000, dim = c.dim;
    Vecs v = shape_vecs(c.shape, n, dim, 11);
    if (c.metric == Metric::kCosine) normalize(v);
    Params p = params_for(dim, c.metric, c.m, 2 * c.m);
    ASSERT_TRUE(p.keep_in_links);
    Graph g(dim, c.metric, c.m);
    g.store.reserve(n);
    const std::vector<NodeId> unlinked = insert_serial(g, v, p);
    // Every node is reachable from the entry point or from a node reported unlinked (index
    // scans start from those too), and such reports are rare.
    EXPECT_EQ(unreachable_level0(g.store, g.entry, unlinked), 0u) << c.name;
    EXPECT_LE(unlinked.size(), c.plain ? n / 200 : n / 20) << c.name;
    expect_connected(g, p, c);
}

TEST_P(InLinks, ConcurrentInsertsLeaveNoNodeUnreachable) {
    const Case c = GetParam();
    const size_t n = 4000, dim = c.dim;
    Vecs v = shape_vecs(c.shape, n, dim, 13);
    if (c.metric == Metric::kCosine) normalize(v);
    Params p = params_for(dim, c.metric, c.m, 2 * c.m);
    Graph g(dim, c.metric, c.m);
    g.store.reserve(n);
    // Nodes exist up front (add() is not thread-safe); the first one is the entry point at
    // the top level so that no thread has to raise it.
    std::vector<int> levels(n);
    for (size_t i = 0; i < n; ++i) levels[i] = i == 0 ? 8 : level_of(i, c.m);
    for (size_t i = 0; i < n; ++i) g.store.add(v.row(i), levels[i]);
    g.entry = 0;
    g.entry_level = 8;
    std::atomic<size_t> next{1};
    std::mutex mu;
    std::vector<NodeId> unlinked;
    auto work = [&] {
        Scratch sc;
        for (size_t i; (i = next.fetch_add(1)) < n;)
            insert(g.store, static_cast<NodeId>(i), v.row(i), levels[i], g.entry, g.entry_level, p,
                   sc);
        std::lock_guard<std::mutex> lock(mu);
        unlinked.insert(unlinked.end(), sc.il_unlinked.begin(), sc.il_unlinked.end());
    };
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t) ts.emplace_back(work);
    for (auto& t : ts) t.join();
    EXPECT_EQ(unreachable_level0(g.store, g.entry, unlinked), 0u) << c.name;
    EXPECT_LE(unlinked.size(), c.plain ? n / 200 : n / 20) << c.name;
    expect_connected(g, p, c);
}

TEST_P(InLinks, RepairAfterDeletesLeavesNoLiveNodeUnreachable) {
    const Case c = GetParam();
    const size_t n = 3000, dim = c.dim;
    Vecs v = shape_vecs(c.shape, n, dim, 17);
    if (c.metric == Metric::kCosine) normalize(v);
    Params p = params_for(dim, c.metric, c.m, 2 * c.m);
    Graph g(dim, c.metric, c.m);
    g.store.reserve(n);
    insert_serial(g, v, p);
    // Delete two nodes in three (never the entry point), then repair every list that names one.
    std::vector<char> removed(n, 0);
    for (NodeId i = 0; i < n; ++i)
        if (i % 3 != 0 && i != g.entry) {
            removed[i] = 1;
            g.store.mark_deleted(i);
        }
    auto is_removed = [&](NodeId id) { return removed[id] != 0; };
    Scratch sc;
    std::vector<NodeId> list;
    for (NodeId i = 0; i < n; ++i) {
        if (removed[i]) continue;
        for (int l = 0; l <= g.store.level(i); ++l)
            repair(g.store, i, l, is_removed, p, sc, g.entry, g.entry_level);
    }
    expect_connected(g, p, c);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, InLinks,
    ::testing::Values(Case{"l2_gauss_m16", Metric::kL2, 16, 0, true},
                      Case{"l2_onehot_m16", Metric::kL2, 16, 1, true},
                      Case{"l1_onehot_m16", Metric::kL1, 16, 1, true},
                      Case{"ip_gauss_m16", Metric::kInnerProduct, 16, 0, true},
                      Case{"cos_gauss_m16", Metric::kCosine, 16, 0, true},
                      Case{"ip_onehot_m16", Metric::kInnerProduct, 16, 1, true},
                      Case{"cos_near_m16", Metric::kCosine, 16, 2, false},
                      Case{"l2_gauss_m4", Metric::kL2, 4, 0, false},
                      Case{"ip_onehot_m4", Metric::kInnerProduct, 4, 1, true},
                      // one dimension: every list points at the two extremes, whose lists fill
                      Case{"ip_1d_m16", Metric::kInnerProduct, 16, 0, true, 1},
                      Case{"l2_near_m8", Metric::kL2, 8, 2, false},
                      Case{"l2_tiny_m16", Metric::kL2, 16, 3, true, 8},
                      Case{"ip_tiny_m16", Metric::kInnerProduct, 16, 3, true, 8}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace piramid::hnsw
