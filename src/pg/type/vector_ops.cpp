// Operators and functions on `vector`: distances, arithmetic, comparisons (btree), norms,
// subvector and binary quantization. Distances run on the core kernels (float accumulation) and
// are returned as double precision.
#include "pg/type/vector.hpp"

#include "pg/guard.hpp"

extern "C" {
#include "utils/float.h"
#include "utils/varbit.h"
}

#include <cmath>

#include "core/distance/distance.hpp"

namespace {

using piramid::pg::check_dim_range;
using piramid::pg::check_same_dims;
using piramid::pg::guard;
using piramid::pg::Vector;
using piramid::pg::vector_alloc;
namespace dist = piramid::distance;

size_t dims(const Vector* v) {
    return static_cast<size_t>(v->dim);
}

// Lexicographic order on the shared prefix, then the shorter vector first. -0 equals 0 (float
// comparison); a vector never holds NaN, so this is a total order.
int vector_compare(const Vector* a, const Vector* b) {
    const int n = Min(a->dim, b->dim);
    for (int i = 0; i < n; ++i) {
        if (a->x[i] < b->x[i]) return -1;
        if (a->x[i] > b->x[i]) return 1;
    }
    if (a->dim < b->dim) return -1;
    if (a->dim > b->dim) return 1;
    return 0;
}

double norm(const Vector* v) {
    double s = 0.0;
    for (int i = 0; i < v->dim; ++i) s += static_cast<double>(v->x[i]) * v->x[i];
    return std::sqrt(s);
}

}  // namespace

// ---- distances -------------------------------------------------------------------------------

// l2_distance(vector, vector) RETURNS double precision: the operator <->
PIRAMID_FUNCTION(l2_distance) {
    return guard([&]() -> Datum {
        const Vector* a = PIRAMID_GETARG_VECTOR(0);
        const Vector* b = PIRAMID_GETARG_VECTOR(1);
        check_same_dims(a, b);
        PG_RETURN_FLOAT8(std::sqrt(static_cast<double>(dist::l2sq(a->x, b->x, dims(a)))));
    });
}

// vector_l2_squared_distance(vector, vector) RETURNS double precision (hnsw support function)
PIRAMID_FUNCTION(vector_l2_squared_distance) {
    return guard([&]() -> Datum {
        const Vector* a = PIRAMID_GETARG_VECTOR(0);
        const Vector* b = PIRAMID_GETARG_VECTOR(1);
        check_same_dims(a, b);
        PG_RETURN_FLOAT8(static_cast<double>(dist::l2sq(a->x, b->x, dims(a))));
    });
}

// inner_product(vector, vector) RETURNS double precision
PIRAMID_FUNCTION(inner_product) {
    return guard([&]() -> Datum {
        const Vector* a = PIRAMID_GETARG_VECTOR(0);
        const Vector* b = PIRAMID_GETARG_VECTOR(1);
        check_same_dims(a, b);
        PG_RETURN_FLOAT8(static_cast<double>(dist::dot(a->x, b->x, dims(a))));
    });
}

// vector_negative_inner_product(vector, vector) RETURNS double precision: the operator <#>
PIRAMID_FUNCTION(vector_negative_inner_product) {
    return guard([&]() -> Datum {
        const Vector* a = PIRAMID_GETARG_VECTOR(0);
        const Vector* b = PIRAMID_GETARG_VECTOR(1);
        check_same_dims(a, b);
        PG_RETURN_FLOAT8(-static_cast<double>(dist::dot(a->x, b->x, dims(a))));
    });
}

// cosine_distance(vector, vector) RETURNS double precision: the operator <=>. In [0, 2]; NaN
// when either vector is zero.
PIRAMID_FUNCTION(cosine_distance) {
    return guard([&]() -> Datum {
        const Vector* a = PIRAMID_GETARG_VECTOR(0);
        const Vector* b = PIRAMID_GETARG_VECTOR(1);
        check_same_dims(a, b);
        PG_RETURN_FLOAT8(dist::cosine_distance(a->x, b->x, dims(a)));
    });
}

// l1_distance(vector, vector) RETURNS double precision: the operator <+>
PIRAMID_FUNCTION(l1_distance) {
    return guard([&]() -> Datum {
        const Vector* a = PIRAMID_GETARG_VECTOR(0);
        const Vector* b = PIRAMID_GETARG_VECTOR(1);
        check_same_dims(a, b);
        PG_RETURN_FLOAT8(static_cast<double>(dist::l1(a->x, b->x, dims(a))));
    });
}

// ---- functions -------------------------------------------------------------------------------

// vector_dims(vector) RETURNS integer
PIRAMID_FUNCTION(vector_dims) {
    return guard([&]() -> Datum {
        const Vector* v = PIRAMID_GETARG_VECTOR(0);
        PG_RETURN_INT32(v->dim);
    });
}

// vector_norm(vector) RETURNS double precision (also l2_norm): Euclidean norm, summed in double.
PIRAMID_FUNCTION(vector_norm) {
    return guard([&]() -> Datum { PG_RETURN_FLOAT8(norm(PIRAMID_GETARG_VECTOR(0))); });
}

// l2_normalize(vector) RETURNS vector: v / |v|; the zero vector stays zero.
PIRAMID_FUNCTION(l2_normalize) {
    return guard([&]() -> Datum {
        const Vector* v = PIRAMID_GETARG_VECTOR(0);
        const double n = norm(v);
        Vector* r = vector_alloc(v->dim);
        if (n > 0.0) {
            for (int i = 0; i < v->dim; ++i) r->x[i] = static_cast<float>(v->x[i] / n);
        }
        PG_RETURN_POINTER(r);
    });
}

