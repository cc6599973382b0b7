#include "pg/storage/page.hpp"

extern "C" {
#include "storage/bufmgr.h"
}

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

void init_meta_page(Page page, const MetaData& meta) {
    init_page(page, kMetaPage);
    std::memcpy(page_meta(page), &meta, sizeof(MetaData));
    reinterpret_cast<PageHeader>(page)->pd_lower =
        static_cast<LocationIndex>(reinterpret_cast<char*>(page_meta(page)) + sizeof(MetaData) -
                                   reinterpret_cast<char*>(page));
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

}  // namespace piramid::pg::hnsw
