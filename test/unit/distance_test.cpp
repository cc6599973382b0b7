// The SIMD distance kernels against the scalar reference, on every ISA this CPU has.
//
// Two kinds of data:
//  - "grid" data (multiples of 1/4 in [-2, 2]): every product and every partial sum is exact in
//    float up to dim 16000, so any summation order gives the same bits and the SIMD kernels must
//    match the scalar reference exactly. This catches a skipped, repeated or misread element.
//  - random floats: checked against the scalar reference within a bound on float rounding that
//    holds for any summation order (see tolerance()).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "core/distance/distance.hpp"

namespace piramid::distance {
// Lets GoogleTest print an ISA parameter by name.
void PrintTo(Isa isa, std::ostream* os) {
    *os << isa_name(isa);
}
}  // namespace piramid::distance

namespace {

using piramid::distance::best;
using piramid::distance::Isa;
using piramid::distance::isa_name;
using piramid::distance::Kernels;
using piramid::distance::kernels_for;
using piramid::distance::scalar;

constexpr size_t kDims[] = {1, 3, 15, 17, 767, 1536, 16000};

// SplitMix64: a fixed, library-independent sequence (std:: distributions differ between
// standard libraries, which would make the data depend on the toolchain).
struct Rng {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    // Uniform in [-1, 1) with 24 random bits.
    float uniform() { return static_cast<float>(next() >> 40) * 0x1p-23f - 1.0f; }
    // One of -2, -1.75, ..., 2.
    float grid() { return static_cast<float>(static_cast<int>(next() % 17) - 8) * 0.25f; }
};

// A buffer with `offset` floats of slack in front so the data starts unaligned on purpose.
struct Buf {
    std::vector<float> storage;
    float* p;
    Buf(size_t n, size_t offset) : storage(n + offset + 1), p(storage.data() + offset) {}
};

void fill_uniform(Rng& r, float* p, size_t n) {
    for (size_t i = 0; i < n; ++i) p[i] = r.uniform();
}
void fill_grid(Rng& r, float* p, size_t n) {
    for (size_t i = 0; i < n; ++i) p[i] = r.grid();
}

// Sum of |terms| of each kernel, in double: the scale of the rounding error.
struct Magnitudes {
    double l2sq = 0, dot = 0, l1 = 0, aa = 0, bb = 0;
};
Magnitudes magnitudes(const float* a, const float* b, size_t n) {
    Magnitudes m;
    for (size_t i = 0; i < n; ++i) {
        const double x = a[i], y = b[i];
        m.l2sq += (x - y) * (x - y);
        m.dot += std::fabs(x * y);
        m.l1 += std::fabs(x - y);
        m.aa += x * x;
        m.bb += y * y;
    }
    return m;
}

// Float summation of n terms, in any order, errs by at most about (depth + 2) * u * sum|terms|
// (u = 2^-24), where depth is the longest chain of additions one term goes through. The scalar
// reference has depth n; the SIMD kernels split the sum over 8 to 64 accumulators, so depth is at
// most n / 8 + 16 (the +16 covers the register reduction and the tail). The two errors add.
double tolerance(size_t n, double magnitude) {
    const double u = 0x1p-24;
    const double depth = static_cast<double>(n + 2) + static_cast<double>(n / 8 + 16);
    return depth * u * magnitude + std::numeric_limits<float>::denorm_min();
}

// ------------------------------------------------------------------------------------------
// Parameterised over the ISAs; each skips on a CPU (or build) without it. The scalar instance
// compares the reference with itself, which still runs its batch and n == 0 cases.

class KernelsVsScalar : public ::testing::TestWithParam<Isa> {
  protected:
    const Kernels* k_ = nullptr;
    void SetUp() override {
        k_ = kernels_for(GetParam());
        if (k_ == nullptr) {
            GTEST_SKIP() << isa_name(GetParam()) << " is not available on this CPU/build";
        }
        std::cout << "[ isa      ] testing " << isa_name(GetParam()) << "\n";
    }
};

TEST_P(KernelsVsScalar, ReportsItsIsa) {
    EXPECT_EQ(k_->isa, GetParam());
}

TEST_P(KernelsVsScalar, ExactOnGridData) {
    const Kernels& ref = scalar();
    Rng rng{42};
    for (size_t n : kDims) {
        for (size_t off_a : {0, 1}) {
            for (size_t off_b : {0, 3}) {
                Buf a(n, off_a), b(n, off_b);
                fill_grid(rng, a.p, n);
                fill_grid(rng, b.p, n);
                SCOPED_TRACE("n=" + std::to_string(n) + " offsets " + std::to_string(off_a) + "," +
                             std::to_string(off_b));
                EXPECT_EQ(k_->l2sq(a.p, b.p, n), ref.l2sq(a.p, b.p, n));
                EXPECT_EQ(k_->dot(a.p, b.p, n), ref.dot(a.p, b.p, n));
                EXPECT_EQ(k_->l1(a.p, b.p, n), ref.l1(a.p, b.p, n));
                float ab, aa, bb, rab, raa, rbb;
                k_->dot_norms(a.p, b.p, n, &ab, &aa, &bb);
                ref.dot_norms(a.p, b.p, n, &rab, &raa, &rbb);
                EXPECT_EQ(ab, rab);
                EXPECT_EQ(aa, raa);
                EXPECT_EQ(bb, rbb);
            }
        }
    }
}

TEST_P(KernelsVsScalar, CloseOnRandomData) {
    const Kernels& ref = scalar();
    Rng rng{7};
    for (size_t n : kDims) {
        // Offsets 1 and 2 floats: neither vector is 16-, 32- or 64-byte aligned.
        Buf a(n, 1), b(n, 2);
        fill_uniform(rng, a.p, n);
        fill_uniform(rng, b.p, n);
        const Magnitudes m = magnitudes(a.p, b.p, n);
        SCOPED_TRACE("n=" + std::to_string(n));
        EXPECT_NEAR(k_->l2sq(a.p, b.p, n), ref.l2sq(a.p, b.p, n), tolerance(n, m.l2sq));
        EXPECT_NEAR(k_->dot(a.p, b.p, n), ref.dot(a.p, b.p, n), tolerance(n, m.dot));
        EXPECT_NEAR(k_->l1(a.p, b.p, n), ref.l1(a.p, b.p, n), tolerance(n, m.l1));
        float ab, aa, bb, rab, raa, rbb;
        k_->dot_norms(a.p, b.p, n, &ab, &aa, &bb);
        ref.dot_norms(a.p, b.p, n, &rab, &raa, &rbb);
        EXPECT_NEAR(ab, rab, tolerance(n, m.dot));
        EXPECT_NEAR(aa, raa, tolerance(n, m.aa));
        EXPECT_NEAR(bb, rbb, tolerance(n, m.bb));
    }
}

TEST_P(KernelsVsScalar, EveryLengthUpTo200) {
    // Every remainder of every loop (64-, 32-, 16-, 8- and 4-wide) and every tail mask.
    const Kernels& ref = scalar();
    Rng rng{11};
    Buf a(200, 1), b(200, 1);
    fill_grid(rng, a.p, 200);
    fill_grid(rng, b.p, 200);
    for (size_t n = 0; n <= 200; ++n) {
        SCOPED_TRACE("n=" + std::to_string(n));
        ASSERT_EQ(k_->l2sq(a.p, b.p, n), ref.l2sq(a.p, b.p, n));
        ASSERT_EQ(k_->dot(a.p, b.p, n), ref.dot(a.p, b.p, n));
        ASSERT_EQ(k_->l1(a.p, b.p, n), ref.l1(a.p, b.p, n));
        float ab, aa, bb, rab, raa, rbb;
        k_->dot_norms(a.p, b.p, n, &ab, &aa, &bb);
        ref.dot_norms(a.p, b.p, n, &rab, &raa, &rbb);
        ASSERT_EQ(ab, rab);
        ASSERT_EQ(aa, raa);
        ASSERT_EQ(bb, rbb);
    }
}

TEST_P(KernelsVsScalar, TailNeverReadsPastTheEnd) {
    // The last element sits right before a value that would change every sum if it were read:
    // a masked tail must not pick it up.
    for (size_t n : {1, 5, 9, 17, 33, 63}) {
        std::vector<float> a(n + 1, 1.0f), b(n + 1, 0.0f);
        a[n] = 1e30f;
        b[n] = -1e30f;
        EXPECT_EQ(k_->l2sq(a.data(), b.data(), n), static_cast<float>(n));
        EXPECT_EQ(k_->dot(a.data(), a.data(), n), static_cast<float>(n));
        EXPECT_EQ(k_->l1(a.data(), b.data(), n), static_cast<float>(n));
    }
}

TEST_P(KernelsVsScalar, ZeroLength) {
    // n == 0 must not touch memory: pass pointers that would fault if dereferenced.
    const float* bad = nullptr;
    EXPECT_EQ(k_->l2sq(bad, bad, 0), 0.0f);
    EXPECT_EQ(k_->dot(bad, bad, 0), 0.0f);
    EXPECT_EQ(k_->l1(bad, bad, 0), 0.0f);
    float ab = 1, aa = 1, bb = 1;
    k_->dot_norms(bad, bad, 0, &ab, &aa, &bb);
    EXPECT_EQ(ab, 0.0f);
    EXPECT_EQ(aa, 0.0f);
    EXPECT_EQ(bb, 0.0f);
    float out = 123.0f;
    k_->l2sq_batch(bad, nullptr, 0, 16, &out);
    k_->dot_batch(bad, nullptr, 0, 16, &out);
    k_->l1_batch(bad, nullptr, 0, 16, &out);
    EXPECT_EQ(out, 123.0f);
}

TEST_P(KernelsVsScalar, BatchMatchesSingleCalls) {
    Rng rng{99};
    // 40 > kPrefetchAhead, so both the up-front and the in-loop prefetch run.
    for (size_t count : {9, 40}) {
        for (size_t dim : {1, 17, 128, 767}) {
            // One pool, vectors placed at odd offsets, listed out of order.
            std::vector<float> pool(count * (dim + 3) + 8);
            fill_uniform(rng, pool.data(), pool.size());
            Buf q(dim, 1);
            fill_uniform(rng, q.p, dim);
            std::vector<const float*> vecs(count);
            for (size_t i = 0; i < count; ++i)
                vecs[i] = pool.data() + 1 + ((i * 7) % count) * (dim + 3);
            std::vector<float> out(count + 1, -1.0f);
            SCOPED_TRACE("dim=" + std::to_string(dim) + " count=" + std::to_string(count));

            k_->l2sq_batch(q.p, vecs.data(), count, dim, out.data());
            for (size_t i = 0; i < count; ++i) EXPECT_EQ(out[i], k_->l2sq(q.p, vecs[i], dim));
            k_->dot_batch(q.p, vecs.data(), count, dim, out.data());
            for (size_t i = 0; i < count; ++i) EXPECT_EQ(out[i], k_->dot(q.p, vecs[i], dim));
            k_->l1_batch(q.p, vecs.data(), count, dim, out.data());
            for (size_t i = 0; i < count; ++i) EXPECT_EQ(out[i], k_->l1(q.p, vecs[i], dim));
            EXPECT_EQ(out[count], -1.0f) << "batch wrote past count";

            // A batch of one (no next vector to prefetch).
            float one = 0;
            k_->l2sq_batch(q.p, vecs.data(), 1, dim, &one);
            EXPECT_EQ(one, k_->l2sq(q.p, vecs[0], dim));
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Isas, KernelsVsScalar,
                         ::testing::Values(Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon),
                         [](const ::testing::TestParamInfo<Isa>& info) {
                             return std::string(isa_name(info.param));
                         });

// ------------------------------------------------------------------------------------------
// Dispatch.

TEST(DistanceDispatch, ListsTheIsas) {
    std::string have;
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon}) {
        if (kernels_for(isa) != nullptr)
            have += std::string(have.empty() ? "" : ", ") + isa_name(isa);
    }
    std::cout << "[ isa      ] available: " << have << "; best(): " << isa_name(best().isa) << "\n";
    EXPECT_EQ(kernels_for(Isa::kScalar), &scalar());
    EXPECT_EQ(scalar().isa, Isa::kScalar);
    EXPECT_EQ(kernels_for(best().isa), &best());
    EXPECT_EQ(&best(), &best());  // resolved once
    EXPECT_STREQ(isa_name(Isa::kAvx512), "avx512");
}

TEST(DistanceDispatch, BestIsTheWidestUnlessOverridden) {
    if (std::getenv("PIRAMID_SIMD") != nullptr) GTEST_SKIP() << "PIRAMID_SIMD is set";
    Isa widest = Isa::kScalar;
    for (Isa isa : {Isa::kNeon, Isa::kAvx2, Isa::kAvx512}) {
        if (kernels_for(isa) != nullptr) widest = isa;
    }
    EXPECT_EQ(best().isa, widest);
}

// best() is resolved once per process, so the override is checked in a fresh process: the
// "threadsafe" death-test style re-executes this binary for the statement.
void expect_override(const char* value, Isa expected) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    ASSERT_EQ(setenv("PIRAMID_SIMD", value, 1), 0);
    EXPECT_EXIT(std::exit(best().isa == expected ? 0 : 1), ::testing::ExitedWithCode(0), "")
        << "PIRAMID_SIMD=" << value;
    unsetenv("PIRAMID_SIMD");
}

