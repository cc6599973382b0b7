// CREATE INDEX for ivfflat. Pass 1 samples the heap (a reservoir of up to lists * 50 stored
// vectors, within maintenance_work_mem); core k-means trains the centers on worker threads
// (core code only); the meta and list pages are written; pass 2 reads the heap again, assigns
// rows to their nearest center in batches (the CpuEngine's top-1) and appends them to their
// lists' entry pages. The pages are written without WAL and logged at the end with
// log_newpage_range.
#include "pg/ivfflat/ivfflat.hpp"
#include "pg/stats.hpp"

extern "C" {
#include "access/generic_xlog.h"
#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "catalog/pg_type.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/backend_progress.h"
#include "utils/memutils.h"
}

#include <algorithm>
#include <cstring>
#include <thread>

#include "core/distance/half.hpp"
#include "core/ivf/kmeans.hpp"
#include "pg/am/element.hpp"
#include "pg/build_threads.hpp"

namespace piramid::pg::ivfflat {

namespace {

constexpr int kSamplesPerList = 50;
constexpr int kBatch = 4096;

bool interrupts_pending(void*) {
    return QueryCancelPending || ProcDiePending;
}

struct Shape {
    distance::Metric metric;
    int type_dims;  // also the floats k-means trains on
    int lanes;      // stored form
};

// The stored form of a vector widened to type_dims floats (halves exactly, bits as 0 and 1).
void widen(distance::ElementKind kind, const float* stored, int type_dims, float* out) {
    switch (kind) {
        case distance::ElementKind::kF32:
            std::memcpy(out, stored, sizeof(float) * type_dims);
            return;
        case distance::ElementKind::kF16: {
            const auto* h = reinterpret_cast<const distance::half*>(stored);
            for (int i = 0; i < type_dims; ++i) out[i] = distance::half_to_float(h[i]);
            return;
        }
        case distance::ElementKind::kBit: {
            const auto* b = reinterpret_cast<const uint8*>(stored);
            for (int i = 0; i < type_dims; ++i)
                out[i] = (b[i / 8] >> (7 - i % 8)) & 1 ? 1.0f : 0.0f;
            return;
        }
        case distance::ElementKind::kSparse:  // no ivfflat opclass for sparsevec
            return;
    }
}

// A trained center (type_dims floats) in the stored form: halves, or bits set where the center's
// coordinate exceeds 1/2 (the nearest bit vector in Hamming and L2 terms).
void narrow(distance::ElementKind kind, const float* center, int type_dims, int lanes, float* out) {
    switch (kind) {
        case distance::ElementKind::kF32:
            std::memcpy(out, center, sizeof(float) * type_dims);
            return;
        case distance::ElementKind::kF16: {
            std::memset(out, 0, sizeof(float) * lanes);
            auto* h = reinterpret_cast<distance::half*>(out);
            for (int i = 0; i < type_dims; ++i) h[i] = distance::float_to_half(center[i]);
            return;
        }
        case distance::ElementKind::kBit: {
            std::memset(out, 0, sizeof(float) * lanes);
            auto* b = reinterpret_cast<uint8*>(out);
            for (int i = 0; i < type_dims; ++i)
                if (center[i] > 0.5f) b[i / 8] |= static_cast<uint8>(0x80 >> (i % 8));
            return;
        }
        case distance::ElementKind::kSparse:  // no ivfflat opclass for sparsevec
            return;
    }
}

// Every trained center in the stored form (palloc'd, lists x lanes).
float* stored_centers(const Shape& shape, int lists, const float* centers) {
    float* out = static_cast<float*>(MemoryContextAllocHuge(
        CurrentMemoryContext, sizeof(float) * static_cast<Size>(lists) * shape.type_dims));
    const distance::ElementKind kind = distance::element_kind(shape.metric);
    for (int i = 0; i < lists; ++i)
        narrow(kind, centers + static_cast<size_t>(i) * shape.type_dims, shape.type_dims,
               shape.lanes, out + static_cast<size_t>(i) * shape.lanes);
    return out;
}

Shape column_shape(Relation index) {
    const Form_pg_attribute att = TupleDescAttr(RelationGetDescr(index), 0);
    if (att->atttypid == VARBITOID)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("type not supported for ivfflat index")));
    Shape s;
    s.metric = index_metric(index);
    const distance::ElementKind kind = distance::element_kind(s.metric);
    s.type_dims = att->atttypmod;
    if (s.type_dims < 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("column does not have dimensions"),
                        errhint("Declare the column with a dimension count, e.g. %s(3).",
                                hnsw::kind_type_name(kind))));
    if (s.type_dims > hnsw::max_index_dims(kind))
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("column cannot have more than %d dimensions for ivfflat index",
                               hnsw::max_index_dims(kind))));
    s.lanes = static_cast<int>(distance::lanes_for(kind, static_cast<size_t>(s.type_dims)));
    return s;
}

