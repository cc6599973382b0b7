// HNSW algorithms over InMemoryStore: visited set, heuristic, search, insert, iterative
// Searcher, delete + repair, duplicates, and recall on the shared fixtures.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <queue>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "core/hnsw/insert.hpp"
#include "memory_store.hpp"
#include "core/hnsw/search.hpp"
#include "hnsw_test_data.hpp"
#include "core/hnsw/select.hpp"
#include "core/hnsw/visited.hpp"

namespace piramid::hnsw {
namespace {

using distance::Metric;

int draw_level(std::mt19937_64& rng, int m) {
    std::uniform_real_distribution<double> u(0.0, 1.0);
    return std::min(16, static_cast<int>(-std::log(1.0 - u(rng)) / std::log(double(m))));
}

struct MemGraph {
    InMemoryStore store;
    NodeId entry = kInvalidNode;
    int entry_level = -1;
    MemGraph(size_t dim, Metric metric, int m) : store(dim, metric, m) {}
};

// One-by-one insertion, the way the on-disk path adds rows.
void insert_all(MemGraph& g, const Vecs& v, const Params& p, size_t count, uint64_t seed = 7) {
    std::mt19937_64 rng(seed);
    Scratch sc;
    g.store.reserve(count);
    for (size_t i = 0; i < count; ++i) {
        const int level = draw_level(rng, p.m);
        const NodeId id = g.store.add(v.row(i), level);
        insert(g.store, id, v.row(i), level, g.entry, g.entry_level, p, sc);
        if (level > g.entry_level) {
            g.entry = id;
            g.entry_level = level;
        }
    }
}

template <class S>
double recall10(S& store, NodeId entry, int entry_level, const Vecs& q,
                const std::vector<std::vector<int>>& gt, size_t nq, size_t ef) {
    Searcher<S> s;
    std::vector<Candidate> out;
    size_t hits = 0;
    for (size_t i = 0; i < nq; ++i) {
        s.start(store, q.row(i), entry, entry_level);
        s.next_batch(ef, out);
        std::set<int> truth(gt[i].begin(), gt[i].begin() + 10);
        for (size_t j = 0; j < std::min<size_t>(10, out.size()); ++j)
            hits += truth.count(static_cast<int>(out[j].id));
    }
    return double(hits) / double(nq * 10);
}

// ---------------------------------------------------------------------------------------------

TEST(HnswVisited, SparseInsertClearGrow) {
    VisitedSet v(4);
    for (NodeId i = 0; i < 5000; ++i) EXPECT_TRUE(v.insert(i * 7919u + (i << 20)));
    for (NodeId i = 0; i < 5000; ++i) EXPECT_FALSE(v.insert(i * 7919u + (i << 20)));
    EXPECT_EQ(v.size(), 5000u);
    EXPECT_TRUE(v.contains(7919u + (1u << 20)));
    v.clear();
    EXPECT_EQ(v.size(), 0u);
    EXPECT_FALSE(v.contains(7919u + (1u << 20)));
    EXPECT_TRUE(v.insert(kInvalidNode));
    EXPECT_FALSE(v.insert(kInvalidNode));
    // Many clears: the epoch wraps around without stale hits.
    for (int i = 0; i < 70000; ++i) {
        v.clear();
        ASSERT_TRUE(v.insert(42));
    }
    DenseVisitedSet d(10);
    EXPECT_TRUE(d.insert(3));
    EXPECT_FALSE(d.insert(3));
    EXPECT_TRUE(d.insert(100));  // grows
    for (int i = 0; i < 70000; ++i) {
        d.clear();
        ASSERT_TRUE(d.insert(3));
    }
}

// A tiny 2-d store for the heuristic.
InMemoryStore points(const std::vector<std::pair<float, float>>& pts) {
    InMemoryStore s(2, Metric::kL2, 8);
    for (auto [x, y] : pts) {
        const float v[2] = {x, y};
        s.add(v, 0);
    }
    return s;
}

std::vector<Candidate> sorted_candidates(InMemoryStore& s, const float* base,
                                         const std::vector<NodeId>& ids) {
    std::vector<Candidate> c;
    for (NodeId id : ids) {
        float d;
        s.distances(base, std::span<const NodeId>(&id, 1), &d, nullptr);
        c.push_back(Candidate{d, id});
    }
    std::sort(c.begin(), c.end(), closer);
    return c;
}

std::set<NodeId> ids_of(const std::vector<Candidate>& c) {
    std::set<NodeId> s;
    for (const Candidate& x : c) s.insert(x.id);
    return s;
}

TEST(HnswHeuristic, PrunesCandidatesCloserToAKeptNeighbour) {
    // 0: base (0,0); 1: (1,0); 2: (1.5,0.25) behind 1; 3: (-1,0) opposite; 4: (0,2) up.
    InMemoryStore s = points({{0, 0}, {1, 0}, {1.5f, 0.25f}, {-1, 0}, {0, 2}});
    const float base[2] = {0, 0};
    auto cand = sorted_candidates(s, base, {1, 2, 3, 4});
    SelectScratch sc;
    std::vector<Candidate> out;
    MetricSpace space(Metric::kL2);
    select_neighbors_heuristic(s, std::span<const Candidate>(cand), 4, out, space, base, 0, sc);
    // The rule keeps 1, 3 and 4 and prunes 2 as covered by 1 ...
    ASSERT_EQ(sc.pruned.size(), 1u);
    EXPECT_EQ(sc.pruned[0].id, 2u);
    ASSERT_EQ(sc.covered.size(), 1u);
    EXPECT_EQ(sc.covered[0], (std::pair<NodeId, NodeId>{2, 1}));
    // ... and a list of at most kFullFillSlots slots is filled to the end, closest first.
    EXPECT_EQ(ids_of(out), (std::set<NodeId>{1, 2, 3, 4}));
    ASSERT_EQ(out.size(), 4u);
    for (size_t k = 1; k < out.size(); ++k) EXPECT_LE(out[k - 1].dist, out[k].dist);
    // m limits the count, closest first.
    select_neighbors_heuristic(s, std::span<const Candidate>(cand), 1, out, space, base, 0, sc);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].dist, 1.0f);
    // The base itself is never selected.
    auto with_self = sorted_candidates(s, base, {0, 1, 3});
    select_neighbors_heuristic(s, std::span<const Candidate>(with_self), 4, out, space, base, 0,
                               sc);
    EXPECT_EQ(ids_of(out), (std::set<NodeId>{1, 3}));
}

