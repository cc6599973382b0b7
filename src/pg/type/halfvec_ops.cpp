// Operators and functions on `halfvec`: distances, arithmetic, comparisons (btree), norms,
// subvector and binary quantization. Distances run on the core half kernels (each half widened
// to float, float accumulation, as pgvector) and are returned as double precision. Arithmetic
// computes each element in float and rounds the result to the nearest half; a result beyond the
// half range is real's overflow error, as in pgvector.
#include "pg/type/halfvec.hpp"

#include "pg/guard.hpp"

extern "C" {
#include "utils/float.h"
#include "utils/varbit.h"
}

#include <cmath>

namespace {

using piramid::pg::guard;
using piramid::pg::half;
using piramid::pg::half_is_inf;
using piramid::pg::half_is_zero;
using piramid::pg::halfvec_alloc;
using piramid::pg::halfvec_check_dim_range;
using piramid::pg::halfvec_check_same_dims;
using piramid::pg::HalfVector;
namespace dist = piramid::distance;

size_t dims(const HalfVector* v) {
    return static_cast<size_t>(v->dim);
}

float to_f(half h) {
    return dist::half_to_float(h);
}

// Lexicographic order on the shared prefix (by value: -0 equals 0), then the shorter vector
// first. A halfvec never holds NaN, so this is a total order.
int halfvec_compare(const HalfVector* a, const HalfVector* b) {
    const int n = Min(a->dim, b->dim);
    for (int i = 0; i < n; ++i) {
        const float x = to_f(a->x[i]);
        const float y = to_f(b->x[i]);
        if (x < y) return -1;
        if (x > y) return 1;
    }
    if (a->dim < b->dim) return -1;
    if (a->dim > b->dim) return 1;
    return 0;
}

// Euclidean norm, summed in double (as pgvector's l2_norm for halfvec).
double norm(const HalfVector* v) {
    double s = 0.0;
    for (int i = 0; i < v->dim; ++i) {
        const double x = to_f(v->x[i]);
        s += x * x;
    }
    return std::sqrt(s);
}

}  // namespace

// ---- distances -------------------------------------------------------------------------------

// l2_distance(halfvec, halfvec) RETURNS double precision: the operator <->
PIRAMID_FUNCTION(halfvec_l2_distance) {
    return guard([&]() -> Datum {
        const HalfVector* a = PIRAMID_GETARG_HALFVEC(0);
        const HalfVector* b = PIRAMID_GETARG_HALFVEC(1);
        halfvec_check_same_dims(a, b);
        const float d = dist::half_best().l2sq(a->x, b->x, dims(a));
        PG_RETURN_FLOAT8(std::sqrt(static_cast<double>(d)));
    });
}

// halfvec_l2_squared_distance(halfvec, halfvec) RETURNS double precision
PIRAMID_FUNCTION(halfvec_l2_squared_distance) {
    return guard([&]() -> Datum {
        const HalfVector* a = PIRAMID_GETARG_HALFVEC(0);
        const HalfVector* b = PIRAMID_GETARG_HALFVEC(1);
        halfvec_check_same_dims(a, b);
        PG_RETURN_FLOAT8(static_cast<double>(dist::half_best().l2sq(a->x, b->x, dims(a))));
    });
}

// inner_product(halfvec, halfvec) RETURNS double precision
PIRAMID_FUNCTION(halfvec_inner_product) {
    return guard([&]() -> Datum {
        const HalfVector* a = PIRAMID_GETARG_HALFVEC(0);
        const HalfVector* b = PIRAMID_GETARG_HALFVEC(1);
        halfvec_check_same_dims(a, b);
        PG_RETURN_FLOAT8(static_cast<double>(dist::half_best().dot(a->x, b->x, dims(a))));
    });
}

// halfvec_negative_inner_product(halfvec, halfvec) RETURNS double precision: the operator <#>
PIRAMID_FUNCTION(halfvec_negative_inner_product) {
    return guard([&]() -> Datum {
        const HalfVector* a = PIRAMID_GETARG_HALFVEC(0);
        const HalfVector* b = PIRAMID_GETARG_HALFVEC(1);
        halfvec_check_same_dims(a, b);
        PG_RETURN_FLOAT8(-static_cast<double>(dist::half_best().dot(a->x, b->x, dims(a))));
    });
}

