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
// half/<name>/<isa>/<dim>: the half-precision kernels on one pair of halfvecs in L1 (bytes =
//   both inputs, 2 bytes per element); bits/<name>/<isa>/<bytes>: the bit kernels likewise
//   (popcnt64 is the POPCNT-on-words variant that the AVX2 lookup was measured against). These
//   run 5 repetitions and report the mean, median and stddev; the figure to quote is the median:
//
//   ./build/piramid_micro_bench --benchmark_filter='^(half|bits)/' --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/distance/bits.hpp"
#include "core/distance/bits_impl.hpp"
#include "core/distance/distance.hpp"
#include "core/distance/half.hpp"

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
// Half and bit kernels: one pair of inputs in L1, bytes = both inputs.

using piramid::distance::BitKernels;
using piramid::distance::half;
using piramid::distance::HalfKernels;

void bench_half(benchmark::State& state, const HalfKernels* k, Op op, size_t dim) {
    std::vector<float> fa(dim), fb(dim);
    fill(fa.data(), dim, 5);
    fill(fb.data(), dim, 6);
    std::vector<half> a(dim), b(dim);
    piramid::distance::half_scalar().from_float(fa.data(), a.data(), dim);
    piramid::distance::half_scalar().from_float(fb.data(), b.data(), dim);
    for (auto _ : state) {
        benchmark::DoNotOptimize(a.data());
        benchmark::DoNotOptimize(b.data());
        if (op == Op::kL2sq) {
            benchmark::DoNotOptimize(k->l2sq(a.data(), b.data(), dim));
        } else {
            benchmark::DoNotOptimize(k->dot(a.data(), b.data(), dim));
        }
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 2 * dim * sizeof(half));
}

enum class BitOp { kPopcount, kHamming, kJaccard };

void bench_bits(benchmark::State& state, const BitKernels* k, BitOp op, size_t nbytes) {
    std::vector<uint8_t> a(nbytes), b(nbytes);
    uint32_t x = 12345;
    for (size_t i = 0; i < nbytes; ++i) {
        x = x * 1664525u + 1013904223u;
        a[i] = static_cast<uint8_t>(x >> 24);
        b[i] = static_cast<uint8_t>(x >> 16);
    }
    for (auto _ : state) {
        benchmark::DoNotOptimize(a.data());
        benchmark::DoNotOptimize(b.data());
        switch (op) {
            case BitOp::kPopcount:
                benchmark::DoNotOptimize(k->popcount(a.data(), nbytes));
                break;
            case BitOp::kHamming:
                benchmark::DoNotOptimize(k->hamming(a.data(), b.data(), nbytes));
                break;
            case BitOp::kJaccard: {
                uint64_t ab, aa, bb;
                k->jaccard_counts(a.data(), b.data(), nbytes, &ab, &aa, &bb);
                benchmark::DoNotOptimize(ab);
                benchmark::DoNotOptimize(aa);
                benchmark::DoNotOptimize(bb);
                break;
            }
        }
    }
    const int64_t inputs = op == BitOp::kPopcount ? 1 : 2;
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * inputs *
                            static_cast<int64_t>(nbytes));
}

void register_half_and_bits() {
    const Isa isas[] = {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon};
    for (Op op : {Op::kL2sq, Op::kDot}) {
        for (size_t dim : {size_t{768}, size_t{3072}}) {
            for (Isa isa : isas) {
                const HalfKernels* k = piramid::distance::half_kernels_for(isa);
                if (k == nullptr) continue;
                const std::string name = std::string("half/") + op_name(op) + "/" + isa_name(isa) +
                                         "/" + std::to_string(dim);
                benchmark::RegisterBenchmark(name.c_str(), bench_half, k, op, dim)
                    ->Repetitions(5)
                    ->ReportAggregatesOnly(true);
            }
        }
    }
    const std::pair<BitOp, const char*> bit_ops[] = {
        {BitOp::kHamming, "hamming"}, {BitOp::kPopcount, "popcount"}, {BitOp::kJaccard, "jaccard"}};
    for (const auto& [op, op_label] : bit_ops) {
        for (size_t nbytes : {size_t{128}, size_t{1024}, size_t{8000}}) {
            std::vector<std::pair<const BitKernels*, std::string>> tables;
            for (Isa isa : isas) {
                if (const BitKernels* k = piramid::distance::bits_kernels_for(isa))
                    tables.emplace_back(k, isa_name(isa));
            }
            if (piramid::distance::bits_kernels_for(Isa::kAvx2) != nullptr)
                tables.emplace_back(piramid::distance::detail::bits_popcnt64_table(), "popcnt64");
            for (const auto& [k, label] : tables) {
                const std::string name =
                    std::string("bits/") + op_label + "/" + label + "/" + std::to_string(nbytes);
                benchmark::RegisterBenchmark(name.c_str(), bench_bits, k, op, nbytes)
                    ->Repetitions(5)
                    ->ReportAggregatesOnly(true);
            }
        }
    }
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
    register_half_and_bits();
    benchmark::RegisterBenchmark("membw/sum_u64/1GiB", bench_membw_sum)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("membw/dot_best/1GiB", bench_membw_dot)
        ->Unit(benchmark::kMillisecond);

    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
