// The `vector` type: text and binary I/O, typmod, the length-coercion cast and the casts to and
// from arrays. Everything here is plain C-style code over palloc'd memory: errors are raised with
// ereport directly, and no C++ object with a destructor is ever alive while that can happen.
#include "pg/type/vector.hpp"

#include "pg/guard.hpp"
#include "pg/type/vector_text.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

#include <cfloat>
#include <cmath>
#include <cstdlib>

namespace piramid::pg {

Vector* vector_alloc(int dim) {
    check_dim_range(dim);
    const Size size = vector_size(dim);
    auto* v = static_cast<Vector*>(palloc0(size));
    SET_VARSIZE(v, size);
    v->dim = static_cast<int16>(dim);
    v->unused = 0;
    return v;
}

void check_same_dims(const Vector* a, const Vector* b) {
    if (a->dim != b->dim) {
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("different vector dimensions %d and %d", a->dim, b->dim)));
    }
}

void check_typmod_dims(int dim, int32 typmod) {
    if (typmod != -1 && typmod != dim) {
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("expected %d dimensions, not %d", typmod, dim)));
    }
}

void check_dim_range(int64 dim) {
    if (dim < 1) {
        ereport(ERROR,
                (errcode(ERRCODE_DATA_EXCEPTION), errmsg("vector must have at least 1 dimension")));
    }
    if (dim > PIRAMID_VECTOR_MAX_DIM) {
        ereport(ERROR,
                (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                 errmsg("vector cannot have more than %d dimensions", PIRAMID_VECTOR_MAX_DIM)));
    }
}

int32 dims_typmod_in(ArrayType* mods, const char* type_name, int32 max_dims) {
    int n = 0;
    const int32* values = ArrayGetIntegerTypmods(mods, &n);
    if (n != 1) {
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid type modifier"),
                 errdetail("Type %s takes exactly one modifier: its dimensions.", type_name)));
    }
    if (values[0] < 1) {
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("dimensions for type %s must be at least 1", type_name)));
    }
    if (values[0] > max_dims) {
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("dimensions for type %s cannot exceed %d", type_name, max_dims)));
    }
    return values[0];
}

void check_element(float v) {
    if (std::isnan(v)) {
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("NaN not allowed in vector")));
    }
    if (std::isinf(v)) {
        ereport(ERROR,
                (errcode(ERRCODE_DATA_EXCEPTION), errmsg("infinite value not allowed in vector")));
    }
}

void check_array_shape(ArrayType* a) {
    if (ARR_NDIM(a) > 1)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("array must be 1-D")));
    if (ARR_HASNULL(a) && array_contains_nulls(a))
        ereport(ERROR,
                (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("array must not contain nulls")));
}

bool array_elem_supported(Oid elemtype) {
    return elemtype == INT4OID || elemtype == FLOAT4OID || elemtype == FLOAT8OID ||
           elemtype == NUMERICOID;
}

Datum* array_elements(ArrayType* a, int* count) {
    int16 typlen;
    bool typbyval;
    char typalign;
    get_typlenbyvalalign(ARR_ELEMTYPE(a), &typlen, &typbyval, &typalign);
    Datum* elems = nullptr;
    deconstruct_array(a, ARR_ELEMTYPE(a), typlen, typbyval, typalign, &elems, nullptr, count);
    return elems;
}

float array_elem_to_float(Oid elemtype, Datum d) {
    switch (elemtype) {
        case INT4OID:
            return static_cast<float>(DatumGetInt32(d));
        case FLOAT4OID:
            return DatumGetFloat4(d);
        case FLOAT8OID:
            return static_cast<float>(DatumGetFloat8(d));
        default:  // NUMERICOID: numeric's own cast to real (one rounding)
            return DatumGetFloat4(DirectFunctionCall1(numeric_float4, d));
    }
}

}  // namespace piramid::pg

