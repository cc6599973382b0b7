// Module entry: PG_MODULE_MAGIC, _PG_init, and module-wide SQL functions.
#include "pg/guard.hpp"
#include "pg/module.hpp"
#include "pg/stats.hpp"

extern "C" {
#include "utils/builtins.h"
#include "utils/guc.h"
}

#include <stdexcept>
#include <string>
#include <string_view>

#include "core/common/error.hpp"
#include "core/common/selftest.hpp"
#include "core/distance/distance.hpp"

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

extern "C" void _PG_init(void) {
    piramid::pg::hnsw_define_gucs();
    piramid::pg::gpu_define_gucs();
    piramid::pg::ivfflat_define_gucs();
    piramid::pg::stats::define();
    piramid::pg::fdw_limit_define();
    MarkGUCPrefixReserved("piramid");
}

namespace {

// Checks of call_pg(): a C++ exception thrown inside its PG_TRY block (directly, or as the
// PgException of a nested call_pg) reaches the caller, and the handler stacks are restored, so a
// later Postgres error is caught where it should be. Returns -1 for a kind not handled here.
int call_pg_selftest(std::string_view kind) {
    using piramid::pg::call_pg;
    if (kind != "call_pg_cxx" && kind != "call_pg_nested" && kind != "call_pg_value") return -1;
    sigjmp_buf* const handler = PG_exception_stack;
    ErrorContextCallback* const context = error_context_stack;
    auto check_restored = [&](const char* what) {
        if (PG_exception_stack != handler || error_context_stack != context)
            throw piramid::Error(piramid::Errc::kInternal,
                                 std::string("selftest: ") + what +
                                     " left PG_exception_stack or error_context_stack changed");
    };
    bool caught = false;
    if (kind == "call_pg_cxx") {
        try {
            call_pg([] { throw std::runtime_error("selftest: thrown inside call_pg"); });
        } catch (const std::runtime_error&) {
            caught = true;
        }
    } else if (kind == "call_pg_value") {
        try {
            (void)call_pg(
                []() -> int { throw std::runtime_error("selftest: thrown inside call_pg"); });
        } catch (const std::runtime_error&) {
            caught = true;
        }
    } else {
        try {
            call_pg([] {
                call_pg([] {
                    ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                                    errmsg("selftest: postgres error in a nested call_pg")));
                });
            });
        } catch (const piramid::pg::PgException& e) {
            caught = e.edata() != nullptr && e.edata()->sqlerrcode == ERRCODE_DATA_EXCEPTION;
            FreeErrorData(e.edata());
        }
    }
    if (!caught)
        throw piramid::Error(piramid::Errc::kInternal, "selftest: the exception was not caught");
    check_restored("a C++ exception in call_pg");
    // A Postgres error now must be caught by the next call_pg (and then by guard()).
    call_pg([] {
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("selftest: postgres error after a C++ exception in call_pg")));
    });
    return 0;
}

}  // namespace

// piramid_selftest_raise(kind text) RETURNS int: throws a C++ exception of the given kind from
// core code (see core/common/selftest.hpp), or, for the call_pg_* kinds, checks call_pg() (see
// call_pg_selftest()) and ends with a Postgres error raised through it.
PIRAMID_FUNCTION(piramid_selftest_raise) {
    text* kind = PG_GETARG_TEXT_PP(0);
    const char* data = VARDATA_ANY(kind);
    const size_t len = VARSIZE_ANY_EXHDR(kind);
    return piramid::pg::guard([&]() -> Datum {
        const std::string_view k(data, len);
        const int r = call_pg_selftest(k);
        if (r >= 0) return Int32GetDatum(r);
        return Int32GetDatum(piramid::selftest::raise_for_test(k));
    });
}

// piramid_simd_isa() RETURNS text: the SIMD instruction set the distance kernels use.
PIRAMID_FUNCTION(piramid_simd_isa) {
    const char* name = piramid::distance::isa_name(piramid::distance::best().isa);
    PG_RETURN_TEXT_P(cstring_to_text(name));
}
