// The LIMIT of a k-NN query over postgres_fdw shards (README "Sharding").
//
// PostgreSQL 15 does not push a LIMIT through the Merge Append (or Append) that unites the
// foreign partitions of a sharded table: each shard runs the ordered query as a cursor and the
// coordinator fetches `fetch_size` rows (default 100) per round trip until it has k. A shard's
// ordered hnsw scan produces rows lazily, so the rows fetched are the shard's work: for k = 10
// most of it was wasted (measured: 4x the time per query at one shard, bench/shards.py).
//
// A planner hook sets, in the finished plan, the fetch size of each postgres_fdw scan that
// feeds a Limit (with a constant count) directly, or through a Merge Append or Append, with no
// local filter, to the rows that Limit can take (count + offset) when that is smaller. Only the
// batch size changes: a shard that has to give more rows is asked again, so answers are the
// same whatever the setting (piramid.fdw_limit_fetch, default on). It relies on postgres_fdw's
// plan layout in PostgreSQL 15 (fdw_private = SQL string, retrieved attributes, fetch size
// Integer, ...), checked node by node; a scan that does not match is left alone.
#include "pg/module.hpp"

extern "C" {
#include "postgres.h"

#include "catalog/pg_type.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/plannodes.h"
#include "nodes/value.h"
#include "optimizer/planner.h"
#include "utils/guc.h"
}

#include <cstring>

namespace piramid::pg {

namespace {

bool g_fdw_limit_fetch = true;
planner_hook_type g_prev_planner = nullptr;

// The rows a Limit node can take, or -1 when they are not known at plan time.
int64 limit_rows(const Limit* lim) {
    auto konst = [](Node* n, int64* out) {
        if (n == nullptr) {
            *out = 0;
            return true;
        }
        if (!IsA(n, Const)) return false;
        const Const* c = reinterpret_cast<const Const*>(n);
        if (c->constisnull || c->consttype != INT8OID) return false;
        *out = DatumGetInt64(c->constvalue);
        return *out >= 0;
    };
    int64 count = 0, offset = 0;
    if (lim->limitCount == nullptr || !konst(lim->limitCount, &count)) return -1;
    if (!konst(lim->limitOffset, &offset)) return -1;
    if (count > PG_INT32_MAX - offset) return -1;
    return count + offset;
}

bool is_postgres_fdw(Oid server) {
    ForeignServer* fs = GetForeignServer(server);
    ForeignDataWrapper* fdw = GetForeignDataWrapper(fs->fdwid);
    return std::strcmp(fdw->fdwname, "postgres_fdw") == 0;
}

void lower_fetch_size(ForeignScan* scan, int64 rows) {
    if (scan->scan.plan.qual != NIL) return;  // a local filter: k rows may not be enough
    List* priv = scan->fdw_private;
    if (list_length(priv) < 3) return;
    Node* sql = static_cast<Node*>(list_nth(priv, 0));
    Node* attrs = static_cast<Node*>(list_nth(priv, 1));
    Node* fetch = static_cast<Node*>(list_nth(priv, 2));
    if (sql == nullptr || !IsA(sql, String) || (attrs != nullptr && !IsA(attrs, IntList)) ||
        fetch == nullptr || !IsA(fetch, Integer))
        return;
    if (!is_postgres_fdw(scan->fs_server)) return;
    const int current = intVal(fetch);
    const int want = static_cast<int>(rows < 1 ? 1 : rows);
    if (want < current) list_nth_cell(priv, 2)->ptr_value = makeInteger(want);
}

void visit(Plan* plan) {
    if (plan == nullptr) return;
    check_stack_depth();
    if (IsA(plan, Limit)) {
        const int64 rows = limit_rows(reinterpret_cast<Limit*>(plan));
        Plan* child = outerPlan(plan);
        List* children = NIL;
        if (child != nullptr && IsA(child, MergeAppend))
            children = reinterpret_cast<MergeAppend*>(child)->mergeplans;
        else if (child != nullptr && IsA(child, Append))
            children = reinterpret_cast<Append*>(child)->appendplans;
        else if (child != nullptr && IsA(child, ForeignScan))
            children = list_make1(child);  // one partition: the Append was removed
        if (rows >= 0) {
            ListCell* lc;
            foreach (lc, children) {
                Plan* p = static_cast<Plan*>(lfirst(lc));
                if (IsA(p, ForeignScan)) lower_fetch_size(reinterpret_cast<ForeignScan*>(p), rows);
            }
        }
    }
    visit(plan->lefttree);
    visit(plan->righttree);
    ListCell* lc;
    switch (nodeTag(plan)) {
        case T_Append:
            foreach (lc, reinterpret_cast<Append*>(plan)->appendplans)
                visit(static_cast<Plan*>(lfirst(lc)));
            break;
        case T_MergeAppend:
            foreach (lc, reinterpret_cast<MergeAppend*>(plan)->mergeplans)
                visit(static_cast<Plan*>(lfirst(lc)));
            break;
        case T_SubqueryScan:
            visit(reinterpret_cast<SubqueryScan*>(plan)->subplan);
            break;
        default:
            break;
    }
}

PlannedStmt* planner(Query* parse, const char* query_string, int cursor_options,
                     ParamListInfo bound_params) {
    PlannedStmt* stmt = g_prev_planner
                            ? g_prev_planner(parse, query_string, cursor_options, bound_params)
                            : standard_planner(parse, query_string, cursor_options, bound_params);
    if (g_fdw_limit_fetch && stmt != nullptr) {
        visit(stmt->planTree);
        ListCell* lc;
        foreach (lc, stmt->subplans) visit(static_cast<Plan*>(lfirst(lc)));
    }
    return stmt;
}

}  // namespace

void fdw_limit_define() {
    DefineCustomBoolVariable(
        "piramid.fdw_limit_fetch",
        "Fetches no more rows from each postgres_fdw partition than a LIMIT above can take.",
        "A k-NN query over foreign partitions then asks each shard for k rows per round trip "
        "instead of postgres_fdw's fetch_size. Answers are the same either way.",
        &g_fdw_limit_fetch, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    g_prev_planner = planner_hook;
    planner_hook = planner;
}

}  // namespace piramid::pg
