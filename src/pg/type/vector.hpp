// The on-disk/in-memory representation of the SQL type `vector` (a varlena). The binary wire
// format (send/recv) is separate: uint16 dim, uint16 unused (0), dim x float4, network order.
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/array.h"
}

#define PIRAMID_VECTOR_MAX_DIM 16000

namespace piramid::pg {

struct Vector {
    int32 vl_len_;  // varlena header (do not touch directly)
    int16 dim;      // number of dimensions
    int16 unused;   // reserved, always 0
    float x[FLEXIBLE_ARRAY_MEMBER];
};

inline Size vector_size(int dim) {
    return offsetof(Vector, x) + sizeof(float) * static_cast<Size>(dim);
}

// Allocates a zeroed vector of `dim` dimensions in CurrentMemoryContext (palloc: may ereport).
Vector* vector_alloc(int dim);

// Raises 22000 "different vector dimensions %d and %d" when they differ.
void check_same_dims(const Vector* a, const Vector* b);

// Raises 22000 "expected %d dimensions, not %d" when typmod != -1 and differs from dim.
void check_typmod_dims(int dim, int32 typmod);

// Raises 22000 "vector must have at least 1 dimension" when dim < 1 and 54000 "vector cannot
// have more than 16000 dimensions" when dim > PIRAMID_VECTOR_MAX_DIM.
void check_dim_range(int64 dim);

// The typmod_in of vector, halfvec and sparsevec: one modifier, the dimensions, 1..max_dims;
// pgvector's messages (22023) naming the type.
int32 dims_typmod_in(ArrayType* mods, const char* type_name, int32 max_dims);

// Raises 22000 when v is NaN or infinite (a vector never holds either).
void check_element(float v);

// The casts from integer[], real[], double precision[] and numeric[] to vector, halfvec and
// sparsevec share these steps; each type runs them in pgvector's order for that type.
// Raises 22000 "array must be 1-D" and 22004 "array must not contain nulls".
void check_array_shape(ArrayType* a);
// Whether the element type is one of int4, float4, float8, numeric.
bool array_elem_supported(Oid elemtype);
// The elements of a (of a supported type); *count gets their number.
Datum* array_elements(ArrayType* a, int* count);
// One element as float4: int4 and float8 rounded (float8 beyond float4's range: infinite),
// numeric through numeric_float4 (its range errors).
float array_elem_to_float(Oid elemtype, Datum d);

}  // namespace piramid::pg

#define PIRAMID_DatumGetVector(d) (reinterpret_cast<piramid::pg::Vector*>(PG_DETOAST_DATUM(d)))
#define PIRAMID_GETARG_VECTOR(n) PIRAMID_DatumGetVector(PG_GETARG_DATUM(n))
#define PIRAMID_RETURN_VECTOR(v) PG_RETURN_POINTER(v)
