// HNSW search over any NodeStore (store.hpp): greedy descent through the upper levels, the
// ef-bounded best-first search of one level, and a resumable layer-0 searcher for index scans.
//
// All functions are templates over the store type S; they allocate only when a scratch vector
// has to grow, so a warmed-up scratch makes a search allocation-free. Each expanded node costs
// exactly one store.neighbors() call and at most one batched store.distances() call (only for
// the neighbours not visited yet).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <vector>

#include "core/hnsw/store.hpp"
#include "core/hnsw/visited.hpp"

namespace piramid::hnsw {

// Heap orderings over Candidate: std heaps keep the "largest" element in front.
struct NearestOnTop {  // min-heap: the closest candidate in front
    bool operator()(const Candidate& a, const Candidate& b) const { return closer(b, a); }
};
struct FarthestOnTop {  // max-heap: the farthest candidate in front
    bool operator()(const Candidate& a, const Candidate& b) const { return closer(a, b); }
};

// Reused buffers of one searching thread, plus work counters (never reset by the algorithms).
struct SearchScratch {
    std::vector<NodeId> nbrs;      // one neighbour list
    std::vector<NodeId> fresh;     // its not-yet-visited part
    std::vector<float> dists;      // distances of `fresh`
    std::vector<uint8_t> deleted;  // deleted flags of `fresh`
    std::vector<Candidate> cand;   // search frontier (min-heap)
    std::vector<Candidate> top;    // best results so far (max-heap)
    uint64_t distance_computations = 0;
    uint64_t nodes_expanded = 0;

