// Half precision: the conversions against references computed independently in double, and every
// ISA's half kernels against the scalar table (bit for bit where the result is exact, within a
// stated rounding bound where it is not), including that no kernel touches memory past n.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/distance/half.hpp"

namespace {

using piramid::distance::float_to_half;
using piramid::distance::half;
using piramid::distance::half_best;
using piramid::distance::half_kernels_for;
using piramid::distance::half_scalar;
using piramid::distance::half_to_float;
using piramid::distance::HalfKernels;
using piramid::distance::Isa;
using piramid::distance::isa_name;

constexpr size_t kLengths[] = {0,  1,  2,  3,  7,  8,   15,   16,   17,
                               31, 33, 63, 64, 65, 127, 1000, 3072, 16000};

uint32_t float_bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}
float bits_float(uint32_t u) {
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

// SplitMix64 (a fixed sequence on every toolchain).
struct Rng {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
};

// The value of a finite half from its fields, by ldexp (independent of half_to_float). For
// 0x7c00 (infinity) it gives 65536, the value the next binade would start at, which is what the
// rounding reference below wants.
double half_value(uint16_t h) {
    const int exp = (h >> 10) & 0x1f;
    const int mant = h & 0x3ff;
    const double mag = exp == 0 ? std::ldexp(mant, -24) : std::ldexp(1024 + mant, exp - 25);
    return (h & 0x8000) != 0 ? -mag : mag;
}

// Non-negative half values 0x0000 .. 0x7c00, increasing with the encoding.
const std::vector<double>& half_values() {
    static const std::vector<double> v = [] {
        std::vector<double> t(0x7c01);
        for (uint32_t h = 0; h <= 0x7c00; ++h) t[h] = half_value(static_cast<uint16_t>(h));
        return t;
    }();
    return v;
}

// float -> half by brute force in double: the two halves around |f|, compared with their
// midpoint (exact in double), ties to the even encoding; 65536 stands for infinity, so
// everything from 65520 up rounds there. Not for NaN.
uint16_t ref_float_to_half(float f) {
    const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
    const double x = std::fabs(static_cast<double>(f));
    const std::vector<double>& v = half_values();
    if (x >= 65536.0) return sign | 0x7c00;
    // lo: the largest encoding whose value is <= x.
    const size_t lo = static_cast<size_t>(std::upper_bound(v.begin(), v.end(), x) - v.begin()) - 1;
    const size_t hi = lo + 1;
    const double mid = (v[lo] + v[hi]) / 2;
    size_t r;
    if (x < mid) {
        r = lo;
    } else if (x > mid) {
        r = hi;
    } else {
        r = (lo % 2 == 0) ? lo : hi;
    }
    return static_cast<uint16_t>(sign | r);
}

bool half_is_nan(uint16_t h) {
    return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0;
}

// The float test set: every half widened, every midpoint between neighbouring halves (also the
// one above 65504, 65520), the float neighbours of all of those, random bit patterns, random
// floats inside the half range, and hand-picked values.
const std::vector<float>& float_cases() {
    static const std::vector<float> cases = [] {
        std::vector<float> c;
        const std::vector<double>& v = half_values();
        auto add_with_neighbours = [&c](float f) {
            for (float s : {f, -f}) {
                c.push_back(s);
                c.push_back(std::nextafter(s, std::numeric_limits<float>::infinity()));
                c.push_back(std::nextafter(s, -std::numeric_limits<float>::infinity()));
            }
        };
        for (uint32_t h = 0; h < 0x7c00; ++h) {
            add_with_neighbours(static_cast<float>(v[h]));
            // The midpoint has 12 significant bits: exact in float.
            add_with_neighbours(static_cast<float>((v[h] + v[h + 1]) / 2));
        }
        Rng rng{7};
        for (int i = 0; i < 1000000; ++i)
            c.push_back(bits_float(static_cast<uint32_t>(rng.next())));
        for (int i = 0; i < 1000000; ++i) {
            const uint64_t r = rng.next();
            const int exp = static_cast<int>(r % 44) - 27;  // 2^-27 .. 2^16
            const float m = 1.0f + static_cast<float>((r >> 8) & 0x7fffff) * 0x1p-23f;
            const float f = std::ldexp(m, exp);
            c.push_back((r >> 40) & 1 ? -f : f);
        }
        const float inf = std::numeric_limits<float>::infinity();
        for (float f : {0.0f,
                        -0.0f,
                        65504.0f,
                        65519.99f,
                        65520.0f,
                        65536.0f,
                        1e10f,
                        3.4e38f,
                        inf,
                        -inf,
                        0x1p-24f,
                        0x1p-25f,
                        0x3p-25f,
                        0x1p-26f,
                        0x1p-14f,
                        0x1.ffcp-15f,
                        std::numeric_limits<float>::denorm_min(),
                        std::numeric_limits<float>::min(),
                        1.0f,
                        0x1.002p0f,
                        0x1.006p0f}) {
            add_with_neighbours(f);
        }
        for (uint32_t nan : {0x7fc00000u, 0xffc00000u, 0x7f800001u, 0xff800001u, 0x7fa00000u,
                             0x7fffffffu, 0x7fc02000u, 0x7f801fffu, 0xffbfe000u}) {
            c.push_back(bits_float(nan));
        }
        return c;
    }();
    return cases;
}

// ------------------------------------------------------------------------------------------
// Conversions (scalar).

TEST(HalfConversion, HalfToFloatAllInputsMatchLdexp) {
    for (uint32_t h = 0; h <= 0xffff; ++h) {
        const uint16_t x = static_cast<uint16_t>(h);
        const float f = half_to_float(x);
        const int exp = (x >> 10) & 0x1f;
        const uint32_t mant = x & 0x3ffu;
        const uint32_t sign = (x & 0x8000u) << 16;
        if (exp == 31 && mant != 0) {
            // NaN: sign and payload kept, quiet bit set.
            ASSERT_EQ(float_bits(f), sign | 0x7fc00000u | (mant << 13)) << "h=" << h;
            ASSERT_TRUE(std::isnan(f));
        } else if (exp == 31) {
            ASSERT_TRUE(std::isinf(f)) << "h=" << h;
            ASSERT_EQ(std::signbit(f), sign != 0);
        } else {
            ASSERT_EQ(static_cast<double>(f), half_value(x)) << "h=" << h;
            ASSERT_EQ(std::signbit(f), sign != 0) << "h=" << h;  // -0 stays -0
        }
    }
}

TEST(HalfConversion, FloatToHalfMatchesDoubleReference) {
    size_t checked = 0;
    for (float f : float_cases()) {
        const uint16_t got = float_to_half(f);
        if (std::isnan(f)) {
            ASSERT_TRUE(half_is_nan(got)) << "f bits " << std::hex << float_bits(f);
            ASSERT_EQ(got & 0x8000, (float_bits(f) >> 16) & 0x8000);
            continue;
        }
        ASSERT_EQ(got, ref_float_to_half(f)) << "f=" << f << " bits " << std::hex << float_bits(f);
        ++checked;
    }
    EXPECT_GT(checked, size_t{2000000});
}

// Values worked out by hand.
TEST(HalfConversion, FloatToHalfKnownValues) {
    const float inf = std::numeric_limits<float>::infinity();
    struct Case {
        float f;
        uint16_t h;
    };
    const Case cases[] = {
        {1.0f, 0x3c00},
        {-2.0f, 0xc000},
        {0.0f, 0x0000},
        {-0.0f, 0x8000},
        {65504.0f, 0x7bff},
        {65519.99f, 0x7bff},  // just below the midpoint 65520
        {65520.0f, 0x7c00},   // the midpoint: ties to even, which is infinity
        {-65520.0f, 0xfc00},
        {1e30f, 0x7c00},
        {inf, 0x7c00},
        {-inf, 0xfc00},
        {0x1p-24f, 0x0001},         // the smallest subnormal
        {0x1p-25f, 0x0000},         // half of it: tie to even 0
        {-0x1p-25f, 0x8000},        //
        {0x1.000002p-25f, 0x0001},  // just above the tie
        {0x3p-25f, 0x0002},         // 1.5 * 2^-24: tie between 1 and 2, to even 2
        {0x5p-25f, 0x0002},         // 2.5 * 2^-24: tie between 2 and 3, to even 2
        {0x1p-14f, 0x0400},         // the smallest normal
        {0x1.ffcp-15f, 0x0400},     // 1023.5 * 2^-24: tie between 0x3ff and 0x400, to even 0x400
        {0x1.ff8p-15f, 0x03ff},     // 1023 * 2^-24: the largest subnormal, exact
        {0x1.ff4p-15f, 0x03fe},     // 1022.5 * 2^-24: tie, to even 0x3fe
        {0x1.002p0f, 0x3c00},       // 1 + 2^-11: tie, to even 1
        {0x1.006p0f, 0x3c02},       // 1 + 3 * 2^-11: tie, to even 1 + 2^-9
        {0x1.0021p0f, 0x3c01},
        {1e-45f, 0x0000},  // a float subnormal
        {-1e-45f, 0x8000},
    };
    for (const Case& c : cases) {
        EXPECT_EQ(float_to_half(c.f), c.h) << "f=" << c.f;
        // And the reference agrees with the hand values.
        EXPECT_EQ(ref_float_to_half(c.f), c.h) << "f=" << c.f;
    }
}

// NaN: quiet, sign kept, the top 9 payload bits kept (as vcvtps2ph).
TEST(HalfConversion, FloatToHalfNaNPayload) {
    EXPECT_EQ(float_to_half(bits_float(0x7fc00000u)), 0x7e00);
    EXPECT_EQ(float_to_half(bits_float(0xffc00000u)), 0xfe00);
    EXPECT_EQ(float_to_half(bits_float(0x7f800001u)), 0x7e00);  // signalling, low payload
    EXPECT_EQ(float_to_half(bits_float(0x7fa00000u)), 0x7f00);  // signalling, payload bit 21
    EXPECT_EQ(float_to_half(bits_float(0x7fffffffu)), 0x7fff);
    // A round trip keeps a quiet half NaN.
    for (uint32_t h = 0x7e00; h <= 0x7fff; ++h)
        ASSERT_EQ(float_to_half(half_to_float(static_cast<uint16_t>(h))), h);
}

// The integer rounding does not depend on the floating-point rounding mode.
TEST(HalfConversion, FloatToHalfIgnoresRoundingMode) {
    const float probes[] = {0x1.002p0f, 0x1.0021p0f, 0x3p-25f,   0x1.ffcp-15f,
                            65519.99f,  0x1p-25f,    -0x1.006p0f};
    std::vector<uint16_t> nearest;
    for (float f : probes) nearest.push_back(float_to_half(f));
    for (int mode : {FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO}) {
        ASSERT_EQ(std::fesetround(mode), 0);
        for (size_t i = 0; i < std::size(probes); ++i)
            EXPECT_EQ(float_to_half(probes[i]), nearest[i]) << "mode " << mode;
        std::fesetround(FE_TONEAREST);
    }
    EXPECT_EQ(nearest[0], 0x3c00);
    EXPECT_EQ(nearest[2], 0x0002);
}

TEST(HalfConversion, RoundTripOfEveryNonNaNHalf) {
    for (uint32_t h = 0; h <= 0xffff; ++h) {
        if (half_is_nan(static_cast<uint16_t>(h))) continue;
        ASSERT_EQ(float_to_half(half_to_float(static_cast<uint16_t>(h))), h);
    }
}

// ------------------------------------------------------------------------------------------
// Resolution.

TEST(HalfResolution, BestIsTheTopAvailableOrTheRequestedIsa) {
    const HalfKernels& best = half_best();
    const char* want = std::getenv("PIRAMID_SIMD");
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon}) {
        if (want != nullptr && std::strcmp(want, isa_name(isa)) == 0 &&
            half_kernels_for(isa) != nullptr) {
            EXPECT_EQ(best.isa, isa);
            return;
        }
    }
    Isa expected = Isa::kScalar;
    for (Isa isa : {Isa::kNeon, Isa::kAvx2, Isa::kAvx512})
        if (half_kernels_for(isa) != nullptr) expected = isa;
    EXPECT_EQ(best.isa, expected) << "best is " << isa_name(best.isa);
    EXPECT_EQ(&best, half_kernels_for(expected));
}