// cosine_distance(halfvec, halfvec) RETURNS double precision: the operator <=>. 1 - a.b /
// sqrt(|a|^2 |b|^2) with the similarity clamped to [-1, 1]; NaN when either vector is zero.
PIRAMID_FUNCTION(halfvec_cosine_distance) {
    return guard([&]() -> Datum {
        const HalfVector* a = PIRAMID_GETARG_HALFVEC(0);
        const HalfVector* b = PIRAMID_GETARG_HALFVEC(1);
        halfvec_check_same_dims(a, b);
        float ab = 0.0f, aa = 0.0f, bb = 0.0f;
        dist::half_best().dot_norms(a->x, b->x, dims(a), &ab, &aa, &bb);
        double similarity =
            static_cast<double>(ab) / std::sqrt(static_cast<double>(aa) * static_cast<double>(bb));
        if (similarity > 1.0) similarity = 1.0;
        if (similarity < -1.0) similarity = -1.0;
        PG_RETURN_FLOAT8(1.0 - similarity);
    });
}

// halfvec_spherical_distance(halfvec, halfvec) RETURNS double precision: acos(a.b) / pi for unit
// vectors (the inner product clamped to [-1, 1]); ivfflat's spherical k-means distance.
PIRAMID_FUNCTION(halfvec_spherical_distance) {
    return guard([&]() -> Datum {
        const HalfVector* a = PIRAMID_GETARG_HALFVEC(0);
        const HalfVector* b = PIRAMID_GETARG_HALFVEC(1);
        halfvec_check_same_dims(a, b);
        double d = static_cast<double>(dist::half_best().dot(a->x, b->x, dims(a)));
        if (d > 1.0) d = 1.0;
        if (d < -1.0) d = -1.0;
        PG_RETURN_FLOAT8(std::acos(d) / M_PI);
    });
}

// l1_distance(halfvec, halfvec) RETURNS double precision: the operator <+>
PIRAMID_FUNCTION(halfvec_l1_distance) {
    return guard([&]() -> Datum {
        const HalfVector* a = PIRAMID_GETARG_HALFVEC(0);
        const HalfVector* b = PIRAMID_GETARG_HALFVEC(1);
        halfvec_check_same_dims(a, b);
        PG_RETURN_FLOAT8(static_cast<double>(dist::half_best().l1(a->x, b->x, dims(a))));
    });
}

// ---- functions -------------------------------------------------------------------------------

// vector_dims(halfvec) RETURNS integer
PIRAMID_FUNCTION(halfvec_vector_dims) {
    return guard([&]() -> Datum {
        const HalfVector* v = PIRAMID_GETARG_HALFVEC(0);
        PG_RETURN_INT32(v->dim);
    });
}

// l2_norm(halfvec) RETURNS double precision
PIRAMID_FUNCTION(halfvec_l2_norm) {
    return guard([&]() -> Datum { PG_RETURN_FLOAT8(norm(PIRAMID_GETARG_HALFVEC(0))); });
}

// l2_normalize(halfvec) RETURNS halfvec: each element x / |x| (computed in double, rounded to
// float, then to half); the zero vector stays zero.
PIRAMID_FUNCTION(halfvec_l2_normalize) {
    return guard([&]() -> Datum {
        const HalfVector* v = PIRAMID_GETARG_HALFVEC(0);
        const double n = norm(v);
        HalfVector* r = halfvec_alloc(v->dim);
        if (n > 0.0) {
            for (int i = 0; i < v->dim; ++i) {
                r->x[i] = dist::float_to_half(static_cast<float>(to_f(v->x[i]) / n));
            }
            for (int i = 0; i < v->dim; ++i) {
                if (half_is_inf(r->x[i])) float_overflow_error();
            }
        }
        PG_RETURN_POINTER(r);
    });
}

// subvector(halfvec, start integer, count integer) RETURNS halfvec: elements start .. start +
// count - 1 (1-based), clipped to the vector; the result must keep at least one element.
PIRAMID_FUNCTION(halfvec_subvector) {
    return guard([&]() -> Datum {
        const HalfVector* v = PIRAMID_GETARG_HALFVEC(0);
        // 64-bit arithmetic: start + count cannot overflow whatever the int32 arguments are.
        int64 start = PG_GETARG_INT32(1);
        const int64 count = PG_GETARG_INT32(2);
        if (count < 1) halfvec_check_dim_range(count);
        int64 end = start + count;  // exclusive
        if (start < 1) start = 1;
        if (end > int64{v->dim} + 1) end = int64{v->dim} + 1;
        const int64 n = end - start;
        halfvec_check_dim_range(n);
        HalfVector* r = halfvec_alloc(static_cast<int>(n));
        memcpy(r->x, v->x + (start - 1), sizeof(half) * static_cast<size_t>(n));
        PG_RETURN_POINTER(r);
    });
}

