// Index scans for hnsw: ORDER BY <distance operator> LIMIT k. The search runs in core code
// (Searcher over the BufferStore); the first amgettuple call does the whole layer-0 search with
// ef = hnsw.ef_search, later calls hand out the heap TIDs in distance order. With
// hnsw.iterative_scan the search resumes from its frontier when the executor wants more rows
// (filters discarded them), until hnsw.max_scan_tuples or the memory bound is reached.
#include "pg/am/hnsw_am.hpp"
#include "pg/stats.hpp"

extern "C" {
#include "access/relscan.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
}

#include <algorithm>
#include <limits>
#include <queue>
#include <vector>

#include "core/hnsw/search.hpp"
#include "pg/owned.hpp"
#include "pg/storage/buffer_store.hpp"
#include "pg/storage/elements.hpp"

namespace piramid::pg::hnsw {

namespace {

using piramid::hnsw::Candidate;

struct FartherFirst {
    bool operator()(const Candidate& a, const Candidate& b) const {
        return piramid::hnsw::closer(b, a);
    }
};

struct ScanWork {
    ScanWork(Relation index, const MetaData& meta) : store(index, meta) {}
    BufferStore store;
    piramid::hnsw::Searcher<BufferStore> searcher;
    std::vector<float> query;
    std::vector<NodeId> seeds;  // the meta page's extra entry points (usually none)
    std::vector<Candidate> batch;
    size_t pos = 0;
    // strict_order: results found but not yet safe to return
    std::priority_queue<Candidate, std::vector<Candidate>, FartherFirst> pending;
    // heap TIDs of the element being returned (its own, then its copies')
    std::vector<ItemPointerData> tids;
    int ntids = 0;
    int tid_pos = 0;
    size_t produced = 0;  // nodes handed out by the searcher
    float last_dist = 0;  // strict_order: distance of the last result returned
    GraphDistance dist = nullptr;
    bool swept = false;            // the sweep ran (see sweep())
    bool cap_reported = false;     // the DEBUG line for the memory bound was sent
    std::vector<Candidate> sweep;  // live elements the search never met, closest first
    size_t sweep_pos = 0;
    // Activity not yet added to piramid_stat_indexes (see flush_stats()).
    uint64_t scans = 0;
    uint64_t tuples = 0;
    uint64_t reported_distances = 0;
    uint64_t reported_nodes = 0;  // of the current search (the searcher restarts its count)
    uint64_t reported_pages = 0;
};

struct ScanOpaque {
    OwnedBox<ScanWork>* work;
    MetaData meta;
    GraphDistance dist;
    bool started;
    bool done;
};

// Fills work->tids with the live heap TIDs of candidate c (its own, then those of its chain of
// exact copies). The candidate's distance was computed without the content lock: the element is
// read again under the lock and its distance recomputed; when it differs, VACUUM freed the slot
// and an insert reused it for another vector after this scan met it, and the row is left out
// (it was inserted after the scan began, so it is not visible to the scan's snapshot anyway).
void load_tids(Relation index, ScanWork* w, const Candidate& c, GraphDistance dist) {
    w->tids.clear();
    w->ntids = 0;
    w->tid_pos = 0;
    NodeId id = c.id;
    const size_t dims = w->query.size();
    const float* q = w->query.data();
    bool first = true;
    for (int hops = 0; id != kInvalidNode && hops < kMaxCopyHops; ++hops) {
        ItemPointerData found[kMaxHeapTids];
        NodeId next = kInvalidNode;
        const bool head = first;
        const NodeId at = id;
        auto same_distance = [&](const float* v) {
            return graph_distance_value(dist, q, v, dims) == c.dist;
        };
        const int n = call_pg(
            [&] { return read_element_tids(index, at, head, same_distance, found, &next); });
        w->tids.insert(w->tids.end(), found, found + n);
        first = false;
        id = next;
    }
    w->ntids = static_cast<int>(w->tids.size());
}

size_t visit_cap() {
    const double bytes = static_cast<double>(work_mem) * 1024.0 * g_scan_mem_multiplier;
    // A visited entry and its candidate-queue share cost about 32 bytes.
    return static_cast<size_t>(std::max(1024.0, bytes / 32.0));
}

// Pulls the next batch from the searcher into w->batch. Returns false when nothing is left.
// The sweep: once the graph search is used up, the live elements it never met are read from
// the pages (sorted by distance) and handed out after it. Graphs can leave rows that no search
// reaches (rare groups of rows linked only among themselves, vectors that are no vector's
// nearest neighbour under inner product) until VACUUM links them in; an iterative scan must not
// lose them meanwhile. Bounded like the search (hnsw.scan_mem_multiplier x work_mem).
void sweep(Relation index, ScanWork* w) {
    w->swept = true;
    w->sweep.clear();
    w->sweep_pos = 0;
    const BlockNumber nblocks = call_pg([&] { return RelationGetNumberOfBlocks(index); });
    const size_t cap = visit_cap();
    const float* q = w->query.data();
    const size_t dims = w->query.size();
    const GraphDistance dist = w->dist;
    auto met = [w](NodeId id) { return w->searcher.was_visited(id); };
    for (BlockNumber blk = 1; blk < nblocks && w->sweep.size() < cap; ++blk) {
        call_pg([&] { sweep_page(index, blk, q, dims, dist, met, w->sweep, cap); });
        if ((blk & 63) == 0) check_for_interrupts();
    }
    std::sort(w->sweep.begin(), w->sweep.end(), piramid::hnsw::closer);
}

// Pulls the next batch from the searcher (then the sweep) into w->batch. Returns false when
// nothing is left.
bool refill(Relation index, ScanWork* w) {
    const auto mode = static_cast<IterativeScan>(g_iterative_scan);
    for (;;) {
        const bool graph_done = w->searcher.exhausted();
        const bool budget_left = w->produced < static_cast<size_t>(g_max_scan_tuples);
        // The memory bound ends the scan (as pgvector's does): no sweep after it, which would
        // read every page for rows the bound already rules out.
        const bool capped = graph_done && w->searcher.capped();
        if (capped && !w->cap_reported) {
            w->cap_reported = true;
            const size_t n = w->produced;
            call_pg([&] {
                ereport(DEBUG1,
                        (errmsg("hnsw index scan reached memory limit after %zu tuples", n),
                         errhint("Increase hnsw.scan_mem_multiplier to scan more tuples.")));
            });
        }
        if (graph_done && mode != IterativeScan::kOff && !w->swept && budget_left && !capped)
            sweep(index, w);
        const bool sweep_left = w->swept && w->sweep_pos < w->sweep.size();
        // No further search: exhausted, a non-iterative scan's one batch, or the budget.
        const bool done = (graph_done && !sweep_left) ||
                          (w->produced > 0 && mode == IterativeScan::kOff) || !budget_left;
        const float bound = !graph_done  ? w->searcher.frontier_min()
                            : sweep_left ? w->sweep[w->sweep_pos].dist
                                         : std::numeric_limits<float>::infinity();
        if (mode == IterativeScan::kStrict && !w->pending.empty() &&
            (done || w->pending.top().dist <= bound)) {
            // Held results go out once nothing unexplored can be closer (or nothing will be
            // explored any more). The frontier bound is a heuristic (a far node can have close
            // neighbours): a result closer than one already returned is dropped, so the order
            // returned is strict whatever the graph.
            const Candidate c = w->pending.top();
            w->pending.pop();
            if (c.dist < w->last_dist) continue;
            w->last_dist = c.dist;
            w->batch.assign(1, c);
            w->pos = 0;
            return true;
        }
        if (done) return false;
        std::vector<Candidate>& out = w->batch;
        if (!graph_done) {
            w->searcher.next_batch(g_ef_search, out);
        } else {
            const size_t n = std::min<size_t>(g_ef_search, w->sweep.size() - w->sweep_pos);
            out.assign(w->sweep.begin() + w->sweep_pos, w->sweep.begin() + w->sweep_pos + n);
            w->sweep_pos += n;
        }
        // No pin outlives a batch: a query may run hundreds of scans at once (a MergeAppend
        // over partitions), and the buffers must not run out.
        w->store.release_pins();
        w->produced += out.size() > 0 ? out.size() : 1;
        check_for_interrupts();
        if (mode == IterativeScan::kStrict) {
            for (const Candidate& c : out) w->pending.push(c);
            out.clear();
            continue;
        }
        w->pos = 0;
        if (!out.empty()) return true;
        if (mode == IterativeScan::kOff) return false;
    }
}

void start_search(IndexScanDesc scan, ScanOpaque* so, ScanWork* w) {
    const int dims = static_cast<int>(so->meta.dims);
    w->query.assign(dims, 0.0f);
    if (scan->numberOfOrderBys > 0 && !(scan->orderByData[0].sk_flags & SK_ISNULL)) {
        Datum d = scan->orderByData[0].sk_argument;
        const auto metric = static_cast<distance::Metric>(so->meta.metric);
        const int type_dims = static_cast<int>(meta_type_dims(so->meta));
        // A sparse query may hold more non-zeros than any element.
        const size_t lanes = call_pg([&] { return datum_lanes(metric, type_dims, d); });
        if (lanes > w->query.size()) w->query.assign(lanes, 0.0f);
        float* q = w->query.data();
        if (!call_pg([&] { return prepare_datum(metric, type_dims, d, q, true); }))
            std::fill(w->query.begin(), w->query.end(), 0.0f);
    }
    w->batch.clear();
    w->pos = 0;
    w->produced = 0;
    w->last_dist = -std::numeric_limits<float>::infinity();
    w->dist = so->dist;
    w->swept = false;
    w->cap_reported = false;
    w->sweep.clear();
    w->sweep_pos = 0;
    w->ntids = 0;
    w->tid_pos = 0;
    while (!w->pending.empty()) w->pending.pop();
    if (so->meta.entry == kInvalidNode) {
        so->done = true;
        return;
    }
    ++w->scans;
    w->reported_nodes = 0;
    w->searcher.set_visit_cap(visit_cap());
    w->seeds.clear();
    if (so->meta.nseeds > 0) {  // as of the meta page read at rescan (usually none)
        NodeId seeds[kMaxSeeds];
        const uint32 n = call_pg([&] { return read_seeds(scan->indexRelation, seeds); });
        w->seeds.assign(seeds, seeds + n);
    }
    w->searcher.start(w->store, w->query.data(), so->meta.entry, so->meta.entry_level,
                      std::span<const NodeId>(w->seeds));
}

// Adds what the scan did since the last call to piramid_stat_indexes.
void flush_stats(IndexScanDesc scan, ScanOpaque* so) {
    if (so->work == nullptr || so->work->object == nullptr) return;
    ScanWork* w = so->work->object;
    stats::Delta d;
    d.v[stats::kScans] = w->scans;
    d.v[stats::kTuples] = w->tuples;
    const uint64_t dist = w->searcher.distance_computations();
    const uint64_t nodes = w->searcher.nodes_expanded();
    const uint64_t pages = w->store.pages_pinned();
    d.v[stats::kDistances] = dist - w->reported_distances;
    d.v[stats::kNodes] = nodes >= w->reported_nodes ? nodes - w->reported_nodes : 0;
    d.v[stats::kPages] = pages - w->reported_pages;
    w->scans = 0;
    w->tuples = 0;
    w->reported_distances = dist;
    w->reported_nodes = nodes;
    w->reported_pages = pages;
    stats::add(RelationGetRelid(scan->indexRelation), d);
}

}  // namespace

extern "C" IndexScanDesc hnsw_beginscan(Relation index, int nkeys, int norderbys) {
    IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
    auto* so = static_cast<ScanOpaque*>(palloc0(sizeof(ScanOpaque)));
    so->meta = read_meta(index);
    so->dist = graph_distance(static_cast<distance::Metric>(so->meta.metric));
    guard([&] { so->work = make_owned<ScanWork>(CurrentMemoryContext, index, so->meta); });
    scan->opaque = so;
    return scan;
}

extern "C" void hnsw_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys,
                            int /*norderbys*/) {
    auto* so = static_cast<ScanOpaque*>(scan->opaque);
    if (keys && scan->numberOfKeys > 0)
        memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
    if (orderbys && scan->numberOfOrderBys > 0)
        memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
    (void)nkeys;
    flush_stats(scan, so);
    so->started = false;
    so->done = false;
    so->meta = read_meta(scan->indexRelation);
}

