// ivfflat k-means (core/ivf): centers against the true cluster means on separable data, spherical
// centers, fewer samples than centers, empty clusters, determinism, and assignment against brute
// force.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/ivf/kmeans.hpp"

namespace {

using piramid::engine::Status;
using piramid::ivf::KmeansParams;

// `per` points around each of `k` centers placed far apart (coordinates +-100 on distinct axes),
// with noise of sigma 1. Returns the points (cluster-major) and fills `means` with each cluster's
// exact mean.
std::vector<float> clusters(size_t k, size_t per, size_t dim, uint32_t seed,
                            std::vector<double>* means) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<float> v(k * per * dim);
    means->assign(k * dim, 0.0);
    for (size_t c = 0; c < k; ++c)
        for (size_t i = 0; i < per; ++i)
            for (size_t j = 0; j < dim; ++j) {
                float base = 0.0f;
                if (j == c % dim) base = (c / dim) % 2 == 0 ? 100.0f : -100.0f;
                const float x = base + nd(rng);
                v[(c * per + i) * dim + j] = x;
                (*means)[c * dim + j] += static_cast<double>(x) / per;
            }
    return v;
}

// Index of the center nearest to `mean` (L2).
size_t nearest(const std::vector<float>& centers, size_t k, size_t dim, const double* mean) {
    size_t best = 0;
    double bd = std::numeric_limits<double>::infinity();
    for (size_t c = 0; c < k; ++c) {
        double d = 0;
        for (size_t j = 0; j < dim; ++j) {
            const double t = centers[c * dim + j] - mean[j];
            d += t * t;
        }
        if (d < bd) {
            bd = d;
            best = c;
        }
    }
    return best;
}

TEST(IvfKmeans, SeparableClustersGiveTheirMeans) {
    const size_t k = 8, per = 200, dim = 8;
    std::vector<double> means;
    std::vector<float> pts = clusters(k, per, dim, 7, &means);
    // Shuffle so that the sample order says nothing about the clusters.
    std::vector<size_t> order(k * per);
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937(3));
    std::vector<float> shuffled(pts.size());
    for (size_t i = 0; i < order.size(); ++i)
        std::copy(pts.begin() + order[i] * dim, pts.begin() + (order[i] + 1) * dim,
                  shuffled.begin() + i * dim);
    KmeansParams p;
    p.k = k;
    p.dim = dim;
    p.threads = 2;
    std::vector<float> centers(k * dim);
    int iters = 0;
    ASSERT_EQ(piramid::ivf::kmeans(shuffled.data(), k * per, p, centers.data(), nullptr, &iters),
              Status::kOk);
    EXPECT_GE(iters, 1);
    std::vector<int> used(k, 0);
    for (size_t c = 0; c < k; ++c) {
        const size_t got = nearest(centers, k, dim, &means[c * dim]);
        used[got]++;
        for (size_t j = 0; j < dim; ++j)
            EXPECT_NEAR(centers[got * dim + j], means[c * dim + j], 1e-3)
                << "cluster " << c << " dim " << j;
    }
    for (size_t c = 0; c < k; ++c) EXPECT_EQ(used[c], 1) << "center " << c;
}

TEST(IvfKmeans, SphericalCentersAreUnitAndPointTheRightWay) {
    const size_t dim = 4, per = 50;
    // Two groups of unit vectors around +e0 and +e1.
    std::mt19937 rng(11);
    std::normal_distribution<float> nd(0.0f, 0.05f);
    std::vector<float> pts;
    for (size_t g = 0; g < 2; ++g)
        for (size_t i = 0; i < per; ++i) {
            float v[dim];
            for (size_t j = 0; j < dim; ++j) v[j] = (j == g ? 1.0f : 0.0f) + nd(rng);
            piramid::ivf::normalize(v, dim);
            pts.insert(pts.end(), v, v + dim);
        }
    KmeansParams p;
    p.k = 2;
    p.dim = dim;
    p.spherical = true;
    std::vector<float> centers(2 * dim);
    ASSERT_EQ(piramid::ivf::kmeans(pts.data(), 2 * per, p, centers.data(), nullptr), Status::kOk);
    int seen_e0 = 0, seen_e1 = 0;
    for (size_t c = 0; c < 2; ++c) {
        double n = 0;
        for (size_t j = 0; j < dim; ++j) n += double(centers[c * dim + j]) * centers[c * dim + j];
        EXPECT_NEAR(n, 1.0, 1e-5);
        if (centers[c * dim + 0] > 0.95) ++seen_e0;
        if (centers[c * dim + 1] > 0.95) ++seen_e1;
    }
    EXPECT_EQ(seen_e0, 1);
    EXPECT_EQ(seen_e1, 1);
}

