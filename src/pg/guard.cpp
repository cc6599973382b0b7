#include "pg/guard.hpp"

#include <cstdio>
#include <cstring>
#include <new>

namespace piramid::pg {

int sqlstate_for(Errc code) noexcept {
    switch (code) {
        case Errc::kInvalidParameter: return ERRCODE_INVALID_PARAMETER_VALUE;
        case Errc::kDataException: return ERRCODE_DATA_EXCEPTION;
        case Errc::kOutOfMemory: return ERRCODE_OUT_OF_MEMORY;
        case Errc::kCanceled: return ERRCODE_QUERY_CANCELED;
        case Errc::kInternal: return ERRCODE_INTERNAL_ERROR;
    }
    return ERRCODE_INTERNAL_ERROR;
}

static void copy_message(PendingError* err, const char* msg) noexcept {
    std::snprintf(err->message, sizeof(err->message), "%s", msg ? msg : "");
}

void capture_current_exception(PendingError* err) noexcept {
    try {
        throw;
    } catch (const PgException& e) {
        err->pg_error = e.edata();
    } catch (const Error& e) {
        err->sqlstate = sqlstate_for(e.code());
        copy_message(err, e.what());
    } catch (const std::bad_alloc&) {
        err->sqlstate = ERRCODE_OUT_OF_MEMORY;
        copy_message(err, "out of memory");
    } catch (const std::exception& e) {
        err->sqlstate = ERRCODE_INTERNAL_ERROR;
        copy_message(err, e.what());
    } catch (...) {
        err->sqlstate = ERRCODE_INTERNAL_ERROR;
        copy_message(err, "unknown C++ exception");
    }
}

void raise_pending(const PendingError& err) {
    if (err.pg_error != nullptr) ReThrowError(err.pg_error);
    ereport(ERROR, (errcode(err.sqlstate), errmsg("%s", err.message)));
    pg_unreachable();
}

void check_for_interrupts() {
    call_pg([] { CHECK_FOR_INTERRUPTS(); });
}

}  // namespace piramid::pg