extern "C" bool hnsw_gettuple(IndexScanDesc scan, ScanDirection dir) {
    auto* so = static_cast<ScanOpaque*>(scan->opaque);
    if (!ScanDirectionIsForward(dir))
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("hnsw index scans support only forward scans")));
    if (so->done) return false;
    if (scan->orderByData == nullptr)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("hnsw index scans require ORDER BY a distance operator")));
    ScanWork* w = so->work->object;
    const bool found = guard([&]() -> bool {
        try {
            if (!so->started) {
                so->started = true;
                pgstat_count_index_scan(scan->indexRelation);
                start_search(scan, so, w);
                if (so->done) return false;
            }
            for (;;) {
                if (w->tid_pos < w->ntids) {
                    scan->xs_heaptid = w->tids[w->tid_pos++];
                    ++w->tuples;
                    return true;
                }
                if (w->pos >= w->batch.size()) {
                    if (!refill(scan->indexRelation, w)) return false;
                    continue;
                }
                load_tids(scan->indexRelation, w, w->batch[w->pos++], so->dist);
            }
        } catch (...) {
            w->store.forget_pins();
            throw;
        }
    });
    if (!found) so->done = true;
    scan->xs_recheck = false;
    scan->xs_recheckorderby = false;
    return found;
}

extern "C" void hnsw_endscan(IndexScanDesc scan) {
    auto* so = static_cast<ScanOpaque*>(scan->opaque);
    flush_stats(scan, so);
    if (so->work != nullptr && so->work->object != nullptr) {
        guard([&] { so->work->object->store.release_pins(); });
        release(so->work);
    }
    pfree(so);
    scan->opaque = nullptr;
}

}  // namespace piramid::pg::hnsw
