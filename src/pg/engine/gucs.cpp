// GUCs of the distance engines (piramid.gpu*, piramid.engine_threads).
#include "pg/guard.hpp"
#include "pg/engine/gpu.hpp"
#include "pg/module.hpp"

extern "C" {
#include "utils/guc.h"
}

#include <climits>

namespace piramid::pg {

namespace gpu {

int g_mode = static_cast<int>(Mode::kAuto);
int g_min_batch = 64;
int g_min_vectors = 50000;
int g_staging_mb = 64;
int g_max_backends = 4;
int g_device = 0;
int g_engine_threads = 0;
char* g_plugin_path = nullptr;

static const struct config_enum_entry kModeOptions[] = {
    {"off", static_cast<int>(Mode::kOff), false}, {"auto", static_cast<int>(Mode::kAuto), false},
    {"on", static_cast<int>(Mode::kOn), false},   {"false", static_cast<int>(Mode::kOff), true},
    {"true", static_cast<int>(Mode::kOn), true},  {nullptr, 0, false},
};

}  // namespace gpu

void gpu_define_gucs() {
    using namespace gpu;
    DefineCustomEnumVariable(
        "piramid.gpu", "Use the GPU for batched distance work.",
        "off: never; auto: when a usable GPU is present and the batch is large enough; on: "
        "always, and raise an error when no GPU is usable.",
        &g_mode, static_cast<int>(Mode::kAuto), kModeOptions, PGC_USERSET, 0, nullptr, nullptr,
        nullptr);
    DefineCustomIntVariable(
        "piramid.gpu_min_batch", "Fewest queries in a batch for piramid.gpu = auto to use the GPU.",
        nullptr, &g_min_batch, 64, 1, INT_MAX, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "piramid.gpu_min_vectors",
        "Fewest vectors in a batch (per work_mem chunk) for piramid.gpu = auto to use the GPU.",
        nullptr, &g_min_vectors, 50000, 1, INT_MAX, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("piramid.gpu_staging_mb",
                            "Size of the pinned host staging ring of a backend's GPU worker.",
                            "Takes effect when the worker opens the device.", &g_staging_mb, 64, 2,
                            4096, PGC_USERSET, GUC_UNIT_MB, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("piramid.gpu_max_backends",
                            "Most backends holding a GPU context at once.", nullptr,
                            &g_max_backends, 4, 0, 1024, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("piramid.gpu_device", "CUDA device number to use.", nullptr, &g_device,
                            0, 0, 64, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomStringVariable("piramid.gpu_plugin_path",
                               "Path of the CUDA plugin (piramid_cuda.so).",
                               "Empty: piramid_cuda.so in the PostgreSQL library directory.",
                               &g_plugin_path, "", PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("piramid.engine_threads",
                            "Threads of the CPU distance engine per batched job (0: one per CPU).",
                            nullptr, &g_engine_threads, 0, 0, 256, PGC_USERSET, 0, nullptr, nullptr,
                            nullptr);
}

}  // namespace piramid::pg
