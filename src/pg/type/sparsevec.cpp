// The `sparsevec` type: text and binary I/O, typmod, the length-coercion cast, the casts to and
// from vector and from arrays. Inputs are accepted and rejected exactly where pgvector 0.8
// accepts and rejects them, with its messages and SQLSTATEs. Everything here is plain C-style
// code over palloc'd memory: errors are raised with ereport directly, and no C++ object with a
// destructor is alive while that can happen.
#include "pg/type/sparsevec.hpp"

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

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>

namespace piramid::pg {

SparseVec* sparsevec_alloc(int dim, int nnz) {
    const Size size = sparsevec_size(nnz);
    auto* v = static_cast<SparseVec*>(palloc0(size));
    SET_VARSIZE(v, size);
    v->dim = dim;
    v->nnz = nnz;
    v->unused = 0;
    return v;
}

SparseVec* sparsevec_from_datum(Datum d) {
    auto* v = reinterpret_cast<SparseVec*>(PG_DETOAST_DATUM(d));
    const Size size = VARSIZE(v);
    const bool header_ok = size >= offsetof(SparseVec, indices) && v->dim >= 1 &&
                           v->dim <= PIRAMID_SPARSEVEC_MAX_DIM && v->nnz >= 0 &&
                           v->nnz <= PIRAMID_SPARSEVEC_MAX_NNZ && v->nnz <= v->dim;
    if (!header_ok || size != sparsevec_size(v->nnz)) {
        ereport(ERROR,
                (errcode(ERRCODE_DATA_CORRUPTED), errmsg("corrupt sparsevec datum"),
                 errdetail("Size %zu, %d dimensions, %d elements.", static_cast<size_t>(size),
                           size >= offsetof(SparseVec, indices) ? v->dim : -1,
                           size >= offsetof(SparseVec, indices) ? v->nnz : -1)));
    }
    return v;
}

void sparsevec_check_dim(int64 dim) {
    if (dim < 1) {
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("sparsevec must have at least 1 dimension")));
    }
    if (dim > PIRAMID_SPARSEVEC_MAX_DIM) {
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("sparsevec cannot have more than %d dimensions",
                               PIRAMID_SPARSEVEC_MAX_DIM)));
    }
}

void sparsevec_check_nnz(int64 nnz, int64 dim) {
    if (nnz < 0) {
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("sparsevec cannot have negative number of elements")));
    }
    if (nnz > PIRAMID_SPARSEVEC_MAX_NNZ) {
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("sparsevec cannot have more than %d non-zero elements",
                               PIRAMID_SPARSEVEC_MAX_NNZ)));
    }
    if (nnz > dim) {
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("sparsevec cannot have more elements than dimensions")));
    }
}

void sparsevec_check_typmod(int dim, int32 typmod) {
    if (typmod != -1 && typmod != dim) {
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("expected %d dimensions, not %d", typmod, dim)));
    }
}

void sparsevec_check_element(float v) {
    if (std::isnan(v)) {
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("NaN not allowed in sparsevec")));
    }
    if (std::isinf(v)) {
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("infinite value not allowed in sparsevec")));
    }
}

}  // namespace piramid::pg

namespace {

using piramid::pg::guard;
using piramid::pg::skip_text_space;
using piramid::pg::SparseVec;
using piramid::pg::sparsevec_alloc;
using piramid::pg::sparsevec_check_dim;
using piramid::pg::sparsevec_check_element;
using piramid::pg::sparsevec_check_nnz;
using piramid::pg::sparsevec_check_typmod;
using piramid::pg::sparsevec_values;
using piramid::pg::Vector;

// Checks the i-th stored index against the dimensions and the one before it (0-based).
void check_index(const int32* indices, int i, int dim) {
    const int32 index = indices[i];
    if (index < 0 || index >= dim) {
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("sparsevec index out of bounds")));
    }
    if (i > 0) {
        if (index < indices[i - 1]) {
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                            errmsg("sparsevec indices must be in ascending order")));
        }
        if (index == indices[i - 1]) {
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                            errmsg("sparsevec indices must not contain duplicates")));
        }
    }
}

[[noreturn]] void bad_syntax(const char* lit, const char* detail = nullptr) {
    if (detail != nullptr) {
        ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                        errmsg("invalid input syntax for type sparsevec: \"%s\"", lit),
                        errdetail("%s", detail)));
    }
    ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                    errmsg("invalid input syntax for type sparsevec: \"%s\"", lit)));
    pg_unreachable();
}

