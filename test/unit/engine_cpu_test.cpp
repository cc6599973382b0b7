// CpuEngine against brute force: matrices, top-k, ties, NaN, merging, knn graph, cancellation,
// the PIRAMID_HD math against the scalar kernels, and a shared/data ground-truth check.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "core/distance/distance.hpp"
#include "core/engine/cpu_engine.hpp"
#include "core/engine/hd_math.hpp"
#include "knn_graph.hpp"

namespace {

using piramid::engine::Cancel;
using piramid::engine::CpuEngine;
using piramid::engine::Metric;
using piramid::engine::Status;

constexpr Metric kMetrics[] = {Metric::kL2, Metric::kInnerProduct, Metric::kCosine, Metric::kL1};

std::vector<float> random_vectors(size_t n, size_t dim, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<float> v(n * dim);
    for (auto& x : v) x = nd(rng);
    return v;
}

// Brute force with the same per-pair distance and the documented order.
void brute_topk(const std::vector<float>& q, size_t nq, const std::vector<float>& b, size_t nb,
                size_t dim, Metric m, size_t k, std::vector<int64_t>& ids,
                std::vector<double>& dists) {
    ids.assign(nq * k, -1);
    dists.assign(nq * k, std::numeric_limits<double>::infinity());
    for (size_t i = 0; i < nq; ++i) {
        std::vector<std::pair<double, int64_t>> all(nb);
        for (size_t j = 0; j < nb; ++j) {
            all[j] = {piramid::engine::cpu_distance(m, &q[i * dim], &b[j * dim], dim),
                      static_cast<int64_t>(j)};
        }
        std::sort(all.begin(), all.end(), [](const auto& x, const auto& y) {
            return piramid::engine::closer(x.first, x.second, y.first, y.second);
        });
        for (size_t j = 0; j < std::min(k, nb); ++j) {
            ids[i * k + j] = all[j].second;
            dists[i * k + j] = all[j].first;
        }
    }
}

TEST(EngineHd, MatchesScalarKernels) {
    const size_t dim = 37;
    auto v = random_vectors(20, dim, 7);
    const auto& sc = piramid::distance::scalar();
    for (size_t i = 0; i + 1 < 20; ++i) {
        const float* a = &v[i * dim];
        const float* b = &v[(i + 1) * dim];
        namespace hd = piramid::engine::hd;
        EXPECT_FLOAT_EQ(hd::reference(hd::kL2, a, b, dim), sc.l2sq(a, b, dim));
        EXPECT_FLOAT_EQ(hd::reference(hd::kInnerProduct, a, b, dim), -sc.dot(a, b, dim));
        EXPECT_FLOAT_EQ(hd::reference(hd::kL1, a, b, dim), sc.l1(a, b, dim));
        float ab, aa, bb;
        sc.dot_norms(a, b, dim, &ab, &aa, &bb);
        const double cosd = 1.0 - ab / std::sqrt(double(aa) * double(bb));
        EXPECT_NEAR(hd::reference(hd::kCosine, a, b, dim), cosd, 1e-6);
    }
}

TEST(EngineHd, CosineOfZeroVectorIsPositiveNan) {
    namespace hd = piramid::engine::hd;
    const float z[3] = {0, 0, 0}, a[3] = {1, 2, 3};
    const float d = hd::reference(hd::kCosine, z, a, 3);
    EXPECT_TRUE(std::isnan(d));
    EXPECT_FALSE(std::signbit(d));
    EXPECT_FALSE(std::signbit(hd::canonical(-std::numeric_limits<float>::quiet_NaN())));
    // clamped into [0, 2]
    EXPECT_GE(hd::reference(hd::kCosine, a, a, 3), 0.0f);
}

TEST(CpuEngine, MatrixMatchesPairwise) {
    const size_t dim = 19, nq = 13, nb = 301;
    auto q = random_vectors(nq, dim, 1), b = random_vectors(nb, dim, 2);
    CpuEngine eng(2);
    std::vector<float> out(nq * nb);
    for (Metric m : kMetrics) {
        ASSERT_EQ(eng.distances(q.data(), nq, b.data(), nb, dim, m, out.data(), nullptr),
                  Status::kOk);
        for (size_t i = 0; i < nq; ++i)
            for (size_t j = 0; j < nb; ++j)
                ASSERT_EQ(out[i * nb + j], static_cast<float>(piramid::engine::cpu_distance(
                                               m, &q[i * dim], &b[j * dim], dim)));
    }
}

TEST(CpuEngine, TopkMatchesBruteForce) {
    const size_t dim = 24;
    for (size_t nq : {1, 3, 40}) {
        for (size_t nb : {1, 5, 1000, 5003}) {
            auto q = random_vectors(nq, dim, 10 + nq), b = random_vectors(nb, dim, 20 + nb);
            for (size_t k : {1, 10, 100}) {
                for (unsigned threads : {1u, 2u, 3u}) {
                    for (Metric m : kMetrics) {
                        CpuEngine eng(threads);
                        std::vector<int64_t> ids(nq * k), eids;
                        std::vector<double> d(nq * k), ed;
                        ASSERT_EQ(eng.topk(q.data(), nq, b.data(), nb, dim, m, k, ids.data(),
                                           d.data(), nullptr),
                                  Status::kOk);
                        brute_topk(q, nq, b, nb, dim, m, k, eids, ed);
                        ASSERT_EQ(ids, eids) << "nq=" << nq << " nb=" << nb << " k=" << k;
                        for (size_t i = 0; i < d.size(); ++i) {
                            if (std::isinf(ed[i])) {
                                ASSERT_TRUE(std::isinf(d[i]));
                            } else {
                                ASSERT_EQ(d[i], ed[i]);
                            }
                        }
                    }
                }
            }
        }
    }
}

TEST(CpuEngine, TiesAreBrokenByIndexWhateverTheThreads) {
    // 2000 copies of 4 distinct vectors: every distance is tied 500 times.
    const size_t dim = 4, nb = 2000, k = 50;
    std::vector<float> b(nb * dim);
    for (size_t i = 0; i < nb; ++i)
        for (size_t j = 0; j < dim; ++j) b[i * dim + j] = static_cast<float>((i % 4) + j);
    std::vector<float> q = {1, 2, 3, 4};
    for (unsigned threads : {1u, 2u, 4u}) {
        CpuEngine eng(threads);
        std::vector<int64_t> ids(k);
        std::vector<double> d(k);
        ASSERT_EQ(
            eng.topk(q.data(), 1, b.data(), nb, dim, Metric::kL2, k, ids.data(), d.data(), nullptr),
            Status::kOk);
        for (size_t j = 0; j < k; ++j) {
            EXPECT_EQ(ids[j], static_cast<int64_t>(1 + 4 * j));  // rows equal to q, in order
            EXPECT_EQ(d[j], 0.0);
        }
    }
}

TEST(CpuEngine, NanDistancesSortLast) {
    // cosine against a zero vector is NaN: it must come after every number.
    const size_t dim = 2;
    std::vector<float> b = {0, 0, 1, 0, 0, 1, -1, 0};
    std::vector<float> q = {1, 0};
    CpuEngine eng(1);
    std::vector<int64_t> ids(4);
    std::vector<double> d(4);
    ASSERT_EQ(
        eng.topk(q.data(), 1, b.data(), 4, dim, Metric::kCosine, 4, ids.data(), d.data(), nullptr),
        Status::kOk);
    EXPECT_EQ(ids, (std::vector<int64_t>{1, 2, 3, 0}));
    EXPECT_TRUE(std::isnan(d[3]));
}

TEST(CpuEngine, RejectsBadArguments) {
    CpuEngine eng(1);
    float v[4] = {1, 2, 3, 4};
    int64_t ids[2];
    double d[2];
    EXPECT_EQ(eng.topk(v, 1, v, 1, 4, Metric::kL2, 0, ids, d, nullptr), Status::kInvalidArgument);
    EXPECT_EQ(eng.topk(v, 1, v, 1, 4, Metric::kL2, 1025, ids, d, nullptr),
              Status::kInvalidArgument);
    EXPECT_EQ(eng.topk(v, 1, v, 1, 0, Metric::kL2, 1, ids, d, nullptr), Status::kInvalidArgument);
    EXPECT_EQ(eng.topk(v, 1, v, 1, 4, static_cast<Metric>(9), 1, ids, d, nullptr),
              Status::kInvalidArgument);
}

TEST(CpuEngine, CancellationStopsWork) {
    const size_t dim = 128, nq = 64, nb = 100000;
    auto q = random_vectors(nq, dim, 3), b = random_vectors(nb, dim, 4);
    CpuEngine eng(2);
    std::vector<int64_t> ids(nq * 10);
    std::vector<double> d(nq * 10);
    Cancel pre;
    pre.flag = true;
    EXPECT_EQ(
        eng.topk(q.data(), nq, b.data(), nb, dim, Metric::kL2, 10, ids.data(), d.data(), &pre),
        Status::kCanceled);
    // Cancelled by the poll callback of the calling thread, after a few polls.
    int polls = 0;
    Cancel c;
    c.poll = [](void* arg) { return ++*static_cast<int*>(arg) >= 2; };
    c.poll_arg = &polls;
    EXPECT_EQ(eng.topk(q.data(), nq, b.data(), nb, dim, Metric::kL2, 10, ids.data(), d.data(), &c),
              Status::kCanceled);
    EXPECT_GE(polls, 2);
}

TEST(Engine, MergeTopkKeepsTheBest) {
    const size_t k = 3;
    std::vector<int64_t> ai = {0, 1, -1};
    std::vector<double> ad = {1.0, 3.0, INFINITY};
    std::vector<int64_t> bi = {0, 1, 2};
    std::vector<double> bd = {2.0, 3.0, 4.0};
    piramid::engine::merge_topk(1, k, ai.data(), ad.data(), bi.data(), bd.data(), 10);
    EXPECT_EQ(ai, (std::vector<int64_t>{0, 10, 1}));  // the tie at 3.0 goes to the smaller id
    EXPECT_EQ(ad, (std::vector<double>{1.0, 2.0, 3.0}));
}

TEST(KnnGraph, MatchesBruteForceWithoutSelf) {
    const size_t dim = 16, n = 700, k = 12;
    auto v = random_vectors(n, dim, 99);
    CpuEngine eng(2);
    for (Metric m : kMetrics) {
        std::vector<int64_t> ids(n * k);
        std::vector<double> d(n * k);
        ASSERT_EQ(piramid::engine::knn_graph(eng, v.data(), n, dim, m, k, ids.data(), d.data(),
                                             nullptr, 97),
                  Status::kOk);
        std::vector<int64_t> eids;
        std::vector<double> ed;
        brute_topk(v, n, v, n, dim, m, k + 1, eids, ed);
        for (size_t i = 0; i < n; ++i) {
            std::vector<int64_t> expect;
            for (size_t j = 0; j < k + 1 && expect.size() < k; ++j)
                if (eids[i * (k + 1) + j] != static_cast<int64_t>(i))
                    expect.push_back(eids[i * (k + 1) + j]);
            std::vector<int64_t> got(ids.begin() + i * k, ids.begin() + (i + 1) * k);
            ASSERT_EQ(got, expect) << "node " << i;
            for (size_t j = 1; j < k; ++j) ASSERT_LE(d[i * k + j - 1], d[i * k + j]);
        }
    }
}

TEST(KnnGraph, FewerNodesThanK) {
    std::vector<float> v = {0, 0, 1, 1, 3, 3};
    CpuEngine eng(1);
    std::vector<int64_t> ids(3 * 4);
    std::vector<double> d(3 * 4);
    ASSERT_EQ(piramid::engine::knn_graph(eng, v.data(), 3, 2, Metric::kL2, 4, ids.data(), d.data(),
                                         nullptr),
              Status::kOk);
    EXPECT_EQ(std::vector<int64_t>(ids.begin(), ids.begin() + 4),
              (std::vector<int64_t>{1, 2, -1, -1}));
}

// Reads a TEXMEX .fvecs/.ivecs file (4-byte elements) into rows of `dim`.
template <typename T>
bool read_vecs(const std::string& path, std::vector<T>& out, size_t& dim, size_t& n,
               size_t max_rows) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return false;
    n = 0;
    int32_t d = 0;
    while (n < max_rows && std::fread(&d, 4, 1, f) == 1) {
        dim = static_cast<size_t>(d);
        out.resize((n + 1) * dim);
        if (std::fread(&out[n * dim], 4, dim, f) != dim) break;
        ++n;
    }
    std::fclose(f);
    return n > 0;
}

