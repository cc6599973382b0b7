// piramid_knn(): batched exact k-NN over a table column through the distance engines, and
// piramid_gpu_info(). Postgres work (scan, detoast, tuplestore) happens here on the backend
// thread with plain palloc'd state; each chunk's distance work runs in run_topk(), which may use
// threads or the GPU worker and returns only after they are done.
#include <cmath>
#include <cstring>
#include <limits>

#include "pg/engine/gpu.hpp"
#include "pg/guard.hpp"
#include "pg/type/vector.hpp"

extern "C" {
#include "access/heapam.h"
#include "access/relscan.h"
#include "access/tableam.h"
#include "catalog/pg_class.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "storage/ipc.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"
}

namespace {

using piramid::engine::Metric;
namespace gpu = piramid::pg::gpu;

void register_exit_once() {
    static bool done = false;
    if (!done) {
        on_proc_exit([](int, Datum) { gpu::shutdown(); }, 0);
        done = true;
    }
}

Metric parse_metric(const char* s) {
    if (strcmp(s, "l2") == 0) return Metric::kL2;
    if (strcmp(s, "ip") == 0) return Metric::kInnerProduct;
    if (strcmp(s, "cosine") == 0) return Metric::kCosine;
    if (strcmp(s, "l1") == 0) return Metric::kL1;
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("unknown metric \"%s\"", s),
                    errhint("Use one of 'l2', 'ip', 'cosine', 'l1'.")));
    pg_unreachable();
}

// A heap TID as an int64 that grows in sequential-scan order: ties between equal distances are
// broken by physical position, the same way whatever the chunking.
int64 tid_code(const ItemPointerData* tid) {
    return (static_cast<int64>(ItemPointerGetBlockNumberNoCheck(tid)) << 16) |
           ItemPointerGetOffsetNumberNoCheck(tid);
}

void tid_decode(int64 code, ItemPointerData* tid) {
    ItemPointerSet(tid, static_cast<BlockNumber>(code >> 16),
                   static_cast<OffsetNumber>(code & 0xffff));
}

struct Knn {
    int nq;
    int dim;
    int k;     // as asked
    int kres;  // result slots per query: min(k, an upper bound on the rows scanned); 0 until
               // the per-query state is allocated
    Metric metric;
    float* queries;  // nq x dim
    int64* acc_ids;  // nq x kres running top-k (tid codes)
    double* acc_dists;
    int64* chunk_ids;  // nq x kres, one chunk's result (only when there is more than one chunk)
    double* chunk_dists;
    float* rows;      // cap x dim
    int64* row_tids;  // cap
    int n;
    int cap;
    const char* relname;
};

// Allocates the per-query state for at most `rows_bound` rows: kres = min(k, rows_bound) result
// slots per query, twice when chunks must be merged. Raises program_limit_exceeded, before
// allocating anything, when that is more than work_mem: queries x k is chosen by the caller and
// nothing here can spill to disk.
void alloc_results(Knn* st, int64 rows_bound, bool merging) {
    const int64 kres = Max(static_cast<int64>(1), Min(static_cast<int64>(st->k), rows_bound));
    const Size slot_bytes = (sizeof(int64) + sizeof(double)) * (merging ? 2 : 1);
    const Size need = static_cast<Size>(st->nq) * static_cast<Size>(kres) * slot_bytes;
    const Size budget = static_cast<Size>(work_mem) * 1024;
    if (need > budget) {
        ereport(ERROR,
                (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                 errmsg("piramid_knn needs %zu kB for %d queries x %lld results, more than "
                        "work_mem (%d kB)",
                        static_cast<size_t>((need + 1023) / 1024), st->nq,
                        static_cast<long long>(kres), work_mem),
                 errdetail("Each query keeps %zu bytes per result slot, and a query has "
                           "min(k, rows of \"%s\") slots.",
                           static_cast<size_t>(slot_bytes), st->relname),
                 errhint("Raise work_mem, or pass fewer queries or a smaller k per call "
                         "(for example in batches of %lld queries).",
                         static_cast<long long>(Max(static_cast<Size>(1),
                                                    budget / (static_cast<Size>(kres) *
                                                              slot_bytes))))));
    }
    st->kres = static_cast<int>(kres);
    const Size results = static_cast<Size>(st->nq) * st->kres;
    st->acc_ids = static_cast<int64*>(palloc_extended(results * sizeof(int64), MCXT_ALLOC_HUGE));
    st->acc_dists =
        static_cast<double*>(palloc_extended(results * sizeof(double), MCXT_ALLOC_HUGE));
    if (merging) {
        st->chunk_ids =
            static_cast<int64*>(palloc_extended(results * sizeof(int64), MCXT_ALLOC_HUGE));
        st->chunk_dists =
            static_cast<double*>(palloc_extended(results * sizeof(double), MCXT_ALLOC_HUGE));
        piramid::engine::clear_topk(st->nq, st->kres, st->acc_ids, st->acc_dists);
    }
}

