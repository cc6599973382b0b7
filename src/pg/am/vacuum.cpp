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
#include <unordered_map>
#include <unordered_set>
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
                std::vector<NodeId>& deleted, std::vector<NodeId>& chained, LiveBest& best) {
    NodeId dels[256];
    int ndels = 0;
    NodeId chs[256];
    int nchs = 0;
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
            }
            // A graph element left without TIDs is marked deleted only under the graph lock
            // (settle_chained): a concurrent insert may still add a TID of an exact copy to it
            // or chain a copy behind it.
            if (e->flags & kCopy) {
                stats->num_index_tuples += keep;
            } else if (e->flags & kDeleted) {
                dels[ndels++] = pack_node(blk, off);
            } else if (keep == 0) {
                chs[nchs++] = pack_node(blk, off);
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
    chained.insert(chained.end(), chs, chs + nchs);
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
                if (e == nullptr || (e->flags & (kFree | kDeleted | kCopy))) continue;
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
                e->next_copy = kInvalidNode;
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

// For a graph element without TIDs of its own: when its whole copy chain is empty too, marks it
// deleted and appends its copies to `copies` (freed with it); otherwise leaves it live.
bool settle_chained(Relation index, NodeId id, std::vector<NodeId>& copies) {
    NodeId chain[1024];
    int nchain = 0;
    bool empty = true;
    call_pg([&] {
        NodeId cur = id;
        for (int hops = 0; cur != kInvalidNode && hops < 1024; ++hops) {
            Buffer buf = ReadBuffer(index, node_block(cur));
            LockBuffer(buf, BUFFER_LOCK_SHARE);
            ElementHeader* e = element_at(BufferGetPage(buf), node_offset(cur));
            NodeId next = kInvalidNode;
            if (e != nullptr) {
                if (e->ntids > 0) empty = false;
                next = e->next_copy;
            }
            UnlockReleaseBuffer(buf);
            if (!empty) break;
            if (hops > 0) chain[nchain++] = cur;
            cur = next;
        }
        if (cur != kInvalidNode) empty = false;  // too long to settle now: keep it
        if (!empty) return;
        Buffer buf = ReadBuffer(index, node_block(id));
        LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
        GenericXLogState* st = GenericXLogStart(index);
        Page page = GenericXLogRegisterBuffer(st, buf, 0);
        ElementHeader* e = element_at(page, node_offset(id));
        if (e != nullptr) e->flags |= kDeleted;
        GenericXLogFinish(st);
        UnlockReleaseBuffer(buf);
    });
    if (empty) copies.insert(copies.end(), chain, chain + nchain);
    return empty;
}

void vacuum_graph(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                  IndexBulkDeleteCallback callback, void* cb_state) {
    Relation index = info->index;
    const BlockNumber nblocks = call_pg([&] { return RelationGetNumberOfBlocks(index); });
    std::vector<NodeId> deleted, chained, copies;
    LiveBest best;
    for (BlockNumber blk = 1; blk < nblocks; ++blk) {
        strip_page(index, blk, info->strategy, callback, cb_state, stats, deleted, chained, best);
        call_pg([] { vacuum_delay_point(); });
    }
    if (deleted.empty() && chained.empty()) return;

    call_pg([&] { LockPage(index, kMetaBlock, ExclusiveLock); });
    // With inserts held off, elements whose own TIDs are gone are deleted only when their
    // copies hold none either.
    for (NodeId id : chained)
        if (settle_chained(index, id, copies)) deleted.push_back(id);
    std::sort(deleted.begin(), deleted.end());
    if (deleted.empty()) {
        call_pg([&] { UnlockPage(index, kMetaBlock, ExclusiveLock); });
        return;
    }
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
    // Every page as of now: inserts that ran during pass 1 may have extended the index, and
    // their elements may link to what is about to be freed.
    const BlockNumber nblocks_now = call_pg([&] { return RelationGetNumberOfBlocks(index); });
    std::vector<RepairItem> repairs;
    for (BlockNumber blk = 1; blk < nblocks_now; ++blk)
        find_repairs(index, blk, meta, deleted, repairs);

    const piramid::hnsw::Params params = graph_params(meta);
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
    // Pass 3: free the slots (and the copies of freed elements), page by page.
    std::vector<NodeId> to_free(deleted);
    to_free.insert(to_free.end(), copies.begin(), copies.end());
    std::sort(to_free.begin(), to_free.end());
    size_t i = 0;
    while (i < to_free.size()) {
        const BlockNumber blk = node_block(to_free[i]);
        size_t j = i;
        while (j < to_free.size() && node_block(to_free[j]) == blk) ++j;
        free_deleted_on_page(index, blk, to_free, i, j);
        i = j;
    }
    const BlockNumber hint = node_block(deleted.front());
    call_pg([&] {
        update_meta_after_vacuum(index, entry, entry_level, false, hint);
        UnlockPage(index, kMetaBlock, ExclusiveLock);
    });
    stats->pages_deleted = 0;
}

// Live graph elements not reachable from the entry point (breadth-first over all levels).
std::vector<std::pair<NodeId, int>> find_unreachable(Relation index, const MetaData& meta,
                                                     BlockNumber nblocks,
                                                     std::unordered_set<NodeId>& seen) {
    const int dims = static_cast<int>(meta.dims), m = meta.m;
    struct Node {
        int level;
        std::vector<NodeId> out;
    };
    std::unordered_map<NodeId, Node> nodes;
    PGAlignedBlock copy;
    for (BlockNumber blk = 1; blk < nblocks; ++blk) {
        call_pg([&] {
            copy_page(index, blk, copy.data);
            vacuum_delay_point();
        });
        Page page = copy.data;
        if (!page_is(page, kElementPage)) continue;
        const OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
        for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++) {
            ElementHeader* e = element_at(page, off);
            if (e == nullptr || (e->flags & (kFree | kCopy))) continue;
            Node& n = nodes[pack_node(blk, off)];
            n.level = (e->flags & kDeleted) ? -1 : e->level;  // deleted: traversed, not relinked
            for (int l = 0; l <= e->level; ++l) {
                const NodeId* list = element_neighbors(e, dims, m, l);
                for (int k = 0; k < level_capacity(m, l) && list[k] != kInvalidNode; ++k)
                    n.out.push_back(list[k]);
            }
        }
    }
    seen.clear();
    seen.insert(meta.entry);
    std::vector<NodeId> stack{meta.entry};
    while (!stack.empty()) {
        const NodeId id = stack.back();
        stack.pop_back();
        auto it = nodes.find(id);
        if (it == nodes.end()) continue;
        for (NodeId nb : it->second.out)
            if (seen.insert(nb).second) stack.push_back(nb);
    }
    std::vector<std::pair<NodeId, int>> lost;
    for (const auto& [id, n] : nodes)
        if (n.level >= 0 && !seen.count(id)) lost.emplace_back(id, n.level);
    std::sort(lost.begin(), lost.end());
    return lost;
}

