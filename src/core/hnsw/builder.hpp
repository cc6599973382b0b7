// The parallel in-memory HNSW builder behind CREATE INDEX.
//
// Usage (one calling thread, e.g. a Postgres backend):
//   Builder b(params, budget);
//   while (...) if (!b.add(vec, label)) { /* budget exceeded: fall back */ }
//   b.start(threads);
//   while (!b.wait_for(100ms)) { /* check for interrupts, report b.inserted(); on error b.cancel()
//   */ } b.join();                           // rethrows a worker error as piramid::Error
//   ... read the graph: size(), level(), neighbors(), vector(), labels(), locality_order() ...
//
// Worker threads run only this core code, with every signal blocked. The graph lives in
// contiguous arrays (vectors, level-0 lists, upper lists) with one spinlock per node; the
// insertion algorithm is the generic one in insert.hpp, run over BuildGraph (a NodeStore).
// Levels are drawn in add() from a seeded RNG, so a build with one thread is deterministic.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/distance/lanes.hpp"
#include "core/hnsw/insert.hpp"
#include "core/hnsw/space.hpp"
#include "core/hnsw/store.hpp"

namespace piramid::engine {
class DistanceEngine;
}

namespace piramid::hnsw {

class Builder;

namespace detail {
// The exception being handled, as a piramid::Error (call only inside a catch block of a worker).
std::exception_ptr current_worker_error() noexcept;
}  // namespace detail
struct EngineBuild;

// The NodeStore view of a builder's graph (see store.hpp). Nothing is ever deleted here.
class BuildGraph {
  public:
    size_t dim() const { return dim_; }
    // Lanes vector v uses: dim() except for sparse vectors (variable length).
    size_t lanes(const float* v) const {
        return offsets_ != nullptr ? distance::sparse_lanes(v) : dim_;
    }
    void distances(const float* query, std::span<const NodeId> ids, float* out, uint8_t* deleted);
    void neighbors(NodeId id, int level, std::vector<NodeId>& out);
    void vector(NodeId id, float* out);
    const float* vector_ptr(NodeId id) const {
        return vectors_ + (offsets_ != nullptr ? offsets_[id] : static_cast<size_t>(id) * dim_);
    }
    void set_neighbors(NodeId id, int level, std::span<const NodeId> list);
    bool update_neighbors(NodeId id, int level, std::span<const NodeId> expected,
                          std::span<const NodeId> replacement);

  private:
    friend class Builder;
    BuildGraph(distance::Metric metric) : space_(metric) {}

    // The list slot of id at level: [count, ids...]; nullptr when id has no such level.
    uint32_t* slot(NodeId id, int level) const;
    void lock(NodeId id) const;
    void unlock(NodeId id) const;

    size_t dim_ = 0;
    size_t n_ = 0;
    uint32_t m_ = 0;
    MetricSpace space_;
    const float* vectors_ = nullptr;
    const uint64_t* offsets_ = nullptr;  // sparse vectors: where each starts in vectors_
    const uint8_t* levels_ = nullptr;
    uint32_t* links0_ = nullptr;              // n * (1 + 2m)
    uint32_t* upper_ = nullptr;               // per node with level > 0: level * (1 + m)
    const uint64_t* upper_offset_ = nullptr;  // into upper_, per node
    std::atomic<uint8_t>* locks_ = nullptr;
};

class Builder {
  public:
    // Labels merged into one item for exact duplicate vectors. An index element holds 9 heap
    // TIDs (kMaxHeapTids, pg/storage/page.hpp): the writer puts an item's first 9 labels in its
    // graph element and each further 9 in a kCopy element chained behind it, as inserts do, so
    // that identical vectors cost the graph one node. A multiple of 9; an item with that many
    // labels has a chain of 1023 copies, and a further duplicate starts a new item.
    static constexpr size_t kTidsPerElement = 9;
    static constexpr size_t kMaxLabels = kTidsPerElement * 1024;

    Builder(const Params& params, size_t memory_budget_bytes);
    Builder(const Builder&) = delete;
    Builder& operator=(const Builder&) = delete;
    ~Builder();  // cancel + join; never throws

    // Adds a vector with a 64-bit label (the caller packs the heap TID). An exact duplicate
    // (bitwise) of an earlier vector gets the label merged into that item (up to kMaxLabels per
    // item; then a new item). Returns false, adding nothing, when the memory budget would be
    // exceeded (label lists count at their capacity). Only before start(). A new item's level
    // is at most max_level (and params.max_level): the caller's limit for this vector's size.
    // Sparse vectors (params.metric a sparse metric) take their own length, not params.dim.
    bool add(const float* vec, uint64_t label, int max_level = 255);

