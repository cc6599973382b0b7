// HNSW insertion and neighbour-list repair over any NodeStore (store.hpp).
//
// Concurrency: several threads (or backends) may insert into the same store at once. A node's
// own lists are written with set_neighbors (nobody else writes them before the node is linked);
// back-links into existing nodes go through update_neighbors (compare-and-swap) and are retried
// when another writer changed the list in between, so no update is lost.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "core/distance/distance.hpp"
#include "core/hnsw/search.hpp"
#include "core/hnsw/select.hpp"
#include "core/hnsw/space.hpp"
#include "core/hnsw/store.hpp"
#include "core/hnsw/visited.hpp"

namespace piramid::hnsw {

struct Params {
    size_t dim = 0;
    distance::Metric metric = distance::Metric::kL2;
    int m = 16;                // list capacity: 2m at level 0, m above
    int ef_construction = 64;  // search width while inserting
    uint64_t seed = 0;         // level RNG seed (builder)
    int max_level = 16;        // levels are drawn in 0..max_level (builder)
    // Keep every node reachable over level 0: after a prune drops a node from a list (and after
    // a new node's back-links all lost), check that some live node still links to it, and give
    // it an in-link when none does (ensure_in_link). The on-disk index needs it; the in-memory
    // builder turns it off and runs its own reachability pass at the end instead.
    bool keep_in_links = true;
};

inline size_t level_capacity(const Params& p, int level) {
    return static_cast<size_t>(level == 0 ? 2 * p.m : p.m);
}

// Reused buffers of one inserting thread. V: VisitedSet (sparse ids) or DenseVisitedSet.
template <class V = VisitedSet>
struct ScratchT {
    SearchScratch search;
    SelectScratch select;
    V visited;
    std::vector<Candidate> results;
    std::vector<Candidate> selected;
    std::vector<Candidate> cands;
    std::vector<NodeId> entries;
    std::vector<NodeId> list;                       // a list as read from the store
    std::vector<NodeId> other;                      // a second list (2-hop reads)
    std::vector<NodeId> replacement;                // the list to write
    std::vector<float> vec;                         // one vector copy
    std::vector<float> copy, copy2;                 // more vector copies
    std::vector<std::pair<NodeId, NodeId>> splice;  // (kept copy, dropped node)
    std::vector<std::vector<Candidate>> per_level;  // insert: chosen neighbours per level
    std::vector<Candidate> found0;                  // insert: level-0 search results
    // ensure_in_link's own buffers (it runs while the ones above are in use)
    std::vector<NodeId> il_work, il_work_from, il_hints, il_list, il_repl, il_dropped;
    std::vector<NodeId> il_newlist;  // the pruned list as written (keep_dropped_reachable)
    // Nodes known to be reachable without the new node (an insert's level-0 search results,
    // VACUUM's reached search results): ensure_in_link's last resort for a node without given
    // candidates when no candidate list can take it.
    std::vector<NodeId> il_pool;
    // Nodes the in-link upkeep could not link from a node known to be reachable (appended, never
    // cleared here): the caller makes them extra entry points (see link_insert).
    std::vector<NodeId> il_unlinked;
    std::vector<NodeId> il_xlist;  // x's own list (append_to_pool)
    std::vector<NodeId> il_given;  // the given candidates (ensure_in_link's last resort)
    std::vector<NodeId> il_hop;    // the pool's neighbours (append_to_pool)
    std::vector<float> il_hopdist;
    std::vector<uint8_t> il_hopdel;
    std::vector<Candidate> il_hoporder;
    std::vector<float> il_dists, il_vec, il_vec2, il_vecs;
    std::vector<uint8_t> il_deleted;
    std::vector<Candidate> il_order;
};
using Scratch = ScratchT<VisitedSet>;

namespace detail {

// Retries of one compare-and-swap before giving up on that back-link: only reached under
// pathological contention; a missing back-link costs a little recall, never correctness.
inline constexpr int kMaxCasRetries = 1000;

// Appends x to the list of id at level when there is room (and x is not there yet). Returns
// whether id links to x afterwards.
template <class S, class V>
bool append_link(S& store, NodeId id, int level, NodeId x, size_t cap, ScratchT<V>& sc) {
    for (int attempt = 0; attempt < kMaxCasRetries; ++attempt) {
        store.neighbors(id, level, sc.list);
        if (std::find(sc.list.begin(), sc.list.end(), x) != sc.list.end()) return true;
        if (sc.list.size() >= cap) return false;
        sc.replacement.assign(sc.list.begin(), sc.list.end());
        sc.replacement.push_back(x);
        if (store.update_neighbors(id, level, std::span<const NodeId>(sc.list),
                                   std::span<const NodeId>(sc.replacement)))
            return true;
    }
    return false;
}

// Accepts every node as the source of an in-link.
struct AnySource {
    bool operator()(NodeId) const { return true; }
};

// Appends x to the level-0 list of p when it has room. Returns whether p links to x
// afterwards; a p that linked to x already counts only when `existing_ok`.
template <class S, class V>
bool append_if_room(S& store, NodeId p, NodeId x, size_t cap, ScratchT<V>& sc, bool existing_ok) {
    for (int attempt = 0; attempt < 8; ++attempt) {
        store.neighbors(p, 0, sc.il_list);
        if (std::find(sc.il_list.begin(), sc.il_list.end(), x) != sc.il_list.end())
            return existing_ok;
        if (sc.il_list.size() >= cap) return false;
        sc.il_repl.assign(sc.il_list.begin(), sc.il_list.end());
        sc.il_repl.push_back(x);
        if (store.update_neighbors(p, 0, std::span<const NodeId>(sc.il_list),
                                   std::span<const NodeId>(sc.il_repl)))
            return true;
    }
    return false;
}

// Gives x (vector xv) an in-link from a node known to be reachable, in this order: appended to
// the first node of `pool` (accepted by `source`, not x) with room; else to the live node
// with room closest to x among the pool's own neighbours (reachable through the pool: under
// inner product the pool is the few large-norm vectors every insert finds, whose lists fill
// up with such appends, while the nodes appended there have room); else, in a full pool list,
// in place of an entry y that x links to itself (the edge p -> y becomes the path
// p -> x -> y, so nothing p reached is lost). Bounded: kPoolTries pool lists per pass and
// kHopLists neighbour lists. Returns whether x got such an in-link; with `need_new`, one from a
// node that did not link to x before (x has one linker, which may be reachable only through x).
inline constexpr size_t kPoolTries = 64;
inline constexpr size_t kHopLists = 256;
template <class S, class V, class Source>
bool append_to_pool(S& store, NodeId x, const float* xv, std::span<const NodeId> pool, size_t cap,
                    ScratchT<V>& sc, Source& source, bool need_new) {
    size_t tries = 0;
    for (size_t i = 0; i < pool.size() && tries < kPoolTries; ++i) {
        const NodeId p = pool[i];
        if (p == x || !source(p)) continue;
        ++tries;
        if (append_if_room(store, p, x, cap, sc, !need_new)) return true;
    }
    // One hop out: the live neighbours of the pool, closest to x first.
    sc.il_hop.clear();
    tries = 0;
    for (size_t i = 0; i < pool.size() && tries < kPoolTries; ++i) {
        const NodeId p = pool[i];
        if (p == x || !source(p)) continue;
        ++tries;
        store.neighbors(p, 0, sc.il_list);
        for (NodeId n : sc.il_list)
            if (n != x && source(n)) sc.il_hop.push_back(n);
    }
    std::sort(sc.il_hop.begin(), sc.il_hop.end());
    sc.il_hop.erase(std::unique(sc.il_hop.begin(), sc.il_hop.end()), sc.il_hop.end());
    if (!sc.il_hop.empty()) {
        sc.il_hopdist.resize(sc.il_hop.size());
        sc.il_hopdel.assign(sc.il_hop.size(), 0);
        store.distances(xv, std::span<const NodeId>(sc.il_hop), sc.il_hopdist.data(),
                        sc.il_hopdel.data());
        sc.il_hoporder.clear();
        for (size_t i = 0; i < sc.il_hop.size(); ++i)
            if (!sc.il_hopdel[i])
                sc.il_hoporder.push_back(Candidate{sc.il_hopdist[i], sc.il_hop[i]});
        std::sort(sc.il_hoporder.begin(), sc.il_hoporder.end(), closer);
        if (sc.il_hoporder.size() > kHopLists) sc.il_hoporder.resize(kHopLists);
        for (const Candidate& c : sc.il_hoporder)
            if (append_if_room(store, c.id, x, cap, sc, !need_new)) return true;
    }
    // Path-preserving replacement in a full pool list.
    store.neighbors(x, 0, sc.il_xlist);
    tries = 0;
    for (size_t i = 0; i < pool.size() && tries < kPoolTries; ++i) {
        const NodeId p = pool[i];
        if (p == x || !source(p)) continue;
        ++tries;
        for (int attempt = 0; attempt < 8; ++attempt) {
            store.neighbors(p, 0, sc.il_list);
            if (std::find(sc.il_list.begin(), sc.il_list.end(), x) != sc.il_list.end()) {
                if (need_new) break;
                return true;
            }
            sc.il_repl.assign(sc.il_list.begin(), sc.il_list.end());
            if (sc.il_list.size() < cap) {
                sc.il_repl.push_back(x);
            } else {
                auto y = std::find_if(sc.il_repl.begin(), sc.il_repl.end(), [&](NodeId n) {
                    return std::find(sc.il_xlist.begin(), sc.il_xlist.end(), n) !=
                           sc.il_xlist.end();
                });
                if (y == sc.il_repl.end()) break;
                *y = x;
            }
            if (store.update_neighbors(p, 0, std::span<const NodeId>(sc.il_list),
                                       std::span<const NodeId>(sc.il_repl)))
                return true;
        }
    }
    return false;
}

// Makes sure that some live node accepted by `source` links to x on level 0. Candidates are x's
// own level-0 neighbours (links in an HNSW graph are mostly mutual): if one of them links back,
// nothing is done; otherwise x is appended to the closest one with room; when all are full, x
// replaces the farthest entry y of the closest one, and y is checked the same way (a bounded
// chain of displacements). Every removal of a node from a level-0 list is followed by such a
// check, so a node can lose its last in-link only for the short time between the removal and
// the check, even under concurrent writers.
//
// `hints` (optional) replaces x0's own neighbours as the candidates for x0 (VACUUM passes the
// result of a search when x0's neighbours are unreachable themselves).
//
// Last resort, when none of that gives x an in-link (under inner product nothing is displaced
// above): a node of the pool takes x (append_to_pool: where there is room, else one of their
// neighbours with room, else in place of an entry x links to). The pool must be reachable
// without x: the given candidates (the list x left), then sc.il_pool (the insert's search
// results) less x's own neighbours, which the search may have reached through x. So that edge
// makes x reachable, and no search loses a node it reached through that list.
//
// Returns whether x0 ended up with an in-link from an accepted live node.
template <class S, class V, class Source = AnySource>
bool ensure_in_link(S& store, NodeId x0, const Params& params, ScratchT<V>& sc,
                    Source&& source = Source{}, std::span<const NodeId> hints = {},
                    bool fresh = false) {
    const size_t cap = level_capacity(params, 0);
    const size_t dim = store.dim();
    const MetricSpace space(params.metric);
    bool x0_linked = false;
    // Work items: (node, the node whose list it was displaced from, or kInvalidNode). A
    // displaced node's candidates are the members of the list it left (reachable whenever that
    // list's owner is), as for a node dropped by a prune.
    sc.il_work.assign(1, x0);
    sc.il_work_from.assign(1, kInvalidNode);
    // Displacements (step 3) form a chain: each displaced node is checked in turn. After
    // kDisplaceBudget of them the chain stops displacing (with ties everywhere, as when every
    // distance underflows to 0, two nodes can keep displacing each other): the nodes still
    // waiting get the last resort only, and the ones it cannot link go to sc.il_unlinked.
    constexpr int kDisplaceBudget = 16;
    for (int budget = 0; !sc.il_work.empty(); ++budget) {
        const bool may_displace = budget < kDisplaceBudget;
        const NodeId x = sc.il_work.back();
        const NodeId from = sc.il_work_from.back();
        sc.il_work.pop_back();
        sc.il_work_from.pop_back();
        if (budget == 0 && !hints.empty())
            sc.il_hints.assign(hints.begin(), hints.end());
        else if (from != kInvalidNode)
            store.neighbors(from, 0, sc.il_hints);
        else
            store.neighbors(x, 0, sc.il_hints);
        sc.il_vec.resize(dim);
        const float* xv = vector_of(store, x, sc.il_vec.data());
        // The pool of the last resort must be reachable without x: the given candidates
        // first (the list x was dropped or displaced from), then sc.il_pool (the running
        // insert's search results, or VACUUM's) without x's own neighbours: the search may
        // have reached those through x (seen: two nodes ended up each other's only linker).
        // (Built when the last resort runs: x's list is read only then. The given ids are
        // copied now, as step 3 reuses il_hints.)
        const bool given_list = (budget == 0 && !hints.empty()) || from != kInvalidNode;
        sc.il_given.clear();
        if (given_list) sc.il_given.assign(sc.il_hints.begin(), sc.il_hints.end());
        const size_t ngiven = sc.il_given.size();
        // need_new: x has a linker already, but fewer than wanted.
        // A fresh node (x0 of link_insert) was not linked from anywhere when its search ran:
        // its own planned neighbours, all of the search results, are reachable without it.
        const bool own_ok = fresh && budget == 0;
        auto last_resort = [&](bool need_new) {
            sc.il_given.resize(ngiven);
            if (!sc.il_pool.empty()) {
                store.neighbors(x, 0, sc.il_xlist);
                for (NodeId p : sc.il_pool)
                    if (p != x && (own_ok || std::find(sc.il_xlist.begin(), sc.il_xlist.end(), p) ==
                                                 sc.il_xlist.end()))
                        sc.il_given.push_back(p);
            }
            const bool ok = append_to_pool(store, x, xv, std::span<const NodeId>(sc.il_given), cap,
                                           sc, source, need_new);
            if (ok && budget == 0) x0_linked = true;
            // Left with no in-link at all. (One that still has a linker, which could in theory
            // be reachable only through x, is not recorded: over the oracle's workloads such
            // nodes were reachable every time, and recording them made up to 199 seeds.)
            if (!ok && !need_new) sc.il_unlinked.push_back(x);
        };
        if (sc.il_hints.empty()) {
            last_resort(false);
            continue;
        }
        sc.il_dists.resize(sc.il_hints.size());
        sc.il_deleted.assign(sc.il_hints.size(), 0);
        store.distances(xv, std::span<const NodeId>(sc.il_hints), sc.il_dists.data(),
                        sc.il_deleted.data());
        sc.il_order.clear();
        for (size_t i = 0; i < sc.il_hints.size(); ++i)
            if (!sc.il_deleted[i] && sc.il_hints[i] != x && source(sc.il_hints[i]))
                sc.il_order.push_back(Candidate{sc.il_dists[i], sc.il_hints[i]});
        if (sc.il_order.empty()) {
            last_resort(false);
            continue;
        }
        std::sort(sc.il_order.begin(), sc.il_order.end(), closer);
        // 1. How many candidates link back already? Two are wanted when there are two
        // candidates: with a single in-link, two nodes that are each other's only linker form
        // an island that no search enters. (Remember which non-linkers have room.)
        // Given candidates (the list x was dropped from) are reachable themselves: one linker
        // among them is enough, and the 8 closest to x are the ones worth reading.
        const bool given = given_list;
        if (given && sc.il_order.size() > 8) sc.il_order.resize(8);
        const size_t want = std::min<size_t>(given ? 1 : 2, sc.il_order.size());
        size_t linkers = 0;
        bool linked = false;
        NodeId roomy[2 * 100 + 1];
        size_t nroomy = 0;
        NodeId other = kInvalidNode;  // the closest candidate that does not link to x
        for (const Candidate& p : sc.il_order) {
            store.neighbors(p.id, 0, sc.il_list);
            if (std::find(sc.il_list.begin(), sc.il_list.end(), x) != sc.il_list.end()) {
                if (++linkers >= want) break;
            } else {
                if (other == kInvalidNode) other = p.id;
                if (sc.il_list.size() < cap && nroomy < sizeof(roomy) / sizeof(roomy[0]))
                    roomy[nroomy++] = p.id;
            }
        }
        linked = linkers >= want;
        if (budget == 0) x0_linked = linkers > 0;
        if (linked) continue;
        // 2. Append to the closest candidate with room.
        for (size_t r = 0; r < nroomy && !linked; ++r)
            linked = append_if_room(store, roomy[r], x, cap, sc, true);
        if (budget == 0) x0_linked = x0_linked || linked;
        if (linked) continue;
        // Under inner product the full lists are those of the few large-norm vectors that are
        // everyone's nearest: displacing there tears up the lists searches depend on (measured:
        // recall 0.4 on clustered data), and "redundant" has no meaning without a metric. The
        // pool gives x an in-link instead (and VACUUM's reachability pass when that fails).
        // The pool also when x has one linker of the two wanted: two nodes that are each
        // other's only linker are an island (seen on 1-d data under inner product).
        if (other == kInvalidNode || distance::is_inner_product(params.metric) || !may_displace) {
            last_resort(linkers > 0);
            continue;
        }
        // 3. Displace the most redundant entry of the closest candidate that does not link to x
        // (see below). Also when x has one linker already: two nodes that are each other's only
        // linker form an island (seen on near-duplicate SIFT rows).
        const NodeId p = other;
        for (int attempt = 0; attempt < 8 && !linked; ++attempt) {
            store.neighbors(p, 0, sc.il_list);
            if (std::find(sc.il_list.begin(), sc.il_list.end(), x) != sc.il_list.end()) {
                linked = true;
                break;
            }
            if (sc.il_list.empty()) break;
            sc.il_vec2.resize(dim);
            const float* pv = vector_of(store, p, sc.il_vec2.data());
            sc.il_dists.resize(sc.il_list.size());
            sc.il_deleted.assign(sc.il_list.size(), 0);
            store.distances(pv, std::span<const NodeId>(sc.il_list), sc.il_dists.data(),
                            sc.il_deleted.data());
            // The victim: a deleted entry if there is one; else one that x links to itself, so
            // that the path p -> x -> y replaces the edge p -> y; else the most redundant one (of
            // the two entries closest to each other, the one farther from p), which is then
            // handed to x's own list when it has room (the same path), or checked in turn. The
            // farthest entry is often the only bridge to another part of the graph: keep it.
            store.neighbors(x, 0, sc.il_hints);
            auto in_x = [&](NodeId y) {
                return std::find(sc.il_hints.begin(), sc.il_hints.end(), y) != sc.il_hints.end();
            };
            size_t victim = sc.il_list.size();
            for (size_t i = 0; i < sc.il_list.size() && victim == sc.il_list.size(); ++i)
                if (sc.il_deleted[i]) victim = i;
            for (size_t i = 0; i < sc.il_list.size() && victim == sc.il_list.size(); ++i)
                if (sc.il_list[i] != x && in_x(sc.il_list[i])) victim = i;
            if (victim == sc.il_list.size()) {
                const size_t k = sc.il_list.size();
                sc.il_vecs.resize(k * dim);
                const float* lv[2 * 100 + 1];
                for (size_t i = 0; i < k; ++i)
                    lv[i] = vector_of(store, sc.il_list[i], sc.il_vecs.data() + i * dim);
                float best = std::numeric_limits<float>::infinity();
                victim = 0;
                for (size_t i = 0; i < k; ++i)
                    for (size_t j = i + 1; j < k; ++j) {
                        const float d = space(lv[i], lv[j], dim);
                        if (d < best) {
                            best = d;
                            victim = sc.il_dists[i] >= sc.il_dists[j] ? i : j;
                        }
                    }
            }
            sc.il_repl.assign(sc.il_list.begin(), sc.il_list.end());
            const NodeId y = sc.il_repl[victim];
            const bool y_live = sc.il_deleted[victim] == 0;
            const bool full = sc.il_list.size() >= cap;
            if (!full)
                sc.il_repl.push_back(x);
            else
                sc.il_repl[victim] = x;
            if (store.update_neighbors(p, 0, std::span<const NodeId>(sc.il_list),
                                       std::span<const NodeId>(sc.il_repl))) {
                linked = true;
                if (full && y_live && y != x && !in_x(y)) {
                    // Hand y to x (p -> x -> y), else check y like x.
                    bool handed = false;
                    for (int a = 0; a < 8 && !handed; ++a) {
                        store.neighbors(x, 0, sc.il_list);
                        if (std::find(sc.il_list.begin(), sc.il_list.end(), y) !=
                            sc.il_list.end()) {
                            handed = true;
                            break;
                        }
                        if (sc.il_list.size() >= cap) break;
                        sc.il_repl.assign(sc.il_list.begin(), sc.il_list.end());
                        sc.il_repl.push_back(y);
                        handed = store.update_neighbors(x, 0, std::span<const NodeId>(sc.il_list),
                                                        std::span<const NodeId>(sc.il_repl));
                    }
                    if (!handed) {
                        sc.il_work.push_back(y);
                        sc.il_work_from.push_back(p);
                    }
                }
            }
        }
        if (budget == 0) x0_linked = linked;
        if (!linked) last_resort(linkers > 0);
    }
    return x0_linked;
}

// For each live node x a level-0 prune of n's list dropped (sc.il_dropped; n's new list in
// sc.il_newlist; the heuristic's reasons in sc.select.covered): x must stay reachable through
// n. The heuristic drops x either because a kept neighbour k is closer to x than n is (it
// assumes x is reachable through k: that is made true by appending x to k's list when it has
// room) or because the list is full. Otherwise x gets an in-link from a member of n's new list
// (ensure_in_link with those as candidates: reachable whenever n is, unlike x's own neighbours,
// which may be reachable only through x). `source` filters in-link sources.
template <class S, class V, class Source = AnySource>
void keep_dropped_reachable(S& store, const Params& params, ScratchT<V>& sc,
                            Source&& source = Source{}) {
    const size_t cap = level_capacity(params, 0);
    for (size_t i = 0; i < sc.il_dropped.size(); ++i) {
        const NodeId x = sc.il_dropped[i];
        bool kept = false;
        // Neither append_link nor ensure_in_link touches select.covered or il_newlist.
        for (const auto& [c, k] : sc.select.covered)
            if (c == x && source(k)) {
                kept = append_link(store, k, 0, x, cap, sc);
                break;
            }
        if (!kept)
            detail::ensure_in_link(store, x, params, sc, source,
                                   std::span<const NodeId>(sc.il_newlist));
    }
}

// Adds `id` (vector vec) to the list of `n` at `level`: appended while there is room, otherwise
// the list plus id is pruned with the heuristic (from n's point of view); deleted nodes leave
// the list then.
//
// Exact copies: when the prune drops a node x while keeping an exact copy k of x, x is appended
// to k's list (while it has room), so the path n -> k -> x replaces the edge n -> x. Without
// this, nodes repeated many times keep losing their in-links to newer copies and end up
// unreachable.
//
// Returns whether n links to id afterwards. With params.keep_in_links, every live node the
// prune dropped from a level-0 list is checked for another in-link (ensure_in_link).
template <class S, class V>
bool add_back_link(S& store, NodeId n, int level, NodeId id, size_t cap, const MetricSpace& space,
                   const Params& params, ScratchT<V>& sc) {
    for (int attempt = 0; attempt < kMaxCasRetries; ++attempt) {
        store.neighbors(n, level, sc.list);
        if (std::find(sc.list.begin(), sc.list.end(), id) != sc.list.end()) return true;
        if (sc.list.size() < cap) {
            sc.replacement.assign(sc.list.begin(), sc.list.end());
            sc.replacement.push_back(id);
        } else {
            sc.vec.resize(store.dim());
            const float* nv = vector_of(store, n, sc.vec.data());
            sc.search.fresh.assign(sc.list.begin(), sc.list.end());
            sc.search.fresh.push_back(id);
            sc.search.measure(store, nv, true);
            sc.cands.clear();
            for (size_t i = 0; i < sc.search.fresh.size(); ++i)
                if (!sc.search.deleted[i] || sc.search.fresh[i] == id)
                    sc.cands.push_back(Candidate{sc.search.dists[i], sc.search.fresh[i]});
            std::sort(sc.cands.begin(), sc.cands.end(), closer);
            select_neighbors_heuristic(store, std::span<const Candidate>(sc.cands), cap,
                                       sc.selected, space, nv, n, sc.select);
            sc.replacement.clear();
            bool has_id = false;
            for (const Candidate& c : sc.selected) {
                sc.replacement.push_back(c.id);
                has_id |= c.id == id;
            }
            // The new node lost and nothing deleted was dropped: the list stays as it is.
            if (!has_id && sc.replacement.size() == sc.list.size()) return false;
        }
        if (!store.update_neighbors(n, level, std::span<const NodeId>(sc.list),
                                    std::span<const NodeId>(sc.replacement)))
            continue;
        const bool kept_id =
            std::find(sc.replacement.begin(), sc.replacement.end(), id) != sc.replacement.end();
        if (sc.replacement.size() > sc.list.size()) return kept_id;  // appended: nothing dropped
        // Live nodes that were in the list before and are not any more.
        sc.il_newlist.assign(sc.replacement.begin(), sc.replacement.end());
        sc.il_dropped.clear();
        if (level == 0 && params.keep_in_links) {
            for (const Candidate& x : sc.cands)
                if (x.id != id &&
                    std::find(sc.list.begin(), sc.list.end(), x.id) != sc.list.end() &&
                    std::find(sc.replacement.begin(), sc.replacement.end(), x.id) ==
                        sc.replacement.end())
                    sc.il_dropped.push_back(x.id);
        }
        // Hand each dropped node over to a kept exact copy of it (same distance to n, same
        // vector): the edge n -> x becomes the path n -> k -> x.
        sc.splice.clear();
        sc.copy.resize(store.dim());
        sc.copy2.resize(store.dim());
        for (const Candidate& x : sc.cands) {
            if (std::find(sc.replacement.begin(), sc.replacement.end(), x.id) !=
                sc.replacement.end())
                continue;
            const float* xv = nullptr;
            // The new node first: its list was left half empty for this.
            std::stable_partition(sc.selected.begin(), sc.selected.end(),
                                  [id](const Candidate& c) { return c.id == id; });
            for (const Candidate& k : sc.selected) {
                if (k.dist != x.dist || k.id == x.id) continue;
                if (xv == nullptr) xv = vector_of(store, x.id, sc.copy.data());
                if (same_vector(store, xv, vector_of(store, k.id, sc.copy2.data()))) {
                    sc.splice.push_back({k.id, x.id});
                    break;
                }
            }
        }
        for (size_t i = 0; i < sc.splice.size(); ++i)
            append_link(store, sc.splice[i].first, level, sc.splice[i].second, cap, sc);
        keep_dropped_reachable(store, params, sc);
        return kept_id;
    }
    return false;
}

}  // namespace detail

// Plans the insertion of a node with vector vec and the given level into the graph whose entry
// point is `entry` on `entry_level`: for each level l <= min(level, entry_level), searches with
// ef_construction and chooses m (upper levels) or 2m (level 0) neighbours by the heuristic, into
// sc.per_level. The level-0 search results (the ef_construction closest live nodes, closest
// first) are left in sc.found0: callers look there for an exact copy of vec before adding a
// node. `self` is the id the node has (or will have): it is never chosen.
template <class S, class V>
void plan_insert(S& store, NodeId self, const float* vec, int level, NodeId entry, int entry_level,
                 const Params& params, ScratchT<V>& sc) {
    sc.found0.clear();
    sc.il_pool.clear();
    if (entry == kInvalidNode || entry == self) return;
    const MetricSpace space(params.metric);
    const size_t ef = static_cast<size_t>(std::max(params.ef_construction, 1));
    NodeId start = entry;
    if (entry_level > level)
        start = greedy_descent(store, vec, entry, entry_level, level, sc.search).id;
    sc.entries.assign(1, start);
    const int top = std::min(level, entry_level);
    if (sc.per_level.size() < static_cast<size_t>(top + 1)) sc.per_level.resize(top + 1);
    for (int l = top; l >= 0; --l) {
        search_layer(store, vec, std::span<const NodeId>(sc.entries), ef, l, sc.visited, sc.search,
                     sc.results);
        // A concurrent insert may already have linked to this node: never link to itself.
        std::erase_if(sc.results, [self](const Candidate& c) { return c.id == self; });
        const size_t cap = level_capacity(params, l);
        // Copies fill at most half of a new node's list: the rest stays free for the copies
        // handed over by add_back_link.
        select_neighbors_heuristic(store, std::span<const Candidate>(sc.results), cap, sc.selected,
                                   space, vec, self, sc.select, cap / 2);
        sc.per_level[l].assign(sc.selected.begin(), sc.selected.end());
        sc.entries.clear();
        for (const Candidate& c : sc.results) sc.entries.push_back(c.id);
        if (sc.entries.empty()) sc.entries.push_back(start);
    }
    sc.found0.assign(sc.results.begin(), sc.results.end());
    for (const Candidate& c : sc.found0) sc.il_pool.push_back(c.id);
}

// Links node `id` (in the store: vector stored, lists empty, present on levels 0..level) with
// the neighbours plan_insert chose: writes every list of the new node, then adds the back-links
// that make it reachable. Writing a level's list after other levels' back-links exist would
// overwrite links that concurrent inserts (which can already reach the node) added to it.
// With params.keep_in_links, a node that fewer than two of its neighbours accepted goes through
// ensure_in_link.
template <class S, class V>
void link_insert(S& store, NodeId id, int level, int entry_level, const Params& params,
                 ScratchT<V>& sc) {
    const int top = std::min(level, entry_level);
    if (top < 0 || sc.per_level.size() < static_cast<size_t>(top + 1)) return;
    const MetricSpace space(params.metric);
    for (int l = top; l >= 0; --l) {
        sc.replacement.clear();
        for (const Candidate& c : sc.per_level[l]) sc.replacement.push_back(c.id);
        store.set_neighbors(id, l, std::span<const NodeId>(sc.replacement));
    }
    size_t linked0 = 0;
    for (int l = top; l >= 0; --l) {
        const size_t cap = level_capacity(params, l);
        for (const Candidate& c : sc.per_level[l]) {
            const bool kept = detail::add_back_link(store, c.id, l, id, cap, space, params, sc);
            if (l == 0 && kept) ++linked0;
        }
    }
    if (linked0 < 2 && params.keep_in_links && !sc.per_level[0].empty())
        detail::ensure_in_link(store, id, params, sc, detail::AnySource{}, {}, true);
}

// Links node `id` (already in the store: vector stored, lists empty, present on levels
// 0..level) into the graph whose entry point is `entry` on `entry_level`: plan_insert, then
// link_insert. Deleted nodes are never chosen. Does nothing when entry is kInvalidNode or id
// itself (the first node). The caller makes id the entry point when level > entry_level.
template <class S, class V>
void insert(S& store, NodeId id, const float* vec, int level, NodeId entry, int entry_level,
            const Params& params, ScratchT<V>& sc) {
    if (entry == kInvalidNode || entry == id) return;
    plan_insert(store, id, vec, level, entry, entry_level, params, sc);
    link_insert(store, id, level, entry_level, params, sc);
}

// Public name of detail::ensure_in_link (VACUUM's reachability pass uses it).
template <class S, class V, class Source = detail::AnySource>
bool ensure_in_link(S& store, NodeId x, const Params& params, ScratchT<V>& sc,
                    Source&& source = Source{}, std::span<const NodeId> hints = {}) {
    return detail::ensure_in_link(store, x, params, sc, std::forward<Source>(source), hints);
}

// Rebuilds the list of `id` at `level` without the nodes for which is_removed(node) is true
// (VACUUM). Candidates: its live neighbours plus the live neighbours of its removed neighbours
// (two hops), chosen by the heuristic from id's point of view. When fewer candidates than the
// list capacity are found, or more than a quarter of the list was removed, a search of that
// level (from the candidates, or from `entry` when there are none) adds more. Does nothing when no
// neighbour is removed. The write is a compare-and-swap, retried when a concurrent writer changed
// the list.
template <class S, class IsRemoved, class V>
void repair(S& store, NodeId id, int level, IsRemoved&& is_removed, const Params& params,
            ScratchT<V>& sc, NodeId entry = kInvalidNode, int entry_level = -1) {
    sc.il_pool.clear();  // no insert's search results here (the scratch may have served one)
    const MetricSpace space(params.metric);
    const size_t cap = level_capacity(params, level);
    for (int attempt = 0; attempt < detail::kMaxCasRetries; ++attempt) {
        store.neighbors(id, level, sc.list);
        size_t nremoved = 0;
        sc.visited.clear();
        sc.visited.insert(id);
        sc.search.fresh.clear();
        for (NodeId n : sc.list) {
            if (is_removed(n))
                ++nremoved;
            else if (sc.visited.insert(n))
                sc.search.fresh.push_back(n);
        }
        if (nremoved == 0) return;
        for (NodeId r : sc.list) {
            if (!is_removed(r)) continue;
            store.neighbors(r, level, sc.other);
            for (NodeId x : sc.other)
                if (!is_removed(x) && sc.visited.insert(x)) sc.search.fresh.push_back(x);
        }
        sc.vec.resize(store.dim());
        const float* v = detail::vector_of(store, id, sc.vec.data());
        sc.cands.clear();
        if (!sc.search.fresh.empty()) {
            sc.search.measure(store, v, true);
            for (size_t i = 0; i < sc.search.fresh.size(); ++i)
                sc.cands.push_back(Candidate{sc.search.dists[i], sc.search.fresh[i]});
        }
        // A list that lost more than a quarter of its nodes also searches from the candidates:
        // the two-hop neighbourhood alone, after heavy deletes, holds only nearby fragments of
        // the graph. Measured (10,000 random 52-bit vectors, m = 4, ef_construction = 8, 75%
        // deleted, top-20 recall at ef_search 100, 6 seeds): 0.776 with the neighbourhood
        // alone, 0.817 with the search, 0.826 for a graph built from the survivors; lists that
        // lost a quarter or less (light churn) are repaired as before, without the search.
        if (sc.cands.size() < cap || nremoved * 4 > sc.list.size()) {
            sc.entries.clear();
            for (const Candidate& c : sc.cands) sc.entries.push_back(c.id);
            if (sc.entries.empty() && entry != kInvalidNode && !is_removed(entry)) {
                NodeId e = entry;
                if (entry_level > level)
                    e = greedy_descent(store, v, entry, entry_level, level, sc.search).id;
                sc.entries.push_back(e);
            }
            if (!sc.entries.empty()) {
                const size_t ef = std::max(static_cast<size_t>(params.ef_construction), cap);
                search_layer(store, v, std::span<const NodeId>(sc.entries), ef, level, sc.visited,
                             sc.search, sc.results);
                for (const Candidate& c : sc.results)
                    if (c.id != id && !is_removed(c.id)) sc.cands.push_back(c);
                std::sort(sc.cands.begin(), sc.cands.end(),
                          [](const Candidate& a, const Candidate& b) { return a.id < b.id; });
                sc.cands.erase(std::unique(sc.cands.begin(), sc.cands.end(),
                                           [](const Candidate& a, const Candidate& b) {
                                               return a.id == b.id;
                                           }),
                               sc.cands.end());
            }
        }
        std::sort(sc.cands.begin(), sc.cands.end(), closer);
        select_neighbors_heuristic(store, std::span<const Candidate>(sc.cands), cap, sc.selected,
                                   space, v, id, sc.select);
        sc.replacement.clear();
        for (const Candidate& c : sc.selected) sc.replacement.push_back(c.id);
        if (store.update_neighbors(id, level, std::span<const NodeId>(sc.list),
                                   std::span<const NodeId>(sc.replacement))) {
            // Live nodes the new list no longer holds keep (or get) another in-link.
            if (level == 0 && params.keep_in_links) {
                sc.il_newlist.assign(sc.replacement.begin(), sc.replacement.end());
                sc.il_dropped.clear();
                for (NodeId x : sc.list)
                    if (!is_removed(x) && std::find(sc.replacement.begin(), sc.replacement.end(),
                                                    x) == sc.replacement.end())
                        sc.il_dropped.push_back(x);
                auto live_source = [&is_removed](NodeId p) { return !is_removed(p); };
                detail::keep_dropped_reachable(store, params, sc, live_source);
            }
            return;
        }
    }
}

}  // namespace piramid::hnsw
