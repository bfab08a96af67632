#include "sha256.h"

#include <gtest/gtest.h>

#include <string>

namespace gracecheck {
namespace {

// Against sha256sum: the empty string, "abc" (FIPS 180-4's example), and
// 1000 bytes (several blocks, the length across a block boundary).
TEST(Sha256Test, DigestsAreSha256sums) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(std::string(1000, 'a')),
            "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}

}  // namespace
}  // namespace gracecheck