// Raises the error for a core status (kCanceled: the pending interrupt).
void check_status(engine::Status st, const char* what) {
    if (st == engine::Status::kOk) return;
    if (st == engine::Status::kCanceled) CHECK_FOR_INTERRUPTS();
    if (st == engine::Status::kOutOfMemory)
        ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory"),
                        errdetail("ivfflat %s ran out of memory.", what)));
    ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                    errmsg("ivfflat %s failed: %s", what, engine::status_name(st))));
}

struct BuildState {
    Relation index;
    distance::Metric metric;
    distance::ElementKind kind;
    int type_dims;  // floats a sample and a trained center take
    int lanes;      // floats (32-bit lanes) a stored vector takes
    int lists;
    unsigned threads;
    MemoryContext tmpcxt;
    float* vecbuf;
    // pass 1
    float* samples;
    int64 max_samples;
    int64 nsamples;
    int64 seen;
    uint64 rng;
    // pass 2
    float* centers;         // trained, lists x type_dims
    float* stored_centers;  // lists x lanes
    Meta meta;
    BlockNumber* first;
    BlockNumber* last;
    float* batch;       // stored forms
    float* batch_unit;  // unit copies for assignment (inner product only)
    ItemPointerData* batch_tids;
    int32* labels;
    int nbatch;
    char* item;
    double indexed;
};