    // Distances of scratch.fresh from q into dists/deleted (sized to match).
    template <class S>
    void measure(S& store, const float* q, bool want_deleted) {
        dists.resize(fresh.size());
        deleted.resize(fresh.size());
        if (want_deleted) std::fill(deleted.begin(), deleted.end(), 0);
        store.distances(q, std::span<const NodeId>(fresh), dists.data(),
                        want_deleted ? deleted.data() : nullptr);
        distance_computations += fresh.size();
    }
};

namespace detail {

// A pointer to id's vector: the store's own memory when it offers vector_ptr(), else a copy in
// buf (buf must hold dim floats).
template <class S>
const float* vector_of(S& store, NodeId id, float* buf) {
    if constexpr (requires { store.vector_ptr(id); }) {
        (void)buf;
        return store.vector_ptr(id);
    } else {
        store.vector(id, buf);
        return buf;
    }
}

// Lanes that vector v uses: store.dim() for fixed-size elements; a store of variable-length
// elements (sparse vectors, core/distance/lanes.hpp) says so by providing lanes(v). Buffers still
// hold store.dim() lanes, the most an element uses; a query may use more (store.lanes(q)).
template <class S>
size_t vector_lanes(const S& store, const float* v) {
    if constexpr (requires { store.lanes(v); })
        return store.lanes(v);
    else
        return store.dim();
}

// Whether two stored vectors are byte for byte the same (exact duplicates).
template <class S>
bool same_vector(const S& store, const float* a, const float* b) {
    const size_t la = vector_lanes(store, a);
    return la == vector_lanes(store, b) && std::memcmp(a, b, la * sizeof(float)) == 0;
}

}  // namespace detail

// Greedy search from `entry` (a node present on entry_level) down through the levels
// entry_level .. target_level + 1: on each level, move to the closest neighbour while that is
// closer. Returns the node reached (and its distance): the entry point for a search on
// target_level. target_level = -1 also descends greedily on level 0. Deleted nodes are used as
// stepping stones like any other node.
template <class S>
Candidate greedy_descent(S& store, const float* q, NodeId entry, int entry_level, int target_level,
                         SearchScratch& sc) {
    sc.fresh.assign(1, entry);
    sc.measure(store, q, false);
    Candidate cur{sc.dists[0], entry};
    for (int level = entry_level; level > target_level; --level) {
        for (;;) {
            store.neighbors(cur.id, level, sc.nbrs);
            ++sc.nodes_expanded;
            if (sc.nbrs.empty()) break;
            sc.fresh.assign(sc.nbrs.begin(), sc.nbrs.end());
            sc.measure(store, q, false);
            const Candidate before = cur;
            for (size_t i = 0; i < sc.fresh.size(); ++i) {
                const Candidate c{sc.dists[i], sc.fresh[i]};
                if (closer(c, cur)) cur = c;
            }
            // `closer` is a strict total order, so each move strictly improves: no cycles.
            if (cur.id == before.id) break;
        }
    }
    return cur;
}

template <class S>
Candidate greedy_descent(S& store, const float* q, NodeId entry, int entry_level,
                         int target_level) {
    SearchScratch sc;
    return greedy_descent(store, q, entry, entry_level, target_level, sc);
}

// Best-first search of one level from `entries`, keeping the ef closest live nodes. Deleted
// nodes are traversed (they keep the graph connected) but never appear in `results`. results
// is sorted closest first, ties by id. `visited` (VisitedSet or DenseVisitedSet) is cleared
// first and holds every node whose distance was computed afterwards.
template <class S, class V>
void search_layer(S& store, const float* q, std::span<const NodeId> entries, size_t ef, int level,
                  V& visited, SearchScratch& sc, std::vector<Candidate>& results) {
    if (ef == 0) ef = 1;
    results.clear();
    visited.clear();
    sc.cand.clear();
    sc.top.clear();
    sc.fresh.clear();
    for (NodeId e : entries)
        if (e != kInvalidNode && visited.insert(e)) sc.fresh.push_back(e);
    if (sc.fresh.empty()) return;
    sc.measure(store, q, true);

    auto offer = [&](const Candidate& c, bool is_deleted) {
        sc.cand.push_back(c);
        std::push_heap(sc.cand.begin(), sc.cand.end(), NearestOnTop{});
        if (is_deleted) return;
        sc.top.push_back(c);
        std::push_heap(sc.top.begin(), sc.top.end(), FarthestOnTop{});
        if (sc.top.size() > ef) {
            std::pop_heap(sc.top.begin(), sc.top.end(), FarthestOnTop{});
            sc.top.pop_back();
        }
    };
    for (size_t i = 0; i < sc.fresh.size(); ++i)
        offer(Candidate{sc.dists[i], sc.fresh[i]}, sc.deleted[i] != 0);

    while (!sc.cand.empty()) {
        const Candidate c = sc.cand.front();
        if (sc.top.size() >= ef && c.dist > sc.top.front().dist) break;
        std::pop_heap(sc.cand.begin(), sc.cand.end(), NearestOnTop{});
        sc.cand.pop_back();

        store.neighbors(c.id, level, sc.nbrs);
        ++sc.nodes_expanded;
        sc.fresh.clear();
        for (NodeId n : sc.nbrs)
            if (visited.insert(n)) sc.fresh.push_back(n);
        if (sc.fresh.empty()) continue;
        sc.measure(store, q, true);
        for (size_t i = 0; i < sc.fresh.size(); ++i) {
            const float d = sc.dists[i];
            // Strictly closer than the current worst: a crowd of exact duplicates (all at the
            // same distance) cannot keep the search going forever.
            if (sc.top.size() < ef || d < sc.top.front().dist)
                offer(Candidate{d, sc.fresh[i]}, sc.deleted[i] != 0);
        }
    }
    results.assign(sc.top.begin(), sc.top.end());
    std::sort(results.begin(), results.end(), closer);
}

// The resumable layer-0 search behind an index scan.
//
//   Searcher<S> s;
//   s.set_visit_cap(n);                    // optional memory bound (nodes whose distance is known)
//   s.start(store, q, entry, entry_level); // greedy descent to level 0
//   s.next_batch(ef, out);                 // 1st call: the ef closest (standard HNSW search)
//   s.next_batch(ef, out);                 // later: the next up-to-ef nodes, continuing
//
// Later batches continue the best-first search from where the previous one stopped: from the
// unexpanded frontier and from the nodes that the ef bound pushed out. Every live node is
// returned at most once; batches come in approximately increasing distance (a later batch can
// hold a node closer than some earlier one when the graph leads there late). For strict order
// the caller holds results back until their distance is <= frontier_min(). Deleted nodes are
// traversed but never returned. When the visit cap is reached no new node is discovered; the
// nodes already found are still handed out, then the searcher is exhausted.
//
// The store must outlive the searcher's use; the query is copied.
template <class S>
class Searcher {
  public:
    Searcher() = default;