TEST(HalfResolution, ScalarIsAlwaysThere) {
    ASSERT_NE(half_kernels_for(Isa::kScalar), nullptr);
    EXPECT_EQ(half_kernels_for(Isa::kScalar), &half_scalar());
#if !defined(__aarch64__)
    EXPECT_EQ(half_kernels_for(Isa::kNeon), nullptr);
#endif
#if !defined(__x86_64__)
    EXPECT_EQ(half_kernels_for(Isa::kAvx2), nullptr);
    EXPECT_EQ(half_kernels_for(Isa::kAvx512), nullptr);
#endif
}

// ------------------------------------------------------------------------------------------
// Every ISA against the scalar table.

// `bytes` of read-write memory that end exactly where a PROT_NONE page begins: touching one byte
// past the end faults.
class Guarded {
  public:
    explicit Guarded(size_t bytes) {
        const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
        const size_t data_pages = std::max<size_t>(1, (bytes + page - 1) / page);
        total_ = (data_pages + 1) * page;
        void* m = mmap(nullptr, total_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) std::abort();
        base_ = static_cast<char*>(m);
        if (mprotect(base_ + data_pages * page, page, PROT_NONE) != 0) std::abort();
        data_ = base_ + data_pages * page - bytes;
    }
    ~Guarded() { munmap(base_, total_); }
    Guarded(const Guarded&) = delete;
    Guarded& operator=(const Guarded&) = delete;
    template <typename T>
    T* as() const {
        return reinterpret_cast<T*>(data_);
    }

