// The backend's GPU state and the engine choice. Everything here is C++ that never calls a
// Postgres function (it only reads a few Postgres globals: the cancel flags, DataDir, the library
// directory), so it can run with C++ objects alive and threads running. The glue raises errors.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "pg/engine/gpu.hpp"
#include "pg/guard.hpp"

extern "C" {
#include "miscadmin.h"
}

#include "core/engine/cpu_engine.hpp"
#include "core/engine/gpu.hpp"

namespace piramid::pg::gpu {

using engine::Status;

namespace {

enum class Phase { kNotProbed, kUsable, kUnavailable, kBroken };

struct State {
    Phase phase = Phase::kNotProbed;
    std::string reason;
    std::string plugin_path;
    std::string plugin_state = "not loaded";
    std::unique_ptr<engine::CudaPlugin> plugin;
    std::unique_ptr<engine::GpuWorker> worker;
    std::unique_ptr<engine::GpuEngine> engine;
    engine::GpuProbe probe;
    int slot_fd = -1;
    std::string last_engine = "none";
};

State* g_state = nullptr;

State& state() {
    if (g_state == nullptr) g_state = new State();
    return *g_state;
}

// Reads the backend's cancel/terminate flags (set by its signal handlers). No Postgres call.
bool interrupts_pending(void*) {
    return QueryCancelPending || ProcDiePending;
}

void copy(char* dst, size_t len, const std::string& s) {
    snprintf(dst, len, "%s", s.c_str());
}

std::string default_plugin_path() {
    if (g_plugin_path != nullptr && g_plugin_path[0] != '\0') return g_plugin_path;
    return std::string(pkglib_path) + "/piramid_cuda.so";
}

// Loads the plugin and counts devices once per backend (on the worker thread).
void probe(State& s) {
    if (s.phase != Phase::kNotProbed) return;
    if (IsPostmasterEnvironment && !IsUnderPostmaster) {
        // Never in the postmaster: backends are forked from it and must not inherit CUDA state.
        s.phase = Phase::kUnavailable;
        s.reason = "the GPU is never used in the postmaster";
        return;
    }
    s.plugin_path = default_plugin_path();
    std::string why;
    s.plugin = engine::load_cuda_plugin(s.plugin_path, &why);
    if (!s.plugin) {
        s.plugin_state = "missing";
        s.phase = Phase::kUnavailable;
        s.reason = why;
        return;
    }
    s.plugin_state = "loaded";
    s.worker = std::make_unique<engine::GpuWorker>(s.plugin->api);
    engine::Cancel cancel;
    cancel.poll = interrupts_pending;
    s.probe = s.worker->probe(&cancel);
    if (s.probe.status == Status::kOk && s.probe.device_count > 0) {
        if (g_device >= s.probe.device_count) {
            s.phase = Phase::kUnavailable;
            s.reason = "piramid.gpu_device " + std::to_string(g_device) + " does not exist (" +
                       std::to_string(s.probe.device_count) + " device(s))";
            return;
        }
        s.phase = Phase::kUsable;
        s.reason.clear();
    } else if (s.probe.status == Status::kUnavailable) {
        s.phase = Phase::kUnavailable;
        s.reason = s.probe.message.empty() ? "no CUDA device" : s.probe.message;
    } else {
        // Not one of the "no GPU" answers: report it (the caller logs it) and use the CPU.
        s.phase = Phase::kBroken;
        s.reason = "CUDA initialisation failed: " + s.probe.message;
    }
}

// Takes one of piramid.gpu_max_backends slot locks (flock on files in the data directory;
// released by the kernel when the backend exits, however it exits).
bool take_slot(State& s, std::string* why) {
    if (s.slot_fd >= 0) return true;
    for (int i = 0; i < g_max_backends; ++i) {
        char path[1100];
        snprintf(path, sizeof(path), "%s/piramid_gpu_slot.%d", DataDir, i);
        int fd = ::open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) continue;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            s.slot_fd = fd;
            return true;
        }
        ::close(fd);
    }
    *why = "all " + std::to_string(g_max_backends) +
           " GPU slots are in use (piramid.gpu_max_backends)";
    return false;
}

// The GPU engine when usable and opened, else nullptr with *why.
engine::DistanceEngine* gpu_engine(State& s, std::string* why) {
    probe(s);
    if (s.phase != Phase::kUsable) {
        *why = s.reason;
        return nullptr;
    }
    if (s.engine) return s.engine.get();
    if (!take_slot(s, why)) return nullptr;
    engine::Cancel cancel;
    cancel.poll = interrupts_pending;
    std::string msg;
    Status st = s.worker->open(g_device, static_cast<size_t>(g_staging_mb) << 20, &cancel, &msg);
    if (st != Status::kOk) {
        ::close(s.slot_fd);
        s.slot_fd = -1;
        if (st == Status::kDeviceError || st == Status::kUnavailable) {
            s.phase = Phase::kBroken;
            s.reason = "opening the device failed: " + msg;
        }
        *why = "opening the device failed: " + msg;
        return nullptr;
    }
    const auto& dev = s.probe.devices.size() > static_cast<size_t>(g_device)
                          ? s.probe.devices[g_device]
                          : PiramidCudaDevice{};
    s.engine = std::make_unique<engine::GpuEngine>(s.worker.get(), dev.name);
    return s.engine.get();
}

engine::CpuEngine& cpu_engine() {
    static engine::CpuEngine* e = nullptr;
    const unsigned want = static_cast<unsigned>(g_engine_threads);
    if (e == nullptr || (want != 0 && e->threads() != want) ||
        (want == 0 && e->threads() != engine::CpuEngine(0).threads())) {
        delete e;
        e = new engine::CpuEngine(want);
    }
    return *e;
}

}  // namespace