TEST(IvfKmeans, FewerSamplesThanCenters) {
    const size_t dim = 3;
    const float pts[] = {1, 2, 3, 4, 5, 6};
    KmeansParams p;
    p.k = 5;
    p.dim = dim;
    std::vector<float> centers(5 * dim, std::nanf(""));
    ASSERT_EQ(piramid::ivf::kmeans(pts, 2, p, centers.data(), nullptr), Status::kOk);
    for (size_t j = 0; j < 6; ++j) EXPECT_EQ(centers[j], pts[j]);
    for (size_t j = 6; j < centers.size(); ++j) {
        EXPECT_TRUE(std::isfinite(centers[j]));
        EXPECT_LE(std::fabs(centers[j]), 1.0f);
    }
    // No samples at all: random centers, unit length when spherical.
    p.spherical = true;
    ASSERT_EQ(piramid::ivf::kmeans(nullptr, 0, p, centers.data(), nullptr), Status::kOk);
    for (size_t c = 0; c < 5; ++c) {
        double n = 0;
        for (size_t j = 0; j < dim; ++j) n += double(centers[c * dim + j]) * centers[c * dim + j];
        EXPECT_NEAR(n, 1.0, 1e-5);
    }
}

TEST(IvfKmeans, EmptyClustersAreReseeded) {
    // 3 distinct points, each repeated, and k = 3: k-means++ may pick two copies of one point;
    // repair must still end with one center on each point.
    const size_t dim = 2;
    std::vector<float> pts;
    const float base[3][2] = {{0, 0}, {10, 0}, {0, 10}};
    for (int r = 0; r < 20; ++r)
        for (int i = 0; i < 3; ++i) pts.insert(pts.end(), base[i], base[i] + 2);
    for (uint64_t seed = 1; seed <= 20; ++seed) {
        KmeansParams p;
        p.k = 3;
        p.dim = dim;
        p.seed = seed;
        std::vector<float> centers(3 * dim);
        ASSERT_EQ(piramid::ivf::kmeans(pts.data(), 60, p, centers.data(), nullptr), Status::kOk);
        for (int i = 0; i < 3; ++i) {
            int hits = 0;
            for (int c = 0; c < 3; ++c)
                if (centers[c * 2] == base[i][0] && centers[c * 2 + 1] == base[i][1]) ++hits;
            EXPECT_EQ(hits, 1) << "seed " << seed << " point " << i;
        }
    }
    // All samples identical and more centers than distinct values: no crash, finite centers.
    std::vector<float> same(40, 1.5f);
    KmeansParams p;
    p.k = 4;
    p.dim = dim;
    std::vector<float> centers(4 * dim);
    ASSERT_EQ(piramid::ivf::kmeans(same.data(), 20, p, centers.data(), nullptr), Status::kOk);
    for (float x : centers) EXPECT_TRUE(std::isfinite(x));
}

TEST(IvfKmeans, DeterministicForASeedWhateverTheThreads) {
    const size_t k = 16, dim = 12, n = 3000;
    std::mt19937 rng(5);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<float> pts(n * dim);
    for (float& x : pts) x = nd(rng);
    KmeansParams p;
    p.k = k;
    p.dim = dim;
    p.threads = 1;
    std::vector<float> a(k * dim), b(k * dim), c(k * dim);
    ASSERT_EQ(piramid::ivf::kmeans(pts.data(), n, p, a.data(), nullptr), Status::kOk);
    p.threads = 3;
    ASSERT_EQ(piramid::ivf::kmeans(pts.data(), n, p, b.data(), nullptr), Status::kOk);
    EXPECT_EQ(a, b);
    p.seed = 99;
    ASSERT_EQ(piramid::ivf::kmeans(pts.data(), n, p, c.data(), nullptr), Status::kOk);
    EXPECT_NE(a, c);
}

TEST(IvfKmeans, AssignMatchesBruteForce) {
    const size_t k = 37, dim = 9, n = 1000;
    std::mt19937 rng(8);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<float> centers(k * dim), vecs(n * dim);
    for (float& x : centers) x = nd(rng);
    for (float& x : vecs) x = nd(rng);
    for (bool spherical : {false, true}) {
        std::vector<int32_t> got(n);
        ASSERT_EQ(piramid::ivf::assign(centers.data(), k, vecs.data(), n, dim, spherical, 2,
                                       got.data(), nullptr),
                  Status::kOk);
        for (size_t i = 0; i < n; ++i) {
            double best = std::numeric_limits<double>::infinity();
            int32_t arg = -1;
            for (size_t c = 0; c < k; ++c) {
                double d = 0;
                for (size_t j = 0; j < dim; ++j) {
                    const double a = vecs[i * dim + j], b = centers[c * dim + j];
                    d += spherical ? -a * b : (a - b) * (a - b);
                }
                if (d < best) {
                    best = d;
                    arg = static_cast<int32_t>(c);
                }
            }
            EXPECT_EQ(got[i], arg) << "vector " << i << " spherical " << spherical;
        }
    }
}

}  // namespace