  private:
    char* base_ = nullptr;
    char* data_ = nullptr;
    size_t total_ = 0;
};

// A random half with mixed signs and magnitudes: exponents over the whole finite range
// (including subnormals and zeros), random mantissa and sign.
uint16_t mixed_half(Rng& r) {
    const uint64_t x = r.next();
    const uint16_t exp = static_cast<uint16_t>(x % 31);  // 0..30: never inf/NaN
    return static_cast<uint16_t>(((x >> 8) & 0x8000) | (exp << 10) | ((x >> 20) & 0x3ff));
}
// One of -2, -1.75, ..., 2: every sum of up to 16000 products or squared differences of these is
// exact in float, whatever the order.
uint16_t grid_half(Rng& r) {
    return float_to_half(static_cast<float>(static_cast<int>(r.next() % 17) - 8) * 0.25f);
}

struct Sums {
    double l2sq = 0, dot = 0, l1 = 0, aa = 0, bb = 0;
};
// Exact sums (in double: the values have 11 significant bits, differences of two at most 41,
// so each term below is exact or off by 2^-53 relative) and the sums of their magnitudes.
void exact_sums(const uint16_t* a, const uint16_t* b, size_t n, Sums* s, Sums* mag) {
    for (size_t i = 0; i < n; ++i) {
        const double x = half_value(a[i]), y = half_value(b[i]);
        s->l2sq += (x - y) * (x - y);
        s->dot += x * y;
        s->l1 += std::fabs(x - y);
        s->aa += x * x;
        s->bb += y * y;
        mag->l2sq += (x - y) * (x - y);
        mag->dot += std::fabs(x * y);
        mag->l1 += std::fabs(x - y);
        mag->aa += x * x;
        mag->bb += y * y;
    }
}

