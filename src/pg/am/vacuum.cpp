// VACUUM for hnsw. Inserts and scans run throughout: no lock is held across a pass; the graph
// lock (the heavyweight page lock on the meta block, which every insert holds in share mode for
// its whole run) is taken exclusively only for short batches, so that VACUUM waits for the
// inserts in flight at a phase boundary and holds new ones for a few element updates at most.
// See src/pg/storage/README.md for the whole protocol.
//
//  1. strip (no graph lock): dead heap TIDs leave every element; graph elements left without
//     TIDs of their own are collected.
//  2. settle (graph lock in batches of kSettleBatch): such an element whose copy chain holds no
//     TID either is marked deleted: searches still traverse it, never return it, and new inserts
//     never link to it. The last batch also replaces a deleted entry point. When the last batch
//     ends, every insert that could have chosen a now-deleted element as a neighbour is over.
//  3. repair (no graph lock): every list of a live element that points at a deleted one is
//     rebuilt by the core's repair (two-hop candidates, the heuristic, compare-and-swap); live
//     elements a rebuilt list no longer holds keep an in-link (ensure_in_link).
//  4. reachability (no graph lock): a breadth-first walk of level 0 from the entry point over
//     live elements (a bitmap of node ids: 1/256 of the index size); every live element it did
//     not reach gets an in-link from one it reached. Deleted elements do not count, since they
//     are about to go, so no live row is unreachable when they are freed.
//  5. free (no graph lock): deleted elements and their copies become free slots for inserts.
//     A scan that still holds the id of a freed slot reads it as deleted, and one whose slot was
//     reused rechecks the distance before returning its rows (scan.cpp).
// amvacuumcleanup runs pass 4 on its own when no bulk delete ran (autovacuum of an insert-only
// table), so concurrent inserts' rare stranded elements are linked in by every VACUUM.
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

constexpr size_t kSettleBatch = 64;

struct LiveBest {
    NodeId id = kInvalidNode;
    int level = -1;
};

// A bitmap over node ids (block << 8 | offset) of blocks [0, nblocks).
class NodeBitmap {
public:
    explicit NodeBitmap(BlockNumber nblocks)
        : bits_((static_cast<size_t>(nblocks) << kNodeOffsetBits) / 64 + 1, 0) {}
    bool test(NodeId id) const {
        const size_t i = id;
        return i / 64 < bits_.size() && (bits_[i / 64] >> (i % 64)) & 1;
    }
    // Sets the bit; false when it was set already or id is beyond the map.
    bool set(NodeId id) {
        const size_t i = id;
        if (i / 64 >= bits_.size()) return false;
        const uint64_t bit = uint64_t(1) << (i % 64);
        if (bits_[i / 64] & bit) return false;
        bits_[i / 64] |= bit;
        return true;
    }

private:
    std::vector<uint64_t> bits_;
};

