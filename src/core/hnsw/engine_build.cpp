// The engine-driven HNSW build: Builder::start_with_engine (declared in builder.hpp).
//
// Phases, all on one job thread (signals blocked) plus helper threads it starts:
//   1. upper levels: the normal parallel insertion, restricted to the nodes with level >= 1
//      (about n/m of them); the layer-0 lists this leaves among those nodes are discarded;
//   2. layer 0, forward: each node's k nearest other nodes from the engine, a block of queries at
//      a time, pruned by the HNSW heuristic to 2m. While helpers prune block b, the job thread
//      already has the engine compute block b + 1 (so a GPU and the CPU overlap);
//   3. layer 0, reverse: each kept edge u -> v offers u to v; v's list becomes forward(v) plus
//      its offers, pruned again by the heuristic when over 2m. Reverse lists are gathered first
//      (in CSR form, by ascending u), so the result does not depend on thread scheduling;
//   4. exact copies (items made when one vector has more than kMaxLabels labels) get chains;
//   5. the same reachability pass as the normal build.
// Only phase 1 and the reachability pass depend on thread timing: with one builder thread the
// graph is deterministic (the engines' top-k is deterministic, ties by index).
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <numeric>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "core/common/error.hpp"
#include "core/engine/engine.hpp"
#include "core/hnsw/builder.hpp"
#include "core/hnsw/select.hpp"

namespace piramid::hnsw {

namespace {

// Queries per engine call: large enough to keep a GPU busy, small enough that two blocks of
// candidates stay a few MiB.
constexpr size_t kDefaultBlock = 4096;
constexpr size_t kMinBlock = 64;
// Nodes a helper takes at a time from a shared counter.
constexpr size_t kChunk = 32;

void block_signals() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
}

// The graph's distance (space.hpp) for the engine: cosine inputs are normalized by the caller
// and the graph orders them by -dot, so the engine computes the negative inner product too.
engine::Metric engine_metric(distance::Metric m) {
    return m == distance::Metric::kCosine ? distance::Metric::kInnerProduct : m;
}

// Threads running one phase. The first failure stops the others (through `stop`) and is
// rethrown by join().
class Team {
  public:
    explicit Team(std::atomic<bool>& stop) : stop_(stop) {}
    Team(const Team&) = delete;
    Team& operator=(const Team&) = delete;
    ~Team() {
        for (std::thread& t : threads_)
            if (t.joinable()) t.join();
    }

    // Starts up to `count` threads running fn (fewer when threads cannot be created: the work
    // is pulled from shared counters, so whoever runs takes it all).
    template <class F>
    void spawn(int count, const F& fn) {
        for (int i = 0; i < count; ++i) {
            try {
                threads_.emplace_back([this, &fn] { run(fn); });
            } catch (...) {
                break;
            }
        }
    }
    template <class F>
    void run(const F& fn) noexcept {
        try {
            fn();
        } catch (...) {
            stop_.store(true, std::memory_order_relaxed);
            std::lock_guard<std::mutex> lk(mu_);
            if (!error_) error_ = std::current_exception();
        }
    }
    void join() {
        for (std::thread& t : threads_)
            if (t.joinable()) t.join();
        threads_.clear();
        if (error_) std::rethrow_exception(error_);
    }

  private:
    std::atomic<bool>& stop_;
    std::vector<std::thread> threads_;
    std::mutex mu_;
    std::exception_ptr error_;
};

}  // namespace

struct EngineBuild {
    Builder& b;
    engine::DistanceEngine& eng;
    int threads;
    size_t block = kDefaultBlock;
    size_t n;
    size_t dim;
    size_t cap;  // layer-0 capacity, 2m
    size_t k;    // candidates per node
    MetricSpace space;
    engine::Cancel cancel;
    // Representatives: the items whose vector no other item with a smaller id has, ascending.
    // Empty when that is every item (the usual case): the engine then reads vectors_ directly.
    std::vector<NodeId> reps;
    std::vector<float> gathered;                    // the representatives' vectors
    std::vector<std::pair<NodeId, NodeId>> copies;  // (representative, copy), ascending