TEST(HnswHeuristic, KeepsAtLeastHalfTheSlotsWhenRowsBarelyOverlap) {
    // Orthogonal rows (one axis each, growing norms) seen from a base of norm 3 on its own
    // axis: every candidate is closer to the first (smallest) one than to the base, so the rule
    // alone keeps one neighbour. The minimum degree fills half of the slots (all of a short
    // list's) with the closest pruned candidates, closest first, never twice.
    const size_t dim = 12;
    InMemoryStore s(dim, Metric::kL2, 8);
    std::vector<float> v(dim, 0.0f);
    v[0] = 3.0f;
    s.add(v.data(), 0);
    for (size_t i = 1; i < dim; ++i) {
        std::fill(v.begin(), v.end(), 0.0f);
        v[i] = 1.0f + 0.1f * static_cast<float>(i);
        s.add(v.data(), 0);
    }
    std::vector<float> base(dim, 0.0f);
    base[0] = 3.0f;
    std::vector<NodeId> ids;
    for (NodeId i = 1; i < dim; ++i) ids.push_back(i);
    auto cand = sorted_candidates(s, base.data(), ids);
    SelectScratch sc;
    std::vector<Candidate> out;
    MetricSpace space(Metric::kL2);
    for (size_t m : {1u, 2u, 5u, 8u, 16u}) {
        select_neighbors_heuristic(s, std::span<const Candidate>(cand), m, out, space, base.data(),
                                   0, sc);
        // a short list (m <= kFullFillSlots) is filled to the end, a longer one to half
        const size_t want = std::min<size_t>(m <= kFullFillSlots ? m : (m + 1) / 2, ids.size());
        ASSERT_EQ(out.size(), std::max<size_t>(want, 1)) << "m " << m;
        for (size_t k = 0; k < out.size(); ++k) EXPECT_EQ(out[k].id, k + 1) << "closest first";
    }
    // fill_to bounds the minimum degree as it bounds the duplicate fill
    select_neighbors_heuristic(s, std::span<const Candidate>(cand), 16, out, space, base.data(), 0,
                               sc, 4);
    EXPECT_EQ(out.size(), 2u);
}

