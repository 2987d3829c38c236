// valid_utf8: well-formed text kept byte for byte, every byte that does not begin a
// well-formed sequence replaced (RFC 3629: overlong forms, surrogates, past U+10FFFF).
#include "core/utf8.h"

#include <gtest/gtest.h>

namespace lookout {
namespace {

const std::string kReplacementCharacter = "\xEF\xBF\xBD";

TEST(Utf8, WellFormedTextIsKept) {
  for (const std::string s :
       {"", "plain", "Störung €5 \xF0\x9F\x9A\xA8", "\xED\x9F\xBF", "\xF4\x8F\xBF\xBF"}) {
    EXPECT_EQ(valid_utf8(s), s);
  }
}

TEST(Utf8, EveryBadByteBecomesTheReplacementCharacter) {
  EXPECT_EQ(valid_utf8("a\xC3"), "a" + kReplacementCharacter) << "cut inside a character";
  EXPECT_EQ(valid_utf8("\xFFx\x80"), kReplacementCharacter + "x" + kReplacementCharacter);
  EXPECT_EQ(valid_utf8("\xC0\xAF"), kReplacementCharacter + kReplacementCharacter) << "overlong";
  EXPECT_EQ(valid_utf8("\xE0\x80\xAF"),
            kReplacementCharacter + kReplacementCharacter + kReplacementCharacter);
  EXPECT_EQ(valid_utf8("\xED\xA0\x80"),
            kReplacementCharacter + kReplacementCharacter + kReplacementCharacter)
      << "a surrogate";
  EXPECT_EQ(valid_utf8("\xF4\x90\x80\x80").size(), 4 * kReplacementCharacter.size())
      << "past U+10FFFF";
}

}  // namespace
}  // namespace lookout