    EngineBuild(Builder& builder, engine::DistanceEngine& engine, int thread_count)
        : b(builder),
          eng(engine),
          threads(std::clamp(thread_count, 1, 64)),
          n(builder.size()),
          dim(builder.dim_),
          cap(2 * static_cast<size_t>(builder.params_.m)),
          k(std::min(std::max(static_cast<size_t>(builder.params_.ef_construction), cap),
                     engine::kMaxK - 1)),
          space(builder.params_.metric) {
        cancel.poll = [](void* arg) {
            return static_cast<Builder*>(arg)->cancel_.load(std::memory_order_relaxed);
        };
        cancel.poll_arg = &b;
    }

    bool canceled() const { return b.cancel_.load(std::memory_order_relaxed); }
    size_t nr() const { return reps.empty() ? n : reps.size(); }
    NodeId item(size_t r) const { return reps.empty() ? static_cast<NodeId>(r) : reps[r]; }
    const float* data() const { return reps.empty() ? b.vectors_.data() : gathered.data(); }
    uint32_t* list0(NodeId id) const {
        return b.links0_.data() + static_cast<size_t>(id) * (1 + cap);
    }

    // Finds the items that repeat an earlier item's vector exactly. Such items exist only when
    // some item's label list filled up (add() merges every other exact duplicate).
    void group_copies() {
        bool any_full = false;
        for (const auto& entry : b.more_labels_) any_full |= entry.second.size() >= b.kMaxLabels;
        if (!any_full) return;
        std::vector<NodeId> order(n);
        std::iota(order.begin(), order.end(), NodeId{0});
        std::sort(order.begin(), order.end(), [this](NodeId x, NodeId y) {
            return b.hashes_[x] < b.hashes_[y] || (b.hashes_[x] == b.hashes_[y] && x < y);
        });
        std::vector<uint8_t> is_copy(n, 0);
        std::vector<NodeId> distinct;
        const size_t vbytes = dim * sizeof(float);
        for (size_t i = 0; i < n;) {
            size_t j = i + 1;
            while (j < n && b.hashes_[order[j]] == b.hashes_[order[i]]) ++j;
            distinct.clear();
            for (size_t t = i; t < j; ++t) {
                const NodeId id = order[t];
                bool found = false;
                for (NodeId r : distinct)
                    if (std::memcmp(b.vector(r), b.vector(id), vbytes) == 0) {
                        copies.push_back({r, id});
                        is_copy[id] = 1;
                        found = true;
                        break;
                    }
                if (!found) distinct.push_back(id);
            }
            i = j;
        }
        if (copies.empty()) return;
        std::sort(copies.begin(), copies.end());
        for (NodeId id = 0; id < n; ++id)
            if (!is_copy[id]) reps.push_back(id);
    }

    // Bytes needed beyond the graph itself with `blk` queries per engine call: two blocks of
    // engine output, or later the reverse lists; plus the gathered representatives.
    size_t extra_bytes(size_t blk) const {
        const size_t cand = 2 * blk * (k + 1) * (sizeof(int64_t) + sizeof(double));
        const size_t csr = (n + 1) * sizeof(uint64_t) + nr() * cap * sizeof(NodeId);
        const size_t gather = reps.empty() ? 0 : reps.size() * dim * sizeof(float);
        return std::max(cand, csr) + gather;
    }

    void job() {
        block_signals();
        try {
            upper_levels();
            if (!canceled()) {
                const engine::Status st = layer0();
                if (st != engine::Status::kOk && st != engine::Status::kCanceled && !canceled()) {
                    fall_back(st);
                    return;  // the normal workers did the bookkeeping
                }
            }
        } catch (...) {
            std::exception_ptr err = detail::current_worker_error();
            b.cancel();
            std::lock_guard<std::mutex> lk(b.done_mu_);
            if (!b.error_) b.error_ = err;
        }
        std::lock_guard<std::mutex> lk(b.done_mu_);
        --b.running_;
        b.done_cv_.notify_all();
    }