TEST(HnswHeuristic, CopiesOfTheBaseDoNotCrowdOutOthers) {
    std::vector<std::pair<float, float>> pts(11, {0, 0});  // 0 = base, 1..10 copies
    pts.push_back({1, 0});
    pts.push_back({-1, 0});
    pts.push_back({0, 1});
    pts.push_back({0, -1});
    InMemoryStore s = points(pts);
    const float base[2] = {0, 0};
    std::vector<NodeId> ids;
    for (NodeId i = 1; i < pts.size(); ++i) ids.push_back(i);
    auto cand = sorted_candidates(s, base, ids);
    SelectScratch sc;
    std::vector<Candidate> out;
    MetricSpace space(Metric::kL2);
    select_neighbors_heuristic(s, std::span<const Candidate>(cand), 6, out, space, base, 0, sc);
    size_t copies = 0;
    for (const Candidate& c : out) copies += c.dist == 0.0f;
    EXPECT_EQ(copies, kMaxDuplicateNeighbors);
    EXPECT_EQ(out.size(), 6u);
    // Room to spare: all distinct directions, then copies fill the free slots.
    select_neighbors_heuristic(s, std::span<const Candidate>(cand), 12, out, space, base, 0, sc);
    EXPECT_EQ(out.size(), 12u);
    const std::set<NodeId> got = ids_of(out);
    for (NodeId id : {11u, 12u, 13u, 14u}) EXPECT_TRUE(got.count(id)) << id;
}

TEST(HnswHeuristic, CopiesOfANeighbourOnlyFillFreeSlots) {
    // base (0,0); five copies of (1,0); one point at (-1,0).
    InMemoryStore s = points({{0, 0}, {1, 0}, {1, 0}, {1, 0}, {1, 0}, {1, 0}, {-1, 0}});
    const float base[2] = {0, 0};
    auto cand = sorted_candidates(s, base, {1, 2, 3, 4, 5, 6});
    SelectScratch sc;
    std::vector<Candidate> out;
    MetricSpace space(Metric::kL2);
    select_neighbors_heuristic(s, std::span<const Candidate>(cand), 2, out, space, base, 0, sc);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_TRUE(ids_of(out).count(6));
    select_neighbors_heuristic(s, std::span<const Candidate>(cand), 4, out, space, base, 0, sc);
    EXPECT_EQ(out.size(), 4u);
    EXPECT_TRUE(ids_of(out).count(6));
}

TEST(HnswSearch, ExactOnASmallGraphWithLargeEf) {
    const Vecs v = random_vecs(300, 8, 1);
    MemGraph g(8, Metric::kL2, 8);
    insert_all(g, v, params_for(8, Metric::kL2, 8, 32), v.n);
    const Vecs q = random_vecs(20, 8, 2);
    SearchScratch ss;
    VisitedSet vis;
    std::vector<Candidate> res;
    for (size_t i = 0; i < q.n; ++i) {
        const Candidate e = greedy_descent(g.store, q.row(i), g.entry, g.entry_level, 0, ss);
        search_layer(g.store, q.row(i), std::span<const NodeId>(&e.id, 1), 400, 0, vis, ss, res);
        ASSERT_EQ(res.size(), v.n);  // ef >= n: every node, sorted
        EXPECT_TRUE(std::is_sorted(res.begin(), res.end(), closer));
        // First = the true nearest.
        float best = INFINITY;
        for (size_t j = 0; j < v.n; ++j)
            best = std::min(best, distance::l2sq(q.row(i), v.row(j), v.dim));
        EXPECT_EQ(res[0].dist, best);
    }
    // A level-0 greedy descent (target -1) ends in a local minimum.
    const Candidate e = greedy_descent(g.store, q.row(0), g.entry, g.entry_level, -1);
    std::vector<NodeId> nb;
    g.store.neighbors(e.id, 0, nb);
    for (NodeId n : nb) EXPECT_GE(distance::l2sq(q.row(0), v.row(n), v.dim), e.dist);
}

