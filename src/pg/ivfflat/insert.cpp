// aminsert and VACUUM for ivfflat. Insert: the nearest center (over every list page), then an
// append to that list under its list page's exclusive lock, in one GenericXLog record. VACUUM:
// every list's entry pages in turn, dead heap TIDs removed page by page (GenericXLog); pages are
// kept in their lists (a later insert fills the list's last page only).
#include "pg/ivfflat/ivfflat.hpp"

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

void append_entry(Relation index, const Meta& meta, uint32 list, const char* item, Size isize) {
    Buffer lbuf = ReadBuffer(index, list_block(meta, list));
    LockBuffer(lbuf, BUFFER_LOCK_EXCLUSIVE);
    Page lpage = BufferGetPage(lbuf);
    Item litem = PageGetItem(lpage, PageGetItemId(lpage, list_offset(meta, list)));
    const BlockNumber last = list_blocks(litem)[1];
    Buffer old = InvalidBuffer;
    if (last != InvalidBlockNumber) {
        old = ReadBuffer(index, last);
        LockBuffer(old, BUFFER_LOCK_EXCLUSIVE);
        if (PageGetFreeSpace(BufferGetPage(old)) >= MAXALIGN(isize)) {
            GenericXLogState* xs = GenericXLogStart(index);
            Page page = GenericXLogRegisterBuffer(xs, old, 0);
            if (PageAddItem(page, const_cast<Item>(item), isize, InvalidOffsetNumber, false,
                            false) == InvalidOffsetNumber)
                elog(ERROR, "ivfflat: failed to add an entry to \"%s\"",
                     RelationGetRelationName(index));
            GenericXLogFinish(xs);
            UnlockReleaseBuffer(old);
            UnlockReleaseBuffer(lbuf);
            return;
        }
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
    if (old != InvalidBuffer) {
        Page opage = GenericXLogRegisterBuffer(xs, old, 0);
        page_opaque(opage)->next = nblk;
    }
    Page lp = GenericXLogRegisterBuffer(xs, lbuf, 0);
    Item li = PageGetItem(lp, PageGetItemId(lp, list_offset(meta, list)));
    if (list_blocks(li)[0] == InvalidBlockNumber) list_blocks(li)[0] = nblk;
    list_blocks(li)[1] = nblk;
    GenericXLogFinish(xs);
    UnlockReleaseBuffer(nbuf);
    if (old != InvalidBuffer) UnlockReleaseBuffer(old);
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
    for (uint32 i = 0; i < meta.lists; ++i) {
        BlockNumber blk = firsts[i];
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
            }
            blk = page_opaque(page)->next;
            UnlockReleaseBuffer(buf);
        }
    }
    pfree(dead);
    pfree(firsts);
    return stats;
}

extern "C" IndexBulkDeleteResult* ivfflat_vacuumcleanup(IndexVacuumInfo* info,
                                                        IndexBulkDeleteResult* stats) {
    if (info->analyze_only) return stats;
    if (stats == nullptr) return nullptr;
    stats->num_pages = RelationGetNumberOfBlocks(info->index);
    return stats;
}

}  // namespace piramid::pg::ivfflat
