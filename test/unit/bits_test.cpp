// Bit-vector kernels: every ISA's popcount, hamming and jaccard_counts against the portable table
// and against a bit-by-bit count (all exact integers), that none reads past nbytes, and
// jaccard_from_counts against pgvector's jaccard_distance results.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/distance/bits.hpp"
#include "core/distance/bits_impl.hpp"

namespace {

using piramid::distance::BitKernels;
using piramid::distance::bits_best;
using piramid::distance::bits_kernels_for;
using piramid::distance::bits_scalar;
using piramid::distance::Isa;
using piramid::distance::isa_name;
using piramid::distance::jaccard_from_counts;

constexpr size_t kLengths[] = {0,    1,    2,    3,    7,    8,    15,   16,   17,   31,
                               32,   33,   63,   64,   65,   127,  128,  129,  159,  160,
                               161,  191,  255,  256,  383,  384,  385,  1000, 1023, 1024,
                               1025, 3072, 7936, 7937, 7999, 8000, 8001, 16000};

struct Rng {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
};

// One bit at a time.
uint64_t bit_loop(const uint8_t* p, size_t n) {
    uint64_t c = 0;
    for (size_t i = 0; i < n; ++i)
        for (int k = 0; k < 8; ++k) c += (p[i] >> k) & 1u;
    return c;
}

struct Counts {
    uint64_t pa, pb, ham, ab, aa, bb;
};
Counts reference_counts(const uint8_t* a, const uint8_t* b, size_t n) {
    std::vector<uint8_t> x(n), y(n);
    for (size_t i = 0; i < n; ++i) {
        x[i] = static_cast<uint8_t>(a[i] ^ b[i]);
        y[i] = static_cast<uint8_t>(a[i] & b[i]);
    }
    const uint64_t pa = bit_loop(a, n), pb = bit_loop(b, n);
    return {pa, pb, bit_loop(x.data(), n), bit_loop(y.data(), n), pa, pb};
}

void expect_counts(const BitKernels& k, const uint8_t* a, const uint8_t* b, size_t n) {
    const Counts want = reference_counts(a, b, n);
    const BitKernels& ref = bits_scalar();
    EXPECT_EQ(k.popcount(a, n), want.pa);
    EXPECT_EQ(k.popcount(b, n), want.pb);
    EXPECT_EQ(k.hamming(a, b, n), want.ham);
    EXPECT_EQ(ref.popcount(a, n), want.pa);
    EXPECT_EQ(ref.hamming(a, b, n), want.ham);
    uint64_t ab = 99, aa = 99, bb = 99;
    k.jaccard_counts(a, b, n, &ab, &aa, &bb);
    EXPECT_EQ(ab, want.ab);
    EXPECT_EQ(aa, want.aa);
    EXPECT_EQ(bb, want.bb);
    ref.jaccard_counts(a, b, n, &ab, &aa, &bb);
    EXPECT_EQ(ab, want.ab);
    EXPECT_EQ(aa, want.aa);
    EXPECT_EQ(bb, want.bb);
}

// `bytes` of memory ending exactly where a PROT_NONE page begins.
class Guarded {
  public:
    explicit Guarded(size_t bytes) {
        const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
        const size_t data_pages = std::max<size_t>(1, (bytes + page - 1) / page);
        total_ = (data_pages + 1) * page;
        void* m = mmap(nullptr, total_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) std::abort();
        base_ = static_cast<uint8_t*>(m);
        if (mprotect(base_ + data_pages * page, page, PROT_NONE) != 0) std::abort();
        data_ = base_ + data_pages * page - bytes;
    }
    ~Guarded() { munmap(base_, total_); }
    Guarded(const Guarded&) = delete;
    Guarded& operator=(const Guarded&) = delete;
    uint8_t* data() const { return data_; }

