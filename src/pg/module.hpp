// Module-wide entry points called from _PG_init. Each subsystem defines its own GUCs.
#pragma once

namespace piramid::pg {

void hnsw_define_gucs();     // src/pg/am
void gpu_define_gucs();      // src/pg/engine
void ivfflat_define_gucs();  // src/pg/ivfflat
void fdw_limit_define();     // src/pg/fdw_limit.cpp: postgres_fdw fetches under a LIMIT

}  // namespace piramid::pg
