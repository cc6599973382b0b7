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
#include "pg/stats.hpp"

extern "C" {
#include "access/generic_xlog.h"
#include "commands/vacuum.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
}

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/hnsw/connect.hpp"
#include "core/hnsw/insert.hpp"
#include "pg/storage/buffer_store.hpp"
#include "pg/storage/elements.hpp"

namespace piramid::pg::hnsw {

namespace {

constexpr size_t kSettleBatch = 64;

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

// Pass 4's walk and link_in rounds (connect_unreachable); `failed` gets the live elements left
// unreachable.
size_t link_unreached(Relation index, BufferStore& store, const MetaData& meta,
                      piramid::hnsw::Scratch& scratch, std::vector<NodeId>& failed) {
    const piramid::hnsw::Params params = graph_params(meta);
    const BlockNumber nblocks = call_pg([&] { return RelationGetNumberOfBlocks(index); });
    std::vector<NodeId> roomy;  // reached live elements with room in their level-0 list
    const size_t cap = static_cast<size_t>(2 * meta.m);
    scratch.il_unlinked.clear();
    auto traverse = [&store, &roomy, cap](NodeId id, std::vector<NodeId>& list) {
        const bool live = !(store.neighbors_flags(id, 0, list) & (kDeleted | kFree));
        if (live) piramid::hnsw::note_room(roomy, id, list.size(), cap);
        return live;
    };
    auto step = [&store] {
        store.release_pins();
        call_pg([] { vacuum_delay_point(); });
    };
    size_t relinked = 0;
    std::vector<NodeId> live, stack;
    std::vector<float> vec(meta.dims);
    // Linking one element in may displace a link that a node marked reached depended on: a
    // round that had to link anything is followed by a fresh walk (three rounds at most).
    for (int round = 0; round < 3; ++round) {
        NodeBitmap reached(nblocks);
        roomy.clear();
        stack.assign(1, meta.entry);
        reached.set(meta.entry);
        piramid::hnsw::walk_level0(reached, stack, traverse, step);
        size_t linked = 0;
        failed.clear();
        for (BlockNumber blk = 1; blk < nblocks; ++blk) {
            live_nodes_on_page(index, blk, live);
            for (NodeId x : live) {
                if (reached.test(x)) continue;
                // Stranded, or inserted after the walk passed its neighbours (then the in-link
                // found or added is one it has anyway, or a redundant one).
                store.vector(x, vec.data());
                if (piramid::hnsw::link_in(store, x, vec.data(), meta.entry, meta.entry_level,
                                           params, scratch, reached, roomy)) {
                    ++linked;
                    reached.set(x);
                    stack.assign(1, x);
                    piramid::hnsw::walk_level0(reached, stack, traverse, step);
                } else {
                    failed.push_back(x);
                    call_pg([&] {
                        elog(DEBUG1, "hnsw: could not link in element (%u,%u) of \"%s\"",
                             node_block(x), node_offset(x), RelationGetRelationName(index));
                    });
                }
            }
            step();
        }
        relinked += linked;
        if (linked == 0) break;
    }
    // A failure above, or a node a displacement left without a sure in-link, may still be
    // reachable (through a node linked in after it was tried): a last walk says which are not.
    if (failed.empty() && scratch.il_unlinked.empty()) return relinked;
    failed.clear();
    NodeBitmap reached(nblocks);
    stack.assign(1, meta.entry);
    reached.set(meta.entry);
    piramid::hnsw::walk_level0(reached, stack, traverse, step);
    for (BlockNumber blk = 1; blk < nblocks; ++blk) {
        live_nodes_on_page(index, blk, live);
        for (NodeId x : live)
            if (!reached.test(x)) failed.push_back(x);
    }
    return relinked;
}

// Pass 4: every live element is made reachable over level 0 from the entry point through live
// elements. Returns the number of elements that had to be linked in.
size_t connect_unreachable(Relation index, BufferStore& store, const MetaData& meta,
                           piramid::hnsw::Scratch& scratch) {
    // The seeds as of now: each is reached by the walk, linked in, or (when that fails) a seed
    // again; seeds inserts add from now on stay. With no entry point no live element is left,
    // and no seed either.
    std::vector<NodeId> seeds(kMaxSeeds), failed;
    seeds.resize(call_pg([&] { return read_seeds(index, seeds.data()); }));
    size_t relinked =
        meta.entry == kInvalidNode ? 0 : link_unreached(index, store, meta, scratch, failed);
    // What could not be linked, and what linking displaced without a sure new in-link (the
    // walk of a last round does not see it), are entry points for scans until the next VACUUM
    // (update_seeds skips duplicates).
    if (!seeds.empty() || !failed.empty())
        call_pg([&] {
            update_seeds(index, seeds.data(), static_cast<uint32>(seeds.size()), failed.data(),
                         static_cast<uint32>(failed.size()));
        });
    return relinked;
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
    // Nothing leaves the graph: pass 4 still runs when there are seeds to link in.
    auto seeds_only = [&] {
        if (call_pg([&] { return read_meta(index).nseeds; }) > 0) reachability_pass(index);
    };
    if (deleted.empty() && emptied.empty()) return seeds_only();

    // 2. settle, in short batches under the graph lock. The last batch (there is always one)
    // also moves the entry point off a deleted element.
    MetaData meta{};
    size_t i = 0;
    do {
        const size_t end = std::min(emptied.size(), i + kSettleBatch);
        const bool last = end == emptied.size();
        call_pg([&] { lock_graph(index, ExclusiveLock); });
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
            unlock_graph(index, ExclusiveLock);
            vacuum_delay_point();
        });
    } while (i < emptied.size());
    if (deleted.empty()) return seeds_only();

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
    // 5. free the slots (and the copies of freed elements), page by page. First the deleted
    // elements' lists are emptied, and inserts in flight are waited for: searches traverse
    // deleted elements, so a list of one not yet freed could otherwise lead a search to a slot
    // freed (and reused by an element of lower level) a page earlier, and an insert would link
    // to it on a level the new element does not have.
    // Wide elements' lists are in their list tuples, which are emptied (and freed) as well.
    std::vector<NodeId> list_tuples;
    auto clear_all = [&](const std::vector<NodeId>& ids, std::vector<NodeId>& out) {
        for (size_t a = 0; a < ids.size();) {
            const BlockNumber blk = node_block(ids[a]);
            size_t b = a;
            while (b < ids.size() && node_block(ids[b]) == blk) ++b;
            clear_lists_on_page(index, blk, meta, ids.data() + a, b - a, out);
            a = b;
        }
    };
    clear_all(deleted, list_tuples);
    std::sort(list_tuples.begin(), list_tuples.end());
    list_tuples.erase(std::unique(list_tuples.begin(), list_tuples.end()), list_tuples.end());
    {
        std::vector<NodeId> none;
        clear_all(list_tuples, none);
    }
    call_pg([&] {
        lock_graph(index, ExclusiveLock);
        unlock_graph(index, ExclusiveLock);
    });
    std::vector<NodeId> to_free(deleted);
    to_free.insert(to_free.end(), copies.begin(), copies.end());
    to_free.insert(to_free.end(), list_tuples.begin(), list_tuples.end());
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
    const BlockNumber lists_hint =
        list_tuples.empty() ? InvalidBlockNumber : node_block(list_tuples.front());
    call_pg([&] { update_meta_after_vacuum(index, kInvalidNode, -1, false, hint, lists_hint); });
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
    stats::add_one(RelationGetRelid(info->index), stats::kVacuums);
    if (stats == nullptr) {
        // No bulk delete ran: count live TIDs for the statistics.
        stats = static_cast<IndexBulkDeleteResult*>(palloc0(sizeof(IndexBulkDeleteResult)));
        const BlockNumber nblocks = RelationGetNumberOfBlocks(info->index);
        for (BlockNumber blk = 1; blk < nblocks; ++blk) {
            for_each_element(info->index, blk, info->strategy, [&](OffsetNumber, ElementHeader* e) {
                if (!(e->flags & (kFree | kDeleted))) stats->num_index_tuples += e->ntids;
            });
            vacuum_delay_point();
        }
        // The bulk delete's pass 4 did not run: link in what concurrent inserts stranded.
        guard([&] { reachability_pass(info->index); });
    }
    stats->num_pages = RelationGetNumberOfBlocks(info->index);
    return stats;
}

}  // namespace piramid::pg::hnsw
