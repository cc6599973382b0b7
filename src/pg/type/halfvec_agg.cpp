// Aggregates avg(halfvec) and sum(halfvec). avg keeps its state as a double precision[] laid out
// as {count, sum_1, ..., sum_dim}, the same layout as avg(vector) (pgvector's), so its combine
// function is vector_combine itself (SQL name halfvec_combine, as in pgvector); the sums are
// accumulated in double and the mean rounded to float, then to half, once at the end. sum uses
// halfvec_add (each partial sum rounded to half, as pgvector).
//
// The state functions are SQL-callable with any double precision[], so every state is checked
// before use: a crafted array gets an ERROR, never a wild read.
#include "pg/type/halfvec.hpp"

#include "pg/guard.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/float.h"
}

#include <cmath>

namespace {

using piramid::pg::float_to_half_checked;
using piramid::pg::guard;
using piramid::pg::halfvec_alloc;
using piramid::pg::halfvec_check_dim_range;
using piramid::pg::HalfVector;
namespace dist = piramid::distance;

[[noreturn]] void bad_state(const char* detail) {
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("invalid state for halfvec aggregate"),
                    errdetail("%s", detail)));
    pg_unreachable();
}

struct State {
    double count;  // rows accumulated (0 for the initial state)
    int dim;       // 0 for the initial state
    double* sums;  // dim values, inside the array
};

// Validates a transition state array and returns a view of it (the rules of vector_agg.cpp,
// whose vector_combine also merges these states).
State read_state(ArrayType* a) {
    if (ARR_ELEMTYPE(a) != FLOAT8OID) bad_state("The state must be a double precision array.");
    if (ARR_NDIM(a) != 1) bad_state("The state array must have exactly one dimension.");
    if (ARR_HASNULL(a) && array_contains_nulls(a)) bad_state("The state array contains nulls.");
    const int len = ARR_DIMS(a)[0];
    if (len < 1) bad_state("The state array is empty.");
    double* values = reinterpret_cast<double*>(ARR_DATA_PTR(a));
    const double count = values[0];
    if (!std::isfinite(count) || count < 0 || std::floor(count) != count) {
        bad_state("The row count (first element) must be a non-negative integer.");
    }
    State s{count, len - 1, values + 1};
    if (count == 0) {
        if (len != 1) bad_state("A state with no rows holds no sums.");
        return s;
    }
    if (s.dim < 1) bad_state("A state with rows must hold their sums.");
    halfvec_check_dim_range(s.dim);
    for (int i = 0; i < s.dim; ++i) {
        if (!std::isfinite(s.sums[i])) bad_state("The sums must be finite.");
    }
    return s;
}

// A new state array {count, sums...} in CurrentMemoryContext.
ArrayType* new_state(double count, int dim, double** sums_out) {
    Datum* d = static_cast<Datum*>(palloc(sizeof(Datum) * (dim + 1)));
    for (int i = 0; i <= dim; ++i) d[i] = Float8GetDatum(0.0);
    d[0] = Float8GetDatum(count);
    ArrayType* a =
        construct_array(d, dim + 1, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
    *sums_out = reinterpret_cast<double*>(ARR_DATA_PTR(a)) + 1;
    return a;
}

}  // namespace

// halfvec_accum(double precision[], halfvec) RETURNS double precision[]: avg's transition.
PIRAMID_FUNCTION(halfvec_accum) {
    return guard([&]() -> Datum {
        ArrayType* a = PG_GETARG_ARRAYTYPE_P(0);
        const HalfVector* v = PIRAMID_GETARG_HALFVEC(1);
        const State s = read_state(a);
        if (s.count == 0) {
            double* sums = nullptr;
            ArrayType* r = new_state(1, v->dim, &sums);
            for (int i = 0; i < v->dim; ++i) sums[i] = dist::half_to_float(v->x[i]);
            PG_RETURN_ARRAYTYPE_P(r);
        }
        if (s.dim != v->dim) {
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                            errmsg("expected %d dimensions, not %d", s.dim, v->dim)));
        }
        // As an aggregate, the state is ours to update in place (when it was not detoasted into
        // a copy).
        const bool in_place = AggCheckCallContext(fcinfo, nullptr) != 0 &&
                              DatumGetPointer(PG_GETARG_DATUM(0)) == reinterpret_cast<Pointer>(a);
        ArrayType* r = a;
        double* sums = s.sums;
        if (!in_place) r = new_state(s.count, s.dim, &sums);
        reinterpret_cast<double*>(ARR_DATA_PTR(r))[0] = s.count + 1;
        for (int i = 0; i < s.dim; ++i) {
            const double t = s.sums[i] + dist::half_to_float(v->x[i]);
            if (std::isinf(t)) float_overflow_error();
            sums[i] = t;
        }
        PG_RETURN_ARRAYTYPE_P(r);
    });
}

// halfvec_avg(double precision[]) RETURNS halfvec: avg's final function; NULL for no rows.
PIRAMID_FUNCTION(halfvec_avg) {
    return guard([&]() -> Datum {
        ArrayType* a = PG_GETARG_ARRAYTYPE_P(0);
        const State s = read_state(a);
        if (s.count == 0) PG_RETURN_NULL();
        HalfVector* r = halfvec_alloc(s.dim);
        for (int i = 0; i < s.dim; ++i) {
            r->x[i] = float_to_half_checked(static_cast<float>(s.sums[i] / s.count));
        }
        PG_RETURN_POINTER(r);
    });
}
