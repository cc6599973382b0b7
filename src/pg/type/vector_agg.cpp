// Aggregates avg(vector) and sum(vector). avg keeps its state as a double precision[] laid out
// as {count, sum_1, ..., sum_dim} (pgvector's layout, see avg_state.hpp: the state functions
// are shared with avg(halfvec), and defined here); sum uses vector_add directly. Both are
// parallel safe: the avg state combines with vector_combine, sum's with vector_add.
#include "pg/type/avg_state.hpp"

#include "pg/guard.hpp"
#include "pg/type/vector.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/float.h"
}

#include <cmath>

namespace piramid::pg {

namespace {

[[noreturn]] void bad_state(const char* caller, const char* detail) {
    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("%s: expected state array", caller),
                    errdetail("%s", detail)));
    pg_unreachable();
}

}  // namespace

AvgState read_avg_state(ArrayType* a, const char* caller, void (*check_dims)(int64)) {
    if (ARR_ELEMTYPE(a) != FLOAT8OID) {
        bad_state(caller, "The state must be a double precision array.");
    }
    if (ARR_NDIM(a) != 1) bad_state(caller, "The state array must have exactly one dimension.");
    if (ARR_HASNULL(a) && array_contains_nulls(a)) {
        bad_state(caller, "The state array contains nulls.");
    }
    const int len = ARR_DIMS(a)[0];
    if (len < 1) bad_state(caller, "The state array is empty.");
    double* values = reinterpret_cast<double*>(ARR_DATA_PTR(a));
    const double count = values[0];
    if (!std::isfinite(count) || count < 0 || std::floor(count) != count) {
        bad_state(caller, "The row count (first element) must be a non-negative integer.");
    }
    AvgState s{count, len - 1, values + 1};
    if (count != 0 && s.dim < 1) bad_state(caller, "A state with rows must hold their sums.");
    if (s.dim > 0) check_dims(s.dim);
    for (int i = 0; i < s.dim; ++i) {
        if (!std::isfinite(s.sums[i])) bad_state(caller, "The sums must be finite.");
    }
    return s;
}

void check_avg_state_dims(int expected, int actual) {
    if (expected != actual) {
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("expected %d dimensions, not %d", expected, actual)));
    }
}

ArrayType* new_avg_state(double count, int dim, double** sums_out) {
    Datum* d = static_cast<Datum*>(palloc(sizeof(Datum) * (dim + 1)));
    for (int i = 0; i <= dim; ++i) d[i] = Float8GetDatum(0.0);
    d[0] = Float8GetDatum(count);
    ArrayType* a =
        construct_array(d, dim + 1, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
    *sums_out = reinterpret_cast<double*>(ARR_DATA_PTR(a)) + 1;
    return a;
}

}  // namespace piramid::pg

namespace {

using piramid::pg::AvgState;
using piramid::pg::check_avg_state_dims;
using piramid::pg::check_dim_range;
using piramid::pg::check_element;
using piramid::pg::guard;
using piramid::pg::new_avg_state;
using piramid::pg::read_avg_state;
using piramid::pg::Vector;
using piramid::pg::vector_alloc;

}  // namespace

// vector_accum(double precision[], vector) RETURNS double precision[]: avg's transition.
PIRAMID_FUNCTION(vector_accum) {
    return guard([&]() -> Datum {
        ArrayType* a = PG_GETARG_ARRAYTYPE_P(0);
        const Vector* v = PIRAMID_GETARG_VECTOR(1);
        const AvgState s = read_avg_state(a, "vector_accum", check_dim_range);
        PG_RETURN_ARRAYTYPE_P(piramid::pg::avg_state_accum(
            fcinfo, a, s, v->x, v->dim, [](float x) { return static_cast<double>(x); }));
    });
}

// vector_combine(double precision[], double precision[]) RETURNS double precision[]: merges two
// partial avg states (parallel aggregation).
PIRAMID_FUNCTION(vector_combine) {
    return guard([&]() -> Datum {
        ArrayType* a = PG_GETARG_ARRAYTYPE_P(0);
        ArrayType* b = PG_GETARG_ARRAYTYPE_P(1);
        const AvgState sa = read_avg_state(a, "vector_combine", check_dim_range);
        const AvgState sb = read_avg_state(b, "vector_combine", check_dim_range);
        // By dimensions, as vector_accum starts a state: combining two empty partial states (a
        // parallel avg whose workers all saw no rows) gives an empty state.
        if (sa.dim != 0 && sb.dim != 0) check_avg_state_dims(sa.dim, sb.dim);
        const int dim = sa.dim != 0 ? sa.dim : sb.dim;
        double* sums = nullptr;
        ArrayType* r = new_avg_state(sa.count + sb.count, dim, &sums);
        for (int i = 0; i < dim; ++i) {
            const double t = (sa.dim != 0 ? sa.sums[i] : 0.0) + (sb.dim != 0 ? sb.sums[i] : 0.0);
            if (std::isinf(t)) float_overflow_error();
            sums[i] = t;
        }
        PG_RETURN_ARRAYTYPE_P(r);
    });
}

// vector_avg(double precision[]) RETURNS vector: avg's final function; NULL for no rows.
PIRAMID_FUNCTION(vector_avg) {
    return guard([&]() -> Datum {
        ArrayType* a = PG_GETARG_ARRAYTYPE_P(0);
        const AvgState s = read_avg_state(a, "vector_avg", check_dim_range);
        if (s.count == 0) PG_RETURN_NULL();
        Vector* r = vector_alloc(s.dim);
        for (int i = 0; i < s.dim; ++i) {
            r->x[i] = static_cast<float>(s.sums[i] / s.count);
            check_element(r->x[i]);
        }
        PG_RETURN_POINTER(r);
    });
}
