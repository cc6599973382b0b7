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

extern "C" {
#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

#include <cerrno>
#include <charconv>
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

// The whitespace Postgres' own array and record parsers accept.
bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// pgvector's message for a malformed literal, with a DETAIL that says what is wrong.
[[noreturn]] void malformed(const char* literal, const char* detail) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                    errmsg("invalid input syntax for type halfvec: \"%s\"", literal),
                    errdetail("%s", detail)));
    pg_unreachable();
}

[[noreturn]] void bad_syntax(const char* literal) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                    errmsg("invalid input syntax for type halfvec: \"%s\"", literal)));
    pg_unreachable();
}

[[noreturn]] void out_of_range_text(const char* start, const char* end) {
    ereport(ERROR,
            (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
             errmsg("\"%s\" is out of range for type halfvec", pnstrdup(start, end - start))));
    pg_unreachable();
}

// Scans one number of the form [+-] digits [. digits] [(e|E) [+-] digits] (a bare ".5" or "5."
// is accepted too). Returns its end, or nullptr when p does not start one. A strict subset of
// what strtof accepts (no hex floats, no words), so strtof consumes exactly these characters.
const char* scan_number(const char* p) {
    if (*p == '+' || *p == '-') ++p;
    int digits = 0;
    while (is_digit(*p)) {
        ++p;
        ++digits;
    }
    if (*p == '.') {
        ++p;
        while (is_digit(*p)) {
            ++p;
            ++digits;
        }
    }
    if (digits == 0) return nullptr;
    if (*p == 'e' || *p == 'E') {
        const char* q = p + 1;
        if (*q == '+' || *q == '-') ++q;
        if (!is_digit(*q)) return nullptr;
        while (is_digit(*q)) ++q;
        p = q;
    }
    return p;
}

// The decimal text [start, end) as a half: one correctly rounded step to float4, then round to
// nearest even half. Beyond the half range (|x| >= 65520 after the first step) is 22003 with the
// number's text in the message; below the smallest subnormal rounds to signed zero.
half decimal_to_half(const char* start, const char* end, const char* literal) {
    const char* first = (*start == '+') ? start + 1 : start;
    float v = 0.0f;
    const auto res = std::from_chars(first, end, v, std::chars_format::general);
    if (res.ec != std::errc() || res.ptr != end) {
        // from_chars reports underflow and overflow alike as out of range: strtof tells them
        // apart (underflow gives a zero or subnormal float, overflow an infinity).
        char* stop = nullptr;
        errno = 0;
        v = std::strtof(start, &stop);
        if (stop != end) bad_syntax(literal);  // cannot happen for scanned input
        if (errno == ERANGE && std::isinf(v)) out_of_range_text(start, end);
    }
    const half h = dist::float_to_half(v);
    if (half_is_inf(h)) out_of_range_text(start, end);
    return h;
}

// Reports NaN / Infinity spelled as a word inside a literal, or a syntax error for any other
// word. p points at the word (after an optional sign).
[[noreturn]] void bad_word(const char* literal, const char* p) {
    // As strtof (pgvector's parser) reads them: a word that starts with "nan" or "inf" is a NaN
    // or an infinity ("[infinit]" and "[nanx]" too), refused as such before the junk after it.
    if (pg_strncasecmp(p, "nan", 3) == 0) halfvec_check_element(0x7e00u);
    if (pg_strncasecmp(p, "inf", 3) == 0) halfvec_check_element(0x7c00u);
    bad_syntax(literal);
}

HalfVector* parse_halfvec(const char* lit) {
    const char* p = lit;
    while (is_space(*p)) ++p;
    if (*p != '[') malformed(lit, "Vector contents must start with \"[\".");
    ++p;

    // At most one element per comma, plus one: enough room without a second pass.
    int64 commas = 0;
    for (const char* c = p; *c != '\0'; ++c) commas += (*c == ',');
    const int capacity = static_cast<int>(Min(commas + 1, int64{PIRAMID_HALFVEC_MAX_DIM}));
    auto* v = static_cast<HalfVector*>(palloc0(piramid::pg::halfvec_size(capacity)));
    int dim = 0;

    while (is_space(*p)) ++p;
    if (*p == ']') {
        ++p;
    } else {
        for (;;) {
            while (is_space(*p)) ++p;
            if (*p == '\0') malformed(lit, "Unexpected end of input.");
            // pgvector counts before it reads: a 16,001st element is too many whatever it is.
            if (dim == PIRAMID_HALFVEC_MAX_DIM) halfvec_check_dim_range(int64{dim} + 1);
            const char* start = p;
            const char* end = scan_number(p);
            if (end == nullptr) {
                const char* w = (*p == '+' || *p == '-') ? p + 1 : p;
                if (is_alpha(*w)) bad_word(lit, w);
                bad_syntax(lit);
            }
            v->x[dim++] = decimal_to_half(start, end, lit);
            p = end;
            while (is_space(*p)) ++p;
            if (*p == ',') {
                ++p;
                continue;
            }
            if (*p == ']') {
                ++p;
                break;
            }
            if (*p == '\0') malformed(lit, "Unexpected end of input.");
            bad_syntax(lit);
        }
    }
    halfvec_check_dim_range(dim);  // "[]x": no dimensions is the error, as in pgvector
    while (is_space(*p)) ++p;
    if (*p != '\0') malformed(lit, "Junk after closing right brace.");
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
        if (ARR_NDIM(a) > 1) {
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("array must be 1-D")));
        }
        if (ARR_HASNULL(a) && array_contains_nulls(a)) {
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                            errmsg("array must not contain nulls")));
        }
        const Oid elemtype = ARR_ELEMTYPE(a);
        if (elemtype != INT4OID && elemtype != FLOAT4OID && elemtype != FLOAT8OID &&
            elemtype != NUMERICOID) {
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("unsupported array type")));
        }
        const int n = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
        halfvec_check_dim_range(n);
        check_typmod(n, typmod);

        int16 typlen;
        bool typbyval;
        char typalign;
        get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
        Datum* elems = nullptr;
        int count = 0;
        deconstruct_array(a, elemtype, typlen, typbyval, typalign, &elems, nullptr, &count);

        HalfVector* h = halfvec_alloc(count);
        for (int i = 0; i < count; ++i) {
            float x = 0.0f;
            switch (elemtype) {
                case INT4OID:
                    x = static_cast<float>(DatumGetInt32(elems[i]));
                    break;
                case FLOAT4OID:
                    x = DatumGetFloat4(elems[i]);
                    break;
                case FLOAT8OID:
                    x = static_cast<float>(DatumGetFloat8(elems[i]));
                    break;
                default:  // NUMERICOID
                    x = DatumGetFloat4(DirectFunctionCall1(numeric_float4, elems[i]));
                    break;
            }
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
