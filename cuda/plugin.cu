// piramid_cuda.so: CudaEngine behind the C ABI of core/engine/plugin_abi.h.
//
// Pipeline for top-k: the base vectors stream through a pinned staging ring (two slots) to the
// device in chunks; for each chunk a tiled kernel computes the (query block x chunk) distance
// tile with the PIRAMID_HD math of core/engine/hd_math.hpp, a CUB segmented radix sort orders
// each query's row (stable: ties stay in index order), the first k of each row come back to the
// host, and the host merges them into the running top-k while the next chunk is on the device.
// Every CUDA error becomes a status code; nothing here throws across the ABI.
#include <cuda_runtime.h>

#include <cub/device/device_segmented_radix_sort.cuh>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <new>
#include <vector>

#include "core/engine/hd_math.hpp"
#include "core/engine/plugin_abi.h"

namespace hd = piramid::engine::hd;

namespace {

constexpr int kTile = 64;                          // queries x base vectors per thread block
constexpr int kStep = 16;                          // dimensions per shared-memory step
constexpr size_t kDeviceBudget = size_t{1} << 30;  // per-job bytes of distance tiles + sort

void put(char* msg, size_t len, const char* what, cudaError_t e) {
    if (msg != nullptr && len > 0) {
        std::snprintf(msg, len, "%s: %s (CUDA error %d)", what, cudaGetErrorString(e),
                      static_cast<int>(e));
    }
}

int code_for(cudaError_t e) {
    return e == cudaErrorMemoryAllocation ? PIRAMID_ST_OOM : PIRAMID_ST_DEVICE_ERROR;
}

#define CK(call)                          \
    do {                                  \
        cudaError_t e_ = (call);          \
        if (e_ != cudaSuccess) {          \
            put(msg, msg_len, #call, e_); \
            return code_for(e_);          \
        }                                 \
    } while (0)

template <int M>
__global__ void dist_tile(const float* __restrict__ q, const float* __restrict__ b, int nq, int nb,
                          int dim, const float* __restrict__ qn, const float* __restrict__ bn,
                          float* __restrict__ out, size_t ld) {
    __shared__ float sq[kStep][kTile + 1];
    __shared__ float sb[kStep][kTile + 1];
    const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * 16 + tx;
    const int q0 = blockIdx.y * kTile, b0 = blockIdx.x * kTile;
    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = 0.0f;
    for (int k0 = 0; k0 < dim; k0 += kStep) {
#pragma unroll
        for (int r = 0; r < 4; ++r) {
            const int idx = tid + r * 256, row = idx / kStep, col = idx % kStep;
            const int kk = k0 + col;
            const int qi = q0 + row, bi = b0 + row;
            sq[col][row] = (qi < nq && kk < dim) ? q[static_cast<size_t>(qi) * dim + kk] : 0.0f;
            sb[col][row] = (bi < nb && kk < dim) ? b[static_cast<size_t>(bi) * dim + kk] : 0.0f;
        }
        __syncthreads();
        const int kmax = min(kStep, dim - k0);
        for (int kk = 0; kk < kmax; ++kk) {
            float a[4], c[4];
#pragma unroll
            for (int i = 0; i < 4; ++i) a[i] = sq[kk][ty + 16 * i];
#pragma unroll
            for (int j = 0; j < 4; ++j) c[j] = sb[kk][tx + 16 * j];
#pragma unroll
            for (int i = 0; i < 4; ++i)
#pragma unroll
                for (int j = 0; j < 4; ++j) acc[i][j] += hd::term<M>(a[i], c[j]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const int qi = q0 + ty + 16 * i;
        if (qi >= nq) continue;
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            const int bi = b0 + tx + 16 * j;
            if (bi >= nb) continue;
            const float qq = M == hd::kCosine ? qn[qi] : 0.0f;
            const float bb = M == hd::kCosine ? bn[bi] : 0.0f;
            out[static_cast<size_t>(qi) * ld + bi] =
                hd::canonical(hd::finalize(M, acc[i][j], qq, bb));
        }
    }
}

__global__ void sq_norms(const float* __restrict__ v, int n, int dim, float* __restrict__ out) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float* p = v + static_cast<size_t>(i) * dim;
    float s = 0.0f;
    for (int d = 0; d < dim; ++d) s += hd::term<hd::kInnerProduct>(p[d], p[d]);
    out[i] = s;
}

// Segment offsets (row starts) and the per-row index values 0..cols-1 for the sort.
__global__ void init_rows(int rows, int cols, int* __restrict__ offsets, int* __restrict__ vals) {
    const size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const size_t n = static_cast<size_t>(rows) * cols;
    if (i < n) vals[i] = static_cast<int>(i % cols);
    if (i <= static_cast<size_t>(rows)) offsets[i] = static_cast<int>(i * cols);
}

// The first kk entries of each sorted row, packed.
__global__ void gather_head(int rows, int cols, int kk, const float* __restrict__ keys,
                            const int* __restrict__ vals, float* __restrict__ hk,
                            int* __restrict__ hv) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * kk) return;
    const int r = i / kk, j = i % kk;
    hk[i] = keys[static_cast<size_t>(r) * cols + j];
    hv[i] = vals[static_cast<size_t>(r) * cols + j];
}

