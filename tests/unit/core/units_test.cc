#include "core/units.h"

#include <gtest/gtest.h>

namespace lookout {
namespace {

TEST(Duration, ParsesEveryUnitAndCompounds) {
  struct Case {
    const char* text;
    int64_t ms;
  } cases[] = {
      {"250ms", 250},         {"30s", 30'000},      {"5m", 300'000},        {"2h", 7'200'000},
      {"14d", 1'209'600'000}, {"1h30m", 5'400'000}, {"1m30s500ms", 90'500}, {"0s", 0}};
  for (const auto& c : cases) {
    auto r = parse_duration(c.text);
    ASSERT_TRUE(r.value) << c.text << ": " << r.error;
    EXPECT_EQ(r.value->count(), c.ms) << c.text;
  }
}

TEST(Duration, RejectsWithAReason) {
  for (const char* bad : {"", "30", "s", "1.5s", "10 s", "3w", "-1s", "1h30", "ms5"}) {
    auto r = parse_duration(bad);
    EXPECT_FALSE(r.value) << bad;
    EXPECT_FALSE(r.error.empty()) << bad;
  }
  EXPECT_NE(parse_duration("30").error.find("without a unit"), std::string::npos);
  EXPECT_NE(parse_duration("3w").error.find("unknown unit \"w\""), std::string::npos);
  EXPECT_FALSE(parse_duration("99999999999999999999d").value);
}

TEST(Duration, FormatsShortestExactSpelling) {
  EXPECT_EQ(format_duration(Duration{5'400'000}), "1h30m");
  EXPECT_EQ(format_duration(Duration{250}), "250ms");
  EXPECT_EQ(format_duration(Duration{0}), "0s");
  EXPECT_EQ(format_duration(Duration{90'500}), "1m30s500ms");
}

TEST(Size, ParsesBinaryAndDecimalUnits) {
  EXPECT_EQ(*parse_size("64KiB").bytes, 65'536u);
  EXPECT_EQ(*parse_size("1MiB").bytes, 1'048'576u);
  EXPECT_EQ(*parse_size("10MB").bytes, 10'000'000u);
  EXPECT_EQ(*parse_size("12B").bytes, 12u);
  EXPECT_FALSE(parse_size("12").bytes);
  EXPECT_FALSE(parse_size("1TiB").bytes);
  EXPECT_FALSE(parse_size("KiB").bytes);
  EXPECT_EQ(format_size(1'048'576), "1MiB");
  EXPECT_EQ(format_size(1000), "1000B");
}

}  // namespace
}  // namespace lookout
