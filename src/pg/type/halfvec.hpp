// The on-disk/in-memory representation of the SQL type `halfvec` (a varlena), pgvector's layout:
// int32 varlena header, int16 dim, int16 unused (0), dim x IEEE 754 binary16 stored as uint16.
// The binary wire format (send/recv) is uint16 dim, uint16 unused (0), dim x uint16 half bits,
// network byte order. A halfvec never holds NaN or an infinity.
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

#include "core/distance/half.hpp"

#define PIRAMID_HALFVEC_MAX_DIM 16000

namespace piramid::pg {

using half = piramid::distance::half;

struct HalfVector {
    int32 vl_len_;  // varlena header (do not touch directly)
    int16 dim;      // number of dimensions
    int16 unused;   // reserved, always 0
    half x[FLEXIBLE_ARRAY_MEMBER];
};

inline Size halfvec_size(int dim) {
    return offsetof(HalfVector, x) + sizeof(half) * static_cast<Size>(dim);
}

inline bool half_is_nan(half h) {
    return (h & 0x7c00u) == 0x7c00u && (h & 0x03ffu) != 0;
}
inline bool half_is_inf(half h) {
    return (h & 0x7fffu) == 0x7c00u;
}
inline bool half_is_zero(half h) {
    return (h & 0x7fffu) == 0;
}

// Allocates a zeroed halfvec of `dim` dimensions in CurrentMemoryContext (checks the range).
HalfVector* halfvec_alloc(int dim);

// Raises 22000 "different halfvec dimensions %d and %d" when they differ.
void halfvec_check_same_dims(const HalfVector* a, const HalfVector* b);

// Raises 22000 "halfvec must have at least 1 dimension" when dim < 1 and 54000 "halfvec cannot
// have more than 16000 dimensions" when dim > PIRAMID_HALFVEC_MAX_DIM.
void halfvec_check_dim_range(int64 dim);

// Raises 22000 "NaN not allowed in halfvec" / "infinite value not allowed in halfvec".
void halfvec_check_element(half h);

// float -> half, round to nearest even. A finite value that rounds to infinity (|f| >= 65520)
// raises 22003 "\"%s\" is out of range for type halfvec" (f's shortest decimal); NaN and
// infinities raise halfvec_check_element's errors.
half float_to_half_checked(float f);

}  // namespace piramid::pg

#define PIRAMID_DatumGetHalfVector(d) \
    (reinterpret_cast<piramid::pg::HalfVector*>(PG_DETOAST_DATUM(d)))
#define PIRAMID_GETARG_HALFVEC(n) PIRAMID_DatumGetHalfVector(PG_GETARG_DATUM(n))