struct DevBuf {
    void* p = nullptr;
    size_t bytes = 0;
};

struct Handle {
    int device = 0;
    cudaStream_t stream = nullptr;
    float* pinned[2] = {nullptr, nullptr};  // the staging ring
    size_t slot_bytes = 0;
    cudaEvent_t slot_free[2] = {nullptr, nullptr};
    cudaEvent_t head_ready[2] = {nullptr, nullptr};
    // device buffers, grown on demand
    DevBuf q, qn, b[2], bn[2], dist, keys_out, vals_in, vals_out, offsets, temp, hk, hv;
    // pinned copies of the per-chunk heads (one per ring slot)
    float* head_k[2] = {nullptr, nullptr};
    int* head_v[2] = {nullptr, nullptr};
    size_t head_cap = 0;  // elements per slot
};

// Ensures a device buffer of at least `bytes` (contents not kept).
cudaError_t grow(DevBuf& d, size_t bytes) {
    if (d.bytes >= bytes) return cudaSuccess;
    if (d.p != nullptr) cudaFree(d.p);
    d.p = nullptr;
    d.bytes = 0;
    cudaError_t e = cudaMalloc(&d.p, bytes);
    if (e == cudaSuccess) d.bytes = bytes;
    return e;
}

template <typename T>
T* ptr(DevBuf& d) {
    return static_cast<T*>(d.p);
}

cudaError_t launch_dist(int metric, const float* q, const float* b, int nq, int nb, int dim,
                        const float* qn, const float* bn, float* out, size_t ld, cudaStream_t s) {
    dim3 block(16, 16), grid((nb + kTile - 1) / kTile, (nq + kTile - 1) / kTile);
    switch (metric) {
        case hd::kL2:
            dist_tile<hd::kL2><<<grid, block, 0, s>>>(q, b, nq, nb, dim, qn, bn, out, ld);
            break;
        case hd::kInnerProduct:
            dist_tile<hd::kInnerProduct><<<grid, block, 0, s>>>(q, b, nq, nb, dim, qn, bn, out, ld);
            break;
        case hd::kCosine:
            dist_tile<hd::kCosine><<<grid, block, 0, s>>>(q, b, nq, nb, dim, qn, bn, out, ld);
            break;
        default:
            dist_tile<hd::kL1><<<grid, block, 0, s>>>(q, b, nq, nb, dim, qn, bn, out, ld);
            break;
    }
    return cudaGetLastError();
}

bool canceled(const volatile int* c) {
    return c != nullptr && *c != 0;
}

// Base vectors per chunk (bounded by a staging slot) and queries per block (bounded by the
// device budget for the distance tile and the sort buffers: 16 bytes per element).
void plan(const Handle* h, size_t nq, size_t nb, size_t dim, size_t* chunk, size_t* qblock) {
    size_t c = std::max<size_t>(1, h->slot_bytes / (dim * sizeof(float)));
    c = std::min({c, nb, size_t{1} << 20});
    size_t qb = std::max<size_t>(1, kDeviceBudget / (c * 16));
    qb = std::min({qb, nq, size_t{65535} * kTile});
    while (qb * c > static_cast<size_t>(std::numeric_limits<int>::max() / 2))
        qb = std::max<size_t>(1, qb / 2);
    *chunk = c;
    *qblock = qb;
}

