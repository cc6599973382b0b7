// The hnsw index on Postgres pages: block 0 is the meta page; every other page holds element
// tuples (standard line pointers, so GenericXLog computes compact deltas). Every page's special
// space ends in a 2-byte page id. See README "Index layout".
//
// Element tuple: ElementHeader, then the vector (dims x float4), then the neighbour lists: level
// 0 has 2m slots, each upper level m slots; unused slots hold kInvalidNode. An element too wide
// for that (vector(2000) at m = 16) holds the id of a list tuple instead (kExtLists). A node's id
// packs its block number and line pointer (block << 8 | offset), so a neighbour costs 4 bytes and
// leads straight to the page holding both its vector and its own neighbour list: one buffer access
// per expanded node, one per page of neighbours whose distance is computed.
#pragma once

extern "C" {
#include "postgres.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
#include "utils/rel.h"
}

#include <algorithm>
#include <cstdint>

#include "core/distance/lanes.hpp"
#include "core/hnsw/store.hpp"

namespace piramid::pg::hnsw {

using piramid::hnsw::kInvalidNode;
using piramid::hnsw::NodeId;

inline constexpr uint32 kMagic = 0x50524d44;  // "PRMD"
inline constexpr uint32 kFormatVersion = 1;
inline constexpr uint16 kPageId = 0xFF90;
inline constexpr BlockNumber kMetaBlock = 0;
inline constexpr int kMaxHeapTids = 9;
inline constexpr int kMaxLevel = 16;
inline constexpr int kNodeOffsetBits = 8;
inline constexpr BlockNumber kMaxBlocks = BlockNumber(1) << (32 - kNodeOffsetBits);

enum PageFlags : uint16 { kMetaPage = 1, kElementPage = 2 };

struct PageOpaque {
    uint16 flags;
    uint16 reserved1;
    uint16 reserved2;
    uint16 page_id;  // kPageId: the last two bytes of the page
};

struct MetaData {
    uint32 magic;
    uint32 version;
    uint32 dims;
    uint16 m;
    uint16 ef_construction;
    uint8 metric;       // piramid::distance::Metric
    uint8 max_level;    // highest level an element may have (fits a page)
    int16 entry_level;  // -1: empty graph
    NodeId entry;
    BlockNumber insert_hint;  // a page that may have room or a free slot
    // The column's dimensions when they differ from `dims`, which counts the 32-bit lanes an
    // element stores (core/distance/lanes.hpp: half and bit vectors pack 2 and 32 dimensions a
    // lane). 0 (every float index, and every index made before halfvec and bit): `dims`.
    uint32 type_dims;
    // Extra entry points (the seeds, stored after MetaData on the meta page): elements that the
    // in-link upkeep of an insert could not link from a node known to be reachable. Index scans
    // and the verifier start from them as well as from `entry`; VACUUM links them into the graph
    // and drops them. 0 in every index made before seeds existed.
    uint32 nseeds;
    // Where inserts put the list tuples of wide elements (kExtLists): a page that may have
    // room, so that list tuples share pages instead of each taking one beside a full element
    // page. 0: none yet (every index made before list tuples existed).
    BlockNumber lists_hint;
    uint32 reserved[1];
};

// At most this many seeds (4 KB of the meta page). Most indexes have none; most of those
// inserts report are reachable anyway (the report is conservative: see core/hnsw/insert.hpp,
// il_unlinked). Seeds that do not fit are left out with a WARNING asking for VACUUM.
inline constexpr uint32 kMaxSeeds = 1000;

// The column's dimensions (the type's: bits for bit, halves for halfvec).
inline uint32 meta_type_dims(const MetaData& meta) {
    return meta.type_dims != 0 ? meta.type_dims : meta.dims;
}

enum ElementFlags : uint8 {
    kDeleted = 1,  // no live heap TID; still part of the graph
    kFree = 2,     // removed from the graph by VACUUM; the slot may be reused
    kCopy = 4,     // holds heap TIDs of an exact copy of a graph element's vector; not a graph
                   // node: reached only through that element's next_copy chain
    // Layout, not state: a graph element too wide to hold its vector and its lists on one page
    // keeps them in a list tuple (wide element: header, vector, the list tuple's id).
    kExtLists = 8,
    // A list tuple: the neighbour lists of one wide element (its owner, in next_copy), levels
    // 0..level; never a graph node.
    kListTuple = 16,
};
// Flags of tuples that are not graph nodes (a stale link to one reads as deleted, no lists).
inline constexpr uint8 kNotNode = kFree | kCopy | kListTuple;

// Exact duplicates: up to kMaxHeapTids heap TIDs share one element; more copies of the same
// vector go to kCopy elements chained from it (next_copy), which are never graph nodes. So any
// number of identical vectors costs the graph one node and can never crowd out its links.
struct ElementHeader {
    uint8 level;
    uint8 flags;
    uint8 ntids;
    uint8 reserved;
    ItemPointerData tids[kMaxHeapTids];
    uint16 reserved2;
    NodeId next_copy;  // first kCopy element holding more TIDs of this vector, or kInvalidNode
};
static_assert(sizeof(ElementHeader) == 64);

inline NodeId pack_node(BlockNumber blk, OffsetNumber off) {
    return (static_cast<NodeId>(blk) << kNodeOffsetBits) | static_cast<NodeId>(off);
}
inline BlockNumber node_block(NodeId id) {
    return id >> kNodeOffsetBits;
}
inline OffsetNumber node_offset(NodeId id) {
    return static_cast<OffsetNumber>(id & ((1u << kNodeOffsetBits) - 1));
}

inline int level_capacity(int m, int level) {
    return level == 0 ? 2 * m : m;
}

// Sparse indexes (the sparsevec opclasses) store elements of variable length: the stored form
// of core/distance/lanes.hpp (nnz, indices, values), so the lists of an element start after its
// own nnz. Their meta.dims (lanes) is kSparseLanes, which no dense index has (2,000 lanes at
// most: vector(2000), halfvec(4000), bit(64000)); every layout function below takes the index's
// lanes as `dims` and works out an element's own lanes from it.
inline constexpr int kSparseLanes = static_cast<int>(distance::kSparseLanes);
inline bool sparse_index(int dims) {
    return dims == kSparseLanes;
}
// Lanes of a stored vector of an index with `dims` lanes (nnz capped at the index's maximum:
// a damaged element never sends a reader past its tuple's end).
inline int vector_lanes(const float* v, int dims) {
    if (!sparse_index(dims)) return dims;
    return 1 + 2 * static_cast<int>(std::min<uint32>(distance::sparse_nnz(v),
                                                     static_cast<uint32>(distance::kSparseMaxNnz)));
}

// `lanes`: the element's own (vector_lanes of its vector).
inline Size element_size(int lanes, int m, int level) {
    return MAXALIGN(sizeof(ElementHeader) + sizeof(float) * static_cast<Size>(lanes) +
                    sizeof(NodeId) * static_cast<Size>(2 * m + level * m));
}

// A kCopy element: header and vector (its own lanes), no neighbour lists.
inline Size copy_element_size(int lanes) {
    return MAXALIGN(sizeof(ElementHeader) + sizeof(float) * static_cast<Size>(lanes));
}

// The largest element tuple one page can hold.
inline Size max_element_size() {
    return BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(PageOpaque)) -
           sizeof(ItemIdData);
}

