// The daemon's life: kill -9 and restart, a clean stop, reloads good and bad, and the systemd
// notify protocol, all with the real binary.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "core/clock.h"
#include "tests/integration/harness.h"
#include "tests/support/notify_socket.h"

namespace lookout::testing {
namespace {

std::string monitors_against(int port, int count, const std::string& interval) {
  std::string out = fmt::format(
      "[defaults]\ninterval = \"{}\"\ntimeout = \"150ms\"\nfail_after = 1\nrecover_after = "
      "1\npublic = true\n\n",
      interval);
  for (int i = 0; i < count; ++i) {
    out += fmt::format(
        "[[monitor]]\nname = \"m{}\"\ntype = \"http\"\nurl = \"http://127.0.0.1:{}/ok\"\n\n", i,
        port);
  }
  out += fmt::format(
      "[[monitor]]\nname = \"broken\"\ntype = \"http\"\nurl = \"http://127.0.0.1:{}/fail\"\n\n",
      port);
  return out;
}

int64_t ms_of(const nlohmann::json& rfc3339_time) {
  std::tm tm{};
  int ms = 0;
  sscanf(rfc3339_time.get<std::string>().c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon,
         &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

struct Db {
  explicit Db(const std::string& path) {
    sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  }
  ~Db() { sqlite3_close(db); }
  std::string text(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      const auto* t = sqlite3_column_text(st, 0);
      out = t != nullptr ? reinterpret_cast<const char*>(t) : "";
    }
    sqlite3_finalize(st);
    return out;
  }
  int64_t integer(const std::string& sql) {
    const std::string t = text(sql);
    return t.empty() ? -1 : std::stoll(t);
  }
  sqlite3* db = nullptr;
};

// Latest last_check (Unix ms) of each monitor, from the API.
std::map<std::string, int64_t> last_checks(const nlohmann::json& status) {
  std::map<std::string, int64_t> out;
  for (const auto& m : status["monitors"]) {
    if (!m["last_check"].is_null()) out[m["name"]] = ms_of(m["last_check"]);
  }
  return out;
}

TEST(Lifecycle, Kill9LosesNothingOlderThanASecondAndRestartRestoresState) {
  TempDir dir;
  TargetServer target;
  add_standard_routes(target);
  target.start();
  Daemon d(dir, monitors_against(target.port(), 20, "200ms"));
  d.start();
  ASSERT_TRUE(wait_until(
      [&] {
        return last_checks(d.status()).size() == 21 && d.monitor("broken")["state"] == "down";
      },
      15'000ms));
  // Let it run a while so there is history, then kill it mid-flight.
  std::this_thread::sleep_for(1500ms);
  const auto status_before = d.status();
  const auto seen = last_checks(status_before);
  const std::string broken_since = d.monitor("broken")["since"];
  d.process().signal(SIGKILL);
  ASSERT_EQ(d.process().wait(5000ms), 128 + SIGKILL);

  {
    Db db(d.db_path());
    EXPECT_EQ(db.text("PRAGMA integrity_check"), "ok");
    for (const auto& [name, t] : seen) {
      const int64_t newest =
          db.integer(fmt::format("SELECT max(r.t_ms) FROM results r JOIN monitors m ON m.id = "
                                 "r.monitor_id WHERE m.name = '{}'",
                                 name));
      EXPECT_GE(newest, t - 1000) << name
                                  << ": results from the last second before the kill are missing";
    }
    EXPECT_GT(db.integer("SELECT count(*) FROM results"), 100);
  }

  // Restart: the state and since come back from storage, before and after the next runs.
  Daemon again(dir, monitors_against(target.port(), 20, "200ms"));
  again.start();
  const auto broken = again.monitor("broken");
  EXPECT_EQ(broken["state"], "down");
  EXPECT_EQ(broken["since"], broken_since);
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(again.monitor("broken")["since"], broken_since)
      << "a monitor already down must not start a new down period";
  EXPECT_EQ(again.monitor("m0")["state"], "up");
}

// A full disk, as the daemon sees it: a file-size limit set on the running process makes every
// write past the current end of the database files fail (EFBIG).
void limit_file_size(int pid, rlim_t bytes) {
  rlimit lim{};
  ASSERT_EQ(prlimit(pid, RLIMIT_FSIZE, nullptr, &lim), 0);
  lim.rlim_cur = std::min(bytes, lim.rlim_max);
  ASSERT_EQ(prlimit(pid, RLIMIT_FSIZE, &lim, nullptr), 0) << std::strerror(errno);
}

TEST(Lifecycle, StorageThatFailsIsReportedBoundedAndResumed) {
  TempDir dir;
  TargetServer target;
  add_standard_routes(target);
  target.start();
  Daemon d(dir, monitors_against(target.port(), 10, "200ms"));
  // The harness's [storage] table gets one more key.
  std::string text = read_file(d.config_path());
  text.replace(text.find("[storage]\n"), 10, "[storage]\nmax_backlog = 50\n");
  dir.write("lookout.toml", text);
  d.start();
  auto metric = [&](const char* name) { return metric_value(d.metrics(), name); };
  ASSERT_TRUE(
      wait_until([&] { return metric("lookout_storage_rows_written_total") > 20; }, 10'000ms));

  limit_file_size(d.process().pid(), 1);
  ASSERT_TRUE(wait_until([&] { return http_get(d.port(), "/healthz").status == 503; }, 10'000ms));
  const auto health = http_get(d.port(), "/healthz");
  EXPECT_NE(health.body.find("storage " + d.db_path() + " is failing"), std::string::npos)
      << health.body;
  // Probing goes on, the backlog stays within its bound, and what falls out is counted.
  const int hits = target.hits.load();
  ASSERT_TRUE(
      wait_until([&] { return metric("lookout_storage_rows_dropped_total") > 0; }, 15'000ms))
      << d.metrics();
  EXPECT_GT(target.hits.load(), hits + 20);
  EXPECT_LE(metric("lookout_storage_backlog"), 50);
  EXPECT_EQ(metric("lookout_storage_ok"), 0);
  EXPECT_TRUE(d.status().is_object());  // the API still answers
  const double written = metric("lookout_storage_rows_written_total");

  limit_file_size(d.process().pid(), RLIM_INFINITY);
  ASSERT_TRUE(wait_until([&] { return http_get(d.port(), "/healthz").status == 200; }, 15'000ms))
      << http_get(d.port(), "/healthz").body;
  ASSERT_TRUE(wait_until(
      [&] { return metric("lookout_storage_rows_written_total") > written + 20; }, 10'000ms));
  EXPECT_EQ(metric("lookout_storage_ok"), 1);
  EXPECT_FALSE(d.process().wait(0ms).has_value());  // nothing crashed
  d.process().signal(SIGTERM);
  EXPECT_EQ(d.process().wait(10'000ms), 0);
  Db db(d.db_path());
  EXPECT_EQ(db.text("PRAGMA integrity_check"), "ok");
}

// The soft descriptor limit of the running daemon lowered below what it holds, as a flood of
// connections would leave it: no run can open a socket. Every kind that opens one (http, cert,
// dns) must put its runs back instead of failing them, and go on once the limit returns.
TEST(Lifecycle, AtTheDescriptorLimitRunsWaitInsteadOfFailing) {
  TempDir dir;
  const Certs certs = make_certs(dir);
  TargetServer target;
  add_standard_routes(target);
  target.start();
  TargetServer tls(certs.leaf_cert, certs.leaf_key);
  tls.start();
  KnotServer knot(dir, {{"acme.test",
                         "$ORIGIN acme.test.\n$TTL 60\n@ SOA ns.acme.test. hostmaster.acme.test. 1 "
                         "3600 600 86400 60\n"
                         "@ NS ns.acme.test.\nns A 127.0.0.1\nportal A 203.0.113.10\n"}});
  std::string toml =
      "[defaults]\ninterval = \"300ms\"\ntimeout = \"250ms\"\nfail_after = 1\npublic = true\n\n";
  for (int i = 0; i < 8; ++i) {
    toml += fmt::format(
        "[[monitor]]\nname = \"web{}\"\ntype = \"http\"\nurl = \"http://127.0.0.1:{}/ok\"\n\n", i,
        target.port());
  }
  toml += fmt::format(
      "[[monitor]]\nname = \"cert\"\ntype = \"cert\"\nhost = \"127.0.0.1\"\nport = {}\nca_file = "
      "\"{}\"\n"
      "warn_within = \"10d\"\ninterval = \"500ms\"\ntimeout = \"400ms\"\n\n",
      tls.port(), certs.ca_cert);
  toml += fmt::format(
      "[[monitor]]\nname = \"dns\"\ntype = \"dns\"\nquery = \"portal.acme.test\"\nresolver = "
      "\"{}\"\n\n",
      knot.address());
  Daemon d(dir, toml);
  d.start();
  // Runs finished by each monitor, or -1 for one that is not up.
  auto runs = [&] {
    std::map<std::string, double> out;
    const std::string metrics = d.metrics();
    const nlohmann::json status = d.status();
    for (const auto& m : status["monitors"]) {
      const std::string name = m["name"];
      out[name] = m["state"] == "up" ? metric_value(metrics, "lookout_probe_runs_total",
                                                    fmt::format("monitor=\"{}\"", name))
                                     : -1;
    }
    return out;
  };
  ASSERT_TRUE(wait_until(
      [&] {
        const auto r = runs();
        return r.size() == 10 &&
               std::all_of(r.begin(), r.end(), [](const auto& kv) { return kv.second >= 2; });
      },
      15'000ms))
      << d.status().dump();

  rlimit saved{};
  ASSERT_EQ(prlimit(d.process().pid(), RLIMIT_NOFILE, nullptr, &saved), 0);
  rlimit starved = saved;
  starved.rlim_cur = 1;
  ASSERT_EQ(prlimit(d.process().pid(), RLIMIT_NOFILE, &starved, nullptr), 0)
      << std::strerror(errno);
  const bool warned = wait_until(
      [&] {
        const std::string err = d.process().err();
        return err.find("put back to start again: lookout is out of file descriptors") !=
               std::string::npos;
      },
      10'000ms);
  // Longer than the scheduler's hold and every interval, so each kind tries while starved.
  std::this_thread::sleep_for(1500ms);
  ASSERT_EQ(prlimit(d.process().pid(), RLIMIT_NOFILE, &saved, nullptr), 0);
  ASSERT_TRUE(warned) << d.process().err();

  const auto before = runs();
  ASSERT_TRUE(wait_until(
      [&] {
        const auto r = runs();
        return r.size() == 10 && std::all_of(r.begin(), r.end(), [&](const auto& kv) {
                 return kv.second > before.at(kv.first) + 2;
               });
      },
      15'000ms))
      << d.status().dump();
  EXPECT_GT(metric_value(d.metrics(), "lookout_scheduler_deferred_total"), 0);
  d.process().signal(SIGTERM);
  ASSERT_EQ(d.process().wait(10'000ms), 0);
  Db db(d.db_path());
  EXPECT_EQ(db.text("SELECT group_concat(m.name || ': ' || r.cause, '; ') FROM results r JOIN "
                    "monitors m ON m.id = r.monitor_id "
                    "WHERE r.outcome != 0"),
            "")
      << "no run may fail for want of the daemon's own descriptors";
  EXPECT_EQ(db.integer("SELECT count(*) FROM incidents"), 0);
}

TEST(Lifecycle, SigtermWritesTheLastBatchAndExitsZero) {
  TempDir dir;
  TargetServer target;
  add_standard_routes(target);
  target.start();
  Daemon d(dir, monitors_against(target.port(), 5, "200ms"));
  d.start();
  ASSERT_TRUE(wait_until([&] { return last_checks(d.status()).size() == 6; }, 10'000ms));
  const auto seen = last_checks(d.status());
  d.process().signal(SIGTERM);
  ASSERT_EQ(d.process().wait(10'000ms), 0);
  EXPECT_NE(d.process().err().find("stopped"), std::string::npos);
  Db db(d.db_path());
  for (const auto& [name, t] : seen) {
    EXPECT_GE(db.integer(fmt::format("SELECT max(r.t_ms) FROM results r JOIN monitors m ON m.id = "
                                     "r.monitor_id WHERE m.name = '{}'",
                                     name)),
              t)
        << name << ": a result the API showed was not written at stop";
  }
}

TEST(Lifecycle, ReloadKeepsUnchangedMonitorsAndRejectsABadConfig) {
  TempDir dir;
  TargetServer target;
  add_standard_routes(target);
  target.start();
  const int p = target.port();
  auto config = [p](const std::vector<std::pair<std::string, std::string>>& monitors) {
    std::string out =
        "[defaults]\ninterval = \"300ms\"\ntimeout = \"200ms\"\nfail_after = 1\npublic = true\n\n";
    for (const auto& [name, extra] : monitors) {
      out += fmt::format(
          "[[monitor]]\nname = \"{}\"\ntype = \"http\"\nurl = \"http://127.0.0.1:{}/ok\"\n{}\n\n",
          name, p, extra);
    }
    return out;
  };
  Daemon d(dir, config({{"keep", ""}, {"change", ""}, {"drop", ""}}));
  d.start();
  ASSERT_TRUE(wait_until(
      [&] { return d.monitor("keep")["state"] == "up" && d.monitor("change")["state"] == "up"; },
      10'000ms));
  const auto keep_since = d.monitor("keep")["since"];

  d.rewrite_config(config({{"keep", ""}}) +
                   "[[monitor]]\nname = \"bad\"\ntype = \"http\"\nurl = \"nope\"\n");
  d.process().signal(SIGHUP);
  ASSERT_TRUE(wait_until(
      [&] { return d.process().err().find("still running the previous one") != std::string::npos; },
      10'000ms));
  EXPECT_NE(d.process().err().find("url nope has no scheme"), std::string::npos);
  EXPECT_FALSE(d.process().wait(0ms).has_value());
  EXPECT_TRUE(d.monitor("drop").is_object()) << "a bad reload must keep the old monitors";

  d.rewrite_config(config({{"keep", ""}, {"change", "timeout = \"250ms\""}, {"added", ""}}));
  d.process().signal(SIGHUP);
  ASSERT_TRUE(wait_until(
      [&] { return d.monitor("added").is_object() && d.monitor("drop").is_null(); }, 10'000ms));
  EXPECT_NE(d.process().err().find(
                "1 monitors kept, 1 changed (their state starts again), 1 added, 1 removed"),
            std::string::npos);
  EXPECT_EQ(d.monitor("keep")["since"], keep_since);
  ASSERT_TRUE(wait_until(
      [&] { return d.monitor("change")["state"] == "up" && d.monitor("added")["state"] == "up"; },
      10'000ms));
  EXPECT_NE(d.monitor("change")["since"], keep_since);
}

TEST(Lifecycle, SystemdNotifyReadyWatchdogReloadingStopping) {
  TempDir dir;
  TargetServer target;
  add_standard_routes(target);
  target.start();
  test::NotifySocket notify(dir.file("notify.sock"));
  Daemon d(dir, monitors_against(target.port(), 1, "1s"), "",
           {{"NOTIFY_SOCKET", dir.file("notify.sock")}, {"WATCHDOG_USEC", "400000"}});
  d.start();
  ASSERT_TRUE(wait_until([&] { return notify.count("READY=1") == 1; }, 5000ms));
  ASSERT_TRUE(wait_until([&] { return notify.count("WATCHDOG=1") >= 3; }, 5000ms))
      << "the watchdog is petted every 200ms";
  d.process().signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return notify.count("READY=1") == 2; }, 5000ms));
  d.process().signal(SIGTERM);
  ASSERT_EQ(d.process().wait(10'000ms), 0);
  ASSERT_TRUE(wait_until([&] { return notify.count("STOPPING=1") == 1; }, 2000ms));
  // The order systemd relies on.
  std::vector<std::string> seq;
  for (const auto& m : notify.messages()) {
    if (m != "WATCHDOG=1") seq.push_back(m);
  }
  EXPECT_EQ(seq, (std::vector<std::string>{"READY=1", "RELOADING=1", "READY=1", "STOPPING=1"}));
}

}  // namespace
}  // namespace lookout::testing
