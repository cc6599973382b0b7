// piramid_hnsw_verify(regclass): an amcheck-style structural check of an hnsw index. It reads
// every page and reports, one row per problem: bad meta page, foreign page types, malformed
// elements, neighbour pointers out of range or to freed slots, degree bounds, level mismatches,
// unreachable elements, and live heap tuples (root TIDs of an MVCC heap scan) that no reachable
// element points at. No rows means the index is sound.
// piramid_hnsw_stats(regclass): element counts, pages and levels.
#include "pg/am/hnsw_am.hpp"

extern "C" {
#include "access/relation.h"
#include "access/xlog.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/index.h"
#include "catalog/pg_am.h"
#include "catalog/pg_authid.h"
#include "funcapi.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"
}

#include <cstdarg>
#include <cstring>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "pg/owned.hpp"
#include "pg/storage/buffer_store.hpp"
#include "pg/storage/elements.hpp"

namespace piramid::pg::hnsw {

// Opens relid, raising an error unless it is an hnsw index.
Relation open_hnsw_index(Oid relid, LOCKMODE mode) {
    Relation index = relation_open(relid, mode);
    if (index->rd_rel->relkind != RELKIND_INDEX || index->rd_indam == nullptr ||
        index->rd_indam->amgettuple != hnsw_gettuple) {
        const char* name = pstrdup(RelationGetRelationName(index));
        relation_close(index, mode);
        ereport(ERROR,
                (errcode(ERRCODE_WRONG_OBJECT_TYPE), errmsg("\"%s\" is not an hnsw index", name)));
    }
    return index;
}

namespace {

struct NodeInfo {
    uint8 level;
    uint8 flags;
    NodeId next_copy = kInvalidNode;
    NodeId lists_at = kInvalidNode;  // a wide element's list tuple
    std::vector<std::vector<NodeId>> lists;
    std::vector<uint64_t> tids;
};

struct VerifyState {
    std::vector<std::string> problems;
    std::vector<NodeId> seeds;  // the meta page's extra entry points
    std::unordered_map<NodeId, NodeInfo> nodes;
    // list tuples by id: their owner (in next_copy), level and lists
    std::unordered_map<NodeId, NodeInfo> list_tuples;
    std::unordered_set<uint64_t> reachable_tids;
    size_t missing = 0;
    size_t live_heap = 0;
    std::vector<std::string> missing_examples;
    distance::Metric metric = distance::Metric::kL2;
    void add(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        std::vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (problems.size() < 1000) problems.emplace_back(buf);
    }
};

uint64_t tid_key(const ItemPointerData* t) {
    return (static_cast<uint64_t>(ItemPointerGetBlockNumberNoCheck(t)) << 16) |
           ItemPointerGetOffsetNumberNoCheck(t);
}

// Reads all pages into st->nodes (Postgres calls inside call_pg only).
// A sparse element's vector: at most kSparseMaxNnz non-zeros inside the tuple, indices
// ascending and non-negative.
bool sparse_element_ok(ElementHeader* e, Size len) {
    const float* v = element_vector(e);
    const uint32 nnz = piramid::distance::sparse_nnz(v);
    if (nnz > piramid::distance::kSparseMaxNnz ||
        sizeof(ElementHeader) + sizeof(float) * (1 + 2 * static_cast<Size>(nnz)) > len)
        return false;
    int32 prev = -1;
    for (uint32 i = 0; i < nnz; ++i) {
        int32 idx;
        std::memcpy(&idx, v + 1 + i, sizeof idx);
        if (idx <= prev) return false;
        prev = idx;
    }
    return true;
}

void read_pages(Relation index, const MetaData& meta, VerifyState* st) {
    const BlockNumber nblocks = call_pg([&] { return RelationGetNumberOfBlocks(index); });
    const int dims = static_cast<int>(meta.dims), m = meta.m;
    PGAlignedBlock copy;
    for (BlockNumber blk = 1; blk < nblocks; ++blk) {
        call_pg([&] {
            copy_page(index, blk, copy.data);
            CHECK_FOR_INTERRUPTS();
        });
        Page page = copy.data;
        // An all-zero page is left by a relation extension that a crash interrupted before
        // the page was initialised and logged; inserts reuse it.
        if (PageIsNew(page)) continue;
        if (!page_is(page, kElementPage)) {
            st->add("block %u: not an hnsw element page (bad special space or page id)", blk);
            continue;
        }
        const OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
        for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++) {
            ItemId iid = PageGetItemId(page, off);
            if (!ItemIdIsNormal(iid)) {
                st->add("block %u offset %u: line pointer is not in use", blk, off);
                continue;
            }
            auto* e = reinterpret_cast<ElementHeader*>(PageGetItem(page, iid));
            const Size len = ItemIdGetLength(iid);
            if (len < sizeof(ElementHeader)) {
                st->add("block %u offset %u: element tuple too short for level %d", blk, off,
                        e->level);
                continue;
            }
            // The lists at levels 0..level of an inline element or a list tuple.
            auto read_lists = [&](NodeInfo& info, int level) {
                info.lists.resize(level + 1);
                for (int l = 0; l <= level; ++l) {
                    const NodeId* list = element_neighbors(e, dims, m, l);
                    const int cap = level_capacity(m, l);
                    bool ended = false;
                    for (int k = 0; k < cap; ++k) {
                        if (list[k] == kInvalidNode) {
                            ended = true;
                            continue;
                        }
                        if (ended)
                            st->add("block %u offset %u level %d: neighbour after end of list", blk,
                                    off, l);
                        info.lists[l].push_back(list[k]);
                    }
                }
            };
            if (e->flags & kListTuple) {
                if ((e->flags & ~(kListTuple | kFree)) != 0 || e->level > kMaxLevel ||
                    len < list_tuple_size(m, e->level)) {
                    st->add("block %u offset %u: bad list tuple (flags %d, level %d, %zu bytes)",
                            blk, off, e->flags, e->level, static_cast<size_t>(len));
                    continue;
                }
                if (e->flags & kFree) continue;
                NodeInfo info;
                info.level = e->level;
                info.flags = e->flags;
                info.next_copy = e->next_copy;  // the owner
                read_lists(info, e->level);
                st->list_tuples.emplace(pack_node(blk, off), std::move(info));
                continue;
            }
            const bool is_copy = (e->flags & kCopy) != 0;
            const bool is_wide = (e->flags & kExtLists) && !(e->flags & (kFree | kCopy));
            if (sparse_index(dims) && len >= sizeof(ElementHeader) + 4 && !(e->flags & kFree) &&
                !sparse_element_ok(e, len)) {
                st->add("block %u offset %u: bad sparse vector (nnz %u; indices must ascend)", blk,
                        off, piramid::distance::sparse_nnz(element_vector(e)));
                continue;
            }
            const int lanes = len >= sizeof(ElementHeader) + 4 ? element_lanes(e, dims) : dims;
            const Size need = is_copy   ? copy_element_size(lanes)
                              : is_wide ? ext_element_size(lanes)
                                        : element_size(lanes, m, e->level);
            if (len < need && !(e->flags & kFree)) {
                st->add("block %u offset %u: element tuple too short for level %d", blk, off,
                        e->level);
                continue;
            }
            if (e->level > meta.max_level)
                st->add("block %u offset %u: level %d above the index maximum %d", blk, off,
                        e->level, meta.max_level);
            if (e->ntids > kMaxHeapTids ||
                (e->flags & ~(kDeleted | kFree | kCopy | kExtLists)) != 0) {
                st->add("block %u offset %u: bad header (ntids %d, flags %d)", blk, off, e->ntids,
                        e->flags);
                continue;
            }
            NodeInfo info;
            info.level = e->level;
            info.flags = e->flags;
            if (!(e->flags & kFree)) info.next_copy = e->next_copy;
            if (!(e->flags & kFree) && (e->flags & kCopy)) {
                for (int t = 0; t < e->ntids; ++t) info.tids.push_back(tid_key(&e->tids[t]));
            } else if (!(e->flags & kFree)) {
                if (e->ntids == 0 && !(e->flags & kDeleted) && e->next_copy == kInvalidNode)
                    st->add("block %u offset %u: live element without heap TIDs", blk, off);
                for (int t = 0; t < e->ntids; ++t) info.tids.push_back(tid_key(&e->tids[t]));
                if (is_wide)
                    info.lists_at = *element_lists_at(e, dims);
                else
                    read_lists(info, e->level);
            }
            st->nodes.emplace(pack_node(blk, off), std::move(info));
        }
    }
    // Wide elements take their lists from their list tuples.
    for (auto& [id, info] : st->nodes) {
        if (!(info.flags & kExtLists) || (info.flags & (kFree | kCopy))) continue;
        info.lists.assign(info.level + 1, {});
        // No list tuple yet: an insert that a crash interrupted (its row is dead; VACUUM frees
        // it). A live row there is reported as unreachable.
        if (info.lists_at == kInvalidNode) continue;
        auto it = st->list_tuples.find(info.lists_at);
        if (it == st->list_tuples.end() || it->second.next_copy != id) {
            st->add("element (%u,%u): its list tuple (%u,%u) is missing or belongs to another",
                    node_block(id), node_offset(id), node_block(info.lists_at),
                    node_offset(info.lists_at));
            continue;
        }
        if (it->second.level < info.level) {
            st->add("element (%u,%u) level %d: its list tuple has only level %d", node_block(id),
                    node_offset(id), info.level, it->second.level);
            continue;
        }
        info.lists.assign(it->second.lists.begin(), it->second.lists.begin() + info.level + 1);
    }
}

void check_graph(const MetaData& meta, VerifyState* st) {
    size_t live = 0;
    int top = -1;
    for (const auto& [id, info] : st->nodes) {
        if (info.flags & kFree) continue;
        if (info.flags & kCopy) continue;
        if (!(info.flags & kDeleted)) ++live;
        if (info.level > top) top = info.level;
        for (size_t l = 0; l < info.lists.size(); ++l) {
            for (NodeId nb : info.lists[l]) {
                auto it = st->nodes.find(nb);
                if (nb == id) {
                    st->add("element (%u,%u) level %zu: points at itself", node_block(id),
                            node_offset(id), l);
                } else if (it == st->nodes.end()) {
                    st->add("element (%u,%u) level %zu: neighbour (%u,%u) does not exist",
                            node_block(id), node_offset(id), l, node_block(nb), node_offset(nb));
                } else if (it->second.flags & kCopy) {
                    st->add("element (%u,%u) level %zu: neighbour (%u,%u) is a copy, not a node",
                            node_block(id), node_offset(id), l, node_block(nb), node_offset(nb));
                } else if (it->second.flags & kFree) {
                    st->add("element (%u,%u) level %zu: neighbour (%u,%u) is a freed slot",
                            node_block(id), node_offset(id), l, node_block(nb), node_offset(nb));
                } else if (it->second.level < l) {
                    st->add("element (%u,%u) level %zu: neighbour (%u,%u) has only level %d",
                            node_block(id), node_offset(id), l, node_block(nb), node_offset(nb),
                            it->second.level);
                }
            }
        }
    }
    if (meta.entry == kInvalidNode) {
        if (live > 0) st->add("meta page: no entry point, but %zu live elements", live);
        return;
    }
    auto ep = st->nodes.find(meta.entry);
    if (ep == st->nodes.end() || (ep->second.flags & kFree)) {
        st->add("meta page: entry point (%u,%u) is not an element", node_block(meta.entry),
                node_offset(meta.entry));
        return;
    }
    if (ep->second.level != meta.entry_level)
        st->add("meta page: entry level %d but the entry element has level %d", meta.entry_level,
                ep->second.level);
    // Reachability as an index scan sees it: the search descends the upper levels to one node
    // and then walks level 0 only (through deleted elements too), so a row counts as reachable
    // when its element is reached over level-0 links from the entry point or from a seed (the
    // scan starts from those too).
    std::unordered_set<NodeId> seen{meta.entry};
    std::vector<NodeId> stack{meta.entry};
    for (NodeId s : st->seeds) {
        auto it = st->nodes.find(s);
        if (it == st->nodes.end() || (it->second.flags & kCopy)) {
            st->add("meta page: seed (%u,%u) is not a graph element", node_block(s),
                    node_offset(s));
            continue;
        }
        if (seen.insert(s).second) stack.push_back(s);
    }
    while (!stack.empty()) {
        NodeId id = stack.back();
        stack.pop_back();
        auto it = st->nodes.find(id);
        if (it == st->nodes.end()) continue;
        if (!(it->second.flags & kDeleted)) {
            for (uint64_t t : it->second.tids) st->reachable_tids.insert(t);
            // The element's exact copies share its place in the graph.
            NodeId c = it->second.next_copy;
            for (int hops = 0; c != kInvalidNode && hops < kMaxCopyHops; ++hops) {
                auto ci = st->nodes.find(c);
                if (ci == st->nodes.end() || !(ci->second.flags & kCopy)) {
                    st->add("element (%u,%u): copy chain points at (%u,%u), not a copy",
                            node_block(id), node_offset(id), node_block(c), node_offset(c));
                    break;
                }
                seen.insert(c);
                for (uint64_t t : ci->second.tids) st->reachable_tids.insert(t);
                c = ci->second.next_copy;
            }
        }
        if (!it->second.lists.empty())
            for (NodeId nb : it->second.lists[0])
                if (seen.insert(nb).second) stack.push_back(nb);
    }
    // An element nobody links to is harmless when its heap tuples are dead (an insert that was
    // interrupted by a crash leaves one; VACUUM removes it): what must hold is that every live
    // heap tuple is reachable, which check_heap() verifies.
}

extern "C" void verify_heap_callback(Relation, ItemPointer tid, Datum* values, bool* isnull,
                                     bool alive, void* state) {
    auto* st = static_cast<OwnedBox<VerifyState>*>(state)->object;
    if (!alive || isnull[0]) return;
    if (!datum_indexable(st->metric, values[0])) return;
    guard([&] {
        st->live_heap++;
        if (!st->reachable_tids.count(tid_key(tid))) {
            if (++st->missing <= 5)
                st->add("heap tuple (%u,%u) is live but no reachable element points at it",
                        ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid));
        }
    });
}

