// Distances between bit strings (the SQL type bit): hamming_distance and jaccard_distance, the
// operators <~> and <%>. They run on the core popcount kernels (bits.hpp) over the packed bytes;
// Postgres keeps the pad bits of the last byte zero, so whole bytes can be counted.
#include "pg/guard.hpp"

extern "C" {
#include "utils/varbit.h"
}

#include "core/distance/bits.hpp"

namespace {

using piramid::pg::guard;
namespace dist = piramid::distance;

void check_same_lengths(const VarBit* a, const VarBit* b) {
    if (VARBITLEN(a) != VARBITLEN(b)) {
        ereport(ERROR,
                (errcode(ERRCODE_DATA_EXCEPTION),
                 errmsg("different bit lengths %u and %u", static_cast<unsigned>(VARBITLEN(a)),
                        static_cast<unsigned>(VARBITLEN(b)))));
    }
}

size_t bytes_of(const VarBit* v) {
    return static_cast<size_t>(VARBITBYTES(v));
}

}  // namespace

// hamming_distance(bit, bit) RETURNS double precision: the number of differing bits; the
// operator <~>.
PIRAMID_FUNCTION(hamming_distance) {
    return guard([&]() -> Datum {
        const VarBit* a = PG_GETARG_VARBIT_P(0);
        const VarBit* b = PG_GETARG_VARBIT_P(1);
        check_same_lengths(a, b);
        const uint64_t d = dist::bits_best().hamming(VARBITS(a), VARBITS(b), bytes_of(a));
        PG_RETURN_FLOAT8(static_cast<double>(d));
    });
}

// jaccard_distance(bit, bit) RETURNS double precision: 1 - |a & b| / |a | b|; the operator <%>.
// As pgvector: 1 whenever a & b has no bit set, including two all-zero strings.
PIRAMID_FUNCTION(jaccard_distance) {
    return guard([&]() -> Datum {
        const VarBit* a = PG_GETARG_VARBIT_P(0);
        const VarBit* b = PG_GETARG_VARBIT_P(1);
        check_same_lengths(a, b);
        uint64_t ab = 0;
        uint64_t aa = 0;
        uint64_t bb = 0;
        dist::bits_best().jaccard_counts(VARBITS(a), VARBITS(b), bytes_of(a), &ab, &aa, &bb);
        // jaccard_from_counts gives 0 for two all-zero strings; pgvector gives 1 (no common bit).
        if (ab == 0) PG_RETURN_FLOAT8(1.0);
        PG_RETURN_FLOAT8(dist::jaccard_from_counts(ab, aa, bb));
    });
}
