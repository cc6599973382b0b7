// Micro-benchmark of the distance kernels (Google Benchmark).
//
//   ./build/piramid_micro_bench --benchmark_min_time=0.2
//
// kernel/<name>/<isa>/<dim>: one pair of vectors that stays in L1, called back to back; bytes
//   processed = both vectors' bytes per call, so bytes_per_second is the kernel's compute
//   throughput when memory is not the limit.
// batch/<name>/<isa>/<dim>[/singles]: the HNSW access pattern: one query against lists of 32
//   vectors scattered over a 256 MiB pool (beyond the per-core caches), through the batch helper
//   (which prefetches vectors ahead) or through one call per vector ("singles").
// membw/...: single-thread memory bandwidth over a 1 GiB array, to put the figures above in
//   context: a plain sum of 64-bit words, and best().dot streaming both halves.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/distance/distance.hpp"

namespace {

using piramid::distance::Isa;
using piramid::distance::isa_name;
using piramid::distance::Kernels;
using piramid::distance::kernels_for;

constexpr size_t kDims[] = {128, 768, 1536};

// Deterministic filler (the values do not matter for speed, but keep them finite and varied).
void fill(float* p, size_t n, uint32_t seed) {
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; ++i) {
        x = x * 1664525u + 1013904223u;
        p[i] = static_cast<float>(x >> 8) * 0x1p-24f - 0.5f;
    }
}

struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
};
using FloatBuf = std::unique_ptr<float[], FreeDeleter>;

FloatBuf alloc_floats(size_t n) {
    const size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    return FloatBuf(static_cast<float*>(std::aligned_alloc(64, bytes)));
}

enum class Op { kL2sq, kDot, kL1, kDotNorms };
const char* op_name(Op op) {
    switch (op) {
        case Op::kL2sq:
            return "l2sq";
        case Op::kDot:
            return "dot";
        case Op::kL1:
            return "l1";
        case Op::kDotNorms:
            return "dot_norms";
    }
    return "?";
}

void bench_kernel(benchmark::State& state, const Kernels* k, Op op, size_t dim) {
    FloatBuf a = alloc_floats(dim), b = alloc_floats(dim);
    fill(a.get(), dim, 1);
    fill(b.get(), dim, 2);
    for (auto _ : state) {
        // DoNotOptimize on the inputs stops the compiler from hoisting the call out of the loop.
        benchmark::DoNotOptimize(a.get());
        benchmark::DoNotOptimize(b.get());
        switch (op) {
            case Op::kL2sq:
                benchmark::DoNotOptimize(k->l2sq(a.get(), b.get(), dim));
                break;
            case Op::kDot:
                benchmark::DoNotOptimize(k->dot(a.get(), b.get(), dim));
                break;
            case Op::kL1:
                benchmark::DoNotOptimize(k->l1(a.get(), b.get(), dim));
                break;
            case Op::kDotNorms: {
                float ab, aa, bb;
                k->dot_norms(a.get(), b.get(), dim, &ab, &aa, &bb);
                benchmark::DoNotOptimize(ab);
                benchmark::DoNotOptimize(aa);
                benchmark::DoNotOptimize(bb);
                break;
            }
        }
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 2 * dim * sizeof(float));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// The scattered-neighbours pattern of an HNSW search: 32 vectors from random places in a pool
// larger than the caches. The pool is shared by all batch benchmarks of one dimension.
struct Pool {
    size_t dim = 0, count = 0;
    FloatBuf data;
    std::vector<const float*> lists;  // kLists lists of kListLen pointers
    static constexpr size_t kBytes = size_t{256} << 20;
    static constexpr size_t kListLen = 32;
    static constexpr size_t kLists = 16384;

    explicit Pool(size_t d) : dim(d), count(kBytes / (d * sizeof(float))) {
        data = alloc_floats(count * dim);
        fill(data.get(), count * dim, 3);
        lists.resize(kListLen * kLists);
        uint64_t x = 88172645463325252ull;
        for (auto& p : lists) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            p = data.get() + (x % count) * dim;
        }
    }
};

Pool& pool_for(size_t dim) {
    static std::unique_ptr<Pool> pools[3];
    const size_t slot = dim == 128 ? 0 : dim == 768 ? 1 : 2;
    if (!pools[slot]) pools[slot] = std::make_unique<Pool>(dim);
    return *pools[slot];
}

