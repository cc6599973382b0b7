// NodeStore (src/core/hnsw/store.hpp) on shared buffers: the graph algorithms in src/core run
// against the index pages through this class. Every Postgres call happens inside call_pg(), so
// a Postgres ERROR surfaces as a C++ exception that the entry point's guard re-raises.
//
// Pins: a small direct-mapped cache keeps recently used pages pinned, so revisiting a page (the
// upper levels, the entry point, neighbours placed on the same page by the build) costs a lock,
// not a buffer-table lookup. Content locks are held only while one page is read or written,
// never two at once. release_pins() must be called on every normal path; after an ERROR the
// resource owner drops the pins and this object must not touch them again.
#pragma once

#include "pg/guard.hpp"

extern "C" {
#include "storage/bufmgr.h"
#include "utils/rel.h"
}

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "core/distance/distance.hpp"
#include "core/hnsw/insert.hpp"
#include "core/hnsw/store.hpp"
#include "pg/storage/page.hpp"

namespace piramid::pg::hnsw {

// Distance used by the graph for a metric: l2sq, -dot (inner product and normalised cosine), l1.
using GraphDistance = float (*)(const float*, const float*, size_t);
GraphDistance graph_distance(distance::Metric metric);

// The distance the graph works with: NaN (possible from infinite products) reads as the largest
// float, as BufferStore::distances() reports it.
inline float graph_distance_value(GraphDistance dist, const float* a, const float* b, size_t n) {
    const float d = dist(a, b, n);
    return d != d ? std::numeric_limits<float>::max() : d;
}

// The longest chain of copy elements followed from one graph element (scans, VACUUM, verify).
inline constexpr int kMaxCopyHops = 100000;

class BufferStore {
  public:
    BufferStore(Relation index, const MetaData& meta);
    ~BufferStore();
    BufferStore(const BufferStore&) = delete;
    BufferStore& operator=(const BufferStore&) = delete;

    size_t dim() const { return dims_; }
    // Lanes vector v uses (core/hnsw/search.hpp, vector_lanes): dim() except in a sparse index,
    // where a query may also be longer than any element.
    size_t lanes(const float* v) const {
        return sparse_index(static_cast<int>(dims_)) ? distance::sparse_lanes(v) : dims_;
    }
    int m() const { return m_; }

    // Distances to graph nodes. A slot that is not a graph node any more (freed, or reused for
    // a copy element) reads as deleted at the largest distance; a NaN (a vector being
    // rewritten while read without the content lock) reads as the largest distance.
    void distances(const float* query, std::span<const NodeId> ids, float* out, uint8_t* deleted);
    // Neighbour list; empty for a slot that is not a graph node (freed, copy) or lacks level.
    void neighbors(NodeId id, int level, std::vector<NodeId>& out);
    // Like neighbors(), and reports the element's flags (kFree for a slot that holds no graph
    // node at all).
    uint8_t neighbors_flags(NodeId id, int level, std::vector<NodeId>& out);
    void vector(NodeId id, float* out);
    void set_neighbors(NodeId id, int level, std::span<const NodeId> list);
    bool update_neighbors(NodeId id, int level, std::span<const NodeId> expected,
                          std::span<const NodeId> replacement);

    // Drops every cached pin (normal paths only).
    void release_pins();
    // Forgets the pins without releasing them (after an ERROR released them already).
    void forget_pins();

    // Buffers pinned so far (a page read again through the pin cache is not counted twice).
    uint64_t pages_pinned() const { return pages_pinned_; }

  private:
    static constexpr int kPinSlots = 32;
    struct PinSlot {
        BlockNumber blk;
        Buffer buf;
    };
    bool write_neighbors(NodeId id, int level, const NodeId* expected, size_t nexpected, bool check,
                         std::span<const NodeId> replacement);
    void init_recent(BlockNumber nblocks);
    const char* guess_page(BlockNumber blk) const;
    void prefetch_line_pointer(NodeId id) const;
    void prefetch_element(NodeId id) const;
    // Returns a pinned buffer for blk (Postgres calls: run inside call_pg only).
    Buffer pin(BlockNumber blk);

    Relation index_;
    RelFileNode node_;  // copied: the destructor may run after the relation is closed
    size_t dims_;
    int m_;
    GraphDistance dist_;
    // Block -> buffer that last held it (see pin()). Owned by this store alone: any number of
    // stores on one index may be alive in a backend (nested loops, LATERAL, cursors), and none
    // may see another's table move. A table is parked in a small per-backend cache when its
    // store ends and taken over by the next store on the same index, so hints survive across
    // queries.
    std::vector<Buffer> recent_table_;
    Buffer* recent_ = nullptr;
    BlockNumber nrecent_ = 0;
    PinSlot pins_[kPinSlots];
    uint64_t pages_pinned_ = 0;
    // Scratch for grouping ids by page.
    std::vector<uint32_t> order_;
};

// The graph parameters an index was built with (for insert, repair and relinking).
inline piramid::hnsw::Params graph_params(const MetaData& meta) {
    piramid::hnsw::Params p{};
    p.dim = meta.dims;
    p.metric = static_cast<distance::Metric>(meta.metric);
    p.m = meta.m;
    p.ef_construction = meta.ef_construction;
    p.max_level = meta.max_level;
    return p;
}

// Locates an element on a locked page; nullptr when the slot is not a normal element tuple.
ElementHeader* element_at(Page page, OffsetNumber off);

}  // namespace piramid::pg::hnsw