    // Phase 1: the upper levels by normal insertion among the nodes that have them.
    void upper_levels() {
        std::vector<NodeId> upper;
        for (NodeId id = 0; id < n; ++id)
            if (b.levels_[id] >= 1) upper.push_back(id);
        if (upper.empty()) {
            b.entry_ = 0;
            b.max_level_ = b.levels_[0];
            return;
        }
        // Progress: every node is counted once, in the phase that finishes it.
        b.entry_ = upper[0];
        b.max_level_ = b.levels_[upper[0]];
        b.inserted_.fetch_add(1, std::memory_order_relaxed);
        std::atomic<size_t> next{1};
        auto work = [&] {
            block_signals();
            ScratchT<DenseVisitedSet> sc;
            sc.visited.resize(n);
            while (!canceled()) {
                const size_t i = next.fetch_add(1, std::memory_order_relaxed);
                if (i >= upper.size()) break;
                b.insert_item(upper[i], sc);
                b.inserted_.fetch_add(1, std::memory_order_relaxed);
            }
        };
        Team team(b.cancel_);
        team.spawn(threads - 1, work);
        team.run(work);
        team.join();
        // Layer 0 among these nodes only guided their insertion; phase 2 writes the real one.
        for (NodeId id : upper) list0(id)[0] = 0;
    }

    // Phases 2-5. Returns the engine's status (kOk when the graph is complete).
    engine::Status layer0() {
        const size_t count = nr(), kk = k + 1;
        const engine::Metric metric = engine_metric(b.params_.metric);
        const size_t blk = std::min(block, count);
        const size_t nblocks = (count + blk - 1) / blk;
        std::vector<int64_t> ids[2];
        std::vector<double> dists[2];
        for (int i = 0; i < (nblocks > 1 ? 2 : 1); ++i) {
            ids[i].resize(blk * kk);
            dists[i].resize(blk * kk);
        }
        auto compute = [&](size_t bi) {
            const size_t q0 = bi * blk, nq = std::min(blk, count - q0);
            const engine::Status st =
                eng.topk(data() + q0 * dim, nq, data(), count, dim, metric, kk, ids[bi & 1].data(),
                         dists[bi & 1].data(), &cancel);
            if (st != engine::Status::kOk && st != engine::Status::kCanceled)
                b.engine_error_ = std::string("engine ") + eng.name() + ": " +
                                  engine::status_name(st) +
                                  (eng.last_error().empty() ? "" : ": " + eng.last_error());
            return st;
        };

        engine::Status st = compute(0);
        for (size_t bi = 0; bi < nblocks && st == engine::Status::kOk; ++bi) {
            const size_t q0 = bi * blk, nq = std::min(blk, count - q0);
            const int64_t* bids = ids[bi & 1].data();
            std::atomic<size_t> next{0};
            auto work = [&, q0, nq, bids] {
                block_signals();
                SelectScratch ss;
                std::vector<Candidate> cands, sel;
                while (!canceled()) {
                    const size_t c0 = next.fetch_add(kChunk, std::memory_order_relaxed);
                    if (c0 >= nq) break;
                    for (size_t q = c0; q < std::min(nq, c0 + kChunk); ++q)
                        prune_forward(q0 + q, bids + q * kk, cands, sel, ss);
                }
            };
            Team team(b.cancel_);
            team.spawn(threads, work);
            if (bi + 1 < nblocks) st = compute(bi + 1);
            team.run(work);  // the job thread helps once its engine call is done
            team.join();
            if (canceled()) return engine::Status::kCanceled;
        }
        if (st != engine::Status::kOk) return st;
        for (auto& v : ids) std::vector<int64_t>().swap(v);
        for (auto& v : dists) std::vector<double>().swap(v);

        add_reverse_edges();
        if (canceled()) return engine::Status::kCanceled;
        chain_copies();
        ScratchT<DenseVisitedSet> sc;
        sc.visited.resize(n);
        b.connect_unreachable(sc);
        if (canceled()) return engine::Status::kCanceled;
        b.inserted_.store(n, std::memory_order_relaxed);
        return engine::Status::kOk;
    }

