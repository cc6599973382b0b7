// Template part of elements.hpp.
#pragma once

extern "C" {
#include "storage/bufmgr.h"
}

#include <algorithm>

#include "pg/storage/buffer_store.hpp"

namespace piramid::pg::hnsw {

template <class Accept>
int read_element_tids(Relation index, NodeId id, bool graph_node, Accept&& accept,
                      ItemPointerData* out, NodeId* next) {
    int n = 0;
    *next = kInvalidNode;
    Buffer buf = ReadBuffer(index, node_block(id));
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    ElementHeader* e = element_at(BufferGetPage(buf), node_offset(id));
    bool ok = e != nullptr && !(e->flags & (kDeleted | kFree | kListTuple)) &&
              (graph_node ? !(e->flags & kCopy) : (e->flags & kCopy) != 0);
    if (ok && graph_node) ok = accept(static_cast<const float*>(element_vector(e)));
    if (ok) {
        n = std::min<int>(e->ntids, kMaxHeapTids);
        for (int i = 0; i < n; ++i) out[i] = e->tids[i];
        *next = e->next_copy;
    }
    UnlockReleaseBuffer(buf);
    return n;
}

template <class Fn>
void for_each_element(Relation index, BlockNumber blk, BufferAccessStrategy strategy, Fn&& fn) {
    Buffer buf = ReadBufferExtended(index, MAIN_FORKNUM, blk, RBM_NORMAL, strategy);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buf);
    if (page_is(page, kElementPage)) {
        const OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
        for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off)) {
            ElementHeader* e = element_at(page, off);
            if (e != nullptr) fn(off, e);
        }
    }
    UnlockReleaseBuffer(buf);
}

template <class Skip>
void sweep_page(Relation index, BlockNumber blk, const float* q, size_t dims, GraphDistance dist,
                Skip&& skip, std::vector<piramid::hnsw::Candidate>& out, size_t cap) {
    for_each_element(index, blk, nullptr, [&](OffsetNumber off, ElementHeader* e) {
        if (out.size() >= cap || (e->flags & (kDeleted | kNotNode))) return;
        const NodeId id = pack_node(blk, off);
        if (!skip(id)) out.push_back({graph_distance_value(dist, q, element_vector(e), dims), id});
    });
}

}  // namespace piramid::pg::hnsw