// Uploads base rows [b0, b0 + n) through ring slot s (waits until the slot's last use is done).
int stage_base(Handle* h, int s, const float* base, size_t b0, size_t n, size_t dim, int metric,
               char* msg, size_t msg_len) {
    CK(cudaEventSynchronize(h->slot_free[s]));
    const size_t bytes = n * dim * sizeof(float);
    std::memcpy(h->pinned[s], base + b0 * dim, bytes);
    CK(grow(h->b[s], bytes));
    CK(cudaMemcpyAsync(h->b[s].p, h->pinned[s], bytes, cudaMemcpyHostToDevice, h->stream));
    CK(cudaEventRecord(h->slot_free[s], h->stream));
    if (metric == hd::kCosine) {
        CK(grow(h->bn[s], n * sizeof(float)));
        sq_norms<<<(n + 255) / 256, 256, 0, h->stream>>>(
            ptr<float>(h->b[s]), static_cast<int>(n), static_cast<int>(dim), ptr<float>(h->bn[s]));
        CK(cudaGetLastError());
    }
    return PIRAMID_ST_OK;
}

int upload_queries(Handle* h, const float* queries, size_t q0, size_t nqb, size_t dim, int metric,
                   char* msg, size_t msg_len) {
    CK(grow(h->q, nqb * dim * sizeof(float)));
    CK(cudaMemcpyAsync(h->q.p, queries + q0 * dim, nqb * dim * sizeof(float),
                       cudaMemcpyHostToDevice, h->stream));
    if (metric == hd::kCosine) {
        CK(grow(h->qn, nqb * sizeof(float)));
        sq_norms<<<(nqb + 255) / 256, 256, 0, h->stream>>>(
            ptr<float>(h->q), static_cast<int>(nqb), static_cast<int>(dim), ptr<float>(h->qn));
        CK(cudaGetLastError());
    }
    return PIRAMID_ST_OK;
}

bool closer(double da, int64_t ia, double db, int64_t ib) {
    const bool na = std::isnan(da), nb = std::isnan(db);
    if (na != nb) return nb;
    if (!na && da != db) return da < db;
    return ia < ib;
}

// Merges one chunk's heads (kk per query, local ids + b0) into the running results.
void merge_heads(size_t nqb, size_t k, size_t kk, const float* hk, const int* hv, int64_t b0,
                 int64_t* ids, double* dists, std::vector<int64_t>& ti, std::vector<double>& td) {
    ti.resize(k);
    td.resize(k);
    for (size_t q = 0; q < nqb; ++q) {
        int64_t* ai = ids + q * k;
        double* ad = dists + q * k;
        size_t a = 0, c = 0, o = 0;
        while (o < k) {
            const bool has_a = a < k && ai[a] >= 0;
            const bool has_c = c < kk;
            if (!has_a && !has_c) break;
            const double cd = has_c ? static_cast<double>(hk[q * kk + c]) : 0.0;
            const int64_t ci = has_c ? hv[q * kk + c] + b0 : 0;
            if (has_a && (!has_c || closer(ad[a], ai[a], cd, ci))) {
                ti[o] = ai[a];
                td[o++] = ad[a++];
            } else {
                ti[o] = ci;
                td[o++] = cd;
                ++c;
            }
        }
        for (size_t j = 0; j < o; ++j) {
            ai[j] = ti[j];
            ad[j] = td[j];
        }
    }
}

// ---- the ABI functions ----

int api_probe(int* count, int* cuda_error, char* msg, size_t msg_len) {
    *count = 0;
    *cuda_error = 0;
    cudaError_t e = cudaGetDeviceCount(count);
    if (e == cudaSuccess) {
        if (*count == 0) {
            std::snprintf(msg, msg_len, "no CUDA device");
            return PIRAMID_ST_UNAVAILABLE;
        }
        return PIRAMID_ST_OK;
    }
    *cuda_error = static_cast<int>(e);
    *count = 0;
    const char* why = nullptr;
    switch (static_cast<int>(e)) {
        case 34:
            why = "stub driver (libcuda.so is the toolkit's stub, not a real driver)";
            break;
        case 35:
            why = "no driver (libcuda.so.1 missing or older than this CUDA runtime)";
            break;
        case 100:
            why = "no device";
            break;
        default:
            break;
    }
    if (why != nullptr) {
        std::snprintf(msg, msg_len, "%s [CUDA error %d: %s]", why, static_cast<int>(e),
                      cudaGetErrorString(e));
        return PIRAMID_ST_UNAVAILABLE;
    }
    put(msg, msg_len, "cudaGetDeviceCount", e);
    return PIRAMID_ST_DEVICE_ERROR;
}

