#include "alerting/channels/utf8_text.h"

#include <gtest/gtest.h>

namespace lookout {
namespace {

const std::string kReplacement = "\xEF\xBF\xBD";

TEST(Utf8Text, CutsAtACharacterBoundaryWithAMark) {
  EXPECT_EQ(utf8_cut("short", 10), "short");
  EXPECT_EQ(utf8_cut("abcdefghij", 10), "abcdefghij");
  EXPECT_EQ(utf8_cut("abcdefghijk", 10), "abcdefg...");
  // "ü" would straddle the cut at 7 bytes: it goes whole.
  EXPECT_EQ(utf8_cut("abcdefüxyz", 10), "abcdef...");
  EXPECT_EQ(utf8_cut("\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC", 5), "...");
  EXPECT_EQ(utf8_cut("ab\xC3", 10), "ab" + kReplacement);
}

}  // namespace
}  // namespace lookout
