// aminsert for hnsw, and the on-disk insertion path shared with the build's continuation.
//
// Concurrency: inserts hold the heavyweight page lock on the meta block in share mode, so many
// sessions insert at once; VACUUM's repair phase takes it exclusively. Neighbour lists are
// updated by compare-and-swap under an exclusive buffer lock (one page at a time), so
// concurrent inserts never lose each other's links silently and never hold two content locks.
#include "pg/am/hnsw_am.hpp"

extern "C" {
#include "access/generic_xlog.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
}

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/hnsw/insert.hpp"
#include "core/hnsw/search.hpp"
#include "pg/storage/buffer_store.hpp"

namespace piramid::pg::hnsw {

namespace {

void fill_element(char* tuple, Size size, int dims, int m, int level, const float* vec,
                  ItemPointer tid) {
    std::memset(tuple, 0, size);
    auto* e = reinterpret_cast<ElementHeader*>(tuple);
    e->level = static_cast<uint8>(level);
    e->ntids = 1;
    e->tids[0] = *tid;
    e->next_copy = kInvalidNode;
    std::memcpy(element_vector(e), vec, sizeof(float) * dims);
    for (int l = 0; l <= level; ++l) {
        NodeId* list = element_neighbors(e, dims, m, l);
        for (int k = 0; k < level_capacity(m, l); ++k) list[k] = kInvalidNode;
    }
}

// Tries to place the tuple on `buf` (exclusively locked): a free slot that is large enough, or
// new space. Returns the offset used or InvalidOffsetNumber.
OffsetNumber place_on_page(Relation index, Buffer buf, const char* tuple, Size size,
                           bool* more_free) {
    Page page = BufferGetPage(buf);
    *more_free = false;
    if (PageIsNew(page)) {
        // Left all-zero by an extension that a crash interrupted: initialise and use it.
        GenericXLogState* st = GenericXLogStart(index);
        Page p = GenericXLogRegisterBuffer(st, buf, GENERIC_XLOG_FULL_IMAGE);
        init_page(p, kElementPage);
        const OffsetNumber off = PageAddItem(p, (Item)tuple, size, InvalidOffsetNumber, false, false);
        GenericXLogFinish(st);
        return off;
    }
    if (!page_is(page, kElementPage)) return InvalidOffsetNumber;
    const OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
    OffsetNumber found = InvalidOffsetNumber;
    for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off)) {
        ItemId iid = PageGetItemId(page, off);
        if (!ItemIdIsNormal(iid)) continue;
        auto* e = reinterpret_cast<ElementHeader*>(PageGetItem(page, iid));
        if (!(e->flags & kFree)) continue;
        if (ItemIdGetLength(iid) < size || found != InvalidOffsetNumber) {
            *more_free = true;  // another free slot stays on this page
            continue;
        }
        found = off;
    }
    if (found != InvalidOffsetNumber) {
        const OffsetNumber off = found;
        GenericXLogState* st = GenericXLogStart(index);
        Page p = GenericXLogRegisterBuffer(st, buf, 0);
        ItemId piid = PageGetItemId(p, off);
        char* dst = reinterpret_cast<char*>(PageGetItem(p, piid));
        std::memset(dst, 0, ItemIdGetLength(piid));
        std::memcpy(dst, tuple, size);
        GenericXLogFinish(st);
        return off;
    }
    if (static_cast<unsigned>(maxoff) + 1 >= (1u << kNodeOffsetBits) || PageGetFreeSpace(page) < size)
        return InvalidOffsetNumber;
    GenericXLogState* st = GenericXLogStart(index);
    Page p = GenericXLogRegisterBuffer(st, buf, 0);
    OffsetNumber off = PageAddItem(p, (Item)tuple, size, InvalidOffsetNumber, false, false);
    if (off == InvalidOffsetNumber) {
        GenericXLogAbort(st);
        return InvalidOffsetNumber;
    }
    GenericXLogFinish(st);
    return off;
}

