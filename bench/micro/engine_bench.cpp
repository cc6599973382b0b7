// piramid_engine_bench: the distance engines' batched exact k-NN (GPU against CPU) and the
// HNSW build (the engine-driven build on the GPU against the threaded CPU build), written as a
// Markdown report. scripts/gpu-check.sh runs it on a GPU machine; `--quick` (small sizes, CPU
// only when no GPU) is what CTest runs so that the program keeps working without one.
//
//   piramid_engine_bench [--plugin PATH] [--report FILE] [--quick] [--no-build] [--threads N]
//
// Exit status: 0 when everything that ran agreed (GPU k-NN ids match the CPU's up to
// near-ties; an engine-driven build comes within 0.02 of the threaded build's recall), 1 on a
// disagreement or error, 2 when a GPU was asked for (a plugin path given) but none is usable.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/engine/cpu_engine.hpp"
#include "core/engine/gpu.hpp"
#include "core/hnsw/builder.hpp"
#include "core/hnsw/search.hpp"

namespace {

using namespace piramid;
using engine::Metric;
using engine::Status;
using Clock = std::chrono::steady_clock;

struct Options {
    std::string plugin;
    std::string report;
    bool quick = false;
    bool build = true;
    unsigned threads = 0;
};

std::vector<float> random_rows(size_t n, size_t dim, uint32_t seed) {
    std::vector<float> v(n * dim);
    const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> ts;
    for (unsigned t = 0; t < hw; ++t)
        ts.emplace_back([&, t] {
            std::mt19937_64 r(seed * 1000003ull + t);
            std::normal_distribution<float> d;
            const size_t lo = v.size() * t / hw, hi = v.size() * (t + 1) / hw;
            for (size_t i = lo; i < hi; ++i) v[i] = d(r);
        });
    for (auto& t : ts) t.join();
    return v;
}

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

struct Report {
    std::string text;
    void blank() {
        text += '\n';
        std::printf("\n");
    }
    void line(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
        char buf[1024];
        va_list ap;
        va_start(ap, fmt);
        std::vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        text += buf;
        text += '\n';
        std::printf("%s\n", buf);
        std::fflush(stdout);
    }
};

struct Gpu {
    std::unique_ptr<engine::CudaPlugin> plugin;
    std::unique_ptr<engine::GpuWorker> worker;
    std::unique_ptr<engine::GpuEngine> engine;
    std::string device;
};

std::string open_gpu(const std::string& path, Gpu& g) {
    std::string reason;
    g.plugin = engine::load_cuda_plugin(path, &reason);
    if (!g.plugin) return "plugin: " + reason;
    g.worker = std::make_unique<engine::GpuWorker>(g.plugin->api);
    engine::GpuProbe p = g.worker->probe(nullptr);
    if (p.status != Status::kOk || p.device_count == 0) return "no usable GPU: " + p.message;
    std::string msg;
    if (g.worker->open(0, 64u << 20, nullptr, &msg) != Status::kOk) return "open: " + msg;
    const auto& d = p.devices.at(0);
    char buf[512];
    std::snprintf(buf, sizeof buf, "%s (sm_%d%d, %.0f GiB)", d.name, d.cc_major, d.cc_minor,
                  d.total_mem / double(1ull << 30));
    g.device = buf;
    g.engine = std::make_unique<engine::GpuEngine>(g.worker.get(), d.name);
    return {};
}

// Ids that differ between two top-k answers where the distances differ too (a swap of two
// near-equal distances is not a disagreement).
size_t disagreements(const std::vector<int64_t>& a, const std::vector<double>& da,
                     const std::vector<int64_t>& b, const std::vector<double>& db) {
    size_t bad = 0;
    for (size_t i = 0; i < a.size(); ++i)
        if (a[i] != b[i] && std::fabs(da[i] - db[i]) > 1e-3 * std::max(1.0, std::fabs(da[i])))
            ++bad;
    return bad;
}

bool knn_section(Report& r, const Options& o, engine::DistanceEngine& cpu, Gpu* gpu) {
    bool ok = true;
    struct Shape {
        size_t n, dim;
    };
    const std::vector<Shape> shapes = o.quick ? std::vector<Shape>{{20000, 128}, {5000, 768}}
                                              : std::vector<Shape>{{1000000, 128}, {100000, 768}};
    const std::vector<size_t> batches =
        o.quick ? std::vector<size_t>{1, 10, 100} : std::vector<size_t>{1, 10, 100, 1000};
    const size_t k = 10;
    const int reps = 3;
    r.line("## Batched exact k-NN (L2, k = %zu; median of %d runs after a warm-up)", k, reps);
    r.blank();
    r.line(
        "| rows x dims | batch | CPU ms | CPU queries/s | GPU ms | GPU queries/s | GPU/CPU | "
        "ids differing |");
    r.line("|---|---|---|---|---|---|---|---|");
    for (const Shape& s : shapes) {
        const auto base = random_rows(s.n, s.dim, 7);
        const size_t maxq = batches.back();
        const auto queries = random_rows(maxq, s.dim, 8);
        for (size_t nq : batches) {
            std::vector<int64_t> ci(nq * k), gi(nq * k);
            std::vector<double> cd(nq * k), gd(nq * k);
            auto time = [&](engine::DistanceEngine& e, std::vector<int64_t>& ids,
                            std::vector<double>& d) {
                std::vector<double> t;
                for (int i = 0; i <= reps; ++i) {
                    const auto t0 = Clock::now();
                    const Status st = e.topk(queries.data(), nq, base.data(), s.n, s.dim,
                                             Metric::kL2, k, ids.data(), d.data(), nullptr);
                    if (st != Status::kOk) return -1.0;
                    if (i > 0) t.push_back(seconds_since(t0) * 1e3);
                }
                return median(t);
            };
            const double tc = time(cpu, ci, cd);
            double tg = -1;
            size_t bad = 0;
            if (gpu) {
                tg = time(*gpu->engine, gi, gd);
                if (tg >= 0) bad = disagreements(ci, cd, gi, gd);
            }
            if (tc < 0 || (gpu && tg < 0) || bad > 0) ok = false;
            if (gpu)
                r.line("| %zu x %zu | %zu | %.2f | %.0f | %.3f | %.0f | %.1fx | %zu |", s.n, s.dim,
                       nq, tc, nq / tc * 1e3, tg, nq / tg * 1e3, tc / tg, bad);
            else
                r.line("| %zu x %zu | %zu | %.2f | %.0f | - | - | - | - |", s.n, s.dim, nq, tc,
                       nq / tc * 1e3);
        }
    }
    r.blank();
    return ok;
}

// recall@10 of the built graph at ef_search = 100 over `nq` queries, against exact answers.
double graph_recall(hnsw::Builder& b, const std::vector<float>& base, size_t n, size_t dim,
                    engine::DistanceEngine& cpu) {
    const size_t nq = 200, k = 10, ef = 100;
    const auto q = random_rows(nq, dim, 99);
    std::vector<int64_t> ids(nq * k);
    std::vector<double> d(nq * k);
    if (cpu.topk(q.data(), nq, base.data(), n, dim, Metric::kL2, k, ids.data(), d.data(),
                 nullptr) != Status::kOk)
        return -1;
    hnsw::BuildGraph& g = b.graph();
    hnsw::SearchScratch sc;
    hnsw::DenseVisitedSet visited(b.size());
    std::vector<hnsw::Candidate> res;
    size_t hit = 0;
    for (size_t i = 0; i < nq; ++i) {
        const float* qi = q.data() + i * dim;
        const hnsw::NodeId start =
            hnsw::greedy_descent(g, qi, b.entry_point(), b.max_level(), 0, sc).id;
        const hnsw::NodeId e[1] = {start};
        hnsw::search_layer(g, qi, std::span<const hnsw::NodeId>(e, 1), ef, 0, visited, sc, res);
        for (size_t j = 0; j < std::min(k, res.size()); ++j) {
            const int64_t label = static_cast<int64_t>(b.labels(res[j].id)[0]);
            for (size_t t = 0; t < k; ++t) hit += ids[i * k + t] == label;
        }
    }
    return double(hit) / (nq * k);
}

bool build_section(Report& r, const Options& o, engine::DistanceEngine& cpu, Gpu* gpu) {
    const size_t n = o.quick ? 20000 : 1000000, dim = 128;
    const int threads =
        o.threads ? int(o.threads) : int(std::max(1u, std::thread::hardware_concurrency()));
    r.line("## HNSW build, %zu x %zu, m = 16, ef_construction = 64, %d threads", n, dim, threads);
    r.blank();
    r.line("| build | seconds | recall@10 at ef_search 100 | note |");
    r.line("|---|---|---|---|");
    const auto base = random_rows(n, dim, 11);
    bool ok = true;
    double threaded_recall = 0;
    auto run = [&](const char* what, engine::DistanceEngine* eng) {
        hnsw::Params p;
        p.dim = dim;
        p.metric = distance::Metric::kL2;
        p.m = 16;
        p.ef_construction = 64;
        p.seed = 0x5EED;
        p.keep_in_links = false;
        hnsw::Builder b(p, size_t(64) << 30);
        for (size_t i = 0; i < n; ++i) b.add(base.data() + i * dim, i);
        const auto t0 = Clock::now();
        if (eng) {
            if (!b.start_with_engine(*eng, threads)) {
                r.line("| %s | - | - | does not fit the memory budget |", what);
                ok = false;
                return;
            }
        } else {
            b.start(threads);
        }
        b.join();
        const double secs = seconds_since(t0);
        const double rec = graph_recall(b, base, n, dim, cpu);
        const std::string note = b.engine_error().empty() ? "" : "fell back: " + b.engine_error();
        r.line("| %s | %.1f | %.4f | %s |", what, secs, rec, note.c_str());
        // An engine-driven build must reach the threaded build's recall (within 0.02).
        if (!eng) threaded_recall = rec;
        if (rec < 0 || !b.engine_error().empty() || (eng && rec < threaded_recall - 0.02))
            ok = false;
    };
    run("threaded CPU build", nullptr);
    if (gpu) run("engine-driven build, GPU engine", gpu->engine.get());
    if (o.quick) run("engine-driven build, CPU engine", &cpu);
    r.blank();
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--plugin" && i + 1 < argc)
            o.plugin = argv[++i];
        else if (a == "--report" && i + 1 < argc)
            o.report = argv[++i];
        else if (a == "--quick")
            o.quick = true;
        else if (a == "--no-build")
            o.build = false;
        else if (a == "--threads" && i + 1 < argc)
            o.threads = static_cast<unsigned>(std::atoi(argv[++i]));
        else {
            std::fprintf(stderr,
                         "usage: %s [--plugin PATH] [--report FILE] [--quick] [--no-build] "
                         "[--threads N]\n",
                         argv[0]);
            return 1;
        }
    }
    Report r;
    engine::CpuEngine cpu(o.threads);
    Gpu gpu;
    std::string why;
    if (!o.plugin.empty()) why = open_gpu(o.plugin, gpu);
    r.line("# piramid engine report%s", o.quick ? " (quick sizes)" : "");
    r.blank();
    r.line("- CPU engine: %s, SIMD %s", cpu.name().c_str(),
           distance::isa_name(distance::best().isa));
    if (o.plugin.empty())
        r.line("- GPU: not asked for (no --plugin)");
    else if (!why.empty())
        r.line("- GPU: unavailable: %s", why.c_str());
    else
        r.line("- GPU: %s, engine %s", gpu.device.c_str(), gpu.engine->name().c_str());
    r.blank();
    Gpu* g = gpu.engine ? &gpu : nullptr;
    bool ok = knn_section(r, o, cpu, g);
    if (o.build) ok = build_section(r, o, cpu, g) && ok;
    r.line("Result: %s", ok ? "all checks agree" : "DISAGREEMENT or error (see above)");
    if (!o.report.empty()) {
        if (FILE* f = std::fopen(o.report.c_str(), "w")) {
            std::fputs(r.text.c_str(), f);
            std::fclose(f);
        }
    }
    if (!o.plugin.empty() && !why.empty()) return 2;
    return ok ? 0 : 1;
}
