// Aggregates avg(halfvec) and sum(halfvec). avg keeps its state as a double precision[] laid out
// as {count, sum_1, ..., sum_dim}, the same layout as avg(vector) (pgvector's), checked and
// updated by the same code (avg_state.hpp), so its combine function is vector_combine itself
// (SQL name halfvec_combine, as in pgvector); the sums are accumulated in double and the mean
// rounded to float, then to half, once at the end. sum uses halfvec_add (each partial sum
// rounded to half, as pgvector).
#include "pg/guard.hpp"
#include "pg/type/avg_state.hpp"
#include "pg/type/halfvec.hpp"

namespace {

using piramid::pg::AvgState;
using piramid::pg::guard;
using piramid::pg::half;
using piramid::pg::halfvec_alloc;
using piramid::pg::halfvec_check_dim_range;
using piramid::pg::HalfVector;
using piramid::pg::read_avg_state;
namespace dist = piramid::distance;

}  // namespace

// halfvec_accum(double precision[], halfvec) RETURNS double precision[]: avg's transition.
PIRAMID_FUNCTION(halfvec_accum) {
    return guard([&]() -> Datum {
        ArrayType* a = PG_GETARG_ARRAYTYPE_P(0);
        const HalfVector* v = PIRAMID_GETARG_HALFVEC(1);
        const AvgState s = read_avg_state(a, "halfvec_accum", halfvec_check_dim_range);
        PG_RETURN_ARRAYTYPE_P(piramid::pg::avg_state_accum(fcinfo, a, s, v->x, v->dim, [](half h) {
            return static_cast<double>(dist::half_to_float(h));
        }));
    });
}

// halfvec_avg(double precision[]) RETURNS halfvec: avg's final function; NULL for no rows. Each
// mean is rounded to float, then to half (pgvector's order): beyond the half range is 22003
// "... is out of range for type halfvec", beyond float's 22000 "infinite value not allowed".
PIRAMID_FUNCTION(halfvec_avg) {
    return guard([&]() -> Datum {
        ArrayType* a = PG_GETARG_ARRAYTYPE_P(0);
        const AvgState s = read_avg_state(a, "halfvec_avg", halfvec_check_dim_range);
        if (s.count == 0) PG_RETURN_NULL();
        HalfVector* r = halfvec_alloc(s.dim);
        for (int i = 0; i < s.dim; ++i) {
            r->x[i] = piramid::pg::float_to_half_checked(static_cast<float>(s.sums[i] / s.count));
        }
        PG_RETURN_POINTER(r);
    });
}
