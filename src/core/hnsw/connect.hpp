// Level-0 connectivity of an HNSW graph over any NodeStore: a walk that marks what index scans
// can reach (they descend the upper levels to one node, then walk level 0 only), and link_in(),
// which gives an unreached node an in-link from the reached part. VACUUM runs both over the
// whole index (src/pg/am/vacuum.cpp); the in-memory builder has its own pass.
//
// In-link checks during inserts (ensure_in_link) keep every node linked from some live node,
// but a group of nodes can still end up linked only among themselves (a tight cluster whose
// links to the rest were all pruned in favour of closer ones); this pass is what joins such
// groups back.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/hnsw/insert.hpp"
#include "core/hnsw/search.hpp"
#include "core/hnsw/store.hpp"

namespace piramid::hnsw {

// Marks every node reachable over level 0 from the (already marked) nodes in `stack`, which it
// consumes. traverse(id, list) fills list with id's level-0 neighbours and returns false for a
// node the walk must not pass through (deleted: about to be removed). reached: test(id) and
// set(id) (set returns false when the bit was set already). step() is called every 1024 nodes
// (interrupt checks, releasing pins).
template <class Reached, class Traverse, class Step>
void walk_level0(Reached& reached, std::vector<NodeId>& stack, Traverse&& traverse, Step&& step) {
    std::vector<NodeId> list;
    size_t steps = 0;
    while (!stack.empty()) {
        const NodeId id = stack.back();
        stack.pop_back();
        if (!traverse(id, list)) continue;
        for (NodeId nb : list)
            if (reached.set(nb)) stack.push_back(nb);
        if ((++steps & 1023) == 0) step();
    }
}

// Gives node x (vector xv, not reached) an in-link from a reached live node: from its own
// neighbours when one of them is reached, else from the reached nodes closest to it, found by a
// search of level 0 that starts inside the reached part, else (all of those are full: under
// inner product they are the few large-norm vectors everyone links to) by an append to the
// closest of `roomy`, reached live nodes whose level-0 list has room (the caller collects them
// during its walk; full ones are dropped from it here). Returns whether it worked.
template <class S, class V, class Reached>
bool link_in(S& store, NodeId x, const float* xv, NodeId entry, int entry_level,
             const Params& graph_params, ScratchT<V>& sc, const Reached& reached,
             std::vector<NodeId>& roomy) {
    // Under inner product nothing is displaced here either (measured: recall 0.87 on
    // low-dimensional data); only the path-preserving replacement of ensure_in_link's last
    // resort, over the reached search results.
    const Params& params = graph_params;
    auto source = [&reached](NodeId p) { return reached.test(p); };
    sc.il_pool.clear();
    if (ensure_in_link(store, x, params, sc, source)) return true;
    if (entry == kInvalidNode) return false;
    NodeId start = entry;
    if (entry_level > 0) {
        const NodeId landing = greedy_descent(store, xv, entry, entry_level, 0, sc.search).id;
        if (reached.test(landing)) start = landing;
    }
    sc.entries.assign(1, start);
    const size_t ef =
        std::max<size_t>(static_cast<size_t>(params.ef_construction), level_capacity(params, 0));
    search_layer(store, xv, std::span<const NodeId>(sc.entries), ef, 0, sc.visited, sc.search,
                 sc.results);
    std::vector<NodeId> hints;
    for (const Candidate& c : sc.results)
        if (c.id != x && reached.test(c.id)) hints.push_back(c.id);
    sc.il_pool.assign(hints.begin(), hints.end());  // ensure_in_link's last resort
    if (!hints.empty() &&
        ensure_in_link(store, x, params, sc, source, std::span<const NodeId>(hints)))
        return true;
    // The closest reached node with room.
    std::erase(roomy, x);
    std::vector<float> d(roomy.size());
    std::vector<uint8_t> del(roomy.size(), 0);
    store.distances(xv, std::span<const NodeId>(roomy), d.data(), del.data());
    std::vector<Candidate> order;
    for (size_t i = 0; i < roomy.size(); ++i)
        if (!del[i]) order.push_back(Candidate{d[i], roomy[i]});
    std::sort(order.begin(), order.end(), closer);
    const size_t cap = level_capacity(params, 0);
    for (const Candidate& c : order) {
        if (detail::append_link(store, c.id, 0, x, cap, sc)) return true;
        std::erase(roomy, c.id);  // full now
    }
    return false;
}

// The walk's traverse() helper for link_in's `roomy` pool: records id when its level-0 list
// has room, up to `limit` nodes.
inline void note_room(std::vector<NodeId>& roomy, NodeId id, size_t list_size, size_t cap,
                      size_t limit = 4096) {
    if (list_size < cap && roomy.size() < limit) roomy.push_back(id);
}

}  // namespace piramid::hnsw
