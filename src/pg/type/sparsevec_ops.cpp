// Operators and functions on `sparsevec`: distances, norms, l2_normalize and comparisons
// (btree). Distances are merges over the two ascending index lists that add their terms in
// ascending index order and accumulate in float, as pgvector does, so the float results are the
// same as pgvector's (which also returns them as double precision).
#include "pg/type/sparsevec.hpp"

#include "pg/guard.hpp"

extern "C" {
#include "utils/float.h"
}

#include <cmath>

#include "core/distance/lanes.hpp"

namespace {

using piramid::pg::guard;
using piramid::pg::SparseVec;
using piramid::pg::sparsevec_alloc;
using piramid::pg::sparsevec_values;

void check_same_dims(const SparseVec* a, const SparseVec* b) {
    if (a->dim != b->dim) {
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("different sparsevec dimensions %d and %d", a->dim, b->dim)));
    }
}

namespace distance = piramid::distance;

distance::SparseRef ref(const SparseVec* v) {
    return distance::SparseRef{static_cast<uint32_t>(v->nnz), v->indices, sparsevec_values(v)};
}

// The core's sums (core/distance/lanes.hpp): the hnsw sparsevec opclasses use the same ones.
float l2_squared(const SparseVec* a, const SparseVec* b) {
    return distance::sparse_l2sq(ref(a), ref(b));
}
float dot(const SparseVec* a, const SparseVec* b) {
    return distance::sparse_dot(ref(a), ref(b));
}
float l1(const SparseVec* a, const SparseVec* b) {
    return distance::sparse_l1(ref(a), ref(b));
}

// Squared norm accumulated in float (cosine distance, as pgvector).
float squared_norm_f(const SparseVec* v) {
    const float* x = sparsevec_values(v);
    float s = 0.0f;
    for (int i = 0; i < v->nnz; ++i) s += x[i] * x[i];
    return s;
}

// Norm accumulated in double (l2_norm, l2_normalize, as pgvector).
double norm_d(const SparseVec* v) {
    const float* x = sparsevec_values(v);
    double s = 0.0;
    for (int i = 0; i < v->nnz; ++i) s += static_cast<double>(x[i]) * static_cast<double>(x[i]);
    return std::sqrt(s);
}

// The order of the dense vectors the two represent: element by element (float order) over the
// shared dimensions, then the shorter first, as for vector and Postgres arrays. Stored values
// are never zero, so the first index where the two differ decides by the sign of the value.
int sparsevec_compare(const SparseVec* a, const SparseVec* b) {
    const float* ax = sparsevec_values(a);
    const float* bx = sparsevec_values(b);
    const int n = Min(a->nnz, b->nnz);
    for (int i = 0; i < n; ++i) {
        if (a->indices[i] < b->indices[i]) return ax[i] < 0.0f ? -1 : 1;  // b holds 0 there
        if (a->indices[i] > b->indices[i]) return bx[i] < 0.0f ? 1 : -1;  // a holds 0 there
        if (ax[i] < bx[i]) return -1;
        if (ax[i] > bx[i]) return 1;
    }
    // One of them has no more elements: the other's next one decides if it lies within the
    // shared dimensions.
    if (a->nnz > n && a->indices[n] < b->dim) return ax[n] < 0.0f ? -1 : 1;
    if (b->nnz > n && b->indices[n] < a->dim) return bx[n] < 0.0f ? 1 : -1;
    if (a->dim < b->dim) return -1;
    if (a->dim > b->dim) return 1;
    return 0;
}

}  // namespace

// ---- distances -------------------------------------------------------------------------------

// l2_distance(sparsevec, sparsevec) RETURNS double precision: the operator <->
PIRAMID_FUNCTION(sparsevec_l2_distance) {
    return guard([&]() -> Datum {
        const SparseVec* a = PIRAMID_GETARG_SPARSEVEC(0);
        const SparseVec* b = PIRAMID_GETARG_SPARSEVEC(1);
        check_same_dims(a, b);
        PG_RETURN_FLOAT8(std::sqrt(static_cast<double>(l2_squared(a, b))));
    });
}

// sparsevec_l2_squared_distance(sparsevec, sparsevec) RETURNS double precision
PIRAMID_FUNCTION(sparsevec_l2_squared_distance) {
    return guard([&]() -> Datum {
        const SparseVec* a = PIRAMID_GETARG_SPARSEVEC(0);
        const SparseVec* b = PIRAMID_GETARG_SPARSEVEC(1);
        check_same_dims(a, b);
        PG_RETURN_FLOAT8(static_cast<double>(l2_squared(a, b)));
    });
}

// inner_product(sparsevec, sparsevec) RETURNS double precision
PIRAMID_FUNCTION(sparsevec_inner_product) {
    return guard([&]() -> Datum {
        const SparseVec* a = PIRAMID_GETARG_SPARSEVEC(0);
        const SparseVec* b = PIRAMID_GETARG_SPARSEVEC(1);
        check_same_dims(a, b);
        PG_RETURN_FLOAT8(static_cast<double>(dot(a, b)));
    });
}

