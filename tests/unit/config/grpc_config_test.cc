// The grpc kind in the config: what it becomes, and every mistake as FILE:LINE:COL.
#include <gtest/gtest.h>

#include "config/config.h"
#include "config/kinds/grpc_spec.h"
#include "tests/unit/config/config_parse.h"

namespace lookout {
namespace {

using test::messages;

LoadResult grpc_config(const std::string& text, std::map<std::string, std::string> env = {}) {
  return parse_config(text, "/etc/lookout/k.toml", test::fake_env(std::move(env)));
}

TEST(GrpcConfig, ParsesWithItsDefaults) {
  const auto r = grpc_config(R"toml(
[[monitor]]
name = "orders"
type = "grpc"
url = "grpcs://Orders.Acme.Test"
service = "orders.v1.Orders"

[[monitor]]
name = "local"
type = "grpc"
url = "grpc://127.0.0.1:50051"
insecure = true

[[monitor]]
name = "v6"
type = "grpc"
url = "grpc://[::1]:50051/"
)toml");
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].str());
  const Config& c = *r.config;
  const auto& orders = c.find("orders")->spec_as<GrpcSpec>();
  EXPECT_TRUE(orders.tls);
  EXPECT_EQ(orders.authority, "orders.acme.test:443");
  EXPECT_EQ(orders.service, "orders.v1.Orders");
  EXPECT_EQ(c.find("orders")->host, "orders.acme.test:443");
  EXPECT_FALSE(orders.insecure());
  const auto& local = c.find("local")->spec_as<GrpcSpec>();
  EXPECT_FALSE(local.tls);
  EXPECT_EQ(local.authority, "127.0.0.1:50051");
  EXPECT_EQ(local.service, "");
  EXPECT_TRUE(local.insecure());
  EXPECT_EQ(c.find("v6")->spec_as<GrpcSpec>().authority, "[::1]:50051");
}

TEST(GrpcConfig, MistakesAreNamedWithTheirPlace) {
  const auto r = grpc_config(R"toml([[monitor]]
name = "a"
type = "grpc"

[[monitor]]
name = "b"
type = "grpc"
url = "https://orders.test"

[[monitor]]
name = "c"
type = "grpc"
url = "grpc://orders.test"

[[monitor]]
name = "d"
type = "grpc"
url = "grpcs://orders.test/grpc.health.v1.Health/Check"
service = 7
expect.status = 200
)toml");
  EXPECT_EQ(
      messages(r),
      (std::vector<std::string>{
          ("/etc/lookout/k.toml:1:1: grpc monitor \"a\" has no url (grpc://host:port or "
           "grpcs://host:port)"),
          "/etc/lookout/k.toml:8:7: url https://orders.test must start with grpc:// or grpcs://",
          ("/etc/lookout/k.toml:13:7: url grpc://orders.test needs a port: cleartext gRPC has "
           "no default one"),
          ("/etc/lookout/k.toml:18:7: url grpcs://orders.test/grpc.health.v1.Health/Check "
           "must be only scheme, host and port: the health service has a fixed path"),
          "/etc/lookout/k.toml:19:11: service must be a string, not an integer",
          "/etc/lookout/k.toml:20:1: unknown key \"expect\" in grpc monitor \"d\"",
      }));
}

}  // namespace
}  // namespace lookout
