// The ping kind with the real binary: echoes to loopback over IPv4 and IPv6 (raw sockets as
// root, datagram ones where the group is in net.ipv4.ping_group_range), echoes to an address
// nobody answers, and `check` / `run` refusing a ping monitor to a process that may open no
// ICMP socket. What needs a network of its own (a silent address, a sysctl, no privilege)
// runs inside a private network namespace the test makes with unshare, so nothing is sent
// from the machine's own namespace to anything but loopback.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "probes/ping_socket.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

// The process may open some ICMP socket; the tests that ping need it.
bool ping_allowed() { return find_ping_permission().ok(); }

#define SKIP_WITHOUT_ICMP_SOCKETS()                                                             \
  if (!ping_allowed())                                                                          \
  GTEST_SKIP() << "this process may open neither datagram ICMP sockets (its group is not in "   \
                  "net.ipv4.ping_group_range) nor raw ones (no CAP_NET_RAW); run the tests as " \
                  "root"

bool ipv6_loopback() {
  const int fd = socket(AF_INET6, SOCK_DGRAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

// A program's path from PATH (Process execs without a search), "" when absent.
std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = dir;
    candidate.append("/").append(name);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// `script` run by sh inside a new network namespace (only lo, down until the script raises
// it); its exit code, stdout and stderr. Empty `code` when the namespace cannot be made.
struct NamespaceRun {
  std::optional<int> code;
  std::string out, err;
};
NamespaceRun in_network_namespace(const TempDir& dir, const std::string& script) {
  const std::string unshare = find_program("unshare");
  if (unshare.empty()) return {};
  Process p({unshare, "-n", "sh", "-c", script}, {}, dir.path());
  const auto code = p.wait(60'000ms);
  return {code, p.out(), p.err()};
}

bool can_make_network_namespaces(const TempDir& dir) {
  if (find_program("ip").empty()) return false;
  const auto r = in_network_namespace(dir, "ip link set lo up");
  return r.code == 0;
}

std::map<std::string, nlohmann::json> json_lines(const std::string& out) {
  std::map<std::string, nlohmann::json> lines;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("monitor")) lines[j["monitor"].get<std::string>()] = j;
  }
  return lines;
}

void expect_every_echo_answered(const nlohmann::json& j, const std::string& address, int count) {
  EXPECT_EQ(j["outcome"], "up") << j.dump();
  EXPECT_TRUE(j["cause"].is_null()) << j.dump();
  const auto& d = j["detail"];
  EXPECT_EQ(d["address"], address) << j.dump();
  EXPECT_EQ(d["sent"], count) << j.dump();
  EXPECT_EQ(d["received"], count) << j.dump();
  EXPECT_EQ(d["loss_percent"], 0.0) << j.dump();
  ASSERT_EQ(d["rtts_ms"].size(), static_cast<size_t>(count)) << j.dump();
  for (const auto& rtt : d["rtts_ms"]) {
    ASSERT_TRUE(rtt.is_number()) << j.dump();
    EXPECT_GE(rtt.get<double>(), 0.0);
    EXPECT_LT(rtt.get<double>(), 1000.0);
  }
  // The run's latency is the median round trip.
  EXPECT_EQ(j["timings_ms"]["total"], d["median_rtt_ms"]) << j.dump();
  // A name is looked up (its time shown); an address is not.
  EXPECT_EQ(j["timings_ms"]["dns"].is_number(), j["monitor"] == "localhost") << j.dump();
}

TEST(PingProbe, LoopbackAnswersEveryEchoOverIpv4AndIpv6) {
  SKIP_WITHOUT_ICMP_SOCKETS();
  TempDir dir;
  const bool v6 = ipv6_loopback();
  std::string config = R"([[monitor]]
name = "lo4"
type = "ping"
host = "127.0.0.1"
timeout = "3s"
expect.max_loss = "0%"

[[monitor]]
name = "localhost"
type = "ping"
host = "localhost"
count = 2
timeout = "3s"
)";
  if (v6) {
    config += R"(
[[monitor]]
name = "lo6"
type = "ping"
host = "::1"
count = 4
timeout = "3s"
expect.max_rtt = "500ms"
)";
  }
  dir.write("ping.toml", config);
  int code = -1;
  const auto started = std::chrono::steady_clock::now();
  auto results = probe_json(dir.file("ping.toml"), code);
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(code, 0);
  expect_every_echo_answered(results["lo4"], "127.0.0.1", 3);
  expect_every_echo_answered(results["localhost"], "127.0.0.1", 2);  // /etc/hosts
  const std::string socket = results["lo4"]["detail"]["socket"];
  EXPECT_TRUE(socket == "raw" || socket == "datagram") << socket;
  if (v6) {
    expect_every_echo_answered(results["lo6"], "::1", 4);
  } else {
    std::cout << "::1 is not configured here: IPv6 not pinged\n";
  }
  // Every echo answered ends the run: 3 echoes 200 ms apart, not the 3 s timeout.
  EXPECT_LT(took, 2500ms);
}