uint64 next_random(BuildState* st) {
    uint64 z = (st->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// The stored form of a column value into st->vecbuf; false when it is not indexed.
bool prepare(BuildState* st, Datum value) {
    MemoryContext old = MemoryContextSwitchTo(st->tmpcxt);
    const bool ok = hnsw::prepare_datum(st->metric, st->type_dims, value, st->vecbuf, false);
    MemoryContextSwitchTo(old);
    MemoryContextReset(st->tmpcxt);
    return ok;
}

extern "C" void sample_callback(Relation, ItemPointer, Datum* values, bool* isnull, bool,
                                void* state) {
    auto* st = static_cast<BuildState*>(state);
    if (isnull[0] || !prepare(st, values[0])) return;
    st->seen++;
    if (st->seen % 1024 == 0)
        pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, st->seen);
    int64 slot = st->nsamples;
    if (st->nsamples >= st->max_samples) {
        slot = static_cast<int64>(next_random(st) % static_cast<uint64>(st->seen));
        if (slot >= st->max_samples) return;
    } else {
        st->nsamples++;
    }
    float* dst = st->samples + slot * st->type_dims;
    widen(st->kind, st->vecbuf, st->type_dims, dst);
    // Spherical k-means trains on unit vectors.
    if (spherical(st->metric)) ivf::normalize(dst, static_cast<size_t>(st->type_dims));
}

// Writes the meta page and the list pages (lists without entry pages yet) to `fork`; with
// wal, each page is logged as a full image (the init fork of an unlogged index).
Meta write_structure(Relation index, ForkNumber fork, const Shape& shape, int lists,
                     const float* centers, bool wal) {
    Meta meta;
    std::memset(&meta, 0, sizeof(meta));
    meta.magic = kMagic;
    meta.version = kVersion;
    meta.type_dims = static_cast<uint32>(shape.type_dims);
    meta.lanes = static_cast<uint32>(shape.lanes);
    meta.lists = static_cast<uint32>(lists);
    meta.lists_per_page = lists_per_page(meta.lanes);
    meta.first_list_block = 1;
    meta.metric = static_cast<uint8>(shape.metric);

    Buffer buf = ReadBufferExtended(index, fork, P_NEW, RBM_NORMAL, nullptr);
    if (BufferGetBlockNumber(buf) != kMetaBlock)
        elog(ERROR, "ivfflat meta page of \"%s\" is not block 0", RelationGetRelationName(index));
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    START_CRIT_SECTION();
    Page page = BufferGetPage(buf);
    init_page(page, kMetaPage);
    std::memcpy(page_meta(page), &meta, sizeof(meta));
    reinterpret_cast<PageHeader>(page)->pd_lower = static_cast<LocationIndex>(
        reinterpret_cast<char*>(page_meta(page)) + sizeof(Meta) - reinterpret_cast<char*>(page));
    MarkBufferDirty(buf);
    if (wal) log_newpage_buffer(buf, true);
    END_CRIT_SECTION();
    UnlockReleaseBuffer(buf);

    const Size isize = list_item_size(meta.lanes);
    char* item = static_cast<char*>(palloc0(isize));
    list_blocks(item)[0] = InvalidBlockNumber;
    list_blocks(item)[1] = InvalidBlockNumber;
    for (int i = 0; i < lists;) {
        buf = ReadBufferExtended(index, fork, P_NEW, RBM_NORMAL, nullptr);
        if (BufferGetBlockNumber(buf) != list_block(meta, static_cast<uint32>(i)))
            elog(ERROR, "ivfflat list page of \"%s\" is out of place",
                 RelationGetRelationName(index));
        LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
        START_CRIT_SECTION();
        page = BufferGetPage(buf);
        init_page(page, kListPage);
        for (uint32 k = 0; k < meta.lists_per_page && i < lists; ++k, ++i) {
            std::memcpy(list_center(item), centers + static_cast<size_t>(i) * meta.lanes,
                        sizeof(float) * meta.lanes);
            if (PageAddItem(page, reinterpret_cast<Item>(item), isize, InvalidOffsetNumber, false,
                            false) != list_offset(meta, static_cast<uint32>(i)))
                elog(ERROR, "ivfflat: failed to add list item to \"%s\"",
                     RelationGetRelationName(index));
        }
        MarkBufferDirty(buf);
        if (wal) log_newpage_buffer(buf, true);
        END_CRIT_SECTION();
        UnlockReleaseBuffer(buf);
    }
    pfree(item);
    return meta;
}

// Appends one entry to list l during the build (no WAL: the build logs every page at the end).
void append_build(BuildState* st, int l, ItemPointer tid, const float* vec) {
    Relation index = st->index;
    const Size isize = entry_item_size(static_cast<uint32>(st->lanes));
    std::memset(st->item, 0, kEntryHeader);
    *entry_tid(st->item) = *tid;
    std::memcpy(entry_vec(st->item), vec, sizeof(float) * st->lanes);
    Buffer old = InvalidBuffer;
    if (st->last[l] != InvalidBlockNumber) {
        old = ReadBuffer(index, st->last[l]);
        LockBuffer(old, BUFFER_LOCK_EXCLUSIVE);
        Page page = BufferGetPage(old);
        if (PageAddItem(page, reinterpret_cast<Item>(st->item), isize, InvalidOffsetNumber, false,
                        false) != InvalidOffsetNumber) {
            MarkBufferDirty(old);
            UnlockReleaseBuffer(old);
            return;
        }
    }
    Buffer buf = ReadBuffer(index, P_NEW);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    Page page = BufferGetPage(buf);
    init_page(page, kEntryPage);
    if (PageAddItem(page, reinterpret_cast<Item>(st->item), isize, InvalidOffsetNumber, false,
                    false) == InvalidOffsetNumber)
        elog(ERROR, "ivfflat: entry does not fit on an empty page");
    const BlockNumber blk = BufferGetBlockNumber(buf);
    MarkBufferDirty(buf);
    UnlockReleaseBuffer(buf);
    if (old != InvalidBuffer) {
        page_opaque(BufferGetPage(old))->next = blk;
        MarkBufferDirty(old);
        UnlockReleaseBuffer(old);
    } else {
        st->first[l] = blk;
    }
    st->last[l] = blk;
}

// Assignment of halfvec and bit rows: the nearest stored center in the stored form (what an
// insert compares too).
void assign_stored(BuildState* st) {
    const distance::LaneFn fn = distance::lane_distance(assign_metric(st->metric));
    const size_t lanes = static_cast<size_t>(st->lanes);
    for (int i = 0; i < st->nbatch; ++i) {
        const float* v = st->batch + i * lanes;
        int32 best = 0;
        float bd = 0;
        for (int c = 0; c < st->lists; ++c) {
            const float d = fn(v, st->stored_centers + c * lanes, lanes);
            if (c == 0 || d < bd) {
                bd = d;
                best = c;
            }
        }
        st->labels[i] = best;
    }
}

void flush_batch(BuildState* st) {
    if (st->nbatch == 0) return;
    const float* for_assign =
        st->metric == distance::Metric::kInnerProduct ? st->batch_unit : st->batch;
    const engine::Status status = guard([&] {
        if (st->kind != distance::ElementKind::kF32) {
            assign_stored(st);
            return engine::Status::kOk;
        }
        engine::Cancel cancel;
        cancel.poll = interrupts_pending;
        return ivf::assign(st->centers, static_cast<size_t>(st->lists), for_assign,
                           static_cast<size_t>(st->nbatch), static_cast<size_t>(st->lanes),
                           spherical(st->metric), st->threads, st->labels, &cancel);
    });
    check_status(status, "list assignment");
    for (int i = 0; i < st->nbatch; ++i)
        append_build(st, st->labels[i], &st->batch_tids[i],
                     st->batch + static_cast<size_t>(i) * st->lanes);
    st->indexed += st->nbatch;
    pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, static_cast<int64>(st->indexed));
    st->nbatch = 0;
}

