// amvalidate for piramid's distance index methods (hnsw, ivfflat): an opclass needs an ORDER BY
// operator (strategy 1) and a distance support function (1), and support numbers in 1..max.
// Problems are reported as INFO messages naming the method and the opclass, as PostgreSQL's own
// validators do; the result says whether there were none.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace piramid::pg {

bool validate_distance_opclass(Oid opclassoid, const char* amname, int max_support);

}  // namespace piramid::pg
