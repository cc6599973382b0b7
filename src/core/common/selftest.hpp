// A core function that throws on request, used to prove that core exceptions reach the user as
// ERRORs through the guard and that the backend keeps working afterwards.
#pragma once

#include <string_view>

namespace piramid::selftest {

// kind: "invalid", "data", "oom", "internal", "std", "bad_alloc", "unknown"; anything else
// returns the length of kind without throwing.
int raise_for_test(std::string_view kind);

}  // namespace piramid::selftest
