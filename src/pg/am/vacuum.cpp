// VACUUM for hnsw, in three passes:
//  1. (no graph lock) strip dead heap TIDs from every element; an element left without TIDs is
//     marked deleted (still traversed by searches, never returned).
//  2. (meta page lock, exclusive: waits for in-flight inserts and holds new ones) every live
//     element whose neighbour list points at a deleted element gets that list rebuilt by the
//     core's repair (2-hop candidates + the neighbour heuristic); a deleted entry point is
//     replaced by the live element with the highest level.
//  3. (same lock) deleted elements become free slots that later inserts reuse.
#include "pg/am/hnsw_am.hpp"

extern "C" {
#include "access/generic_xlog.h"
#include "commands/vacuum.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
}

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/hnsw/insert.hpp"
#include "pg/storage/buffer_store.hpp"

namespace piramid::pg::hnsw {

namespace {

struct RepairItem {
    NodeId id;
    int level;
};

struct LiveBest {
    NodeId id = kInvalidNode;
    int level = -1;
};

// Pass 1 on one page. Returns the number of TIDs removed; appends deleted element ids.
void strip_page(Relation index, BlockNumber blk, BufferAccessStrategy strategy,
                IndexBulkDeleteCallback callback, void* cb_state, IndexBulkDeleteResult* stats,
                std::vector<NodeId>& deleted, LiveBest& best) {
    NodeId dels[256];
    int ndels = 0;
    NodeId best_id = best.id;
    int best_level = best.level;
    call_pg([&] {
        Buffer buf = ReadBufferExtended(index, MAIN_FORKNUM, blk, RBM_NORMAL, strategy);
        LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
        Page page = BufferGetPage(buf);
        if (!page_is(page, kElementPage)) {
            UnlockReleaseBuffer(buf);
            return;
        }
        GenericXLogState* st = nullptr;
        Page wpage = page;
        const OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
        for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off)) {
            ElementHeader* e = element_at(page, off);
            if (e == nullptr || (e->flags & kFree)) continue;
            int keep = 0;
            bool changed = false;
            ItemPointerData kept[kMaxHeapTids];
            for (int t = 0; t < e->ntids; ++t) {
                if (callback(&e->tids[t], cb_state)) {
                    stats->tuples_removed += 1;
                    changed = true;
                } else {
                    kept[keep++] = e->tids[t];
                }
            }
            if (changed) {
                if (st == nullptr) {
                    st = GenericXLogStart(index);
                    wpage = GenericXLogRegisterBuffer(st, buf, 0);
                }
                ElementHeader* we = element_at(wpage, off);
                for (int t = 0; t < keep; ++t) we->tids[t] = kept[t];
                for (int t = keep; t < kMaxHeapTids; ++t) ItemPointerSetInvalid(&we->tids[t]);
                we->ntids = static_cast<uint8>(keep);
                if (keep == 0) we->flags |= kDeleted;
            }
            if (keep == 0 || (e->flags & kDeleted)) {
                dels[ndels++] = pack_node(blk, off);
            } else {
                stats->num_index_tuples += keep;
                if (e->level > best_level) {
                    best_level = e->level;
                    best_id = pack_node(blk, off);
                }
            }
        }
        if (st != nullptr) GenericXLogFinish(st);
        UnlockReleaseBuffer(buf);
    });
    deleted.insert(deleted.end(), dels, dels + ndels);
    best.id = best_id;
    best.level = best_level;
}

// Pass 2: lists of live elements that point at deleted ones.
void find_repairs(Relation index, BlockNumber blk, const MetaData& meta,
                  const std::vector<NodeId>& deleted, std::vector<RepairItem>& out) {
    RepairItem found[256 * (kMaxLevel + 1)];
    int nfound = 0;
    const int dims = static_cast<int>(meta.dims), m = meta.m;
    const NodeId* del = deleted.data();
    const size_t ndel = deleted.size();
    call_pg([&] {
        Buffer buf = ReadBuffer(index, blk);
        LockBuffer(buf, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buf);
        if (page_is(page, kElementPage)) {
            const OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
            for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off)) {
                ElementHeader* e = element_at(page, off);
                if (e == nullptr || (e->flags & (kFree | kDeleted))) continue;
                for (int l = 0; l <= e->level; ++l) {
                    const NodeId* list = element_neighbors(e, dims, m, l);
                    for (int k = 0; k < level_capacity(m, l) && list[k] != kInvalidNode; ++k) {
                        if (std::binary_search(del, del + ndel, list[k])) {
                            found[nfound++] = RepairItem{pack_node(blk, off), l};
                            break;
                        }
                    }
                }
            }
        }
        UnlockReleaseBuffer(buf);
    });
    out.insert(out.end(), found, found + nfound);
}

void free_deleted_on_page(Relation index, BlockNumber blk, const std::vector<NodeId>& deleted,
                          size_t begin, size_t end) {
    const NodeId* del = deleted.data();
    call_pg([&] {
        Buffer buf = ReadBuffer(index, blk);
        LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
        GenericXLogState* st = GenericXLogStart(index);
        Page page = GenericXLogRegisterBuffer(st, buf, 0);
        for (size_t i = begin; i < end; ++i) {
            ElementHeader* e = element_at(page, node_offset(del[i]));
            if (e != nullptr) {
                e->flags = kFree;
                e->ntids = 0;
            }
        }
        GenericXLogFinish(st);
        UnlockReleaseBuffer(buf);
    });
}

