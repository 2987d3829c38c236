#include "web/loggable_path.h"

#include <gtest/gtest.h>

namespace lookout {
namespace {

TEST(LoggablePath, SecretSegmentsAreMasked) {
  struct Case {
    std::string path, logged;
  };
  const std::vector<Case> cases{
      {"/ping/job-token-canary-5c1d9e", "/ping/***"},
      {"/ping/job-token-canary-5c1d9e/start", "/ping/***/start"},
      {"/ping/job-token-canary-5c1d9e/3", "/ping/***/3"},
      {"/ping/job-token-canary-5c1d9e/", "/ping/***/"},
      {"//ping/job-token-canary-5c1d9e", "//ping/***"},
      {"/ack/42.1796090400.c2lnbmF0dXJl", "/ack/***"},
      {"/hooks/pushover/7-8.1796090400.c2ln", "/hooks/pushover/***"},
      {"/hooks/pagerduty", "/hooks/pagerduty"},
      {"/pushover/not-after-hooks", "/pushover/not-after-hooks"},
      {"/api/v1/monitors/backup", "/api/v1/monitors/backup"},
      {"/ping", "/ping"},
      {"/ping/", "/ping/"},
      {"", ""},
      {"/", "/"},
      {"/monitor/a\nb\x7f\xc3\xa9", "/monitor/a?b???"},
  };
  for (const auto& c : cases) EXPECT_EQ(loggable_path(c.path), c.logged) << c.path;
}

}  // namespace
}  // namespace lookout
