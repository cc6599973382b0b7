// The hnsw index access method: callbacks, options and GUCs shared by the am/ files.
#pragma once

#include "pg/guard.hpp"

extern "C" {
#include "access/amapi.h"
#include "access/genam.h"
#include "access/reloptions.h"
#include "nodes/execnodes.h"
#include "utils/rel.h"
}

#include "core/distance/distance.hpp"
#include "pg/am/element.hpp"
#include "pg/storage/page.hpp"
#include "pg/type/vector.hpp"

namespace piramid::pg::hnsw {

inline constexpr int kDefaultM = 16;
inline constexpr int kMinM = 2;
inline constexpr int kMaxM = 100;
inline constexpr int kDefaultEfConstruction = 64;
inline constexpr int kMinEfConstruction = 4;
inline constexpr int kMaxEfConstruction = 1000;

// Parsed reloptions (varlena: vl_len_ first).
struct Options {
    int32 vl_len_;
    int m;
    int ef_construction;
};

enum class IterativeScan { kOff = 0, kRelaxed = 1, kStrict = 2 };

// GUCs (hnsw.*).
extern int g_ef_search;
extern int g_iterative_scan;
extern int g_max_scan_tuples;
extern double g_scan_mem_multiplier;
// piramid.hnsw_build_method: how CREATE INDEX builds the graph in memory.
enum class BuildMethod { kInsert = 0, kEngine = 1, kAuto = 2 };
extern int g_build_method;

// Build phases reported in pg_stat_progress_create_index.
inline constexpr int64 kPhaseLoad = 2;
inline constexpr int64 kPhaseWrite = 3;

void register_reloptions();
int option_m(Relation index);
int option_ef_construction(Relation index);

// Inserts one vector with its heap TID into the on-disk graph (aminsert and the build's on-disk
// continuation). `vec` is already prepared.
void insert_on_disk(Relation index, const float* vec, ItemPointer tid);

// Draws a level for a new element (geometric, 1/ln(m), from a hash of its heap TID), capped
// at max_level.
int random_level(int m, int max_level, const ItemPointerData* tid);

// Access method callbacks (C linkage: Postgres calls them through IndexAmRoutine).
extern "C" {
IndexBuildResult* hnsw_build(Relation heap, Relation index, IndexInfo* info);
void hnsw_buildempty(Relation index);
bool hnsw_insert(Relation index, Datum* values, bool* isnull, ItemPointer heap_tid, Relation heap,
                 IndexUniqueCheck check_unique, bool index_unchanged, IndexInfo* info);
IndexBulkDeleteResult* hnsw_bulkdelete(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                                       IndexBulkDeleteCallback callback, void* callback_state);
IndexBulkDeleteResult* hnsw_vacuumcleanup(IndexVacuumInfo* info, IndexBulkDeleteResult* stats);
void hnsw_costestimate(PlannerInfo* root, IndexPath* path, double loop_count, Cost* startup,
                       Cost* total, Selectivity* selectivity, double* correlation, double* pages);
bytea* hnsw_options(Datum reloptions, bool validate);
bool hnsw_validate(Oid opclassoid);
char* hnsw_buildphasename(int64 phase);
IndexScanDesc hnsw_beginscan(Relation index, int nkeys, int norderbys);
void hnsw_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
bool hnsw_gettuple(IndexScanDesc scan, ScanDirection dir);
void hnsw_endscan(IndexScanDesc scan);
}

// Opens relid (relation_open with mode), raising an error unless it is an hnsw index
// (verify.cpp).
Relation open_hnsw_index(Oid relid, LOCKMODE mode);

}  // namespace piramid::pg::hnsw