TEST(HnswSearcher, BatchesReturnEveryNodeOnceAndStrictOrderHolds) {
    const Vecs v = random_vecs(500, 8, 3);
    MemGraph g(8, Metric::kL2, 6);
    insert_all(g, v, params_for(8, Metric::kL2, 6, 24), v.n);
    for (NodeId id = 0; id < v.n; id += 10) g.store.mark_deleted(id);  // 50 deleted
    const Vecs q = random_vecs(5, 8, 4);
    Searcher<InMemoryStore> s;
    std::vector<Candidate> out;
    for (size_t qi = 0; qi < q.n; ++qi) {
        // Relaxed: each live node exactly once, never a deleted one.
        s.start(g.store, q.row(qi), g.entry, g.entry_level);
        std::vector<int> seen(v.n, 0);
        size_t total = 0, batches = 0;
        while (!s.exhausted()) {
            s.next_batch(10, out);
            ASSERT_LT(++batches, 1000u);
            EXPECT_TRUE(std::is_sorted(out.begin(), out.end(), closer));
            for (const Candidate& c : out) {
                ASSERT_LT(c.id, v.n);
                EXPECT_NE(c.id % 10, 0u) << "deleted node returned";
                ++seen[c.id];
                ++total;
            }
        }
        EXPECT_EQ(total, 450u);
        for (NodeId id = 0; id < v.n; ++id) EXPECT_EQ(seen[id], id % 10 == 0 ? 0 : 1) << id;
        EXPECT_GT(s.distance_computations(), 0u);
        EXPECT_GT(s.nodes_expanded(), 0u);

        // Strict: hold results until nothing still to come can be closer; drop late arrivals
        // (closer than something already emitted), as a strict-order index scan must.
        s.start(g.store, q.row(qi), g.entry, g.entry_level);
        std::vector<Candidate> held;  // min-heap
        std::vector<Candidate> emitted;
        size_t dropped = 0;
        float last = -INFINITY;
        for (;;) {
            while (!held.empty() && (s.exhausted() || held.front().dist <= s.frontier_min())) {
                std::pop_heap(held.begin(), held.end(), NearestOnTop{});
                emitted.push_back(held.back());
                last = held.back().dist;
                held.pop_back();
            }
            if (s.exhausted()) break;
            s.next_batch(10, out);
            for (const Candidate& c : out) {
                if (c.dist < last) {
                    ++dropped;
                    continue;
                }
                held.push_back(c);
                std::push_heap(held.begin(), held.end(), NearestOnTop{});
            }
        }
        for (size_t i = 1; i < emitted.size(); ++i)
            ASSERT_LE(emitted[i - 1].dist, emitted[i].dist) << "at " << i;
        EXPECT_EQ(emitted.size() + dropped, 450u);
        EXPECT_LE(dropped, 45u) << "too many results arrived out of order";
        if (qi == 0)
            std::printf("[hnsw] strict order over 450 live nodes: %zu arrived late (dropped)\n",
                        dropped);
    }
}

// Seeds: extra level-0 starting points. Nodes that no list names (stranded, as a failed in-link
// upkeep leaves them) are found from them, and only from them; a seed is returned once, a deleted
// one never.
TEST(HnswSearcher, SeedsReachStrandedNodes) {
    const Vecs v = random_vecs(400, 8, 21);
    MemGraph g(8, Metric::kL2, 8);
    insert_all(g, v, params_for(8, Metric::kL2, 8, 32), v.n);
    std::vector<NodeId> stranded;
    for (NodeId id = 7; id < v.n && stranded.size() < 5; id += 41)
        if (id != g.entry) stranded.push_back(id);
    auto is_stranded = [&](NodeId id) {
        return std::find(stranded.begin(), stranded.end(), id) != stranded.end();
    };
    std::vector<NodeId> list, kept;
    for (NodeId y = 0; y < v.n; ++y)
        for (int l = 0; l <= g.store.level(y); ++l) {
            g.store.neighbors(y, l, list);
            kept.clear();
            for (NodeId x : list)
                if (!is_stranded(x)) kept.push_back(x);
            g.store.set_neighbors(y, l, std::span<const NodeId>(kept));
        }
    const NodeId gone = stranded.back();  // a deleted seed: traversed, never returned
    g.store.mark_deleted(gone);
    Searcher<InMemoryStore> s;
    std::vector<Candidate> out;
    for (NodeId x : stranded) {
        s.start(g.store, v.row(x), g.entry, g.entry_level);
        s.next_batch(40, out);
        const bool found =
            std::any_of(out.begin(), out.end(), [x](const Candidate& c) { return c.id == x; });
        EXPECT_FALSE(found) << "node " << x << " found without seeds";
        // the whole iterative search, from the seeds as well
        s.start(g.store, v.row(x), g.entry, g.entry_level, std::span<const NodeId>(stranded));
        std::vector<int> seen(v.n, 0);
        bool first = true;
        while (!s.exhausted()) {
            s.next_batch(40, out);
            if (first && x != gone) {
                ASSERT_FALSE(out.empty());
                EXPECT_EQ(out.front().id, x) << "its own vector comes first";
                first = false;
            }
            for (const Candidate& c : out) ++seen[c.id];
        }
        for (NodeId y = 0; y < v.n; ++y) EXPECT_EQ(seen[y], y == gone ? 0 : 1) << "node " << y;
    }
}

