#include <gtest/gtest.h>

#include "core/common/error.hpp"
#include "core/common/selftest.hpp"

namespace {

TEST(Selftest, ThrowsTheRequestedKind) {
    EXPECT_EQ(piramid::selftest::raise_for_test("fine"), 4);
    try {
        piramid::selftest::raise_for_test("data");
        FAIL() << "expected an exception";
    } catch (const piramid::Error& e) {
        EXPECT_EQ(e.code(), piramid::Errc::kDataException);
    }
    EXPECT_THROW(piramid::selftest::raise_for_test("bad_alloc"), std::bad_alloc);
    EXPECT_THROW(piramid::selftest::raise_for_test("std"), std::runtime_error);
}

}  // namespace