TEST(DistanceDispatchDeathTest, EnvironmentOverride) {
    // Resolve the automatic choice first, in this process, with no override in effect.
    const char* saved = std::getenv("PIRAMID_SIMD");
    const std::string keep = saved ? saved : "";
    unsetenv("PIRAMID_SIMD");
    Isa automatic = Isa::kScalar;
    for (Isa isa : {Isa::kNeon, Isa::kAvx2, Isa::kAvx512}) {
        if (kernels_for(isa) != nullptr) automatic = isa;
    }
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon}) {
        // An ISA this CPU lacks is ignored: best() falls back to the automatic choice.
        expect_override(isa_name(isa), kernels_for(isa) ? isa : automatic);
    }
    expect_override("no-such-isa", automatic);
    if (saved) setenv("PIRAMID_SIMD", keep.c_str(), 1);
}

TEST(DistanceDispatch, FreeFunctionsUseBest) {
    Rng rng{5};
    const size_t dim = 100;
    Buf a(dim, 0), b(dim, 0);
    fill_uniform(rng, a.p, dim);
    fill_uniform(rng, b.p, dim);
    EXPECT_EQ(piramid::distance::l2sq(a.p, b.p, dim), best().l2sq(a.p, b.p, dim));
    EXPECT_EQ(piramid::distance::dot(a.p, b.p, dim), best().dot(a.p, b.p, dim));
    EXPECT_EQ(piramid::distance::l1(a.p, b.p, dim), best().l1(a.p, b.p, dim));
    const float* vecs[2] = {a.p, b.p};
    float out[2];
    piramid::distance::l2sq_batch(a.p, vecs, 2, dim, out);
    EXPECT_EQ(out[0], 0.0f);
    EXPECT_EQ(out[1], best().l2sq(a.p, b.p, dim));
    piramid::distance::dot_batch(a.p, vecs, 2, dim, out);
    EXPECT_EQ(out[1], best().dot(a.p, b.p, dim));
    piramid::distance::l1_batch(a.p, vecs, 2, dim, out);
    EXPECT_EQ(out[1], best().l1(a.p, b.p, dim));
}

