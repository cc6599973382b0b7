// The distance the graph works with, for each metric: smaller is closer.
//   L2 -> squared L2, inner product and cosine -> -dot (cosine inputs are normalized by the
//   caller, so -dot orders exactly as the cosine distance), L1 -> L1; half and bit vectors as
//   core/distance/lanes.hpp says. `dim` is the element's lanes (dimensions for float vectors).
#pragma once

#include <cstddef>

#include "core/distance/distance.hpp"
#include "core/distance/lanes.hpp"

namespace piramid::hnsw {

class MetricSpace {
  public:
    explicit MetricSpace(distance::Metric metric)
        : one_(distance::lane_distance(metric)),
          negate_(false),
          inner_product_(distance::is_inner_product(metric)) {
        const distance::Kernels& k = distance::best();
        switch (static_cast<uint8_t>(metric)) {
            case 0:
                f32_ = k.l2sq;
                batch_ = k.l2sq_batch;
                break;
            case 1:
            case 2:
                f32_ = k.dot;
                batch_ = k.dot_batch;
                negate_ = true;
                break;
            case 3:
                f32_ = k.l1;
                batch_ = k.l1_batch;
                break;
            default:  // half and bit vectors: the lane distance, one vector at a time
                break;
        }
    }

    float operator()(const float* a, const float* b, size_t dim) const {
        if (f32_ == nullptr) return one_(a, b, dim);
        const float d = f32_(a, b, dim);
        return negate_ ? -d : d;
    }

    // out[i] = distance(q, vecs[i]); the float kernels prefetch vecs[i + 1] while computing
    // vecs[i].
    void batch(const float* q, const float* const* vecs, size_t count, size_t dim,
               float* out) const {
        if (batch_ == nullptr) {
            for (size_t i = 0; i < count; ++i) out[i] = one_(q, vecs[i], dim);
            return;
        }
        batch_(q, vecs, count, dim, out);
        if (negate_)
            for (size_t i = 0; i < count; ++i) out[i] = -out[i];
    }

    // Inner product (not a metric: see distance::is_inner_product).
    bool inner_product() const { return inner_product_; }

  private:
    distance::LaneFn one_;
    float (*f32_)(const float*, const float*, size_t) = nullptr;
    distance::BatchFn batch_ = nullptr;
    bool negate_;
    bool inner_product_;
};

}  // namespace piramid::hnsw
