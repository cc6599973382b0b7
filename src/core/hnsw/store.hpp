// The NodeStore contract that the HNSW algorithms (search, neighbour selection, insert, repair)
// are written against. Implementations: the builder's graph (src/core/hnsw/builder.hpp), the
// Postgres buffer store in src/pg/storage (the index on pages), and a simple in-memory store
// that the unit tests use as the reference (test/unit/memory_store.hpp).
//
// A NodeStore type S provides (all members may throw piramid::Error; none may call back into the
// algorithms):
//
//   size_t dim() const;                       // vector dimensions
//   // Distance from `query` to each node in ids (same metric as the index; smaller is closer).
//   // When `deleted` is not null, deleted[i] is set to 1 for nodes marked deleted, else 0.
//   // Implementations may reorder their own accesses (e.g. group by page) but write out[i]
//   // for ids[i].
//   void distances(const float* query, std::span<const NodeId> ids, float* out,
//                  uint8_t* deleted);
//   // Copies the neighbour list of `id` at `level` into out (out is cleared first). A node
//   // without that level yields an empty list. kInvalidNode never appears in out.
//   void neighbors(NodeId id, int level, std::vector<NodeId>& out);
//   // Copies the vector of `id` into out[0..dim).
//   void vector(NodeId id, float* out);
//   // Replaces the neighbour list of `id` at `level` (size <= capacity of that level).
//   void set_neighbors(NodeId id, int level, std::span<const NodeId> list);
//   // Compare-and-swap of one neighbour list: writes `replacement` only if the current list of
//   // `id` at `level` equals `expected` (same ids, same order), atomically with respect to other
//   // writers of that list. Returns false, writing nothing, otherwise: the caller re-reads the
//   // list and retries. This is how concurrent inserts add back-links without losing updates.
//   bool update_neighbors(NodeId id, int level, std::span<const NodeId> expected,
//                         std::span<const NodeId> replacement);
//
// Optional fast path: a store whose vectors stay at a fixed address may also provide
//   const float* vector_ptr(NodeId id);      // the stored vector itself, no copy
// The algorithms use it instead of vector() when present (detected at compile time).
//
// Capacities: a list holds at most 2*m ids at level 0 and m ids at the upper levels (m is the
// index option). The algorithms never write more.
//
// Node ids are opaque 32-bit values chosen by the store (dense indexes in memory, packed
// block/offset on pages).
#pragma once

#include <cstdint>
#include <limits>

namespace piramid::hnsw {

using NodeId = uint32_t;
inline constexpr NodeId kInvalidNode = std::numeric_limits<NodeId>::max();

struct Candidate {
    float dist;
    NodeId id;
};

// Orders candidates by distance, ties by id: deterministic results.
inline bool closer(const Candidate& a, const Candidate& b) {
    return a.dist < b.dist || (a.dist == b.dist && a.id < b.id);
}

}  // namespace piramid::hnsw