int api_device_info(int device, PiramidCudaDevice* out, char* msg, size_t msg_len) {
    cudaDeviceProp p;
    CK(cudaGetDeviceProperties(&p, device));
    std::snprintf(out->name, sizeof(out->name), "%s", p.name);
    out->cc_major = p.major;
    out->cc_minor = p.minor;
    out->total_mem = p.totalGlobalMem;
    return PIRAMID_ST_OK;
}

void api_close(void* handle);

int open_impl(int device, size_t staging, Handle* h, char* msg, size_t msg_len) {
    h->device = device;
    CK(cudaSetDevice(device));
    CK(cudaStreamCreateWithFlags(&h->stream, cudaStreamNonBlocking));
    h->slot_bytes = std::max<size_t>(staging / 2, size_t{1} << 20);
    for (int s = 0; s < 2; ++s) {
        CK(cudaHostAlloc(reinterpret_cast<void**>(&h->pinned[s]), h->slot_bytes,
                         cudaHostAllocDefault));
        CK(cudaEventCreateWithFlags(&h->slot_free[s], cudaEventDisableTiming));
        CK(cudaEventCreateWithFlags(&h->head_ready[s], cudaEventDisableTiming));
        CK(cudaEventRecord(h->slot_free[s], h->stream));
    }
    return PIRAMID_ST_OK;
}

int api_open(int device, size_t staging, void** handle, char* msg, size_t msg_len) {
    *handle = nullptr;
    Handle* h = new (std::nothrow) Handle();
    if (h == nullptr) return PIRAMID_ST_OOM;
    int rc = open_impl(device, staging, h, msg, msg_len);
    if (rc != PIRAMID_ST_OK) {
        api_close(h);
        return rc;
    }
    *handle = h;
    return PIRAMID_ST_OK;
}

void api_close(void* handle) {
    auto* h = static_cast<Handle*>(handle);
    if (h == nullptr) return;
    if (h->stream != nullptr) cudaStreamSynchronize(h->stream);
    for (DevBuf* d :
         {&h->q, &h->qn, &h->b[0], &h->b[1], &h->bn[0], &h->bn[1], &h->dist, &h->keys_out,
          &h->vals_in, &h->vals_out, &h->offsets, &h->temp, &h->hk, &h->hv}) {
        if (d->p != nullptr) cudaFree(d->p);
    }
    for (int s = 0; s < 2; ++s) {
        if (h->pinned[s] != nullptr) cudaFreeHost(h->pinned[s]);
        if (h->head_k[s] != nullptr) cudaFreeHost(h->head_k[s]);
        if (h->head_v[s] != nullptr) cudaFreeHost(h->head_v[s]);
        if (h->slot_free[s] != nullptr) cudaEventDestroy(h->slot_free[s]);
        if (h->head_ready[s] != nullptr) cudaEventDestroy(h->head_ready[s]);
    }
    if (h->stream != nullptr) cudaStreamDestroy(h->stream);
    delete h;
}

bool bad_args(size_t dim, int metric) {
    return dim == 0 || dim > 65535 || metric < 0 || metric > 3;
}

int distances_impl(Handle* h, const float* queries, size_t nq, const float* base, size_t nb,
                   size_t dim, int metric, float* out, const volatile int* cancel, char* msg,
                   size_t msg_len) {
    CK(cudaSetDevice(h->device));
    size_t chunk, qblock;
    plan(h, nq, nb, dim, &chunk, &qblock);
    for (size_t q0 = 0; q0 < nq; q0 += qblock) {
        const size_t nqb = std::min(qblock, nq - q0);
        int rc = upload_queries(h, queries, q0, nqb, dim, metric, msg, msg_len);
        if (rc != PIRAMID_ST_OK) return rc;
        CK(grow(h->dist, nqb * chunk * sizeof(float)));
        for (size_t b0 = 0, i = 0; b0 < nb; b0 += chunk, ++i) {
            if (canceled(cancel)) {
                cudaStreamSynchronize(h->stream);
                return PIRAMID_ST_CANCELED;
            }
            const size_t n = std::min(chunk, nb - b0);
            const int s = static_cast<int>(i % 2);
            rc = stage_base(h, s, base, b0, n, dim, metric, msg, msg_len);
            if (rc != PIRAMID_ST_OK) return rc;
            CK(launch_dist(metric, ptr<float>(h->q), ptr<float>(h->b[s]), static_cast<int>(nqb),
                           static_cast<int>(n), static_cast<int>(dim), ptr<float>(h->qn),
                           ptr<float>(h->bn[s]), ptr<float>(h->dist), n, h->stream));
            CK(cudaMemcpy2DAsync(out + q0 * nb + b0, nb * sizeof(float), h->dist.p,
                                 n * sizeof(float), n * sizeof(float), nqb, cudaMemcpyDeviceToHost,
                                 h->stream));
        }
        CK(cudaStreamSynchronize(h->stream));
    }
    return PIRAMID_ST_OK;
}