// Pass 1 on one page: strips dead TIDs; appends graph elements left without TIDs of their own
// to `emptied` and those already deleted (an earlier VACUUM stopped early) to `deleted`.
void strip_page(Relation index, BlockNumber blk, BufferAccessStrategy strategy,
                IndexBulkDeleteCallback callback, void* cb_state, IndexBulkDeleteResult* stats,
                std::vector<NodeId>& deleted, std::vector<NodeId>& emptied, LiveBest& best) {
    NodeId dels[256];
    int ndels = 0;
    NodeId ems[256];
    int nems = 0;
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
            for (int t = 0; t < e->ntids && t < kMaxHeapTids; ++t) {
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
            // (settle): a concurrent insert may still add a TID of an exact copy to it or chain
            // a copy behind it.
            if (e->flags & kCopy) {
                stats->num_index_tuples += keep;
            } else if (e->flags & kDeleted) {
                dels[ndels++] = pack_node(blk, off);
            } else if (keep == 0) {
                ems[nems++] = pack_node(blk, off);
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
    emptied.insert(emptied.end(), ems, ems + nems);
    best.id = best_id;
    best.level = best_level;
}

// Follows the copy chain of graph element id (share locks, one page at a time). Returns whether
// the element and all its copies hold no TID; appends the copies to `copies` when so.
bool chain_is_empty(Relation index, NodeId id, std::vector<NodeId>& copies) {
    const size_t before = copies.size();
    NodeId cur = id;
    for (int hops = 0; cur != kInvalidNode; ++hops) {
        if (hops > kMaxCopyHops) {
            copies.resize(before);
            return false;  // too long to settle now: keep it
        }
        int ntids = 0;
        NodeId next = kInvalidNode;
        bool is_free = false;
        const NodeId at = cur;
        call_pg([&] {
            Buffer buf = ReadBuffer(index, node_block(at));
            LockBuffer(buf, BUFFER_LOCK_SHARE);
            ElementHeader* e = element_at(BufferGetPage(buf), node_offset(at));
            if (e == nullptr || (e->flags & kFree)) {
                is_free = true;
            } else {
                ntids = e->ntids;
                next = e->next_copy;
            }
            UnlockReleaseBuffer(buf);
        });
        if (is_free) break;
        if (ntids > 0) {
            copies.resize(before);
            return false;
        }
        if (hops > 0) copies.push_back(at);
        cur = next;
    }
    return true;
}

void set_flags(Relation index, NodeId id, uint8 add) {
    call_pg([&] {
        Buffer buf = ReadBuffer(index, node_block(id));
        LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
        ElementHeader* e = element_at(BufferGetPage(buf), node_offset(id));
        if (e != nullptr) {
            GenericXLogState* st = GenericXLogStart(index);
            Page page = GenericXLogRegisterBuffer(st, buf, 0);
            element_at(page, node_offset(id))->flags |= add;
            GenericXLogFinish(st);
        }
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

// Pass 2 on one page: (element, level) pairs of live elements whose list names a deleted one.
void find_repairs(Relation index, BlockNumber blk, const MetaData& meta,
                  const std::vector<NodeId>& deleted,
                  std::vector<std::pair<NodeId, int>>& out) {
    std::pair<NodeId, int> found[256 * (kMaxLevel + 1)];
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
                            found[nfound++] = {pack_node(blk, off), l};
                            break;
                        }
                    }
                }
            }
        }
        UnlockReleaseBuffer(buf);
    });
    out.assign(found, found + nfound);
}

// Live graph elements of one page (for the reachability pass).
void live_nodes_on_page(Relation index, BlockNumber blk, std::vector<NodeId>& out) {
    NodeId ids[256];
    int n = 0;
    call_pg([&] {
        Buffer buf = ReadBuffer(index, blk);
        LockBuffer(buf, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buf);
        if (page_is(page, kElementPage)) {
            const OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
            for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off)) {
                ElementHeader* e = element_at(page, off);
                if (e != nullptr && !(e->flags & (kFree | kDeleted | kCopy)) && n < 256)
                    ids[n++] = pack_node(blk, off);
            }
        }
        UnlockReleaseBuffer(buf);
    });
    out.assign(ids, ids + n);
}

// Marks in `reached` every live element reachable over level 0 from the marked nodes in `stack`
// (which it consumes), without passing through deleted elements.
void walk_level0(BufferStore& store, NodeBitmap& reached, std::vector<NodeId>& stack) {
    std::vector<NodeId> list;
    size_t steps = 0;
    while (!stack.empty()) {
        const NodeId id = stack.back();
        stack.pop_back();
        const uint8_t flags = store.neighbors_flags(id, 0, list);
        if (flags & (kDeleted | kFree)) continue;
        for (NodeId nb : list)
            if (reached.set(nb)) stack.push_back(nb);
        if ((++steps & 1023) == 0) {
            store.release_pins();
            call_pg([] { vacuum_delay_point(); });
        }
    }
}

