// The hnsw access method handler, reloptions, cost estimate and opclass validation.
#include "pg/am/hnsw_am.hpp"
#include "pg/am/validate.hpp"

extern "C" {
#include "access/amvalidate.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_type.h"
#include "commands/vacuum.h"
#include "optimizer/optimizer.h"
#include "utils/catcache.h"
#include "utils/lsyscache.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"
#include "utils/syscache.h"
#include "commands/progress.h"
#include "utils/float.h"
}

#include <cmath>
#include <cstring>

namespace piramid::pg::hnsw {

namespace {
relopt_kind g_relopt_kind;
}

void register_reloptions() {
    g_relopt_kind = add_reloption_kind();
    add_int_reloption(g_relopt_kind, "m", "Maximum number of connections per element per layer",
                      kDefaultM, kMinM, kMaxM, AccessExclusiveLock);
    add_int_reloption(g_relopt_kind, "ef_construction",
                      "Size of the dynamic candidate list for construction", kDefaultEfConstruction,
                      kMinEfConstruction, kMaxEfConstruction, AccessExclusiveLock);
}

extern "C" bytea* hnsw_options(Datum reloptions, bool validate) {
    static const relopt_parse_elt tab[] = {
        {"m", RELOPT_TYPE_INT, offsetof(Options, m)},
        {"ef_construction", RELOPT_TYPE_INT, offsetof(Options, ef_construction)},
    };
    bytea* result = static_cast<bytea*>(
        build_reloptions(reloptions, validate, g_relopt_kind, sizeof(Options), tab, 2));
    if (result != nullptr && validate) {
        auto* opts = reinterpret_cast<Options*>(result);
        if (opts->ef_construction < 2 * opts->m)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("ef_construction must be greater than or equal to 2 * m"),
                            errdetail("ef_construction is %d and m is %d.", opts->ef_construction,
                                      opts->m)));
    }
    return result;
}

int option_m(Relation index) {
    auto* opts = reinterpret_cast<Options*>(index->rd_options);
    return opts ? opts->m : kDefaultM;
}

int option_ef_construction(Relation index) {
    auto* opts = reinterpret_cast<Options*>(index->rd_options);
    return opts ? opts->ef_construction : kDefaultEfConstruction;
}

int random_level(int m, int max_level, const ItemPointerData* tid) {
    // The draw is a hash of the heap TID: geometric as HNSW wants, and reproducible, so the
    // same rows inserted in the same order give the same graph (tests, replicas, bug reports).
    uint64_t x = (static_cast<uint64_t>(ItemPointerGetBlockNumberNoCheck(tid)) << 16) |
                 ItemPointerGetOffsetNumberNoCheck(tid);
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    x ^= x >> 31;
    const double u = (static_cast<double>(x >> 11) + 0.5) * (1.0 / 9007199254740992.0);
    const double ml = 1.0 / std::log(static_cast<double>(m));
    const int level = static_cast<int>(std::floor(-std::log(u) * ml));
    return level > max_level ? max_level : level;
}

extern "C" char* hnsw_buildphasename(int64 phase) {
    switch (phase) {
        case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
            return const_cast<char*>("initializing");
        case kPhaseLoad:
            return const_cast<char*>("loading tuples");
        case kPhaseWrite:
            return const_cast<char*>("writing pages");
        default:
            return nullptr;
    }
}

