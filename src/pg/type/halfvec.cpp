// The `halfvec` type: text and binary I/O, typmod, the length-coercion cast and the casts to and
// from vector and arrays. As in vector.cpp, everything here is plain C-style code over palloc'd
// memory: errors are raised with ereport directly, and no C++ object with a destructor is alive
// while that can happen.
//
// Text input reads each element as a float4 (one correctly rounded step from the decimal text),
// then rounds that float to the nearest half (ties to even): the same two steps as pgvector, so
// both give the same halves for the same literal. Output prints each half's value as the
// shortest decimal that reads back as the same float4 (pgvector prints halves that way too).
#include "pg/type/halfvec.hpp"

#include "pg/guard.hpp"
#include "pg/type/vector.hpp"
#include "pg/type/vector_text.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

#include <cmath>
#include <cstdlib>

namespace piramid::pg {

HalfVector* halfvec_alloc(int dim) {
    halfvec_check_dim_range(dim);
    const Size size = halfvec_size(dim);
    auto* v = static_cast<HalfVector*>(palloc0(size));
    SET_VARSIZE(v, size);
    v->dim = static_cast<int16>(dim);
    v->unused = 0;
    return v;
}

void halfvec_check_same_dims(const HalfVector* a, const HalfVector* b) {
    if (a->dim != b->dim) {
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("different halfvec dimensions %d and %d", a->dim, b->dim)));
    }
}

void halfvec_check_dim_range(int64 dim) {
    if (dim < 1) {
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("halfvec must have at least 1 dimension")));
    }
    if (dim > PIRAMID_HALFVEC_MAX_DIM) {
        ereport(ERROR,
                (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                 errmsg("halfvec cannot have more than %d dimensions", PIRAMID_HALFVEC_MAX_DIM)));
    }
}

void halfvec_check_element(half h) {
    if (half_is_nan(h)) {
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("NaN not allowed in halfvec")));
    }
    if (half_is_inf(h)) {
        ereport(ERROR,
                (errcode(ERRCODE_DATA_EXCEPTION), errmsg("infinite value not allowed in halfvec")));
    }
}

namespace {

[[noreturn]] void half_out_of_range(float f) {
    char text[FLOAT_SHORTEST_DECIMAL_LEN];
    float_to_shortest_decimal_buf(f, text);
    ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                    errmsg("\"%s\" is out of range for type halfvec", text)));
    pg_unreachable();
}

}  // namespace

half float_to_half_checked(float f) {
    const half h = piramid::distance::float_to_half(f);
    if (half_is_inf(h) && std::isfinite(f)) half_out_of_range(f);
    halfvec_check_element(h);
    return h;
}

}  // namespace piramid::pg

namespace {

using piramid::pg::float_to_half_checked;
using piramid::pg::guard;
using piramid::pg::half;
using piramid::pg::half_is_inf;
using piramid::pg::halfvec_alloc;
using piramid::pg::halfvec_check_dim_range;
using piramid::pg::halfvec_check_element;
using piramid::pg::HalfVector;
using piramid::pg::Vector;
namespace dist = piramid::distance;

// Raises 22000 "expected %d dimensions, not %d" when typmod != -1 and differs from dim (the same
// message for every type).
void check_typmod(int dim, int32 typmod) {
    piramid::pg::check_typmod_dims(dim, typmod);
}

void halfvec_nonfinite(bool is_nan) {
    halfvec_check_element(is_nan ? 0x7e00u : 0x7c00u);
}

// 65520 and beyond round to the half infinity (65504 is the largest half; ties go to even).
constexpr piramid::pg::VectorTextType kHalfvecText{
    "halfvec", PIRAMID_HALFVEC_MAX_DIM, halfvec_check_dim_range, halfvec_nonfinite, 65520.0f};

// The text form as floats (each a correctly rounded float4 of its decimal, so within the half
// range), then rounded to the nearest even half: the same two steps as pgvector's.
HalfVector* parse_halfvec(const char* lit) {
    const int capacity = piramid::pg::vector_text_capacity(lit, kHalfvecText);
    float* f = static_cast<float*>(palloc(sizeof(float) * static_cast<Size>(capacity)));
    const int dim = piramid::pg::parse_vector_text(lit, kHalfvecText, f);
    auto* v = static_cast<HalfVector*>(palloc0(piramid::pg::halfvec_size(capacity)));
    dist::half_best().from_float(f, v->x, static_cast<size_t>(dim));
    pfree(f);
    SET_VARSIZE(v, piramid::pg::halfvec_size(dim));
    v->dim = static_cast<int16>(dim);
    v->unused = 0;
    return v;
}

char* format_halfvec(const HalfVector* v) {
    // Each element takes at most FLOAT_SHORTEST_DECIMAL_LEN - 1 characters plus a separator.
    char* buf =
        static_cast<char*>(palloc(3 + static_cast<Size>(v->dim) * FLOAT_SHORTEST_DECIMAL_LEN));
    char* out = buf;
    *out++ = '[';
    for (int i = 0; i < v->dim; ++i) {
        if (i > 0) *out++ = ',';
        out += float_to_shortest_decimal_bufn(dist::half_to_float(v->x[i]), out);
    }
    *out++ = ']';
    *out = '\0';
    return buf;
}

}  // namespace

