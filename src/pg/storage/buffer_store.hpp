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

class BufferStore {
public:
    BufferStore(Relation index, const MetaData& meta);
    BufferStore(const BufferStore&) = delete;
    BufferStore& operator=(const BufferStore&) = delete;

    size_t dim() const { return dims_; }
    int m() const { return m_; }

    void distances(const float* query, std::span<const NodeId> ids, float* out, uint8_t* deleted);
    void neighbors(NodeId id, int level, std::vector<NodeId>& out);
    void vector(NodeId id, float* out);
    void set_neighbors(NodeId id, int level, std::span<const NodeId> list);
    bool update_neighbors(NodeId id, int level, std::span<const NodeId> expected,
                          std::span<const NodeId> replacement);

    // Drops every cached pin (normal paths only).
    void release_pins();
    // Forgets the pins without releasing them (after an ERROR released them already).
    void forget_pins();

private:
    static constexpr int kPinSlots = 32;
    struct PinSlot {
        BlockNumber blk;
        Buffer buf;
    };
    bool write_neighbors(NodeId id, int level, const NodeId* expected, size_t nexpected,
                         bool check, std::span<const NodeId> replacement);
    void init_recent(BlockNumber nblocks);
    const char* guess_page(BlockNumber blk) const;
    void prefetch_line_pointer(NodeId id) const;
    void prefetch_element(NodeId id) const;
    // Returns a pinned buffer for blk (Postgres calls: run inside call_pg only).
    Buffer pin(BlockNumber blk);

    Relation index_;
    size_t dims_;
    int m_;
    GraphDistance dist_;
    Buffer* recent_ = nullptr;  // backend-local block -> last buffer table (see pin())
    BlockNumber nrecent_ = 0;
    PinSlot pins_[kPinSlots];
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
