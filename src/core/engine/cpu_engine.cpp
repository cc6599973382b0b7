#include "core/engine/cpu_engine.hpp"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <exception>
#include <limits>
#include <new>
#include <thread>
#include <vector>

#include "core/engine/threads.hpp"

namespace piramid::engine {

const char* status_name(Status s) noexcept {
    switch (s) {
        case Status::kOk:
            return "ok";
        case Status::kCanceled:
            return "canceled";
        case Status::kInvalidArgument:
            return "invalid argument";
        case Status::kOutOfMemory:
            return "out of memory";
        case Status::kDeviceError:
            return "device error";
        case Status::kUnavailable:
            return "unavailable";
        case Status::kInternal:
            return "internal error";
    }
    return "unknown status";
}

Status check_args(size_t nq, size_t nb, size_t dim, Metric metric, size_t k, bool need_k) noexcept {
    (void)nq;
    (void)nb;
    if (dim == 0) return Status::kInvalidArgument;
    if (static_cast<unsigned>(metric) > 3) {
        return Status::kInvalidArgument;
    }
    if (need_k && (k == 0 || k > kMaxK)) return Status::kInvalidArgument;
    return Status::kOk;
}

void clear_topk(size_t nq, size_t k, int64_t* ids, double* dists) noexcept {
    std::fill(ids, ids + nq * k, int64_t{-1});
    std::fill(dists, dists + nq * k, std::numeric_limits<double>::infinity());
}

void merge_topk(size_t nq, size_t k, int64_t* acc_ids, double* acc_dists, const int64_t* ids,
                const double* dists, int64_t id_offset) noexcept {
    // Small fixed scratch on the stack would limit k; merge back to front in place instead:
    // walk both lists from the end, keeping only the k best overall.
    for (size_t q = 0; q < nq; ++q) {
        int64_t* ai = acc_ids + q * k;
        double* ad = acc_dists + q * k;
        const int64_t* bi = ids + q * k;
        const double* bd = dists + q * k;
        size_t na = 0, nbv = 0;
        while (na < k && ai[na] >= 0) ++na;
        while (nbv < k && bi[nbv] >= 0) ++nbv;
        // Count how many of each list survive in the top k (a forward merge count).
        size_t ta = 0, tb = 0;
        while (ta + tb < k && (ta < na || tb < nbv)) {
            if (tb >= nbv || (ta < na && closer(ad[ta], ai[ta], bd[tb], bi[tb] + id_offset))) {
                ++ta;
            } else {
                ++tb;
            }
        }
        // Backward merge of the survivors into acc (safe in place: writes never overtake reads
        // of acc because the output index is always >= the acc read index).
        size_t out = ta + tb;
        size_t ia = ta, ib = tb;
        while (ib > 0) {
            --out;
            if (ia > 0 && closer(bd[ib - 1], bi[ib - 1] + id_offset, ad[ia - 1], ai[ia - 1])) {
                --ia;
                ai[out] = ai[ia];
                ad[out] = ad[ia];
            } else {
                --ib;
                ai[out] = bi[ib] + id_offset;
                ad[out] = bd[ib];
            }
        }
        for (size_t j = ta + tb; j < k; ++j) {
            ai[j] = -1;
            ad[j] = std::numeric_limits<double>::infinity();
        }
    }
}

double cpu_distance(Metric metric, const float* a, const float* b, size_t dim) noexcept {
    const distance::Kernels& kr = distance::best();
    switch (metric) {
        case Metric::kL2:
            return static_cast<double>(kr.l2sq(a, b, dim));
        case Metric::kInnerProduct:
            return -static_cast<double>(kr.dot(a, b, dim));
        case Metric::kL1:
            return static_cast<double>(kr.l1(a, b, dim));
        case Metric::kCosine:
            return distance::cosine_distance(a, b, dim);
    }
    return std::numeric_limits<double>::quiet_NaN();
}

CpuEngine::CpuEngine(unsigned threads) : threads_(threads) {
    if (threads_ == 0) threads_ = std::max(1u, std::thread::hardware_concurrency());
}

std::string CpuEngine::name() const {
    return std::string("cpu/") + distance::isa_name(distance::best().isa) + " (" +
           std::to_string(threads_) + (threads_ == 1 ? " thread)" : " threads)");
}

namespace {

// Base vectors per tile: about 256 KiB of floats, so a tile stays in L2 while a block of queries
// runs over it.
size_t base_block(size_t dim) {
    return std::clamp<size_t>((256 * 1024) / (dim * sizeof(float)), 16, 4096);
}
constexpr size_t kQueryBlock = 8;

// A bounded max-heap of the k best (distance, index) pairs seen so far.
struct TopK {
    size_t k = 0;
    size_t n = 0;
    int64_t* ids = nullptr;
    double* dists = nullptr;