    // Phase 2 for representative r: its candidates from the engine row (k + 1 ids, itself
    // among them unless it has more than k exact copies), pruned to its forward list.
    void prune_forward(size_t r, const int64_t* row, std::vector<Candidate>& cands,
                       std::vector<Candidate>& sel, SelectScratch& ss) {
        const NodeId u = item(r);
        const float* uv = b.vector(u);
        cands.clear();
        for (size_t c = 0; c <= k && cands.size() < k; ++c) {
            if (row[c] < 0) break;
            if (static_cast<size_t>(row[c]) == r) continue;
            const NodeId v = item(static_cast<size_t>(row[c]));
            cands.push_back(Candidate{space(uv, b.vector(v), dim), v});
        }
        // Distances recomputed with the graph's own kernel: the heuristic compares them with
        // distances between candidates, so both must come from the same arithmetic.
        std::sort(cands.begin(), cands.end(),
                  [](const Candidate& x, const Candidate& y) { return closer(x, y); });
        select_neighbors_heuristic(b.graph_, std::span<const Candidate>(cands), cap, sel, space, uv,
                                   u, ss);
        write(u, sel);
        if (b.levels_[u] == 0) b.inserted_.fetch_add(1, std::memory_order_relaxed);
    }

    void write(NodeId id, const std::vector<Candidate>& list) {
        uint32_t* s = list0(id);
        for (size_t i = 0; i < list.size(); ++i) s[1 + i] = list[i].id;
        s[0] = static_cast<uint32_t>(list.size());
    }

    // Phase 3: forward(v) plus every u with u -> v, pruned when over capacity.
    void add_reverse_edges() {
        const size_t count = nr();
        // off[v] = start of v's reverse list (after the fill loop: its end).
        std::vector<uint64_t> off(n + 1, 0);
        for (size_t r = 0; r < count; ++r) {
            const uint32_t* s = list0(item(r));
            for (uint32_t i = 0; i < s[0]; ++i) ++off[s[1 + i] + 1];
        }
        for (size_t v = 0; v < n; ++v) off[v + 1] += off[v];
        std::vector<NodeId> rev(off[n]);
        for (size_t r = 0; r < count; ++r) {
            const NodeId u = item(r);
            const uint32_t* s = list0(u);
            for (uint32_t i = 0; i < s[0]; ++i) rev[off[s[1 + i]]++] = u;
        }
        // Now v's reverse list is [v == 0 ? 0 : off[v - 1], off[v]).
        std::atomic<size_t> next{0};
        auto work = [&] {
            block_signals();
            SelectScratch ss;
            std::vector<Candidate> cands, sel;
            while (!canceled()) {
                const size_t c0 = next.fetch_add(kChunk, std::memory_order_relaxed);
                if (c0 >= count) break;
                for (size_t r = c0; r < std::min(count, c0 + kChunk); ++r) {
                    const NodeId v = item(r);
                    const float* vv = b.vector(v);
                    uint32_t* s = list0(v);
                    const uint32_t nf = s[0];
                    cands.clear();
                    for (uint32_t i = 0; i < nf; ++i)
                        cands.push_back(Candidate{space(vv, b.vector(s[1 + i]), dim), s[1 + i]});
                    const uint64_t e = off[v];
                    for (uint64_t j = v == 0 ? 0 : off[v - 1]; j < e; ++j) {
                        const NodeId u = rev[j];
                        if (std::find(s + 1, s + 1 + nf, u) != s + 1 + nf) continue;
                        cands.push_back(Candidate{space(vv, b.vector(u), dim), u});
                    }
                    if (cands.size() == nf) continue;
                    std::sort(cands.begin(), cands.end(),
                              [](const Candidate& x, const Candidate& y) { return closer(x, y); });
                    if (cands.size() <= cap) {
                        write(v, cands);
                    } else {
                        select_neighbors_heuristic(b.graph_, std::span<const Candidate>(cands), cap,
                                                   sel, space, vv, v, ss);
                        write(v, sel);
                    }
                }
            }
        };
        Team team(b.cancel_);
        team.spawn(threads - 1, work);
        team.run(work);
        team.join();
    }

