// Element lifecycle on pages (see elements.hpp and README.md beside it).
#include "pg/storage/elements.hpp"

extern "C" {
#include "access/generic_xlog.h"
#include "commands/vacuum.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
}

#include <algorithm>
#include <cstring>

#include "pg/storage/buffer_store.hpp"

namespace piramid::pg::hnsw {

void lock_graph(Relation index, LOCKMODE mode) {
    LockPage(index, kMetaBlock, mode);
}
void unlock_graph(Relation index, LOCKMODE mode) {
    UnlockPage(index, kMetaBlock, mode);
}

void fill_element(char* tuple, Size size, int dims, int m, int level, const float* vec,
                  ItemPointer tid) {
    std::memset(tuple, 0, size);
    auto* e = reinterpret_cast<ElementHeader*>(tuple);
    e->level = static_cast<uint8>(level);
    e->ntids = 1;
    e->tids[0] = *tid;
    e->next_copy = kInvalidNode;
    std::memcpy(element_vector(e), vec, sizeof(float) * vector_lanes(vec, dims));
    for (int l = 0; l <= level; ++l) {
        NodeId* list = element_neighbors(e, dims, m, l);
        for (int k = 0; k < level_capacity(m, l); ++k) list[k] = kInvalidNode;
    }
}

void fill_ext_element(char* tuple, Size size, int dims, int level, const float* vec,
                      ItemPointer tid) {
    std::memset(tuple, 0, size);
    auto* e = reinterpret_cast<ElementHeader*>(tuple);
    e->level = static_cast<uint8>(level);
    e->flags = kExtLists;
    e->ntids = 1;
    e->tids[0] = *tid;
    e->next_copy = kInvalidNode;
    std::memcpy(element_vector(e), vec, sizeof(float) * vector_lanes(vec, dims));
    *element_lists_at(e, dims) = kInvalidNode;
}

void fill_list_tuple(char* tuple, Size size, int m, int level, NodeId owner) {
    std::memset(tuple, 0, size);
    auto* e = reinterpret_cast<ElementHeader*>(tuple);
    e->level = static_cast<uint8>(level);
    e->flags = kListTuple;
    e->next_copy = owner;
    for (int l = 0; l <= level; ++l) {
        NodeId* list = element_neighbors(e, 0, m, l);
        for (int k = 0; k < level_capacity(m, l); ++k) list[k] = kInvalidNode;
    }
}

void attach_lists(Relation index, NodeId id, int dims, NodeId lists) {
    Buffer buf = ReadBuffer(index, node_block(id));
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    if (element_at(BufferGetPage(buf), node_offset(id)) != nullptr) {
        GenericXLogState* st = GenericXLogStart(index);
        Page p = GenericXLogRegisterBuffer(st, buf, 0);
        *element_lists_at(element_at(p, node_offset(id)), dims) = lists;
        GenericXLogFinish(st);
    }
    UnlockReleaseBuffer(buf);
}

// Whether element e stores exactly vec (same lanes, same bytes).
static bool holds_vector(ElementHeader* e, const float* vec, int dims) {
    const int lanes = vector_lanes(vec, dims);
    return element_lanes(e, dims) == lanes &&
           std::memcmp(element_vector(e), vec, sizeof(float) * lanes) == 0;
}

// What a page offers a tuple of `size` bytes: its smallest free slot that is large enough (best
// fit), how many of its free slots are at least `pin_min` bytes, and whether new space fits the
// tuple. A free slot of exactly the tuple's size, or new space, fits tightly; a larger free slot
// fits loosely.
struct PageFit {
    OffsetNumber slot = InvalidOffsetNumber;
    Size slot_len = 0;
    int nfree = 0;  // free slots of at least pin_min bytes
    bool room = false;
    bool is_new = false;  // all zero: an extension that a crash interrupted
    bool exact(Size size) const { return slot != InvalidOffsetNumber && slot_len == size; }
};

static PageFit inspect_page(Page page, Size size, Size pin_min) {
    PageFit f;
    if (PageIsNew(page)) {
        f.is_new = true;
        return f;
    }
    if (!page_is(page, kElementPage)) return f;
    const OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
    for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off)) {
        ItemId iid = PageGetItemId(page, off);
        if (!ItemIdIsNormal(iid)) continue;
        auto* e = reinterpret_cast<ElementHeader*>(PageGetItem(page, iid));
        if (!(e->flags & kFree)) continue;
        const Size len = ItemIdGetLength(iid);
        if (len >= pin_min) ++f.nfree;
        if (len < size || (f.slot != InvalidOffsetNumber && len >= f.slot_len)) continue;
        f.slot = off;
        f.slot_len = len;
    }
    f.room = static_cast<unsigned>(maxoff) + 1 < (1u << kNodeOffsetBits) &&
             PageGetFreeSpace(page) >= size;
    return f;
}

