// The ivfflat index access method (pgvector-compatible): k-means list centers and flat lists of
// (heap TID, vector) entries.
//
// Pages (all with an 8-byte special space, PageOpaque):
//   block 0            meta page: Meta (dimensions, lists, metric, where the list pages start)
//   blocks 1..         list pages: one ListItem per list (first entry page, insert page, the
//   center),
//                      list i at block first_list_block + i / lists_per_page, offset
//                      i % lists_per_page + 1
//   the rest           entry pages: EntryItem (heap TID, stored vector), chained per list by
//                      PageOpaque::next
// Stored vectors are the "lanes" of core/distance/lanes.hpp (vector: its floats; cosine: the
// normalised floats). Centers are unit vectors for inner product and cosine (spherical k-means).
//
// Locking: an insert holds its list's list page exclusively while it appends (it walks from the
// insert page to the first page with room, or links a new page after the last; the entry and a
// moved insert page go in one GenericXLog record); scans and VACUUM hold one page at a time.
// Every change after the build goes through GenericXLog; the build writes its pages without WAL
// and logs them with log_newpage_range.
#pragma once

#include "pg/guard.hpp"

extern "C" {
#include "access/amapi.h"
#include "access/genam.h"
#include "access/reloptions.h"
#include "storage/bufpage.h"
#include "utils/rel.h"
}

#include "core/distance/lanes.hpp"

namespace piramid::pg::ivfflat {

inline constexpr uint32 kMagic = 0x49564631;  // "IVF1"
inline constexpr uint32 kVersion = 1;
inline constexpr BlockNumber kMetaBlock = 0;
inline constexpr uint16 kPageId = 0xFF8A;
inline constexpr int kDefaultLists = 100;
inline constexpr int kMaxLists = 32768;

enum PageFlags : uint16 { kMetaPage = 1, kListPage = 2, kEntryPage = 4 };

struct PageOpaque {
    BlockNumber next;  // entry pages: the list's next page
    uint16 flags;
    uint16 page_id;
};

struct Meta {
    uint32 magic;
    uint32 version;
    uint32 type_dims;  // the column's dimensions
    uint32 lanes;      // floats a stored vector / a center takes
    uint32 lists;
    uint32 lists_per_page;
    BlockNumber first_list_block;
    uint8 metric;  // distance::Metric
    uint8 pad[3];
};

// ListItem: BlockNumber first, BlockNumber insert, float center[lanes]. The insert page is the
// list's last page after a build; VACUUM moves it back to the first page it left room on.
inline Size list_item_size(uint32 lanes) {
    return 2 * sizeof(BlockNumber) + sizeof(float) * lanes;
}
// EntryItem: ItemPointerData tid, 2 bytes of padding, float vec[lanes].
inline constexpr Size kEntryHeader = 8;
inline Size entry_item_size(uint32 lanes) {
    return kEntryHeader + sizeof(float) * lanes;
}
inline BlockNumber* list_blocks(Item item) {
    return reinterpret_cast<BlockNumber*>(item);
}
inline float* list_center(Item item) {
    return reinterpret_cast<float*>(item + 2 * sizeof(BlockNumber));
}
inline ItemPointer entry_tid(Item item) {
    return reinterpret_cast<ItemPointer>(item);
}
inline float* entry_vec(Item item) {
    return reinterpret_cast<float*>(item + kEntryHeader);
}

inline PageOpaque* page_opaque(Page page) {
    return reinterpret_cast<PageOpaque*>(PageGetSpecialPointer(page));
}
void init_page(Page page, uint16 flags);
inline Meta* page_meta(Page page) {
    return reinterpret_cast<Meta*>(PageGetContents(page));
}
// The meta page, checked (ERROR when it is not an ivfflat meta page).
Meta read_meta(Relation index);
// How many list items fit on a page.
uint32 lists_per_page(uint32 lanes);
// Where list i lives.
inline BlockNumber list_block(const Meta& m, uint32 i) {
    return m.first_list_block + i / m.lists_per_page;
}
inline OffsetNumber list_offset(const Meta& m, uint32 i) {
    return static_cast<OffsetNumber>(i % m.lists_per_page + 1);
}
// Inner product and cosine lists use spherical k-means (unit centers, nearest = largest dot).
inline bool spherical(distance::Metric m) {
    return m == distance::Metric::kInnerProduct || m == distance::Metric::kCosine ||
           m == distance::kHalfInnerProduct || m == distance::kHalfCosine;
}
// The distance that assigns a stored vector to the nearest (stored) center: squared L2 or -dot
// for vector and halfvec, Hamming for bit.
inline distance::Metric assign_metric(distance::Metric m) {
    switch (distance::element_kind(m)) {
        case distance::ElementKind::kF32:
            return spherical(m) ? distance::Metric::kInnerProduct : distance::Metric::kL2;
        case distance::ElementKind::kF16:
            return spherical(m) ? distance::kHalfInnerProduct : distance::kHalfL2;
        case distance::ElementKind::kBit:
            return distance::kHamming;
        case distance::ElementKind::kSparse:  // no ivfflat opclass for sparsevec
            break;
    }
    return distance::Metric::kL2;
}

// Build phases (pg_stat_progress_create_index), pgvector's numbers and names.
inline constexpr int64 kPhaseKmeans = 2;
inline constexpr int64 kPhaseAssign = 3;
inline constexpr int64 kPhaseLoad = 4;

enum class IterativeScan { kOff = 0, kRelaxed = 1 };
extern int g_probes;
extern int g_iterative_scan;
extern int g_max_probes;

int option_lists(Relation index);
// The metric of an ivfflat index from its opclass; ERROR for one ivfflat cannot serve.
distance::Metric index_metric(Relation index);

extern "C" {
IndexBuildResult* ivfflat_build(Relation heap, Relation index, IndexInfo* info);
void ivfflat_buildempty(Relation index);
bool ivfflat_insert(Relation index, Datum* values, bool* isnull, ItemPointer heap_tid,
                    Relation heap, IndexUniqueCheck check_unique, bool index_unchanged,
                    IndexInfo* info);
IndexBulkDeleteResult* ivfflat_bulkdelete(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                                          IndexBulkDeleteCallback callback, void* callback_state);
IndexBulkDeleteResult* ivfflat_vacuumcleanup(IndexVacuumInfo* info, IndexBulkDeleteResult* stats);
IndexScanDesc ivfflat_beginscan(Relation index, int nkeys, int norderbys);
void ivfflat_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
bool ivfflat_gettuple(IndexScanDesc scan, ScanDirection dir);
void ivfflat_endscan(IndexScanDesc scan);
}

}  // namespace piramid::pg::ivfflat
