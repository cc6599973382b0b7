// Column values to stored elements (see element.hpp).
#include "pg/am/element.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/varbit.h"
}

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/distance/half.hpp"
#include "pg/guard.hpp"
#include "pg/storage/page.hpp"
#include "pg/type/halfvec.hpp"
#include "pg/type/sparsevec.hpp"
#include "pg/type/vector.hpp"

namespace piramid::pg::hnsw {
namespace {

using distance::ElementKind;
using distance::Metric;

using HalfVecView = piramid::pg::HalfVector;

bool type_named(Oid type, const char* name) {
    if (type == BITOID) return std::strcmp(name, "bit") == 0;
    HeapTuple tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(type));
    if (!HeapTupleIsValid(tup)) return false;
    const bool same =
        std::strcmp(NameStr(reinterpret_cast<Form_pg_type>(GETSTRUCT(tup))->typname), name) == 0;
    ReleaseSysCache(tup);
    return same;
}

// Squared norm of a vector, in double (cosine: a zero or overflowing norm is not indexable).
double norm_sq(const Vector* v) {
    double norm = 0.0;
    for (int i = 0; i < v->dim; ++i) norm += static_cast<double>(v->x[i]) * v->x[i];
    return norm;
}

// Squared norm of a sparse vector's values, in double (cosine: not indexable when 0 or
// overflowing).
double sparse_norm_sq(const SparseVec* v) {
    const float* x = sparsevec_values(v);
    double norm = 0.0;
    for (int i = 0; i < v->nnz; ++i) norm += static_cast<double>(x[i]) * x[i];
    return norm;
}

// A halfvec is never NaN or infinite: it has a norm unless every half is +-0.
bool has_norm(const HalfVecView* v) {
    for (int i = 0; i < v->dim; ++i)
        if ((v->x[i] & 0x7fffu) != 0) return true;
    return false;
}

[[noreturn]] void unsupported(const char* fn, Oid type) {
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("hnsw does not support distance function %s for type %s", fn,
                           format_type_be(type))));
}

[[noreturn]] void dims_error(ElementKind kind, int want, int got, bool query) {
    if (!query)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("expected %d dimensions, not %d", want, got)));
    if (kind == ElementKind::kBit)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("different bit lengths %d and %d", want, got)));
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                    errmsg("different %s dimensions %d and %d", kind_type_name(kind), want, got)));
}

}  // namespace

Metric index_metric(Relation index) {
    Oid proc = index_getprocid(index, 1, 1);
    char* name = get_func_name(proc);
    if (name == nullptr)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FUNCTION),
                        errmsg("hnsw opclass has no distance support function")));
    const Oid type = index->rd_opcintype[0];
    const bool cosine = OidIsValid(index_getprocid(index, 1, 2));
    auto is = [&](const char* n) { return std::strcmp(name, n) == 0; };
    if (type_named(type, "vector")) {
        if (is("vector_l2_squared_distance") || is("l2_distance")) return Metric::kL2;
        if (is("vector_negative_inner_product"))
            return cosine ? Metric::kCosine : Metric::kInnerProduct;
        if (is("l1_distance")) return Metric::kL1;
    } else if (type_named(type, "halfvec")) {
        if (is("halfvec_l2_squared_distance") || is("l2_distance")) return distance::kHalfL2;
        if (is("halfvec_negative_inner_product"))
            return cosine ? distance::kHalfCosine : distance::kHalfInnerProduct;
        if (is("l1_distance")) return distance::kHalfL1;
    } else if (type == BITOID) {
        if (is("hamming_distance")) return distance::kHamming;
        if (is("jaccard_distance")) return distance::kJaccard;
    } else if (type_named(type, "sparsevec")) {
        if (is("sparsevec_l2_squared_distance") || is("l2_distance")) return distance::kSparseL2;
        if (is("sparsevec_negative_inner_product"))
            return cosine ? distance::kSparseCosine : distance::kSparseInnerProduct;
        if (is("l1_distance")) return distance::kSparseL1;
    }
    unsupported(name, type);
}

const char* kind_type_name(ElementKind kind) {
    switch (kind) {
        case ElementKind::kF32:
            return "vector";
        case ElementKind::kF16:
            return "halfvec";
        case ElementKind::kBit:
            return "bit";
        case ElementKind::kSparse:
            return "sparsevec";
    }
    return "vector";
}

int max_index_dims(ElementKind kind) {
    switch (kind) {
        case ElementKind::kF32:
            return 2000;
        case ElementKind::kF16:
            return 4000;
        case ElementKind::kBit:
            return 64000;
        case ElementKind::kSparse:
            return PIRAMID_SPARSEVEC_MAX_DIM;
    }
    return 2000;
}

namespace {

// The stored form of a sparsevec (core/distance/lanes.hpp): nnz, indices, values; cosine values
// normalised (in double, as l2_normalize does). False for a zero vector under cosine.
bool prepare_sparse(Metric metric, int dims, const SparseVec* v, float* out, bool query) {
    if (v->dim != dims) dims_error(ElementKind::kSparse, dims, v->dim, query);
    if (!query && v->nnz > static_cast<int>(distance::kSparseMaxNnz))
        ereport(ERROR,
                (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                 errmsg("sparsevec cannot have more than %d non-zero elements for hnsw index",
                        static_cast<int>(distance::kSparseMaxNnz))));
    const auto nnz = static_cast<uint32_t>(v->nnz);
    const float* x = sparsevec_values(v);
    std::memcpy(out, &nnz, sizeof nnz);
    std::memcpy(out + 1, v->indices, sizeof(int32) * nnz);
    float* vals = out + 1 + nnz;
    if (!distance::is_cosine(metric)) {
        std::memcpy(vals, x, sizeof(float) * nnz);
        return true;
    }
    const double norm = sparse_norm_sq(v);
    if (!(norm > 0.0) || !std::isfinite(norm)) return false;
    const double n = std::sqrt(norm);
    for (uint32_t i = 0; i < nnz; ++i) vals[i] = static_cast<float>(x[i] / n);
    return true;
}

}  // namespace

