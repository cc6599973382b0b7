// A simple NodeStore in memory, for tests and as the reference implementation of the contract in
// store.hpp: dense ids, one mutex per node guarding its lists, a deleted flag per node.
//
// add() is not thread-safe (it may move the vector storage); every other member is safe to call
// from several threads once the nodes exist.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <deque>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/distance/distance.hpp"
#include "core/hnsw/space.hpp"
#include "core/hnsw/store.hpp"

namespace piramid::hnsw {

class InMemoryStore {
  public:
    InMemoryStore(size_t dim, distance::Metric metric, int m) : dim_(dim), m_(m), space_(metric) {}

    // Adds a node with its vector and empty lists on levels 0..level; returns its id (0, 1, ...).
    NodeId add(const float* vec, int level) {
        if (level < 0) throw Error(Errc::kInvalidParameter, "negative level");
        const NodeId id = static_cast<NodeId>(nodes_.size());
        data_.insert(data_.end(), vec, vec + dim_);
        Node& n = nodes_.emplace_back();
        n.level = level;
        n.lists.resize(static_cast<size_t>(level) + 1);
        return id;
    }
    void reserve(size_t n) { data_.reserve(n * dim_); }

    size_t size() const { return nodes_.size(); }
    int level(NodeId id) const { return node(id).level; }
    void mark_deleted(NodeId id) { node(id).deleted.store(true, std::memory_order_relaxed); }
    bool is_deleted(NodeId id) const { return node(id).deleted.load(std::memory_order_relaxed); }

    // --- NodeStore ---
    size_t dim() const { return dim_; }

    void distances(const float* query, std::span<const NodeId> ids, float* out, uint8_t* deleted) {
        for (size_t i = 0; i < ids.size(); ++i) {
            out[i] = space_(query, vector_ptr(ids[i]), dim_);
            if (deleted) deleted[i] = is_deleted(ids[i]) ? 1 : 0;
        }
    }

    void neighbors(NodeId id, int level, std::vector<NodeId>& out) {
        out.clear();
        Node& n = node(id);
        if (level > n.level) return;
        std::lock_guard<std::mutex> lock(n.mu);
        const auto& l = n.lists[static_cast<size_t>(level)];
        out.assign(l.begin(), l.end());
    }

    void vector(NodeId id, float* out) { std::memcpy(out, vector_ptr(id), dim_ * sizeof(float)); }
    const float* vector_ptr(NodeId id) {
        node(id);
        return data_.data() + static_cast<size_t>(id) * dim_;
    }

    void set_neighbors(NodeId id, int level, std::span<const NodeId> list) {
        Node& n = checked(id, level, list.size());
        std::lock_guard<std::mutex> lock(n.mu);
        n.lists[static_cast<size_t>(level)].assign(list.begin(), list.end());
    }

    bool update_neighbors(NodeId id, int level, std::span<const NodeId> expected,
                          std::span<const NodeId> replacement) {
        Node& n = checked(id, level, replacement.size());
        std::lock_guard<std::mutex> lock(n.mu);
        auto& l = n.lists[static_cast<size_t>(level)];
        if (l.size() != expected.size() || !std::equal(l.begin(), l.end(), expected.begin()))
            return false;
        l.assign(replacement.begin(), replacement.end());
        return true;
    }

    // Unlocked view of a list, for single-threaded inspection in tests.
    std::span<const NodeId> list(NodeId id, int level) const {
        const Node& n = node(id);
        if (level > n.level) return {};
        return n.lists[static_cast<size_t>(level)];
    }

  private:
    struct Node {
        int level = 0;
        std::atomic<bool> deleted{false};
        std::mutex mu;
        std::vector<std::vector<NodeId>> lists;
    };

    Node& node(NodeId id) {
        if (id >= nodes_.size())
            throw Error(Errc::kInternal, "hnsw: node id " + std::to_string(id) + " out of range");
        return nodes_[id];
    }
    const Node& node(NodeId id) const { return const_cast<InMemoryStore*>(this)->node(id); }

    Node& checked(NodeId id, int level, size_t size) {
        Node& n = node(id);
        if (level < 0 || level > n.level)
            throw Error(Errc::kInternal, "hnsw: node has no level " + std::to_string(level));
        const size_t cap = static_cast<size_t>(level == 0 ? 2 * m_ : m_);
        if (size > cap) throw Error(Errc::kInternal, "hnsw: neighbour list over capacity");
        return n;
    }

    size_t dim_;
    int m_;
    MetricSpace space_;
    std::deque<Node> nodes_;
    std::vector<float> data_;
};

}  // namespace piramid::hnsw