// Highest level an element of this shape (its own lanes) may have (-1: even level 0 does not
// fit).
inline int max_level_for(int lanes, int m) {
    int level = -1;
    while (level + 1 <= kMaxLevel && element_size(lanes, m, level + 1) <= max_element_size())
        ++level;
    return level;
}

// A wide element (kExtLists): header, vector (its own lanes), the id of its list tuple.
inline Size ext_element_size(int lanes) {
    return MAXALIGN(sizeof(ElementHeader) + sizeof(float) * static_cast<Size>(lanes) +
                    sizeof(NodeId));
}
// A list tuple (kListTuple) for levels 0..level.
inline Size list_tuple_size(int m, int level) {
    return MAXALIGN(sizeof(ElementHeader) + sizeof(NodeId) * static_cast<Size>(2 * m + level * m));
}
// Whether an element of these lanes and level keeps its lists in its own tuple.
inline bool lists_inline(int lanes, int m, int level) {
    return element_size(lanes, m, level) <= max_element_size();
}
// Highest level any element may have with list tuples (new indexes; older ones keep the
// max_level their meta page has, so their elements all fit inline).
inline int max_level_with_list_tuples(int m) {
    int level = 0;
    while (level + 1 <= kMaxLevel && list_tuple_size(m, level + 1) <= max_element_size()) ++level;
    return level;
}

