#include "pg/storage/page.hpp"

extern "C" {
#include "access/generic_xlog.h"
#include "storage/bufmgr.h"
}

#include <algorithm>
#include <cstring>

namespace piramid::pg::hnsw {

void init_page(Page page, uint16 flags) {
    PageInit(page, BLCKSZ, sizeof(PageOpaque));
    PageOpaque* op = page_opaque(page);
    op->flags = flags;
    op->reserved1 = 0;
    op->reserved2 = 0;
    op->page_id = kPageId;
}

// pd_lower past the seed array (full-page images keep everything below pd_lower).
static void cover_seeds(Page page) {
    reinterpret_cast<PageHeader>(page)->pd_lower = static_cast<LocationIndex>(
        reinterpret_cast<char*>(page_seeds(page) + kMaxSeeds) - reinterpret_cast<char*>(page));
}

void init_meta_page(Page page, const MetaData& meta) {
    init_page(page, kMetaPage);
    std::memcpy(page_meta(page), &meta, sizeof(MetaData));
    page_meta(page)->nseeds = 0;
    cover_seeds(page);
}

bool page_is(Page page, uint16 flags) {
    if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(PageOpaque))) return false;
    const PageOpaque* op = page_opaque(page);
    return op->page_id == kPageId && (op->flags & flags) != 0;
}

void copy_page(Relation index, BlockNumber blk, char* dst) {
    Buffer buf = ReadBuffer(index, blk);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    std::memcpy(dst, BufferGetPage(buf), BLCKSZ);
    UnlockReleaseBuffer(buf);
}

MetaData read_meta(Relation index) {
    Buffer buf = ReadBuffer(index, kMetaBlock);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buf);
    MetaData meta;
    bool ok = page_is(page, kMetaPage);
    if (ok) std::memcpy(&meta, page_meta(page), sizeof(meta));
    UnlockReleaseBuffer(buf);
    if (!ok || meta.magic != kMagic)
        ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                        errmsg("index \"%s\" is not a piramid hnsw index (bad meta page)",
                               RelationGetRelationName(index))));
    if (meta.version != kFormatVersion)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("index \"%s\" has on-disk format version %u; this build reads %u",
                               RelationGetRelationName(index), meta.version, kFormatVersion),
                        errhint("REINDEX the index.")));
    return meta;
}

static_assert(MAXALIGN(sizeof(PageHeaderData)) + MAXALIGN(sizeof(MetaData)) +
                      kMaxSeeds * sizeof(NodeId) + MAXALIGN(sizeof(PageOpaque)) <=
                  BLCKSZ,
              "the seeds fit the meta page");

uint32 read_seeds(Relation index, NodeId* out) {
    Buffer buf = ReadBuffer(index, kMetaBlock);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buf);
    const uint32 n = std::min(page_meta(page)->nseeds, kMaxSeeds);
    std::memcpy(out, page_seeds(page), n * sizeof(NodeId));
    UnlockReleaseBuffer(buf);
    return n;
}

static bool has_id(const NodeId* ids, uint32 n, NodeId id) {
    for (uint32 i = 0; i < n; ++i)
        if (ids[i] == id) return true;
    return false;
}

void update_seeds(Relation index, const NodeId* gone, uint32 n, const NodeId* added, uint32 k) {
    Buffer buf = ReadBuffer(index, kMetaBlock);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    Page page = BufferGetPage(buf);
    const NodeId* cur = page_seeds(page);
    const uint32 ncur = std::min(page_meta(page)->nseeds, kMaxSeeds);
    NodeId next[kMaxSeeds];
    uint32 nnext = 0, dropped = 0;
    bool changed = false;
    for (uint32 i = 0; i < ncur; ++i) {
        if (has_id(gone, n, cur[i]) || has_id(next, nnext, cur[i]))
            changed = true;
        else
            next[nnext++] = cur[i];
    }
    for (uint32 i = 0; i < k; ++i) {
        if (added[i] == kInvalidNode || has_id(next, nnext, added[i])) continue;
        if (nnext == kMaxSeeds) {
            ++dropped;
            continue;
        }
        next[nnext++] = added[i];
        changed = true;
    }
    if (changed) {
        GenericXLogState* st = GenericXLogStart(index);
        Page p = GenericXLogRegisterBuffer(st, buf, 0);
        std::memcpy(page_seeds(p), next, nnext * sizeof(NodeId));
        page_meta(p)->nseeds = nnext;
        cover_seeds(p);
        GenericXLogFinish(st);
    }
    UnlockReleaseBuffer(buf);
    if (dropped > 0)
        ereport(WARNING,
                (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                 errmsg("hnsw index \"%s\" has elements that could not be linked",
                        RelationGetRelationName(index)),
                 errdetail("%u of them do not fit the meta page (at most %u); index scans may miss "
                           "their rows.",
                           dropped, kMaxSeeds),
                 errhint("VACUUM the table, or REINDEX the index.")));
}

void add_seeds(Relation index, const NodeId* ids, uint32 n) {
    update_seeds(index, nullptr, 0, ids, n);
}

}  // namespace piramid::pg::hnsw
