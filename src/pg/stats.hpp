// Per-index activity counters behind the piramid_stat_indexes view.
//
// With piramid in shared_preload_libraries the counters live in shared memory (a fixed-size hash
// table of piramid.stat_max_indexes entries, keyed by database and index OID, with atomic
// counters), so the view shows every backend's work since the server started or the last
// piramid_stat_reset(). Without it PostgreSQL 15 gives a library loaded later no shared memory,
// and the counters are this backend's own (the view says so in its `scope` column).
//
// Every function here is called from the backend's own thread, outside any C++ frame with live
// objects (they may ereport: out of memory for the backend-local table).
#pragma once

extern "C" {
#include "postgres.h"
}

#include <cstdint>

namespace piramid::pg::stats {

enum Counter : int {
    kScans = 0,  // index scans started (rescans included), as pg_stat_user_indexes.idx_scan
    kTuples,     // heap TIDs returned by the scans
    kDistances,  // distances computed by the scans
    kNodes,      // graph nodes expanded (hnsw) or lists probed (ivfflat) by the scans
    kPages,      // index buffers pinned by the scans
    kInserts,    // rows inserted (aminsert calls that added an entry)
    kVacuums,    // VACUUM runs over the index (not ANALYZE)
    kNumCounters
};

struct Delta {
    uint64_t v[kNumCounters] = {};
    bool empty() const {
        for (uint64_t x : v)
            if (x != 0) return false;
        return true;
    }
};

// _PG_init: defines piramid.stat_max_indexes and, while shared_preload_libraries is processed,
// requests the shared table.
void define(void);

// Adds d to index's counters (this database).
void add(Oid index, const Delta& d);
void add_one(Oid index, Counter c);

// A freshly built index starts from zero (also when it reuses a dropped index's OID).
void forget(Oid index);

}  // namespace piramid::pg::stats