extern "C" void assign_callback(Relation, ItemPointer tid, Datum* values, bool* isnull, bool,
                                void* state) {
    auto* st = static_cast<BuildState*>(state);
    if (isnull[0] || !prepare(st, values[0])) return;
    const size_t at = static_cast<size_t>(st->nbatch) * st->lanes;
    std::memcpy(st->batch + at, st->vecbuf, sizeof(float) * st->lanes);
    if (st->metric == distance::Metric::kInnerProduct) {
        std::memcpy(st->batch_unit + at, st->vecbuf, sizeof(float) * st->lanes);
        ivf::normalize(st->batch_unit + at, static_cast<size_t>(st->lanes));
    }
    st->batch_tids[st->nbatch] = *tid;
    if (++st->nbatch == kBatch) flush_batch(st);
}

float* train_centers(BuildState* st) {
    const size_t bytes = sizeof(float) * static_cast<size_t>(st->lists) * st->type_dims;
    float* centers = static_cast<float*>(MemoryContextAllocHuge(CurrentMemoryContext, bytes));
    ivf::KmeansParams p;
    p.k = static_cast<size_t>(st->lists);
    p.dim = static_cast<size_t>(st->type_dims);
    p.spherical = spherical(st->metric);
    p.threads = st->threads;
    const engine::Status status = guard([&] {
        engine::Cancel cancel;
        cancel.poll = interrupts_pending;
        return ivf::kmeans(st->samples, static_cast<size_t>(st->nsamples), p, centers, &cancel);
    });
    check_status(status, "k-means");
    return centers;
}

}  // namespace

