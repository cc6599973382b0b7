// piramid_hnsw_selftest_strand(index, n, seed): a test hook that does to n elements what a failed
// in-link upkeep would (insert.hpp, il_unlinked): every link to them is removed (on every level,
// so that no descent lands on them), and with
// `seed` they become seeds, as an insert makes such elements. Tests use it to check that scans,
// the verifier and VACUUM treat seeds right, and (seed = false) that the verifier sees a stranded
// row. Not for PUBLIC (sql/fragments/62_hnsw_selftest.sql).
#include "pg/am/hnsw_am.hpp"

extern "C" {
#include "access/relation.h"
#include "storage/lmgr.h"
#include "utils/rel.h"
}

#include <algorithm>
#include <vector>

#include "pg/storage/buffer_store.hpp"
#include "pg/storage/elements.hpp"

using namespace piramid::pg;
using namespace piramid::pg::hnsw;

// Returns the number of seeds the index has afterwards (n = 0: just that number).
PIRAMID_FUNCTION(piramid_hnsw_selftest_strand) {
    const Oid relid = PG_GETARG_OID(0);
    const int32 n = PG_GETARG_INT32(1);
    const bool seed = PG_GETARG_BOOL(2);
    if (n < 0)
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("n must not be negative")));
    Relation index = open_hnsw_index(relid, RowExclusiveLock);
    lock_graph(index, ExclusiveLock);  // no insert or VACUUM pass runs meanwhile
    const MetaData meta = read_meta(index);
    const BlockNumber nblocks = RelationGetNumberOfBlocks(index);
    guard([&] {
        if (n == 0 || meta.entry == kInvalidNode) return;
        std::vector<NodeId> all, page, chosen;
        for (BlockNumber blk = 1; blk < nblocks; ++blk) {
            live_nodes_on_page(index, blk, page);
            all.insert(all.end(), page.begin(), page.end());
        }
        std::erase(all, meta.entry);
        if (all.empty()) return;
        // n elements spread over the index
        const size_t k = std::min(all.size(), static_cast<size_t>(n));
        for (size_t i = 0; i < k; ++i) chosen.push_back(all[i * all.size() / k]);
        std::sort(chosen.begin(), chosen.end());
        BufferStore store(index, meta);
        try {
            std::vector<NodeId> list, kept;
            all.push_back(meta.entry);
            // every level, so that no descent lands on them either
            for (NodeId y : all)
                for (int l = 0; l <= meta.max_level; ++l) {
                    store.neighbors(y, l, list);
                    kept.clear();
                    for (NodeId x : list)
                        if (!std::binary_search(chosen.begin(), chosen.end(), x)) kept.push_back(x);
                    if (kept.size() != list.size())
                        store.update_neighbors(y, l, std::span<const NodeId>(list),
                                               std::span<const NodeId>(kept));
                }
            store.release_pins();
        } catch (...) {
            store.forget_pins();
            throw;
        }
        if (seed)
            call_pg([&] { add_seeds(index, chosen.data(), static_cast<uint32>(chosen.size())); });
    });
    NodeId seeds[kMaxSeeds];
    const uint32 nseeds = read_seeds(index, seeds);
    unlock_graph(index, ExclusiveLock);
    relation_close(index, RowExclusiveLock);
    PG_RETURN_INT32(static_cast<int32>(nseeds));
}