    // Maximum number of nodes whose distance the search may compute (>= 1).
    void set_visit_cap(size_t cap) { cap_ = std::max<size_t>(cap, 1); }

    // `seeds`: extra level-0 starting points (nodes that may be linked from nowhere).
    void start(S& store, const float* q, NodeId entry, int entry_level,
               std::span<const NodeId> seeds = {}) {
        store_ = &store;
        query_.assign(q, q + detail::vector_lanes(store, q));
        visited_.clear();
        frontier_.clear();
        pending_.clear();
        batch_.clear();
        deferred_.clear();
        capped_ = false;
        sc_.distance_computations = 0;
        sc_.nodes_expanded = 0;
        entry_ = entry;
        if (entry == kInvalidNode) return;
        const Candidate e = greedy_descent(store, query_.data(), entry, entry_level, 0, sc_);
        visited_.insert(e.id);
        sc_.fresh.assign(1, e.id);
        sc_.measure(store, query_.data(), true);  // the deleted flag of the entry
        push_frontier(e);
        if (!sc_.deleted[0]) push_pending(e);
        sc_.fresh.clear();
        for (NodeId s : seeds)
            if (s != kInvalidNode && visited_.insert(s)) sc_.fresh.push_back(s);
        if (sc_.fresh.empty()) return;
        sc_.measure(store, query_.data(), true);
        for (size_t i = 0; i < sc_.fresh.size(); ++i) {
            const Candidate c{sc_.dists[i], sc_.fresh[i]};
            push_frontier(c);
            if (!sc_.deleted[i]) push_pending(c);
        }
    }

    // Writes the next batch (up to ef nodes, sorted closest first) into out; returns its size.
    // An empty batch means the searcher is exhausted.
    size_t next_batch(size_t ef, std::vector<Candidate>& out) {
        out.clear();
        if (store_ == nullptr) return 0;
        if (ef == 0) ef = 1;
        for (const Deferred& d : deferred_) {
            push_frontier(d.c);
            if (!d.deleted) push_pending(d.c);
        }
        deferred_.clear();

        // The batch under construction (max-heap) starts as the best nodes already found.
        batch_.clear();
        while (batch_.size() < ef && !pending_.empty()) {
            batch_.push_back(pending_.front());
            std::pop_heap(pending_.begin(), pending_.end(), NearestOnTop{});
            pending_.pop_back();
            std::push_heap(batch_.begin(), batch_.end(), FarthestOnTop{});
        }

        S& store = *store_;
        for (;;) {
            while (!capped_ && !frontier_.empty()) {
                const Candidate c = frontier_.front();
                if (batch_.size() >= ef && c.dist > batch_.front().dist) break;
                std::pop_heap(frontier_.begin(), frontier_.end(), NearestOnTop{});
                frontier_.pop_back();

                store.neighbors(c.id, 0, sc_.nbrs);
                ++sc_.nodes_expanded;
                sc_.fresh.clear();
                for (NodeId n : sc_.nbrs) {
                    if (visited_.size() >= cap_) {
                        capped_ = true;
                        break;
                    }
                    if (visited_.insert(n)) sc_.fresh.push_back(n);
                }
                if (sc_.fresh.empty()) continue;
                sc_.measure(store, query_.data(), true);
                for (size_t i = 0; i < sc_.fresh.size(); ++i) {
                    const Candidate n{sc_.dists[i], sc_.fresh[i]};
                    const bool is_deleted = sc_.deleted[i] != 0;
                    if (batch_.size() < ef || n.dist < batch_.front().dist) {
                        push_frontier(n);
                        if (is_deleted) continue;
                        batch_.push_back(n);
                        std::push_heap(batch_.begin(), batch_.end(), FarthestOnTop{});
                        if (batch_.size() > ef) {
                            std::pop_heap(batch_.begin(), batch_.end(), FarthestOnTop{});
                            push_pending(batch_.back());
                            batch_.pop_back();
                        }
                    } else {
                        // Beyond this batch's bound: kept unsorted (cheap) until a later batch.
                        deferred_.push_back(Deferred{n, is_deleted});
                    }
                }
            }
            // Level 0 as seen from the descent's landing node is used up: continue from the entry
            // point's level-0 node too, so that a scan reaches everything that is reachable from
            // the entry point (which VACUUM keeps true of every live node).
            if (batch_.size() >= ef || !reseed()) break;
        }
        out.assign(batch_.begin(), batch_.end());
        std::sort(out.begin(), out.end(), closer);
        batch_.clear();
        return out.size();
    }