    // Phase 4: copies c1 < c2 < ... of representative r: r -> c1 -> c2 -> ..., each copy also
    // pointing where r points (so a search that enters the chain can leave it). When r's list
    // is full, c1 replaces its last entry, which the last copy still holds.
    void chain_copies() {
        std::vector<NodeId> old;
        for (size_t i = 0; i < copies.size();) {
            const NodeId r = copies[i].first;
            size_t j = i;
            while (j < copies.size() && copies[j].first == r) ++j;
            uint32_t* rs = list0(r);
            old.assign(rs + 1, rs + 1 + rs[0]);
            for (size_t t = i; t < j; ++t) {
                uint32_t* cs = list0(copies[t].second);
                size_t len = 0;
                if (t + 1 < j) cs[1 + len++] = copies[t + 1].second;
                for (size_t x = 0; x < old.size() && len < cap; ++x) cs[1 + len++] = old[x];
                cs[0] = static_cast<uint32_t>(len);
                if (b.levels_[copies[t].second] == 0)
                    b.inserted_.fetch_add(1, std::memory_order_relaxed);
            }
            if (rs[0] < cap)
                rs[1 + rs[0]++] = copies[i].second;
            else
                rs[rs[0]] = copies[i].second;
            i = j;
        }
    }

    // The engine failed: start over with the normal threaded build, on this thread and
    // threads - 1 helpers (the builder's own worker loop).
    void fall_back(engine::Status st) {
        if (b.engine_error_.empty())
            b.engine_error_ = std::string("engine ") + eng.name() + ": " + engine::status_name(st);
        std::fill(b.links0_.begin(), b.links0_.end(), 0);
        std::fill(b.upper_.begin(), b.upper_.end(), 0);
        b.entry_ = 0;
        b.max_level_ = b.levels_[0];
        b.next_.store(1);
        b.inserted_.store(1);
        b.active_.store(1);
        std::vector<std::thread> helpers;
        for (int i = 1; i < threads; ++i) {
            {
                std::lock_guard<std::mutex> lk(b.done_mu_);
                ++b.running_;
            }
            ++b.active_;
            try {
                helpers.emplace_back([this] { b.worker(); });
            } catch (...) {
                --b.active_;
                std::lock_guard<std::mutex> lk(b.done_mu_);
                --b.running_;
                break;
            }
        }
        b.worker();  // counts this thread out of running_ when done
        for (std::thread& t : helpers) t.join();
    }
};

bool Builder::start_with_engine(engine::DistanceEngine& engine, int threads, size_t block) {
    if (started_) throw Error(Errc::kInternal, "hnsw build: start() called twice");
    // The engine computes over dense rows of dim lanes: not for variable-length sparse vectors.
    if (var_) return false;
    auto eb = std::make_unique<EngineBuild>(*this, engine, threads);
    eb->group_copies();
    if (!eb->reps.empty()) {
        eb->gathered.resize(eb->reps.size() * dim_);
        for (size_t r = 0; r < eb->reps.size(); ++r)
            std::memcpy(eb->gathered.data() + r * dim_, vector(eb->reps[r]), dim_ * sizeof(float));
    }
    // What the budget has left after the graph (memory_used() already plans for it).
    const size_t used = memory_used();
    const size_t avail = budget_ > used ? budget_ - used : 0;
    size_t blk = block > 0 ? block : kDefaultBlock;
    while (blk > kMinBlock && eb->extra_bytes(blk) > avail) blk /= 2;
    if (eb->extra_bytes(blk) > avail) return false;
    eb->block = blk;

    started_ = true;
    prepare_graph();
    const size_t n = levels_.size();
    if (n == 0) return true;
    entry_ = 0;
    max_level_ = levels_[0];
    if (n == 1) {
        inserted_.store(1);
        return true;
    }

    // The job thread inherits a fully blocked signal mask (see start()).
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    {
        std::lock_guard<std::mutex> lk(done_mu_);
        ++running_;
    }
    try {
        threads_.emplace_back([job = std::move(eb)] { job->job(); });
    } catch (...) {
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
        std::lock_guard<std::mutex> lk(done_mu_);
        --running_;
        throw Error(Errc::kOutOfMemory, "hnsw build: could not start the build thread");
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return true;
}

}  // namespace piramid::hnsw
