// DistanceEngine: batched distance work over gathered float32 vectors. A batch is Q queries and N
// base vectors, both row-major with the same dimension. An engine computes either the Q x N
// distance matrix or each query's k nearest base vectors. All engines report failures as Status
// values (never exceptions), so the same contract holds across the CUDA plugin's C boundary.
//
// Distances ("scores") are ordered smaller-is-closer:
//   kL2           squared Euclidean distance (callers take the square root for display)
//   kInnerProduct negative inner product
//   kCosine       1 - cos(a, b) in [0, 2]; NaN when either vector has norm 0
//   kL1           Manhattan distance
// Order used by top-k: ascending distance, NaN after every number, ties by base index ascending.
// That makes results deterministic whatever the thread count or tiling.
#pragma once

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/distance/distance.hpp"

namespace piramid::engine {

using distance::Metric;

enum class Status : int {
    kOk = 0,
    kCanceled = 1,         // the caller asked to stop
    kInvalidArgument = 2,  // bad sizes, k, metric
    kOutOfMemory = 3,      // host or device allocation failed
    kDeviceError = 4,      // a CUDA error: the device is unusable for this process from now on
    kUnavailable = 5,      // no usable device (no driver, stub driver, no device, plugin missing)
    kInternal = 6,         // a broken invariant
};

const char* status_name(Status s) noexcept;

// Largest k an engine accepts.
inline constexpr size_t kMaxK = 1024;

// Cooperative cancellation. `flag` may be set from any thread. `poll` (optional) is called only
// on the thread that called the engine, between pieces of work; it returns true to cancel (the
// Postgres glue reads its interrupt flags there, without calling into Postgres).
struct Cancel {
    std::atomic<bool> flag{false};
    bool (*poll)(void* arg) = nullptr;
    void* poll_arg = nullptr;

    // Caller thread only: polls, and latches the answer into flag.
    bool check() noexcept {
        if (flag.load(std::memory_order_relaxed)) return true;
        if (poll != nullptr && poll(poll_arg)) {
            flag.store(true, std::memory_order_relaxed);
            return true;
        }
        return false;
    }
    // Any thread: has cancellation been requested?
    bool requested() const noexcept { return flag.load(std::memory_order_relaxed); }
};

// Strict weak order on (distance, index) with NaN last.
inline bool closer(double da, int64_t ia, double db, int64_t ib) noexcept {
    const bool na = std::isnan(da), nb = std::isnan(db);
    if (na != nb) return nb;  // the number is closer than the NaN
    if (!na && da != db) return da < db;
    return ia < ib;
}

class DistanceEngine {
  public:
    virtual ~DistanceEngine() = default;

    // A short human-readable name ("cpu (2 threads)", "cuda (NVIDIA H100)").
    virtual std::string name() const = 0;

    // out[q * nb + i] = distance(queries[q], base[i]).
    virtual Status distances(const float* queries, size_t nq, const float* base, size_t nb,
                             size_t dim, Metric metric, float* out, Cancel* cancel) noexcept = 0;

    // For each query, its min(k, nb) nearest base vectors in order, written to
    // ids[q * k + j] / dists[q * k + j]; slots past nb get id -1 and distance +infinity.
    // 1 <= k <= kMaxK.
    virtual Status topk(const float* queries, size_t nq, const float* base, size_t nb, size_t dim,
                        Metric metric, size_t k, int64_t* ids, double* dists,
                        Cancel* cancel) noexcept = 0;

    // Detail of the last non-OK status (may be empty).
    virtual std::string last_error() const { return {}; }
};

// Validates the arguments every engine shares; kOk when they are fine.
Status check_args(size_t nq, size_t nb, size_t dim, Metric metric, size_t k, bool need_k) noexcept;

// Merges a batch's top-k (`ids` local to that batch, offset by `id_offset`) into a running top-k
// (`acc_ids`/`acc_dists`, k slots per query, sorted, empty slots id -1). Both lists sorted by
// closer(); result sorted, duplicates impossible (ids are disjoint).
void merge_topk(size_t nq, size_t k, int64_t* acc_ids, double* acc_dists, const int64_t* ids,
                const double* dists, int64_t id_offset) noexcept;

// Fills k slots per query with the empty marker (id -1, +infinity).
void clear_topk(size_t nq, size_t k, int64_t* ids, double* dists) noexcept;

}  // namespace piramid::engine
