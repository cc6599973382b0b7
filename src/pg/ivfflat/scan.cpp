// Index scans for ivfflat: ORDER BY <distance operator>. The first amgettuple call orders the
// lists by their center's distance to the query, reads the entries of the nearest
// ivfflat.probes lists and sorts them; later calls hand out heap TIDs in that order. With
// ivfflat.iterative_scan = relaxed_order, a scan that runs out reads the next lists (probes at a
// time, up to ivfflat.max_probes lists in all) and returns their entries, sorted per batch.
#include "pg/ivfflat/ivfflat.hpp"
#include "pg/stats.hpp"

extern "C" {
#include "access/relscan.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
}

#include <algorithm>
#include <cstring>

#include "pg/am/element.hpp"

namespace piramid::pg::ivfflat {

namespace {

struct Result {
    float dist;
    ItemPointerData tid;
};

bool result_less(const Result& a, const Result& b) {
    if (a.dist != b.dist) return a.dist < b.dist;
    return ItemPointerCompare(const_cast<ItemPointer>(&a.tid), const_cast<ItemPointer>(&b.tid)) < 0;
}

struct ListRef {
    float dist;
    uint32 list;
    BlockNumber first;
};

struct ScanOpaque {
    MemoryContext cxt;  // reset by every rescan
    Meta meta;
    distance::LaneFn dist;
    bool started;
    float* query;
    ListRef* order;
    uint32 probed;
    uint32 max_probes;
    uint32 step;
    Result* results;
    Size nresults;
    Size cap;
    Size pos;
    stats::Delta pending;  // activity not yet added to piramid_stat_indexes
};

void probe_lists(Relation index, ScanOpaque* so, uint32 n) {
    const Size begin = so->nresults;
    const uint32 end = std::min(so->probed + n, so->meta.lists);
    for (; so->probed < end; ++so->probed) {
        BlockNumber blk = so->order[so->probed].first;
        ++so->pending.v[stats::kNodes];
        while (blk != InvalidBlockNumber) {
            CHECK_FOR_INTERRUPTS();
            Buffer buf = ReadBuffer(index, blk);
            ++so->pending.v[stats::kPages];
            LockBuffer(buf, BUFFER_LOCK_SHARE);
            Page page = BufferGetPage(buf);
            const OffsetNumber max = PageGetMaxOffsetNumber(page);
            if (so->nresults + max > so->cap) {
                const Size cap = std::max<Size>(so->cap * 2, so->nresults + max + 256);
                so->results =
                    static_cast<Result*>(repalloc_huge(so->results, sizeof(Result) * cap));
                so->cap = cap;
            }
            so->pending.v[stats::kDistances] += max;
            for (OffsetNumber off = FirstOffsetNumber; off <= max; ++off) {
                Item it = PageGetItem(page, PageGetItemId(page, off));
                Result& r = so->results[so->nresults++];
                r.dist = so->dist(so->query, entry_vec(it), so->meta.lanes);
                r.tid = *entry_tid(it);
            }
            blk = page_opaque(page)->next;
            UnlockReleaseBuffer(buf);
        }
    }
    Result* rs = so->results;
    const Size nr = so->nresults;
    guard([&] { std::sort(rs + begin, rs + nr, result_less); });
    so->pos = begin;
}

void start_scan(IndexScanDesc scan, ScanOpaque* so) {
    Relation index = scan->indexRelation;
    so->meta = read_meta(index);
    const Meta& meta = so->meta;
    const auto metric = static_cast<distance::Metric>(meta.metric);
    so->dist = distance::lane_distance(metric);
    so->query = static_cast<float*>(palloc0(sizeof(float) * meta.lanes));
    // A NULL query orders by the distance to the zero vector, as pgvector does; so does a zero
    // query under cosine (every distance is then the same).
    if (scan->numberOfOrderBys > 0 && !(scan->orderByData[0].sk_flags & SK_ISNULL)) {
        if (!hnsw::prepare_datum(metric, static_cast<int>(meta.type_dims),
                                 scan->orderByData[0].sk_argument, so->query, true))
            std::memset(so->query, 0, sizeof(float) * meta.lanes);
    }
    so->order = static_cast<ListRef*>(palloc(sizeof(ListRef) * std::max<uint32>(1, meta.lists)));
    for (uint32 i = 0; i < meta.lists;) {
        Buffer buf = ReadBuffer(index, list_block(meta, i));
        ++so->pending.v[stats::kPages];
        LockBuffer(buf, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buf);
        const OffsetNumber max = PageGetMaxOffsetNumber(page);
        for (OffsetNumber off = FirstOffsetNumber; off <= max && i < meta.lists; ++off, ++i) {
            Item it = PageGetItem(page, PageGetItemId(page, off));
            so->order[i].dist = so->dist(so->query, list_center(it), meta.lanes);
            so->order[i].list = i;
            so->order[i].first = list_blocks(it)[0];
        }
        UnlockReleaseBuffer(buf);
    }
    so->pending.v[stats::kDistances] += meta.lists;
    ListRef* order = so->order;
    const uint32 nl = meta.lists;
    guard([&] {
        std::sort(order, order + nl, [](const ListRef& a, const ListRef& b) {
            return a.dist != b.dist ? a.dist < b.dist : a.list < b.list;
        });
    });
    const uint32 probes = std::min<uint32>(static_cast<uint32>(g_probes), meta.lists);
    so->step = std::max<uint32>(1, probes);
    so->max_probes = probes;
    if (static_cast<IterativeScan>(g_iterative_scan) != IterativeScan::kOff)
        so->max_probes = std::min<uint32>(
            meta.lists, std::max<uint32>(probes, static_cast<uint32>(g_max_probes)));
    so->probed = 0;
    so->cap = 1024;
    so->results = static_cast<Result*>(palloc(sizeof(Result) * so->cap));
    so->nresults = 0;
    so->pos = 0;
    probe_lists(index, so, probes);
}

}  // namespace

extern "C" IndexScanDesc ivfflat_beginscan(Relation index, int nkeys, int norderbys) {
    IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
    auto* so = static_cast<ScanOpaque*>(palloc0(sizeof(ScanOpaque)));
    so->cxt = AllocSetContextCreate(CurrentMemoryContext, "ivfflat scan", ALLOCSET_DEFAULT_SIZES);
    scan->opaque = so;
    return scan;
}

extern "C" void ivfflat_rescan(IndexScanDesc scan, ScanKey keys, int /*nkeys*/, ScanKey orderbys,
                               int /*norderbys*/) {
    auto* so = static_cast<ScanOpaque*>(scan->opaque);
    if (keys && scan->numberOfKeys > 0)
        memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
    if (orderbys && scan->numberOfOrderBys > 0)
        memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
    MemoryContextReset(so->cxt);
    stats::add(RelationGetRelid(scan->indexRelation), so->pending);
    so->pending = stats::Delta{};
    so->started = false;
}

extern "C" bool ivfflat_gettuple(IndexScanDesc scan, ScanDirection dir) {
    auto* so = static_cast<ScanOpaque*>(scan->opaque);
    if (!ScanDirectionIsForward(dir))
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("ivfflat index scans support only forward scans")));
    if (scan->orderByData == nullptr)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("ivfflat index scans require ORDER BY a distance operator")));
    MemoryContext old = MemoryContextSwitchTo(so->cxt);
    if (!so->started) {
        so->started = true;
        pgstat_count_index_scan(scan->indexRelation);
        ++so->pending.v[stats::kScans];
        start_scan(scan, so);
    }
    while (so->pos >= so->nresults && so->probed < so->max_probes)
        probe_lists(scan->indexRelation, so, std::min(so->step, so->max_probes - so->probed));
    MemoryContextSwitchTo(old);
    if (so->pos >= so->nresults) return false;
    scan->xs_heaptid = so->results[so->pos++].tid;
    ++so->pending.v[stats::kTuples];
    scan->xs_recheck = false;
    scan->xs_recheckorderby = false;
    return true;
}

extern "C" void ivfflat_endscan(IndexScanDesc scan) {
    auto* so = static_cast<ScanOpaque*>(scan->opaque);
    stats::add(RelationGetRelid(scan->indexRelation), so->pending);
    MemoryContextDelete(so->cxt);
    pfree(so);
    scan->opaque = nullptr;
}

}  // namespace piramid::pg::ivfflat