TEST(CpuEngine, SharedDataGroundTruth) {
    const std::string dir = std::string(PIRAMID_SHARED_DATA) + "/sift-ngt-5k/";
    std::vector<float> base, query;
    std::vector<int32_t> gt;
    size_t dim = 0, nb = 0, nq = 0, gk = 0, ng = 0;
    if (!read_vecs(dir + "base.fvecs", base, dim, nb, 1000000) ||
        !read_vecs(dir + "query.fvecs", query, dim, nq, 100) ||
        !read_vecs(dir + "gt.ivecs", gt, gk, ng, 100)) {
        GTEST_SKIP() << "shared data not found under " << dir;
    }
    const size_t k = 10;
    CpuEngine eng(2);
    std::vector<int64_t> ids(nq * k);
    std::vector<double> d(nq * k);
    ASSERT_EQ(eng.topk(query.data(), nq, base.data(), nb, dim, Metric::kL2, k, ids.data(), d.data(),
                       nullptr),
              Status::kOk);
    // Exact search: every result distance equals the ground truth's at that rank (ids may
    // differ only among ties; the ground truth was computed in float64).
    size_t same = 0;
    for (size_t i = 0; i < nq; ++i)
        for (size_t j = 0; j < k; ++j) {
            const int32_t g = gt[i * gk + j];
            const double gd = piramid::engine::cpu_distance(Metric::kL2, &query[i * dim],
                                                            &base[size_t(g) * dim], dim);
            EXPECT_NEAR(d[i * k + j], gd, 1e-3 * std::max(1.0, gd));
            same += ids[i * k + j] == g;
        }
    EXPECT_GE(same, nq * k * 99 / 100);
}

}  // namespace
