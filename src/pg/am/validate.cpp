// The shared amvalidate of the hnsw and ivfflat access methods (see validate.hpp).
#include "pg/am/validate.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "utils/catcache.h"
#include "utils/syscache.h"
}

namespace piramid::pg {

bool validate_distance_opclass(Oid opclassoid, const char* amname, int max_support) {
    HeapTuple tup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
    if (!HeapTupleIsValid(tup))
        elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
    auto* form = reinterpret_cast<Form_pg_opclass>(GETSTRUCT(tup));
    Oid opfamily = form->opcfamily;
    char* name = pstrdup(NameStr(form->opcname));
    ReleaseSysCache(tup);

    bool ok = true, has_order = false, has_dist = false;
    CatCList* oprs = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(opfamily));
    for (int i = 0; i < oprs->n_members; i++) {
        auto* op = reinterpret_cast<Form_pg_amop>(GETSTRUCT(&oprs->members[i]->tuple));
        if (op->amoppurpose == AMOP_ORDER && op->amopstrategy == 1) has_order = true;
    }
    ReleaseCatCacheList(oprs);
    CatCList* procs = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(opfamily));
    for (int i = 0; i < procs->n_members; i++) {
        auto* p = reinterpret_cast<Form_pg_amproc>(GETSTRUCT(&procs->members[i]->tuple));
        if (p->amprocnum == 1) has_dist = true;
        if (p->amprocnum < 1 || p->amprocnum > max_support) {
            ereport(INFO, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
                           errmsg("%s operator class \"%s\" has invalid support function %d",
                                  amname, name, p->amprocnum)));
            ok = false;
        }
    }
    ReleaseCatCacheList(procs);
    if (!has_order) {
        ereport(INFO, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
                       errmsg("%s operator class \"%s\" has no ORDER BY operator", amname, name)));
        ok = false;
    }
    if (!has_dist) {
        ereport(INFO, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
                       errmsg("%s operator class \"%s\" has no distance function", amname, name)));
        ok = false;
    }
    return ok;
}

}  // namespace piramid::pg