// Pass 4: every live element is made reachable over level 0 from the entry point through live
// elements. Returns the number of elements that had to be linked in.
size_t connect_unreachable(Relation index, BufferStore& store, const MetaData& meta,
                           piramid::hnsw::Scratch& scratch) {
    if (meta.entry == kInvalidNode) return 0;
    const piramid::hnsw::Params params = graph_params(meta);
    const BlockNumber nblocks = call_pg([&] { return RelationGetNumberOfBlocks(index); });
    NodeBitmap reached(nblocks);
    std::vector<NodeId> stack;
    reached.set(meta.entry);
    stack.push_back(meta.entry);
    walk_level0(store, reached, stack);
    size_t relinked = 0;
    std::vector<NodeId> live, hints;
    std::vector<float> vec(meta.dims);
    auto is_reached = [&reached](NodeId p) { return reached.test(p); };
    for (BlockNumber blk = 1; blk < nblocks; ++blk) {
        live_nodes_on_page(index, blk, live);
        for (NodeId x : live) {
            if (reached.test(x)) continue;
            // Inserted after the walk passed, or stranded: give it an in-link from a reached
            // element (a redundant one for the first kind costs a list slot at most).
            piramid::hnsw::ensure_in_link(store, x, params, scratch, is_reached);
            bool ok = false;
            for (int attempt = 0; attempt < 2 && !ok; ++attempt) {
                // Check: does a reached live element link to x now?
                store.neighbors(x, 0, hints);
                if (attempt == 1 || hints.empty()) {
                    // Its own neighbours are unreachable too: search the graph for it.
                    store.vector(x, vec.data());
                    piramid::hnsw::plan_insert(store, x, vec.data(), 0, meta.entry,
                                               meta.entry_level, params, scratch);
                    hints.clear();
                    if (!scratch.per_level.empty())
                        for (const auto& c : scratch.per_level[0]) hints.push_back(c.id);
                    if (hints.empty()) break;
                    piramid::hnsw::ensure_in_link(store, x, params, scratch, is_reached,
                                                  std::span<const NodeId>(hints));
                }
                std::vector<NodeId> srcs;
                store.neighbors(x, 0, srcs);
                srcs.insert(srcs.end(), hints.begin(), hints.end());
                std::vector<NodeId> l;
                for (NodeId p : srcs) {
                    if (!reached.test(p)) continue;
                    const uint8_t f = store.neighbors_flags(p, 0, l);
                    if (!(f & (kDeleted | kFree)) && std::find(l.begin(), l.end(), x) != l.end()) {
                        ok = true;
                        break;
                    }
                }
            }
            ++relinked;
            if (ok) {
                stack.push_back(x);
                reached.set(x);
                walk_level0(store, reached, stack);
            } else {
                call_pg([&] {
                    elog(DEBUG1, "hnsw: could not link in element (%u,%u) of \"%s\"",
                         node_block(x), node_offset(x), RelationGetRelationName(index));
                });
            }
        }
        store.release_pins();
        call_pg([] { vacuum_delay_point(); });
    }
    return relinked;
}

