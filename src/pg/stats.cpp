// Per-index activity counters (see stats.hpp) and the SQL functions behind piramid_stat_indexes.
#include "pg/stats.hpp"

extern "C" {
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"
}

#include <cstring>

namespace piramid::pg::stats {

namespace {

struct Key {
    Oid db;
    Oid index;
};

struct SharedEntry {
    Key key;  // first: the hash key
    pg_atomic_uint64 c[kNumCounters];
};

struct LocalEntry {
    Key key;
    uint64_t c[kNumCounters];
};

struct SharedState {
    LWLock* lock;  // the table's shape (enter, remove); counters are atomics
};

constexpr const char* kTranche = "piramid_stats";
int g_max_indexes = 1000;
SharedState* g_shared = nullptr;  // set in every backend when preloaded
HTAB* g_shared_table = nullptr;
HTAB* g_local_table = nullptr;  // without preload
bool g_requested = false;       // the shared table was requested (preloaded)
bool g_full_reported = false;
shmem_request_hook_type g_prev_request = nullptr;
shmem_startup_hook_type g_prev_startup = nullptr;

Size shared_size() {
    return add_size(MAXALIGN(sizeof(SharedState)),
                    hash_estimate_size(g_max_indexes, sizeof(SharedEntry)));
}

void request_hook(void) {
    if (g_prev_request) g_prev_request();
    RequestAddinShmemSpace(shared_size());
    RequestNamedLWLockTranche(kTranche, 1);
}

void startup_hook(void) {
    if (g_prev_startup) g_prev_startup();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found = false;
    g_shared = static_cast<SharedState*>(
        ShmemInitStruct("piramid index statistics", sizeof(SharedState), &found));
    if (!found) g_shared->lock = &(GetNamedLWLockTranche(kTranche))->lock;
    HASHCTL info;
    std::memset(&info, 0, sizeof(info));
    info.keysize = sizeof(Key);
    info.entrysize = sizeof(SharedEntry);
    g_shared_table = ShmemInitHash("piramid index statistics table", g_max_indexes, g_max_indexes,
                                   &info, HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
    LWLockRelease(AddinShmemInitLock);
}

bool use_shared() {
    return g_shared != nullptr && g_shared_table != nullptr;
}

HTAB* local_table() {
    if (g_local_table == nullptr) {
        HASHCTL info;
        std::memset(&info, 0, sizeof(info));
        info.keysize = sizeof(Key);
        info.entrysize = sizeof(LocalEntry);
        info.hcxt = TopMemoryContext;
        g_local_table = hash_create("piramid index statistics (this backend)", 64, &info,
                                    HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
    }
    return g_local_table;
}

void add_shared(const Key& key, const Delta& d) {
    LWLockAcquire(g_shared->lock, LW_SHARED);
    auto* e = static_cast<SharedEntry*>(hash_search(g_shared_table, &key, HASH_FIND, nullptr));
    if (e == nullptr) {
        LWLockRelease(g_shared->lock);
        LWLockAcquire(g_shared->lock, LW_EXCLUSIVE);
        bool found = false;
        e = static_cast<SharedEntry*>(hash_search(g_shared_table, &key, HASH_ENTER_NULL, &found));
        if (e != nullptr && !found)
            for (auto& c : e->c) pg_atomic_init_u64(&c, 0);
    }
    if (e != nullptr)
        for (int i = 0; i < kNumCounters; ++i)
            if (d.v[i] != 0) pg_atomic_fetch_add_u64(&e->c[i], d.v[i]);
    LWLockRelease(g_shared->lock);
    if (e == nullptr && !g_full_reported) {
        g_full_reported = true;
        ereport(LOG, (errmsg("piramid_stat_indexes is full: index %u is not counted", key.index),
                      errhint("Increase piramid.stat_max_indexes, or call piramid_stat_reset().")));
    }
}

}  // namespace

void define(void) {
    // A PGC_POSTMASTER setting can only be defined while shared_preload_libraries is loaded.
    if (!process_shared_preload_libraries_in_progress || g_requested) return;
    DefineCustomIntVariable(
        "piramid.stat_max_indexes",
        "Number of indexes piramid_stat_indexes can count (with shared_preload_libraries).",
        "Counters of further indexes are not kept until piramid_stat_reset().", &g_max_indexes,
        1000, 16, 1000000, PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
    g_requested = true;
    g_prev_request = shmem_request_hook;
    shmem_request_hook = request_hook;
    g_prev_startup = shmem_startup_hook;
    shmem_startup_hook = startup_hook;
}

void add(Oid index, const Delta& d) {
    if (d.empty()) return;
    const Key key{MyDatabaseId, index};
    if (use_shared()) {
        add_shared(key, d);
        return;
    }
    bool found = false;
    auto* e = static_cast<LocalEntry*>(hash_search(local_table(), &key, HASH_ENTER, &found));
    if (!found) std::memset(e->c, 0, sizeof(e->c));
    for (int i = 0; i < kNumCounters; ++i) e->c[i] += d.v[i];
}

void add_one(Oid index, Counter c) {
    Delta d;
    d.v[c] = 1;
    add(index, d);
}

void forget(Oid index) {
    const Key key{MyDatabaseId, index};
    if (use_shared()) {
        LWLockAcquire(g_shared->lock, LW_EXCLUSIVE);
        hash_search(g_shared_table, &key, HASH_REMOVE, nullptr);
        LWLockRelease(g_shared->lock);
    } else if (g_local_table != nullptr) {
        hash_search(g_local_table, &key, HASH_REMOVE, nullptr);
    }
}

}  // namespace piramid::pg::stats

extern "C" {
PG_FUNCTION_INFO_V1(piramid_stat_indexes_internal);
PG_FUNCTION_INFO_V1(piramid_stat_reset);
}

// (indexrelid, scans, tuples_returned, distances, nodes_visited, pages_read, inserts, vacuums,
// scope) for this database's counted indexes.
extern "C" Datum piramid_stat_indexes_internal(PG_FUNCTION_ARGS) {
    using namespace piramid::pg::stats;
    InitMaterializedSRF(fcinfo, 0);
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    const bool shared = use_shared();
    text* scope = cstring_to_text(shared ? "cluster" : "backend");
    auto emit = [&](Oid index, const uint64_t* c) {
        Datum values[kNumCounters + 2];
        bool nulls[kNumCounters + 2] = {};
        values[0] = ObjectIdGetDatum(index);
        for (int i = 0; i < kNumCounters; ++i)
            values[i + 1] = Int64GetDatum(static_cast<int64>(c[i]));
        values[kNumCounters + 1] = PointerGetDatum(scope);
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    };
    if (shared) {
        // Copied out under the lock, emitted after it.
        LWLockAcquire(g_shared->lock, LW_SHARED);
        const long n = hash_get_num_entries(g_shared_table);
        auto* copy = static_cast<LocalEntry*>(palloc(sizeof(LocalEntry) * (n > 0 ? n : 1)));
        long k = 0;
        HASH_SEQ_STATUS it;
        hash_seq_init(&it, g_shared_table);
        while (auto* e = static_cast<SharedEntry*>(hash_seq_search(&it))) {
            if (e->key.db != MyDatabaseId || k >= n) continue;
            copy[k].key = e->key;
            for (int i = 0; i < kNumCounters; ++i) copy[k].c[i] = pg_atomic_read_u64(&e->c[i]);
            ++k;
        }
        LWLockRelease(g_shared->lock);
        for (long i = 0; i < k; ++i) emit(copy[i].key.index, copy[i].c);
    } else if (g_local_table != nullptr) {
        HASH_SEQ_STATUS it;
        hash_seq_init(&it, g_local_table);
        while (auto* e = static_cast<LocalEntry*>(hash_seq_search(&it)))
            if (e->key.db == MyDatabaseId) emit(e->key.index, e->c);
    }
    return static_cast<Datum>(0);
}

// Removes every counter (with shared_preload_libraries: every database's).
extern "C" Datum piramid_stat_reset(PG_FUNCTION_ARGS) {
    using namespace piramid::pg::stats;
    (void)fcinfo;
    HTAB* table = use_shared() ? g_shared_table : g_local_table;
    if (table != nullptr) {
        if (use_shared()) LWLockAcquire(g_shared->lock, LW_EXCLUSIVE);
        HASH_SEQ_STATUS it;
        hash_seq_init(&it, table);
        while (auto* e = static_cast<Key*>(hash_seq_search(&it)))
            hash_search(table, e, HASH_REMOVE, nullptr);
        if (use_shared()) LWLockRelease(g_shared->lock);
        g_full_reported = false;
    }
    PG_RETURN_VOID();
}
