// CREATE INDEX for hnsw: the heap is scanned on the backend thread into the core's in-memory
// Builder; worker threads (core code only) build the graph while the backend thread reports
// progress and polls for interrupts; then the backend writes the pages in bulk, ordered so that
// graph neighbours tend to share pages, and WAL-logs them with log_newpage_range. When the graph
// outgrows maintenance_work_mem, what was loaded is written out and the rest is inserted on disk.
#include "pg/am/hnsw_am.hpp"
#include "pg/build_threads.hpp"
#include "pg/stats.hpp"

extern "C" {
#include "access/generic_xlog.h"
#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "catalog/pg_type.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "utils/backend_progress.h"
#include "utils/memutils.h"
}

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "core/engine/engine.hpp"
#include "core/hnsw/builder.hpp"
#include "pg/engine/gpu.hpp"
#include "pg/owned.hpp"

namespace piramid::pg::hnsw {

namespace {

using piramid::hnsw::Builder;

uint64_t pack_tid(ItemPointer tid) {
    return (static_cast<uint64_t>(ItemPointerGetBlockNumberNoCheck(tid)) << 16) |
           ItemPointerGetOffsetNumberNoCheck(tid);
}

void unpack_tid(uint64_t label, ItemPointer tid) {
    ItemPointerSet(tid, static_cast<BlockNumber>(label >> 16),
                   static_cast<OffsetNumber>(label & 0xFFFF));
}

struct BuildState {
    Relation heap;
    Relation index;
    distance::Metric metric;
    int dims;       // lanes an element stores
    int type_dims;  // the column's dimensions
    int m;
    int ef_construction;
    int max_level;
    int threads;
    bool on_disk;
    bool flushed;
    double indexed;
    MemoryContext tmpcxt;
    float* vecbuf;
    OwnedBox<Builder>* builder;
};

void write_meta_page_new(Relation index, ForkNumber fork, const MetaData& meta) {
    Buffer buf = ReadBufferExtended(index, fork, P_NEW, RBM_NORMAL, nullptr);
    if (BufferGetBlockNumber(buf) != kMetaBlock)
        elog(ERROR, "hnsw meta page of \"%s\" is not block 0", RelationGetRelationName(index));
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    START_CRIT_SECTION();
    init_meta_page(BufferGetPage(buf), meta);
    MarkBufferDirty(buf);
    if (fork == INIT_FORKNUM) log_newpage_buffer(buf, true);
    END_CRIT_SECTION();
    UnlockReleaseBuffer(buf);
}

void update_meta_entry(Relation index, NodeId entry, int entry_level, BlockNumber insert_hint,
                       bool wal) {
    Buffer buf = ReadBuffer(index, kMetaBlock);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    if (wal) {
        GenericXLogState* st = GenericXLogStart(index);
        Page page = GenericXLogRegisterBuffer(st, buf, 0);
        MetaData* meta = page_meta(page);
        meta->entry = entry;
        meta->entry_level = static_cast<int16>(entry_level);
        meta->insert_hint = insert_hint;
        GenericXLogFinish(st);
    } else {
        MetaData* meta = page_meta(BufferGetPage(buf));
        meta->entry = entry;
        meta->entry_level = static_cast<int16>(entry_level);
        meta->insert_hint = insert_hint;
        MarkBufferDirty(buf);
    }
    UnlockReleaseBuffer(buf);
}

// Runs the worker threads over everything loaded so far, polling for interrupts.
void run_builder(BuildState* st) {
    Builder* b = st->builder->object;
    pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, static_cast<int64>(b->size()));
    // Small graphs build in one thread: fast anyway, and the graph is then deterministic.
    const int threads = b->size() < 10000 ? 1 : st->threads;
    call_pg([&] { report_build_workers(threads); });
    const auto method = static_cast<BuildMethod>(g_build_method);
    engine::DistanceEngine* eng = nullptr;
    // The distance engines work on float vectors; half and bit graphs build by insertion.
    if (method != BuildMethod::kInsert &&
        distance::element_kind(st->metric) == distance::ElementKind::kF32) {
        char why[512];
        why[0] = '\0';
        // auto: only a GPU engine is worth it (the CPU engine's brute force is O(n^2)).
        eng = gpu::engine_for_build(b->size(), method == BuildMethod::kAuto, why, sizeof(why));
        if (eng == nullptr && method == BuildMethod::kEngine)
            call_pg([&] { elog(DEBUG1, "hnsw build: no distance engine (%s)", why); });
    }
    bool engine_started = eng != nullptr && b->start_with_engine(*eng, threads);
    if (eng != nullptr && !engine_started)
        call_pg([] {
            ereport(NOTICE, (errmsg("hnsw build: the engine-driven build does not fit in "
                                    "maintenance_work_mem; using threaded insertion")));
        });
    if (engine_started) {
        gpu::note_engine_used(eng);
        const std::string name = eng->name();
        call_pg([&] { elog(DEBUG1, "hnsw build: layer 0 from the %s engine", name.c_str()); });
    } else {
        b->start(threads);
    }
    try {
        while (!b->wait_for(std::chrono::milliseconds(50))) {
            pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE,
                                         static_cast<int64>(b->inserted()));
            check_for_interrupts();
        }
        b->join();
        if (engine_started && !b->engine_error().empty()) {
            const std::string err = b->engine_error();
            call_pg([&] {
                ereport(WARNING, (errmsg("hnsw build: the distance engine failed (%s); the graph "
                                         "was built by threaded insertion",
                                         err.c_str())));
            });
        }
    } catch (...) {
        // Stop and join the workers before the error leaves this frame.
        release(st->builder);
        throw;
    }
    pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, static_cast<int64>(b->size()));
}