TEST(HnswSearcher, VisitCapBoundsWork) {
    const Vecs v = random_vecs(2000, 8, 5);
    MemGraph g(8, Metric::kL2, 8);
    insert_all(g, v, params_for(8, Metric::kL2, 8, 32), v.n);
    Searcher<InMemoryStore> s;
    s.set_visit_cap(100);
    s.start(g.store, v.row(0), g.entry, g.entry_level);
    std::vector<Candidate> out;
    size_t total = 0;
    for (int i = 0; i < 1000 && !s.exhausted(); ++i) total += s.next_batch(40, out);
    EXPECT_TRUE(s.exhausted());
    EXPECT_LE(s.visited(), 100u);
    EXPECT_LE(total, 100u);
    EXPECT_GT(total, 40u);
    // Empty index.
    Searcher<InMemoryStore> e;
    e.start(g.store, v.row(0), kInvalidNode, -1);
    EXPECT_TRUE(e.exhausted());
    EXPECT_EQ(e.next_batch(10, out), 0u);
}

TEST(HnswInsert, RecallSiftL2) {
    Vecs base, q;
    std::vector<std::vector<int>> gt;
    if (!read_fvecs(data_path("sift-ngt-5k/base.fvecs"), base) ||
        !read_fvecs(data_path("sift-ngt-5k/query.fvecs"), q) ||
        !read_ivecs(data_path("sift-ngt-5k/gt.ivecs"), gt))
        GTEST_SKIP() << "shared data sift-ngt-5k not found under " << PIRAMID_SHARED_DATA;
    MemGraph g(base.dim, Metric::kL2, 16);
    insert_all(g, base, params_for(base.dim, Metric::kL2), base.n);
    // Lists stay within capacity and never point to the node itself.
    for (NodeId id = 0; id < base.n; ++id)
        for (int l = 0; l <= g.store.level(id); ++l) {
            auto list = g.store.list(id, l);
            EXPECT_LE(list.size(), l == 0 ? 32u : 16u);
            EXPECT_EQ(std::count(list.begin(), list.end(), id), 0);
        }
    const double r = recall10(g.store, g.entry, g.entry_level, q, gt, q.n, 64);
    std::printf("[hnsw] sift-ngt-5k one-by-one insert: recall@10 (ef=64) = %.4f\n", r);
    EXPECT_GE(r, 0.97);
}

TEST(HnswInsert, RecallGloveCosine) {
    Vecs base, q;
    std::vector<std::vector<int>> gt;
    if (!read_fvecs(data_path("glove-twitter-25-12k/base.fvecs"), base) ||
        !read_fvecs(data_path("glove-twitter-25-12k/query.fvecs"), q) ||
        !read_ivecs(data_path("glove-twitter-25-12k/gt.ivecs"), gt))
        GTEST_SKIP() << "shared data glove-twitter-25-12k not found under " << PIRAMID_SHARED_DATA;
    normalize(base);
    normalize(q);
    MemGraph g(base.dim, Metric::kCosine, 16);
    insert_all(g, base, params_for(base.dim, Metric::kCosine), base.n);
    const double r = recall10(g.store, g.entry, g.entry_level, q, gt, q.n, 64);
    std::printf("[hnsw] glove-25 one-by-one insert: recall@10 (ef=64) = %.4f\n", r);
    EXPECT_GE(r, 0.95);
}