struct Element {
    int32 index;  // 0-based
    float value;
};

// Reads a decimal integer the way strtol does (optional sign, base 10; leading whitespace was
// skipped already) and clamps it to [lo, hi]. Returns nullptr when no digit follows.
const char* read_integer(const char* p, long lo, long hi, long* out) {
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(p, &end, 10);
    if (end == p) return nullptr;
    // strtol saturates at LONG_MIN / LONG_MAX on overflow, which the clamp keeps in order.
    *out = std::clamp(v, lo, hi);
    return end;
}

// '{i:v,...}/dim' with 1-based indices. Zero values are dropped; the others are sorted by index
// and then checked (range, duplicates) after the dimensions are known.
SparseVec* parse_sparsevec(const char* lit, int32 typmod) {
    // One element per comma, plus one: enough room without a second pass, and a cheap bound.
    int64 max_nnz = 1;
    for (const char* c = lit; *c != '\0'; ++c) max_nnz += (*c == ',');
    if (max_nnz > PIRAMID_SPARSEVEC_MAX_NNZ) {
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("sparsevec cannot have more than %d non-zero elements",
                               PIRAMID_SPARSEVEC_MAX_NNZ)));
    }
    auto* elems = static_cast<Element*>(palloc(sizeof(Element) * static_cast<Size>(max_nnz)));
    int nnz = 0;
    int parsed = 0;

    const char* p = skip_text_space(lit);
    if (*p != '{') bad_syntax(lit, "Vector contents must start with \"{\".");
    p = skip_text_space(p + 1);
    if (*p == '}') {
        ++p;
    } else {
        for (;;) {
            if (parsed == max_nnz) {
                // Cannot happen (each element ends at a comma or the closing brace).
                ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                                errmsg("ran out of buffer: \"%s\"", lit)));
            }
            p = skip_text_space(p);
            if (*p == '\0') bad_syntax(lit);
            long index = 0;
            // Clamped so that index - 1 stays an int32 and the range check reports it.
            const char* end = read_integer(p, long{INT_MIN} + 1, long{INT_MAX}, &index);
            if (end == nullptr) bad_syntax(lit);
            p = skip_text_space(end);
            if (*p != ':') bad_syntax(lit);
            p = skip_text_space(p + 1);

            // strtof, as float4in: one rounding from decimal, and its range errors.
            char* vend = nullptr;
            errno = 0;
            const float value = std::strtof(p, &vend);
            if (vend == p) bad_syntax(lit);
            if (errno == ERANGE && (value == 0.0f || std::isinf(value))) {
                ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                                errmsg("\"%s\" is out of range for type sparsevec",
                                       pnstrdup(p, vend - p))));
            }
            sparsevec_check_element(value);
            ++parsed;
            if (value != 0.0f) {
                elems[nnz].index = static_cast<int32>(index - 1);
                elems[nnz].value = value;
                ++nnz;
            }
            p = skip_text_space(vend);
            if (*p == ',') {
                ++p;
                continue;
            }
            if (*p == '}') {
                ++p;
                break;
            }
            bad_syntax(lit);
        }
    }

    p = skip_text_space(p);
    if (*p != '/') bad_syntax(lit, "Unexpected end of input.");
    p = skip_text_space(p + 1);
    long dim = 0;
    const char* end = read_integer(p, long{INT_MIN}, long{INT_MAX}, &dim);
    if (end == nullptr) bad_syntax(lit);
    p = skip_text_space(end);
    if (*p != '\0') bad_syntax(lit, "Junk after closing.");

    sparsevec_check_dim(dim);
    sparsevec_check_typmod(static_cast<int>(dim), typmod);

    std::sort(elems, elems + nnz,
              [](const Element& a, const Element& b) { return a.index < b.index; });
    SparseVec* v = sparsevec_alloc(static_cast<int>(dim), nnz);
    float* values = sparsevec_values(v);
    for (int i = 0; i < nnz; ++i) {
        v->indices[i] = elems[i].index;
        values[i] = elems[i].value;
        check_index(v->indices, i, v->dim);
    }
    pfree(elems);
    return v;
}

