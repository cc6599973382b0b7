// Errors raised by the pure C++ core. The Postgres glue (src/pg/guard.hpp) maps the code to a
// SQLSTATE; the core itself never sees a Postgres header.
#pragma once

#include <stdexcept>
#include <string>

namespace piramid {

enum class Errc {
    kInvalidParameter,  // bad option value or argument (22023)
    kDataException,     // bad data, e.g. dimension mismatch (22000)
    kOutOfMemory,       // budget exceeded or allocation failure (53200)
    kCanceled,          // cooperative cancellation observed by core code (57014)
    kInternal,          // a broken invariant (XX000)
};

class Error : public std::runtime_error {
public:
    Error(Errc code, const std::string& msg) : std::runtime_error(msg), code_(code) {}
    Errc code() const noexcept { return code_; }

private:
    Errc code_;
};

}  // namespace piramid
