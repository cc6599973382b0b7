#include "pg/storage/buffer_store.hpp"

extern "C" {
#include "access/generic_xlog.h"
#include "storage/buf_internals.h"
#include "storage/bufpage.h"
}

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "core/common/error.hpp"
#include "core/distance/lanes.hpp"

namespace piramid::pg::hnsw {

namespace {

[[noreturn]] void corrupted(Relation index, NodeId id) {
    throw Error(Errc::kInternal, std::string("index \"") + RelationGetRelationName(index) +
                                     "\" references a missing element (block " +
                                     std::to_string(node_block(id)) + ", offset " +
                                     std::to_string(node_offset(id)) + "); REINDEX it");
}

}  // namespace

// A sparse element's vector (nnz read without the content lock) lies inside its tuple.
static bool sparse_fits(Page page, NodeId id, ElementHeader* e) {
    const size_t len = ItemIdGetLength(PageGetItemId(page, node_offset(id)));
    return sizeof(ElementHeader) + sizeof(float) * distance::sparse_lanes(element_vector(e)) <= len;
}

GraphDistance graph_distance(distance::Metric metric) {
    return distance::lane_distance(metric);
}

ElementHeader* element_at(Page page, OffsetNumber off) {
    if (off < FirstOffsetNumber || off > PageGetMaxOffsetNumber(page)) return nullptr;
    ItemId iid = PageGetItemId(page, off);
    if (!ItemIdIsNormal(iid) || ItemIdGetLength(iid) < sizeof(ElementHeader)) return nullptr;
    return reinterpret_cast<ElementHeader*>(PageGetItem(page, iid));
}

namespace {

// Parked block -> buffer tables of stores that have ended, by index (relfilenode). A store takes
// the table of its index from here when one is parked and gives it back when it ends, so the
// hints outlive one query; a table is only ever used by one live store. Fixed size, no
// allocation when parking: destructors run during error cleanup too.
struct ParkedTable {
    RelFileNode node;
    std::vector<Buffer> bufs;
    uint64_t stamp;
};
constexpr int kParkedTables = 4;
ParkedTable g_parked[kParkedTables];
uint64_t g_park_clock = 0;
constexpr BlockNumber kMaxRecentBlocks = 1u << 22;  // 16 MiB of hints per table at most

bool is_node(const RelFileNode& a, const RelFileNode& b) {
    return RelFileNodeEquals(a, b);
}

}  // namespace

BufferStore::BufferStore(Relation index, const MetaData& meta)
    : index_(index),
      node_(index->rd_node),
      dims_(meta.dims),
      m_(meta.m),
      dist_(graph_distance(static_cast<distance::Metric>(meta.metric))) {
    for (auto& s : pins_) {
        s.blk = InvalidBlockNumber;
        s.buf = InvalidBuffer;
    }
    order_.reserve(64);
    for (ParkedTable& t : g_parked) {
        if (!t.bufs.empty() && is_node(t.node, node_)) {
            recent_table_.swap(t.bufs);
            break;
        }
    }
    init_recent(0);
}

BufferStore::~BufferStore() {
    if (recent_table_.empty()) return;
    // Park the table in the slot of this index, else an empty one, else the oldest.
    ParkedTable* slot = nullptr;
    for (ParkedTable& t : g_parked)
        if (!t.bufs.empty() && is_node(t.node, node_)) slot = &t;
    if (slot == nullptr)
        for (ParkedTable& t : g_parked)
            if (t.bufs.empty()) {
                slot = &t;
                break;
            }
    if (slot == nullptr) {
        slot = &g_parked[0];
        for (ParkedTable& t : g_parked)
            if (t.stamp < slot->stamp) slot = &t;
    }
    slot->bufs.swap(recent_table_);  // no allocation; the previous table is freed with ours
    slot->node = node_;
    slot->stamp = ++g_park_clock;
    recent_ = nullptr;
    nrecent_ = 0;
}

void BufferStore::init_recent(BlockNumber nblocks) {
    const size_t want = std::min(nblocks, kMaxRecentBlocks);
    if (recent_table_.size() < want) recent_table_.resize(want, InvalidBuffer);
    recent_ = recent_table_.data();
    nrecent_ = static_cast<BlockNumber>(recent_table_.size());
}

Buffer BufferStore::pin(BlockNumber blk) {
    PinSlot& slot = pins_[blk % kPinSlots];
    if (slot.blk == blk) return slot.buf;
    if (slot.buf != InvalidBuffer) ReleaseBuffer(slot.buf);
    slot.buf = InvalidBuffer;
    slot.blk = InvalidBlockNumber;
    ++pages_pinned_;
    Buffer buf = InvalidBuffer;
    if (blk < nrecent_) {
        const Buffer hint = recent_[blk];
        if (hint != InvalidBuffer && ReadRecentBuffer(node_, MAIN_FORKNUM, blk, hint)) buf = hint;
    }
    if (buf == InvalidBuffer) {
        buf = ReadBufferExtended(index_, MAIN_FORKNUM, blk, RBM_NORMAL, nullptr);
        if (blk < nrecent_ && !BufferIsLocal(buf)) recent_[blk] = buf;
    }
    slot.buf = buf;
    slot.blk = blk;
    return buf;
}

// Where an element probably is, from the recent-buffer table, without pinning: only used as a
// prefetch address (the page may change under us; nothing read here is trusted).
const char* BufferStore::guess_page(BlockNumber blk) const {
    if (blk >= nrecent_) return nullptr;
    const Buffer b = recent_[blk];
    if (b == InvalidBuffer || BufferIsLocal(b)) return nullptr;
    return static_cast<const char*>(BufferGetBlock(b));
}

void BufferStore::prefetch_line_pointer(NodeId id) const {
    const BlockNumber blk = node_block(id);
    const char* page = guess_page(blk);
    if (page == nullptr) return;
    // ReadRecentBuffer() will lock this buffer's header: fetch the descriptor too.
    __builtin_prefetch(GetBufferDescriptor(recent_[blk] - 1), 1);
    __builtin_prefetch(page + offsetof(PageHeaderData, pd_linp) +
                       (node_offset(id) - 1) * sizeof(ItemIdData));
}

void BufferStore::prefetch_element(NodeId id) const {
    const char* page = guess_page(node_block(id));
    if (page == nullptr) return;
    const OffsetNumber off = node_offset(id);
    ItemIdData lp;
    std::memcpy(&lp, page + offsetof(PageHeaderData, pd_linp) + (off - 1) * sizeof(ItemIdData),
                sizeof(lp));
    const size_t bytes = std::min<size_t>(lp.lp_len, sizeof(ElementHeader) + sizeof(float) * dims_);
    if (lp.lp_off == 0 || lp.lp_off + bytes > BLCKSZ) return;
    const char* e = page + lp.lp_off;
    for (size_t o = 0; o < bytes; o += 64) __builtin_prefetch(e + o);
}

void BufferStore::release_pins() {
    for (auto& s : pins_) {
        if (s.buf != InvalidBuffer) {
            Buffer b = s.buf;
            s.buf = InvalidBuffer;
            s.blk = InvalidBlockNumber;
            call_pg([b] { ReleaseBuffer(b); });
        }
    }
}

void BufferStore::forget_pins() {
    for (auto& s : pins_) {
        s.buf = InvalidBuffer;
        s.blk = InvalidBlockNumber;
    }
}

void BufferStore::distances(const float* query, std::span<const NodeId> ids, float* out,
                            uint8_t* deleted) {
    const size_t n = ids.size();
    if (n == 0) return;
    // Visit each page once: order the ids by block (n is small: at most 2m).
    order_.resize(n);
    for (size_t i = 0; i < n; ++i) order_[i] = static_cast<uint32_t>(i);
    const NodeId* idp = ids.data();
    std::sort(order_.begin(), order_.end(),
              [idp](uint32_t a, uint32_t b) { return idp[a] < idp[b]; });
    const uint32_t* ord = order_.data();
    NodeId bad = kInvalidNode;
    const size_t dims = dims_;
    const bool sparse = sparse_index(static_cast<int>(dims_));
    GraphDistance dist = dist_;
    // Blocks beyond the recent-buffer table (the index grew): grow it here, outside call_pg.
    BlockNumber maxblk = 0;
    for (size_t i = 0; i < n; ++i) maxblk = std::max(maxblk, node_block(idp[i]));
    if (maxblk >= nrecent_ && maxblk < kMaxRecentBlocks) init_recent(maxblk + maxblk / 2 + 64);
    // Memory latency dominates: ask for every line pointer now, and for the next page's
    // elements while the current page is being read.
    for (size_t i = 0; i < n; ++i) prefetch_line_pointer(idp[i]);
    // Elements are requested a few ahead of the one being scored (one DRAM round trip is
    // several distance computations long).
    const size_t ahead = dims_ >= 256 ? 4 : 6;
    call_pg([&, ord, n] {
        size_t i = 0;
        size_t pf = 0;
        while (i < n) {
            const BlockNumber blk = node_block(idp[ord[i]]);
            for (; pf < n && pf < i + ahead; ++pf) prefetch_element(idp[ord[pf]]);
            // Pinned but not locked: an element's vector is written once, before any neighbour
            // list can point at it, and never changes while the element exists; existing line
            // pointers never move (pages are never compacted), and GenericXLog rewrites
            // unchanged bytes with the same values. The one race, a slot freed by VACUUM being
            // reused, yields a distance for the new element, which is equally valid. The flags
            // read here are hints for the search; heap TIDs are read under a lock.
            Buffer buf = pin(blk);
            Page page = BufferGetPage(buf);
            for (; i < n && node_block(idp[ord[i]]) == blk; ++i) {
                const uint32_t k = ord[i];
                ElementHeader* e = element_at(page, node_offset(idp[k]));
                if (e == nullptr) {
                    bad = idp[k];
                    out[k] = 0;
                    continue;
                }
                // A stale link may name a slot that was freed, or reused for a copy element
                // (header and vector only): neither is a graph node.
                const uint8 flags = e->flags;
                if (flags & kNotNode) {
                    out[k] = std::numeric_limits<float>::max();
                } else if (sparse && !sparse_fits(page, idp[k], e)) {
                    bad = idp[k];  // its nnz says it is longer than its tuple
                    out[k] = 0;
                } else {
                    const float d = dist(query, element_vector(e), dims);
                    out[k] = std::isnan(d) ? std::numeric_limits<float>::max() : d;
                }
                if (deleted != nullptr) deleted[k] = (flags & (kDeleted | kNotNode)) ? 1 : 0;
            }
        }
    });
    if (bad != kInvalidNode) corrupted(index_, bad);
}

void BufferStore::neighbors(NodeId id, int level, std::vector<NodeId>& out) {
    neighbors_flags(id, level, out);
}

uint8_t BufferStore::neighbors_flags(NodeId id, int level, std::vector<NodeId>& out) {
    out.clear();
    NodeId tmp[2 * 100];  // 2m, m <= 100
    int count = 0;
    bool missing = false;
    uint8 flags = kFree;
    NodeId lists_at = kInvalidNode;
    const int dims = static_cast<int>(dims_), m = m_;
    // Copies the list at `level` of e (inline lists or a list tuple) into tmp.
    auto copy_list = [&](ElementHeader* e) {
        const NodeId* list = element_neighbors(e, dims, m, level);
        const int cap = level_capacity(m, level);
        for (int i = 0; i < cap && list[i] != kInvalidNode; ++i) tmp[count++] = list[i];
    };
    call_pg([&] {
        Buffer buf = pin(node_block(id));
        LockBuffer(buf, BUFFER_LOCK_SHARE);
        ElementHeader* e = element_at(BufferGetPage(buf), node_offset(id));
        if (e == nullptr) {
            missing = true;
        } else if (!(e->flags & kNotNode)) {
            flags = e->flags;
            if (level <= e->level) {
                if (e->flags & kExtLists)
                    lists_at = *element_lists_at(e, dims);
                else
                    copy_list(e);
            }
        }
        LockBuffer(buf, BUFFER_LOCK_UNLOCK);
        if (lists_at == kInvalidNode) return;
        // A wide element's lists: its list tuple, one lock at a time. A tuple that is not this
        // element's lists any more (VACUUM freed both since) reads as empty.
        buf = pin(node_block(lists_at));
        LockBuffer(buf, BUFFER_LOCK_SHARE);
        ElementHeader* t = element_at(BufferGetPage(buf), node_offset(lists_at));
        if (t != nullptr && (t->flags & kListTuple) && !(t->flags & kFree) && t->next_copy == id &&
            level <= t->level)
            copy_list(t);
        LockBuffer(buf, BUFFER_LOCK_UNLOCK);
    });
    if (missing) corrupted(index_, id);
    out.assign(tmp, tmp + count);
    return flags;
}

void BufferStore::vector(NodeId id, float* out) {
    bool missing = false;
    const int dims = static_cast<int>(dims_);
    call_pg([&] {
        Buffer buf = pin(node_block(id));
        LockBuffer(buf, BUFFER_LOCK_SHARE);
        ElementHeader* e = element_at(BufferGetPage(buf), node_offset(id));
        if (e == nullptr)
            missing = true;
        else
            std::memcpy(out, element_vector(e), sizeof(float) * element_lanes(e, dims));
        LockBuffer(buf, BUFFER_LOCK_UNLOCK);
    });
    if (missing) corrupted(index_, id);
}

bool BufferStore::update_neighbors(NodeId id, int level, std::span<const NodeId> expected,
                                   std::span<const NodeId> replacement) {
    return write_neighbors(id, level, expected.data(), expected.size(), true, replacement);
}

bool BufferStore::write_neighbors(NodeId id, int level, const NodeId* exp, size_t nexp, bool check,
                                  std::span<const NodeId> replacement) {
    const int dims = static_cast<int>(dims_), m = m_;
    const int cap = level_capacity(m, level);
    if (static_cast<int>(replacement.size()) > cap)
        throw Error(Errc::kInternal, "neighbour list longer than its level's capacity");
    bool missing = false, matched = false;
    const NodeId* rep = replacement.data();
    const size_t nrep = replacement.size();
    // Compare-and-swap of the list at `level` of tuple `at` on the exclusively locked buf;
    // `owner`: the element whose lists a list tuple must hold (kInvalidNode: inline lists).
    auto cas = [&](Buffer buf, NodeId at, NodeId owner) {
        ElementHeader* e = element_at(BufferGetPage(buf), node_offset(at));
        if (owner != kInvalidNode &&
            (e == nullptr || !(e->flags & kListTuple) || (e->flags & kFree) ||
             e->next_copy != owner || level > e->level)) {
            matched = true;  // not its lists any more (freed): nothing to update
            return;
        }
        const NodeId* cur = element_neighbors(e, dims, m, level);
        size_t ncur = 0;
        while (ncur < static_cast<size_t>(cap) && cur[ncur] != kInvalidNode) ++ncur;
        matched = !check || (ncur == nexp && std::memcmp(cur, exp, sizeof(NodeId) * ncur) == 0);
        if (matched) {
            GenericXLogState* state = GenericXLogStart(index_);
            Page page = GenericXLogRegisterBuffer(state, buf, 0);
            NodeId* list = element_neighbors(element_at(page, node_offset(at)), dims, m, level);
            for (size_t i = 0; i < static_cast<size_t>(cap); ++i)
                list[i] = i < nrep ? rep[i] : kInvalidNode;
            GenericXLogFinish(state);
        }
    };
    call_pg([&] {
        Buffer buf = pin(node_block(id));
        LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
        ElementHeader* e = element_at(BufferGetPage(buf), node_offset(id));
        if (e == nullptr || level > e->level || (e->flags & kNotNode)) {
            // Not a graph node (any more): nothing to update, and nobody can expect its list;
            // reported as done so that callers do not retry.
            missing = e == nullptr;
            matched = true;
            LockBuffer(buf, BUFFER_LOCK_UNLOCK);
            return;
        }
        if (!(e->flags & kExtLists)) {
            cas(buf, id, kInvalidNode);
            LockBuffer(buf, BUFFER_LOCK_UNLOCK);
            return;
        }
        const NodeId lists_at = *element_lists_at(e, dims);
        LockBuffer(buf, BUFFER_LOCK_UNLOCK);
        if (lists_at == kInvalidNode) {  // lists not attached (a crashed insert): not a node yet
            matched = true;
            return;
        }
        buf = pin(node_block(lists_at));
        LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
        cas(buf, lists_at, id);
        LockBuffer(buf, BUFFER_LOCK_UNLOCK);
    });
    if (missing) corrupted(index_, id);
    return matched;
}

void BufferStore::set_neighbors(NodeId id, int level, std::span<const NodeId> list) {
    write_neighbors(id, level, nullptr, 0, false, list);
}

}  // namespace piramid::pg::hnsw