// The rounding bound. Each term is exact (a product of two halves has 22 significant bits) or
// rounded at most twice (a - b, then its square: relative error < 2u + u^2, u = 2^-24). A float
// sum in which every term passes through at most D additions errs by at most
// ((1 + u)^D - 1) * sum|terms| <= 1.01 * D * u * sum|terms| for D * u < 0.01. The scalar table
// has D = n; the SIMD tables keep at least 8 accumulators, so D <= n / 8 + 8 (chains, tail and
// the final reduction of at most 16 lanes and 4 registers). Against the exact sum, each is
// within (D + 3) * 1.01 * u * sum|terms|; against each other, within the sum of the two.
double bound_vs_exact(size_t depth, double magnitude) {
    return (static_cast<double>(depth) + 3.0) * 1.01 * 0x1p-24 * magnitude;
}
double simd_depth(size_t n) {
    return static_cast<double>(n / 8 + 8);
}
double bound_vs_scalar(size_t n, double magnitude) {
    return bound_vs_exact(n, magnitude) + bound_vs_exact(n / 8 + 8, magnitude) +
           std::numeric_limits<float>::denorm_min();
}

class HalfIsa : public ::testing::TestWithParam<Isa> {
  protected:
    const HalfKernels* k_ = nullptr;
    void SetUp() override {
        k_ = half_kernels_for(GetParam());
        if (k_ == nullptr) GTEST_SKIP() << isa_name(GetParam()) << " is not available here";
    }
};

TEST_P(HalfIsa, ReportsItsIsa) {
    EXPECT_EQ(k_->isa, GetParam());
}