// Runs the engine over the gathered rows and merges the result. Raises the job's error, if any,
// only after the job's threads are done and every C++ scope has ended. `rows_bound` bounds the
// rows the whole scan can return; `last` says that these are the last rows (then, when this is
// the only chunk, its result is the answer and needs no second buffer).
void flush(Knn* st, int64 rows_bound, bool last) {
    if (st->kres == 0) {
        if (last) rows_bound = st->n;  // one chunk: the exact row count is known
        alloc_results(st, rows_bound, !last);
        if (last && st->n == 0) piramid::engine::clear_topk(st->nq, st->kres, st->acc_ids,
                                                            st->acc_dists);
    }
    if (st->n == 0) return;
    const bool direct = st->chunk_ids == nullptr;  // the only chunk: write the answer in place
    int64* out_ids = direct ? st->acc_ids : st->chunk_ids;
    double* out_dists = direct ? st->acc_dists : st->chunk_dists;
    gpu::JobResult res;
    gpu::run_topk(st->queries, st->nq, st->rows, st->n, st->dim, st->metric, st->kres, out_ids,
                  out_dists, &res);
    if (res.warning[0] != '\0') ereport(WARNING, (errmsg("piramid: %s", res.warning)));
    switch (static_cast<piramid::engine::Status>(res.status)) {
        case piramid::engine::Status::kOk:
            break;
        case piramid::engine::Status::kCanceled:
            CHECK_FOR_INTERRUPTS();
            ereport(ERROR, (errcode(ERRCODE_QUERY_CANCELED),
                            errmsg("canceling statement due to user request")));
            break;
        case piramid::engine::Status::kUnavailable:
            ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                            errmsg("piramid.gpu is on but no usable GPU was found"),
                            errdetail("%s", res.message),
                            errhint("Set piramid.gpu to auto or off to compute on the CPU.")));
            break;
        case piramid::engine::Status::kOutOfMemory:
            ereport(ERROR,
                    (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory in the distance engine"),
                     errdetail("%s", res.message)));
            break;
        case piramid::engine::Status::kInvalidArgument:
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("invalid distance engine arguments: %s", res.message)));
            break;
        default:
            ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                            errmsg("distance engine failed: %s", res.message)));
    }
    const size_t total = static_cast<size_t>(st->nq) * st->kres;
    for (size_t i = 0; i < total; ++i) {
        if (out_ids[i] >= 0) out_ids[i] = st->row_tids[out_ids[i]];
    }
    if (!direct) {
        piramid::engine::merge_topk(st->nq, st->kres, st->acc_ids, st->acc_dists, st->chunk_ids,
                                    st->chunk_dists, 0);
    }
    st->n = 0;
}

}  // namespace