void update_meta_after_vacuum(Relation index, NodeId entry, int entry_level, bool set_entry,
                              BlockNumber hint) {
    Buffer buf = ReadBuffer(index, kMetaBlock);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    GenericXLogState* st = GenericXLogStart(index);
    Page page = GenericXLogRegisterBuffer(st, buf, 0);
    MetaData* meta = page_meta(page);
    if (set_entry) {
        meta->entry = entry;
        meta->entry_level = static_cast<int16>(entry_level);
    }
    if (hint != InvalidBlockNumber) meta->insert_hint = hint;
    GenericXLogFinish(st);
    UnlockReleaseBuffer(buf);
}

void vacuum_graph(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                  IndexBulkDeleteCallback callback, void* cb_state) {
    Relation index = info->index;
    const BlockNumber nblocks = call_pg([&] { return RelationGetNumberOfBlocks(index); });
    std::vector<NodeId> deleted;
    LiveBest best;
    for (BlockNumber blk = 1; blk < nblocks; ++blk) {
        strip_page(index, blk, info->strategy, callback, cb_state, stats, deleted, best);
        call_pg([] { vacuum_delay_point(); });
    }
    if (deleted.empty()) return;
    std::sort(deleted.begin(), deleted.end());

    call_pg([&] { LockPage(index, kMetaBlock, ExclusiveLock); });
    const MetaData meta = call_pg([&] { return read_meta(index); });
    // A new entry point first, so that repairs search from a live element.
    const bool entry_gone =
        meta.entry != kInvalidNode && std::binary_search(deleted.begin(), deleted.end(), meta.entry);
    NodeId entry = meta.entry;
    int entry_level = meta.entry_level;
    if (entry_gone) {
        entry = best.id;
        entry_level = best.id == kInvalidNode ? -1 : best.level;
        call_pg([&] { update_meta_after_vacuum(index, entry, entry_level, true, InvalidBlockNumber); });
    }
    std::vector<RepairItem> repairs;
    for (BlockNumber blk = 1; blk < nblocks; ++blk) find_repairs(index, blk, meta, deleted, repairs);

    piramid::hnsw::Params params{};
    params.dim = meta.dims;
    params.metric = static_cast<distance::Metric>(meta.metric);
    params.m = meta.m;
    params.ef_construction = meta.ef_construction;
    params.max_level = meta.max_level;
    BufferStore store(index, meta);
    try {
        piramid::hnsw::Scratch scratch;
        auto is_removed = [&deleted](NodeId id) {
            return std::binary_search(deleted.begin(), deleted.end(), id);
        };
        size_t done = 0;
        for (const RepairItem& r : repairs) {
            piramid::hnsw::repair(store, r.id, r.level, is_removed, params, scratch);
            if ((++done & 63) == 0) {
                store.release_pins();
                call_pg([] { vacuum_delay_point(); });
            }
        }
        store.release_pins();
    } catch (...) {
        store.forget_pins();
        throw;
    }
    // Pass 3: free the slots, page by page.
    size_t i = 0;
    while (i < deleted.size()) {
        const BlockNumber blk = node_block(deleted[i]);
        size_t j = i;
        while (j < deleted.size() && node_block(deleted[j]) == blk) ++j;
        free_deleted_on_page(index, blk, deleted, i, j);
        i = j;
    }
    const BlockNumber hint = node_block(deleted.front());
    call_pg([&] {
        update_meta_after_vacuum(index, entry, entry_level, false, hint);
        UnlockPage(index, kMetaBlock, ExclusiveLock);
    });
    stats->pages_deleted = 0;
}

}  // namespace

extern "C" IndexBulkDeleteResult* hnsw_bulkdelete(IndexVacuumInfo* info,
                                                  IndexBulkDeleteResult* stats,
                                                  IndexBulkDeleteCallback callback,
                                                  void* callback_state) {
    if (stats == nullptr)
        stats = static_cast<IndexBulkDeleteResult*>(palloc0(sizeof(IndexBulkDeleteResult)));
    stats->num_index_tuples = 0;
    guard([&] { vacuum_graph(info, stats, callback, callback_state); });
    return stats;
}

extern "C" IndexBulkDeleteResult* hnsw_vacuumcleanup(IndexVacuumInfo* info,
                                                     IndexBulkDeleteResult* stats) {
    if (info->analyze_only) return stats;
    if (stats == nullptr) {
        // No bulk delete ran: count live TIDs for the statistics.
        stats = static_cast<IndexBulkDeleteResult*>(palloc0(sizeof(IndexBulkDeleteResult)));
        const BlockNumber nblocks = RelationGetNumberOfBlocks(info->index);
        for (BlockNumber blk = 1; blk < nblocks; ++blk) {
            Buffer buf = ReadBufferExtended(info->index, MAIN_FORKNUM, blk, RBM_NORMAL,
                                            info->strategy);
            LockBuffer(buf, BUFFER_LOCK_SHARE);
            Page page = BufferGetPage(buf);
            if (page_is(page, kElementPage)) {
                const OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
                for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++) {
                    ElementHeader* e = element_at(page, off);
                    if (e != nullptr && !(e->flags & (kFree | kDeleted)))
                        stats->num_index_tuples += e->ntids;
                }
            }
            UnlockReleaseBuffer(buf);
            vacuum_delay_point();
        }
    }
    stats->num_pages = RelationGetNumberOfBlocks(info->index);
    return stats;
}

}  // namespace piramid::pg::hnsw
