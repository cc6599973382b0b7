// The element lifecycle of the hnsw index on pages: every change to an element tuple, its copy
// chain, its slot or the graph lock goes through these functions, and the am/ callbacks (build,
// insert, scan, vacuum, verify) only compose them. The rules they keep are written down in
// README.md beside this file (locking, WAL, what a crash can leave behind).
//
//   live     a graph element with heap TIDs (or with copies holding some): found by searches
//   deleted  a graph element whose rows are all dead: traversed by searches, never returned,
//            never chosen as a neighbour by a new insert (kDeleted)
//   free     removed from the graph by VACUUM: the slot may be reused by a new element of at
//            most its size (kFree)
//   copy     a kCopy element: more heap TIDs of the exact vector of a graph element, reached
//            only through that element's next_copy chain; never a graph node
//
// All functions call Postgres and may ereport: run them from C++ code inside call_pg() only.
#pragma once

extern "C" {
#include "postgres.h"
#include "access/genam.h"
#include "storage/lockdefs.h"
#include "utils/rel.h"
}

#include <utility>
#include <vector>

#include "pg/storage/buffer_store.hpp"
#include "pg/storage/page.hpp"

namespace piramid::pg::hnsw {

// --- The graph lock: the heavyweight page lock on the meta block. Every insert holds it in
// share mode for its whole run; VACUUM takes it exclusively for short batches (never across a
// pass) to wait for the inserts in flight. Scans never take it.
void lock_graph(Relation index, LOCKMODE mode);
void unlock_graph(Relation index, LOCKMODE mode);

// --- New elements
// Fills a new graph element tuple (size bytes: element_size(dims, m, level)) with one TID and
// empty neighbour lists.
void fill_element(char* tuple, Size size, int dims, int m, int level, const float* vec,
                  ItemPointer tid);
// Fills a wide element tuple (size: ext_element_size of the vector's lanes) with one TID and no
// list tuple yet (attach_lists gives it one).
void fill_ext_element(char* tuple, Size size, int dims, int level, const float* vec,
                      ItemPointer tid);
// Fills a list tuple (size: list_tuple_size(m, level)) with empty lists for `owner`.
void fill_list_tuple(char* tuple, Size size, int m, int level, NodeId owner);
// Points wide element id at its list tuple.
void attach_lists(Relation index, NodeId id, int dims, NodeId lists);
// Writes a tuple into a free slot (one of its exact size first, then new space, then a larger
// slot; walking forward from `hint` a bounded number of pages) or into new space, extending the
// index when needed; returns its id. A slot is reused in place: scans that still hold its old id
// recheck before returning rows. pin_min: the smallest tuple of the kind (free slots smaller than
// it do not hold the hint back); see allocate_tuple.
NodeId allocate_element(Relation index, BlockNumber hint, const char* tuple, Size size,
                        Size pin_min);
// The same for a list tuple, from meta.lists_hint (kept apart from the insert hint, which
// follows the wide elements' own, full pages).
NodeId allocate_list_tuple(Relation index, BlockNumber lists_hint, const char* tuple, Size size,
                           Size pin_min);
// Makes id the entry point when the graph is empty, or (unless only_if_empty) when its level is
// above the entry's. Reports the entry point as it was before.
void publish_entry(Relation index, NodeId id, int level, NodeId* entry, int* entry_level,
                   bool only_if_empty);

// --- Exact copies (byte-equal vectors)
// Adds tid to element id (a live graph element or a copy element) if it holds exactly this
// vector and has room for another TID.
bool add_tid_to_copy(Relation index, NodeId id, const float* vec, int dims, ItemPointer tid);
// True when id is a live graph element whose vector is byte for byte vec.
bool is_live_copy_of(Relation index, NodeId id, const float* vec, int dims);
// Stores tid for an exact copy of live graph element `anchor` whose own TID slots are full: in
// the first copy element of its chain when it has room, or in a new copy element linked at the
// head of the chain.
void add_tid_to_chain(Relation index, NodeId anchor, BlockNumber hint, const float* vec, int dims,
                      ItemPointer tid);

// --- Reading pages
// Calls fn(offset, element) for every element tuple of page blk (any state) under a share lock;
// nothing for a page that is not an element page. fn must not call Postgres.
template <class Fn>
void for_each_element(Relation index, BlockNumber blk, BufferAccessStrategy strategy, Fn&& fn);

// --- Reading rows
// Reads the heap TIDs of element id under a share lock: only from a live graph element when
// `graph_node` (and then only when accept(vector) holds: the caller rechecks the distance it
// met), only from a copy element otherwise. Returns the count and sets *next to the element's
// next copy (kInvalidNode when none or nothing was read).
template <class Accept>
int read_element_tids(Relation index, NodeId id, bool graph_node, Accept&& accept,
                      ItemPointerData* out, NodeId* next);

// Appends (distance to q, id) of every live graph element of page blk for which skip(id) is
// false, while out holds fewer than cap. A scan whose graph search is used up sweeps the pages
// this way, so that an iterative scan returns every live row even when the graph left some
// unreachable.
template <class Skip>
void sweep_page(Relation index, BlockNumber blk, const float* q, size_t dims, GraphDistance dist,
                Skip&& skip, std::vector<piramid::hnsw::Candidate>& out, size_t cap);

// --- VACUUM
// The live graph element with the highest level seen so far (the next entry point).
struct LiveBest {
    NodeId id = kInvalidNode;
    int level = -1;
};
// Pass 1 on one page: removes the heap TIDs the callback says are dead; appends graph elements
// left without TIDs of their own to `emptied` and those already deleted (an earlier VACUUM
// stopped early) to `deleted`; counts the TIDs kept.
void strip_page(Relation index, BlockNumber blk, BufferAccessStrategy strategy,
                IndexBulkDeleteCallback callback, void* cb_state, IndexBulkDeleteResult* stats,
                std::vector<NodeId>& deleted, std::vector<NodeId>& emptied, LiveBest& best);
// Whether graph element id and its whole copy chain hold no TID; appends the copies to `copies`
// when so. Run under the exclusive graph lock, so that no insert adds a TID meanwhile.
bool chain_is_empty(Relation index, NodeId id, std::vector<NodeId>& copies);
// Adds flag bits to an element (VACUUM marks kDeleted under the exclusive graph lock).
void set_flags(Relation index, NodeId id, uint8 add);
// Sets the entry point (when set_entry), the insert hint and the list tuple hint (each when
// valid) on the meta page.
void update_meta_after_vacuum(Relation index, NodeId entry, int entry_level, bool set_entry,
                              BlockNumber hint, BlockNumber lists_hint = InvalidBlockNumber);
// (element, level) pairs of live elements on page blk whose list names one of `deleted`
// (sorted).
void find_repairs(Relation index, BlockNumber blk, const MetaData& meta,
                  const std::vector<NodeId>& deleted, std::vector<std::pair<NodeId, int>>& out);
// Ids of the live graph elements on page blk.
void live_nodes_on_page(Relation index, BlockNumber blk, std::vector<NodeId>& out);
// Turns elements ids[0..n) of page blk into free slots.
void free_on_page(Relation index, BlockNumber blk, const NodeId* ids, size_t n);
// Empties every neighbour list of the given elements of block blk (VACUUM, before freeing them);
// for wide elements, appends their list tuples to list_tuples instead (the caller empties those
// with clear_lists_on_page too: a list tuple's lists are emptied like an element's).
void clear_lists_on_page(Relation index, BlockNumber blk, const MetaData& meta, const NodeId* ids,
                         size_t n, std::vector<NodeId>& list_tuples);

}  // namespace piramid::pg::hnsw

#include "pg/storage/elements_inl.hpp"
