#include <gtest/gtest.h>

#include "config/config.h"
#include "probes/probe.h"

namespace lookout {
namespace {

// A kind has a line in each layer's registry (config/kinds/registry.cc, probes/registry.cc):
// one the config accepts must also have a probe, or `lookout run` would start without it. A
// heartbeat is the exception: it is pushed to, never probed.
TEST(Registry, EveryKindTheConfigAcceptsHasAProbe) {
  const auto kinds = monitor_kinds();
  EXPECT_GE(kinds.size(), 6u);
  for (const auto& k : kinds) EXPECT_EQ(has_probe(k), k != "heartbeat") << k;
  EXPECT_FALSE(has_probe("no-such-kind"));
}

}  // namespace
}  // namespace lookout