// Writes the in-memory graph to pages 1.. and points the meta page at its entry. An item with
// more labels (heap TIDs of one exact vector) than an element holds gets kCopy elements chained
// after it, placed right behind it.
void write_graph(BuildState* st) {
    Builder* b = st->builder->object;
    const size_t n = b->size();
    const int dims = st->dims, m = st->m;
    pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseWrite);
    const std::vector<NodeId> order = b->locality_order();
    struct Slot {
        NodeId item;
        int32 chunk;  // -1: the graph element; c >= 0: copy holding labels from (c + 1) * max
        NodeId id;
    };
    std::vector<Slot> seq;
    seq.reserve(n);
    // A wide item (vector and lists too large for one page) is an element and a list tuple.
    auto wide = [&](NodeId item) {
        return !lists_inline(vector_lanes(b->vector(item), dims), m, b->level(item));
    };
    std::vector<NodeId> lists_ids(n, kInvalidNode);
    std::vector<Slot> list_slots;  // after all elements, packed on pages of their own
    for (NodeId item : order) {
        seq.push_back(Slot{item, -1, kInvalidNode});
        if (wide(item)) list_slots.push_back(Slot{item, -2, kInvalidNode});
        const size_t nl = b->labels(item).size();
        for (int32 c = 0; static_cast<size_t>(kMaxHeapTids) * (c + 1) < nl; ++c)
            seq.push_back(Slot{item, c, kInvalidNode});
    }
    seq.insert(seq.end(), list_slots.begin(), list_slots.end());
    // Bytes of each tuple: graph element (chunk -1), list tuple (-2), copy (>= 0).
    auto slot_size = [&](NodeId item, int32 chunk) -> Size {
        const int lanes = vector_lanes(b->vector(item), dims);
        if (chunk >= 0) return copy_element_size(lanes);
        if (chunk == -2) return list_tuple_size(m, b->level(item));
        return wide(item) ? ext_element_size(lanes) : element_size(lanes, m, b->level(item));
    };
    // Place tuples in sequence, filling pages.
    std::vector<NodeId> ids(n, kInvalidNode);
    const Size page_space = max_element_size() + sizeof(ItemIdData);
    BlockNumber blk = 1;
    OffsetNumber off = 0;
    Size used = 0;
    for (Slot& slot : seq) {
        const Size need = slot_size(slot.item, slot.chunk) + sizeof(ItemIdData);
        if (off == 0 || used + need > page_space || off >= (1u << kNodeOffsetBits) - 1) {
            if (off != 0) ++blk;
            off = 0;
            used = 0;
        }
        ++off;
        used += need;
        if (blk >= kMaxBlocks)
            throw Error(Errc::kOutOfMemory, "hnsw index would exceed the maximum of " +
                                                std::to_string(kMaxBlocks) + " pages");
        slot.id = pack_node(blk, off);
        if (slot.chunk == -1) ids[slot.item] = slot.id;
        if (slot.chunk == -2) lists_ids[slot.item] = slot.id;
    }
    const BlockNumber last_blk = n > 0 ? blk : 0;

    // The lists of item into e (inline lists or a list tuple), graph ids mapped to node ids.
    auto write_lists = [&](ElementHeader* e, NodeId item, int level) {
        for (int l = 0; l <= level; ++l) {
            NodeId* list = element_neighbors(e, dims, m, l);
            const int cap = level_capacity(m, l);
            const auto nb = b->neighbors(item, l);
            int k = 0;
            for (; k < cap && k < static_cast<int>(nb.size()); ++k) list[k] = ids[nb[k]];
            for (; k < cap; ++k) list[k] = kInvalidNode;
        }
    };
    auto add_tuple = [](Page page, const Slot& slot, const char* tuple, Size size) {
        const OffsetNumber got = PageAddItem(page, reinterpret_cast<Item>(const_cast<char*>(tuple)),
                                             size, InvalidOffsetNumber, false, false);
        if (got != node_offset(slot.id))
            throw Error(Errc::kInternal, "hnsw build: page layout mismatch");
    };
    PGAlignedBlock image;
    auto* tuple = static_cast<char*>(call_pg([] { return palloc(max_element_size()); }));
    size_t pos = 0;
    // Progress of this phase: tuples written (elements, copies and list tuples) of all.
    pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, static_cast<int64>(seq.size()));
    pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, 0);
    for (BlockNumber b_no = 1; b_no <= last_blk; ++b_no) {
        if (b_no % 64 == 0)
            pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, static_cast<int64>(pos));
        Page page = image.data;
        init_page(page, kElementPage);
        for (; pos < seq.size() && node_block(seq[pos].id) == b_no; ++pos) {
            const Slot& slot = seq[pos];
            const NodeId item = slot.item;
            const int level = slot.chunk < 0 ? b->level(item) : 0;
            const int lanes = vector_lanes(b->vector(item), dims);
            const Size size = slot_size(item, slot.chunk);
            std::memset(tuple, 0, size);
            auto* e = reinterpret_cast<ElementHeader*>(tuple);
            e->level = static_cast<uint8>(level);
            if (slot.chunk == -2) {  // the list tuple of a wide element
                e->flags = kListTuple;
                e->next_copy = ids[item];
                write_lists(e, item, level);
                add_tuple(page, slot, tuple, size);
                continue;
            }
            const bool is_wide = slot.chunk == -1 && wide(item);
            e->flags = slot.chunk >= 0 ? kCopy : is_wide ? kExtLists : 0;
            const auto labels = b->labels(item);
            const size_t first = static_cast<size_t>(slot.chunk + 1) * kMaxHeapTids;
            e->ntids = static_cast<uint8>(std::min<size_t>(labels.size() - first, kMaxHeapTids));
            for (int t = 0; t < e->ntids; ++t) unpack_tid(labels[first + t], &e->tids[t]);
            const bool chained =
                pos + 1 < seq.size() && seq[pos + 1].item == item && seq[pos + 1].chunk >= 0;
            e->next_copy = chained ? seq[pos + 1].id : kInvalidNode;
            std::memcpy(element_vector(e), b->vector(item), sizeof(float) * lanes);
            if (is_wide)
                *element_lists_at(e, dims) = lists_ids[item];
            else if (slot.chunk == -1)
                write_lists(e, item, level);
            add_tuple(page, slot, tuple, size);
        }
        call_pg([&] {
            Buffer buf = ReadBufferExtended(st->index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, nullptr);
            LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
            if (BufferGetBlockNumber(buf) != b_no)
                elog(ERROR, "hnsw build: unexpected block %u", BufferGetBlockNumber(buf));
            std::memcpy(BufferGetPage(buf), image.data, BLCKSZ);
            MarkBufferDirty(buf);
            UnlockReleaseBuffer(buf);
            CHECK_FOR_INTERRUPTS();
        });
    }
    pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, static_cast<int64>(seq.size()));
    call_pg([&] { pfree(tuple); });
    const NodeId entry = n > 0 ? ids[b->entry_point()] : kInvalidNode;
    const int entry_level = n > 0 ? b->max_level() : -1;
    call_pg(
        [&] { update_meta_entry(st->index, entry, entry_level, last_blk ? last_blk : 1, false); });
    st->indexed += static_cast<double>(n);
}