  private:
    uint8_t* base_ = nullptr;
    uint8_t* data_ = nullptr;
    size_t total_ = 0;
};

// The ISA tables, plus the POPCNT-word variant that the benchmark measures (param kScalar with
// variant = true).
struct Param {
    Isa isa;
    bool popcnt64_variant;
};

class BitsIsa : public ::testing::TestWithParam<Param> {
  protected:
    const BitKernels* k_ = nullptr;
    void SetUp() override {
        if (GetParam().popcnt64_variant) {
            k_ = bits_kernels_for(Isa::kAvx2) != nullptr
                     ? piramid::distance::detail::bits_popcnt64_table()
                     : nullptr;
        } else {
            k_ = bits_kernels_for(GetParam().isa);
        }
        if (k_ == nullptr) GTEST_SKIP() << "not available here";
    }
};

TEST_P(BitsIsa, ReportsItsIsa) {
    EXPECT_EQ(k_->isa, GetParam().isa);
}

TEST_P(BitsIsa, RandomBytesUnaligned) {
    Rng rng{21};
    for (size_t n : kLengths) {
        std::vector<uint8_t> a(n + 3), b(n + 3);
        for (auto& v : a) v = static_cast<uint8_t>(rng.next());
        for (auto& v : b) v = static_cast<uint8_t>(rng.next());
        for (size_t off : {1, 2, 3}) {
            SCOPED_TRACE("n=" + std::to_string(n) + " off=" + std::to_string(off));
            expect_counts(*k_, a.data() + off, b.data() + off - 1, n);
        }
    }
}

// All ones: the largest per-byte counts, which would overflow a byte counter folded too late.
TEST_P(BitsIsa, DenseAndSparsePatterns) {
    Rng rng{22};
    for (size_t n : kLengths) {
        std::vector<uint8_t> ones(n + 1, 0xff), zeros(n + 1, 0), sparse(n + 1, 0);
        for (size_t i = 0; i < n; i += 1 + rng.next() % 50) sparse[i + 1] = 0x80;
        if (n > 0) sparse[n] = 0x01;  // the last byte counts
        SCOPED_TRACE("n=" + std::to_string(n));
        EXPECT_EQ(k_->popcount(ones.data() + 1, n), 8 * n);
        EXPECT_EQ(k_->popcount(zeros.data() + 1, n), 0u);
        EXPECT_EQ(k_->hamming(ones.data() + 1, zeros.data() + 1, n), 8 * n);
        EXPECT_EQ(k_->hamming(ones.data() + 1, ones.data() + 1, n), 0u);
        expect_counts(*k_, ones.data() + 1, sparse.data() + 1, n);
        expect_counts(*k_, sparse.data() + 1, zeros.data() + 1, n);
        uint64_t ab, aa, bb;
        k_->jaccard_counts(ones.data() + 1, ones.data() + 1, n, &ab, &aa, &bb);
        EXPECT_EQ(ab, 8 * n);
        EXPECT_EQ(aa, 8 * n);
        EXPECT_EQ(bb, 8 * n);
    }
}

// A single set bit at each position of the vector, so that a skipped or double-counted byte in
// any lane, block or tail shows up.
TEST_P(BitsIsa, EveryBytePositionCounts) {
    for (size_t n : {size_t{1}, size_t{65}, size_t{200}, size_t{1025}}) {
        std::vector<uint8_t> a(n, 0), b(n, 0);
        for (size_t i = 0; i < n; ++i) {
            a[i] = static_cast<uint8_t>(1u << (i % 8));
            b[i] = 0xff;
            ASSERT_EQ(k_->popcount(a.data(), n), i + 1) << "n=" << n << " i=" << i;
            ASSERT_EQ(k_->hamming(a.data(), b.data(), n), 8 * (i + 1) - (i + 1));
            uint64_t ab, aa, bb;
            k_->jaccard_counts(a.data(), b.data(), n, &ab, &aa, &bb);
            ASSERT_EQ(ab, i + 1);
            ASSERT_EQ(aa, i + 1);
            ASSERT_EQ(bb, 8 * (i + 1));
        }
    }
}

// Inputs that end where a PROT_NONE page begins: a read past nbytes kills the test (SIGSEGV).
TEST_P(BitsIsa, NothingPastTheEndIsRead) {
    Rng rng{23};
    for (size_t n : kLengths) {
        Guarded ga(n), gb(n);
        for (size_t i = 0; i < n; ++i) {
            ga.data()[i] = static_cast<uint8_t>(rng.next());
            gb.data()[i] = static_cast<uint8_t>(rng.next());
        }
        SCOPED_TRACE("n=" + std::to_string(n));
        expect_counts(*k_, ga.data(), gb.data(), n);
    }
}

INSTANTIATE_TEST_SUITE_P(Bits, BitsIsa,
                         ::testing::Values(Param{Isa::kScalar, false}, Param{Isa::kAvx2, false},
                                           Param{Isa::kAvx512, false}, Param{Isa::kNeon, false},
                                           Param{Isa::kAvx2, true}),
                         [](const ::testing::TestParamInfo<Param>& info) {
                             return std::string(isa_name(info.param.isa)) +
                                    (info.param.popcnt64_variant ? "_popcnt64" : "");
                         });

// ------------------------------------------------------------------------------------------

TEST(BitsResolution, BestIsTheTopAvailableOrTheRequestedIsa) {
    const BitKernels& best = bits_best();
    const char* want = std::getenv("PIRAMID_SIMD");
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon}) {
        if (want != nullptr && std::strcmp(want, isa_name(isa)) == 0 &&
            bits_kernels_for(isa) != nullptr) {
            EXPECT_EQ(best.isa, isa);
            return;
        }
    }
    Isa expected = Isa::kScalar;
    for (Isa isa : {Isa::kNeon, Isa::kAvx2, Isa::kAvx512})
        if (bits_kernels_for(isa) != nullptr) expected = isa;
    EXPECT_EQ(best.isa, expected) << "best is " << isa_name(best.isa);
    EXPECT_EQ(&best, bits_kernels_for(expected));
}