// piramid_knn(tbl regclass, col name, queries vector[], k int, metric text DEFAULT 'l2')
//   RETURNS TABLE (query_no int, row_ctid tid, distance double precision)
PIRAMID_FUNCTION(piramid_knn) {
    for (int i = 0; i < 5; ++i) {
        if (PG_ARGISNULL(i)) {
            static const char* names[] = {"tbl", "col", "queries", "k", "metric"};
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                            errmsg("argument \"%s\" of piramid_knn must not be NULL", names[i])));
        }
    }
    const Oid relid = PG_GETARG_OID(0);
    const char* colname = NameStr(*PG_GETARG_NAME(1));
    ArrayType* qarr = PG_GETARG_ARRAYTYPE_P(2);
    const int32 k = PG_GETARG_INT32(3);
    const Metric metric = parse_metric(text_to_cstring(PG_GETARG_TEXT_PP(4)));
    if (k < 1 || k > static_cast<int32>(piramid::engine::kMaxK)) {
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("k must be between 1 and %d, not %d",
                               static_cast<int>(piramid::engine::kMaxK), k)));
    }
    const Oid vector_oid = ARR_ELEMTYPE(qarr);

    Datum* qdatums;
    bool* qnulls;
    int nq;
    int16 typlen;
    bool typbyval;
    char typalign;
    get_typlenbyvalalign(vector_oid, &typlen, &typbyval, &typalign);
    deconstruct_array(qarr, vector_oid, typlen, typbyval, typalign, &qdatums, &qnulls, &nq);
    if (nq == 0) {
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("queries must not be empty")));
    }
    if (nq > 1000000) {
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("at most 1000000 queries per call, not %d", nq)));
    }
    int dim = -1;
    for (int i = 0; i < nq; ++i) {
        if (qnulls[i]) {
            ereport(ERROR,
                    (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("query %d is NULL", i + 1)));
        }
        auto* v = PIRAMID_DatumGetVector(qdatums[i]);
        if (dim < 0) dim = v->dim;
        if (v->dim != dim) {
            ereport(ERROR,
                    (errcode(ERRCODE_DATA_EXCEPTION),
                     errmsg("different vector dimensions %d and %d", dim, v->dim),
                     errdetail("Query %d has %d dimensions, query 1 has %d.", i + 1, v->dim, dim)));
        }
        qdatums[i] = PointerGetDatum(v);
    }

    Relation rel = table_open(relid, AccessShareLock);
    const char relkind = rel->rd_rel->relkind;
    if (relkind != RELKIND_RELATION && relkind != RELKIND_MATVIEW) {
        ereport(ERROR,
                (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                 errmsg("\"%s\" is not a table or materialized view", RelationGetRelationName(rel)),
                 errhint("piramid_knn scans the heap of one table; for a partitioned "
                         "table call it on each partition.")));
    }
    const AttrNumber attnum = get_attnum(relid, colname);
    if (attnum == InvalidAttrNumber) {
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                        errmsg("column \"%s\" of relation \"%s\" does not exist", colname,
                               RelationGetRelationName(rel))));
    }
    if (attnum < 0) {
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("column \"%s\" is a system column", colname)));
    }
    // SELECT on the table or on the column, as a query reading that column would need.
    if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK &&
        pg_attribute_aclcheck(relid, attnum, GetUserId(), ACL_SELECT) != ACLCHECK_OK) {
        aclcheck_error(ACLCHECK_NO_PRIV, get_relkind_objtype(relkind),
                       RelationGetRelationName(rel));
    }
    // A raw heap scan would bypass row security policies: refuse rather than leak rows.
    if (check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED) {
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("piramid_knn does not support tables with row-level security "
                               "(\"%s\")",
                               RelationGetRelationName(rel))));
    }
    Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), attnum - 1);
    if (att->atttypid != vector_oid) {
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                        errmsg("column \"%s\" is of type %s, not vector", colname,
                               format_type_be(att->atttypid))));
    }
    if (att->atttypmod > 0 && att->atttypmod != dim) {
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("different vector dimensions %d and %d", att->atttypmod, dim),
                        errdetail("Column \"%s\" has %d dimensions, the queries have %d.", colname,
                                  att->atttypmod, dim)));
    }

    register_exit_once();

    // Memory, beyond the arguments themselves (and a copy of the queries): the rows gathered per
    // chunk take at most work_mem (at least 64 rows), and the per-query state (the running
    // top-k, and one chunk's top-k when there is more than one chunk) must fit in work_mem too,
    // else the call fails before allocating it (see alloc_results()). A query needs min(k, rows
    // scanned) result slots: the exact row count when the table fits in one chunk, else the
    // most tuples the scanned heap blocks can hold. The result tuplestore spills to disk past
    // work_mem, as any set-returning function's does.
    Knn st;
    st.nq = nq;
    st.dim = dim;
    st.k = k;
    st.kres = 0;
    st.metric = metric;
    st.n = 0;
    st.acc_ids = nullptr;
    st.acc_dists = nullptr;
    st.chunk_ids = nullptr;
    st.chunk_dists = nullptr;
    st.relname = pstrdup(RelationGetRelationName(rel));
    st.queries = static_cast<float*>(
        palloc_extended(static_cast<Size>(nq) * dim * sizeof(float), MCXT_ALLOC_HUGE));
    for (int i = 0; i < nq; ++i) {
        auto* v = reinterpret_cast<piramid::pg::Vector*>(DatumGetPointer(qdatums[i]));
        memcpy(st.queries + static_cast<size_t>(i) * dim, v->x, sizeof(float) * dim);
    }
    const Size row_bytes = static_cast<Size>(dim) * sizeof(float) + sizeof(int64);
    const Size budget = static_cast<Size>(work_mem) * 1024;
    st.cap = static_cast<int>(
        Min(Max(budget / row_bytes, static_cast<Size>(64)), static_cast<Size>(INT_MAX / 2)));
    st.rows = static_cast<float*>(
        palloc_extended(static_cast<Size>(st.cap) * dim * sizeof(float), MCXT_ALLOC_HUGE));
    st.row_tids = static_cast<int64*>(
        palloc_extended(static_cast<Size>(st.cap) * sizeof(int64), MCXT_ALLOC_HUGE));

    // Sequential scan with the active snapshot (MVCC), without synchronized scans so that the
    // physical order and therefore tie-breaking is stable.
    MemoryContext rowcxt =
        AllocSetContextCreate(CurrentMemoryContext, "piramid_knn rows", ALLOCSET_DEFAULT_SIZES);
    TableScanDesc scan = table_beginscan_strat(rel, GetActiveSnapshot(), 0, nullptr, true, false);
    // Rows the scan can return at most: a heap scan reads the blocks counted when it began.
    int64 rows_bound = PG_INT64_MAX;
    if (rel->rd_tableam == GetHeapamTableAmRoutine()) {
        rows_bound = static_cast<int64>(reinterpret_cast<HeapScanDesc>(scan)->rs_nblocks) *
                     MaxHeapTuplesPerPage;
    }
    TupleTableSlot* slot = table_slot_create(rel, nullptr);
    while (table_scan_getnextslot(scan, ForwardScanDirection, slot)) {
        CHECK_FOR_INTERRUPTS();
        bool isnull;
        Datum d = slot_getattr(slot, attnum, &isnull);
        if (isnull) continue;
        MemoryContext old = MemoryContextSwitchTo(rowcxt);
        auto* v = PIRAMID_DatumGetVector(d);
        MemoryContextSwitchTo(old);
        if (v->dim != dim) {
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                            errmsg("different vector dimensions %d and %d", dim, v->dim),
                            errdetail("A row of \"%s\" has %d dimensions, the queries have %d.",
                                      RelationGetRelationName(rel), v->dim, dim)));
        }
        // A full buffer is flushed only when another row comes, so a table that fits in one
        // chunk is known to (and its exact row count bounds the result slots).
        if (st.n == st.cap) flush(&st, rows_bound, false);
        memcpy(st.rows + static_cast<size_t>(st.n) * dim, v->x, sizeof(float) * dim);
        st.row_tids[st.n] = tid_code(&slot->tts_tid);
        ++st.n;
        MemoryContextReset(rowcxt);
    }
    flush(&st, rows_bound, true);
    ExecDropSingleTupleTableSlot(slot);
    table_endscan(scan);
    table_close(rel, AccessShareLock);

    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (int q = 0; q < nq; ++q) {
        for (int j = 0; j < st.kres; ++j) {
            const size_t i = static_cast<size_t>(q) * st.kres + j;
            if (st.acc_ids[i] < 0) break;
            // tuplestore_putvalues copies the values: one TID on the stack serves every row.
            ItemPointerData tid;
            tid_decode(st.acc_ids[i], &tid);
            double dist = st.acc_dists[i];
            if (metric == Metric::kL2) dist = std::sqrt(dist);
            Datum values[3] = {Int32GetDatum(q + 1), PointerGetDatum(&tid), Float8GetDatum(dist)};
            bool nulls[3] = {false, false, false};
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
        }
    }
    return (Datum)0;
}

// piramid_gpu_info(): the GPU setup as this backend sees it.
PIRAMID_FUNCTION(piramid_gpu_info) {
    register_exit_once();
    gpu::Info info;
    gpu::info(&info);
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE) {
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("piramid_gpu_info must be called in a context accepting a record")));
    }
    desc = BlessTupleDesc(desc);
    static const char* modes[] = {"off", "auto", "on"};
    Datum values[8] = {
        CStringGetTextDatum(modes[gpu::g_mode]), CStringGetTextDatum(info.plugin),
        CStringGetTextDatum(info.plugin_path),   CStringGetTextDatum(info.status),
        CStringGetTextDatum(info.reason),        Int32GetDatum(info.device_count),
        CStringGetTextDatum(info.devices),       CStringGetTextDatum(info.last_engine),
    };
    bool nulls[8] = {
        false, false, false, false, info.reason[0] == '\0', false, info.devices[0] == '\0', false};
    HeapTuple tup = heap_form_tuple(desc, values, nulls);
    return HeapTupleGetDatum(tup);
}
