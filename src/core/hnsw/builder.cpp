#include "core/hnsw/builder.hpp"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <string>
#include <system_error>

#include "core/common/error.hpp"

namespace piramid::hnsw {

namespace detail {

std::exception_ptr current_worker_error() noexcept {
    try {
        throw;
    } catch (const Error& e) {
        return std::make_exception_ptr(e);
    } catch (const std::bad_alloc&) {
        return std::make_exception_ptr(
            Error(Errc::kOutOfMemory, "hnsw build: out of memory in a worker thread"));
    } catch (const std::exception& e) {
        return std::make_exception_ptr(
            Error(Errc::kInternal, std::string("hnsw build: ") + e.what()));
    } catch (...) {
        return std::make_exception_ptr(Error(Errc::kInternal, "hnsw build: unknown error"));
    }
}

}  // namespace detail

namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

uint32_t hash_vector(const float* v, size_t dim) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < dim; ++i) {
        uint32_t w;
        std::memcpy(&w, v + i, sizeof w);
        h = (h ^ w) * 0x100000001b3ull;
    }
    return static_cast<uint32_t>(detail::mix64(h));
}

// Blocks every signal in the calling thread; returns the previous mask.
sigset_t block_all_signals() {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    return old;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// BuildGraph

uint32_t* BuildGraph::slot(NodeId id, int level) const {
    if (level == 0) return links0_ + static_cast<size_t>(id) * (1 + 2 * m_);
    if (level < 0 || level > levels_[id]) return nullptr;
    return upper_ + upper_offset_[id] + static_cast<size_t>(level - 1) * (1 + m_);
}

void BuildGraph::lock(NodeId id) const {
    std::atomic<uint8_t>& l = locks_[id];
    while (l.exchange(1, std::memory_order_acquire) != 0)
        while (l.load(std::memory_order_relaxed) != 0) cpu_relax();
}

void BuildGraph::unlock(NodeId id) const {
    locks_[id].store(0, std::memory_order_release);
}

void BuildGraph::distances(const float* query, std::span<const NodeId> ids, float* out,
                           uint8_t* deleted) {
    constexpr size_t kChunk = 64;
    const float* ptrs[kChunk];
    for (size_t off = 0; off < ids.size(); off += kChunk) {
        const size_t k = std::min(kChunk, ids.size() - off);
        for (size_t i = 0; i < k; ++i) ptrs[i] = vector_ptr(ids[off + i]);
        space_.batch(query, ptrs, k, dim_, out + off);
    }
    if (deleted) std::memset(deleted, 0, ids.size());
}

void BuildGraph::neighbors(NodeId id, int level, std::vector<NodeId>& out) {
    const uint32_t* s = slot(id, level);
    if (s == nullptr) {
        out.clear();
        return;
    }
    lock(id);
    const uint32_t count = s[0];
    out.resize(count);
    std::memcpy(out.data(), s + 1, count * sizeof(NodeId));
    unlock(id);
}

void BuildGraph::vector(NodeId id, float* out) {
    const float* v = vector_ptr(id);
    std::memcpy(out, v, lanes(v) * sizeof(float));
}

void BuildGraph::set_neighbors(NodeId id, int level, std::span<const NodeId> list) {
    uint32_t* s = slot(id, level);
    const size_t cap = level == 0 ? 2 * m_ : m_;
    if (s == nullptr || list.size() > cap)
        throw Error(Errc::kInternal, "hnsw build: neighbour list write out of bounds");
    lock(id);
    std::memcpy(s + 1, list.data(), list.size() * sizeof(NodeId));
    s[0] = static_cast<uint32_t>(list.size());
    unlock(id);
}

bool BuildGraph::update_neighbors(NodeId id, int level, std::span<const NodeId> expected,
                                  std::span<const NodeId> replacement) {
    uint32_t* s = slot(id, level);
    const size_t cap = level == 0 ? 2 * m_ : m_;
    if (s == nullptr || replacement.size() > cap)
        throw Error(Errc::kInternal, "hnsw build: neighbour list write out of bounds");
    lock(id);
    const bool same = s[0] == expected.size() &&
                      std::memcmp(s + 1, expected.data(), expected.size() * sizeof(NodeId)) == 0;
    if (same) {
        std::memcpy(s + 1, replacement.data(), replacement.size() * sizeof(NodeId));
        s[0] = static_cast<uint32_t>(replacement.size());
    }
    unlock(id);
    return same;
}

// ---------------------------------------------------------------------------------------------
// Builder

Builder::Builder(const Params& params, size_t memory_budget_bytes)
    : params_(params),
      dim_(params.dim),
      budget_(memory_budget_bytes),
      rng_state_(params.seed),
      graph_(params.metric) {
    if (params.dim == 0) throw Error(Errc::kInvalidParameter, "hnsw build: dimension must be > 0");
    if (params.m < 2) throw Error(Errc::kInvalidParameter, "hnsw build: m must be >= 2");
    if (params.ef_construction < 1)
        throw Error(Errc::kInvalidParameter, "hnsw build: ef_construction must be >= 1");
    params_.max_level = std::clamp(params.max_level, 0, 255);
    var_ = distance::element_kind(params.metric) == distance::ElementKind::kSparse;
    // The build checks reachability once at the end (connect_unreachable), which is cheaper
    // than checking in-links after every prune.
    params_.keep_in_links = false;
    level_mult_ = 1.0 / std::log(static_cast<double>(params.m));
}

Builder::~Builder() {
    cancel();
    for (std::thread& t : threads_) {
        try {
            if (t.joinable()) t.join();
        } catch (...) {
        }
    }
}

int Builder::draw_level() {
    // splitmix64: tiny, seedable, identical on every platform.
    uint64_t z = (rng_state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    const double u = static_cast<double>(z >> 11) * 0x1.0p-53;  // [0, 1)
    const double r = -std::log(1.0 - u) * level_mult_;
    return r >= params_.max_level ? params_.max_level : static_cast<int>(r);
}

// Graph bytes one item will need: its level-0 list, upper lists, upper offset, lock, and a
// dense visited tag for each of (up to) two threads' scratch.
size_t Builder::item_bytes(int level) const {
    const size_t m = static_cast<size_t>(params_.m);
    return (1 + 2 * m) * 4 + static_cast<size_t>(level) * (1 + m) * 4 + 8 + 1 + 4;
}

size_t Builder::memory_used() const {
    const size_t n = levels_.size();
    size_t bytes = vectors_.capacity() * sizeof(float) + offsets_.capacity() * sizeof(uint64_t) +
                   levels_.capacity() + first_label_.capacity() * sizeof(uint64_t) +
                   hashes_.capacity() * sizeof(uint32_t) + dedup_.capacity() * sizeof(uint32_t) +
                   label_bytes_;
    bytes += n * item_bytes(0) + upper_words_ * sizeof(uint32_t);
    return bytes;
}

bool Builder::grow_dedup() {
    const size_t new_size = std::max<size_t>(1024, dedup_.size() * 2);
    if (memory_used() + (new_size - dedup_.size()) * sizeof(uint32_t) > budget_) return false;
    std::vector<uint32_t> old;
    old.swap(dedup_);
    dedup_.assign(new_size, 0);
    const size_t mask = new_size - 1;
    for (uint32_t v : old) {
        if (v == 0) continue;
        size_t i = hashes_[v - 1] & mask;
        while (dedup_[i] != 0) i = (i + 1) & mask;
        dedup_[i] = v;
    }
    return true;
}

bool Builder::add(const float* vec, uint64_t label, int max_level) {
    if (started_) throw Error(Errc::kInternal, "hnsw build: add() after start()");
    const size_t lanes = var_ ? distance::sparse_lanes(vec) : dim_;
    if (lanes > dim_)
        throw Error(Errc::kInternal, "hnsw build: vector longer than the index's elements");
    const uint32_t h = hash_vector(vec, lanes);
    const size_t vbytes = lanes * sizeof(float);
    // Same length and same bytes (a sparse item's first lane is its length).
    auto same = [&](NodeId item) {
        const float* v = vector(item);
        return (!var_ || distance::sparse_nnz(v) == distance::sparse_nnz(vec)) &&
               std::memcmp(v, vec, vbytes) == 0;
    };

    // Exact duplicate of an earlier item?
    size_t free_slot = SIZE_MAX;
    if (!dedup_.empty()) {
        const size_t mask = dedup_.size() - 1;
        size_t i = h & mask;
        while (dedup_[i] != 0) {
            const NodeId item = dedup_[i] - 1;
            if (hashes_[item] == h && same(item)) {
                auto it = more_labels_.find(item);
                const size_t count = it == more_labels_.end() ? 1 : it->second.size();
                if (count < kMaxLabels) {
                    if (it == more_labels_.end()) {
                        // A map node plus room for the first labels.
                        const size_t extra = 64 + kTidsPerElement * sizeof(uint64_t);
                        if (memory_used() + extra > budget_) return false;
                        std::vector<uint64_t>& labels = more_labels_[item];
                        labels.reserve(kTidsPerElement);
                        labels.push_back(first_label_[item]);
                        labels.push_back(label);
                        label_bytes_ += extra;
                    } else {
                        std::vector<uint64_t>& labels = it->second;
                        if (labels.size() == labels.capacity()) {
                            // Grow by doubling (to at most kMaxLabels), within the budget.
                            const size_t old_cap = labels.capacity();
                            const size_t new_cap = std::min(kMaxLabels, old_cap * 2);
                            if (memory_used() + (new_cap - old_cap) * sizeof(uint64_t) > budget_)
                                return false;
                            labels.reserve(new_cap);
                            label_bytes_ += (labels.capacity() - old_cap) * sizeof(uint64_t);
                        }
                        labels.push_back(label);
                    }
                    return true;
                }
                free_slot = i;  // full: the new item takes over this slot
                break;
            }
            i = (i + 1) & mask;
        }
        if (free_slot == SIZE_MAX) free_slot = i;
    }

    const size_t n = levels_.size();
    if (n >= static_cast<size_t>(kInvalidNode) - 1) return false;
    const int level = std::min(draw_level(), std::max(max_level, 0));
    const size_t graph_bytes = item_bytes(level);
    if (n == levels_.capacity()) {
        // Grow every per-item array together, never past the budget.
        const size_t fixed =
            (var_ ? sizeof(uint64_t) : vbytes) + 1 + sizeof(uint64_t) + sizeof(uint32_t);
        const size_t used = memory_used();
        if (used + graph_bytes + fixed > budget_) return false;
        const size_t afford = (budget_ - used - graph_bytes) / (fixed + item_bytes(0));
        const size_t want = std::max<size_t>(256, n * 2);
        const size_t cap = n + std::max<size_t>(1, std::min(want - n, afford));
        if (var_)
            offsets_.reserve(cap);
        else
            vectors_.reserve(cap * dim_);
        levels_.reserve(cap);
        first_label_.reserve(cap);
        hashes_.reserve(cap);
    }
    if (var_ && vectors_.size() + lanes > vectors_.capacity()) {
        // Variable-length vectors share one array: grow it by half, or just enough near the
        // budget.
        const size_t need = vectors_.size() + lanes;
        const size_t used = memory_used();
        size_t cap = std::max(need, vectors_.capacity() + vectors_.capacity() / 2 + 1024);
        if (used + graph_bytes + (cap - vectors_.capacity()) * sizeof(float) > budget_) cap = need;
        if (used + graph_bytes + (cap - vectors_.capacity()) * sizeof(float) > budget_)
            return false;
        vectors_.reserve(cap);
    }
    if (memory_used() + graph_bytes > budget_) return false;
    if ((dedup_used_ + 1) * 2 > dedup_.size()) {
        if (!grow_dedup()) return false;
        // Slots moved: find the free (or full-duplicate) slot again.
        const size_t mask = dedup_.size() - 1;
        size_t i = h & mask;
        free_slot = SIZE_MAX;
        while (dedup_[i] != 0) {
            const NodeId item = dedup_[i] - 1;
            if (hashes_[item] == h && same(item)) {
                free_slot = i;
                break;
            }
            i = (i + 1) & mask;
        }
        if (free_slot == SIZE_MAX) free_slot = i;
    }

    if (var_) offsets_.push_back(vectors_.size());
    vectors_.insert(vectors_.end(), vec, vec + lanes);
    levels_.push_back(static_cast<uint8_t>(level));
    first_label_.push_back(label);
    hashes_.push_back(h);
    if (dedup_[free_slot] == 0) ++dedup_used_;
    dedup_[free_slot] = static_cast<uint32_t>(n + 1);
    upper_words_ += static_cast<size_t>(level) * (1 + static_cast<size_t>(params_.m));
    return true;
}

std::span<const uint64_t> Builder::labels(NodeId id) const {
    auto it = more_labels_.find(id);
    if (it != more_labels_.end()) return it->second;
    return std::span<const uint64_t>(&first_label_[id], 1);
}

std::span<const NodeId> Builder::neighbors(NodeId id, int level) const {
    const uint32_t* s = graph_.slot(id, level);
    if (s == nullptr) return {};
    return std::span<const NodeId>(s + 1, s[0]);
}

// Allocates the graph arrays (all lists empty) and points graph_ at them.
void Builder::prepare_graph() {
    const size_t n = levels_.size();
    const size_t m = static_cast<size_t>(params_.m);
    links0_.assign(n * (1 + 2 * m), 0);
    upper_.assign(upper_words_, 0);
    upper_offset_.assign(n, 0);
    size_t off = 0;
    for (size_t i = 0; i < n; ++i) {
        upper_offset_[i] = off;
        off += static_cast<size_t>(levels_[i]) * (1 + m);
    }
    locks_ = std::make_unique<std::atomic<uint8_t>[]>(std::max<size_t>(n, 1));
    graph_.dim_ = dim_;
    graph_.n_ = n;
    graph_.m_ = static_cast<uint32_t>(m);
    graph_.vectors_ = vectors_.data();
    graph_.offsets_ = var_ ? offsets_.data() : nullptr;
    graph_.levels_ = levels_.data();
    graph_.links0_ = links0_.data();
    graph_.upper_ = upper_.data();
    graph_.upper_offset_ = upper_offset_.data();
    graph_.locks_ = locks_.get();
}

void Builder::start(int threads) {
    if (started_) throw Error(Errc::kInternal, "hnsw build: start() called twice");
    started_ = true;
    prepare_graph();
    const size_t n = levels_.size();
    if (n == 0) return;

    entry_ = 0;
    max_level_ = levels_[0];
    next_.store(1);
    inserted_.store(1);
    if (n == 1) return;

    const int count = static_cast<int>(
        std::clamp<size_t>(threads < 1 ? 1 : threads, 1, std::min<size_t>(n - 1, 64)));
    // Threads inherit the signal mask: create them with everything blocked, so that no signal
    // meant for the (Postgres) calling thread is ever delivered to a worker.
    const sigset_t old = block_all_signals();
    try {
        for (int i = 0; i < count; ++i) {
            {
                std::lock_guard<std::mutex> lk(done_mu_);
                ++running_;
            }
            ++active_;
            try {
                threads_.emplace_back([this] { worker(); });
            } catch (...) {
                --active_;
                std::lock_guard<std::mutex> lk(done_mu_);
                --running_;
                throw;
            }
        }
    } catch (const std::system_error& e) {
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
        if (threads_.empty())
            throw Error(Errc::kOutOfMemory,
                        std::string("hnsw build: could not start a thread: ") + e.what());
        // Fewer threads than asked: the running ones take all the work.
        return;
    } catch (...) {
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
        cancel();
        for (std::thread& t : threads_) t.join();
        threads_.clear();
        throw Error(Errc::kOutOfMemory, "hnsw build: could not start worker threads");
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void Builder::worker() {
    block_all_signals();
    try {
        ScratchT<DenseVisitedSet> sc;
        sc.visited.resize(levels_.size());
        const size_t n = levels_.size();
        while (!cancel_.load(std::memory_order_relaxed)) {
            const size_t i = next_.fetch_add(1, std::memory_order_relaxed);
            if (i >= n) break;
            insert_item(static_cast<NodeId>(i), sc);
            inserted_.fetch_add(1, std::memory_order_relaxed);
        }
        if (active_.fetch_sub(1) == 1 && !cancel_.load() && inserted_.load() == n)
            connect_unreachable(sc);
    } catch (...) {
        std::exception_ptr err = detail::current_worker_error();
        cancel();
        std::lock_guard<std::mutex> lk(done_mu_);
        if (!error_) error_ = err;
    }
    std::lock_guard<std::mutex> lk(done_mu_);
    --running_;
    done_cv_.notify_all();
}

void Builder::insert_item(NodeId id, ScratchT<DenseVisitedSet>& sc) {
    const int level = levels_[id];
    std::unique_lock<std::mutex> lk(entry_mu_);
    const NodeId entry = entry_;
    const int entry_level = max_level_;
    // A node that raises the top level holds the lock for its whole insertion, so that two
    // such nodes never race for the entry point.
    if (level <= entry_level) lk.unlock();
    insert(graph_, id, vector(id), level, entry, entry_level, params_, sc);
    if (level > entry_level) {
        entry_ = id;
        max_level_ = level;
    }
}

// The safety net after all insertions: every node must be reachable from the entry point over
// level 0 (index scans only walk level 0 below the descent). Insertion keeps the graph connected
// in practice, but long runs of exact copies can still strand a few nodes; each stranded node is
// linked from the closest reachable node found by a search (evicting that node's last
// neighbour into the stranded node's own list, so no path is lost).
void Builder::connect_unreachable(ScratchT<DenseVisitedSet>& sc) {
    const size_t n = levels_.size();
    if (n < 2 || entry_ == kInvalidNode) return;
    const size_t cap = 2 * static_cast<size_t>(params_.m);
    std::vector<uint8_t> seen(n, 0);
    std::vector<NodeId> queue;
    queue.reserve(n);
    auto reach_from = [&](NodeId root) {
        if (seen[root]) return;
        size_t head = queue.size();
        seen[root] = 1;
        queue.push_back(root);
        while (head < queue.size())
            for (NodeId nb : neighbors(queue[head++], 0))
                if (!seen[nb]) {
                    seen[nb] = 1;
                    queue.push_back(nb);
                }
    };
    reach_from(entry_);
    const size_t ef = static_cast<size_t>(std::max(params_.ef_construction, 1));
    for (NodeId u = 0; u < n && queue.size() < n; ++u) {
        if (seen[u] || cancel_.load(std::memory_order_relaxed)) continue;
        const Candidate e = greedy_descent(graph_, vector(u), entry_, max_level_, 0, sc.search);
        search_layer(graph_, vector(u), std::span<const NodeId>(&e.id, 1), ef, 0, sc.visited,
                     sc.search, sc.results);
        NodeId r = entry_;
        for (const Candidate& c : sc.results)
            if (c.id != u && seen[c.id]) {
                r = c.id;
                break;
            }
        uint32_t* rs = graph_.slot(r, 0);
        uint32_t* us = graph_.slot(u, 0);
        if (rs[0] < cap) {
            rs[1 + rs[0]++] = u;
        } else {
            const NodeId x = rs[rs[0]];
            rs[rs[0]] = u;
            bool has_x = false;
            for (uint32_t i = 0; i < us[0]; ++i) has_x |= us[1 + i] == x;
            if (!has_x && x != u) {
                if (us[0] < cap)
                    us[1 + us[0]++] = x;
                else
                    us[us[0]] = x;
            }
        }
        reach_from(u);
    }
}

bool Builder::wait_for(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lk(done_mu_);
    return done_cv_.wait_for(lk, timeout, [this] { return running_ == 0; });
}

void Builder::join() {
    for (std::thread& t : threads_)
        if (t.joinable()) t.join();
    std::exception_ptr err;
    {
        std::lock_guard<std::mutex> lk(done_mu_);
        err = error_;
        error_ = nullptr;
    }
    if (err) std::rethrow_exception(err);
}

std::vector<NodeId> Builder::locality_order() const {
    const size_t n = levels_.size();
    std::vector<NodeId> order;
    order.reserve(n);
    std::vector<uint8_t> seen(n, 0);
    auto bfs = [&](NodeId root) {
        size_t head = order.size();
        seen[root] = 1;
        order.push_back(root);
        while (head < order.size()) {
            const NodeId id = order[head++];
            for (NodeId nb : neighbors(id, 0)) {
                if (nb < n && !seen[nb]) {
                    seen[nb] = 1;
                    order.push_back(nb);
                }
            }
        }
    };
    if (n == 0) return order;
    if (entry_ != kInvalidNode && entry_ < n) bfs(entry_);
    for (NodeId i = 0; i < n; ++i)
        if (!seen[i]) bfs(i);
    return order;
}

}  // namespace piramid::hnsw
