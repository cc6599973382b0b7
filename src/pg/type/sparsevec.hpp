// The on-disk/in-memory representation of the SQL type `sparsevec` (a varlena), laid out as
// pgvector's: int32 varlena header, int32 dim, int32 nnz, int32 unused (0), int32 indices[nnz]
// (0-based, strictly ascending), then float values[nnz] (finite, never zero). The text form is
// 1-based: '{1:1.5,3:3.5}/5'. The binary wire format (send/recv) is int32 dim, int32 nnz,
// int32 unused, nnz x int32 index (0-based), nnz x float4 value, all in network byte order.
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

#define PIRAMID_SPARSEVEC_MAX_DIM 1000000000
#define PIRAMID_SPARSEVEC_MAX_NNZ 16000

namespace piramid::pg {

struct SparseVec {
    int32 vl_len_;  // varlena header (do not touch directly)
    int32 dim;      // number of dimensions
    int32 nnz;      // number of stored (non-zero) elements
    int32 unused;   // reserved, always 0
    int32 indices[FLEXIBLE_ARRAY_MEMBER];
};

inline Size sparsevec_size(int nnz) {
    return offsetof(SparseVec, indices) + (sizeof(int32) + sizeof(float)) * static_cast<Size>(nnz);
}

// The values follow the nnz indices.
inline float* sparsevec_values(SparseVec* v) {
    return reinterpret_cast<float*>(v->indices + v->nnz);
}
inline const float* sparsevec_values(const SparseVec* v) {
    return reinterpret_cast<const float*>(v->indices + v->nnz);
}

// Allocates a zeroed sparse vector in CurrentMemoryContext (palloc: may ereport). The caller
// has checked dim and nnz.
SparseVec* sparsevec_alloc(int dim, int nnz);

// Detoasts a sparsevec argument and checks that its header is consistent with its size (dim in
// range, 0 <= nnz <= min(dim, 16000), size matching nnz): a damaged datum gets an ERROR
// (XX001), never a read past its end.
SparseVec* sparsevec_from_datum(Datum d);

// Raises 22000 "sparsevec must have at least 1 dimension" when dim < 1 and 54000 "sparsevec
// cannot have more than 1000000000 dimensions" when dim is above the limit.
void sparsevec_check_dim(int64 dim);

// Raises pgvector's errors for a bad element count: 22000 when negative, 54000 when above
// 16000 or above dim.
void sparsevec_check_nnz(int64 nnz, int64 dim);

// Raises 22000 "expected %d dimensions, not %d" when typmod != -1 and differs from dim.
void sparsevec_check_typmod(int dim, int32 typmod);

// Raises 22000 when v is NaN or infinite ("... not allowed in sparsevec").
void sparsevec_check_element(float v);

}  // namespace piramid::pg

#define PIRAMID_GETARG_SPARSEVEC(n) piramid::pg::sparsevec_from_datum(PG_GETARG_DATUM(n))
