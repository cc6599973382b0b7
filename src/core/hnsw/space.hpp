// The distance the graph works with, for each metric: smaller is closer.
//   L2 -> squared L2, inner product and cosine -> -dot (cosine inputs are normalized by the
//   caller, so -dot orders exactly as the cosine distance), L1 -> L1.
#pragma once

#include <cstddef>

#include "core/distance/distance.hpp"

namespace piramid::hnsw {

class MetricSpace {
  public:
    explicit MetricSpace(distance::Metric metric) : negate_(false) {
        const distance::Kernels& k = distance::best();
        switch (metric) {
            case distance::Metric::kL2:
                one_ = k.l2sq;
                batch_ = k.l2sq_batch;
                break;
            case distance::Metric::kInnerProduct:
            case distance::Metric::kCosine:
                one_ = k.dot;
                batch_ = k.dot_batch;
                negate_ = true;
                break;
            case distance::Metric::kL1:
                one_ = k.l1;
                batch_ = k.l1_batch;
                break;
        }
    }

    float operator()(const float* a, const float* b, size_t dim) const {
        const float d = one_(a, b, dim);
        return negate_ ? -d : d;
    }

    // out[i] = distance(q, vecs[i]); the kernel prefetches vecs[i + 1] while computing vecs[i].
    void batch(const float* q, const float* const* vecs, size_t count, size_t dim,
               float* out) const {
        batch_(q, vecs, count, dim, out);
        if (negate_)
            for (size_t i = 0; i < count; ++i) out[i] = -out[i];
    }

  private:
    float (*one_)(const float*, const float*, size_t) = nullptr;
    distance::BatchFn batch_ = nullptr;
    bool negate_;
};

}  // namespace piramid::hnsw