// Builds what was loaded, writes it and WAL-logs every page written so far.
void flush_in_memory(BuildState* st) {
    if (st->flushed) return;
    st->flushed = true;
    if (st->builder->object->size() > 0) {
        run_builder(st);
        write_graph(st);
    }
    release(st->builder);
    call_pg([&] {
        if (RelationNeedsWAL(st->index))
            log_newpage_range(st->index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(st->index),
                              true);
    });
}

// The shape of the index column's elements, with pgvector's checks (and the page's).
struct Shape {
    distance::Metric metric;
    int type_dims;
    int lanes;
    int max_level;
};

Shape column_shape(Relation index) {
    const Form_pg_attribute att = TupleDescAttr(RelationGetDescr(index), 0);
    if (att->atttypid == VARBITOID)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("type not supported for hnsw index"),
                        errhint("Index a bit(n) column or expression: bit varying has no fixed "
                                "length.")));
    Shape s;
    s.metric = index_metric(index);
    const distance::ElementKind kind = distance::element_kind(s.metric);
    s.type_dims = att->atttypmod;
    if (s.type_dims < 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("column does not have dimensions"),
                        errhint("Declare the column with a dimension count, e.g. %s(3).",
                                kind_type_name(kind))));
    if (s.type_dims > max_index_dims(kind))
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("column cannot have more than %d dimensions for hnsw index",
                               max_index_dims(kind))));
    s.lanes = static_cast<int>(distance::lanes_for(kind, static_cast<size_t>(s.type_dims)));
    const int m = option_m(index);
    // Every level a list tuple can hold: an element whose vector and lists do not fit one page
    // keeps its lists in a list tuple (pg/storage/page.hpp), so vector(2000), halfvec(4000),
    // bit(64000) and sparsevec rows of 1,000 non-zeros index at any m.
    s.max_level = max_level_with_list_tuples(m);
    const int widest =
        kind == distance::ElementKind::kSparse ? static_cast<int>(distance::kSparseLanes) : s.lanes;
    if (ext_element_size(widest) > max_element_size())
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("%s(%d) is too large for an hnsw index", kind_type_name(kind),
                               s.type_dims)));
    return s;
}

