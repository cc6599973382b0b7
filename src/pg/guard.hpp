// The C++/Postgres boundary.
//
// Postgres reports errors with siglongjmp, which skips C++ destructors; C++ reports errors with
// exceptions, which must never unwind through Postgres frames. Every function Postgres calls runs
// its body through guard(): any C++ exception is caught, its message copied into plain storage,
// every C++ scope is left, and only then is ereport(ERROR) raised. call_pg() is the reverse: it
// runs Postgres code that may ereport from inside C++ code and turns the error into a C++
// exception, which guard() re-raises unchanged (same SQLSTATE and message).
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/elog.h"
#include "utils/memutils.h"
}

#include <exception>
#include <type_traits>
#include <utility>

#include "core/common/error.hpp"

namespace piramid::pg {

// A Postgres error caught by call_pg(), carried through C++ frames as an exception.
class PgException : public std::exception {
public:
    explicit PgException(ErrorData* edata) noexcept : edata_(edata) {}
    const char* what() const noexcept override {
        return edata_ && edata_->message ? edata_->message : "postgres error";
    }
    ErrorData* edata() const noexcept { return edata_; }

private:
    ErrorData* edata_;
};

// Plain data describing the error to raise once all C++ scopes have ended.
struct PendingError {
    int sqlstate;
    ErrorData* pg_error;
    char message[1024];
};

int sqlstate_for(Errc code) noexcept;
// Fills *err from the exception currently being handled. Call only inside a catch block.
void capture_current_exception(PendingError* err) noexcept;
[[noreturn]] void raise_pending(const PendingError& err);

// Runs body() and converts any C++ exception into ereport(ERROR). The body must not keep C++
// objects with non-trivial destructors alive across Postgres calls that may ereport.
template <typename F>
auto guard(F&& body) -> decltype(body()) {
    PendingError err;
    err.sqlstate = 0;
    err.pg_error = nullptr;
    err.message[0] = '\0';
    try {
        return body();
    } catch (...) {
        capture_current_exception(&err);
    }
    raise_pending(err);
}

// Runs Postgres code that may ereport from C++ code; a Postgres error becomes PgException.
// A C++ exception thrown by fn (for example a PgException from a nested call_pg) must not unwind
// out of the PG_TRY block: that would skip PG_END_TRY and leave PG_exception_stack (and
// error_context_stack) pointing into this dead frame, so the next ereport would longjmp into
// it. It is caught inside the block, kept in an exception_ptr declared before the sigsetjmp
// (written through a volatile pointer, so it lives in memory), and rethrown once PG_END_TRY has
// restored the handler stack. Nothing in the catch handler calls Postgres, so no longjmp can
// leave a C++ catch handler.
template <typename F>
auto call_pg(F&& fn) -> decltype(fn()) {
    using R = decltype(fn());
    MemoryContext volatile oldcxt = CurrentMemoryContext;
    ErrorData* volatile edata = nullptr;
    std::exception_ptr cxx_error;
    std::exception_ptr* volatile cxx_slot = &cxx_error;
    if constexpr (std::is_void_v<R>) {
        PG_TRY();
        {
            try {
                fn();
            } catch (...) {
                *cxx_slot = std::current_exception();
            }
        }
        PG_CATCH();
        {
            MemoryContextSwitchTo(oldcxt);
            edata = CopyErrorData();
            FlushErrorState();
        }
        PG_END_TRY();
        if (cxx_error) std::rethrow_exception(cxx_error);
        if (edata != nullptr) throw PgException(edata);
    } else {
        static_assert(std::is_trivially_copyable_v<R>, "call_pg returns plain values only");
        // Written through a pointer so it lives in memory (not a register) across sigsetjmp;
        // read only when no longjmp happened.
        R result{};
        R* volatile slot = &result;
        PG_TRY();
        {
            try {
                *slot = fn();
            } catch (...) {
                *cxx_slot = std::current_exception();
            }
        }
        PG_CATCH();
        {
            MemoryContextSwitchTo(oldcxt);
            edata = CopyErrorData();
            FlushErrorState();
        }
        PG_END_TRY();
        if (cxx_error) std::rethrow_exception(cxx_error);
        if (edata != nullptr) throw PgException(edata);
        return result;
    }
}

// Checks for query cancel / termination from C++ code (may throw PgException).
void check_for_interrupts();

}  // namespace piramid::pg

// Declares a V1 SQL-callable function with C linkage.
#define PIRAMID_FUNCTION(name)           \
    extern "C" {                         \
    PG_FUNCTION_INFO_V1(name);           \
    }                                    \
    extern "C" Datum name(PG_FUNCTION_ARGS)
