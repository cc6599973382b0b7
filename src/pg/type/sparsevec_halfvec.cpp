// The casts between sparsevec and halfvec (pgvector's definitions).
#include "pg/type/sparsevec.hpp"

#include "pg/guard.hpp"

extern "C" {
#include "common/shortest_dec.h"
}

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

constexpr int kHalfvecMaxDim = 16000;

using HalfVecLayout = piramid::pg::HalfVector;

HalfVecLayout* halfvec_from_datum(Datum d) {
    return reinterpret_cast<HalfVecLayout*>(PG_DETOAST_DATUM(d));
}

// halfvec's dimension checks, with pgvector's messages.
void halfvec_check_dim(int64 dim) {
    if (dim < 1) {
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("halfvec must have at least 1 dimension")));
    }
    if (dim > kHalfvecMaxDim) {
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("halfvec cannot have more than %d dimensions", kHalfvecMaxDim)));
    }
}

bool half_is_zero(dist::half h) {
    return (h & 0x7FFF) == 0;  // +0 and -0
}

bool half_is_inf(dist::half h) {
    return (h & 0x7FFF) == 0x7C00;
}

}  // namespace

// halfvec_to_sparsevec(halfvec, integer, boolean) RETURNS sparsevec: the non-zero elements
// (-0 counts as zero), widened exactly to float4.
PIRAMID_FUNCTION(halfvec_to_sparsevec) {
    return guard([&]() -> Datum {
        const HalfVecLayout* v = halfvec_from_datum(PG_GETARG_DATUM(0));
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
        halfvec_check_dim(s->dim);
        if (typmod != -1 && typmod != s->dim) {
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                            errmsg("expected %d dimensions, not %d", typmod, s->dim)));
        }
        const Size size = offsetof(HalfVecLayout, x) + sizeof(dist::half) * s->dim;
        auto* r = static_cast<HalfVecLayout*>(palloc0(size));
        SET_VARSIZE(r, size);
        r->dim = static_cast<int16>(s->dim);
        r->unused = 0;
        const float* values = sparsevec_values(s);
        for (int i = 0; i < s->nnz; ++i) {
            const dist::half h = dist::float_to_half(values[i]);
            if (half_is_inf(h)) {  // a sparsevec value is finite: this is an overflow
                char buf[FLOAT_SHORTEST_DECIMAL_LEN];
                float_to_shortest_decimal_buf(values[i], buf);
                ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                                errmsg("\"%s\" is out of range for type halfvec", buf)));
            }
            r->x[s->indices[i]] = h;
        }
        PG_RETURN_POINTER(r);
    });
}
