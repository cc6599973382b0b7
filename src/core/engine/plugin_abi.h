/* The C ABI between piramid.so and the CUDA plugin piramid_cuda.so. Plain C types only: the
 * plugin is built by a different compiler (nvcc) and loaded with dlopen. The plugin exports one
 * symbol, PIRAMID_CUDA_ENTRY, returning a table of functions for the ABI version asked for (NULL
 * when it does not speak that version). Every function returns a status code (values of
 * piramid::engine::Status) and never throws; messages are written into caller buffers.
 * Threading: the functions taking a handle must all be called from one thread (the backend's GPU
 * worker), which owns the CUDA context, stream and buffers. */
#ifndef PIRAMID_PLUGIN_ABI_H
#define PIRAMID_PLUGIN_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PIRAMID_CUDA_ABI_VERSION 1u
#define PIRAMID_CUDA_ENTRY "piramid_cuda_plugin_v1"

enum {
    PIRAMID_ST_OK = 0,
    PIRAMID_ST_CANCELED = 1,
    PIRAMID_ST_INVALID = 2,
    PIRAMID_ST_OOM = 3,
    PIRAMID_ST_DEVICE_ERROR = 4,
    PIRAMID_ST_UNAVAILABLE = 5,
    PIRAMID_ST_INTERNAL = 6
};

typedef struct PiramidCudaDevice {
    char name[256];
    int cc_major;
    int cc_minor;
    uint64_t total_mem;
} PiramidCudaDevice;

typedef struct PiramidCudaApi {
    uint32_t abi_version;
    uint32_t struct_size;
    /* Counts devices. PIRAMID_ST_UNAVAILABLE when there is no GPU (no driver, stub driver, no
     * device: *cuda_error is 35, 34 or 100), PIRAMID_ST_DEVICE_ERROR for other CUDA errors. */
    int (*probe)(int* device_count, int* cuda_error, char* msg, size_t msg_len);
    int (*device_info)(int device, PiramidCudaDevice* out, char* msg, size_t msg_len);
    /* Creates the context, stream, device buffers and a pinned staging ring of staging_bytes. */
    int (*open)(int device, size_t staging_bytes, void** handle, char* msg, size_t msg_len);
    void (*close)(void* handle);
    /* Same contracts as DistanceEngine::distances / topk (engine.hpp). cancel: polled between
     * tiles; nonzero stops the job with PIRAMID_ST_CANCELED. */
    int (*distances)(void* handle, const float* queries, size_t nq, const float* base, size_t nb,
                     size_t dim, int metric, float* out, const volatile int* cancel, char* msg,
                     size_t msg_len);
    int (*topk)(void* handle, const float* queries, size_t nq, const float* base, size_t nb,
                size_t dim, int metric, size_t k, int64_t* ids, double* dists,
                const volatile int* cancel, char* msg, size_t msg_len);
} PiramidCudaApi;

typedef const PiramidCudaApi* (*PiramidCudaEntryFn)(uint32_t abi_version);

#ifdef __cplusplus
}
#endif

#endif /* PIRAMID_PLUGIN_ABI_H */