extern "C" IndexBuildResult* ivfflat_build(Relation heap, Relation index, IndexInfo* info) {
    if (RelationGetNumberOfBlocks(index) != 0)
        elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
    stats::forget(RelationGetRelid(index));
    const Shape shape = column_shape(index);
    auto* st = static_cast<BuildState*>(palloc0(sizeof(BuildState)));
    st->index = index;
    st->metric = shape.metric;
    st->kind = distance::element_kind(shape.metric);
    st->type_dims = shape.type_dims;
    st->lanes = shape.lanes;
    st->lists = option_lists(index);
    st->threads = static_cast<unsigned>(index_build_threads(heap, index));
    report_build_workers(static_cast<int>(st->threads));
    st->tmpcxt =
        AllocSetContextCreate(CurrentMemoryContext, "ivfflat build tuple", ALLOCSET_DEFAULT_SIZES);
    st->vecbuf = static_cast<float*>(palloc(sizeof(float) * st->lanes));
    st->rng = 0x1F5EEDull;

    // Pass 1: the sample (at least one vector per list whatever maintenance_work_mem says).
    const Size vec_bytes = sizeof(float) * static_cast<Size>(st->lanes);
    const Size sample_bytes = sizeof(float) * static_cast<Size>(st->type_dims);
    const int64 budget =
        static_cast<int64>(maintenance_work_mem) * 1024 / 2 / static_cast<int64>(sample_bytes);
    st->max_samples = std::max<int64>(
        st->lists, std::min<int64>(static_cast<int64>(st->lists) * kSamplesPerList, budget));
    st->samples = static_cast<float*>(MemoryContextAllocHuge(
        CurrentMemoryContext, static_cast<Size>(st->max_samples) * sample_bytes));
    pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseKmeans);
    // The sampling pass reads every row: its total is the planner's estimate of the table.
    if (heap->rd_rel->reltuples > 0)
        pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL,
                                     static_cast<int64>(heap->rd_rel->reltuples));
    const double reltuples =
        table_index_build_scan(heap, index, info, true, true, sample_callback, st, nullptr);
    if (st->nsamples < st->lists)
        ereport(NOTICE, (errmsg("ivfflat index created with little data"),
                         errdetail("This will cause low recall."),
                         errhint("Drop the index until the table has more data.")));
    st->centers = train_centers(st);
    pfree(st->samples);
    st->samples = nullptr;

    st->stored_centers = stored_centers(shape, st->lists, st->centers);
    st->meta = write_structure(index, MAIN_FORKNUM, shape, st->lists, st->stored_centers, false);
    st->first = static_cast<BlockNumber*>(palloc(sizeof(BlockNumber) * st->lists));
    st->last = static_cast<BlockNumber*>(palloc(sizeof(BlockNumber) * st->lists));
    for (int i = 0; i < st->lists; ++i) st->first[i] = st->last[i] = InvalidBlockNumber;

    // Pass 2: assign and append.
    if (st->seen > 0) {
        pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseAssign);
        pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, st->seen);
        pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, 0);
        st->batch = static_cast<float*>(
            MemoryContextAllocHuge(CurrentMemoryContext, static_cast<Size>(kBatch) * vec_bytes));
        if (st->metric == distance::Metric::kInnerProduct)
            st->batch_unit = static_cast<float*>(MemoryContextAllocHuge(
                CurrentMemoryContext, static_cast<Size>(kBatch) * vec_bytes));
        st->batch_tids = static_cast<ItemPointerData*>(palloc(sizeof(ItemPointerData) * kBatch));
        st->labels = static_cast<int32*>(palloc(sizeof(int32) * kBatch));
        st->item = static_cast<char*>(palloc0(entry_item_size(static_cast<uint32>(st->lanes))));
        table_index_build_scan(heap, index, info, true, true, assign_callback, st, nullptr);
        flush_batch(st);
    }

    // The lists' first and last entry pages.
    pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseLoad);
    for (int i = 0; i < st->lists;) {
        Buffer buf = ReadBuffer(index, list_block(st->meta, static_cast<uint32>(i)));
        LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
        Page page = BufferGetPage(buf);
        for (uint32 k = 0; k < st->meta.lists_per_page && i < st->lists; ++k, ++i) {
            Item it = PageGetItem(page, PageGetItemId(page, list_offset(st->meta, i)));
            list_blocks(it)[0] = st->first[i];
            list_blocks(it)[1] = st->last[i];
        }
        MarkBufferDirty(buf);
        UnlockReleaseBuffer(buf);
    }
    if (RelationNeedsWAL(index))
        log_newpage_range(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index), true);

    auto* result = static_cast<IndexBuildResult*>(palloc(sizeof(IndexBuildResult)));
    result->heap_tuples = reltuples;
    result->index_tuples = st->indexed;
    return result;
}

extern "C" void ivfflat_buildempty(Relation index) {
    const Shape shape = column_shape(index);
    const int lists = option_lists(index);
    float* centers = static_cast<float*>(MemoryContextAllocHuge(
        CurrentMemoryContext, sizeof(float) * static_cast<Size>(lists) * shape.type_dims));
    ivf::KmeansParams p;
    p.k = static_cast<size_t>(lists);
    p.dim = static_cast<size_t>(shape.type_dims);
    p.spherical = spherical(shape.metric);
    const engine::Status status =
        guard([&] { return ivf::kmeans(nullptr, 0, p, centers, nullptr); });
    check_status(status, "k-means");
    write_structure(index, INIT_FORKNUM, shape, lists, stored_centers(shape, lists, centers), true);
}

}  // namespace piramid::pg::ivfflat