size_t datum_lanes(Metric metric, int dims, Datum value) {
    const ElementKind kind = distance::element_kind(metric);
    if (kind != ElementKind::kSparse) return distance::lanes_for(kind, static_cast<size_t>(dims));
    const SparseVec* v = sparsevec_from_datum(value);
    return std::max<size_t>(distance::kSparseLanes, 1 + 2 * static_cast<size_t>(v->nnz));
}

void element_too_large(int lanes, int m) {
    // Unreachable within the types' limits (a wide element of 2,001 lanes takes 8,072 bytes);
    // a guard against a page layout that could not hold one.
    ereport(ERROR,
            (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
             errmsg("element of %d lanes is too large for an hnsw index with m = %d", lanes, m),
             errdetail("A wide element needs %zu bytes; a page holds at most %zu.",
                       static_cast<size_t>(ext_element_size(lanes)),
                       static_cast<size_t>(max_element_size()))));
}

bool prepare_datum(Metric metric, int dims, Datum value, float* out, bool query) {
    const ElementKind kind = distance::element_kind(metric);
    const size_t lanes = distance::lanes_for(kind, static_cast<size_t>(dims));
    const bool cosine = distance::is_cosine(metric);
    switch (kind) {
        case ElementKind::kF32: {
            const Vector* v = PIRAMID_DatumGetVector(value);
            if (v->dim != dims) dims_error(kind, dims, v->dim, query);
            if (!cosine) {
                std::memcpy(out, v->x, sizeof(float) * lanes);
                return true;
            }
            const double norm = norm_sq(v);
            if (!(norm > 0.0) || !std::isfinite(norm)) return false;
            const double inv = 1.0 / std::sqrt(norm);
            for (int i = 0; i < dims; ++i) out[i] = static_cast<float>(v->x[i] * inv);
            return true;
        }
        case ElementKind::kF16: {
            const auto* v = reinterpret_cast<const HalfVecView*>(PG_DETOAST_DATUM(value));
            if (v->dim != dims) dims_error(kind, dims, v->dim, query);
            auto* h = reinterpret_cast<distance::half*>(out);
            h[2 * lanes - 1] = 0;  // the padding half when dims is odd
            // Cosine keeps the halves as they are (lanes.hpp, normalizes()); a zero vector is
            // not indexed.
            if (cosine && !has_norm(v)) return false;
            std::memcpy(h, v->x, sizeof(distance::half) * static_cast<size_t>(dims));
            // One dimension: the direction is the sign, and storing it (+-1, exact) loses
            // nothing while it makes rows of one sign exact duplicates, as normalised float
            // vectors are. Kept as they are, 1,000 distinct rows at cosine distance 0 from each
            // other leave the search nothing to order by (stress oracle: recall 0.44-0.63).
            if (cosine && dims == 1) h[0] = (v->x[0] & 0x8000u) != 0 ? 0xbc00u : 0x3c00u;
            return true;
        }
        case ElementKind::kBit: {
            const VarBit* b = DatumGetVarBitP(value);
            if (VARBITLEN(b) != dims) dims_error(kind, dims, VARBITLEN(b), query);
            std::memset(out, 0, sizeof(float) * lanes);
            std::memcpy(out, VARBITS(b), static_cast<size_t>(VARBITBYTES(b)));
            return true;
        }
        case ElementKind::kSparse:
            return prepare_sparse(metric, dims, sparsevec_from_datum(value), out, query);
    }
    return false;
}

bool datum_indexable(Metric metric, Datum value) {
    if (!distance::is_cosine(metric)) return true;
    if (distance::element_kind(metric) == ElementKind::kSparse) {
        const double norm = sparse_norm_sq(sparsevec_from_datum(value));
        return norm > 0.0 && std::isfinite(norm);
    }
    if (distance::element_kind(metric) == ElementKind::kF32) {
        const double norm = norm_sq(PIRAMID_DatumGetVector(value));
        return norm > 0.0 && std::isfinite(norm);
    }
    return has_norm(reinterpret_cast<const HalfVecView*>(PG_DETOAST_DATUM(value)));
}

}  // namespace piramid::pg::hnsw

// Support function 3 of the halfvec and bit opclasses (pgvector's catalog layout). The element
// kind follows from the opclass's type (index_metric), so these are markers: they return the
// kind's name and are never called by piramid itself.
PIRAMID_FUNCTION(hnsw_halfvec_support) {
    PG_RETURN_POINTER(const_cast<char*>("halfvec"));
}

PIRAMID_FUNCTION(hnsw_bit_support) {
    PG_RETURN_POINTER(const_cast<char*>("bit"));
}

PIRAMID_FUNCTION(hnsw_sparsevec_support) {
    PG_RETURN_POINTER(const_cast<char*>("sparsevec"));
}