// ------------------------------------------------------------------------------------------
// cosine_distance.

using piramid::distance::cosine_distance;

TEST(CosineDistance, ZeroVectorIsNaN) {
    const float zero[4] = {0, 0, 0, 0};
    const float x[4] = {1, 2, 3, 4};
    EXPECT_TRUE(std::isnan(cosine_distance(zero, x, 4)));
    EXPECT_TRUE(std::isnan(cosine_distance(x, zero, 4)));
    EXPECT_TRUE(std::isnan(cosine_distance(zero, zero, 4)));
    EXPECT_TRUE(std::isnan(cosine_distance(x, x, 0)));
}

TEST(CosineDistance, IdenticalIsZeroOppositeIsTwo) {
    Rng rng{3};
    for (size_t n : kDims) {
        Buf a(n, 1), b(n, 0), c(n, 0);
        fill_uniform(rng, a.p, n);
        for (size_t i = 0; i < n; ++i) {
            b.p[i] = a.p[i];
            c.p[i] = -a.p[i];
        }
        SCOPED_TRACE("n=" + std::to_string(n));
        // a.a, |a|^2 and |b|^2 are the same float sums, so the similarity is exactly 1.
        EXPECT_EQ(cosine_distance(a.p, a.p, n), 0.0);
        EXPECT_EQ(cosine_distance(a.p, b.p, n), 0.0);
        EXPECT_EQ(cosine_distance(a.p, c.p, n), 2.0);
    }
}