extern "C" void build_callback(Relation index, ItemPointer tid, Datum* values, bool* isnull,
                               bool /*alive*/, void* state) {
    auto* st = static_cast<BuildState*>(state);
    if (isnull[0]) return;
    MemoryContext old = MemoryContextSwitchTo(st->tmpcxt);
    const bool ok = prepare_datum(st->metric, st->type_dims, values[0], st->vecbuf, false);
    MemoryContextSwitchTo(old);
    MemoryContextReset(st->tmpcxt);
    if (!ok) return;  // zero vector under cosine: not indexable
    guard([&] {
        if (!st->on_disk) {
            if (st->builder->object->add(st->vecbuf, pack_tid(tid))) return;
            const double loaded = static_cast<double>(st->builder->object->size());
            call_pg([&] {
                ereport(NOTICE,
                        (errmsg("hnsw graph no longer fits into maintenance_work_mem after %.0f "
                                "tuples",
                                loaded),
                         errdetail("The rest of the build inserts one vector at a time, which "
                                   "is much slower."),
                         errhint("Increase maintenance_work_mem to build in memory.")));
            });
            flush_in_memory(st);
            st->on_disk = true;
        }
        insert_on_disk(index, st->vecbuf, tid);
        st->indexed += 1;
    });
}

}  // namespace