void set_insert_hint(Relation index, BlockNumber blk) {
    Buffer buf = ReadBuffer(index, kMetaBlock);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    if (page_meta(BufferGetPage(buf))->insert_hint != blk) {
        GenericXLogState* st = GenericXLogStart(index);
        Page p = GenericXLogRegisterBuffer(st, buf, 0);
        page_meta(p)->insert_hint = blk;
        GenericXLogFinish(st);
    }
    UnlockReleaseBuffer(buf);
}

// Writes a new element (empty neighbour lists) and returns its id. Postgres calls only.
NodeId allocate_element(Relation index, BlockNumber hint, const char* tuple, Size size) {
    const BlockNumber nblocks = RelationGetNumberOfBlocks(index);
    BlockNumber blk = hint >= 1 && hint < nblocks ? hint : (nblocks > 1 ? nblocks - 1 : 1);
    // Walk forward from the hint (VACUUM points it at the first page with a free slot), a
    // bounded number of pages, before extending the relation.
    // The hint then stays on the first page that still has a free slot, so slots freed by
    // VACUUM are filled before the index grows.
    BlockNumber keep = InvalidBlockNumber;
    for (int tries = 0; tries < 16 && blk < nblocks; ++tries, ++blk) {
        Buffer buf = ReadBuffer(index, blk);
        LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
        bool more_free = false;
        OffsetNumber off = place_on_page(index, buf, tuple, size, &more_free);
        UnlockReleaseBuffer(buf);
        if (more_free && keep == InvalidBlockNumber) keep = blk;
        if (off != InvalidOffsetNumber) {
            const BlockNumber next_hint = keep != InvalidBlockNumber ? keep : blk;
            if (next_hint != hint) set_insert_hint(index, next_hint);
            return pack_node(blk, off);
        }
    }
    // Extend. Another inserter walking the pages may lock the new, still all-zero page before
    // we do and initialise it (place_on_page handles a new page): never initialise twice.
    for (;;) {
        LockRelationForExtension(index, ExclusiveLock);
        Buffer buf = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, nullptr);
        LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
        UnlockRelationForExtension(index, ExclusiveLock);
        const BlockNumber newblk = BufferGetBlockNumber(buf);
        if (newblk >= kMaxBlocks)
            ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                            errmsg("hnsw index \"%s\" cannot grow beyond %u pages",
                                   RelationGetRelationName(index), kMaxBlocks)));
        bool more_free = false;
        const OffsetNumber off = place_on_page(index, buf, tuple, size, &more_free);
        UnlockReleaseBuffer(buf);
        if (off != InvalidOffsetNumber) {
            set_insert_hint(index, keep != InvalidBlockNumber ? keep : newblk);
            return pack_node(newblk, off);
        }
    }
}

// Adds tid to an existing element holding exactly this vector. Postgres calls only.
bool add_tid_to_duplicate(Relation index, NodeId id, const float* vec, int dims,
                          ItemPointer tid) {
    Buffer buf = ReadBuffer(index, node_block(id));
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    bool added = false;
    ElementHeader* e = element_at(BufferGetPage(buf), node_offset(id));
    if (e != nullptr && (e->flags & ~kCopy) == 0 && e->ntids < kMaxHeapTids &&
        std::memcmp(element_vector(e), vec, sizeof(float) * dims) == 0) {
        GenericXLogState* st = GenericXLogStart(index);
        Page p = GenericXLogRegisterBuffer(st, buf, 0);
        ElementHeader* pe = element_at(p, node_offset(id));
        pe->tids[pe->ntids++] = *tid;
        GenericXLogFinish(st);
        added = true;
    }
    UnlockReleaseBuffer(buf);
    return added;
}

// Makes id the entry point when the graph is empty, or (unless only_if_empty) when its level is
// higher than the entry's. Reports the entry point as it was before.
void raise_entry(Relation index, NodeId id, int level, NodeId* entry, int* entry_level,
                 bool only_if_empty) {
    Buffer buf = ReadBuffer(index, kMetaBlock);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    MetaData* meta = page_meta(BufferGetPage(buf));
    *entry = meta->entry;
    *entry_level = meta->entry_level;
    if (meta->entry == kInvalidNode || (!only_if_empty && level > meta->entry_level)) {
        GenericXLogState* st = GenericXLogStart(index);
        Page p = GenericXLogRegisterBuffer(st, buf, 0);
        page_meta(p)->entry = id;
        page_meta(p)->entry_level = static_cast<int16>(level);
        GenericXLogFinish(st);
    }
    UnlockReleaseBuffer(buf);
}

