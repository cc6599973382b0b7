// The ivfflat access method handler, reloptions, GUCs, cost estimate, opclass validation, page
// helpers, and the k-means support function vector_spherical_distance.
#include "pg/ivfflat/ivfflat.hpp"
#include "pg/am/validate.hpp"

extern "C" {
#include "access/amvalidate.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "optimizer/optimizer.h"
#include "storage/bufmgr.h"
#include "utils/catcache.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"
#include "utils/syscache.h"
}

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/distance/distance.hpp"
#include "pg/am/element.hpp"
#include "pg/module.hpp"
#include "pg/type/vector.hpp"

namespace piramid::pg {

namespace ivfflat {

int g_probes = 1;
int g_iterative_scan = static_cast<int>(IterativeScan::kOff);
int g_max_probes = kMaxLists;

namespace {

relopt_kind g_relopt_kind;

struct Options {
    int32 vl_len_;
    int lists;
};

const struct config_enum_entry kIterativeScanOptions[] = {
    {"off", static_cast<int>(IterativeScan::kOff), false},
    {"relaxed_order", static_cast<int>(IterativeScan::kRelaxed), false},
    {nullptr, 0, false},
};

}  // namespace

void init_page(Page page, uint16 flags) {
    PageInit(page, BLCKSZ, sizeof(PageOpaque));
    PageOpaque* op = page_opaque(page);
    op->next = InvalidBlockNumber;
    op->flags = flags;
    op->page_id = kPageId;
}

Meta read_meta(Relation index) {
    Buffer buf = ReadBuffer(index, kMetaBlock);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buf);
    Meta m;
    std::memcpy(&m, page_meta(page), sizeof(m));
    const bool ok = !PageIsNew(page) && page_opaque(page)->page_id == kPageId &&
                    (page_opaque(page)->flags & kMetaPage) && m.magic == kMagic;
    UnlockReleaseBuffer(buf);
    if (!ok)
        ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                        errmsg("index \"%s\" is not a valid ivfflat index",
                               RelationGetRelationName(index))));
    if (m.version != kVersion)
        ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                        errmsg("ivfflat index \"%s\" has format version %u; this build reads %u",
                               RelationGetRelationName(index), m.version, kVersion),
                        errhint("REINDEX the index.")));
    return m;
}

uint32 lists_per_page(uint32 lanes) {
    const Size usable = BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(PageOpaque));
    return static_cast<uint32>(usable / (MAXALIGN(list_item_size(lanes)) + sizeof(ItemIdData)));
}

int option_lists(Relation index) {
    auto* opts = reinterpret_cast<Options*>(index->rd_options);
    return opts ? opts->lists : kDefaultLists;
}

distance::Metric index_metric(Relation index) {
    const distance::Metric m = hnsw::index_metric(index);
    if (m == distance::Metric::kL1 || m == distance::kHalfL1 || m == distance::kJaccard ||
        distance::element_kind(m) == distance::ElementKind::kSparse)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("ivfflat does not support the %s distance of this operator class",
                               distance::metric_name(m))));
    return m;
}

extern "C" {

static bytea* ivfflat_options(Datum reloptions, bool validate) {
    static const relopt_parse_elt tab[] = {
        {"lists", RELOPT_TYPE_INT, offsetof(Options, lists)},
    };
    return static_cast<bytea*>(
        build_reloptions(reloptions, validate, g_relopt_kind, sizeof(Options), tab, 1));
}

static char* ivfflat_buildphasename(int64 phase) {
    switch (phase) {
        case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
            return const_cast<char*>("initializing");
        case kPhaseKmeans:
            return const_cast<char*>("performing k-means");
        case kPhaseAssign:
            return const_cast<char*>("assigning tuples");
        case kPhaseLoad:
            return const_cast<char*>("loading tuples");
        default:
            return nullptr;
    }
}

static void ivfflat_costestimate(PlannerInfo* root, IndexPath* path, double loop_count,
                                 Cost* startup, Cost* total, Selectivity* selectivity,
                                 double* correlation, double* pages) {
    if (path->indexorderbys == NIL) {
        *startup = get_float8_infinity();
        *total = get_float8_infinity();
        *selectivity = 0;
        *correlation = 0;
        *pages = 0;
        return;
    }
    IndexOptInfo* index = path->indexinfo;
    int lists = kDefaultLists;
    {
        Relation rel = index_open(index->indexoid, NoLock);
        if (RelationGetNumberOfBlocks(rel) > 0) lists = static_cast<int>(read_meta(rel).lists);
        index_close(rel, NoLock);
    }
    // The scan reads `probes` of the lists (their share of the entries and pages) and every
    // center; it returns its first row only after all of that, so the startup cost is the total.
    const double ratio = std::min(1.0, static_cast<double>(g_probes) / std::max(1, lists));
    GenericCosts costs;
    std::memset(&costs, 0, sizeof(costs));
    costs.numIndexTuples = std::max(1.0, index->tuples * ratio);
    genericcostestimate(root, path, loop_count, &costs);
    // Entry pages of a list are read in sequence: charge them as sequential pages.
    double spc_seq = 1.0, spc_random = 4.0;
    get_tablespace_page_costs(index->reltablespace, &spc_random, &spc_seq);
    Cost cost = costs.indexTotalCost - costs.numIndexPages * (spc_random - spc_seq);
    // Large vectors live in TOAST, which a sequential scan's cost leaves out: the heap may be a
    // few pages of pointers while the probed lists are thousands of pages. When fewer than half
    // the lists are probed, pages beyond the heap's are not charged, so that the planner compares
    // like with like (pgvector does the same).
    const double heap_pages = static_cast<double>(index->rel->pages);
    if (ratio < 0.5 && costs.numIndexPages > heap_pages)
        cost -= (costs.numIndexPages - heap_pages) * spc_seq;
    if (cost < 0) cost = 0;
    // Distances to the centers.
    cost += lists * cpu_operator_cost;
    *startup = cost;
    *total = cost;
    *selectivity = costs.indexSelectivity;
    *correlation = 0;
    *pages = costs.numIndexPages;
}

static bool ivfflat_validate(Oid opclassoid) {
    return piramid::pg::validate_distance_opclass(opclassoid, "ivfflat", 5);
}

}  // extern "C"

}  // namespace ivfflat