    // Starts `threads` workers (>= 1) inserting all items; returns at once. Only once.
    void start(int threads);
    // True when all workers have finished (or stopped after cancel()); waits up to timeout.
    bool wait_for(std::chrono::milliseconds timeout);
    // Items linked into the graph so far.
    size_t inserted() const { return inserted_.load(std::memory_order_relaxed); }
    // Asks the workers to stop; each stops after the item it is inserting (milliseconds).
    void cancel() { cancel_.store(true, std::memory_order_relaxed); }
    // Joins the workers; rethrows the first worker error as piramid::Error.
    void join();

    // The engine-driven build (engine_build.cpp), instead of start(), for large builds. Upper
    // levels: normal insertion among the nodes with level >= 1. Layer 0: each node's
    // k = max(ef_construction, 2m) exact nearest neighbours, computed by `engine` in blocks of
    // queries, pruned by the same heuristic to 2m, then merged with the reverse edges (pruned
    // again when over 2m), then the same reachability pass as start(). Exact copies of one
    // vector (items beyond kMaxLabels labels) are chained behind their first item instead of
    // taking part in the kNN. Same wait_for/inserted/cancel/join contract as start(); the
    // workers call the engine (never Postgres) and cancel() reaches the engine job; `engine`
    // must outlive join(). With threads == 1 the graph is deterministic whatever the engine's
    // own thread count. Returns false, starting nothing, when the extra memory it needs
    // (candidate blocks, reverse lists) does not fit the budget: start() may be called instead.
    // If the engine fails (other than by cancel), the build goes on as the normal threaded build
    // and engine_error() tells why. `block` = queries per engine call (0: automatic).
    bool start_with_engine(engine::DistanceEngine& engine, int threads, size_t block = 0);
    // After join(): empty, or why the engine build fell back to the normal build.
    const std::string& engine_error() const { return engine_error_; }

    // --- the result (after join; size() and labels/vectors also before start) ---
    size_t size() const { return levels_.size(); }
    int level(NodeId id) const { return levels_[id]; }
    std::span<const NodeId> neighbors(NodeId id, int level) const;
    NodeId entry_point() const { return entry_; }
    int max_level() const { return max_level_; }
    const float* vector(NodeId id) const {
        return vectors_.data() + (var_ ? offsets_[id] : static_cast<size_t>(id) * dim_);
    }
    std::span<const uint64_t> labels(NodeId id) const;
    // Bytes held (and planned for the graph arrays), compared against the budget by add().
    size_t memory_used() const;
    // Node ids in breadth-first order over layer 0 from the entry point (then any node not
    // reached, each starting a new traversal): graph neighbours tend to be adjacent, so the
    // caller can place them on the same page.
    std::vector<NodeId> locality_order() const;
    // The graph as a NodeStore (for searching it in memory, e.g. in tests).
    BuildGraph& graph() { return graph_; }

  private:
    friend struct EngineBuild;
    void prepare_graph();
    void worker();
    void insert_item(NodeId id, ScratchT<DenseVisitedSet>& sc);
    void connect_unreachable(ScratchT<DenseVisitedSet>& sc);
    int draw_level();
    size_t item_bytes(int level) const;
    bool grow_dedup();

    Params params_;
    size_t dim_;
    size_t budget_;
    uint64_t rng_state_;
    double level_mult_;

    bool var_ = false;  // sparse vectors: variable length, placed by offsets_
    std::vector<float> vectors_;
    std::vector<uint64_t> offsets_;
    std::vector<uint8_t> levels_;
    std::vector<uint64_t> first_label_;
    std::unordered_map<NodeId, std::vector<uint64_t>> more_labels_;  // all labels, when > 1
    std::vector<uint32_t> hashes_;
    std::vector<uint32_t> dedup_;  // open addressing: item id + 1, 0 = empty
    size_t dedup_used_ = 0;
    size_t label_bytes_ = 0;
    size_t upper_words_ = 0;

    std::vector<uint32_t> links0_;
    std::vector<uint32_t> upper_;
    std::vector<uint64_t> upper_offset_;
    std::unique_ptr<std::atomic<uint8_t>[]> locks_;
    BuildGraph graph_;

    std::mutex entry_mu_;
    NodeId entry_ = kInvalidNode;
    int max_level_ = -1;

    std::vector<std::thread> threads_;
    std::atomic<size_t> next_{0};
    std::atomic<size_t> inserted_{0};
    std::atomic<bool> cancel_{false};
    std::atomic<int> active_{0};  // workers still inserting; the last one runs the final pass
    bool started_ = false;
    std::mutex done_mu_;
    std::condition_variable done_cv_;
    int running_ = 0;
    std::exception_ptr error_;
    std::string engine_error_;
};

}  // namespace piramid::hnsw
