// A tcp run's reply in words: escaped, shortened, and the cause when the pattern is not in it.
#include "probes/tcp_reply.h"

#include <gtest/gtest.h>

#include "config/kinds/tcp_spec.h"

namespace lookout {
namespace {

TEST(TcpReply, ShowsBytesPrintableWithTheEscapesSendTakes) {
  EXPECT_EQ(escape_tcp_reply("+PONG\r\n"), "+PONG\\r\\n");
  EXPECT_EQ(escape_tcp_reply("a\tb\\c"), "a\\tb\\\\c");
  EXPECT_EQ(escape_tcp_reply(std::string("\x00\x1b[31m\x7f\xc3\xa9", 9)),
            "\\x00\\x1b[31m\\x7f\\xc3\\xa9");
  // A quote cannot end the quoted reply in a cause.
  EXPECT_EQ(escape_tcp_reply("say \"hi\""), "say \\x22hi\\x22");
  EXPECT_EQ(escape_tcp_reply("0123456789", 4), "0123...");
  EXPECT_EQ(escape_tcp_reply("0123", 4), "0123");
}

TEST(TcpReply, WhatItShowsReadsBackAsTheSameBytes) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  std::string error;
  EXPECT_EQ(unescape_tcp_send(escape_tcp_reply(all), error), all) << error;
}

TEST(TcpReply, TheCauseQuotesTheReplyShortWithoutItsLineBreak) {
  EXPECT_EQ(tcp_mismatch_cause("/^\\+PONG/", "-ERR unknown\r\n", TcpReplyEnd::kClosed, 65536),
            "expected /^\\+PONG/ in reply, got \"-ERR unknown\"");
  EXPECT_EQ(tcp_mismatch_cause("/x/", "\r\n", TcpReplyEnd::kClosed, 65536),
            "expected /x/ in reply, got \"\\r\\n\"");
  EXPECT_EQ(tcp_mismatch_cause("/x/", "", TcpReplyEnd::kClosed, 65536),
            "expected /x/ in reply, got nothing (the peer closed the connection)");
  EXPECT_EQ(tcp_mismatch_cause("/x/", std::string(5000, 'y'), TcpReplyEnd::kMaxBody, 4096),
            "expected /x/ in reply, got \"" + std::string(60, 'y') +
                "...\" (the first 4KiB of the reply, max_body)");
  EXPECT_EQ(tcp_mismatch_cause("*** (a secret)", "220 mail\r\n", TcpReplyEnd::kTimeout, 65536),
            "expected *** (a secret) in reply, got \"220 mail\"");
}

}  // namespace
}  // namespace lookout
