// The casts between sparsevec and halfvec (pgvector's definitions).
#include "pg/type/sparsevec.hpp"

#include "pg/guard.hpp"

#include <cstdint>

#include "core/distance/half.hpp"
#include "pg/type/halfvec.hpp"

namespace {

using piramid::pg::guard;
using piramid::pg::SparseVec;
using piramid::pg::sparsevec_alloc;
using piramid::pg::sparsevec_check_dim;
using piramid::pg::sparsevec_check_nnz;
using piramid::pg::sparsevec_check_typmod;
using piramid::pg::sparsevec_values;
namespace dist = piramid::distance;

using piramid::pg::float_to_half_checked;
using piramid::pg::half_is_zero;
using piramid::pg::halfvec_alloc;
using piramid::pg::HalfVector;

}  // namespace

// halfvec_to_sparsevec(halfvec, integer, boolean) RETURNS sparsevec: the non-zero elements
// (-0 counts as zero), widened exactly to float4.
PIRAMID_FUNCTION(halfvec_to_sparsevec) {
    return guard([&]() -> Datum {
        const auto* v = reinterpret_cast<const HalfVector*>(PG_DETOAST_DATUM(PG_GETARG_DATUM(0)));
        const int32 typmod = PG_GETARG_INT32(1);
        const int dim = v->dim;
        sparsevec_check_dim(dim);
        sparsevec_check_typmod(dim, typmod);
        int nnz = 0;
        for (int i = 0; i < dim; ++i) nnz += !half_is_zero(v->x[i]);
        sparsevec_check_nnz(nnz, dim);
        SparseVec* r = sparsevec_alloc(dim, nnz);
        float* values = sparsevec_values(r);
        int j = 0;
        for (int i = 0; i < dim; ++i) {
            if (!half_is_zero(v->x[i])) {
                r->indices[j] = i;
                values[j] = dist::half_to_float(v->x[i]);
                ++j;
            }
        }
        PG_RETURN_POINTER(r);
    });
}

// sparsevec_to_halfvec(sparsevec, integer, boolean) RETURNS halfvec: halfvec's dimension limit
// (16000) and typmod apply; a value beyond the binary16 range is an error (22003), one below
// its smallest subnormal becomes zero.
PIRAMID_FUNCTION(sparsevec_to_halfvec) {
    return guard([&]() -> Datum {
        const SparseVec* s = PIRAMID_GETARG_SPARSEVEC(0);
        const int32 typmod = PG_GETARG_INT32(1);
        HalfVector* r = halfvec_alloc(s->dim);  // halfvec's dimension checks
        if (typmod != -1 && typmod != s->dim) {
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                            errmsg("expected %d dimensions, not %d", typmod, s->dim)));
        }
        const float* values = sparsevec_values(s);
        // a sparsevec value is finite: a half infinity is an overflow (22003)
        for (int i = 0; i < s->nnz; ++i) r->x[s->indices[i]] = float_to_half_checked(values[i]);
        PG_RETURN_POINTER(r);
    });
}