    // heap order: the worst candidate at [0]
    bool worse(size_t a, size_t b) const { return closer(dists[b], ids[b], dists[a], ids[a]); }
    void sift_down(size_t i) {
        for (;;) {
            size_t l = 2 * i + 1, r = l + 1, m = i;
            if (l < n && worse(l, m)) m = l;
            if (r < n && worse(r, m)) m = r;
            if (m == i) return;
            std::swap(ids[i], ids[m]);
            std::swap(dists[i], dists[m]);
            i = m;
        }
    }
    void push(double d, int64_t id) {
        if (n < k) {
            size_t i = n++;
            ids[i] = id;
            dists[i] = d;
            while (i > 0) {
                size_t p = (i - 1) / 2;
                if (!worse(i, p)) break;
                std::swap(ids[i], ids[p]);
                std::swap(dists[i], dists[p]);
                i = p;
            }
        } else if (closer(d, id, dists[0], ids[0])) {
            ids[0] = id;
            dists[0] = d;
            sift_down(0);
        }
    }
    // Sorts in place (closest first) and pads the empty slots.
    void finish() {
        std::vector<std::pair<double, int64_t>> v(n);
        for (size_t i = 0; i < n; ++i) v[i] = {dists[i], ids[i]};
        std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
            return closer(a.first, a.second, b.first, b.second);
        });
        for (size_t i = 0; i < n; ++i) {
            dists[i] = v[i].first;
            ids[i] = v[i].second;
        }
        for (size_t i = n; i < k; ++i) {
            ids[i] = -1;
            dists[i] = std::numeric_limits<double>::infinity();
        }
    }
};

}  // namespace

Status CpuEngine::distances(const float* queries, size_t nq, const float* base, size_t nb,
                            size_t dim, Metric metric, float* out, Cancel* cancel) noexcept {
    Status st = check_args(nq, nb, dim, metric, 0, false);
    if (st != Status::kOk) {
        last_error_ = "invalid arguments";
        return st;
    }
    if (nq == 0 || nb == 0) return Status::kOk;
    const size_t bb = base_block(dim);
    // Work items: (query block, base block) tiles; all independent.
    const size_t qblocks = (nq + kQueryBlock - 1) / kQueryBlock;
    const size_t bblocks = (nb + bb - 1) / bb;
    auto tile = [&](size_t item) {
        const size_t qb = item / bblocks, b0 = (item % bblocks) * bb;
        const size_t b1 = std::min(nb, b0 + bb);
        const size_t q0 = qb * kQueryBlock, q1 = std::min(nq, q0 + kQueryBlock);
        for (size_t q = q0; q < q1; ++q) {
            const float* qv = queries + q * dim;
            for (size_t i = b0; i < b1; ++i) {
                out[q * nb + i] = static_cast<float>(cpu_distance(metric, qv, base + i * dim, dim));
            }
        }
    };
    st = parallel_for(threads_, qblocks * bblocks, tile, cancel);
    if (st != Status::kOk) last_error_ = status_name(st);
    return st;
}

Status CpuEngine::topk(const float* queries, size_t nq, const float* base, size_t nb, size_t dim,
                       Metric metric, size_t k, int64_t* ids, double* dists,
                       Cancel* cancel) noexcept {
    Status st = check_args(nq, nb, dim, metric, k, true);
    if (st != Status::kOk) {
        last_error_ = "invalid arguments (k must be 1.." + std::to_string(kMaxK) + ")";
        return st;
    }
    if (nq == 0) return Status::kOk;
    clear_topk(nq, k, ids, dists);
    if (nb == 0) return Status::kOk;
    try {
        const size_t bb = base_block(dim);
        const size_t qblocks = (nq + kQueryBlock - 1) / kQueryBlock;
        // Few queries: also split the base vectors into slices, one partial top-k per slice,
        // merged at the end, so every thread has work.
        size_t slices = 1;
        if (qblocks < threads_ * 2) {
            slices = std::min<size_t>((threads_ * 2 + qblocks - 1) / qblocks, (nb + bb - 1) / bb);
            slices = std::max<size_t>(slices, 1);
        }
        const size_t slice_len = (nb + slices - 1) / slices;
        std::vector<int64_t> part_ids;
        std::vector<double> part_dists;
        if (slices > 1) {
            part_ids.resize(slices * nq * k);
            part_dists.resize(slices * nq * k);
        }
        auto work = [&](size_t item) {
            const size_t qb = item / slices, s = item % slices;
            const size_t q0 = qb * kQueryBlock, q1 = std::min(nq, q0 + kQueryBlock);
            const size_t s0 = s * slice_len, s1 = std::min(nb, s0 + slice_len);
            TopK heaps[kQueryBlock];
            for (size_t q = q0; q < q1; ++q) {
                TopK& h = heaps[q - q0];
                h.k = k;
                if (slices > 1) {
                    h.ids = part_ids.data() + (s * nq + q) * k;
                    h.dists = part_dists.data() + (s * nq + q) * k;
                } else {
                    h.ids = ids + q * k;
                    h.dists = dists + q * k;
                }
            }
            for (size_t b0 = s0; b0 < s1; b0 += bb) {
                if (cancel != nullptr && cancel->requested()) return;
                const size_t b1 = std::min(s1, b0 + bb);
                for (size_t q = q0; q < q1; ++q) {
                    const float* qv = queries + q * dim;
                    TopK& h = heaps[q - q0];
                    for (size_t i = b0; i < b1; ++i) {
                        h.push(cpu_distance(metric, qv, base + i * dim, dim),
                               static_cast<int64_t>(i));
                    }
                }
            }
            for (size_t q = q0; q < q1; ++q) heaps[q - q0].finish();
        };
        st = parallel_for(threads_, qblocks * slices, work, cancel);
        if (st != Status::kOk) {
            last_error_ = status_name(st);
            return st;
        }
        for (size_t s = 0; s < slices && slices > 1; ++s) {
            merge_topk(nq, k, ids, dists, part_ids.data() + s * nq * k,
                       part_dists.data() + s * nq * k, 0);
        }
        return Status::kOk;
    } catch (const std::bad_alloc&) {
        last_error_ = "out of memory";
        return Status::kOutOfMemory;
    } catch (const std::exception& e) {
        last_error_ = e.what();
        return Status::kInternal;
    }
}

}  // namespace piramid::engine
