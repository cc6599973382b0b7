#include "core/common/selftest.hpp"

#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/common/error.hpp"

namespace piramid::selftest {

int raise_for_test(std::string_view kind) {
    // Live objects with destructors on the stack while throwing: the guard must unwind them.
    std::vector<std::string> alive{std::string(kind), "padding that forces a heap allocation"};
    if (kind == "invalid") throw Error(Errc::kInvalidParameter, "selftest: invalid parameter");
    if (kind == "data") throw Error(Errc::kDataException, "selftest: data exception");
    if (kind == "oom") throw Error(Errc::kOutOfMemory, "selftest: out of memory");
    if (kind == "internal") throw Error(Errc::kInternal, "selftest: internal error");
    if (kind == "std") throw std::runtime_error("selftest: std::runtime_error");
    if (kind == "bad_alloc") throw std::bad_alloc();
    if (kind == "unknown") throw 42;
    return static_cast<int>(alive.front().size());
}

}  // namespace piramid::selftest
