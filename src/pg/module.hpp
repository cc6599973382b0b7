// Module-wide entry points called from _PG_init. Each subsystem defines its own GUCs.
#pragma once

namespace piramid::pg {

void hnsw_define_gucs();  // src/pg/am
void gpu_define_gucs();   // src/pg/engine
void ivfflat_define_gucs();  // src/pg/ivfflat

}  // namespace piramid::pg
