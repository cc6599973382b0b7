// The transition state of avg(vector) and avg(halfvec): a double precision[] laid out as
// {count, sum_1, ..., sum_dim} (pgvector's layout, so either type's state functions read states
// built by the other; halfvec_combine is vector_combine itself). The functions are defined in
// vector_agg.cpp.
//
// The state functions are SQL-callable with any double precision[], so every state is checked
// before use: a crafted array gets an ERROR, never a wild read. pgvector's checks come first,
// with its message ("<function>: expected state array"); piramid also rejects states no
// aggregate can produce (a row count that is not a non-negative integer, sums that are not
// finite, rows without sums), under the same message with a DETAIL saying why. A state with no
// rows may still carry sums (pgvector's accumulate functions add to them).
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/float.h"
}

#include <cmath>

namespace piramid::pg {

struct AvgState {
    double count;  // rows accumulated (0 for the initial state)
    int dim;       // number of sums: 0 for the initial state
    double* sums;  // dim values, inside the array
};

// Validates a state array and returns a view of it. `caller` names the SQL function in the
// message; check_dims(dim) checks a non-zero number of sums (the type's dimension limits).
AvgState read_avg_state(ArrayType* a, const char* caller, void (*check_dims)(int64));

// Raises 22000 "expected %d dimensions, not %d" (pgvector's message for mismatched states).
void check_avg_state_dims(int expected, int actual);

// A new state array {count, 0...} in CurrentMemoryContext; *sums_out points at its sums.
ArrayType* new_avg_state(double count, int dim, double** sums_out);

// The transition: adds the row x[0, dim) (each element read as double by to_double) to the
// checked state s of array a and returns the new state. A state without sums takes the row's
// dimensions; otherwise they must match. Called as an aggregate, the state array is updated in
// place when it is not a detoasted copy (saves a palloc and a copy of dim doubles per row).
// to_double must not ereport.
template <typename Elem, typename ToDouble>
ArrayType* avg_state_accum(FunctionCallInfo fcinfo, ArrayType* a, const AvgState& s, const Elem* x,
                           int dim, ToDouble to_double) {
    double* sums = nullptr;
    if (s.dim == 0) {
        ArrayType* r = new_avg_state(s.count + 1, dim, &sums);
        for (int i = 0; i < dim; ++i) sums[i] = to_double(x[i]);
        return r;
    }
    check_avg_state_dims(s.dim, dim);
    const bool in_place = AggCheckCallContext(fcinfo, nullptr) != 0 &&
                          DatumGetPointer(PG_GETARG_DATUM(0)) == reinterpret_cast<Pointer>(a);
    ArrayType* r = a;
    sums = s.sums;
    if (!in_place) r = new_avg_state(s.count, s.dim, &sums);
    reinterpret_cast<double*>(ARR_DATA_PTR(r))[0] = s.count + 1;
    for (int i = 0; i < s.dim; ++i) {
        const double t = s.sums[i] + to_double(x[i]);
        if (std::isinf(t)) float_overflow_error();
        sums[i] = t;
    }
    return r;
}

}  // namespace piramid::pg