TEST_P(HalfIsa, ToFloatBitExactOnAllHalves) {
    std::vector<uint16_t> all(65536 + 1);
    for (uint32_t h = 0; h <= 0xffff; ++h) all[h + 1] = static_cast<uint16_t>(h);
    const uint16_t* in = all.data() + 1;  // unaligned by one element
    std::vector<float> got(65536 + 2), want(65536 + 2);
    for (size_t n : {size_t{65536}, size_t{65535}, size_t{65529}}) {
        for (size_t start : {size_t{0}, size_t{1}}) {
            const size_t len = std::min(n, 65536 - start);
            std::fill(got.begin(), got.end(), -1.0f);
            k_->to_float(in + start, got.data() + 1, len);
            half_scalar().to_float(in + start, want.data() + 1, len);
            for (size_t i = 0; i < len; ++i) {
                ASSERT_EQ(float_bits(got[i + 1]), float_bits(want[i + 1]))
                    << "h=" << in[start + i] << " n=" << len;
                ASSERT_EQ(float_bits(got[i + 1]), float_bits(half_to_float(in[start + i])));
            }
            ASSERT_EQ(got[len + 1], -1.0f) << "wrote past n";
        }
    }
    for (size_t n : kLengths) {
        std::fill(got.begin(), got.end(), -1.0f);
        k_->to_float(in + 1000, got.data() + 1, n);
        for (size_t i = 0; i < n; ++i)
            ASSERT_EQ(float_bits(got[i + 1]), float_bits(half_to_float(in[1000 + i]))) << n;
        ASSERT_EQ(got[n + 1], -1.0f) << "wrote past n=" << n;
        ASSERT_EQ(got[0], -1.0f) << "wrote before the start, n=" << n;
    }
}

TEST_P(HalfIsa, FromFloatBitExactOnTheFloatCases) {
    const std::vector<float>& cases = float_cases();
    std::vector<float> in(cases.size() + 1);
    std::copy(cases.begin(), cases.end(), in.begin() + 1);
    std::vector<uint16_t> got(cases.size() + 2, 0x1234);
    k_->from_float(in.data() + 1, got.data() + 1, cases.size());
    for (size_t i = 0; i < cases.size(); ++i) {
        ASSERT_EQ(got[i + 1], float_to_half(cases[i]))
            << "f bits " << std::hex << float_bits(cases[i]);
    }
    ASSERT_EQ(got[cases.size() + 1], 0x1234);
    for (size_t n : kLengths) {
        for (size_t start : {size_t{0}, size_t{5}, size_t{123457}}) {
            std::fill(got.begin(), got.end(), 0x1234);
            k_->from_float(in.data() + 1 + start, got.data() + 1, n);
            for (size_t i = 0; i < n; ++i)
                ASSERT_EQ(got[i + 1], float_to_half(cases[start + i])) << "n=" << n;
            ASSERT_EQ(got[n + 1], 0x1234) << "wrote past n=" << n;
            ASSERT_EQ(got[0], 0x1234) << "wrote before the start, n=" << n;
        }
    }
}

TEST_P(HalfIsa, KernelsExactOnGridData) {
    const HalfKernels& ref = half_scalar();
    Rng rng{11};
    for (size_t n : kLengths) {
        std::vector<uint16_t> a(n + 1), b(n + 1);
        for (size_t i = 0; i < n; ++i) {
            a[i + 1] = grid_half(rng);
            b[i + 1] = grid_half(rng);
        }
        const uint16_t* pa = a.data() + 1;  // unaligned
        const uint16_t* pb = b.data() + 1;
        Sums exact, mag;
        exact_sums(pa, pb, n, &exact, &mag);
        SCOPED_TRACE("n=" + std::to_string(n));
        EXPECT_EQ(k_->l2sq(pa, pb, n), ref.l2sq(pa, pb, n));
        EXPECT_EQ(k_->dot(pa, pb, n), ref.dot(pa, pb, n));
        EXPECT_EQ(k_->l1(pa, pb, n), ref.l1(pa, pb, n));
        EXPECT_EQ(static_cast<double>(k_->l2sq(pa, pb, n)), exact.l2sq);
        EXPECT_EQ(static_cast<double>(k_->dot(pa, pb, n)), exact.dot);
        EXPECT_EQ(static_cast<double>(k_->l1(pa, pb, n)), exact.l1);
        float ab, aa, bb;
        k_->dot_norms(pa, pb, n, &ab, &aa, &bb);
        EXPECT_EQ(static_cast<double>(ab), exact.dot);
        EXPECT_EQ(static_cast<double>(aa), exact.aa);
        EXPECT_EQ(static_cast<double>(bb), exact.bb);
    }
}