void free_on_page(Relation index, BlockNumber blk, const NodeId* ids, size_t n) {
    call_pg([&] {
        Buffer buf = ReadBuffer(index, blk);
        LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
        GenericXLogState* st = GenericXLogStart(index);
        Page page = GenericXLogRegisterBuffer(st, buf, 0);
        for (size_t i = 0; i < n; ++i) {
            ElementHeader* e = element_at(page, node_offset(ids[i]));
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

void reachability_pass(Relation index) {
    const MetaData meta = call_pg([&] { return read_meta(index); });
    if (meta.entry == kInvalidNode) return;
    BufferStore store(index, meta);
    size_t relinked = 0;
    try {
        piramid::hnsw::Scratch scratch;
        relinked = connect_unreachable(index, store, meta, scratch);
        store.release_pins();
    } catch (...) {
        store.forget_pins();
        throw;
    }
    if (relinked > 0)
        call_pg([&] {
            ereport(DEBUG1, (errmsg("hnsw: linked in %zu unreachable elements of \"%s\"", relinked,
                                    RelationGetRelationName(index))));
        });
}

void vacuum_graph(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                  IndexBulkDeleteCallback callback, void* cb_state) {
    Relation index = info->index;
    const BlockNumber nblocks = call_pg([&] { return RelationGetNumberOfBlocks(index); });
    std::vector<NodeId> deleted, emptied, copies;
    LiveBest best;
    // 1. strip
    for (BlockNumber blk = 1; blk < nblocks; ++blk) {
        strip_page(index, blk, info->strategy, callback, cb_state, stats, deleted, emptied, best);
        call_pg([] { vacuum_delay_point(); });
    }
    if (deleted.empty() && emptied.empty()) return;

    // 2. settle, in short batches under the graph lock. The last batch (there is always one)
    // also moves the entry point off a deleted element.
    MetaData meta{};
    size_t i = 0;
    do {
        const size_t end = std::min(emptied.size(), i + kSettleBatch);
        const bool last = end == emptied.size();
        call_pg([&] { LockPage(index, kMetaBlock, ExclusiveLock); });
        for (; i < end; ++i) {
            if (chain_is_empty(index, emptied[i], copies)) {
                set_flags(index, emptied[i], kDeleted);
                deleted.push_back(emptied[i]);
            }
        }
        if (last) {
            std::sort(deleted.begin(), deleted.end());
            meta = call_pg([&] { return read_meta(index); });
            if (meta.entry != kInvalidNode &&
                std::binary_search(deleted.begin(), deleted.end(), meta.entry)) {
                meta.entry = best.id;
                meta.entry_level = best.id == kInvalidNode ? -1 : static_cast<int16>(best.level);
                call_pg([&] {
                    update_meta_after_vacuum(index, meta.entry, meta.entry_level, true,
                                             InvalidBlockNumber);
                });
            }
        }
        call_pg([&] {
            UnlockPage(index, kMetaBlock, ExclusiveLock);
            vacuum_delay_point();
        });
    } while (i < emptied.size());
    if (deleted.empty()) return;

    const piramid::hnsw::Params params = graph_params(meta);
    BufferStore store(index, meta);
    try {
        piramid::hnsw::Scratch scratch;
        // 3. repair, every page as of now: inserts that ran during pass 1 may have extended the
        // index, and their elements may link to what is about to be freed.
        auto is_removed = [&deleted](NodeId id) {
            return std::binary_search(deleted.begin(), deleted.end(), id);
        };
        const BlockNumber nblocks_now = call_pg([&] { return RelationGetNumberOfBlocks(index); });
        std::vector<std::pair<NodeId, int>> repairs;
        for (BlockNumber blk = 1; blk < nblocks_now; ++blk) {
            find_repairs(index, blk, meta, deleted, repairs);
            for (const auto& [id, level] : repairs)
                piramid::hnsw::repair(store, id, level, is_removed, params, scratch, meta.entry,
                                      meta.entry_level);
            if (!repairs.empty()) {
                store.release_pins();
                call_pg([] { vacuum_delay_point(); });
            }
        }
        // 4. reachability without the deleted elements
        connect_unreachable(index, store, meta, scratch);
        store.release_pins();
    } catch (...) {
        store.forget_pins();
        throw;
    }
    // 5. free the slots (and the copies of freed elements), page by page.
    std::vector<NodeId> to_free(deleted);
    to_free.insert(to_free.end(), copies.begin(), copies.end());
    std::sort(to_free.begin(), to_free.end());
    i = 0;
    while (i < to_free.size()) {
        const BlockNumber blk = node_block(to_free[i]);
        size_t j = i;
        while (j < to_free.size() && node_block(to_free[j]) == blk) ++j;
        free_on_page(index, blk, to_free.data() + i, j - i);
        i = j;
    }
    const BlockNumber hint = node_block(to_free.front());
    call_pg([&] { update_meta_after_vacuum(index, kInvalidNode, -1, false, hint); });
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
        // The bulk delete's pass 4 did not run: link in what concurrent inserts stranded.
        guard([&] { reachability_pass(info->index); });
    }
    stats->num_pages = RelationGetNumberOfBlocks(info->index);
    return stats;
}

}  // namespace piramid::pg::hnsw