TEST(PingProbe, DaemonRecordsTheMedianRttAsTheMonitorsLatency) {
  SKIP_WITHOUT_ICMP_SOCKETS();
  TempDir dir;
  Daemon d(dir, R"([[monitor]]
name = "lo"
type = "ping"
public = true
host = "127.0.0.1"
interval = "1s"
timeout = "1s"
)");
  d.start();
  nlohmann::json m;
  ASSERT_TRUE(wait_until(
      [&] {
        m = d.monitor("lo");
        return m.is_object() && m["state"] == "up";
      },
      15'000ms))
      << m.dump();
  EXPECT_TRUE(m["latency_ms"].is_number()) << m.dump();
}

TEST(PingProbe, AnAddressNobodyAnswersLosesEveryEcho) {
  SKIP_WITHOUT_ICMP_SOCKETS();
  TempDir dir;
  if (!can_make_network_namespaces(dir))
    GTEST_SKIP() << "cannot make a network namespace here (unshare -n and ip, as root, are needed)";
  // 192.0.2.1 and 2001:db8::1 are routed to the namespace's own lo without being assigned
  // to it: the kernel drops the echoes without a word. 198.51.100.1 has no route at all.
  dir.write("lost.toml", R"([[monitor]]
name = "silent"
type = "ping"
host = "192.0.2.1"
timeout = "1500ms"
expect.max_loss = "50%"

[[monitor]]
name = "silent6"
type = "ping"
host = "2001:db8::1"
count = 2
timeout = "1s"

[[monitor]]
name = "unroutable"
type = "ping"
host = "198.51.100.1"
count = 1
timeout = "500ms"

[[monitor]]
name = "lo"
type = "ping"
host = "127.0.0.1"
timeout = "1500ms"
)");
  const auto started = std::chrono::steady_clock::now();
  const auto r = in_network_namespace(
      dir, fmt::format("ip link set lo up && ip route add 192.0.2.1/32 dev lo && "
                       "(ip -6 route add 2001:db8::1/128 dev lo || true) && exec {} probe -c {} "
                       "--json",
                       lookout_binary(), dir.file("lost.toml")));
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(r.code) << r.err;
  EXPECT_EQ(*r.code, 1) << r.out << r.err;
  auto results = json_lines(r.out);

  const auto& silent = results["silent"];
  EXPECT_EQ(silent["outcome"], "down") << silent.dump();
  EXPECT_EQ(silent["cause"], "3 of 3 echoes lost") << silent.dump();
  EXPECT_EQ(silent["kind"], "connect") << silent.dump();
  EXPECT_EQ(silent["detail"]["sent"], 3) << silent.dump();
  EXPECT_EQ(silent["detail"]["received"], 0) << silent.dump();
  EXPECT_EQ(silent["detail"]["loss_percent"], 100.0) << silent.dump();
  EXPECT_EQ(silent["detail"]["rtts_ms"], nlohmann::json::parse("[null, null, null]"));
  EXPECT_TRUE(silent["timings_ms"]["total"].is_null()) << silent.dump();

  if (ipv6_loopback()) {
    EXPECT_EQ(results["silent6"]["cause"], "2 of 2 echoes lost") << results["silent6"].dump();
  }
  EXPECT_EQ(results["unroutable"]["outcome"], "down") << results["unroutable"].dump();
  EXPECT_EQ(results["unroutable"]["cause"],
            "1 of 1 echoes lost (cannot send: Network is unreachable)")
      << results["unroutable"].dump();
  // Loopback in the same namespace still answers: the losses are the silent addresses'.
  EXPECT_EQ(results["lo"]["outcome"], "up") << results["lo"].dump();
  // The runs end at their timeouts, in parallel (lost echoes are judged just before the
  // timeout, as the cause above shows, not cut off by it as "timeout after").
  EXPECT_LT(took, 5000ms);
}

TEST(PingProbe, DatagramSocketsServeAGroupInsidePingGroupRange) {
  SKIP_WITHOUT_ICMP_SOCKETS();
  TempDir dir;
  if (!can_make_network_namespaces(dir))
    GTEST_SKIP() << "cannot make a network namespace here (unshare -n and ip, as root, are needed)";
  dir.write("dgram.toml", R"([[monitor]]
name = "lo4"
type = "ping"
host = "127.0.0.1"

[[monitor]]
name = "lo6"
type = "ping"
host = "::1"
)");
  // The sysctl belongs to the network namespace: widening it there changes nothing outside.
  const auto r = in_network_namespace(
      dir, fmt::format("ip link set lo up && echo '0 2147483647' > "
                       "/proc/sys/net/ipv4/ping_group_range && exec {} probe -c {} --json",
                       lookout_binary(), dir.file("dgram.toml")));
  ASSERT_TRUE(r.code) << r.err;
  auto results = json_lines(r.out);
  expect_every_echo_answered(results["lo4"], "127.0.0.1", 3);
  EXPECT_EQ(results["lo4"]["detail"]["socket"], "datagram") << results["lo4"].dump();
  if (ipv6_loopback()) {
    expect_every_echo_answered(results["lo6"], "::1", 3);
    EXPECT_EQ(results["lo6"]["detail"]["socket"], "datagram") << results["lo6"].dump();
  }
}

TEST(PingProbe, CheckAndRunRefuseAPingMonitorWithoutPermissionAtItsType) {
  TempDir dir;
  if (getuid() != 0 || find_program("setpriv").empty())
    GTEST_SKIP() << "needs root and setpriv to run lookout as nobody without capabilities";
  if (!can_make_network_namespaces(dir))
    GTEST_SKIP() << "cannot make a network namespace here (unshare -n and ip, as root, are needed)";
  // nobody must reach the binary and the config: both go into a folder it may read.
  std::filesystem::copy_file(lookout_binary(), dir.file("lookout"));
  chmod(dir.path().c_str(), 0755);
  chmod(dir.file("lookout").c_str(), 0755);
  dir.write("ping.toml", fmt::format(R"([server]
listen = "127.0.0.1:{}"

[storage]
path = "{}"

[[monitor]]
name = "web"
type = "http"
url = "http://127.0.0.1:1/"

[[monitor]]
name = "gateway"
type   = "ping"
host = "127.0.0.1"
)",
                                     free_port(), dir.file("lookout.db")));
  chmod(dir.file("ping.toml").c_str(), 0644);
  // A new namespace's range is "1 0" (no group), whatever the machine's is; nobody has no
  // capability.
  const auto as_nobody = [&](const std::string& command) {
    return in_network_namespace(
        dir,
        fmt::format("echo '1 0' > /proc/sys/net/ipv4/ping_group_range && exec {} "
                    "--reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all "
                    "--bounding-set=-all {} {} -c {}",
                    find_program("setpriv"), dir.file("lookout"), command, dir.file("ping.toml")));
  };
  const auto check = as_nobody("check");
  ASSERT_TRUE(check.code) << check.err;
  EXPECT_EQ(*check.code, 2) << check.out << check.err;
  const std::string where = dir.file("ping.toml") + ":14:10: ping monitor \"gateway\": ";
  EXPECT_EQ(check.err.rfind(where, 0), 0u) << check.err;
  EXPECT_NE(check.err.find("net.ipv4.ping_group_range (now \"1 0\")"), std::string::npos)
      << check.err;
  EXPECT_NE(check.err.find("gid 65534"), std::string::npos) << check.err;
  EXPECT_NE(check.err.find("CAP_NET_RAW"), std::string::npos) << check.err;
  EXPECT_EQ(check.out, "");

  const auto run = as_nobody("run");
  ASSERT_TRUE(run.code) << run.err;
  EXPECT_EQ(*run.code, 2) << run.out << run.err;
  EXPECT_NE(run.err.find(where), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("CAP_NET_RAW"), std::string::npos) << run.err;
  // It stopped before opening anything.
  EXPECT_FALSE(std::filesystem::exists(dir.file("lookout.db")));
}

}  // namespace
}  // namespace lookout::testing
