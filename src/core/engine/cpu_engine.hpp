// CpuEngine: the DistanceEngine on the CPU with the SIMD kernels of core/distance. Always
// available. Work is cut into tiles (a block of queries x a block of base vectors sized to stay
// in cache) and spread over threads; the calling thread works too and is the only one that polls
// for cancellation.
#pragma once

#include <string>

#include "core/engine/engine.hpp"

namespace piramid::engine {

class CpuEngine final : public DistanceEngine {
  public:
    // threads == 0: one per hardware thread.
    explicit CpuEngine(unsigned threads = 0);

    std::string name() const override;
    unsigned threads() const { return threads_; }

    Status distances(const float* queries, size_t nq, const float* base, size_t nb, size_t dim,
                     Metric metric, float* out, Cancel* cancel) noexcept override;
    Status topk(const float* queries, size_t nq, const float* base, size_t nb, size_t dim,
                Metric metric, size_t k, int64_t* ids, double* dists,
                Cancel* cancel) noexcept override;
    std::string last_error() const override { return last_error_; }

  private:
    unsigned threads_;
    std::string last_error_;
};

// The distance the SQL operators give, in double, for one pair: used by CpuEngine so that its
// results equal the operators' bit for bit (L2 is still squared here).
double cpu_distance(Metric metric, const float* a, const float* b, size_t dim) noexcept;

}  // namespace piramid::engine