// The heap check compares the rows visible to `snap` with the elements read from the pages
// (after the snapshot was taken, with writers locked out).
void check_heap(Relation index, OwnedBox<VerifyState>* box, Snapshot snap) {
    Relation heap = table_open(index->rd_index->indrelid, AccessShareLock);
    IndexInfo* ii = BuildIndexInfo(index);
    ii->ii_Concurrent = true;
    TableScanDesc scan = table_beginscan_strat(heap, snap, 0, nullptr, true, false);
    table_index_build_scan(heap, index, ii, true, false, verify_heap_callback, box, scan);
    table_close(heap, AccessShareLock);
    VerifyState* st = box->object;
    if (st->missing > 0)
        guard([&] {
            st->add("%zu of %zu live heap tuples are not reachable from the entry point",
                    st->missing, st->live_heap);
        });
}

const char* metric_name(uint8 metric) {
    return distance::metric_name(static_cast<distance::Metric>(metric));
}

}  // namespace

}  // namespace piramid::pg::hnsw

using namespace piramid::pg;
using namespace piramid::pg::hnsw;

PIRAMID_FUNCTION(piramid_hnsw_verify) {
    Oid relid = PG_GETARG_OID(0);
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    // ShareLock keeps writers (inserts, VACUUM) out while the pages are read, as amcheck's
    // parent check does: pages read one at a time under concurrent writes would not form one
    // consistent graph. The snapshot is taken once they are out.
    // On a hot standby only replay writes, and ShareLock cannot be taken there.
    const LOCKMODE mode = RecoveryInProgress() ? AccessShareLock : ShareLock;
    Relation index = open_hnsw_index(relid, mode);
    Snapshot snap = RegisterSnapshot(GetTransactionSnapshot());
    auto* box = guard([&] { return make_owned<VerifyState>(CurrentMemoryContext); });
    VerifyState* st = box->object;
    MetaData meta;
    bool meta_ok = false;
    NodeId seeds[kMaxSeeds];
    uint32 nseeds = 0;
    {
        Buffer buf = ReadBuffer(index, kMetaBlock);
        LockBuffer(buf, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buf);
        if (page_is(page, kMetaPage)) {
            std::memcpy(&meta, page_meta(page), sizeof(meta));
            meta_ok = true;
            nseeds = std::min(meta.nseeds, kMaxSeeds);
            std::memcpy(seeds, page_seeds(page), nseeds * sizeof(NodeId));
        }
        UnlockReleaseBuffer(buf);
    }
    guard([&] { st->seeds.assign(seeds, seeds + nseeds); });
    guard([&] {
        if (!meta_ok) {
            st->add("block 0: not an hnsw meta page");
        } else if (meta.magic != kMagic || meta.version != kFormatVersion) {
            st->add("meta page: bad magic %08x or version %u", meta.magic, meta.version);
        } else if (meta.dims < 1 || meta.dims > 16000 || meta.m < kMinM || meta.m > kMaxM ||
                   !piramid::distance::metric_valid(meta.metric) ||
                   sparse_index(static_cast<int>(meta.dims)) !=
                       (piramid::distance::element_kind(static_cast<piramid::distance::Metric>(
                            meta.metric)) == piramid::distance::ElementKind::kSparse)) {
            st->add("meta page: bad dims %u, m %u or metric %u", meta.dims, meta.m, meta.metric);
        } else {
            st->metric = static_cast<piramid::distance::Metric>(meta.metric);
            read_pages(index, meta, st);
            check_graph(meta, st);
        }
    });
    if (meta_ok && meta.magic == kMagic) check_heap(index, box, snap);
    UnregisterSnapshot(snap);
    for (const std::string& p : st->problems) {
        Datum value = CStringGetTextDatum(p.c_str());
        bool isnull = false;
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
    }
    release(box);
    relation_close(index, mode);
    return (Datum)0;
}

