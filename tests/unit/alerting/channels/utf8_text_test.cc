#include "alerting/channels/utf8_text.h"

#include <gtest/gtest.h>

namespace lookout {
namespace {

const std::string kReplacement = "\xEF\xBF\xBD";

TEST(Utf8Text, WellFormedTextIsKept) {
  for (const std::string s :
       {"", "plain", "Störung €5 \xF0\x9F\x9A\xA8", "\xED\x9F\xBF", "\xF4\x8F\xBF\xBF"}) {
    EXPECT_EQ(valid_utf8(s), s);
  }
}

TEST(Utf8Text, EveryBadByteBecomesTheReplacementCharacter) {
  EXPECT_EQ(valid_utf8("a\xC3"), "a" + kReplacement) << "cut inside a character";
  EXPECT_EQ(valid_utf8("\xFFx\x80"), kReplacement + "x" + kReplacement);
  EXPECT_EQ(valid_utf8("\xC0\xAF"), kReplacement + kReplacement) << "overlong";
  EXPECT_EQ(valid_utf8("\xE0\x80\xAF"), kReplacement + kReplacement + kReplacement);
  EXPECT_EQ(valid_utf8("\xED\xA0\x80"), kReplacement + kReplacement + kReplacement)
      << "a surrogate";
  EXPECT_EQ(valid_utf8("\xF4\x90\x80\x80").size(), 4 * kReplacement.size()) << "past U+10FFFF";
}

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