namespace {

using piramid::pg::check_dim_range;
using piramid::pg::check_element;
using piramid::pg::check_typmod_dims;
using piramid::pg::guard;
using piramid::pg::Vector;
using piramid::pg::vector_alloc;

[[noreturn]] void bad_binary(const char* detail) {
    ereport(ERROR,
            (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
             errmsg("invalid binary representation for type vector"), errdetail("%s", detail)));
    pg_unreachable();
}

void vector_nonfinite(bool is_nan) {
    check_element(is_nan ? NAN : INFINITY);
}

constexpr piramid::pg::VectorTextType kVectorText{"vector", PIRAMID_VECTOR_MAX_DIM, check_dim_range,
                                                  vector_nonfinite, HUGE_VALF};

Vector* parse_vector(const char* lit) {
    const int capacity = piramid::pg::vector_text_capacity(lit, kVectorText);
    auto* v = static_cast<Vector*>(palloc0(piramid::pg::vector_size(capacity)));
    const int dim = piramid::pg::parse_vector_text(lit, kVectorText, v->x);
    SET_VARSIZE(v, piramid::pg::vector_size(dim));
    v->dim = static_cast<int16>(dim);
    v->unused = 0;
    return v;
}

// Shortest decimal text that reads back as the same float4 (Ryu, as float4out uses when
// extra_float_digits > 0), independent of extra_float_digits.
char* format_vector(const Vector* v) {
    // Each element takes at most FLOAT_SHORTEST_DECIMAL_LEN - 1 characters plus a separator.
    char* buf =
        static_cast<char*>(palloc(3 + static_cast<Size>(v->dim) * FLOAT_SHORTEST_DECIMAL_LEN));
    char* out = buf;
    *out++ = '[';
    for (int i = 0; i < v->dim; ++i) {
        if (i > 0) *out++ = ',';
        out += float_to_shortest_decimal_bufn(v->x[i], out);
    }
    *out++ = ']';
    *out = '\0';
    return buf;
}

}  // namespace

// vector_in(cstring, oid, integer) RETURNS vector
PIRAMID_FUNCTION(vector_in) {
    const char* lit = PG_GETARG_CSTRING(0);
    const int32 typmod = PG_GETARG_INT32(2);
    return guard([&]() -> Datum {
        Vector* v = parse_vector(lit);
        check_typmod_dims(v->dim, typmod);
        PG_RETURN_POINTER(v);
    });
}

// vector_out(vector) RETURNS cstring
PIRAMID_FUNCTION(vector_out) {
    return guard([&]() -> Datum {
        const Vector* v = PIRAMID_GETARG_VECTOR(0);
        PG_RETURN_CSTRING(format_vector(v));
    });
}

// vector_typmod_in(cstring[]) RETURNS integer: the typmod is the dimension count itself.
PIRAMID_FUNCTION(vector_typmod_in) {
    return guard([&]() -> Datum {
        PG_RETURN_INT32(piramid::pg::dims_typmod_in(PG_GETARG_ARRAYTYPE_P(0), "vector",
                                                    PIRAMID_VECTOR_MAX_DIM));
    });
}

// vector_typmod_out(integer) RETURNS cstring: "(n)", or "" for no typmod.
PIRAMID_FUNCTION(vector_typmod_out) {
    const int32 typmod = PG_GETARG_INT32(0);
    return guard([&]() -> Datum {
        PG_RETURN_CSTRING(typmod >= 0 ? psprintf("(%d)", typmod) : pstrdup(""));
    });
}

// vector_recv(internal, oid, integer) RETURNS vector. Wire format: uint16 dim, uint16 unused
// (must be 0), dim x float4, all in network byte order, and nothing after.
PIRAMID_FUNCTION(vector_recv) {
    StringInfo buf = reinterpret_cast<StringInfo>(PG_GETARG_POINTER(0));
    const int32 typmod = PG_GETARG_INT32(2);
    return guard([&]() -> Datum {
        const int64 header_left = int64{buf->len} - buf->cursor;
        if (header_left < 4) {
            bad_binary(psprintf("The header needs 4 bytes, got %lld.",
                                static_cast<long long>(header_left)));
        }
        const int dim = static_cast<int>(pq_getmsgint(buf, 2));
        const int unused = static_cast<int>(pq_getmsgint(buf, 2));
        if (unused != 0) bad_binary(psprintf("The unused header field must be 0, got %d.", unused));
        check_dim_range(dim);
        const int64 left = int64{buf->len} - buf->cursor;
        const int64 want = int64{dim} * 4;
        if (left != want) {
            bad_binary(psprintf("Expected %lld bytes of values for %d dimensions, got %lld.",
                                static_cast<long long>(want), dim, static_cast<long long>(left)));
        }
        check_typmod_dims(dim, typmod);
        Vector* v = vector_alloc(dim);
        for (int i = 0; i < dim; ++i) {
            v->x[i] = pq_getmsgfloat4(buf);
            check_element(v->x[i]);
        }
        PG_RETURN_POINTER(v);
    });
}

// vector_send(vector) RETURNS bytea
PIRAMID_FUNCTION(vector_send) {
    return guard([&]() -> Datum {
        const Vector* v = PIRAMID_GETARG_VECTOR(0);
        StringInfoData buf;
        pq_begintypsend(&buf);
        pq_sendint16(&buf, static_cast<uint16>(v->dim));
        pq_sendint16(&buf, 0);
        for (int i = 0; i < v->dim; ++i) pq_sendfloat4(&buf, v->x[i]);
        PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
    });
}

