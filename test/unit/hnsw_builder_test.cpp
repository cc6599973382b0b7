// The parallel in-memory builder: recall on the shared fixtures (searched with the Searcher),
// duplicates, cancel, budget, determinism, locality order; plus a disabled-by-default timing run
// on synth-128 (--gtest_also_run_disabled_tests --gtest_filter='*Synth128*').
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/common/error.hpp"
#include "core/hnsw/builder.hpp"
#include "core/hnsw/search.hpp"
#include "hnsw_test_data.hpp"

namespace piramid::hnsw {
namespace {

using distance::Metric;
using Clock = std::chrono::steady_clock;

// Adds rows 0..n-1 (label = row) and builds with `threads`; returns seconds of start..join.
double build(Builder& b, const Vecs& v, int threads) {
    for (size_t i = 0; i < v.n; ++i) EXPECT_TRUE(b.add(v.row(i), i));
    const auto t0 = Clock::now();
    b.start(threads);
    while (!b.wait_for(std::chrono::milliseconds(100))) {
    }
    b.join();
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// recall@10 of the first Searcher batch at ef, mapping items back to rows through labels.
double recall10(Builder& b, const Vecs& q, const std::vector<std::vector<int>>& gt, size_t ef,
                double* dist_per_query = nullptr) {
    Searcher<BuildGraph> s;
    std::vector<Candidate> out;
    size_t hits = 0;
    uint64_t dists = 0;
    for (size_t i = 0; i < q.n; ++i) {
        s.start(b.graph(), q.row(i), b.entry_point(), b.max_level());
        s.next_batch(ef, out);
        dists += s.distance_computations();
        std::set<int> truth(gt[i].begin(), gt[i].begin() + 10);
        std::vector<int> rows;
        for (const Candidate& c : out)
            for (uint64_t l : b.labels(c.id)) rows.push_back(static_cast<int>(l));
        for (size_t j = 0; j < std::min<size_t>(10, rows.size()); ++j) hits += truth.count(rows[j]);
    }
    if (dist_per_query) *dist_per_query = double(dists) / double(q.n);
    return double(hits) / double(q.n * 10);
}

struct Fixture {
    Vecs base, query;
    std::vector<std::vector<int>> gt;
};

bool load(const std::string& name, Fixture& f, bool cosine, size_t nq = SIZE_MAX) {
    if (!read_fvecs(data_path(name + "/base.fvecs"), f.base) ||
        !read_fvecs(data_path(name + "/query.fvecs"), f.query, nq) ||
        !read_ivecs(data_path(name + "/gt.ivecs"), f.gt))
        return false;
    if (cosine) {
        normalize(f.base);
        normalize(f.query);
    }
    return true;
}

void expect_valid_graph(const Builder& b, int m) {
    for (NodeId id = 0; id < b.size(); ++id) {
        ASSERT_LE(b.level(id), b.max_level());
        for (int l = 0; l <= b.level(id); ++l) {
            auto list = b.neighbors(id, l);
            ASSERT_LE(list.size(), static_cast<size_t>(l == 0 ? 2 * m : m));
            for (NodeId n : list) {
                ASSERT_LT(n, b.size());
                ASSERT_NE(n, id);
                ASSERT_GE(b.level(n), l);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------

TEST(HnswBuilder, RecallSiftL2TwoThreads) {
    Fixture f;
    if (!load("sift-ngt-5k", f, false))
        GTEST_SKIP() << "shared data sift-ngt-5k not found under " << PIRAMID_SHARED_DATA;
    Builder b(params_for(f.base.dim, Metric::kL2), size_t(1) << 30);
    const double secs = build(b, f.base, 2);
    expect_valid_graph(b, 16);
    double dpq;
    const double r = recall10(b, f.query, f.gt, 64, &dpq);
    std::printf(
        "[hnsw] sift-ngt-5k builder(2 threads) %.2fs: recall@10 (ef=64) = %.4f, %.0f "
        "distances/query\n",
        secs, r, dpq);
    EXPECT_GE(r, 0.97);
}

TEST(HnswBuilder, RecallGloveCosineTwoThreads) {
    Fixture f;
    if (!load("glove-twitter-25-12k", f, true))
        GTEST_SKIP() << "shared data glove-twitter-25-12k not found under " << PIRAMID_SHARED_DATA;
    Builder b(params_for(f.base.dim, Metric::kCosine), size_t(1) << 30);
    const double secs = build(b, f.base, 2);
    const double r = recall10(b, f.query, f.gt, 64);
    std::printf("[hnsw] glove-25 builder(2 threads) %.2fs: recall@10 (ef=64) = %.4f\n", secs, r);
    EXPECT_GE(r, 0.95);
}

TEST(HnswBuilder, RecallBeirCosineTwoThreads) {
    // The whole base (9,746 rows < 10k), so the shipped exact ground truth applies as is.
    Fixture f;
    if (!load("beir-bge-base-768", f, true, 300))
        GTEST_SKIP() << "shared data beir-bge-base-768 not found under " << PIRAMID_SHARED_DATA;
    Builder b(params_for(f.base.dim, Metric::kCosine), size_t(1) << 30);
    const double secs = build(b, f.base, 2);
    const double r = recall10(b, f.query, f.gt, 64);
    std::printf("[hnsw] beir-768 builder(2 threads) %.2fs: recall@10 (ef=64) = %.4f\n", secs, r);
    EXPECT_GE(r, 0.95);
}

TEST(HnswBuilder, DuplicatesMergeLabelsAndStayReachable) {
    // Two items' worth of labels of one vector: two items (one after the other filled up),
    // whatever the number of labels an index element holds.
    const size_t dim = 16, ndup = 2 * Builder::kMaxLabels, nrand = 2000;
    const Vecs rnd = random_vecs(nrand, dim, 11);
    std::vector<float> dup(dim, 0.25f);
    Builder b(params_for(dim, Metric::kL2), size_t(1) << 28);
    // Random vectors interleaved with the first copies, then the remaining copies.
    for (size_t i = 0; i < ndup + nrand; ++i) {
        const bool is_dup = i >= 2 * nrand || i % 2 == 1;
        ASSERT_TRUE(b.add(is_dup ? dup.data() : rnd.row(i / 2), i));
    }
    EXPECT_EQ(b.size(), nrand + ndup / Builder::kMaxLabels);
    b.start(2);
    while (!b.wait_for(std::chrono::milliseconds(100))) {
    }
    b.join();
    EXPECT_EQ(b.inserted(), b.size());
    expect_valid_graph(b, 16);
    // Every label exactly once.
    std::vector<int> label_seen(ndup + nrand, 0);
    for (NodeId id = 0; id < b.size(); ++id) {
        ASSERT_LE(b.labels(id).size(), Builder::kMaxLabels);
        for (uint64_t l : b.labels(id)) ++label_seen[l];
    }
    for (int c : label_seen) ASSERT_EQ(c, 1);
    // locality_order: a permutation that reaches everything from the entry point.
    const std::vector<NodeId> order = b.locality_order();
    ASSERT_EQ(order.size(), b.size());
    EXPECT_EQ(order[0], b.entry_point());
    std::vector<uint8_t> seen(b.size(), 0);
    for (NodeId id : order) {
        ASSERT_FALSE(seen[id]);
        seen[id] = 1;
    }
    // BFS over level 0 from the entry point reaches every item.
    std::vector<NodeId> queue{b.entry_point()};
    std::fill(seen.begin(), seen.end(), 0);
    seen[b.entry_point()] = 1;
    for (size_t h = 0; h < queue.size(); ++h)
        for (NodeId n : b.neighbors(queue[h], 0))
            if (!seen[n]) {
                seen[n] = 1;
                queue.push_back(n);
            }
    EXPECT_EQ(queue.size(), b.size());
    // Searching for the duplicate finds all its labels.
    EXPECT_EQ(labels_found_at_zero(b, dup.data()), ndup);
}

// Cancellation is checked by the work done after it, not by wall-clock time (a loaded machine
// may stall any thread for a long time): each worker finishes at most the item it is inserting.
TEST(HnswBuilder, CancelStopsQuickly) {
    const Vecs v = random_vecs(60000, 32, 13);
    const int threads = 2;
    Builder b(params_for(v.dim, Metric::kL2), size_t(1) << 30);
    for (size_t i = 0; i < v.n; ++i) ASSERT_TRUE(b.add(v.row(i), i));
    b.start(threads);
    // Let it make some progress, then cancel while it is still running.
    while (b.inserted() < 100 && !b.wait_for(std::chrono::milliseconds(5))) {
    }
    b.cancel();
    const size_t at_cancel = b.inserted();
    // A hang detector only (the workers stop after their current item).
    EXPECT_TRUE(b.wait_for(std::chrono::seconds(120)));
    b.join();
    std::printf("[hnsw] canceled with %zu inserted, %zu after join, of %zu\n", at_cancel,
                b.inserted(), b.size());
    EXPECT_LE(b.inserted(), at_cancel + threads);
    EXPECT_LT(b.inserted(), b.size());
}

TEST(HnswBuilder, DestructorCancelsARunningBuild) {
    // The destructor cancels and joins: no hang (ctest's timeout), no crash, no leak.
    const Vecs v = random_vecs(30000, 32, 14);
    {
        Builder b(params_for(v.dim, Metric::kL2), size_t(1) << 30);
        for (size_t i = 0; i < v.n; ++i) ASSERT_TRUE(b.add(v.row(i), i));
        b.start(2);
    }
    SUCCEED();
}

TEST(HnswBuilder, BudgetRefusesAddsBeyondIt) {
    const Vecs v = random_vecs(20000, 64, 15);
    const size_t budget = 2 << 20;  // 2 MiB: roughly 5k items of 64 floats + lists
    Builder b(params_for(v.dim, Metric::kL2), budget);
    size_t added = 0;
    while (added < v.n && b.add(v.row(added), added)) ++added;
    EXPECT_GT(added, 1000u);
    EXPECT_LT(added, v.n);
    EXPECT_EQ(b.size(), added);
    EXPECT_LE(b.memory_used(), budget);
    // Refused adds leave nothing behind; further adds keep failing.
    EXPECT_FALSE(b.add(v.row(added), added));
    EXPECT_EQ(b.size(), added);
    // What was accepted still builds.
    b.start(2);
    while (!b.wait_for(std::chrono::milliseconds(100))) {
    }
    b.join();
    EXPECT_EQ(b.inserted(), added);
    EXPECT_LE(b.memory_used(), budget);
}

TEST(HnswBuilder, OneThreadIsDeterministic) {
    const Vecs v = random_vecs(3000, 16, 16);
    Builder a(params_for(v.dim, Metric::kL2), size_t(1) << 28);
    Builder c(params_for(v.dim, Metric::kL2), size_t(1) << 28);
    build(a, v, 1);
    build(c, v, 1);
    ASSERT_EQ(a.entry_point(), c.entry_point());
    for (NodeId id = 0; id < a.size(); ++id) {
        ASSERT_EQ(a.level(id), c.level(id));
        for (int l = 0; l <= a.level(id); ++l) {
            auto x = a.neighbors(id, l), y = c.neighbors(id, l);
            ASSERT_TRUE(std::equal(x.begin(), x.end(), y.begin(), y.end())) << id;
        }
    }
}

TEST(HnswBuilder, EmptyAndSingleItem) {
    Builder e(params_for(4, Metric::kL2), 1 << 20);
    e.start(2);
    EXPECT_TRUE(e.wait_for(std::chrono::milliseconds(0)));
    e.join();
    EXPECT_EQ(e.size(), 0u);
    EXPECT_EQ(e.entry_point(), kInvalidNode);
    EXPECT_TRUE(e.locality_order().empty());

    Builder one(params_for(4, Metric::kL2), 1 << 20);
    const float v[4] = {1, 2, 3, 4};
    ASSERT_TRUE(one.add(v, 7));
    one.start(2);
    EXPECT_TRUE(one.wait_for(std::chrono::milliseconds(1000)));
    one.join();
    EXPECT_EQ(one.entry_point(), 0u);
    EXPECT_EQ(one.labels(0).size(), 1u);
    EXPECT_EQ(one.labels(0)[0], 7u);
    EXPECT_THROW(one.add(v, 8), Error);
    EXPECT_THROW(Builder(params_for(0, Metric::kL2), 1 << 20), Error);
}

// Timing on synth-128 (100k x 128, L2, m=16, efc=64), 1 and 2 threads.
TEST(HnswBuilder, DISABLED_Synth128Timing) {
    Fixture f;
    if (!load("synth-128", f, false))
        GTEST_SKIP() << "shared data synth-128 not found under " << PIRAMID_SHARED_DATA;
    const char* env = std::getenv("PIRAMID_BUILD_THREADS");
    std::vector<int> counts = env ? std::vector<int>{std::atoi(env)} : std::vector<int>{1, 2};
    for (int threads : counts) {
        Builder b(params_for(f.base.dim, Metric::kL2), size_t(4) << 30);
        const double secs = build(b, f.base, threads);
        for (size_t ef : {10, 40, 64, 80, 160}) {
            double dpq;
            const auto t0 = Clock::now();
            const double r = recall10(b, f.query, f.gt, ef, &dpq);
            const double qs =
                double(f.query.n) / std::chrono::duration<double>(Clock::now() - t0).count();
            std::printf(
                "[hnsw] synth-128 build %d thread(s): %.2f s; ef=%zu recall@10 %.4f, "
                "%.0f QPS, %.0f distances/query\n",
                threads, secs, ef, r, qs, dpq);
        }
    }
}

}  // namespace
}  // namespace piramid::hnsw
