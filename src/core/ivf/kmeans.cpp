#include "core/ivf/kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <new>
#include <random>
#include <vector>

#include "core/distance/distance.hpp"
#include "core/engine/cpu_engine.hpp"

namespace piramid::ivf {

namespace {

using engine::Status;

// Deterministic 64-bit generator (splitmix64): the same seed gives the same centers on every
// platform (std::uniform_*_distribution is implementation-defined).
struct Rng {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    double uniform() {
        return (static_cast<double>(next() >> 11) + 0.5) * (1.0 / 9007199254740992.0);
    }
};

// Distance used by k-means++ seeding and empty-cluster repair: squared L2, or 1 - dot for unit
// vectors (monotone in the spherical distance).
double seed_distance(const float* a, const float* b, size_t dim, bool spherical) {
    if (spherical) return 1.0 - static_cast<double>(distance::dot(a, b, dim));
    return static_cast<double>(distance::l2sq(a, b, dim));
}

void random_center(Rng& rng, float* c, size_t dim, bool spherical) {
    for (size_t i = 0; i < dim; ++i) c[i] = static_cast<float>(rng.uniform() * 2.0 - 1.0);
    if (spherical) normalize(c, dim);
}

}  // namespace

bool normalize(float* v, size_t dim) noexcept {
    double s = 0.0;
    for (size_t i = 0; i < dim; ++i) s += static_cast<double>(v[i]) * v[i];
    if (!(s > 0.0) || !std::isfinite(s)) return false;
    const double inv = 1.0 / std::sqrt(s);
    for (size_t i = 0; i < dim; ++i) v[i] = static_cast<float>(v[i] * inv);
    return true;
}

Status assign(const float* centers, size_t k, const float* vecs, size_t n, size_t dim,
              bool spherical, unsigned threads, int32_t* out, engine::Cancel* cancel) noexcept {
    if (n == 0) return Status::kOk;
    if (k == 0 || dim == 0) return Status::kInvalidArgument;
    try {
        engine::CpuEngine eng(threads == 0 ? 1 : threads);
        const size_t chunk = 8192;
        std::vector<int64_t> ids(std::min(chunk, n));
        std::vector<double> dists(std::min(chunk, n));
        const engine::Metric metric =
            spherical ? engine::Metric::kInnerProduct : engine::Metric::kL2;
        for (size_t at = 0; at < n; at += chunk) {
            const size_t m = std::min(chunk, n - at);
            const Status st = eng.topk(vecs + at * dim, m, centers, k, dim, metric, 1, ids.data(),
                                       dists.data(), cancel);
            if (st != Status::kOk) return st;
            for (size_t i = 0; i < m; ++i)
                out[at + i] = ids[i] < 0 ? 0 : static_cast<int32_t>(ids[i]);
        }
        return Status::kOk;
    } catch (const std::bad_alloc&) {
        return Status::kOutOfMemory;
    } catch (...) {
        return Status::kInternal;
    }
}

Status kmeans(const float* samples, size_t n, const KmeansParams& p, float* centers,
              engine::Cancel* cancel, int* iterations) noexcept {
    const size_t k = p.k, dim = p.dim;
    if (iterations) *iterations = 0;
    if (k == 0 || dim == 0) return Status::kInvalidArgument;
    try {
        Rng rng{p.seed};
        if (n <= k) {
            // Every sample is a center; the rest are random.
            for (size_t i = 0; i < n; ++i)
                std::copy(samples + i * dim, samples + (i + 1) * dim, centers + i * dim);
            for (size_t c = n; c < k; ++c) random_center(rng, centers + c * dim, dim, p.spherical);
            return Status::kOk;
        }
        // k-means++ seeding.
        std::vector<double> best(n, std::numeric_limits<double>::infinity());
        size_t first = static_cast<size_t>(rng.next() % n);
        std::copy(samples + first * dim, samples + (first + 1) * dim, centers);
        for (size_t c = 1; c < k; ++c) {
            const float* prev = centers + (c - 1) * dim;
            double total = 0.0;
            for (size_t i = 0; i < n; ++i) {
                const double d = seed_distance(samples + i * dim, prev, dim, p.spherical);
                if (d < best[i]) best[i] = d;
                total += std::max(0.0, best[i]);
            }
            if (cancel && cancel->check()) return Status::kCanceled;
            size_t pick = n - 1;
            if (total > 0.0) {
                double r = rng.uniform() * total;
                for (size_t i = 0; i < n; ++i) {
                    r -= std::max(0.0, best[i]);
                    if (r <= 0.0) {
                        pick = i;
                        break;
                    }
                }
            } else {
                pick = static_cast<size_t>(rng.next() % n);
            }
            std::copy(samples + pick * dim, samples + (pick + 1) * dim, centers + c * dim);
        }
        // Lloyd iterations.
        std::vector<int32_t> label(n, -1), next(n);
        std::vector<double> sum(k * dim);
        std::vector<size_t> count(k);
        int it = 0;
        for (; it < p.max_iterations; ++it) {
            Status st =
                assign(centers, k, samples, n, dim, p.spherical, p.threads, next.data(), cancel);
            if (st != Status::kOk) return st;
            size_t changed = 0;
            for (size_t i = 0; i < n; ++i)
                if (next[i] != label[i]) ++changed;
            label.swap(next);
            if (changed == 0) break;
            std::fill(sum.begin(), sum.end(), 0.0);
            std::fill(count.begin(), count.end(), 0);
            for (size_t i = 0; i < n; ++i) {
                const size_t c = static_cast<size_t>(label[i]);
                ++count[c];
                const float* v = samples + i * dim;
                double* s = sum.data() + c * dim;
                for (size_t j = 0; j < dim; ++j) s[j] += v[j];
            }
            for (size_t c = 0; c < k; ++c) {
                if (count[c] == 0) continue;
                float* out = centers + c * dim;
                const double inv = 1.0 / static_cast<double>(count[c]);
                for (size_t j = 0; j < dim; ++j)
                    out[j] = static_cast<float>(sum[c * dim + j] * inv);
                if (p.spherical && !normalize(out, dim)) random_center(rng, out, dim, true);
            }
            // Empty clusters take the sample farthest from its own center (one sample each; a
            // sample is taken once).
            for (size_t c = 0; c < k; ++c) {
                if (count[c] != 0) continue;
                double far = -1.0;
                size_t pick = n;
                for (size_t i = 0; i < n; ++i) {
                    const size_t own = static_cast<size_t>(label[i]);
                    if (count[own] <= 1) continue;
                    const double d =
                        seed_distance(samples + i * dim, centers + own * dim, dim, p.spherical);
                    if (d > far) {
                        far = d;
                        pick = i;
                    }
                }
                if (pick == n) {
                    random_center(rng, centers + c * dim, dim, p.spherical);
                    continue;
                }
                --count[static_cast<size_t>(label[pick])];
                label[pick] = static_cast<int32_t>(c);
                count[c] = 1;
                std::copy(samples + pick * dim, samples + (pick + 1) * dim, centers + c * dim);
            }
            if (cancel && cancel->check()) return Status::kCanceled;
        }
        if (iterations) *iterations = it;
        return Status::kOk;
    } catch (const std::bad_alloc&) {
        return Status::kOutOfMemory;
    } catch (...) {
        return Status::kInternal;
    }
}

}  // namespace piramid::ivf
