// GUCs of the hnsw access method (hnsw.*, pgvector's names and meanings) and its reloptions.
#include "pg/am/hnsw_am.hpp"
#include "pg/module.hpp"

extern "C" {
#include "utils/guc.h"
}

#include <climits>

namespace piramid::pg {

namespace hnsw {

int g_ef_search = 40;
int g_iterative_scan = static_cast<int>(IterativeScan::kOff);
int g_max_scan_tuples = 20000;
double g_scan_mem_multiplier = 1.0;
int g_build_method = static_cast<int>(BuildMethod::kAuto);

static const struct config_enum_entry kBuildMethodOptions[] = {
    {"insert", static_cast<int>(BuildMethod::kInsert), false},
    {"engine", static_cast<int>(BuildMethod::kEngine), false},
    {"auto", static_cast<int>(BuildMethod::kAuto), false},
    {nullptr, 0, false},
};

static const struct config_enum_entry kIterativeScanOptions[] = {
    {"off", static_cast<int>(IterativeScan::kOff), false},
    {"relaxed_order", static_cast<int>(IterativeScan::kRelaxed), false},
    {"strict_order", static_cast<int>(IterativeScan::kStrict), false},
    {nullptr, 0, false},
};

}  // namespace hnsw

void hnsw_define_gucs() {
    using namespace hnsw;
    register_reloptions();
    DefineCustomIntVariable("hnsw.ef_search",
                            "Size of the dynamic candidate list for hnsw index scans.",
                            "Larger values give better recall and slower queries.", &g_ef_search,
                            40, 1, 1000, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomEnumVariable(
        "hnsw.iterative_scan", "Continue hnsw scans when filters discard results.",
        "relaxed_order returns further results in approximate order; strict_order keeps exact "
        "distance order.",
        &g_iterative_scan, static_cast<int>(IterativeScan::kOff), kIterativeScanOptions,
        PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "hnsw.max_scan_tuples", "Maximum number of index tuples an iterative hnsw scan visits.",
        nullptr, &g_max_scan_tuples, 20000, 1, INT_MAX, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomRealVariable(
        "hnsw.scan_mem_multiplier", "Multiple of work_mem an iterative hnsw scan may use.", nullptr,
        &g_scan_mem_multiplier, 1.0, 1.0, 1000.0, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomEnumVariable(
        "piramid.hnsw_build_method", "How CREATE INDEX builds an hnsw graph in memory.",
        "insert: HNSW insertion on worker threads. engine: layer 0 from exact k-NN lists computed "
        "by the distance engine (the GPU when piramid.gpu allows, else the CPU engine), pruned "
        "with the neighbour heuristic. auto: engine only when a GPU is usable for the build.",
        &g_build_method, static_cast<int>(BuildMethod::kAuto), kBuildMethodOptions, PGC_USERSET, 0,
        nullptr, nullptr, nullptr);
    MarkGUCPrefixReserved("hnsw");
}

}  // namespace piramid::pg