// halfvec_in(cstring, oid, integer) RETURNS halfvec
PIRAMID_FUNCTION(halfvec_in) {
    const char* lit = PG_GETARG_CSTRING(0);
    const int32 typmod = PG_GETARG_INT32(2);
    return guard([&]() -> Datum {
        HalfVector* v = parse_halfvec(lit);
        check_typmod(v->dim, typmod);
        PG_RETURN_POINTER(v);
    });
}

// halfvec_out(halfvec) RETURNS cstring
PIRAMID_FUNCTION(halfvec_out) {
    return guard([&]() -> Datum {
        const HalfVector* v = PIRAMID_GETARG_HALFVEC(0);
        PG_RETURN_CSTRING(format_halfvec(v));
    });
}

// halfvec_typmod_in(cstring[]) RETURNS integer: the typmod is the dimension count itself.
PIRAMID_FUNCTION(halfvec_typmod_in) {
    return guard([&]() -> Datum {
        PG_RETURN_INT32(piramid::pg::dims_typmod_in(PG_GETARG_ARRAYTYPE_P(0), "halfvec",
                                                    PIRAMID_HALFVEC_MAX_DIM));
    });
}

// halfvec_typmod_out(integer) RETURNS cstring: "(n)", or "" for no typmod.
PIRAMID_FUNCTION(halfvec_typmod_out) {
    const int32 typmod = PG_GETARG_INT32(0);
    return guard([&]() -> Datum {
        PG_RETURN_CSTRING(typmod >= 0 ? psprintf("(%d)", typmod) : pstrdup(""));
    });
}

// halfvec_recv(internal, oid, integer) RETURNS halfvec. Wire format: int16 dim, int16 unused
// (must be 0), dim x uint16 half bits, network byte order. Checks in pgvector's order: the
// dimension count, the typmod, the unused field, then each element (NaN and infinities are
// refused). A short message is 08P01 "insufficient data left in message" (pq_getmsgint's); bytes
// left over after the last element are refused by the caller (COPY, Bind) with 22P03.
PIRAMID_FUNCTION(halfvec_recv) {
    StringInfo buf = reinterpret_cast<StringInfo>(PG_GETARG_POINTER(0));
    const int32 typmod = PG_GETARG_INT32(2);
    return guard([&]() -> Datum {
        const int dim = static_cast<int16>(pq_getmsgint(buf, sizeof(int16)));
        const int unused = static_cast<int16>(pq_getmsgint(buf, sizeof(int16)));
        halfvec_check_dim_range(dim);
        check_typmod(dim, typmod);
        if (unused != 0) {
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                            errmsg("expected unused to be 0, not %d", unused)));
        }
        HalfVector* v = halfvec_alloc(dim);
        for (int i = 0; i < dim; ++i) {
            v->x[i] = static_cast<half>(pq_getmsgint(buf, sizeof(uint16)));
            halfvec_check_element(v->x[i]);
        }
        PG_RETURN_POINTER(v);
    });
}

// halfvec_send(halfvec) RETURNS bytea
PIRAMID_FUNCTION(halfvec_send) {
    return guard([&]() -> Datum {
        const HalfVector* v = PIRAMID_GETARG_HALFVEC(0);
        StringInfoData buf;
        pq_begintypsend(&buf);
        pq_sendint16(&buf, static_cast<uint16>(v->dim));
        pq_sendint16(&buf, static_cast<uint16>(v->unused));
        for (int i = 0; i < v->dim; ++i) pq_sendint16(&buf, v->x[i]);
        PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
    });
}

