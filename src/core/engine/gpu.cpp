#include "core/engine/gpu.hpp"

#include <dlfcn.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>

#include "core/engine/threads.hpp"

namespace piramid::engine {

std::unique_ptr<CudaPlugin> load_cuda_plugin(const std::string& path, std::string* reason) {
    // RTLD_LOCAL: the plugin's (hidden) CUDA runtime never mixes with other libraries' symbols.
    void* dl = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (dl == nullptr) {
        const char* e = dlerror();
        *reason = std::string("plugin missing or not loadable: ") + (e ? e : path.c_str());
        return nullptr;
    }
    auto entry = reinterpret_cast<PiramidCudaEntryFn>(dlsym(dl, PIRAMID_CUDA_ENTRY));
    if (entry == nullptr) {
        *reason = "plugin " + path + " lacks the entry point " PIRAMID_CUDA_ENTRY;
        dlclose(dl);
        return nullptr;
    }
    const PiramidCudaApi* api = entry(PIRAMID_CUDA_ABI_VERSION);
    if (api == nullptr || api->abi_version != PIRAMID_CUDA_ABI_VERSION ||
        api->struct_size < sizeof(PiramidCudaApi)) {
        *reason = "plugin " + path + " speaks another ABI version";
        dlclose(dl);
        return nullptr;
    }
    auto p = std::make_unique<CudaPlugin>();
    p->api = api;
    p->path = path;
    return p;
}

static Status from_code(int code) {
    switch (code) {
        case PIRAMID_ST_OK:
            return Status::kOk;
        case PIRAMID_ST_CANCELED:
            return Status::kCanceled;
        case PIRAMID_ST_INVALID:
            return Status::kInvalidArgument;
        case PIRAMID_ST_OOM:
            return Status::kOutOfMemory;
        case PIRAMID_ST_DEVICE_ERROR:
            return Status::kDeviceError;
        case PIRAMID_ST_UNAVAILABLE:
            return Status::kUnavailable;
        default:
            return Status::kInternal;
    }
}

GpuWorker::~GpuWorker() {
    if (!thread_.joinable()) return;
    {
        std::lock_guard<std::mutex> g(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void GpuWorker::loop() {
    std::unique_lock<std::mutex> lk(mu_);
    for (;;) {
        cv_.wait(lk, [&] { return stop_ || (job_ != nullptr && !done_); });
        if (job_ != nullptr && !done_) {
            const auto* job = job_;
            lk.unlock();
            int rc = PIRAMID_ST_INTERNAL;
            try {
                rc = (*job)(&cancel_word_, msg_, sizeof(msg_));
            } catch (...) {
                std::snprintf(msg_, sizeof(msg_), "exception in the GPU worker");
            }
            lk.lock();
            result_ = rc;
            done_ = true;
            cv_.notify_all();
            continue;
        }
        if (stop_) break;
    }
    lk.unlock();
    if (handle_ != nullptr) {
        api_->close(handle_);
        handle_ = nullptr;
    }
}

Status GpuWorker::run(const std::function<int(const volatile int*, char*, size_t)>& job,
                      Cancel* cancel, std::string* msg) {
    if (!thread_.joinable()) thread_ = spawn_blocked([this] { loop(); });
    std::unique_lock<std::mutex> lk(mu_);
    msg_[0] = '\0';
    __atomic_store_n(&cancel_word_, 0, __ATOMIC_RELAXED);
    job_ = &job;
    done_ = false;
    cv_.notify_all();
    while (!done_) {
        cv_.wait_for(lk, std::chrono::milliseconds(5));
        if (!done_ && cancel != nullptr) {
            lk.unlock();
            if (cancel->check()) __atomic_store_n(&cancel_word_, 1, __ATOMIC_RELAXED);
            lk.lock();
        }
    }
    job_ = nullptr;
    if (msg != nullptr) *msg = msg_;
    return from_code(result_);
}

GpuProbe GpuWorker::probe(Cancel* cancel) {
    GpuProbe p;
    int count = 0, cerr = 0;
    std::string msg;
    p.status = run(
        [&](const volatile int*, char* m, size_t ml) { return api_->probe(&count, &cerr, m, ml); },
        cancel, &msg);
    p.cuda_error = cerr;
    p.device_count = count;
    p.message = msg;
    for (int d = 0; p.status == Status::kOk && d < count; ++d) {
        PiramidCudaDevice dev{};
        Status s = run([&](const volatile int*, char* m,
                           size_t ml) { return api_->device_info(d, &dev, m, ml); },
                       cancel, &msg);
        if (s == Status::kOk) p.devices.push_back(dev);
    }
    return p;
}

Status GpuWorker::open(int device, size_t staging_bytes, Cancel* cancel, std::string* msg) {
    if (handle_ != nullptr) return Status::kOk;
    void* h = nullptr;
    Status s = run([&](const volatile int*, char* m,
                       size_t ml) { return api_->open(device, staging_bytes, &h, m, ml); },
                   cancel, msg);
    if (s == Status::kOk) handle_ = h;
    return s;
}

Status GpuWorker::distances(const float* queries, size_t nq, const float* base, size_t nb,
                            size_t dim, Metric metric, float* out, Cancel* cancel,
                            std::string* msg) {
    if (handle_ == nullptr) return Status::kUnavailable;
    return run(
        [&](const volatile int* cw, char* m, size_t ml) {
            return api_->distances(handle_, queries, nq, base, nb, dim, static_cast<int>(metric),
                                   out, cw, m, ml);
        },
        cancel, msg);
}

Status GpuWorker::topk(const float* queries, size_t nq, const float* base, size_t nb, size_t dim,
                       Metric metric, size_t k, int64_t* ids, double* dists, Cancel* cancel,
                       std::string* msg) {
    if (handle_ == nullptr) return Status::kUnavailable;
    return run(
        [&](const volatile int* cw, char* m, size_t ml) {
            return api_->topk(handle_, queries, nq, base, nb, dim, static_cast<int>(metric), k, ids,
                              dists, cw, m, ml);
        },
        cancel, msg);
}

Status GpuEngine::distances(const float* queries, size_t nq, const float* base, size_t nb,
                            size_t dim, Metric metric, float* out, Cancel* cancel) noexcept {
    Status st = check_args(nq, nb, dim, metric, 0, false);
    if (st != Status::kOk) return st;
    try {
        return worker_->distances(queries, nq, base, nb, dim, metric, out, cancel, &last_error_);
    } catch (const std::bad_alloc&) {
        return Status::kOutOfMemory;
    } catch (...) {
        return Status::kInternal;
    }
}

Status GpuEngine::topk(const float* queries, size_t nq, const float* base, size_t nb, size_t dim,
                       Metric metric, size_t k, int64_t* ids, double* dists,
                       Cancel* cancel) noexcept {
    Status st = check_args(nq, nb, dim, metric, k, true);
    if (st != Status::kOk) return st;
    try {
        return worker_->topk(queries, nq, base, nb, dim, metric, k, ids, dists, cancel,
                             &last_error_);
    } catch (const std::bad_alloc&) {
        return Status::kOutOfMemory;
    } catch (...) {
        return Status::kInternal;
    }
}

}  // namespace piramid::engine