// vector(vector, integer, boolean) RETURNS vector: the length-coercion cast that enforces
// vector(n) wherever Postgres coerces a value to a column or a typed expression.
PIRAMID_FUNCTION(vector) {
    return guard([&]() -> Datum {
        Vector* v = PIRAMID_GETARG_VECTOR(0);
        check_typmod_dims(v->dim, PG_GETARG_INT32(1));
        PG_RETURN_POINTER(v);
    });
}

// array_to_vector(integer[] | real[] | double precision[] | numeric[], integer, boolean)
PIRAMID_FUNCTION(array_to_vector) {
    return guard([&]() -> Datum {
        ArrayType* a = PG_GETARG_ARRAYTYPE_P(0);
        const int32 typmod = PG_GETARG_INT32(1);
        // pgvector's checks, in its order: shape, nulls, dimensions, typmod, element type.
        piramid::pg::check_array_shape(a);
        const int n = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
        check_dim_range(n);
        check_typmod_dims(n, typmod);
        const Oid elemtype = ARR_ELEMTYPE(a);
        if (!piramid::pg::array_elem_supported(elemtype)) {
            ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                            errmsg("cannot convert %s to vector", format_type_be(elemtype))));
        }
        int count = 0;
        Datum* elems = piramid::pg::array_elements(a, &count);
        Vector* v = vector_alloc(count);
        for (int i = 0; i < count; ++i) {
            // double precision beyond float4's range is an infinity, rejected here as pgvector
            // rejects it ("infinite value not allowed in vector")
            v->x[i] = piramid::pg::array_elem_to_float(elemtype, elems[i]);
            check_element(v->x[i]);
        }
        PG_RETURN_POINTER(v);
    });
}

// vector_to_float4(vector, integer, boolean) RETURNS real[]
PIRAMID_FUNCTION(vector_to_float4) {
    return guard([&]() -> Datum {
        const Vector* v = PIRAMID_GETARG_VECTOR(0);
        Datum* d = static_cast<Datum*>(palloc(sizeof(Datum) * v->dim));
        for (int i = 0; i < v->dim; ++i) d[i] = Float4GetDatum(v->x[i]);
        PG_RETURN_POINTER(
            construct_array(d, v->dim, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT));
    });
}

// vector_to_float8(vector, integer, boolean) RETURNS double precision[] (exact widening)
PIRAMID_FUNCTION(vector_to_float8) {
    return guard([&]() -> Datum {
        const Vector* v = PIRAMID_GETARG_VECTOR(0);
        Datum* d = static_cast<Datum*>(palloc(sizeof(Datum) * v->dim));
        for (int i = 0; i < v->dim; ++i) d[i] = Float8GetDatum(static_cast<double>(v->x[i]));
        PG_RETURN_POINTER(construct_array(d, v->dim, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
                                          TYPALIGN_DOUBLE));
    });
}

// vector_to_numeric(vector, integer, boolean) RETURNS numeric[]: each element as its shortest
// exact decimal (the same digits the text output shows).
PIRAMID_FUNCTION(vector_to_numeric) {
    return guard([&]() -> Datum {
        const Vector* v = PIRAMID_GETARG_VECTOR(0);
        Datum* d = static_cast<Datum*>(palloc(sizeof(Datum) * v->dim));
        char text[FLOAT_SHORTEST_DECIMAL_LEN];
        for (int i = 0; i < v->dim; ++i) {
            float_to_shortest_decimal_buf(v->x[i], text);
            d[i] = DirectFunctionCall3(numeric_in, CStringGetDatum(text),
                                       ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
        }
        PG_RETURN_POINTER(construct_array(d, v->dim, NUMERICOID, -1, false, TYPALIGN_INT));
    });
}

// vector_to_int4(vector, integer, boolean) RETURNS integer[]: rounds half to even, as real to
// integer does; values beyond the integer range are an error.
PIRAMID_FUNCTION(vector_to_int4) {
    return guard([&]() -> Datum {
        const Vector* v = PIRAMID_GETARG_VECTOR(0);
        Datum* d = static_cast<Datum*>(palloc(sizeof(Datum) * v->dim));
        for (int i = 0; i < v->dim; ++i) {
            const float r = std::rint(v->x[i]);
            // 2^31 is exact in float; every float below it in magnitude fits in int32.
            if (!(r >= -2147483648.0f && r < 2147483648.0f)) {
                ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                                errmsg("integer out of range")));
            }
            d[i] = Int32GetDatum(static_cast<int32>(r));
        }
        PG_RETURN_POINTER(construct_array(d, v->dim, INT4OID, sizeof(int32), true, TYPALIGN_INT));
    });
}
