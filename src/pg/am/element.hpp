// What an hnsw index stores for one column value: the element kind (vector, halfvec, bit)
// follows from the opclass, and every value is turned into its stored form (lanes of 32 bits,
// core/distance/lanes.hpp) here, for build, insert and scan alike.
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/rel.h"
}

#include "core/distance/lanes.hpp"

namespace piramid::pg::hnsw {

// The metric of an index from its opclass: the support function and the opclass's type.
// ERROR for an opclass whose function or type hnsw does not know.
distance::Metric index_metric(Relation index);

// The SQL type of an element kind ("vector", "halfvec", "bit").
const char* kind_type_name(distance::ElementKind kind);

// The most dimensions an hnsw column of this kind may have (pgvector's limits: 2,000 for
// vector, 4,000 for halfvec, 64,000 for bit); a page must also hold the element.
int max_index_dims(distance::ElementKind kind);

// Writes the stored form of `value` (a vector, halfvec or bit datum, as the metric says) into
// out[0..lanes_for(kind, dims)), padding with zeros; cosine values are normalised. ERROR when its
// dimensions are not `dims`: on insert and build pgvector's "expected %d dimensions, not %d",
// for a query (`query`) the type's own "different ... dimensions" message. Returns false when the
// value is not indexable (norm 0 under cosine). Detoasts in CurrentMemoryContext. A sparsevec
// (dims: the column's) stored in an index (not `query`) has at most 1,000 non-zeros, pgvector's
// ERROR otherwise.
bool prepare_datum(distance::Metric metric, int dims, Datum value, float* out, bool query);

// Whether a value of a column with this metric is indexed (false: norm 0 under cosine).
bool datum_indexable(distance::Metric metric, Datum value);

// Lanes the stored form of `value` takes (prepare_datum's out must hold that many): the index's
// lanes, or for a sparsevec 1 + 2 nnz (a query may have up to 16,000 non-zeros).
size_t datum_lanes(distance::Metric metric, int dims, Datum value);

// ERROR for an element (its own lanes) that does not fit a page even as a wide element (list
// tuple apart): a guard, unreachable within the types' limits.
[[noreturn]] void element_too_large(int lanes, int m);

}  // namespace piramid::pg::hnsw