TEST_P(HalfIsa, KernelsWithinBoundOnMixedData) {
    const HalfKernels& ref = half_scalar();
    Rng rng{12};
    for (size_t n : kLengths) {
        for (int rep = 0; rep < 4; ++rep) {
            std::vector<uint16_t> a(n + 1), b(n + 1);
            for (size_t i = 0; i < n; ++i) {
                a[i + 1] = mixed_half(rng);
                // Half the time b is close to a, so that l2sq and l1 see cancellation.
                b[i + 1] = rep % 2 == 0 ? mixed_half(rng)
                                        : static_cast<uint16_t>(a[i + 1] ^ (rng.next() & 7));
            }
            const uint16_t* pa = a.data() + 1;
            const uint16_t* pb = b.data() + 1;
            Sums exact, mag;
            exact_sums(pa, pb, n, &exact, &mag);
            SCOPED_TRACE("n=" + std::to_string(n) + " rep=" + std::to_string(rep));
            const double d = simd_depth(n);
            auto check = [&](double got, double scal, double ex, double m) {
                EXPECT_NEAR(got, scal, bound_vs_scalar(n, m));
                EXPECT_NEAR(got, ex, bound_vs_exact(static_cast<size_t>(d), m));
                EXPECT_NEAR(scal, ex, bound_vs_exact(n, m));
            };
            check(k_->l2sq(pa, pb, n), ref.l2sq(pa, pb, n), exact.l2sq, mag.l2sq);
            check(k_->dot(pa, pb, n), ref.dot(pa, pb, n), exact.dot, mag.dot);
            check(k_->l1(pa, pb, n), ref.l1(pa, pb, n), exact.l1, mag.l1);
            float ab, aa, bb, rab, raa, rbb;
            k_->dot_norms(pa, pb, n, &ab, &aa, &bb);
            ref.dot_norms(pa, pb, n, &rab, &raa, &rbb);
            check(ab, rab, exact.dot, mag.dot);
            check(aa, raa, exact.aa, mag.aa);
            check(bb, rbb, exact.bb, mag.bb);
            if (n == 0) {
                EXPECT_EQ(k_->l2sq(pa, pb, 0), 0.0f);
                EXPECT_EQ(ab, 0.0f);
            }
        }
    }
}

// Inputs end where a PROT_NONE page begins (and outputs too): a read or write past element n - 1
// kills the test with SIGSEGV.
TEST_P(HalfIsa, NothingPastTheEndIsTouched) {
    const HalfKernels& ref = half_scalar();
    Rng rng{13};
    for (size_t n : kLengths) {
        Guarded ga(n * sizeof(half)), gb(n * sizeof(half)), gf(n * sizeof(float)),
            gh(n * sizeof(half));
        half* a = ga.as<half>();
        half* b = gb.as<half>();
        float* f = gf.as<float>();
        half* h = gh.as<half>();
        for (size_t i = 0; i < n; ++i) {
            a[i] = mixed_half(rng);
            b[i] = grid_half(rng);
        }
        Sums exact, mag;
        exact_sums(a, b, n, &exact, &mag);
        SCOPED_TRACE("n=" + std::to_string(n));
        EXPECT_NEAR(k_->l2sq(a, b, n), ref.l2sq(a, b, n), bound_vs_scalar(n, mag.l2sq));
        EXPECT_NEAR(k_->dot(a, b, n), ref.dot(a, b, n), bound_vs_scalar(n, mag.dot));
        EXPECT_NEAR(k_->l1(a, b, n), ref.l1(a, b, n), bound_vs_scalar(n, mag.l1));
        float ab, aa, bb;
        k_->dot_norms(a, b, n, &ab, &aa, &bb);
        EXPECT_NEAR(ab, exact.dot, bound_vs_exact(n / 8 + 8, mag.dot));
        EXPECT_NEAR(aa, exact.aa, bound_vs_exact(n / 8 + 8, mag.aa));
        EXPECT_EQ(bb, exact.bb);  // grid data: exact
        k_->to_float(a, f, n);
        for (size_t i = 0; i < n; ++i) ASSERT_EQ(float_bits(f[i]), float_bits(half_to_float(a[i])));
        k_->from_float(f, h, n);
        for (size_t i = 0; i < n; ++i) ASSERT_EQ(h[i], a[i]);
    }
}

INSTANTIATE_TEST_SUITE_P(Half, HalfIsa,
                         ::testing::Values(Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon),
                         [](const ::testing::TestParamInfo<Isa>& info) {
                             return std::string(isa_name(info.param));
                         });

}  // namespace