// binary_quantize(halfvec) RETURNS bit: one bit per element, 1 where the element is > 0.
PIRAMID_FUNCTION(halfvec_binary_quantize) {
    return guard([&]() -> Datum {
        const HalfVector* v = PIRAMID_GETARG_HALFVEC(0);
        const Size size = VARBITTOTALLEN(v->dim);
        VarBit* r = static_cast<VarBit*>(palloc0(size));
        SET_VARSIZE(r, size);
        VARBITLEN(r) = v->dim;
        bits8* bits = VARBITS(r);
        for (int i = 0; i < v->dim; ++i) {
            if (to_f(v->x[i]) > 0.0f) bits[i / 8] |= static_cast<bits8>(0x80u >> (i % 8));
        }
        PG_RETURN_VARBIT_P(r);
    });
}

// ---- arithmetic ------------------------------------------------------------------------------

namespace {

// Element-wise a op b: computed in float (a product of two halves is exact there), then rounded
// to the nearest half, as pgvector does. Infinity is real's overflow error; with
// check_underflow, a zero product of two non-zero elements is real's underflow error.
template <typename Op>
Datum elementwise(FunctionCallInfo fcinfo, Op op, bool check_underflow) {
    const HalfVector* a = PIRAMID_GETARG_HALFVEC(0);
    const HalfVector* b = PIRAMID_GETARG_HALFVEC(1);
    halfvec_check_same_dims(a, b);
    HalfVector* r = halfvec_alloc(a->dim);
    for (int i = 0; i < a->dim; ++i) {
        r->x[i] = dist::float_to_half(op(to_f(a->x[i]), to_f(b->x[i])));
    }
    for (int i = 0; i < a->dim; ++i) {
        if (half_is_inf(r->x[i])) float_overflow_error();
        if (check_underflow && half_is_zero(r->x[i]) && !half_is_zero(a->x[i]) &&
            !half_is_zero(b->x[i])) {
            float_underflow_error();
        }
    }
    PG_RETURN_POINTER(r);
}

}  // namespace

// halfvec_add(halfvec, halfvec) RETURNS halfvec: the operator +
PIRAMID_FUNCTION(halfvec_add) {
    return guard([&]() -> Datum {
        return elementwise(
            fcinfo, [](float x, float y) { return x + y; }, false);
    });
}

// halfvec_sub(halfvec, halfvec) RETURNS halfvec: the operator -
PIRAMID_FUNCTION(halfvec_sub) {
    return guard([&]() -> Datum {
        return elementwise(
            fcinfo, [](float x, float y) { return x - y; }, false);
    });
}

// halfvec_mul(halfvec, halfvec) RETURNS halfvec: the operator * (element-wise)
PIRAMID_FUNCTION(halfvec_mul) {
    return guard([&]() -> Datum {
        return elementwise(
            fcinfo, [](float x, float y) { return x * y; }, true);
    });
}

// halfvec_concat(halfvec, halfvec) RETURNS halfvec: the operator ||
PIRAMID_FUNCTION(halfvec_concat) {
    return guard([&]() -> Datum {
        const HalfVector* a = PIRAMID_GETARG_HALFVEC(0);
        const HalfVector* b = PIRAMID_GETARG_HALFVEC(1);
        halfvec_check_dim_range(int64{a->dim} + b->dim);
        HalfVector* r = halfvec_alloc(a->dim + b->dim);
        memcpy(r->x, a->x, sizeof(half) * dims(a));
        memcpy(r->x + a->dim, b->x, sizeof(half) * dims(b));
        PG_RETURN_POINTER(r);
    });
}

// ---- comparison (btree opclass halfvec_ops) --------------------------------------------------

#define PIRAMID_HALFVEC_CMP_FUNCTION(name, expr)       \
    PIRAMID_FUNCTION(name) {                           \
        return guard([&]() -> Datum {                  \
            HalfVector* a = PIRAMID_GETARG_HALFVEC(0); \
            HalfVector* b = PIRAMID_GETARG_HALFVEC(1); \
            const int c = halfvec_compare(a, b);       \
            PG_FREE_IF_COPY(a, 0);                     \
            PG_FREE_IF_COPY(b, 1);                     \
            return (expr);                             \
        });                                            \
    }

PIRAMID_HALFVEC_CMP_FUNCTION(halfvec_lt, BoolGetDatum(c < 0))
PIRAMID_HALFVEC_CMP_FUNCTION(halfvec_le, BoolGetDatum(c <= 0))
PIRAMID_HALFVEC_CMP_FUNCTION(halfvec_eq, BoolGetDatum(c == 0))
PIRAMID_HALFVEC_CMP_FUNCTION(halfvec_ne, BoolGetDatum(c != 0))
PIRAMID_HALFVEC_CMP_FUNCTION(halfvec_ge, BoolGetDatum(c >= 0))
PIRAMID_HALFVEC_CMP_FUNCTION(halfvec_gt, BoolGetDatum(c > 0))
PIRAMID_HALFVEC_CMP_FUNCTION(halfvec_cmp, Int32GetDatum(c))