// Places the tuple on `buf` (exclusively locked): an exact free slot, else new space, else
// (unless tight_only) the best-fitting larger slot. *more_free: a free slot of at least pin_min
// bytes is left on the page. Returns the offset used or InvalidOffsetNumber.
static OffsetNumber place_on_page(Relation index, Buffer buf, const char* tuple, Size size,
                                  Size pin_min, bool tight_only, bool* more_free) {
    Page page = BufferGetPage(buf);
    const PageFit f = inspect_page(page, size, pin_min);
    *more_free = f.nfree > 0;
    if (f.is_new) {
        GenericXLogState* st = GenericXLogStart(index);
        Page p = GenericXLogRegisterBuffer(st, buf, GENERIC_XLOG_FULL_IMAGE);
        init_page(p, kElementPage);
        const OffsetNumber off =
            PageAddItem(p, (Item)tuple, size, InvalidOffsetNumber, false, false);
        GenericXLogFinish(st);
        return off;
    }
    if (f.exact(size) || (f.slot != InvalidOffsetNumber && !f.room && !tight_only)) {
        *more_free = f.nfree > (f.slot_len >= pin_min ? 1 : 0);
        GenericXLogState* st = GenericXLogStart(index);
        Page p = GenericXLogRegisterBuffer(st, buf, 0);
        ItemId piid = PageGetItemId(p, f.slot);
        char* dst = reinterpret_cast<char*>(PageGetItem(p, piid));
        std::memset(dst, 0, ItemIdGetLength(piid));
        std::memcpy(dst, tuple, size);
        GenericXLogFinish(st);
        return f.slot;
    }
    if (!f.room) return InvalidOffsetNumber;
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

static void set_hint(Relation index, BlockNumber blk, bool lists) {
    Buffer buf = ReadBuffer(index, kMetaBlock);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    MetaData* meta = page_meta(BufferGetPage(buf));
    if ((lists ? meta->lists_hint : meta->insert_hint) != blk) {
        GenericXLogState* st = GenericXLogStart(index);
        Page p = GenericXLogRegisterBuffer(st, buf, 0);
        (lists ? page_meta(p)->lists_hint : page_meta(p)->insert_hint) = blk;
        GenericXLogFinish(st);
    }
    UnlockReleaseBuffer(buf);
}

static NodeId allocate_tuple(Relation index, BlockNumber hint, const char* tuple, Size size,
                             Size pin_min, bool lists);

NodeId allocate_element(Relation index, BlockNumber hint, const char* tuple, Size size,
                        Size pin_min) {
    return allocate_tuple(index, hint, tuple, size, pin_min, false);
}

NodeId allocate_list_tuple(Relation index, BlockNumber lists_hint, const char* tuple, Size size,
                           Size pin_min) {
    return allocate_tuple(index, lists_hint, tuple, size, pin_min, true);
}

// Writes a new tuple and returns its id; the hint it follows and updates is the insert hint or
// (lists) the list tuple hint. Postgres calls only.
//
// From the hint (VACUUM points it at the first page with a free slot) the pages are inspected
// under a share lock, and the tuple goes to the first that fits it tightly (a free slot of its
// exact size, or new space): a free slot larger than the tuple is kept for the elements of
// higher levels that need one, and taken (the smallest seen) only when no page of the walk fits
// tightly. The walk ends after 16 pages with free slots once a larger slot has been seen, 256
// while nothing fits at all (an element of a rare level looks further for a slot of its size),
// or 1,024 pages in all; then new space on the last page is tried, and only then is the relation
// extended (so elements that find no slot share new pages rather than take one each).
//
// The hint moves to the first page walked that still has a free slot of at least pin_min bytes
// (the smallest tuple of the kind: a level-0 element, a copy, a level-0 list tuple), or past the
// pages walked when none had one: slots freed by VACUUM are filled before the index grows, full
// pages are walked once, and slots only smaller tuples could use do not hold the hint back.
static NodeId allocate_tuple(Relation index, BlockNumber hint, const char* tuple, Size size,
                             Size pin_min, bool lists) {
    const BlockNumber nblocks = RelationGetNumberOfBlocks(index);
    const BlockNumber start = hint >= 1 && hint < nblocks ? hint : (nblocks > 1 ? nblocks - 1 : 1);
    BlockNumber keep = InvalidBlockNumber;   // the first page walked with a free slot left
    BlockNumber loose = InvalidBlockNumber;  // the page with the smallest larger slot
    Size loose_len = 0;
    auto try_page = [&](BlockNumber blk, bool tight_only) -> OffsetNumber {
        Buffer buf = ReadBuffer(index, blk);
        LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
        bool more_free = false;
        const OffsetNumber off =
            place_on_page(index, buf, tuple, size, pin_min, tight_only, &more_free);
        UnlockReleaseBuffer(buf);
        if (more_free && keep == InvalidBlockNumber) keep = blk;
        return off;
    };
    auto placed = [&](BlockNumber blk, OffsetNumber off) {
        const BlockNumber next_hint = keep != InvalidBlockNumber ? keep : blk;
        if (next_hint != hint) set_hint(index, next_hint, lists);
        return pack_node(blk, off);
    };
    BlockNumber blk = start;
    for (int walked = 0, with_free = 0;
         walked < 1024 && with_free < (loose != InvalidBlockNumber ? 16 : 256) && blk < nblocks;
         ++walked, ++blk) {
        Buffer buf = ReadBuffer(index, blk);
        LockBuffer(buf, BUFFER_LOCK_SHARE);
        const PageFit f = inspect_page(BufferGetPage(buf), size, pin_min);
        UnlockReleaseBuffer(buf);
        if (f.nfree > 0) {
            ++with_free;
            if (keep == InvalidBlockNumber) keep = blk;
        }
        if (f.is_new || f.room || f.exact(size)) {
            // Exclusively now; the page may have changed since it was inspected.
            const OffsetNumber off = try_page(blk, true);
            if (off != InvalidOffsetNumber) return placed(blk, off);
        } else if (f.slot != InvalidOffsetNumber &&
                   (loose == InvalidBlockNumber || f.slot_len < loose_len)) {
            loose = blk;
            loose_len = f.slot_len;
        }
    }
    if (loose != InvalidBlockNumber) {  // a concurrent insert may have taken the slot meanwhile
        const OffsetNumber off = try_page(loose, false);
        if (off != InvalidOffsetNumber) return placed(loose, off);
    }
    // Nothing walked had a free slot: the next walk starts after these pages.
    if (keep == InvalidBlockNumber && blk < nblocks) keep = blk;
    // The last page, where the tuples that found no slot before this one went.
    if (blk < nblocks && nblocks > 1) {
        const OffsetNumber off = try_page(nblocks - 1, true);
        if (off != InvalidOffsetNumber) return placed(nblocks - 1, off);
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
        const OffsetNumber off = place_on_page(index, buf, tuple, size, pin_min, false, &more_free);
        UnlockReleaseBuffer(buf);
        if (off != InvalidOffsetNumber) {
            set_hint(index, keep != InvalidBlockNumber ? keep : newblk, lists);
            return pack_node(newblk, off);
        }
    }
}

// Adds tid to an existing element holding exactly this vector. Postgres calls only.
bool add_tid_to_copy(Relation index, NodeId id, const float* vec, int dims, ItemPointer tid) {
    Buffer buf = ReadBuffer(index, node_block(id));
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    bool added = false;
    ElementHeader* e = element_at(BufferGetPage(buf), node_offset(id));
    if (e != nullptr && (e->flags & ~(kCopy | kExtLists)) == 0 && e->ntids < kMaxHeapTids &&
        holds_vector(e, vec, dims)) {
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
void publish_entry(Relation index, NodeId id, int level, NodeId* entry, int* entry_level,
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
    const bool same = e != nullptr && (e->flags & ~kExtLists) == 0 && holds_vector(e, vec, dims);
    UnlockReleaseBuffer(buf);
    return same;
}

// Reads an element's next_copy under a share lock (kInvalidNode when there is none).
static NodeId read_next_copy(Relation index, NodeId id) {
    Buffer buf = ReadBuffer(index, node_block(id));
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    ElementHeader* e = element_at(BufferGetPage(buf), node_offset(id));
    const NodeId next = e != nullptr ? e->next_copy : kInvalidNode;
    UnlockReleaseBuffer(buf);
    return next;
}

// Sets id's next_copy to `to` when it is still `expected` (or unconditionally when id is a
// private, not yet linked copy). Returns whether it was written.
static bool swap_next_copy(Relation index, NodeId id, NodeId expected, NodeId to, bool check) {
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
    if (first != kInvalidNode && add_tid_to_copy(index, first, vec, dims, tid)) return;
    const int lanes = vector_lanes(vec, dims);
    const Size size = copy_element_size(lanes);
    char* tuple = static_cast<char*>(palloc(size));
    std::memset(tuple, 0, size);
    auto* e = reinterpret_cast<ElementHeader*>(tuple);
    e->flags = kCopy;
    e->ntids = 1;
    e->tids[0] = *tid;
    NodeId head = read_next_copy(index, anchor);
    e->next_copy = head;
    std::memcpy(element_vector(e), vec, sizeof(float) * lanes);
    const NodeId copy = allocate_element(index, hint, tuple, size, size);
    pfree(tuple);
    // The new copy is private until the anchor points at it: retarget it until the swap holds.
    while (!swap_next_copy(index, anchor, head, copy, true)) {
        head = read_next_copy(index, anchor);
        swap_next_copy(index, copy, kInvalidNode, head, false);
    }
}

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
            if (e == nullptr || (e->flags & (kFree | kListTuple))) continue;
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
                              BlockNumber hint, BlockNumber lists_hint) {
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
    if (lists_hint != InvalidBlockNumber) meta->lists_hint = lists_hint;
    GenericXLogFinish(st);
    UnlockReleaseBuffer(buf);
}

// Pass 2 on one page: (element, level) pairs of live elements whose list names a deleted one.
void find_repairs(Relation index, BlockNumber blk, const MetaData& meta,
                  const std::vector<NodeId>& deleted, std::vector<std::pair<NodeId, int>>& out) {
    std::pair<NodeId, int> found[256 * (kMaxLevel + 1)];
    int nfound = 0;
    const int dims = static_cast<int>(meta.dims), m = meta.m;
    const NodeId* del = deleted.data();
    const size_t ndel = deleted.size();
    call_pg([&] {
        for_each_element(index, blk, nullptr, [&](OffsetNumber off, ElementHeader* e) {
            // A wide element's lists are in its list tuple: the tuple is checked where it is
            // (for its owner, whatever the owner's state; repairing a deleted one is harmless).
            if (e->flags & (kFree | kDeleted | kCopy | kExtLists)) return;
            const NodeId owner = (e->flags & kListTuple) ? e->next_copy : pack_node(blk, off);
            for (int l = 0; l <= e->level; ++l) {
                const NodeId* list = element_neighbors(e, dims, m, l);
                for (int k = 0; k < level_capacity(m, l) && list[k] != kInvalidNode; ++k) {
                    if (std::binary_search(del, del + ndel, list[k])) {
                        found[nfound++] = {owner, l};
                        break;
                    }
                }
            }
        });
    });
    out.assign(found, found + nfound);
}

// Live graph elements of one page (for the reachability pass).
void live_nodes_on_page(Relation index, BlockNumber blk, std::vector<NodeId>& out) {
    NodeId ids[256];
    int n = 0;
    call_pg([&] {
        for_each_element(index, blk, nullptr, [&](OffsetNumber off, ElementHeader* e) {
            if (!(e->flags & (kDeleted | kNotNode)) && n < 256) ids[n++] = pack_node(blk, off);
        });
    });
    out.assign(ids, ids + n);
}

// Applies fn to each of the given elements of block blk that exists, in one WAL record.
template <class Fn>
static void edit_elements_on_page(Relation index, BlockNumber blk, const NodeId* ids, size_t n,
                                  Fn&& fn) {
    call_pg([&] {
        Buffer buf = ReadBuffer(index, blk);
        LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
        GenericXLogState* st = GenericXLogStart(index);
        Page page = GenericXLogRegisterBuffer(st, buf, 0);
        for (size_t i = 0; i < n; ++i) {
            ElementHeader* e = element_at(page, node_offset(ids[i]));
            if (e != nullptr) fn(e);
        }
        GenericXLogFinish(st);
        UnlockReleaseBuffer(buf);
    });
}

void clear_lists_on_page(Relation index, BlockNumber blk, const MetaData& meta, const NodeId* ids,
                         size_t n, std::vector<NodeId>& list_tuples) {
    const int dims = static_cast<int>(meta.dims), m = meta.m;
    NodeId found[256];
    size_t nfound = 0;
    edit_elements_on_page(index, blk, ids, n, [&](ElementHeader* e) {
        if (e->flags & kFree) return;
        if ((e->flags & kExtLists) && !(e->flags & kNotNode)) {
            const NodeId at = *element_lists_at(e, dims);
            if (at != kInvalidNode && nfound < 256) found[nfound++] = at;
            return;
        }
        if (e->flags & kCopy) return;
        for (int l = 0; l <= e->level; ++l) {
            NodeId* list = element_neighbors(e, dims, m, l);
            for (int k = 0; k < level_capacity(m, l); ++k) list[k] = kInvalidNode;
        }
    });
    list_tuples.insert(list_tuples.end(), found, found + nfound);
}

void free_on_page(Relation index, BlockNumber blk, const NodeId* ids, size_t n) {
    edit_elements_on_page(index, blk, ids, n, [](ElementHeader* e) {
        e->flags = kFree;
        e->ntids = 0;
        e->next_copy = kInvalidNode;
    });
}

}  // namespace piramid::pg::hnsw
