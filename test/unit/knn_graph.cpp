#include "knn_graph.hpp"

#include <algorithm>
#include <limits>
#include <new>
#include <vector>

namespace piramid::engine {

Status knn_graph(DistanceEngine& engine, const float* data, size_t n, size_t dim, Metric metric,
                 size_t k, int64_t* out_ids, double* out_dists, Cancel* cancel,
                 size_t batch) noexcept {
    // One extra candidate per query: the vector itself is normally its own nearest neighbour.
    if (k == 0 || k + 1 > kMaxK || dim == 0) return Status::kInvalidArgument;
    if (n == 0) return Status::kOk;
    batch = std::max<size_t>(batch, 1);
    const size_t kk = k + 1;
    try {
        std::vector<int64_t> ids(std::min(batch, n) * kk);
        std::vector<double> dists(ids.size());
        for (size_t q0 = 0; q0 < n; q0 += batch) {
            if (cancel != nullptr && cancel->check()) return Status::kCanceled;
            const size_t nq = std::min(batch, n - q0);
            Status st = engine.topk(data + q0 * dim, nq, data, n, dim, metric, kk, ids.data(),
                                    dists.data(), cancel);
            if (st != Status::kOk) return st;
            for (size_t q = 0; q < nq; ++q) {
                const int64_t self = static_cast<int64_t>(q0 + q);
                int64_t* oi = out_ids + (q0 + q) * k;
                double* od = out_dists + (q0 + q) * k;
                size_t j = 0;
                // Drop the query itself; with more than k exact duplicates it may not be among
                // the candidates at all, then the first k are kept.
                for (size_t c = 0; c < kk && j < k; ++c) {
                    const int64_t id = ids[q * kk + c];
                    if (id < 0) break;
                    if (id == self) continue;
                    oi[j] = id;
                    od[j] = dists[q * kk + c];
                    ++j;
                }
                for (; j < k; ++j) {
                    oi[j] = -1;
                    od[j] = std::numeric_limits<double>::infinity();
                }
            }
        }
        return Status::kOk;
    } catch (const std::bad_alloc&) {
        return Status::kOutOfMemory;
    }
}

}  // namespace piramid::engine
