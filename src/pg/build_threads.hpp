// Threads for CREATE INDEX (hnsw and ivfflat build on threads of the backend, not on parallel
// worker processes): the leader plus as many as the parallel workers Postgres would grant this
// build, so that the same settings govern it (max_parallel_maintenance_workers, the table's
// parallel_workers option, min_parallel_table_scan_size against the table's size), capped by
// the CPUs. Postgres calls: call from the backend's thread, outside threads.
#pragma once

extern "C" {
#include "postgres.h"
#include "utils/rel.h"
}

namespace piramid::pg {

int index_build_threads(Relation heap, Relation index);

// pgvector's DEBUG1 line "using N parallel workers", for a build that runs on `threads`
// threads (nothing for one).
void report_build_workers(int threads);

}  // namespace piramid::pg
