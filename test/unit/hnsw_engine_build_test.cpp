// The engine-driven build (Builder::start_with_engine) with CpuEngine: recall against the normal
// threaded build on the shared fixtures, reachability, cancel, determinism across engine thread
// counts and block sizes, duplicates, engine failure fallback, budget; plus a disabled-by-default
// timing run on synth-128 (--gtest_also_run_disabled_tests --gtest_filter='*EngineSynth128*').
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
#include <vector>

#include "core/common/error.hpp"
#include "core/engine/cpu_engine.hpp"
#include "core/hnsw/builder.hpp"
#include "core/hnsw/search.hpp"
#include "hnsw_test_data.hpp"

namespace piramid::hnsw {
namespace {

using distance::Metric;
using Clock = std::chrono::steady_clock;

void add_all(Builder& b, const Vecs& v) {
    for (size_t i = 0; i < v.n; ++i) ASSERT_TRUE(b.add(v.row(i), i));
}

// Waits for the build; returns seconds since t0.
double finish(Builder& b, Clock::time_point t0) {
    while (!b.wait_for(std::chrono::milliseconds(50))) {
    }
    b.join();
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

double build_normal(Builder& b, const Vecs& v, int threads) {
    add_all(b, v);
    const auto t0 = Clock::now();
    b.start(threads);
    return finish(b, t0);
}

double build_engine(Builder& b, const Vecs& v, engine::DistanceEngine& e, int threads,
                    size_t block = 0) {
    add_all(b, v);
    const auto t0 = Clock::now();
    EXPECT_TRUE(b.start_with_engine(e, threads, block));
    return finish(b, t0);
}

double recall10(Builder& b, const Vecs& q, const std::vector<std::vector<int>>& gt, size_t ef) {
    Searcher<BuildGraph> s;
    std::vector<Candidate> out;
    size_t hits = 0;
    for (size_t i = 0; i < q.n; ++i) {
        s.start(b.graph(), q.row(i), b.entry_point(), b.max_level());
        s.next_batch(ef, out);
        std::set<int> truth(gt[i].begin(), gt[i].begin() + 10);
        std::vector<int> rows;
        for (const Candidate& c : out)
            for (uint64_t l : b.labels(c.id)) rows.push_back(static_cast<int>(l));
        for (size_t j = 0; j < std::min<size_t>(10, rows.size()); ++j) hits += truth.count(rows[j]);
    }
    return double(hits) / double(q.n * 10);
}

struct Fixture {
    Vecs base, query;
    std::vector<std::vector<int>> gt;
};

bool load(const std::string& name, Fixture& f, bool cosine) {
    const std::string dir = std::string(PIRAMID_SHARED_DATA) + "/" + name;
    if (!read_fvecs(dir + "/base.fvecs", f.base) || !read_fvecs(dir + "/query.fvecs", f.query) ||
        !read_ivecs(dir + "/gt.ivecs", f.gt))
        return false;
    if (cosine) {
        normalize(f.base);
        normalize(f.query);
    }
    return true;
}

// Lists within capacity, no self links, upper lists only between nodes on that level, and every
// node reachable over layer 0 from the entry point.
void expect_valid_and_connected(const Builder& b, int m) {
    const size_t n = b.size();
    for (NodeId id = 0; id < n; ++id) {
        ASSERT_LE(b.level(id), b.max_level());
        for (int l = 0; l <= b.level(id); ++l) {
            auto list = b.neighbors(id, l);
            ASSERT_LE(list.size(), static_cast<size_t>(l == 0 ? 2 * m : m));
            std::set<NodeId> uniq(list.begin(), list.end());
            ASSERT_EQ(uniq.size(), list.size()) << "repeated neighbour of " << id;
            for (NodeId x : list) {
                ASSERT_LT(x, n);
                ASSERT_NE(x, id);
                ASSERT_GE(b.level(x), l);
            }
        }
    }
    if (n == 0) return;
    ASSERT_LT(b.entry_point(), n);
    EXPECT_EQ(b.level(b.entry_point()), b.max_level());
    std::vector<uint8_t> seen(n, 0);
    std::vector<NodeId> queue{b.entry_point()};
    seen[b.entry_point()] = 1;
    for (size_t h = 0; h < queue.size(); ++h)
        for (NodeId x : b.neighbors(queue[h], 0))
            if (!seen[x]) {
                seen[x] = 1;
                queue.push_back(x);
            }
    EXPECT_EQ(queue.size(), n) << "nodes unreachable from the entry point";
}

void compare_recall(const char* name, bool cosine) {
    Fixture f;
    if (!load(name, f, cosine)) GTEST_SKIP() << name << " not found under " << PIRAMID_SHARED_DATA;
    const Metric metric = cosine ? Metric::kCosine : Metric::kL2;
    Builder normal(params_for(f.base.dim, metric), size_t(1) << 30);
    const double tn = build_normal(normal, f.base, 2);
    engine::CpuEngine cpu(2);
    Builder eb(params_for(f.base.dim, metric), size_t(1) << 30);
    const double te = build_engine(eb, f.base, cpu, 2);
    EXPECT_TRUE(eb.engine_error().empty()) << eb.engine_error();
    EXPECT_EQ(eb.inserted(), eb.size());
    expect_valid_and_connected(eb, 16);
    const double rn = recall10(normal, f.query, f.gt, 64);
    const double re = recall10(eb, f.query, f.gt, 64);
    std::printf("[hnsw] %s: normal build %.2fs recall@10(ef=64) %.4f; engine build %.2fs %.4f\n",
                name, tn, rn, te, re);
    EXPECT_GE(re, rn - 0.01);
}

// ---------------------------------------------------------------------------------------------

TEST(HnswEngineBuild, RecallSiftL2MatchesNormalBuild) {
    compare_recall("sift-ngt-5k", false);
}

TEST(HnswEngineBuild, RecallGloveCosineMatchesNormalBuild) {
    compare_recall("glove-twitter-25-12k", true);
}

TEST(HnswEngineBuild, SameGraphWithAnyEngineThreadsAndBlock) {
    const Vecs v = random_vecs(3000, 16, 21);
    engine::CpuEngine one(1), two(2);
    Builder a(params_for(v.dim, Metric::kL2), size_t(1) << 28);
    Builder c(params_for(v.dim, Metric::kL2), size_t(1) << 28);
    build_engine(a, v, one, 1, 256);  // several blocks: exercises the engine/prune overlap
    build_engine(c, v, two, 1, 0);
    expect_valid_and_connected(a, 16);
    ASSERT_EQ(a.entry_point(), c.entry_point());
    ASSERT_EQ(a.max_level(), c.max_level());
    for (NodeId id = 0; id < a.size(); ++id) {
        ASSERT_EQ(a.level(id), c.level(id));
        for (int l = 0; l <= a.level(id); ++l) {
            auto x = a.neighbors(id, l), y = c.neighbors(id, l);
            ASSERT_TRUE(std::equal(x.begin(), x.end(), y.begin(), y.end()))
                << "node " << id << " level " << l;
        }
    }
}

TEST(HnswEngineBuild, CancelStopsQuickly) {
    const Vecs v = random_vecs(60000, 32, 13);
    engine::CpuEngine cpu(2);
    // Cancel once during the upper levels, once during the engine's kNN blocks (progress past
    // the nodes with upper levels: those are counted first).
    for (bool in_knn : {false, true}) {
        Builder b(params_for(v.dim, Metric::kL2), size_t(1) << 30);
        add_all(b, v);
        size_t upper = 0;
        for (NodeId id = 0; id < b.size(); ++id) upper += b.level(id) > 0;
        ASSERT_TRUE(b.start_with_engine(cpu, 2));
        if (in_knn) {
            const auto deadline = Clock::now() + std::chrono::seconds(20);
            while (b.inserted() < upper + 100 && Clock::now() < deadline)
                b.wait_for(std::chrono::milliseconds(5));
        } else {
            b.wait_for(std::chrono::milliseconds(20));
        }
        EXPECT_FALSE(b.wait_for(std::chrono::milliseconds(0)));
        b.cancel();
        const size_t at_cancel = b.inserted();
        // A hang detector only; the work done after cancel() is what is checked: each of the
        // threads (the job thread among them) finishes at most the chunk of nodes it holds.
        EXPECT_TRUE(b.wait_for(std::chrono::seconds(120)));
        b.join();
        std::printf("[hnsw] engine build canceled %s: %zu at cancel, %zu after join, of %zu\n",
                    in_knn ? "in the kNN phase" : "in the upper levels", at_cancel, b.inserted(),
                    b.size());
        EXPECT_LE(b.inserted(), at_cancel + 3 * 32);
        EXPECT_LT(b.inserted(), b.size());
        if (in_knn) {
            EXPECT_GT(b.inserted(), upper);
        }
        EXPECT_TRUE(b.engine_error().empty());
    }
}

TEST(HnswEngineBuild, DestructorCancelsARunningBuild) {
    // The destructor cancels the engine job and joins: no hang (ctest's timeout), no crash.
    const Vecs v = random_vecs(30000, 32, 14);
    engine::CpuEngine cpu(2);
    {
        Builder b(params_for(v.dim, Metric::kL2), size_t(1) << 30);
        add_all(b, v);
        ASSERT_TRUE(b.start_with_engine(cpu, 2));
    }
    SUCCEED();
}

TEST(HnswEngineBuild, DuplicatesMergeLabelsAndStayReachable) {
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
    engine::CpuEngine cpu(2);
    ASSERT_TRUE(b.start_with_engine(cpu, 2));
    finish(b, Clock::now());
    EXPECT_EQ(b.inserted(), b.size());
    expect_valid_and_connected(b, 16);
    std::vector<int> label_seen(ndup + nrand, 0);
    for (NodeId id = 0; id < b.size(); ++id)
        for (uint64_t l : b.labels(id)) ++label_seen[l];
    for (int c : label_seen) ASSERT_EQ(c, 1);
    const std::vector<NodeId> order = b.locality_order();
    ASSERT_EQ(order.size(), b.size());
    EXPECT_EQ(order[0], b.entry_point());
    // A search for the repeated vector finds every label.
    EXPECT_EQ(labels_found_at_zero(b, dup.data()), ndup);
    // Searches for the other vectors are not trapped among the copies.
    Searcher<BuildGraph> s;
    std::vector<Candidate> out;
    size_t found = 0;
    for (size_t i = 0; i < 200; ++i) {
        s.start(b.graph(), rnd.row(i), b.entry_point(), b.max_level());
        s.next_batch(32, out);
        for (const Candidate& c : out)
            for (uint64_t l : b.labels(c.id)) found += l == 2 * i;
    }
    EXPECT_GE(found, 198u);
}

// An engine that always fails, as a lost GPU would.
class BrokenEngine final : public engine::DistanceEngine {
  public:
    std::string name() const override { return "broken"; }
    engine::Status distances(const float*, size_t, const float*, size_t, size_t, Metric, float*,
                             engine::Cancel*) noexcept override {
        return engine::Status::kDeviceError;
    }
    engine::Status topk(const float*, size_t, const float*, size_t, size_t, Metric, size_t,
                        int64_t*, double*, engine::Cancel*) noexcept override {
        return engine::Status::kDeviceError;
    }
    std::string last_error() const override { return "device lost"; }
};

TEST(HnswEngineBuild, EngineFailureFallsBackToNormalBuild) {
    const Vecs v = random_vecs(4000, 16, 17);
    BrokenEngine broken;
    Builder b(params_for(v.dim, Metric::kL2), size_t(1) << 28);
    build_engine(b, v, broken, 2);
    EXPECT_NE(b.engine_error().find("device lost"), std::string::npos) << b.engine_error();
    EXPECT_EQ(b.inserted(), b.size());
    expect_valid_and_connected(b, 16);
    // Same search quality as a normal build: exact nearest neighbour of each of 100 rows.
    Searcher<BuildGraph> s;
    std::vector<Candidate> out;
    size_t self = 0;
    for (size_t i = 0; i < 100; ++i) {
        s.start(b.graph(), v.row(i), b.entry_point(), b.max_level());
        s.next_batch(16, out);
        self += !out.empty() && out[0].id == i;
    }
    EXPECT_GE(self, 99u);
}

TEST(HnswEngineBuild, RefusesWhenTheBudgetHasNoRoomThenNormalStartWorks) {
    const Vecs v = random_vecs(5000, 8, 18);
    Builder b(params_for(v.dim, Metric::kL2), 1 << 20);
    size_t added = 0;
    while (added < v.n && b.add(v.row(added), added)) ++added;  // fill the budget
    ASSERT_LT(added, v.n);
    engine::CpuEngine cpu(1);
    EXPECT_FALSE(b.start_with_engine(cpu, 2));
    b.start(2);
    finish(b, Clock::now());
    EXPECT_EQ(b.inserted(), added);
    EXPECT_THROW(b.start_with_engine(cpu, 2), Error);
}

TEST(HnswEngineBuild, EmptyAndSingleItem) {
    engine::CpuEngine cpu(1);
    Builder e(params_for(4, Metric::kL2), 1 << 20);
    ASSERT_TRUE(e.start_with_engine(cpu, 2));
    EXPECT_TRUE(e.wait_for(std::chrono::milliseconds(0)));
    e.join();
    EXPECT_EQ(e.entry_point(), kInvalidNode);

    Builder one(params_for(4, Metric::kL2), 1 << 20);
    const float v[4] = {1, 2, 3, 4};
    ASSERT_TRUE(one.add(v, 7));
    ASSERT_TRUE(one.start_with_engine(cpu, 2));
    EXPECT_TRUE(one.wait_for(std::chrono::milliseconds(1000)));
    one.join();
    EXPECT_EQ(one.entry_point(), 0u);
    EXPECT_EQ(one.inserted(), 1u);

    Builder two(params_for(4, Metric::kL2), 1 << 20);
    const float w[4] = {1, 2, 3, 5};
    ASSERT_TRUE(two.add(v, 1));
    ASSERT_TRUE(two.add(w, 2));
    ASSERT_TRUE(two.start_with_engine(cpu, 1));
    finish(two, Clock::now());
    expect_valid_and_connected(two, 16);
    EXPECT_EQ(two.inserted(), 2u);
}

// Timing on synth-128 (100k x 128, L2, m=16, efc=64): the normal build vs the engine build with
// CpuEngine, both with PIRAMID_BUILD_THREADS (default 2) threads.
TEST(HnswEngineBuild, DISABLED_EngineSynth128Timing) {
    Fixture f;
    if (!load("synth-128", f, false))
        GTEST_SKIP() << "synth-128 not found under " << PIRAMID_SHARED_DATA;
    const char* env = std::getenv("PIRAMID_BUILD_THREADS");
    const int threads = env ? std::atoi(env) : 2;
    const char* which = std::getenv("PIRAMID_BUILD_WHICH");  // "normal", "engine" or both
    for (int engine_build : {0, 1}) {
        if (which && std::string(which) != (engine_build ? "engine" : "normal")) continue;
        Builder b(params_for(f.base.dim, Metric::kL2), size_t(4) << 30);
        engine::CpuEngine cpu(static_cast<unsigned>(threads));
        const double secs =
            engine_build ? build_engine(b, f.base, cpu, threads) : build_normal(b, f.base, threads);
        for (size_t ef : {40, 64}) {
            const double r = recall10(b, f.query, f.gt, ef);
            std::printf("[hnsw] synth-128 %s build, %d thread(s): %.2f s; ef=%zu recall@10 %.4f\n",
                        engine_build ? "engine (cpu)" : "normal", threads, secs, ef, r);
        }
    }
}

}  // namespace
}  // namespace piramid::hnsw