PIRAMID_FUNCTION(piramid_hnsw_stats) {
    Oid relid = PG_GETARG_OID(0);
    TupleDesc tupdesc;
    if (get_call_result_type(fcinfo, nullptr, &tupdesc) != TYPEFUNC_COMPOSITE)
        elog(ERROR, "return type must be a row type");
    // The counts are the table's row counts. EXECUTE is revoked from PUBLIC; a role granted it
    // must also be one that could count the rows itself: superuser or pg_read_all_stats (which
    // sees every table's pg_stat counters), or SELECT on the table or on one of its columns (what
    // SELECT count(*) needs), and then no row security on the table (count(*) would see only
    // the rows the policies allow). Checked before the index is locked.
    const Oid heapid = IndexGetRelation(relid, true);
    if (OidIsValid(heapid) && !has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS)) {
        if (pg_class_aclcheck(heapid, GetUserId(), ACL_SELECT) != ACLCHECK_OK &&
            pg_attribute_aclcheck_all(heapid, GetUserId(), ACL_SELECT, ACLMASK_ANY) !=
                ACLCHECK_OK) {
            const char* name = get_rel_name(heapid);
            aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, name != nullptr ? name : "?");
        }
        if (check_enable_rls(heapid, InvalidOid, false) == RLS_ENABLED) {
            const char* name = get_rel_name(heapid);
            ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                            errmsg("piramid_hnsw_stats would reveal rows that row-level security "
                                   "hides in table \"%s\"",
                                   name != nullptr ? name : "?"),
                            errhint("Only superusers and members of pg_read_all_stats may read "
                                    "the statistics of such an index.")));
        }
    }
    Relation index = open_hnsw_index(relid, AccessShareLock);
    const MetaData meta = read_meta(index);
    int64 elements = 0, deleted = 0, free_slots = 0;
    int max_level = -1;
    const BlockNumber nblocks = RelationGetNumberOfBlocks(index);
    for (BlockNumber blk = 1; blk < nblocks; ++blk) {
        for_each_element(index, blk, nullptr, [&](OffsetNumber, ElementHeader* e) {
            if (e->flags & kFree) {
                free_slots++;
            } else if (!(e->flags & kListTuple)) {  // a wide element's lists: not an element
                elements++;
                if (e->flags & kDeleted) deleted++;
                if (e->level > max_level) max_level = e->level;
            }
        });
        CHECK_FOR_INTERRUPTS();
    }
    relation_close(index, AccessShareLock);
    Datum values[10];
    bool nulls[10] = {false};
    values[0] = Int64GetDatum(elements);
    values[1] = Int64GetDatum(deleted);
    values[2] = Int64GetDatum(free_slots);
    values[3] = Int64GetDatum(static_cast<int64>(nblocks));
    values[4] = Int32GetDatum(max_level);
    values[5] = Int32GetDatum(meta.entry_level);
    values[6] = Int32GetDatum(static_cast<int32>(meta_type_dims(meta)));
    values[7] = Int32GetDatum(meta.m);
    values[8] = Int32GetDatum(meta.ef_construction);
    values[9] = CStringGetTextDatum(metric_name(meta.metric));
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