// True when id is a live graph element whose vector is byte for byte vec. Postgres calls only.
bool is_live_copy_of(Relation index, NodeId id, const float* vec, int dims) {
    Buffer buf = ReadBuffer(index, node_block(id));
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    ElementHeader* e = element_at(BufferGetPage(buf), node_offset(id));
    const bool same = e != nullptr && e->flags == 0 &&
                      std::memcmp(element_vector(e), vec, sizeof(float) * dims) == 0;
    UnlockReleaseBuffer(buf);
    return same;
}

// Reads an element's next_copy under a share lock (kInvalidNode when there is none).
NodeId read_next_copy(Relation index, NodeId id) {
    Buffer buf = ReadBuffer(index, node_block(id));
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    ElementHeader* e = element_at(BufferGetPage(buf), node_offset(id));
    const NodeId next = e != nullptr ? e->next_copy : kInvalidNode;
    UnlockReleaseBuffer(buf);
    return next;
}

// Sets id's next_copy to `to` when it is still `expected` (or unconditionally when id is a
// private, not yet linked copy). Returns whether it was written.
bool swap_next_copy(Relation index, NodeId id, NodeId expected, NodeId to, bool check) {
    Buffer buf = ReadBuffer(index, node_block(id));
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    ElementHeader* e = element_at(BufferGetPage(buf), node_offset(id));
    bool done = false;
    if (e != nullptr && (!check || e->next_copy == expected)) {
        GenericXLogState* st = GenericXLogStart(index);
        Page p = GenericXLogRegisterBuffer(st, buf, 0);
        element_at(p, node_offset(id))->next_copy = to;
        GenericXLogFinish(st);
        done = true;
    }
    UnlockReleaseBuffer(buf);
    return done;
}

// Stores tid for an exact copy of graph element `anchor` whose own TID slots are full: in a
// chained kCopy element with room, or in a new one linked at the head of the chain.
void add_tid_to_chain(Relation index, NodeId anchor, BlockNumber hint, const float* vec, int dims,
                      ItemPointer tid) {
    // New copies go to the head of the chain, so only the first one can have room.
    const NodeId first = read_next_copy(index, anchor);
    if (first != kInvalidNode && add_tid_to_duplicate(index, first, vec, dims, tid)) return;
    const Size size = copy_element_size(dims);
    char* tuple = static_cast<char*>(palloc(size));
    std::memset(tuple, 0, size);
    auto* e = reinterpret_cast<ElementHeader*>(tuple);
    e->flags = kCopy;
    e->ntids = 1;
    e->tids[0] = *tid;
    NodeId head = read_next_copy(index, anchor);
    e->next_copy = head;
    std::memcpy(element_vector(e), vec, sizeof(float) * dims);
    const NodeId copy = allocate_element(index, hint, tuple, size);
    pfree(tuple);
    // The new copy is private until the anchor points at it: retarget it until the swap holds.
    while (!swap_next_copy(index, anchor, head, copy, true)) {
        head = read_next_copy(index, anchor);
        swap_next_copy(index, copy, kInvalidNode, head, false);
    }
}

}  // namespace

