#include "pg/build_threads.hpp"

extern "C" {
#include "optimizer/optimizer.h"
}

#include <algorithm>
#include <thread>

namespace piramid::pg {

int index_build_threads(Relation heap, Relation index) {
    const int workers = plan_create_index_workers(RelationGetRelid(heap), RelationGetRelid(index));
    const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    return std::max(1, std::min(workers + 1, hw));
}

void report_build_workers(int threads) {
    if (threads > 1) ereport(DEBUG1, (errmsg("using %d parallel workers", threads - 1)));
}

}  // namespace piramid::pg