// sparsevec_negative_inner_product(sparsevec, sparsevec) RETURNS double precision: the <#>
PIRAMID_FUNCTION(sparsevec_negative_inner_product) {
    return guard([&]() -> Datum {
        const SparseVec* a = PIRAMID_GETARG_SPARSEVEC(0);
        const SparseVec* b = PIRAMID_GETARG_SPARSEVEC(1);
        check_same_dims(a, b);
        PG_RETURN_FLOAT8(static_cast<double>(-dot(a, b)));
    });
}

// cosine_distance(sparsevec, sparsevec) RETURNS double precision: the operator <=>. The dot
// product and the squared norms are float sums; 1 - ab / sqrt(aa * bb) in double, the
// similarity clamped to [-1, 1]. NaN when either vector is zero (or a square overflows).
PIRAMID_FUNCTION(sparsevec_cosine_distance) {
    return guard([&]() -> Datum {
        const SparseVec* a = PIRAMID_GETARG_SPARSEVEC(0);
        const SparseVec* b = PIRAMID_GETARG_SPARSEVEC(1);
        check_same_dims(a, b);
        const double ab = dot(a, b);
        const double aa = squared_norm_f(a);
        const double bb = squared_norm_f(b);
        double similarity = ab / std::sqrt(aa * bb);
        if (std::isnan(similarity)) PG_RETURN_FLOAT8(NAN);
        if (similarity > 1.0) similarity = 1.0;
        if (similarity < -1.0) similarity = -1.0;
        PG_RETURN_FLOAT8(1.0 - similarity);
    });
}

// l1_distance(sparsevec, sparsevec) RETURNS double precision: the operator <+>
PIRAMID_FUNCTION(sparsevec_l1_distance) {
    return guard([&]() -> Datum {
        const SparseVec* a = PIRAMID_GETARG_SPARSEVEC(0);
        const SparseVec* b = PIRAMID_GETARG_SPARSEVEC(1);
        check_same_dims(a, b);
        PG_RETURN_FLOAT8(static_cast<double>(l1(a, b)));
    });
}

// ---- functions -------------------------------------------------------------------------------

// vector_dims(sparsevec) RETURNS integer: the dimension count (not the non-zero count).
PIRAMID_FUNCTION(sparsevec_vector_dims) {
    return guard([&]() -> Datum { PG_RETURN_INT32(PIRAMID_GETARG_SPARSEVEC(0)->dim); });
}

// l2_norm(sparsevec) RETURNS double precision: Euclidean norm, summed in double.
PIRAMID_FUNCTION(sparsevec_l2_norm) {
    return guard([&]() -> Datum { PG_RETURN_FLOAT8(norm_d(PIRAMID_GETARG_SPARSEVEC(0))); });
}

// l2_normalize(sparsevec) RETURNS sparsevec: v / |v|; the zero vector stays zero, and elements
// that become zero in float4 are dropped.
PIRAMID_FUNCTION(sparsevec_l2_normalize) {
    return guard([&]() -> Datum {
        const SparseVec* v = PIRAMID_GETARG_SPARSEVEC(0);
        const float* x = sparsevec_values(v);
        const double n = norm_d(v);
        if (!(n > 0.0)) PG_RETURN_POINTER(sparsevec_alloc(v->dim, 0));
        int nnz = 0;
        for (int i = 0; i < v->nnz; ++i) {
            const auto q = static_cast<float>(x[i] / n);
            if (std::isinf(q)) float_overflow_error();
            nnz += (q != 0.0f);
        }
        SparseVec* r = sparsevec_alloc(v->dim, nnz);
        float* rx = sparsevec_values(r);
        int j = 0;
        for (int i = 0; i < v->nnz; ++i) {
            const auto q = static_cast<float>(x[i] / n);
            if (q == 0.0f) continue;
            r->indices[j] = v->indices[i];
            rx[j] = q;
            ++j;
        }
        PG_RETURN_POINTER(r);
    });
}

// ---- comparison (btree opclass sparsevec_ops) ------------------------------------------------

#define PIRAMID_SPARSEVEC_CMP_FUNCTION(name, expr)      \
    PIRAMID_FUNCTION(name) {                            \
        return guard([&]() -> Datum {                   \
            SparseVec* a = PIRAMID_GETARG_SPARSEVEC(0); \
            SparseVec* b = PIRAMID_GETARG_SPARSEVEC(1); \
            const int c = sparsevec_compare(a, b);      \
            PG_FREE_IF_COPY(a, 0);                      \
            PG_FREE_IF_COPY(b, 1);                      \
            return (expr);                              \
        });                                             \
    }

PIRAMID_SPARSEVEC_CMP_FUNCTION(sparsevec_lt, BoolGetDatum(c < 0))
PIRAMID_SPARSEVEC_CMP_FUNCTION(sparsevec_le, BoolGetDatum(c <= 0))
PIRAMID_SPARSEVEC_CMP_FUNCTION(sparsevec_eq, BoolGetDatum(c == 0))
PIRAMID_SPARSEVEC_CMP_FUNCTION(sparsevec_ne, BoolGetDatum(c != 0))
PIRAMID_SPARSEVEC_CMP_FUNCTION(sparsevec_ge, BoolGetDatum(c >= 0))
PIRAMID_SPARSEVEC_CMP_FUNCTION(sparsevec_gt, BoolGetDatum(c > 0))
PIRAMID_SPARSEVEC_CMP_FUNCTION(sparsevec_cmp, Int32GetDatum(c))