inline float* element_vector(ElementHeader* e) {
    return reinterpret_cast<float*>(reinterpret_cast<char*>(e) + sizeof(ElementHeader));
}
// Lanes of an element's vector in an index with `dims` lanes.
inline int element_lanes(ElementHeader* e, int dims) {
    return vector_lanes(element_vector(e), dims);
}
// The lists of an element that keeps them inline (not kExtLists), or of a list tuple (dims is
// then ignored).
inline NodeId* element_neighbors(ElementHeader* e, int dims, int m, int level) {
    NodeId* base =
        (e->flags & kListTuple)
            ? reinterpret_cast<NodeId*>(reinterpret_cast<char*>(e) + sizeof(ElementHeader))
            : reinterpret_cast<NodeId*>(element_vector(e) + element_lanes(e, dims));
    return level == 0 ? base : base + 2 * m + (level - 1) * m;
}
// The list tuple id slot of a wide element (kExtLists).
inline NodeId* element_lists_at(ElementHeader* e, int dims) {
    return reinterpret_cast<NodeId*>(element_vector(e) + element_lanes(e, dims));
}

inline PageOpaque* page_opaque(Page page) {
    return reinterpret_cast<PageOpaque*>(PageGetSpecialPointer(page));
}
inline MetaData* page_meta(Page page) {
    return reinterpret_cast<MetaData*>(PageGetContents(page));
}
inline NodeId* page_seeds(Page page) {
    return reinterpret_cast<NodeId*>(reinterpret_cast<char*>(page_meta(page)) +
                                     MAXALIGN(sizeof(MetaData)));
}

// Initialises an empty page of the given kind.
void init_page(Page page, uint16 flags);
// Initialises the meta page contents (pd_lower set so full-page images keep it).
void init_meta_page(Page page, const MetaData& meta);
// True when the page has our page id and the expected flags.
bool page_is(Page page, uint16 flags);

// Copies block blk of the index into dst (BLCKSZ bytes) under a share lock. Postgres calls:
// run inside call_pg from C++ code.
void copy_page(Relation index, BlockNumber blk, char* dst);

// Reads the meta page (shared lock), raising an ERROR when it is not a valid piramid meta page.
MetaData read_meta(Relation index);

// Copies the seeds (at most kMaxSeeds) into out; returns how many. Postgres calls.
uint32 read_seeds(Relation index, NodeId* out);
// Removes the seeds listed in `gone` (n of them, VACUUM) and adds `added` (k of them;
// duplicates and seeds already present are skipped). Seeds that do not fit are left out with a
// WARNING, raised after the meta page is unlocked. Postgres calls.
void update_seeds(Relation index, const NodeId* gone, uint32 n, const NodeId* added, uint32 k);
// update_seeds(index, nullptr, 0, ids, n).
void add_seeds(Relation index, const NodeId* ids, uint32 n);

}  // namespace piramid::pg::hnsw