extern "C" IndexBuildResult* hnsw_build(Relation heap, Relation index, IndexInfo* info) {
    if (RelationGetNumberOfBlocks(index) != 0)
        elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
    stats::forget(RelationGetRelid(index));
    const Shape shape = column_shape(index);
    const int dims = shape.lanes, m = option_m(index);
    const int efc = option_ef_construction(index);
    const int max_level = shape.max_level;
    const distance::Metric metric = shape.metric;

    MetaData meta;
    std::memset(&meta, 0, sizeof(meta));
    meta.magic = kMagic;
    meta.version = kFormatVersion;
    meta.dims = static_cast<uint32>(dims);
    meta.type_dims = static_cast<uint32>(shape.type_dims);
    meta.m = static_cast<uint16>(m);
    meta.ef_construction = static_cast<uint16>(efc);
    meta.metric = static_cast<uint8>(metric);
    meta.max_level = static_cast<uint8>(max_level);
    meta.entry_level = -1;
    meta.entry = kInvalidNode;
    meta.insert_hint = 1;
    write_meta_page_new(index, MAIN_FORKNUM, meta);

    auto* st = static_cast<BuildState*>(palloc0(sizeof(BuildState)));
    st->heap = heap;
    st->index = index;
    st->metric = metric;
    st->dims = dims;
    st->type_dims = shape.type_dims;
    st->m = m;
    st->ef_construction = efc;
    st->max_level = max_level;
    st->threads = index_build_threads(heap, index);
    st->tmpcxt =
        AllocSetContextCreate(CurrentMemoryContext, "hnsw build tuple", ALLOCSET_DEFAULT_SIZES);
    st->vecbuf = static_cast<float*>(palloc(sizeof(float) * dims));

    guard([&] {
        piramid::hnsw::Params p{};
        p.dim = static_cast<size_t>(dims);
        p.metric = metric;
        p.m = m;
        p.ef_construction = efc;
        p.seed = 0x5EED;
        p.max_level = max_level;
        st->builder = make_owned<Builder>(CurrentMemoryContext, p,
                                          static_cast<size_t>(maintenance_work_mem) * 1024);
    });

    pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseLoad);
    const double reltuples =
        table_index_build_scan(heap, index, info, true, true, build_callback, st, nullptr);
    guard([&] { flush_in_memory(st); });

    auto* result = static_cast<IndexBuildResult*>(palloc(sizeof(IndexBuildResult)));
    result->heap_tuples = reltuples;
    result->index_tuples = st->indexed;
    return result;
}

extern "C" void hnsw_buildempty(Relation index) {
    const Shape shape = column_shape(index);
    MetaData meta;
    std::memset(&meta, 0, sizeof(meta));
    meta.magic = kMagic;
    meta.version = kFormatVersion;
    meta.dims = static_cast<uint32>(shape.lanes);
    meta.type_dims = static_cast<uint32>(shape.type_dims);
    meta.m = static_cast<uint16>(option_m(index));
    meta.ef_construction = static_cast<uint16>(option_ef_construction(index));
    meta.metric = static_cast<uint8>(shape.metric);
    meta.max_level = static_cast<uint8>(shape.max_level);
    meta.entry_level = -1;
    meta.entry = kInvalidNode;
    meta.insert_hint = 1;
    write_meta_page_new(index, INIT_FORKNUM, meta);
}

}  // namespace piramid::pg::hnsw
