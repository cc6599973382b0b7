// aminsert and VACUUM for ivfflat. Insert: the nearest center (over every list page), then an
// append to that list under its list page's exclusive lock, in one GenericXLog record. VACUUM:
// every list's entry pages in turn, dead heap TIDs removed page by page (GenericXLog); pages are
// kept in their lists, and the list's insert page is moved back to its first page with room, so
// that rows inserted after a VACUUM reuse the space it freed.
#include "pg/ivfflat/ivfflat.hpp"
#include "pg/stats.hpp"

extern "C" {
#include "access/generic_xlog.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
}

#include <cstring>
#include <limits>

#include "core/ivf/kmeans.hpp"
#include "pg/am/element.hpp"

namespace piramid::pg::ivfflat {

namespace {

// The list whose center is nearest to `vec` (its assignment form: unit for spherical metrics).
uint32 nearest_list(Relation index, const Meta& meta, const float* vec) {
    const distance::LaneFn dist =
        distance::lane_distance(assign_metric(static_cast<distance::Metric>(meta.metric)));
    uint32 best = 0;
    float best_d = std::numeric_limits<float>::infinity();
    for (uint32 i = 0; i < meta.lists;) {
        Buffer buf = ReadBuffer(index, list_block(meta, i));
        LockBuffer(buf, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buf);
        const OffsetNumber max = PageGetMaxOffsetNumber(page);
        for (OffsetNumber off = FirstOffsetNumber; off <= max && i < meta.lists; ++off, ++i) {
            Item it = PageGetItem(page, PageGetItemId(page, off));
            const float d = dist(vec, list_center(it), meta.lanes);
            if (d < best_d) {
                best_d = d;
                best = i;
            }
        }
        UnlockReleaseBuffer(buf);
    }
    return best;
}

// Appends under the list page's exclusive lock. The list item's second block is where inserts
// start looking (the insert page): the list's last page after a build or an extension, an earlier
// page once VACUUM has freed room there. From it the chain is walked to the first page with room;
// past the last page a new page is linked. Every page the walk passes is in the list, so any
// starting point reaches the end.
void append_entry(Relation index, const Meta& meta, uint32 list, const char* item, Size isize) {
    Buffer lbuf = ReadBuffer(index, list_block(meta, list));
    LockBuffer(lbuf, BUFFER_LOCK_EXCLUSIVE);
    Page lpage = BufferGetPage(lbuf);
    Item litem = PageGetItem(lpage, PageGetItemId(lpage, list_offset(meta, list)));
    const BlockNumber start = list_blocks(litem)[1];
    Buffer tail = InvalidBuffer;  // the list's last page, when every page is full
    for (BlockNumber blk = start; blk != InvalidBlockNumber;) {
        CHECK_FOR_INTERRUPTS();
        Buffer buf = ReadBuffer(index, blk);
        LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
        Page bpage = BufferGetPage(buf);
        if (PageGetFreeSpace(bpage) >= MAXALIGN(isize)) {
            GenericXLogState* xs = GenericXLogStart(index);
            Page page = GenericXLogRegisterBuffer(xs, buf, 0);
            if (PageAddItem(page, const_cast<Item>(item), isize, InvalidOffsetNumber, false,
                            false) == InvalidOffsetNumber)
                elog(ERROR, "ivfflat: failed to add an entry to \"%s\"",
                     RelationGetRelationName(index));
            if (blk != start) {  // later inserts start here
                Page lp = GenericXLogRegisterBuffer(xs, lbuf, 0);
                list_blocks(PageGetItem(lp, PageGetItemId(lp, list_offset(meta, list))))[1] = blk;
            }
            GenericXLogFinish(xs);
            UnlockReleaseBuffer(buf);
            UnlockReleaseBuffer(lbuf);
            return;
        }
        const BlockNumber next = page_opaque(bpage)->next;
        if (next == InvalidBlockNumber) {
            tail = buf;
            break;
        }
        UnlockReleaseBuffer(buf);
        blk = next;
    }
    LockRelationForExtension(index, ExclusiveLock);
    Buffer nbuf = ReadBuffer(index, P_NEW);
    LockBuffer(nbuf, BUFFER_LOCK_EXCLUSIVE);
    UnlockRelationForExtension(index, ExclusiveLock);
    const BlockNumber nblk = BufferGetBlockNumber(nbuf);
    GenericXLogState* xs = GenericXLogStart(index);
    Page npage = GenericXLogRegisterBuffer(xs, nbuf, GENERIC_XLOG_FULL_IMAGE);
    init_page(npage, kEntryPage);
    if (PageAddItem(npage, const_cast<Item>(item), isize, InvalidOffsetNumber, false, false) ==
        InvalidOffsetNumber)
        elog(ERROR, "ivfflat: an entry does not fit on an empty page");
    if (tail != InvalidBuffer) {
        Page opage = GenericXLogRegisterBuffer(xs, tail, 0);
        page_opaque(opage)->next = nblk;
    }
    Page lp = GenericXLogRegisterBuffer(xs, lbuf, 0);
    Item li = PageGetItem(lp, PageGetItemId(lp, list_offset(meta, list)));
    if (list_blocks(li)[0] == InvalidBlockNumber) list_blocks(li)[0] = nblk;
    list_blocks(li)[1] = nblk;
    GenericXLogFinish(xs);
    UnlockReleaseBuffer(nbuf);
    if (tail != InvalidBuffer) UnlockReleaseBuffer(tail);
    UnlockReleaseBuffer(lbuf);
}

// After VACUUM has passed list `list`: inserts start again at `blk`, the list's first page with
// room for an entry. Any page of the list is a valid start (the walk goes forward from it), so a
// concurrent insert that fills it meanwhile costs only a longer walk.
void rewind_insert_page(Relation index, const Meta& meta, uint32 list, BlockNumber blk,
                        BufferAccessStrategy strategy) {
    Buffer lbuf =
        ReadBufferExtended(index, MAIN_FORKNUM, list_block(meta, list), RBM_NORMAL, strategy);
    LockBuffer(lbuf, BUFFER_LOCK_EXCLUSIVE);
    Page lpage = BufferGetPage(lbuf);
    const OffsetNumber off = list_offset(meta, list);
    if (list_blocks(PageGetItem(lpage, PageGetItemId(lpage, off)))[1] != blk) {
        GenericXLogState* xs = GenericXLogStart(index);
        Page lp = GenericXLogRegisterBuffer(xs, lbuf, 0);
        list_blocks(PageGetItem(lp, PageGetItemId(lp, off)))[1] = blk;
        GenericXLogFinish(xs);
    }
    UnlockReleaseBuffer(lbuf);
}

}  // namespace

extern "C" bool ivfflat_insert(Relation index, Datum* values, bool* isnull, ItemPointer heap_tid,
                               Relation /*heap*/, IndexUniqueCheck /*check*/, bool /*unchanged*/,
                               IndexInfo* /*info*/) {
    if (isnull[0]) return false;
    MemoryContext cxt =
        AllocSetContextCreate(CurrentMemoryContext, "ivfflat insert", ALLOCSET_DEFAULT_SIZES);
    MemoryContext old = MemoryContextSwitchTo(cxt);
    const Meta meta = read_meta(index);
    const auto metric = static_cast<distance::Metric>(meta.metric);
    const Size isize = entry_item_size(meta.lanes);
    char* item = static_cast<char*>(palloc0(isize));
    float* vec = entry_vec(item);
    if (hnsw::prepare_datum(metric, static_cast<int>(meta.type_dims), values[0], vec, false)) {
        *entry_tid(item) = *heap_tid;
        const float* for_assign = vec;
        if (metric == distance::Metric::kInnerProduct) {
            float* unit = static_cast<float*>(palloc(sizeof(float) * meta.lanes));
            std::memcpy(unit, vec, sizeof(float) * meta.lanes);
            ivf::normalize(unit, meta.lanes);
            for_assign = unit;
        }
        const uint32 list = nearest_list(index, meta, for_assign);
        append_entry(index, meta, list, item, isize);
        stats::add_one(RelationGetRelid(index), stats::kInserts);
    }
    MemoryContextSwitchTo(old);
    MemoryContextDelete(cxt);
    return false;
}

extern "C" IndexBulkDeleteResult* ivfflat_bulkdelete(IndexVacuumInfo* info,
                                                     IndexBulkDeleteResult* stats,
                                                     IndexBulkDeleteCallback callback,
                                                     void* callback_state) {
    Relation index = info->index;
    if (stats == nullptr)
        stats = static_cast<IndexBulkDeleteResult*>(palloc0(sizeof(IndexBulkDeleteResult)));
    const Meta meta = read_meta(index);
    BlockNumber* firsts = static_cast<BlockNumber*>(palloc(sizeof(BlockNumber) * meta.lists));
    for (uint32 i = 0; i < meta.lists;) {
        Buffer buf = ReadBufferExtended(index, MAIN_FORKNUM, list_block(meta, i), RBM_NORMAL,
                                        info->strategy);
        LockBuffer(buf, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buf);
        const OffsetNumber max = PageGetMaxOffsetNumber(page);
        for (OffsetNumber off = FirstOffsetNumber; off <= max && i < meta.lists; ++off, ++i)
            firsts[i] = list_blocks(PageGetItem(page, PageGetItemId(page, off)))[0];
        UnlockReleaseBuffer(buf);
    }
    OffsetNumber* dead = static_cast<OffsetNumber*>(palloc(sizeof(OffsetNumber) * MaxOffsetNumber));
    const Size isize = MAXALIGN(entry_item_size(meta.lanes));
    for (uint32 i = 0; i < meta.lists; ++i) {
        BlockNumber blk = firsts[i];
        BlockNumber room = InvalidBlockNumber;  // the list's first page with room for an entry
        bool freed = false;
        while (blk != InvalidBlockNumber) {
            vacuum_delay_point();
            Buffer buf = ReadBufferExtended(index, MAIN_FORKNUM, blk, RBM_NORMAL, info->strategy);
            LockBufferForCleanup(buf);
            Page page = BufferGetPage(buf);
            const OffsetNumber max = PageGetMaxOffsetNumber(page);
            int ndead = 0;
            for (OffsetNumber off = FirstOffsetNumber; off <= max; ++off) {
                Item it = PageGetItem(page, PageGetItemId(page, off));
                if (callback(entry_tid(it), callback_state))
                    dead[ndead++] = off;
                else
                    stats->num_index_tuples += 1;
            }
            if (ndead > 0) {
                GenericXLogState* xs = GenericXLogStart(index);
                Page p = GenericXLogRegisterBuffer(xs, buf, 0);
                PageIndexMultiDelete(p, dead, ndead);
                GenericXLogFinish(xs);
                stats->tuples_removed += ndead;
                freed = true;
            }
            if (room == InvalidBlockNumber && PageGetFreeSpace(page) >= isize) room = blk;
            blk = page_opaque(page)->next;
            UnlockReleaseBuffer(buf);
        }
        if (freed && room != InvalidBlockNumber)
            rewind_insert_page(index, meta, i, room, info->strategy);
    }
    pfree(dead);
    pfree(firsts);
    return stats;
}

extern "C" IndexBulkDeleteResult* ivfflat_vacuumcleanup(IndexVacuumInfo* info,
                                                        IndexBulkDeleteResult* stats) {
    if (info->analyze_only) return stats;
    stats::add_one(RelationGetRelid(info->index), stats::kVacuums);
    if (stats == nullptr) return nullptr;
    stats->num_pages = RelationGetNumberOfBlocks(info->index);
    return stats;
}

}  // namespace piramid::pg::ivfflat