void run_topk(const float* queries, size_t nq, const float* base, size_t nb, size_t dim,
              engine::Metric metric, size_t k, int64_t* ids, double* dists,
              JobResult* out) noexcept {
    out->status = static_cast<int>(Status::kOk);
    out->gpu_required = false;
    out->message[0] = '\0';
    out->warning[0] = '\0';
    try {
        State& s = state();
        engine::Cancel cancel;
        cancel.poll = interrupts_pending;
        const Mode mode = static_cast<Mode>(g_mode);
        engine::DistanceEngine* eng = nullptr;
        if (mode == Mode::kOn || (mode == Mode::kAuto && nq >= static_cast<size_t>(g_min_batch) &&
                                  nb >= static_cast<size_t>(g_min_vectors))) {
            std::string why;
            eng = gpu_engine(s, &why);
            if (eng == nullptr && mode == Mode::kOn) {
                out->status = static_cast<int>(Status::kUnavailable);
                out->gpu_required = true;
                copy(out->message, sizeof(out->message), why);
                return;
            }
            if (eng == nullptr && s.phase == Phase::kBroken && !s.reason.empty()) {
                // Logged once per backend: the next jobs find the phase already broken.
                static bool warned = false;
                if (!warned) copy(out->warning, sizeof(out->warning), why + "; using the CPU");
                warned = true;
            }
        }
        if (eng != nullptr) {
            Status st = eng->topk(queries, nq, base, nb, dim, metric, k, ids, dists, &cancel);
            if (st == Status::kDeviceError) {
                s.phase = Phase::kBroken;
                s.reason = "CUDA error: " + eng->last_error();
                copy(out->warning, sizeof(out->warning),
                     s.reason + "; the GPU is disabled for this session, continuing on the CPU");
                eng = nullptr;  // redo on the CPU below
            } else {
                s.last_engine = eng->name();
                out->status = static_cast<int>(st);
                if (st != Status::kOk) copy(out->message, sizeof(out->message), eng->last_error());
                return;
            }
        }
        engine::CpuEngine& cpu = cpu_engine();
        Status st = cpu.topk(queries, nq, base, nb, dim, metric, k, ids, dists, &cancel);
        s.last_engine = cpu.name();
        out->status = static_cast<int>(st);
        if (st != Status::kOk) copy(out->message, sizeof(out->message), cpu.last_error());
    } catch (const std::bad_alloc&) {
        out->status = static_cast<int>(Status::kOutOfMemory);
        copy(out->message, sizeof(out->message), "out of memory");
    } catch (const std::exception& e) {
        out->status = static_cast<int>(Status::kInternal);
        copy(out->message, sizeof(out->message), e.what());
    }
}

engine::DistanceEngine* engine_for_build(size_t n, bool require_gpu, char* why,
                                         size_t why_size) noexcept {
    try {
        State& s = state();
        const Mode mode = static_cast<Mode>(g_mode);
        std::string reason = "piramid.gpu is off";
        if (mode == Mode::kOn ||
            (mode == Mode::kAuto && n >= static_cast<size_t>(g_min_vectors))) {
            engine::DistanceEngine* eng = gpu_engine(s, &reason);
            if (eng != nullptr) return eng;
        } else if (mode == Mode::kAuto) {
            reason = "the build is smaller than piramid.gpu_min_vectors";
        }
        if (require_gpu) {
            copy(why, why_size, reason);
            return nullptr;
        }
        return &cpu_engine();
    } catch (const std::exception& e) {
        copy(why, why_size, e.what());
        return nullptr;
    }
}

void note_engine_used(const engine::DistanceEngine* eng) noexcept {
    try {
        if (eng != nullptr) state().last_engine = eng->name();
    } catch (...) {
    }
}

void info(Info* out) noexcept {
    std::memset(out, 0, sizeof(*out));
    try {
        State& s = state();
        probe(s);
        copy(out->plugin, sizeof(out->plugin), s.plugin_state);
        copy(out->plugin_path, sizeof(out->plugin_path),
             s.plugin_path.empty() ? default_plugin_path() : s.plugin_path);
        const char* st = "not probed";
        switch (s.phase) {
            case Phase::kUsable:
                st = s.engine ? "in use" : "usable";
                break;
            case Phase::kUnavailable:
                st = "unavailable";
                break;
            case Phase::kBroken:
                st = "error";
                break;
            case Phase::kNotProbed:
                break;
        }
        copy(out->status, sizeof(out->status), st);
        copy(out->reason, sizeof(out->reason), s.reason);
        out->device_count = s.probe.device_count;
        std::string devs;
        for (size_t i = 0; i < s.probe.devices.size(); ++i) {
            const auto& d = s.probe.devices[i];
            if (!devs.empty()) devs += "; ";
            devs += std::to_string(i) + ": " + d.name + " (sm_" + std::to_string(d.cc_major) +
                    std::to_string(d.cc_minor) + ", " + std::to_string(d.total_mem >> 20) + " MiB)";
        }
        copy(out->devices, sizeof(out->devices), devs);
        copy(out->last_engine, sizeof(out->last_engine), s.last_engine);
    } catch (...) {
        copy(out->status, sizeof(out->status), "error");
        copy(out->reason, sizeof(out->reason), "out of memory while probing");
    }
}

void shutdown() noexcept {
    if (g_state == nullptr) return;
    // Closes the device handle on the worker thread and joins it.
    g_state->engine.reset();
    g_state->worker.reset();
}

}  // namespace piramid::pg::gpu