    // The smallest distance among nodes that a later next_batch may still return or expand
    // (unexpanded candidates and found-but-not-returned nodes); +infinity when none.
    float frontier_min() const {
        float m = kInf;
        if (!pending_.empty()) m = pending_.front().dist;
        for (const Deferred& d : deferred_)
            if (!d.deleted || !capped_) m = std::min(m, d.c.dist);
        if (!capped_ && !frontier_.empty()) m = std::min(m, frontier_.front().dist);
        return m;
    }

    // True when next_batch can return nothing more.
    bool exhausted() const {
        if (store_ == nullptr) return true;
        if (!pending_.empty()) return false;
        if (can_reseed()) return false;
        for (const Deferred& d : deferred_)
            if (!d.deleted || !capped_) return false;
        return capped_ || frontier_.empty();
    }

    uint64_t distance_computations() const { return sc_.distance_computations; }
    uint64_t nodes_expanded() const { return sc_.nodes_expanded; }
    size_t visited() const { return visited_.size(); }
    bool was_visited(NodeId id) const { return visited_.contains(id); }
    bool capped() const { return capped_; }

  private:
    static constexpr float kInf = std::numeric_limits<float>::infinity();
    struct Deferred {
        Candidate c;
        bool deleted;
    };

    bool can_reseed() const {
        return !capped_ && frontier_.empty() && entry_ != kInvalidNode &&
               !visited_.contains(entry_);
    }
    // Adds the entry point to the frontier when the frontier is empty and it was not visited.
    bool reseed() {
        if (!can_reseed()) return false;
        visited_.insert(entry_);
        sc_.fresh.assign(1, entry_);
        sc_.measure(*store_, query_.data(), true);
        const Candidate e{sc_.dists[0], entry_};
        push_frontier(e);
        if (!sc_.deleted[0]) {
            batch_.push_back(e);
            std::push_heap(batch_.begin(), batch_.end(), FarthestOnTop{});
        }
        return true;
    }

    void push_frontier(const Candidate& c) {
        frontier_.push_back(c);
        std::push_heap(frontier_.begin(), frontier_.end(), NearestOnTop{});
    }
    void push_pending(const Candidate& c) {
        pending_.push_back(c);
        std::push_heap(pending_.begin(), pending_.end(), NearestOnTop{});
    }

    S* store_ = nullptr;
    NodeId entry_ = kInvalidNode;
    size_t cap_ = std::numeric_limits<size_t>::max();
    bool capped_ = false;
    std::vector<float> query_;
    VisitedSet visited_;
    SearchScratch sc_;
    std::vector<Candidate> frontier_;  // unexpanded nodes (min-heap), deleted ones included
    std::vector<Candidate> pending_;   // live nodes found, not returned, not in a batch (min-heap)
    std::vector<Candidate> batch_;     // the batch being built (max-heap)
    std::vector<Deferred> deferred_;   // found beyond the last batch's bound, not yet sorted
};

}  // namespace piramid::hnsw
