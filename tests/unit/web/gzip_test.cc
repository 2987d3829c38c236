#include "web/gzip.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

namespace lookout {
namespace {

// What a browser does with `Content-Encoding: gzip`: inflate with the gzip wrapper.
std::string gunzip(const std::string& in) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return "inflateInit2 failed";
  std::string out;
  char buf[16384];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  }
  inflateEnd(&zs);
  return rc == Z_STREAM_END ? out : "inflate failed";
}

TEST(Gzip, RoundTripsWithTheGzipHeader) {
  std::string page;
  for (int i = 0; i < 5000; ++i) page.append("<li class=\"monitor\">m").append(std::to_string(i));
  const std::string z = gzip(page);
  ASSERT_GE(z.size(), 18u);
  // RFC 1952: magic 1f 8b, method 8 (deflate).
  EXPECT_EQ(static_cast<unsigned char>(z[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(z[1]), 0x8b);
  EXPECT_EQ(z[2], 8);
  EXPECT_EQ(gunzip(z), page);
  EXPECT_LT(z.size() * 5, page.size()) << "repetitive markup compresses well";
}

TEST(Gzip, EmptyAndBinaryInputs) {
  const std::string empty = gzip("");
  EXPECT_FALSE(empty.empty()) << "an empty body still has a header and a trailer";
  EXPECT_EQ(gunzip(empty), "");
  std::string binary;
  for (int i = 0; i < 70000; ++i) binary.push_back(static_cast<char>((i * 7919) % 256));
  EXPECT_EQ(gunzip(gzip(binary)), binary);
}

}  // namespace
}  // namespace lookout
