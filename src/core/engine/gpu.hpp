// The host side of the CUDA plugin: loading piramid_cuda.so with dlopen, the GPU worker thread
// that owns the CUDA context, and GpuEngine, the DistanceEngine that sends jobs to that worker.
// Pure C++ (no CUDA header, no CUDA library linked): without the plugin everything here reports
// kUnavailable with the reason.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/engine/engine.hpp"
#include "core/engine/plugin_abi.h"

namespace piramid::engine {

// A loaded plugin. Never unloaded (the CUDA runtime inside does not support being unloaded
// while its threads or context live).
struct CudaPlugin {
    const PiramidCudaApi* api = nullptr;
    std::string path;
};

// dlopen()s the plugin at `path` and checks its ABI. nullptr and *reason when it cannot.
std::unique_ptr<CudaPlugin> load_cuda_plugin(const std::string& path, std::string* reason);

struct GpuProbe {
    Status status = Status::kUnavailable;
    int cuda_error = 0;
    int device_count = 0;
    std::string message;  // the reason when unavailable or broken
    std::vector<PiramidCudaDevice> devices;
};

// One thread that runs every plugin call (probe, open, jobs, close), so one thread owns the CUDA
// context. Started lazily on the first call; its signals are blocked; it never calls Postgres.
// The calling thread waits for each job while polling `cancel`; on cancellation it tells the job
// to stop and still waits for it, so no job outlives the memory it reads or writes.
class GpuWorker {
  public:
    explicit GpuWorker(const PiramidCudaApi* api) : api_(api) {}
    ~GpuWorker();  // closes the device handle on the worker, then joins it
    GpuWorker(const GpuWorker&) = delete;
    GpuWorker& operator=(const GpuWorker&) = delete;

    GpuProbe probe(Cancel* cancel);
    Status open(int device, size_t staging_bytes, Cancel* cancel, std::string* msg);
    bool is_open() const { return handle_ != nullptr; }
    const PiramidCudaApi* api() const { return api_; }

    Status distances(const float* queries, size_t nq, const float* base, size_t nb, size_t dim,
                     Metric metric, float* out, Cancel* cancel, std::string* msg);
    Status topk(const float* queries, size_t nq, const float* base, size_t nb, size_t dim,
                Metric metric, size_t k, int64_t* ids, double* dists, Cancel* cancel,
                std::string* msg);

  private:
    // Runs job on the worker thread and waits (see class comment). job gets the cancel word and
    // a message buffer and returns a PIRAMID_ST_* code.
    Status run(const std::function<int(const volatile int*, char*, size_t)>& job, Cancel* cancel,
               std::string* msg);
    void loop();

    const PiramidCudaApi* api_;
    void* handle_ = nullptr;
    std::thread thread_;
    std::mutex mu_;
    std::condition_variable cv_;
    const std::function<int(const volatile int*, char*, size_t)>* job_ = nullptr;
    bool done_ = false;
    bool stop_ = false;
    int result_ = 0;
    volatile int cancel_word_ = 0;
    char msg_[1024] = {0};
};

// The DistanceEngine over an open GpuWorker. After a kDeviceError the worker must not be used
// again (the caller marks the GPU unusable).
class GpuEngine final : public DistanceEngine {
  public:
    GpuEngine(GpuWorker* worker, std::string device_name)
        : worker_(worker), device_(std::move(device_name)) {}
    std::string name() const override { return "cuda (" + device_ + ")"; }
    Status distances(const float* queries, size_t nq, const float* base, size_t nb, size_t dim,
                     Metric metric, float* out, Cancel* cancel) noexcept override;
    Status topk(const float* queries, size_t nq, const float* base, size_t nb, size_t dim,
                Metric metric, size_t k, int64_t* ids, double* dists,
                Cancel* cancel) noexcept override;
    std::string last_error() const override { return last_error_; }

  private:
    GpuWorker* worker_;
    std::string device_;
    std::string last_error_;
};

}  // namespace piramid::engine