// A bit string such as "1010" as Postgres stores it: first bit in the top bit of byte 0, the
// unused bits of the last byte zero.
std::vector<uint8_t> varbit(const std::string& s) {
    std::vector<uint8_t> v((s.size() + 7) / 8, 0);
    for (size_t i = 0; i < s.size(); ++i)
        if (s[i] == '1') v[i / 8] |= static_cast<uint8_t>(0x80u >> (i % 8));
    return v;
}

double jaccard(const std::string& x, const std::string& y) {
    const std::vector<uint8_t> a = varbit(x), b = varbit(y);
    uint64_t ab, aa, bb;
    bits_best().jaccard_counts(a.data(), b.data(), a.size(), &ab, &aa, &bb);
    return jaccard_from_counts(ab, aa, bb);
}
uint64_t hamming(const std::string& x, const std::string& y) {
    const std::vector<uint8_t> a = varbit(x), b = varbit(y);
    return bits_best().hamming(a.data(), b.data(), a.size());
}

std::string repeat(const std::string& s, size_t times) {
    std::string r;
    for (size_t i = 0; i < times; ++i) r += s;
    return r;
}

// The values pgvector 0.8's jaccard_distance and hamming_distance return for these inputs
// (its test/expected/bit.out); jaccard is 1 whenever a & b has no bit set, even for '' and ''.
TEST(BitsJaccard, MatchesPgvector) {
    EXPECT_EQ(jaccard("1111", "1111"), 0.0);
    EXPECT_EQ(jaccard("1111", "1110"), 0.25);
    EXPECT_EQ(jaccard("1111", "1100"), 0.5);
    EXPECT_EQ(jaccard("1111", "1000"), 0.75);
    EXPECT_EQ(jaccard("1111", "0000"), 1.0);
    EXPECT_EQ(jaccard("1100", "1000"), 0.5);
    EXPECT_EQ(jaccard("", ""), 1.0);
    EXPECT_EQ(jaccard("0000", "0000"), 1.0);
    EXPECT_EQ(jaccard(repeat("10", 10), repeat("01", 10)), 1.0);
    const std::string alt = repeat("10", 256) + "1", alt_c = repeat("01", 256) + "0";  // 513 bits
    EXPECT_EQ(jaccard(alt, alt), 0.0);
    EXPECT_EQ(jaccard(alt, alt_c), 1.0);
    EXPECT_EQ(hamming(alt, alt_c), 513u);
    EXPECT_EQ(hamming(alt, alt), 0u);
    const std::string edges = "11" + std::string(509, '0') + "11";
    const std::string ends = "1" + std::string(511, '0') + "1";
    EXPECT_EQ(hamming(edges, ends), 2u);
    EXPECT_EQ(jaccard(edges, ends), 0.5);
    EXPECT_EQ(hamming("111", "000"), 3u);
    EXPECT_EQ(hamming("", ""), 0u);
}

TEST(BitsJaccard, FromCounts) {
    EXPECT_EQ(jaccard_from_counts(0, 0, 0), 1.0);
    EXPECT_EQ(jaccard_from_counts(0, 5, 7), 1.0);
    EXPECT_EQ(jaccard_from_counts(3, 3, 3), 0.0);
    EXPECT_EQ(jaccard_from_counts(1, 2, 3), 0.75);  // union 4
    EXPECT_EQ(jaccard_from_counts(2, 4, 2), 0.5);
    // Large counts stay exact in double: the union is 2^41, 1 - 2^40 / 2^41.
    EXPECT_EQ(jaccard_from_counts(uint64_t{1} << 40, uint64_t{1} << 41, uint64_t{1} << 40), 0.5);
}

}  // namespace
