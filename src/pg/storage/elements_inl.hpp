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
    bool ok = e != nullptr && !(e->flags & (kDeleted | kFree)) &&
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

}  // namespace piramid::pg::hnsw
