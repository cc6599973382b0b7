// Module entry: PG_MODULE_MAGIC, _PG_init, and module-wide SQL functions.
#include "pg/guard.hpp"
#include "pg/module.hpp"

extern "C" {
#include "utils/builtins.h"
#include "utils/guc.h"
}

#include "core/common/selftest.hpp"
#include "core/distance/distance.hpp"

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

extern "C" void _PG_init(void) {
    piramid::pg::hnsw_define_gucs();
    piramid::pg::gpu_define_gucs();
    MarkGUCPrefixReserved("piramid");
}

// piramid_selftest_raise(kind text) RETURNS int: throws a C++ exception of the given kind from
// core code (see core/common/selftest.hpp).
PIRAMID_FUNCTION(piramid_selftest_raise) {
    text* kind = PG_GETARG_TEXT_PP(0);
    const char* data = VARDATA_ANY(kind);
    const size_t len = VARSIZE_ANY_EXHDR(kind);
    return piramid::pg::guard([&]() -> Datum {
        return Int32GetDatum(piramid::selftest::raise_for_test(std::string_view(data, len)));
    });
}

// piramid_simd_isa() RETURNS text: the SIMD instruction set the distance kernels use.
PIRAMID_FUNCTION(piramid_simd_isa) {
    const char* name = piramid::distance::isa_name(piramid::distance::best().isa);
    PG_RETURN_TEXT_P(cstring_to_text(name));
}