// halfvec(halfvec, integer, boolean) RETURNS halfvec: the length-coercion cast that enforces
// halfvec(n).
PIRAMID_FUNCTION(halfvec) {
    return guard([&]() -> Datum {
        HalfVector* v = PIRAMID_GETARG_HALFVEC(0);
        check_typmod(v->dim, PG_GETARG_INT32(1));
        PG_RETURN_POINTER(v);
    });
}

// halfvec_to_vector(halfvec, integer, boolean) RETURNS vector: exact (every half is a float).
PIRAMID_FUNCTION(halfvec_to_vector) {
    return guard([&]() -> Datum {
        const HalfVector* h = PIRAMID_GETARG_HALFVEC(0);
        check_typmod(h->dim, PG_GETARG_INT32(1));
        Vector* v = piramid::pg::vector_alloc(h->dim);
        dist::half_best().to_float(h->x, v->x, static_cast<size_t>(h->dim));
        PG_RETURN_POINTER(v);
    });
}

// vector_to_halfvec(vector, integer, boolean) RETURNS halfvec: each float rounded to the nearest
// half (ties to even); a value beyond the half range is 22003.
PIRAMID_FUNCTION(vector_to_halfvec) {
    return guard([&]() -> Datum {
        const Vector* v = PIRAMID_GETARG_VECTOR(0);
        halfvec_check_dim_range(v->dim);
        check_typmod(v->dim, PG_GETARG_INT32(1));
        HalfVector* h = halfvec_alloc(v->dim);
        dist::half_best().from_float(v->x, h->x, static_cast<size_t>(v->dim));
        for (int i = 0; i < v->dim; ++i) {
            if (half_is_inf(h->x[i])) float_to_half_checked(v->x[i]);  // raises the error
        }
        PG_RETURN_POINTER(h);
    });
}

// array_to_halfvec(integer[] | real[] | double precision[] | numeric[], integer, boolean)
// RETURNS halfvec. pgvector's steps and order: shape, nulls, dimensions, typmod; then each
// element to float4 (a double rounded, beyond float4's range an infinity; a numeric by numeric's
// own cast to real, with its errors) and to half (a finite float beyond the half range is 22003
// "70000" is out of range for type halfvec, with the float's shortest text); NaN and infinities
// are refused once every element is converted.
PIRAMID_FUNCTION(array_to_halfvec) {
    return guard([&]() -> Datum {
        ArrayType* a = PG_GETARG_ARRAYTYPE_P(0);
        const int32 typmod = PG_GETARG_INT32(1);
        // pgvector's order for halfvec: shape, nulls, element type, dimensions, typmod.
        piramid::pg::check_array_shape(a);
        const Oid elemtype = ARR_ELEMTYPE(a);
        if (!piramid::pg::array_elem_supported(elemtype))
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("unsupported array type")));
        const int n = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
        halfvec_check_dim_range(n);
        check_typmod(n, typmod);
        int count = 0;
        Datum* elems = piramid::pg::array_elements(a, &count);
        HalfVector* h = halfvec_alloc(count);
        for (int i = 0; i < count; ++i) {
            const float x = piramid::pg::array_elem_to_float(elemtype, elems[i]);
            h->x[i] = dist::float_to_half(x);
            if (half_is_inf(h->x[i]) && std::isfinite(x)) float_to_half_checked(x);  // 22003
        }
        for (int i = 0; i < count; ++i) halfvec_check_element(h->x[i]);
        PG_RETURN_POINTER(h);
    });
}

// halfvec_to_float4(halfvec, integer, boolean) RETURNS real[] (exact widening)
PIRAMID_FUNCTION(halfvec_to_float4) {
    return guard([&]() -> Datum {
        const HalfVector* h = PIRAMID_GETARG_HALFVEC(0);
        Datum* d = static_cast<Datum*>(palloc(sizeof(Datum) * h->dim));
        for (int i = 0; i < h->dim; ++i) d[i] = Float4GetDatum(dist::half_to_float(h->x[i]));
        PG_RETURN_POINTER(
            construct_array(d, h->dim, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT));
    });
}