// subvector(vector, start integer, count integer) RETURNS vector: elements start .. start +
// count - 1 (1-based), clipped to the vector; the result must keep at least one element.
PIRAMID_FUNCTION(subvector) {
    return guard([&]() -> Datum {
        const Vector* v = PIRAMID_GETARG_VECTOR(0);
        // 64-bit arithmetic: start + count cannot overflow whatever the int32 arguments are.
        int64 start = PG_GETARG_INT32(1);
        const int64 count = PG_GETARG_INT32(2);
        if (count < 1) check_dim_range(count);
        int64 end = start + count;  // exclusive
        if (start < 1) start = 1;
        if (end > int64{v->dim} + 1) end = int64{v->dim} + 1;
        const int64 n = end - start;
        check_dim_range(n);
        Vector* r = vector_alloc(static_cast<int>(n));
        memcpy(r->x, v->x + (start - 1), sizeof(float) * static_cast<size_t>(n));
        PG_RETURN_POINTER(r);
    });
}

// binary_quantize(vector) RETURNS bit: one bit per element, 1 where the element is > 0.
PIRAMID_FUNCTION(binary_quantize) {
    return guard([&]() -> Datum {
        const Vector* v = PIRAMID_GETARG_VECTOR(0);
        const Size size = VARBITTOTALLEN(v->dim);
        VarBit* r = static_cast<VarBit*>(palloc0(size));
        SET_VARSIZE(r, size);
        VARBITLEN(r) = v->dim;
        bits8* bits = VARBITS(r);
        for (int i = 0; i < v->dim; ++i) {
            if (v->x[i] > 0.0f) bits[i / 8] |= static_cast<bits8>(0x80u >> (i % 8));
        }
        PG_RETURN_VARBIT_P(r);
    });
}

// ---- arithmetic ------------------------------------------------------------------------------

namespace {

template <typename Op>
Datum elementwise(FunctionCallInfo fcinfo, Op op, bool check_underflow) {
    const Vector* a = PIRAMID_GETARG_VECTOR(0);
    const Vector* b = PIRAMID_GETARG_VECTOR(1);
    check_same_dims(a, b);
    Vector* r = vector_alloc(a->dim);
    for (int i = 0; i < a->dim; ++i) r->x[i] = op(a->x[i], b->x[i]);
    for (int i = 0; i < a->dim; ++i) {
        if (std::isinf(r->x[i])) float_overflow_error();
        if (check_underflow && r->x[i] == 0.0f && a->x[i] != 0.0f && b->x[i] != 0.0f) {
            float_underflow_error();
        }
    }
    PG_RETURN_POINTER(r);
}

}  // namespace

// vector_add(vector, vector) RETURNS vector: the operator +
PIRAMID_FUNCTION(vector_add) {
    return guard([&]() -> Datum {
        return elementwise(
            fcinfo, [](float x, float y) { return x + y; }, false);
    });
}

// vector_sub(vector, vector) RETURNS vector: the operator -
PIRAMID_FUNCTION(vector_sub) {
    return guard([&]() -> Datum {
        return elementwise(
            fcinfo, [](float x, float y) { return x - y; }, false);
    });
}

// vector_mul(vector, vector) RETURNS vector: the operator * (element-wise), with real's overflow
// and underflow errors.
PIRAMID_FUNCTION(vector_mul) {
    return guard([&]() -> Datum {
        return elementwise(
            fcinfo, [](float x, float y) { return x * y; }, true);
    });
}

// vector_concat(vector, vector) RETURNS vector: the operator ||
PIRAMID_FUNCTION(vector_concat) {
    return guard([&]() -> Datum {
        const Vector* a = PIRAMID_GETARG_VECTOR(0);
        const Vector* b = PIRAMID_GETARG_VECTOR(1);
        check_dim_range(int64{a->dim} + b->dim);
        Vector* r = vector_alloc(a->dim + b->dim);
        memcpy(r->x, a->x, sizeof(float) * dims(a));
        memcpy(r->x + a->dim, b->x, sizeof(float) * dims(b));
        PG_RETURN_POINTER(r);
    });
}

// ---- comparison (btree opclass vector_ops) ---------------------------------------------------

#define PIRAMID_VECTOR_CMP_FUNCTION(name, expr)   \
    PIRAMID_FUNCTION(name) {                      \
        return guard([&]() -> Datum {             \
            Vector* a = PIRAMID_GETARG_VECTOR(0); \
            Vector* b = PIRAMID_GETARG_VECTOR(1); \
            const int c = vector_compare(a, b);   \
            PG_FREE_IF_COPY(a, 0);                \
            PG_FREE_IF_COPY(b, 1);                \
            return (expr);                        \
        });                                       \
    }

PIRAMID_VECTOR_CMP_FUNCTION(vector_lt, BoolGetDatum(c < 0))
PIRAMID_VECTOR_CMP_FUNCTION(vector_le, BoolGetDatum(c <= 0))
PIRAMID_VECTOR_CMP_FUNCTION(vector_eq, BoolGetDatum(c == 0))
PIRAMID_VECTOR_CMP_FUNCTION(vector_ne, BoolGetDatum(c != 0))
PIRAMID_VECTOR_CMP_FUNCTION(vector_ge, BoolGetDatum(c >= 0))
PIRAMID_VECTOR_CMP_FUNCTION(vector_gt, BoolGetDatum(c > 0))
PIRAMID_VECTOR_CMP_FUNCTION(vector_cmp, Int32GetDatum(c))
