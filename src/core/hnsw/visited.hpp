// Visited sets for graph searches, reused across queries so that a search allocates nothing once
// warmed up.
//
// Both sets share one interface (the search templates accept either):
//   bool insert(NodeId id);  // true when id was not in the set (and is now)
//   bool contains(NodeId id) const;
//   void clear();            // O(1) amortized: bumps an epoch instead of wiping memory
//   size_t size() const;     // ids inserted since the last clear()
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/hnsw/store.hpp"

namespace piramid::hnsw {

// For sparse 32-bit ids (packed block/offset on pages): open addressing with linear probing. A
// slot is occupied when its tag equals the current epoch, so clear() only increments the epoch;
// the table doubles when half full.
class VisitedSet {
  public:
    explicit VisitedSet(size_t initial_capacity = 1024) {
        size_t cap = 16;
        while (cap < initial_capacity) cap <<= 1;
        slots_.assign(cap, Slot{0, 0});
        mask_ = cap - 1;
    }

    bool insert(NodeId id) {
        if ((count_ + 1) * 2 > slots_.size()) grow();
        size_t h = hash(id) & mask_;
        for (;;) {
            Slot& s = slots_[h];
            if (s.tag != epoch_) {
                s.tag = epoch_;
                s.key = id;
                ++count_;
                return true;
            }
            if (s.key == id) return false;
            h = (h + 1) & mask_;
        }
    }

    bool contains(NodeId id) const {
        size_t h = hash(id) & mask_;
        for (;;) {
            const Slot& s = slots_[h];
            if (s.tag != epoch_) return false;
            if (s.key == id) return true;
            h = (h + 1) & mask_;
        }
    }

    void clear() {
        count_ = 0;
        if (++epoch_ == 0) {  // wrapped: old tags could look current again
            for (Slot& s : slots_) s.tag = 0;
            epoch_ = 1;
        }
    }

    size_t size() const { return count_; }
    size_t memory_bytes() const { return slots_.capacity() * sizeof(Slot); }

  private:
    struct Slot {
        NodeId key;
        uint32_t tag;
    };

    static size_t hash(NodeId id) {
        // Fibonacci hashing on the high bits spreads page-packed ids (block << k | offset).
        return static_cast<size_t>((static_cast<uint64_t>(id) * 0x9E3779B97F4A7C15ull) >> 32);
    }

    void grow() {
        std::vector<Slot> old;
        old.swap(slots_);
        slots_.assign(old.size() * 2, Slot{0, 0});
        mask_ = slots_.size() - 1;
        const uint32_t cur = epoch_;
        epoch_ = 1;
        count_ = 0;
        for (const Slot& s : old) {
            if (s.tag != cur) continue;
            size_t h = hash(s.key) & mask_;
            while (slots_[h].tag == epoch_) h = (h + 1) & mask_;
            slots_[h] = Slot{s.key, epoch_};
            ++count_;
        }
    }

    std::vector<Slot> slots_;
    size_t mask_ = 0;
    size_t count_ = 0;
    uint32_t epoch_ = 1;
};

// For dense ids 0..n-1 (the in-memory builder): one tag per id, no hashing.
class DenseVisitedSet {
  public:
    explicit DenseVisitedSet(size_t n = 0) : tags_(n, 0) {}

    void resize(size_t n) {
        if (n > tags_.size()) tags_.resize(n, 0);
    }
    bool insert(NodeId id) {
        if (id >= tags_.size()) tags_.resize(static_cast<size_t>(id) + 1, 0);
        if (tags_[id] == epoch_) return false;
        tags_[id] = epoch_;
        ++count_;
        return true;
    }
    bool contains(NodeId id) const { return id < tags_.size() && tags_[id] == epoch_; }
    void clear() {
        count_ = 0;
        if (++epoch_ == 0) {
            std::fill(tags_.begin(), tags_.end(), 0);
            epoch_ = 1;
        }
    }
    size_t size() const { return count_; }

  private:
    std::vector<uint16_t> tags_;
    size_t count_ = 0;
    uint16_t epoch_ = 1;
};

}  // namespace piramid::hnsw