// Neighbour-list pruning during one-at-a-time inserts can, rarely, drop every in-link of a node
// (about 0.1% of nodes under heavy concurrent inserts). VACUUM finds such nodes with a breadth-
// first walk from the entry point and links them in again, with inserts held off. Skipped
// (DEBUG1) when the adjacency would not fit in maintenance_work_mem.
void relink_unreachable(Relation index) {
    call_pg([&] { LockPage(index, kMetaBlock, ExclusiveLock); });
    const MetaData meta = call_pg([&] { return read_meta(index); });
    const BlockNumber nblocks = call_pg([&] { return RelationGetNumberOfBlocks(index); });
    const int m = meta.m;
    const double budget = static_cast<double>(maintenance_work_mem) * 1024.0;
    const double estimate = static_cast<double>(nblocks) * (BLCKSZ / 2.0);
    if (meta.entry == kInvalidNode || estimate > budget) {
        call_pg([&] {
            if (meta.entry != kInvalidNode)
                elog(DEBUG1, "hnsw: reachability pass skipped (maintenance_work_mem too small)");
            UnlockPage(index, kMetaBlock, ExclusiveLock);
        });
        return;
    }
    size_t relinked = 0;
    std::unordered_set<NodeId> seen, relinked_ids;
    for (int round = 0; round < 8; ++round) {
        const std::vector<std::pair<NodeId, int>> lost =
            find_unreachable(index, meta, nblocks, seen);
        if (lost.empty()) break;
        const piramid::hnsw::Params params = graph_params(meta);
        BufferStore store(index, meta);
        try {
            piramid::hnsw::Scratch scratch;
            std::vector<float> vec(meta.dims);
            std::vector<NodeId> list, reach, cur, next;
            for (const auto& [id, level] : lost) {
                // The node kept its own links; it lost its in-links. Give it one from a
                // reachable neighbour: one with a free slot first (nothing is displaced), else
                // in place of the closest one's farthest link (what that displaces is picked
                // up by the next round). With no reachable neighbour, search its neighbours
                // again first.
                store.neighbors(id, 0, list);
                reach.clear();
                for (NodeId nb : list)
                    if (seen.count(nb)) reach.push_back(nb);
                if (reach.size() < 2) {
                    store.vector(id, vec.data());
                    piramid::hnsw::insert(store, id, vec.data(), level, meta.entry,
                                          meta.entry_level, params, scratch);
                    store.neighbors(id, 0, list);
                    reach.clear();
                    for (NodeId nb : list)
                        if (seen.count(nb)) reach.push_back(nb);
                    if (reach.empty()) continue;
                }
                bool linked = false;
                relinked_ids.insert(id);
                for (int pass = 0; pass < 2 && !linked; ++pass) {
                    for (size_t j = 0; j < reach.size() && !linked; ++j) {
                        for (int tries = 0; tries < 100; ++tries) {
                            store.neighbors(reach[j], 0, cur);
                            if (std::find(cur.begin(), cur.end(), id) != cur.end()) {
                                linked = true;
                                break;
                            }
                            next = cur;
                            if (static_cast<int>(next.size()) < 2 * m)
                                next.push_back(id);
                            else if (pass == 1) {
                                // Displace the farthest link that is not a node relinked here.
                                size_t v = next.size();
                                while (v > 0 && relinked_ids.count(next[v - 1])) --v;
                                if (v == 0) break;
                                next[v - 1] = id;
                            } else {
                                break;
                            }
                            if (store.update_neighbors(reach[j], 0, cur, next)) {
                                linked = true;
                                break;
                            }
                        }
                    }
                }
                if (!linked) {
                    const size_t nreach = reach.size(), nlist = list.size();
                    call_pg([&] {
                        elog(DEBUG1, "hnsw: could not relink (%u,%u): %zu neighbours, %zu reachable",
                             node_block(id), node_offset(id), nlist, nreach);
                    });
                }
            }
            store.release_pins();
        } catch (...) {
            store.forget_pins();
            throw;
        }
        relinked += lost.size();
    }
    if (relinked > 0) {
        call_pg([&] {
            ereport(DEBUG1, (errmsg("hnsw: relinked %zu unreachable elements of \"%s\"", relinked,
                                    RelationGetRelationName(index))));
        });
    }
    call_pg([&] { UnlockPage(index, kMetaBlock, ExclusiveLock); });
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
    guard([&] { relink_unreachable(info->index); });
    stats->num_pages = RelationGetNumberOfBlocks(info->index);
    return stats;
}

}  // namespace piramid::pg::hnsw