void insert_on_disk(Relation index, const float* vec, ItemPointer tid) {
    const MetaData meta = call_pg([&] {
        LockPage(index, kMetaBlock, ShareLock);
        return read_meta(index);
    });
    const int dims = static_cast<int>(meta.dims), m = meta.m;
    const piramid::hnsw::Params params = graph_params(meta);
    const int level = random_level(m, meta.max_level, tid);

    BufferStore store(index, meta);
    try {
        piramid::hnsw::Scratch scratch;
        NodeId entry = meta.entry;
        int entry_level = meta.entry_level;
        if (entry != kInvalidNode) {
            piramid::hnsw::plan_insert(store, kInvalidNode, vec, level, entry, entry_level,
                                       params, scratch);
            // Exact duplicates are byte-equal vectors, whatever the metric: such a copy has the
            // same distance to vec as vec has to itself (the same computation on the same
            // bytes), which is not 0 under inner product, and other vectors can be as close
            // (orthogonal ones under inner product, rounding under cosine). So candidates at
            // that distance are compared byte for byte. The copy takes the heap TID (an element
            // holds kMaxHeapTids); when the copies found are full, a chained copy element of
            // the first one does. With no live copy, the vector becomes a new graph element.
            const float self = graph_distance(params.metric)(vec, vec, meta.dims);
            NodeId copies[16];
            int ncopies = 0;
            for (const auto& c : scratch.found0)
                if (c.dist == self && ncopies < 16) copies[ncopies++] = c.id;
            if (ncopies > 0) {
                store.release_pins();
                bool added = false;
                NodeId anchor = kInvalidNode;
                call_pg([&] {
                    for (int i = 0; i < ncopies && !added; ++i)
                        added = add_tid_to_duplicate(index, copies[i], vec, dims, tid);
                    for (int i = 0; i < ncopies && !added && anchor == kInvalidNode; ++i)
                        if (is_live_copy_of(index, copies[i], vec, dims)) anchor = copies[i];
                    if (!added && anchor != kInvalidNode) {
                        add_tid_to_chain(index, anchor, meta.insert_hint, vec, dims, tid);
                        added = true;
                    }
                    if (added) UnlockPage(index, kMetaBlock, ShareLock);
                });
                if (added) return;
            }
        }
        const Size size = element_size(dims, m, level);
        char* tuple = static_cast<char*>(call_pg([&] { return palloc(size); }));
        fill_element(tuple, size, dims, m, level, vec, tid);
        const NodeId id = call_pg([&] { return allocate_element(index, meta.insert_hint, tuple, size); });
        call_pg([&] { pfree(tuple); });

        // Link first, then publish as entry point: an entry whose lists are still being written
        // would strand searches (and lose the back-links concurrent inserts add to it).
        if (entry == kInvalidNode) {
            // The first element becomes the entry point at once, unless a concurrent insert
            // made another one first: then this one is linked to that graph.
            call_pg([&] { raise_entry(index, id, level, &entry, &entry_level, true); });
            if (entry != kInvalidNode)
                piramid::hnsw::plan_insert(store, id, vec, level, entry, entry_level, params,
                                           scratch);
        }
        if (entry != kInvalidNode) {
            piramid::hnsw::link_insert(store, id, level, entry_level, params, scratch);
            if (level > entry_level) {
                NodeId prev = kInvalidNode;
                int prev_level = -1;
                call_pg([&] { raise_entry(index, id, level, &prev, &prev_level, false); });
            }
        }
        store.release_pins();
    } catch (...) {
        store.forget_pins();
        throw;
    }
    call_pg([&] { UnlockPage(index, kMetaBlock, ShareLock); });
}

extern "C" bool hnsw_insert(Relation index, Datum* values, bool* isnull, ItemPointer heap_tid,
                            Relation /*heap*/, IndexUniqueCheck /*check*/, bool /*unchanged*/,
                            IndexInfo* /*info*/) {
    if (isnull[0]) return false;
    MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "hnsw insert",
                                              ALLOCSET_DEFAULT_SIZES);
    MemoryContext old = MemoryContextSwitchTo(cxt);
    const Vector* v = PIRAMID_DatumGetVector(values[0]);
    const MetaData meta = read_meta(index);
    if (v->dim != static_cast<int>(meta.dims))
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("expected %u dimensions, not %d", meta.dims, v->dim)));
    float* vec = static_cast<float*>(palloc(sizeof(float) * v->dim));
    if (prepare_vector(static_cast<distance::Metric>(meta.metric), v, vec))
        guard([&] { insert_on_disk(index, vec, heap_tid); });
    MemoryContextSwitchTo(old);
    MemoryContextDelete(cxt);
    return false;
}

}  // namespace piramid::pg::hnsw