void bench_batch(benchmark::State& state, const Kernels* k, Op op, size_t dim, bool singles) {
    Pool& pool = pool_for(dim);
    FloatBuf q = alloc_floats(dim);
    fill(q.get(), dim, 4);
    float out[Pool::kListLen];
    piramid::distance::BatchFn batch = op == Op::kL2sq  ? k->l2sq_batch
                                       : op == Op::kDot ? k->dot_batch
                                                        : k->l1_batch;
    float (*single)(const float*, const float*, size_t) = op == Op::kL2sq  ? k->l2sq
                                                          : op == Op::kDot ? k->dot
                                                                           : k->l1;
    size_t list = 0;
    for (auto _ : state) {
        const float* const* vecs = pool.lists.data() + list * Pool::kListLen;
        if (singles) {
            for (size_t i = 0; i < Pool::kListLen; ++i) out[i] = single(q.get(), vecs[i], dim);
        } else {
            batch(q.get(), vecs, Pool::kListLen, dim, out);
        }
        benchmark::DoNotOptimize(out);
        benchmark::ClobberMemory();
        list = (list + 1) % Pool::kLists;
    }
    // Bytes actually streamed: each scattered vector once (the query stays in cache).
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * Pool::kListLen * dim *
                            sizeof(float));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * Pool::kListLen);
}

// ---------------------------------------------------------------------------------------------
// Memory bandwidth probe.

constexpr size_t kProbeBytes = size_t{1} << 30;

float* probe_array() {
    static FloatBuf buf = [] {
        FloatBuf b = alloc_floats(kProbeBytes / sizeof(float));
        // Touch every page so the timed loop measures reads, not page faults.
        std::memset(b.get(), 0, kProbeBytes);
        return b;
    }();
    return buf.get();
}

void bench_membw_sum(benchmark::State& state) {
    const uint64_t* p = reinterpret_cast<const uint64_t*>(probe_array());
    const size_t n = kProbeBytes / sizeof(uint64_t);
    for (auto _ : state) {
        uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (size_t i = 0; i < n; i += 4) {
            s0 += p[i];
            s1 += p[i + 1];
            s2 += p[i + 2];
            s3 += p[i + 3];
        }
        benchmark::DoNotOptimize(s0 + s1 + s2 + s3);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(kProbeBytes));
}

void bench_membw_dot(benchmark::State& state) {
    const float* p = probe_array();
    const size_t half = kProbeBytes / sizeof(float) / 2;
    const Kernels& k = piramid::distance::best();
    for (auto _ : state) benchmark::DoNotOptimize(k.dot(p, p + half, half));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(kProbeBytes));
    state.SetLabel(isa_name(k.isa));
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

    const Isa isas[] = {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon};
    for (Op op : {Op::kL2sq, Op::kDot, Op::kL1, Op::kDotNorms}) {
        for (size_t dim : kDims) {
            for (Isa isa : isas) {
                const Kernels* k = kernels_for(isa);
                if (k == nullptr) continue;
                const std::string name = std::string("kernel/") + op_name(op) + "/" +
                                         isa_name(isa) + "/" + std::to_string(dim);
                benchmark::RegisterBenchmark(name.c_str(), bench_kernel, k, op, dim);
            }
        }
    }
    for (Op op : {Op::kL2sq, Op::kDot, Op::kL1}) {
        for (size_t dim : {size_t{128}, size_t{768}}) {
            for (Isa isa : isas) {
                const Kernels* k = kernels_for(isa);
                if (k == nullptr || isa == Isa::kScalar) continue;
                const std::string name = std::string("batch/") + op_name(op) + "/" + isa_name(isa) +
                                         "/" + std::to_string(dim);
                benchmark::RegisterBenchmark(name.c_str(), bench_batch, k, op, dim, false);
                benchmark::RegisterBenchmark((name + "/singles").c_str(), bench_batch, k, op, dim,
                                             true);
            }
        }
    }
    benchmark::RegisterBenchmark("membw/sum_u64/1GiB", bench_membw_sum)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("membw/dot_best/1GiB", bench_membw_dot)
        ->Unit(benchmark::kMillisecond);

    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