// '{i:v,...}/dim' with 1-based indices and the shortest decimal that reads back as the same
// float4 (as float4out with extra_float_digits > 0), independent of extra_float_digits.
char* format_sparsevec(const SparseVec* v) {
    const float* values = sparsevec_values(v);
    // Per element: index (at most 10 digits), ':', value (< FLOAT_SHORTEST_DECIMAL_LEN), ','.
    // Then '{', '}', '/', the dimensions (at most 10 digits) and the terminator.
    char* buf = static_cast<char*>(
        palloc((12 + FLOAT_SHORTEST_DECIMAL_LEN) * static_cast<Size>(v->nnz) + 16));
    char* out = buf;
    *out++ = '{';
    for (int i = 0; i < v->nnz; ++i) {
        if (i > 0) *out++ = ',';
        out += pg_ltoa(v->indices[i] + 1, out);
        *out++ = ':';
        out += float_to_shortest_decimal_bufn(values[i], out);
    }
    *out++ = '}';
    *out++ = '/';
    out += pg_ltoa(v->dim, out);
    *out = '\0';
    return buf;
}

}  // namespace

// sparsevec_in(cstring, oid, integer) RETURNS sparsevec
PIRAMID_FUNCTION(sparsevec_in) {
    const char* lit = PG_GETARG_CSTRING(0);
    const int32 typmod = PG_GETARG_INT32(2);
    return guard([&]() -> Datum { PG_RETURN_POINTER(parse_sparsevec(lit, typmod)); });
}

// sparsevec_out(sparsevec) RETURNS cstring
PIRAMID_FUNCTION(sparsevec_out) {
    return guard([&]() -> Datum {
        const SparseVec* v = PIRAMID_GETARG_SPARSEVEC(0);
        PG_RETURN_CSTRING(format_sparsevec(v));
    });
}

// sparsevec_typmod_in(cstring[]) RETURNS integer: the typmod is the dimension count itself.
PIRAMID_FUNCTION(sparsevec_typmod_in) {
    return guard([&]() -> Datum {
        PG_RETURN_INT32(piramid::pg::dims_typmod_in(PG_GETARG_ARRAYTYPE_P(0), "sparsevec",
                                                    PIRAMID_SPARSEVEC_MAX_DIM));
    });
}

// sparsevec_recv(internal, oid, integer) RETURNS sparsevec. Wire format: int32 dim, int32 nnz,
// int32 unused (must be 0), nnz x int32 index (0-based, ascending, no duplicates, < dim),
// nnz x float4 value (finite, non-zero), all in network byte order. A short message gets
// 08P01 "insufficient data left in message" from pq_getmsgint / pq_getmsgfloat4.
PIRAMID_FUNCTION(sparsevec_recv) {
    StringInfo buf = reinterpret_cast<StringInfo>(PG_GETARG_POINTER(0));
    const int32 typmod = PG_GETARG_INT32(2);
    return guard([&]() -> Datum {
        const auto dim = static_cast<int32>(pq_getmsgint(buf, sizeof(int32)));
        const auto nnz = static_cast<int32>(pq_getmsgint(buf, sizeof(int32)));
        const auto unused = static_cast<int32>(pq_getmsgint(buf, sizeof(int32)));
        sparsevec_check_dim(dim);
        sparsevec_check_nnz(nnz, dim);
        sparsevec_check_typmod(dim, typmod);
        if (unused != 0) {
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                            errmsg("expected unused to be 0, not %d", unused)));
        }
        SparseVec* v = sparsevec_alloc(dim, nnz);
        for (int i = 0; i < nnz; ++i) {
            v->indices[i] = static_cast<int32>(pq_getmsgint(buf, sizeof(int32)));
            check_index(v->indices, i, dim);
        }
        float* values = sparsevec_values(v);
        for (int i = 0; i < nnz; ++i) {
            values[i] = pq_getmsgfloat4(buf);
            sparsevec_check_element(values[i]);
            if (values[i] == 0.0f) {
                ereport(ERROR,
                        (errcode(ERRCODE_DATA_EXCEPTION),
                         errmsg("binary representation of sparsevec cannot contain zero values")));
            }
        }
        PG_RETURN_POINTER(v);
    });
}

// sparsevec_send(sparsevec) RETURNS bytea
PIRAMID_FUNCTION(sparsevec_send) {
    return guard([&]() -> Datum {
        const SparseVec* v = PIRAMID_GETARG_SPARSEVEC(0);
        const float* values = sparsevec_values(v);
        StringInfoData buf;
        pq_begintypsend(&buf);
        pq_sendint32(&buf, static_cast<uint32>(v->dim));
        pq_sendint32(&buf, static_cast<uint32>(v->nnz));
        pq_sendint32(&buf, 0);
        for (int i = 0; i < v->nnz; ++i) pq_sendint32(&buf, static_cast<uint32>(v->indices[i]));
        for (int i = 0; i < v->nnz; ++i) pq_sendfloat4(&buf, values[i]);
        PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
    });
}

