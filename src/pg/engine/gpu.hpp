// The backend's side of the distance engines: GUCs, the lazily created GPU state (plugin, worker
// thread, device slot) and the choice of engine for each batched job.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/engine/engine.hpp"

namespace piramid::pg::gpu {

enum class Mode : int { kOff = 0, kAuto = 1, kOn = 2 };

extern int g_mode;
extern int g_min_batch;
extern int g_min_vectors;
extern int g_staging_mb;
extern int g_max_backends;
extern int g_device;
extern int g_engine_threads;
extern char* g_plugin_path;

// Outcome of a batched job, in plain storage so the glue can raise errors after every C++ scope
// has ended.
struct JobResult {
    int status;         // engine::Status
    bool gpu_required;  // status kUnavailable came from piramid.gpu = on
    char message[768];  // error detail
    char warning[768];  // WARNING to emit (GPU failed, job redone on the CPU), or empty
};

// Runs one top-k job on the engine the settings choose (never calls Postgres; polls the backend's
// cancel flags). On a sticky GPU error the GPU is marked unusable for this backend and the job is
// redone on the CPU, with a warning.
void run_topk(const float* queries, size_t nq, const float* base, size_t nb, size_t dim,
              engine::Metric metric, size_t k, int64_t* ids, double* dists,
              JobResult* out) noexcept;

// The engine for an engine-driven index build of n vectors: the GPU engine when piramid.gpu
// allows it (on; or auto with n >= piramid.gpu_min_vectors) and one is usable, else (unless
// require_gpu) the CPU engine. Returns nullptr with *why when require_gpu and no GPU is usable.
// Never calls Postgres; the engine stays valid for the backend's lifetime.
engine::DistanceEngine* engine_for_build(size_t n, bool require_gpu, char* why,
                                         size_t why_size) noexcept;
// Records which engine ran the last batched job (piramid_gpu_info().last_engine).
void note_engine_used(const engine::DistanceEngine* eng) noexcept;

// What piramid_gpu_info() reports; strings are NUL-terminated.
struct Info {
    char plugin[64];
    char plugin_path[512];
    char status[64];
    char reason[768];
    int device_count;
    char devices[1024];
    char last_engine[256];
};
// Probes (loads the plugin, counts devices on the worker thread) unless done already.
void info(Info* out) noexcept;

// Joins the worker thread at backend exit (registered with on_proc_exit on first use).
void shutdown() noexcept;

}  // namespace piramid::pg::gpu