void ivfflat_define_gucs() {
    using namespace ivfflat;
    g_relopt_kind = add_reloption_kind();
    add_int_reloption(g_relopt_kind, "lists", "Number of inverted lists", kDefaultLists, 1,
                      kMaxLists, AccessExclusiveLock);
    DefineCustomIntVariable("ivfflat.probes", "Sets the number of probes",
                            "Valid range is 1..lists.", &g_probes, 1, 1, kMaxLists, PGC_USERSET, 0,
                            nullptr, nullptr, nullptr);
    DefineCustomEnumVariable("ivfflat.iterative_scan", "Sets the mode for iterative scans", nullptr,
                             &g_iterative_scan, static_cast<int>(IterativeScan::kOff),
                             kIterativeScanOptions, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "ivfflat.max_probes", "Sets the max number of probes for iterative scans", nullptr,
        &g_max_probes, kMaxLists, 1, kMaxLists, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    MarkGUCPrefixReserved("ivfflat");
}

}  // namespace piramid::pg

using namespace piramid::pg::ivfflat;

PIRAMID_FUNCTION(ivfflathandler) {
    IndexAmRoutine* am = makeNode(IndexAmRoutine);
    am->amstrategies = 0;
    am->amsupport = 5;
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
    am->ambuild = ivfflat_build;
    am->ambuildempty = ivfflat_buildempty;
    am->aminsert = ivfflat_insert;
    am->ambulkdelete = ivfflat_bulkdelete;
    am->amvacuumcleanup = ivfflat_vacuumcleanup;
    am->amcanreturn = nullptr;
    am->amcostestimate = ivfflat_costestimate;
    am->amoptions = ivfflat_options;
    am->amproperty = nullptr;
    am->ambuildphasename = ivfflat_buildphasename;
    am->amvalidate = ivfflat_validate;
    am->amadjustmembers = nullptr;
    am->ambeginscan = ivfflat_beginscan;
    am->amrescan = ivfflat_rescan;
    am->amgettuple = ivfflat_gettuple;
    am->amgetbitmap = nullptr;
    am->amendscan = ivfflat_endscan;
    am->ammarkpos = nullptr;
    am->amrestrpos = nullptr;
    am->amestimateparallelscan = nullptr;
    am->aminitparallelscan = nullptr;
    am->amparallelrescan = nullptr;
    PG_RETURN_POINTER(am);
}

// Support function 5 of the halfvec and bit opclasses (pgvector's catalog layout): markers; the
// element kind follows from the opclass's type.
PIRAMID_FUNCTION(ivfflat_halfvec_support) {
    PG_RETURN_POINTER(const_cast<char*>("halfvec"));
}

PIRAMID_FUNCTION(ivfflat_bit_support) {
    PG_RETURN_POINTER(const_cast<char*>("bit"));
}

// vector_spherical_distance(vector, vector) RETURNS double precision: acos(a.b) / pi, the inner
// product clamped to [-1, 1] (for unit vectors: the angle as a share of pi); ivfflat's k-means
// distance for inner product and cosine (support function 3).
PIRAMID_FUNCTION(vector_spherical_distance) {
    return piramid::pg::guard([&]() -> Datum {
        const piramid::pg::Vector* a = PIRAMID_GETARG_VECTOR(0);
        const piramid::pg::Vector* b = PIRAMID_GETARG_VECTOR(1);
        piramid::pg::check_same_dims(a, b);
        double d =
            static_cast<double>(piramid::distance::dot(a->x, b->x, static_cast<size_t>(a->dim)));
        if (d > 1.0) d = 1.0;
        if (d < -1.0) d = -1.0;
        PG_RETURN_FLOAT8(std::acos(d) / M_PI);
    });
}