int topk_impl(Handle* h, const float* queries, size_t nq, const float* base, size_t nb, size_t dim,
              int metric, size_t k, int64_t* ids, double* dists, const volatile int* cancel,
              char* msg, size_t msg_len) {
    CK(cudaSetDevice(h->device));
    std::fill(ids, ids + nq * k, int64_t{-1});
    std::fill(dists, dists + nq * k, std::numeric_limits<double>::infinity());
    if (nq == 0 || nb == 0) return PIRAMID_ST_OK;
    size_t chunk, qblock;
    plan(h, nq, nb, dim, &chunk, &qblock);
    const size_t head = std::min(k, chunk);
    if (h->head_cap < qblock * head) {
        for (int s = 0; s < 2; ++s) {
            if (h->head_k[s] != nullptr) cudaFreeHost(h->head_k[s]);
            if (h->head_v[s] != nullptr) cudaFreeHost(h->head_v[s]);
            h->head_k[s] = nullptr;
            h->head_v[s] = nullptr;
        }
        h->head_cap = 0;
        for (int s = 0; s < 2; ++s) {
            CK(cudaHostAlloc(reinterpret_cast<void**>(&h->head_k[s]), qblock * head * sizeof(float),
                             cudaHostAllocDefault));
            CK(cudaHostAlloc(reinterpret_cast<void**>(&h->head_v[s]), qblock * head * sizeof(int),
                             cudaHostAllocDefault));
        }
        h->head_cap = qblock * head;
    }
    const size_t elems = qblock * chunk;
    CK(grow(h->dist, elems * sizeof(float)));
    CK(grow(h->keys_out, elems * sizeof(float)));
    CK(grow(h->vals_in, elems * sizeof(int)));
    CK(grow(h->vals_out, elems * sizeof(int)));
    CK(grow(h->offsets, (qblock + 1) * sizeof(int)));
    CK(grow(h->hk, qblock * head * sizeof(float)));
    CK(grow(h->hv, qblock * head * sizeof(int)));
    std::vector<int64_t> ti;
    std::vector<double> td;
    struct Pending {
        bool live = false;
        size_t nqb = 0, kk = 0, b0 = 0;
    } pend[2];
    auto finish = [&](int s, size_t q0) -> int {
        if (!pend[s].live) return PIRAMID_ST_OK;
        CK(cudaEventSynchronize(h->head_ready[s]));
        merge_heads(pend[s].nqb, k, pend[s].kk, h->head_k[s], h->head_v[s],
                    static_cast<int64_t>(pend[s].b0), ids + q0 * k, dists + q0 * k, ti, td);
        pend[s].live = false;
        return PIRAMID_ST_OK;
    };
    for (size_t q0 = 0; q0 < nq; q0 += qblock) {
        const size_t nqb = std::min(qblock, nq - q0);
        int rc = upload_queries(h, queries, q0, nqb, dim, metric, msg, msg_len);
        if (rc != PIRAMID_ST_OK) return rc;
        size_t i = 0;
        for (size_t b0 = 0; b0 < nb; b0 += chunk, ++i) {
            if (canceled(cancel)) {
                cudaStreamSynchronize(h->stream);
                return PIRAMID_ST_CANCELED;
            }
            const size_t n = std::min(chunk, nb - b0);
            const int s = static_cast<int>(i % 2);
            // The slot's previous heads must be merged before they are overwritten.
            if ((rc = finish(s, q0)) != PIRAMID_ST_OK) return rc;
            if ((rc = stage_base(h, s, base, b0, n, dim, metric, msg, msg_len)) != PIRAMID_ST_OK)
                return rc;
            CK(launch_dist(metric, ptr<float>(h->q), ptr<float>(h->b[s]), static_cast<int>(nqb),
                           static_cast<int>(n), static_cast<int>(dim), ptr<float>(h->qn),
                           ptr<float>(h->bn[s]), ptr<float>(h->dist), n, h->stream));
            const size_t total = nqb * n;
            init_rows<<<(total + 1 + 255) / 256, 256, 0, h->stream>>>(
                static_cast<int>(nqb), static_cast<int>(n), ptr<int>(h->offsets),
                ptr<int>(h->vals_in));
            CK(cudaGetLastError());
            size_t temp_bytes = 0;
            CK(cub::DeviceSegmentedRadixSort::SortPairs(
                nullptr, temp_bytes, ptr<float>(h->dist), ptr<float>(h->keys_out),
                ptr<int>(h->vals_in), ptr<int>(h->vals_out), static_cast<int>(total),
                static_cast<int>(nqb), ptr<int>(h->offsets), ptr<int>(h->offsets) + 1, 0, 32,
                h->stream));
            CK(grow(h->temp, temp_bytes));
            CK(cub::DeviceSegmentedRadixSort::SortPairs(
                h->temp.p, temp_bytes, ptr<float>(h->dist), ptr<float>(h->keys_out),
                ptr<int>(h->vals_in), ptr<int>(h->vals_out), static_cast<int>(total),
                static_cast<int>(nqb), ptr<int>(h->offsets), ptr<int>(h->offsets) + 1, 0, 32,
                h->stream));
            const size_t kk = std::min(k, n);
            gather_head<<<(nqb * kk + 255) / 256, 256, 0, h->stream>>>(
                static_cast<int>(nqb), static_cast<int>(n), static_cast<int>(kk),
                ptr<float>(h->keys_out), ptr<int>(h->vals_out), ptr<float>(h->hk), ptr<int>(h->hv));
            CK(cudaGetLastError());
            CK(cudaMemcpyAsync(h->head_k[s], h->hk.p, nqb * kk * sizeof(float),
                               cudaMemcpyDeviceToHost, h->stream));
            CK(cudaMemcpyAsync(h->head_v[s], h->hv.p, nqb * kk * sizeof(int),
                               cudaMemcpyDeviceToHost, h->stream));
            CK(cudaEventRecord(h->head_ready[s], h->stream));
            pend[s] = Pending{true, nqb, kk, b0};
        }
        // Drain in chunk order (merging is order-independent for the result, but keep it tidy).
        for (size_t j = 0; j < 2; ++j) {
            const int s = static_cast<int>((i + j) % 2);
            if ((rc = finish(s, q0)) != PIRAMID_ST_OK) return rc;
        }
    }
    return PIRAMID_ST_OK;
}