// sparsevec(sparsevec, integer, boolean) RETURNS sparsevec: the length-coercion cast that
// enforces sparsevec(n) wherever Postgres coerces a value to a column or a typed expression.
PIRAMID_FUNCTION(sparsevec) {
    return guard([&]() -> Datum {
        SparseVec* v = PIRAMID_GETARG_SPARSEVEC(0);
        sparsevec_check_typmod(v->dim, PG_GETARG_INT32(1));
        PG_RETURN_POINTER(v);
    });
}

// vector_to_sparsevec(vector, integer, boolean) RETURNS sparsevec: the non-zero elements (-0
// counts as zero).
PIRAMID_FUNCTION(vector_to_sparsevec) {
    return guard([&]() -> Datum {
        const Vector* v = PIRAMID_GETARG_VECTOR(0);
        const int32 typmod = PG_GETARG_INT32(1);
        const int dim = v->dim;
        sparsevec_check_dim(dim);
        sparsevec_check_typmod(dim, typmod);
        int nnz = 0;
        for (int i = 0; i < dim; ++i) nnz += (v->x[i] != 0.0f);
        sparsevec_check_nnz(nnz, dim);
        SparseVec* r = sparsevec_alloc(dim, nnz);
        float* values = sparsevec_values(r);
        int j = 0;
        for (int i = 0; i < dim; ++i) {
            if (v->x[i] != 0.0f) {
                r->indices[j] = i;
                values[j] = v->x[i];
                ++j;
            }
        }
        PG_RETURN_POINTER(r);
    });
}

// sparsevec_to_vector(sparsevec, integer, boolean) RETURNS vector: vector's dimension limit
// (16000) and typmod apply.
PIRAMID_FUNCTION(sparsevec_to_vector) {
    return guard([&]() -> Datum {
        const SparseVec* s = PIRAMID_GETARG_SPARSEVEC(0);
        const int32 typmod = PG_GETARG_INT32(1);
        piramid::pg::check_dim_range(s->dim);
        piramid::pg::check_typmod_dims(s->dim, typmod);
        Vector* v = piramid::pg::vector_alloc(s->dim);
        const float* values = sparsevec_values(s);
        for (int i = 0; i < s->nnz; ++i) v->x[s->indices[i]] = values[i];
        PG_RETURN_POINTER(v);
    });
}

// array_to_sparsevec(integer[] | real[] | double precision[] | numeric[], integer, boolean)
// RETURNS sparsevec: element i (1-based) becomes index i when it is not zero. double precision
// is narrowed to float4 (beyond its range: infinite, an error), numeric goes through
// numeric_float4 (its range errors), and NaN or infinite elements are an error.
PIRAMID_FUNCTION(array_to_sparsevec) {
    return guard([&]() -> Datum {
        ArrayType* a = PG_GETARG_ARRAYTYPE_P(0);
        const int32 typmod = PG_GETARG_INT32(1);
        piramid::pg::check_array_shape(a);
        const Oid elemtype = ARR_ELEMTYPE(a);
        if (!piramid::pg::array_elem_supported(elemtype))
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("unsupported array type")));
        int count = 0;
        Datum* elems = piramid::pg::array_elements(a, &count);
        sparsevec_check_dim(count);
        sparsevec_check_typmod(count, typmod);

        float* dense = static_cast<float*>(palloc(sizeof(float) * static_cast<Size>(count)));
        int nnz = 0;
        for (int i = 0; i < count; ++i) {
            const float x = piramid::pg::array_elem_to_float(elemtype, elems[i]);
            dense[i] = x;
            nnz += (x != 0.0f);  // NaN and infinities count: they are reported below
        }
        sparsevec_check_nnz(nnz, count);
        SparseVec* r = sparsevec_alloc(count, nnz);
        float* values = sparsevec_values(r);
        int j = 0;
        for (int i = 0; i < count; ++i) {
            if (dense[i] != 0.0f) {
                r->indices[j] = i;
                values[j] = dense[i];
                ++j;
            }
        }
        for (int i = 0; i < nnz; ++i) sparsevec_check_element(values[i]);
        pfree(dense);
        pfree(elems);
        PG_RETURN_POINTER(r);
    });
}
