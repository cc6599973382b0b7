// CudaEngine (through the plugin and the GPU worker) against CpuEngine. Needs a GPU: runs only
// with PIRAMID_TEST_GPU=1 and PIRAMID_CUDA_PLUGIN=/path/to/piramid_cuda.so; skipped otherwise.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <random>
#include <vector>

#include "core/engine/cpu_engine.hpp"
#include "core/engine/gpu.hpp"

namespace {

using namespace piramid::engine;

struct Gpu {
    std::unique_ptr<CudaPlugin> plugin;
    std::unique_ptr<GpuWorker> worker;
    std::unique_ptr<GpuEngine> engine;
};

// Empty engine + a skip message when the GPU tests are not enabled or cannot run.
std::string open_gpu(Gpu& g) {
    const char* on = std::getenv("PIRAMID_TEST_GPU");
    if (on == nullptr || std::string(on) != "1") {
        return "GPU tests disabled: set PIRAMID_TEST_GPU=1 and PIRAMID_CUDA_PLUGIN on a GPU host";
    }
    const char* path = std::getenv("PIRAMID_CUDA_PLUGIN");
    std::string reason;
    g.plugin = load_cuda_plugin(path ? path : "build/cuda/piramid_cuda.so", &reason);
    if (!g.plugin) return "FAIL: " + reason;
    g.worker = std::make_unique<GpuWorker>(g.plugin->api);
    GpuProbe p = g.worker->probe(nullptr);
    if (p.status != Status::kOk || p.device_count == 0) return "FAIL: no GPU: " + p.message;
    std::string msg;
    if (g.worker->open(0, 64u << 20, nullptr, &msg) != Status::kOk) return "FAIL: open: " + msg;
    g.engine = std::make_unique<GpuEngine>(g.worker.get(), p.devices.at(0).name);
    return {};
}

#define GPU_OR_SKIP(g)                                 \
    Gpu g;                                             \
    if (std::string why = open_gpu(g); !why.empty()) { \
        if (why.rfind("FAIL", 0) == 0) FAIL() << why;  \
        GTEST_SKIP() << why;                           \
    }

std::vector<float> rnd(size_t n, uint32_t seed) {
    std::mt19937 r(seed);
    std::normal_distribution<float> d;
    std::vector<float> v(n);
    for (auto& x : v) x = d(r);
    return v;
}

TEST(CudaEngine, ParityWithCpu) {
    GPU_OR_SKIP(g);
    CpuEngine cpu(0);
    for (size_t dim : {3, 128, 784}) {
        const size_t nq = 97, nb = 20011;
        auto q = rnd(nq * dim, 1), b = rnd(nb * dim, 2);
        for (Metric m : {Metric::kL2, Metric::kInnerProduct, Metric::kCosine, Metric::kL1}) {
            for (size_t k : {1, 10, 1024}) {
                std::vector<int64_t> ci(nq * k), gi(nq * k);
                std::vector<double> cd(nq * k), gd(nq * k);
                ASSERT_EQ(
                    cpu.topk(q.data(), nq, b.data(), nb, dim, m, k, ci.data(), cd.data(), nullptr),
                    Status::kOk);
                ASSERT_EQ(g.engine->topk(q.data(), nq, b.data(), nb, dim, m, k, gi.data(),
                                         gd.data(), nullptr),
                          Status::kOk)
                    << g.engine->last_error();
                size_t same = 0;
                for (size_t i = 0; i < ci.size(); ++i) {
                    same += ci[i] == gi[i];
                    ASSERT_NEAR(cd[i], gd[i], 1e-3 * std::max(1.0, std::fabs(cd[i])));
                }
                EXPECT_GE(same, ci.size() * 99 / 100);  // ids may swap among near-ties
            }
            std::vector<float> cm(16 * nb), gm(16 * nb);
            ASSERT_EQ(cpu.distances(q.data(), 16, b.data(), nb, dim, m, cm.data(), nullptr),
                      Status::kOk);
            ASSERT_EQ(g.engine->distances(q.data(), 16, b.data(), nb, dim, m, gm.data(), nullptr),
                      Status::kOk);
            for (size_t i = 0; i < cm.size(); ++i) {
                if (std::isnan(cm[i])) {
                    ASSERT_TRUE(std::isnan(gm[i]));
                } else {
                    ASSERT_NEAR(cm[i], gm[i], 1e-3f * std::max(1.0f, std::fabs(cm[i])));
                }
            }
        }
    }
}

TEST(CudaEngine, CancelStopsTheJob) {
    GPU_OR_SKIP(g);
    const size_t dim = 256, nq = 4096, nb = 400000;
    auto q = rnd(nq * dim, 3), b = rnd(nb * dim, 4);
    std::vector<int64_t> ids(nq * 100);
    std::vector<double> d(nq * 100);
    Cancel c;
    c.poll = [](void*) { return true; };
    EXPECT_EQ(
        g.engine->topk(q.data(), nq, b.data(), nb, dim, Metric::kL2, 100, ids.data(), d.data(), &c),
        Status::kCanceled);
}

// Calibration of piramid.gpu_min_batch / gpu_min_vectors: prints CPU and GPU times per size.
TEST(CudaEngine, ThresholdCalibration) {
    GPU_OR_SKIP(g);
    CpuEngine cpu(0);
    const size_t dim = 128;
    for (size_t nq : {1, 16, 64, 256}) {
        for (size_t nb : {10000, 100000}) {
            auto q = rnd(nq * dim, 5), b = rnd(nb * dim, 6);
            std::vector<int64_t> ids(nq * 10);
            std::vector<double> d(nq * 10);
            auto time = [&](DistanceEngine& e) {
                auto t0 = std::chrono::steady_clock::now();
                EXPECT_EQ(e.topk(q.data(), nq, b.data(), nb, dim, Metric::kL2, 10, ids.data(),
                                 d.data(), nullptr),
                          Status::kOk);
                return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                                 t0)
                    .count();
            };
            time(*g.engine);
            const double tg = time(*g.engine), tc = time(cpu);
            std::printf("calibration nq=%zu nb=%zu cpu=%.2fms gpu=%.2fms\n", nq, nb, tc, tg);
        }
    }
}

}  // namespace