extern "C" void hnsw_costestimate(PlannerInfo* root, IndexPath* path, double loop_count,
                                  Cost* startup, Cost* total, Selectivity* selectivity,
                                  double* correlation, double* pages) {
    // Only ORDER BY <distance operator> scans make sense for this index.
    if (path->indexorderbys == NIL) {
        *startup = get_float8_infinity();
        *total = get_float8_infinity();
        *selectivity = 0;
        *correlation = 0;
        *pages = 0;
        return;
    }
    // The scan is costed as a scan of the whole index (what an iterative scan may read), of
    // which the first batch (the ef_search best) is the startup cost. The planner then charges
    // a LIMIT k query the startup plus the share of the rest that k rows need once the filters
    // on top are applied: the more rows a WHERE clause removes, the more of the index a LIMIT
    // needs, and a selective filter makes a sequential scan (exact, and returning the LIMIT)
    // cheaper, as it should be.
    GenericCosts costs;
    std::memset(&costs, 0, sizeof(costs));
    genericcostestimate(root, path, loop_count, &costs);
    IndexOptInfo* index = path->indexinfo;
    int m = kDefaultM;
    {
        Relation rel = index_open(index->indexoid, NoLock);
        m = option_m(rel);
        index_close(rel, NoLock);
    }
    // Share of the index that the first batch visits: the descent (about m nodes per upper
    // level) plus the layer-0 search, whose ef_search expansions meet up to 2m new nodes each,
    // fewer as the neighbourhood fills up (the empirical factor decays with log(ef) and grows
    // with the graph's depth).
    double ratio = 1.0;
    const double tuples = index->tuples;
    if (tuples > 1) {
        const double logm = std::log(static_cast<double>(m));
        const double levels = std::floor(std::log(tuples) / logm);
        const double ef = std::max(1, g_ef_search);
        const double layer0 =
            2.0 * m * ef * (0.55 * std::log(tuples) / (logm * (1.0 + std::log(ef))));
        ratio = std::min(1.0, (levels * m + layer0) / tuples);
    }
    Cost first = costs.indexTotalCost * ratio;
    // Large vectors live in TOAST, which a sequential scan's cost does not count: when the first
    // batch reads more index pages than the heap has, count them as sequential pages and no more
    // than the heap's, so that wide vectors are costed like narrow ones.
    double seq_page_cost = 1.0;
    get_tablespace_page_costs(index->reltablespace, nullptr, &seq_page_cost);
    const double first_pages = costs.numIndexPages * ratio;
    const double heap_pages = static_cast<double>(index->rel->pages);
    if (ratio < 0.5 && first_pages > heap_pages) {
        first -= first_pages * (costs.spc_random_page_cost - seq_page_cost);
        first -= (first_pages - heap_pages) * seq_page_cost;
        if (first < 0) first = 0;
    }
    *startup = first;
    *total = std::max(costs.indexTotalCost, first);
    *selectivity = costs.indexSelectivity;
    *correlation = 0;
    *pages = costs.numIndexPages;
}

extern "C" bool hnsw_validate(Oid opclassoid) {
    return validate_distance_opclass(opclassoid, "hnsw", 3);
}

}  // namespace piramid::pg::hnsw

using namespace piramid::pg::hnsw;

PIRAMID_FUNCTION(hnswhandler) {
    IndexAmRoutine* am = makeNode(IndexAmRoutine);
    am->amstrategies = 0;
    am->amsupport = 3;
    am->amoptsprocnum = 0;
    am->amcanorder = false;
    am->amcanorderbyop = true;
    am->amcanbackward = false;
    am->amcanunique = false;
    am->amcanmulticol = false;
    am->amoptionalkey = true;
    am->amsearcharray = false;
    am->amsearchnulls = false;
    am->amstorage = false;
    am->amclusterable = false;
    am->ampredlocks = false;
    am->amcanparallel = false;
    am->amcaninclude = false;
    am->amusemaintenanceworkmem = false;
    am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
    am->amkeytype = InvalidOid;
    am->ambuild = hnsw_build;
    am->ambuildempty = hnsw_buildempty;
    am->aminsert = hnsw_insert;
    am->ambulkdelete = hnsw_bulkdelete;
    am->amvacuumcleanup = hnsw_vacuumcleanup;
    am->amcanreturn = nullptr;
    am->amcostestimate = hnsw_costestimate;
    am->amoptions = hnsw_options;
    am->amproperty = nullptr;
    am->ambuildphasename = hnsw_buildphasename;
    am->amvalidate = hnsw_validate;
    am->amadjustmembers = nullptr;
    am->ambeginscan = hnsw_beginscan;
    am->amrescan = hnsw_rescan;
    am->amgettuple = hnsw_gettuple;
    am->amgetbitmap = nullptr;
    am->amendscan = hnsw_endscan;
    am->ammarkpos = nullptr;
    am->amrestrpos = nullptr;
    am->amestimateparallelscan = nullptr;
    am->aminitparallelscan = nullptr;
    am->amparallelrescan = nullptr;
    PG_RETURN_POINTER(am);
}