TEST(CosineDistance, OrthogonalIsOne) {
    const float x[3] = {1, 0, 0};
    const float y[3] = {0, 5, 0};
    EXPECT_EQ(cosine_distance(x, y, 3), 1.0);
}

TEST(CosineDistance, ClampedToZeroTwo) {
    // Nearly parallel (and anti-parallel) vectors: rounding pushes the raw similarity past
    // +/-1 for some of them; the result must stay within [0, 2].
    Rng rng{17};
    int off_by_rounding = 0;
    for (int t = 0; t < 2000; ++t) {
        const size_t n = 1 + static_cast<size_t>(rng.next() % 300);
        std::vector<float> a(n), b(n), c(n);
        fill_uniform(rng, a.data(), n);
        const float s = 0.1f + static_cast<float>(rng.next() % 1000) * 0.0137f;
        for (size_t i = 0; i < n; ++i) {
            b[i] = a[i] * s;
            c[i] = -a[i] * s;
        }
        const double d1 = cosine_distance(a.data(), b.data(), n);
        const double d2 = cosine_distance(a.data(), c.data(), n);
        ASSERT_GE(d1, 0.0);
        ASSERT_LE(d1, 1e-5);
        ASSERT_LE(d2, 2.0);
        ASSERT_GE(d2, 2.0 - 1e-5);
        off_by_rounding += (d1 == 0.0) + (d2 == 2.0);
    }
    // Most of these hit the clamp (or land exactly); if none did, the test would prove nothing.
    EXPECT_GT(off_by_rounding, 0);
}

}  // namespace