template <typename F>
int shielded(F&& f, char* msg, size_t msg_len) {
    try {
        return f();
    } catch (const std::bad_alloc&) {
        std::snprintf(msg, msg_len, "out of host memory");
        return PIRAMID_ST_OOM;
    } catch (...) {
        std::snprintf(msg, msg_len, "unexpected exception in the CUDA plugin");
        return PIRAMID_ST_INTERNAL;
    }
}

int api_distances(void* handle, const float* queries, size_t nq, const float* base, size_t nb,
                  size_t dim, int metric, float* out, const volatile int* cancel, char* msg,
                  size_t msg_len) {
    if (handle == nullptr || bad_args(dim, metric)) return PIRAMID_ST_INVALID;
    if (nq == 0 || nb == 0) return PIRAMID_ST_OK;
    return shielded(
        [&] {
            return distances_impl(static_cast<Handle*>(handle), queries, nq, base, nb, dim, metric,
                                  out, cancel, msg, msg_len);
        },
        msg, msg_len);
}

int api_topk(void* handle, const float* queries, size_t nq, const float* base, size_t nb,
             size_t dim, int metric, size_t k, int64_t* ids, double* dists,
             const volatile int* cancel, char* msg, size_t msg_len) {
    if (handle == nullptr || bad_args(dim, metric) || k == 0 || k > 1024) return PIRAMID_ST_INVALID;
    return shielded(
        [&] {
            return topk_impl(static_cast<Handle*>(handle), queries, nq, base, nb, dim, metric, k,
                             ids, dists, cancel, msg, msg_len);
        },
        msg, msg_len);
}

const PiramidCudaApi kApi = {
    PIRAMID_CUDA_ABI_VERSION,
    sizeof(PiramidCudaApi),
    api_probe,
    api_device_info,
    api_open,
    api_close,
    api_distances,
    api_topk,
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const PiramidCudaApi* piramid_cuda_plugin_v1(
    uint32_t abi_version) {
    return abi_version == PIRAMID_CUDA_ABI_VERSION ? &kApi : nullptr;
}
