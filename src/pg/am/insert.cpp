// aminsert for hnsw, and the on-disk insertion path shared with the build's continuation: the
// core's plan_insert/link_insert over the BufferStore, with the element lifecycle of
// storage/elements.hpp. Locking and WAL: src/pg/storage/README.md.
#include "pg/am/hnsw_am.hpp"
#include "pg/stats.hpp"

extern "C" {
#include "access/generic_xlog.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
}

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/hnsw/insert.hpp"
#include "core/hnsw/search.hpp"
#include "pg/storage/buffer_store.hpp"
#include "pg/storage/elements.hpp"

namespace piramid::pg::hnsw {

void insert_on_disk(Relation index, const float* vec, ItemPointer tid) {
    const MetaData meta = call_pg([&] {
        lock_graph(index, ShareLock);
        return read_meta(index);
    });
    const int dims = static_cast<int>(meta.dims), m = meta.m;
    const piramid::hnsw::Params params = graph_params(meta);
    const int lanes = vector_lanes(vec, dims);
    const int level = random_level(m, meta.max_level, tid);
    // An element whose vector and lists do not fit one page keeps its lists in a list tuple.
    const bool wide = !lists_inline(lanes, m, level);
    if (wide && (ext_element_size(lanes) > max_element_size() ||
                 list_tuple_size(m, level) > max_element_size()))
        call_pg([&] { element_too_large(lanes, m); });

    BufferStore store(index, meta);
    try {
        piramid::hnsw::Scratch scratch;
        NodeId entry = meta.entry;
        int entry_level = meta.entry_level;
        if (entry != kInvalidNode) {
            piramid::hnsw::plan_insert(store, kInvalidNode, vec, level, entry, entry_level, params,
                                       scratch);
            // Exact duplicates are byte-equal vectors, whatever the metric: such a copy has the
            // same distance to vec as vec has to itself (the same computation on the same
            // bytes), which is not 0 under inner product, and other vectors can be as close
            // (orthogonal ones under inner product, rounding under cosine). So candidates at
            // that distance are compared byte for byte. The copy takes the heap TID (an element
            // holds kMaxHeapTids); when the copies found are full, a chained copy element of
            // the first one does. With no live copy, the vector becomes a new graph element.
            const float self = graph_distance(params.metric)(vec, vec, meta.dims);
            NodeId copies[16];
            int ncopies = 0;
            for (const auto& c : scratch.found0)
                if (c.dist == self && ncopies < 16) copies[ncopies++] = c.id;
            if (ncopies > 0) {
                store.release_pins();
                bool added = false;
                NodeId anchor = kInvalidNode;
                call_pg([&] {
                    for (int i = 0; i < ncopies && !added; ++i)
                        added = add_tid_to_copy(index, copies[i], vec, dims, tid);
                    for (int i = 0; i < ncopies && !added && anchor == kInvalidNode; ++i)
                        if (is_live_copy_of(index, copies[i], vec, dims)) anchor = copies[i];
                    if (!added && anchor != kInvalidNode) {
                        add_tid_to_chain(index, anchor, meta.insert_hint, vec, dims, tid);
                        added = true;
                    }
                    if (added) unlock_graph(index, ShareLock);
                });
                if (added) return;
            }
        }
        const Size size = wide ? ext_element_size(lanes) : element_size(lanes, m, level);
        // The smallest element of this index's kind: free slots smaller than it do not hold the
        // insert hint back.
        const Size pin_min =
            lists_inline(lanes, m, 0) ? element_size(lanes, m, 0) : ext_element_size(lanes);
        char* tuple = static_cast<char*>(call_pg([&] { return palloc(size); }));
        if (wide)
            fill_ext_element(tuple, size, dims, level, vec, tid);
        else
            fill_element(tuple, size, dims, m, level, vec, tid);
        const NodeId id = call_pg(
            [&] { return allocate_element(index, meta.insert_hint, tuple, size, pin_min); });
        call_pg([&] { pfree(tuple); });
        if (wide) {
            // The element is linked from nowhere yet: give it its (empty) lists before any list
            // can point at it. A crash in between leaves an element without lists (its row
            // aborted: VACUUM frees it) or an unowned list tuple (a slot's worth, until REINDEX).
            call_pg([&] {
                const Size lsize = list_tuple_size(m, level);
                char* lt = static_cast<char*>(palloc(lsize));
                fill_list_tuple(lt, lsize, m, level, id);
                const NodeId lists =
                    allocate_list_tuple(index, meta.lists_hint, lt, lsize, list_tuple_size(m, 0));
                pfree(lt);
                attach_lists(index, id, dims, lists);
            });
        }

        // Link first, then publish as entry point: an entry whose lists are still being written
        // would strand searches (and lose the back-links concurrent inserts add to it).
        if (entry == kInvalidNode) {
            // The first element becomes the entry point at once, unless a concurrent insert
            // made another one first: then this one is linked to that graph.
            call_pg([&] { publish_entry(index, id, level, &entry, &entry_level, true); });
            if (entry != kInvalidNode)
                piramid::hnsw::plan_insert(store, id, vec, level, entry, entry_level, params,
                                           scratch);
        }
        if (entry != kInvalidNode) {
            piramid::hnsw::link_insert(store, id, level, entry_level, params, scratch);
            if (level > entry_level) {
                NodeId prev = kInvalidNode;
                int prev_level = -1;
                call_pg([&] { publish_entry(index, id, level, &prev, &prev_level, false); });
            }
        }
        store.release_pins();
        // Elements the in-link upkeep could not link from a node known to be reachable (rare:
        // ties everywhere, full lists under inner product) become extra entry points, so that
        // no scan misses them; the next VACUUM links them in.
        const auto& unlinked = scratch.il_unlinked;
        if (!unlinked.empty())
            call_pg(
                [&] { add_seeds(index, unlinked.data(), static_cast<uint32>(unlinked.size())); });
    } catch (...) {
        store.forget_pins();
        throw;
    }
    call_pg([&] { unlock_graph(index, ShareLock); });
}

extern "C" bool hnsw_insert(Relation index, Datum* values, bool* isnull, ItemPointer heap_tid,
                            Relation /*heap*/, IndexUniqueCheck /*check*/, bool /*unchanged*/,
                            IndexInfo* /*info*/) {
    if (isnull[0]) return false;
    MemoryContext cxt =
        AllocSetContextCreate(CurrentMemoryContext, "hnsw insert", ALLOCSET_DEFAULT_SIZES);
    MemoryContext old = MemoryContextSwitchTo(cxt);
    const MetaData meta = read_meta(index);
    float* vec = static_cast<float*>(palloc(sizeof(float) * meta.dims));
    if (prepare_datum(static_cast<distance::Metric>(meta.metric),
                      static_cast<int>(meta_type_dims(meta)), values[0], vec, false)) {
        guard([&] { insert_on_disk(index, vec, heap_tid); });
        stats::add_one(RelationGetRelid(index), stats::kInserts);
    }
    MemoryContextSwitchTo(old);
    MemoryContextDelete(cxt);
    return false;
}

}  // namespace piramid::pg::hnsw