TEST(HnswRepair, DeleteThreeQuartersAndRepair) {
    Vecs base, q;
    if (!read_fvecs(data_path("sift-ngt-5k/base.fvecs"), base) ||
        !read_fvecs(data_path("sift-ngt-5k/query.fvecs"), q, 200))
        GTEST_SKIP() << "shared data sift-ngt-5k not found under " << PIRAMID_SHARED_DATA;
    const Params p = params_for(base.dim, Metric::kL2);
    MemGraph g(base.dim, Metric::kL2, 16);
    insert_all(g, base, p, base.n);
    auto removed = [&](NodeId id) { return id % 4 != 0; };
    for (NodeId id = 0; id < base.n; ++id)
        if (removed(id)) g.store.mark_deleted(id);
    // New entry point: the live node with the highest level.
    NodeId entry = kInvalidNode;
    int entry_level = -1;
    for (NodeId id = 0; id < base.n; ++id)
        if (!removed(id) && g.store.level(id) > entry_level) {
            entry = id;
            entry_level = g.store.level(id);
        }
    Scratch sc;
    for (NodeId id = 0; id < base.n; ++id) {
        if (removed(id)) continue;
        for (int l = 0; l <= g.store.level(id); ++l)
            repair(g.store, id, l, removed, p, sc, entry, entry_level);
    }
    size_t empty_lists = 0;
    for (NodeId id = 0; id < base.n; ++id) {
        if (removed(id)) continue;
        for (int l = 0; l <= g.store.level(id); ++l) {
            auto list = g.store.list(id, l);
            for (NodeId n : list) ASSERT_FALSE(removed(n)) << id << " level " << l;
            empty_lists += list.empty();
        }
    }
    EXPECT_EQ(empty_lists, 0u);
    // Brute-force ground truth over the survivors.
    std::vector<std::vector<int>> gt(q.n);
    for (size_t i = 0; i < q.n; ++i) {
        std::vector<Candidate> all;
        for (NodeId id = 0; id < base.n; ++id)
            if (!removed(id))
                all.push_back(Candidate{distance::l2sq(q.row(i), base.row(id), base.dim), id});
        std::partial_sort(all.begin(), all.begin() + 10, all.end(), closer);
        for (int k = 0; k < 10; ++k) gt[i].push_back(static_cast<int>(all[k].id));
    }
    const double r = recall10(g.store, entry, entry_level, q, gt, q.n, 64);
    std::printf("[hnsw] sift-ngt-5k after deleting 75%% + repair: recall@10 (ef=64) = %.4f\n", r);
    EXPECT_GE(r, 0.9);
}

TEST(HnswInsert, ManyIdenticalVectorsStayConnected) {
    const size_t dim = 16, ndup = 2000, nrand = 2000;
    const Vecs rnd = random_vecs(nrand, dim, 9);
    std::vector<float> dup(dim, 0.5f);
    Vecs all;
    all.dim = dim;
    // Interleaved: 1 random, 1 copy, ...
    for (size_t i = 0; i < ndup + nrand; ++i) {
        const float* r = (i % 2 == 0) ? rnd.row(i / 2) : dup.data();
        all.data.insert(all.data.end(), r, r + dim);
        ++all.n;
    }
    MemGraph g(dim, Metric::kL2, 16);
    insert_all(g, all, params_for(dim, Metric::kL2), all.n);
    // Every node reachable from the entry point over level 0.
    std::vector<uint8_t> seen(all.n, 0);
    std::vector<NodeId> queue{g.entry};
    seen[g.entry] = 1;
    for (size_t h = 0; h < queue.size(); ++h)
        for (NodeId n : g.store.list(queue[h], 0))
            if (!seen[n]) {
                seen[n] = 1;
                queue.push_back(n);
            }
    // One-by-one insertion has no global pass (the Builder has one and reaches everything): a
    // few copies may be stranded by this adversarial input.
    std::printf("[hnsw] 2000 copies + 2000 random, one-by-one insert: %zu of %zu reachable\n",
                queue.size(), all.n);
    EXPECT_GE(queue.size(), all.n * 995 / 1000);
    // The copies are found: the first batch is all copies; continuing finds every copy.
    Searcher<InMemoryStore> s;
    s.start(g.store, dup.data(), g.entry, g.entry_level);
    std::vector<Candidate> out;
    s.next_batch(64, out);
    ASSERT_EQ(out.size(), 64u);
    for (const Candidate& c : out) EXPECT_EQ(c.dist, 0.0f);
    size_t zeros = 64;
    for (int i = 0; i < 10000 && !s.exhausted(); ++i) {
        s.next_batch(64, out);
        for (const Candidate& c : out) zeros += c.dist == 0.0f;
    }
    EXPECT_LE(zeros, ndup);
    EXPECT_GE(zeros, ndup * 99 / 100);
}

}  // namespace
}  // namespace piramid::hnsw
