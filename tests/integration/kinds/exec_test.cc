// The exec kind with real plugins: shell scripts the test writes (each exit status, a signal,
// output past the cap, a plugin that hangs with a child of its own, one that prints its
// environment) and a real one from monitoring-plugins, run by the real binary. The verdict
// and cause come from `lookout probe --json`; the metrics, the timeout's kill and the
// environment from the running daemon.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <set>
#include <sstream>

#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

// A plugin the test writes: `body` after the #! line, made executable.
std::string write_plugin(const TempDir& dir, const std::string& name, const std::string& body) {
  dir.write(name, "#!/bin/sh\n" + body);
  chmod(dir.file(name).c_str(), 0755);
  return dir.file(name);
}

std::string exec_monitor(const std::string& name, const std::string& path,
                         const std::string& extra = "") {
  return fmt::format("[[monitor]]\nname = \"{}\"\ntype = \"exec\"\ncommand = [\"{}\"]\n{}\n", name,
                     path, extra);
}

// A process that still runs: /proc/PID exists and is not a zombie waiting to be reaped.
bool running(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const size_t close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

std::vector<int> read_pids(const std::string& path) {
  std::ifstream in(path);
  std::vector<int> out;
  int pid = 0;
  while (in >> pid) out.push_back(pid);
  return out;
}

struct Want {
  std::string outcome;
  std::string cause;  // the whole cause; "" for none
};

TEST(ExecProbe, ExitStatusIsTheVerdictAndTheFirstLineTheCause) {
  TempDir dir;
  std::string toml = "[defaults]\ntimeout = \"10s\"\n";
  const std::map<std::string, std::string> plugins{
      {"ok", "echo 'PROCS OK: 3 processes | procs=3;10;20;0;'\nexit 0\n"},
      {"warning", "echo 'LOAD WARNING - load average: 5.10'\necho 'second line'\nexit 1\n"},
      {"critical", "echo '  DISK CRITICAL - free space: / 2%  | /=98%;80;90'\nexit 2\n"},
      {"unknown", "echo 'check_thing: Could not parse arguments'\nexit 3\n"},
      {"seven", "echo 'something odd'\nexit 7\n"},
      {"silent-critical", "exit 2\n"},
      {"stderr-only", "echo 'cannot open /nonexistent' >&2\nexit 3\n"},
      {"segfault", "echo 'half a'\nkill -SEGV $$\n"},
  };
  for (const auto& [name, body] : plugins)
    toml += exec_monitor(name, write_plugin(dir, name, body));
  dir.write("e.toml", toml);

  int code = 0;
  const auto results = probe_json(dir.file("e.toml"), code);
  EXPECT_EQ(code, 1);
  const std::map<std::string, Want> want{
      {"ok", {"up", ""}},
      {"warning", {"degraded", "LOAD WARNING - load average: 5.10"}},
      {"critical", {"down", "DISK CRITICAL - free space: / 2%"}},
      {"unknown", {"down", "UNKNOWN: check_thing: Could not parse arguments"}},
      {"seven", {"down", "UNKNOWN (exit 7): something odd"}},
      {"silent-critical", {"down", "CRITICAL (exit 2) without output"}},
      {"stderr-only", {"down", "UNKNOWN: cannot open /nonexistent"}},
      {"segfault", {"down", "UNKNOWN: killed by SIGSEGV: half a"}},
  };
  for (const auto& [name, w] : want) {
    SCOPED_TRACE(name);
    ASSERT_EQ(results.count(name), 1u);
    const auto& r = results.at(name);
    EXPECT_EQ(r["type"], "exec");
    EXPECT_EQ(r["outcome"], w.outcome) << r.dump();
    EXPECT_EQ(r["cause"].is_null() ? "" : r["cause"].get<std::string>(), w.cause) << r.dump();
    // The plugin's run time is the latency.
    EXPECT_TRUE(r["timings_ms"]["total"].is_number()) << r.dump();
  }
  const auto& ok = results.at("ok")["detail"];
  EXPECT_EQ(ok["exit_status"], 0);
  EXPECT_EQ(ok["output"], "PROCS OK: 3 processes");
  ASSERT_EQ(ok["perfdata"].size(), 1u);
  EXPECT_EQ(ok["perfdata"][0]["label"], "procs");
  EXPECT_EQ(ok["perfdata"][0]["value"], 3.0);
  EXPECT_EQ(ok["perfdata"][0]["warn"], "10");
  EXPECT_EQ(results.at("segfault")["detail"]["signal"], "SIGSEGV");
  EXPECT_EQ(results.at("seven")["detail"]["exit_status"], 7);
}

TEST(ExecProbe, RunsARealMonitoringPlugin) {
  const std::string check_load = "/usr/lib/nagios/plugins/check_load";
  ASSERT_EQ(access(check_load.c_str(), X_OK), 0)
      << check_load << " is missing: scripts/install-deps.sh --test installs it";
  TempDir dir;
  dir.write("e.toml", fmt::format("[[monitor]]\nname = \"load\"\ntype = \"exec\"\ncommand = "
                                  "[\"{}\", \"-w\", \"900,800,700\", \"-c\", \"1000,900,800\"]\n",
                                  check_load));
  int code = 0;
  const auto results = probe_json(dir.file("e.toml"), code);
  ASSERT_EQ(results.count("load"), 1u);
  const auto& r = results.at("load");
  EXPECT_EQ(code, 0) << r.dump();
  EXPECT_EQ(r["outcome"], "up") << r.dump();
  std::set<std::string> labels;
  for (const auto& p : r["detail"]["perfdata"]) labels.insert(p["label"].get<std::string>());
  EXPECT_EQ(labels, (std::set<std::string>{"load1", "load5", "load15"})) << r.dump();
}

TEST(ExecProbe, PerfdataBecomesMetricsInBaseUnits) {
  TempDir dir;
  const std::string body =
      "echo \"HTTP OK - 612 bytes |time=250ms;;;0 'disk used'=2KB;;;0;100 'say \\\"hi\\\"'=1 "
      "users=U;5;10 bad=abc\"\n"
      "echo 'long text'\n"
      "echo 'more text | load1=0.5;5;10'\n"
      "echo 'swap=1MB'\n";
  const std::string plugin = write_plugin(dir, "perf", body);
  Daemon d(dir, exec_monitor("perf", plugin, "public = true\ninterval = \"2s\"\ntimeout = \"2s\"") +
                    exec_monitor("private-perf", plugin, "interval = \"2s\"\ntimeout = \"2s\""));
  d.start();
  ASSERT_TRUE(wait_until(
      [&] {
        return metric_value(d.metrics(), "lookout_exec_perfdata",
                            "monitor=\"perf\",label=\"time\"") >= 0;
      },
      15'000ms))
      << d.metrics();
  const std::string m = d.metrics();
  EXPECT_NE(m.find("# TYPE lookout_exec_perfdata gauge"), std::string::npos);
  EXPECT_DOUBLE_EQ(metric_value(m, "lookout_exec_perfdata", "monitor=\"perf\",label=\"time\""),
                   0.25);
  EXPECT_DOUBLE_EQ(metric_value(m, "lookout_exec_perfdata", "monitor=\"perf\",label=\"disk used\""),
                   2048);
  EXPECT_DOUBLE_EQ(
      metric_value(m, "lookout_exec_perfdata", "monitor=\"perf\",label=\"say \\\"hi\\\"\""), 1);
  EXPECT_DOUBLE_EQ(metric_value(m, "lookout_exec_perfdata", "monitor=\"perf\",label=\"load1\""),
                   0.5);
  EXPECT_DOUBLE_EQ(metric_value(m, "lookout_exec_perfdata", "monitor=\"perf\",label=\"swap\""),
                   1024.0 * 1024);
  // No value, no series; a bad item costs only itself.
  EXPECT_EQ(m.find("label=\"users\""), std::string::npos);
  EXPECT_EQ(m.find("label=\"bad\""), std::string::npos);
  // A private monitor's values stay private, like its other series.
  EXPECT_EQ(m.find("monitor=\"private-perf\""), std::string::npos) << m;
}

TEST(ExecProbe, OutputPastTheCapIsDroppedAndTheRunStillJudged) {
  TempDir dir;
  // 1 MiB after the status line: the plugin must be able to write it all and exit.
  const std::string first = "WARNING - very chatty | lines=1\n";
  const std::string plugin =
      write_plugin(dir, "big",
                   "printf '" + first.substr(0, first.size() - 1) +
                       "\\n'\n"
                       "i=0\nwhile [ $i -lt 1024 ]; do printf '%01023d\\n' 0; i=$((i+1)); done\n"
                       "exit 1\n");
  dir.write("e.toml", exec_monitor("big", plugin, "timeout = \"20s\""));
  int code = 0;
  const auto results = probe_json(dir.file("e.toml"), code);
  ASSERT_EQ(results.count("big"), 1u);
  const auto& r = results.at("big");
  EXPECT_EQ(r["outcome"], "degraded") << r.dump();
  EXPECT_EQ(r["cause"], "WARNING - very chatty");
  EXPECT_EQ(r["detail"]["truncated"], true);
  EXPECT_EQ(r["detail"]["output_bytes"], first.size() + 1024 * 1024);
  EXPECT_EQ(r["detail"]["perfdata"][0]["label"], "lines");
}

TEST(ExecProbe, TimeoutKillsThePluginAndTheChildItStarted) {
  TempDir dir;
  const std::string pids = dir.file("pids");
  const std::string plugin =
      write_plugin(dir, "hang",
                   // Later runs only hang: the pids are those of the first.
                   fmt::format("[ -e {0} ] && exec sleep 1000\n"
                               "echo $$ > {0}.tmp\nsleep 1000 &\necho $! >> {0}.tmp\nmv {0}.tmp "
                               "{0}\nsleep 1000\n",
                               pids));
  Daemon d(dir, exec_monitor("hang", plugin,
                             "public = true\ninterval = \"5s\"\ntimeout = \"1s\"\nfail_after = 1"));
  d.start();
  ASSERT_TRUE(wait_until([&] { return read_pids(pids).size() == 2; }, 15'000ms));
  const std::vector<int> p = read_pids(pids);
  EXPECT_TRUE(running(p[0]) || running(p[1]));  // still there until the deadline
  ASSERT_TRUE(wait_until(
      [&] {
        const auto m = d.monitor("hang");
        return m.is_object() && m["cause"].is_string();
      },
      10'000ms));
  EXPECT_EQ(d.monitor("hang")["cause"], "timeout after 1s");
  EXPECT_EQ(d.monitor("hang")["state"], "down");
  // The plugin and its child both, though nothing in the plugin passed the kill on.
  EXPECT_TRUE(wait_until([&] { return !running(p[0]) && !running(p[1]); }, 5'000ms))
      << "plugin " << p[0] << (running(p[0]) ? " runs" : " gone") << ", child " << p[1]
      << (running(p[1]) ? " runs" : " gone");
}

TEST(ExecProbe, PluginSeesOnlyItsEnvAndPathAndItsSecretIsMaskedInTheCause) {
  TempDir dir;
  const std::string seen = dir.file("env.txt");
  const std::string plugin = write_plugin(
      dir, "envdump",
      fmt::format(
          "env > {}\necho \"CRITICAL - login as $API_TOKEN refused by $API_HOST\"\nexit 2\n",
          seen));
  dir.write("e.toml", exec_monitor("envdump", plugin,
                                   "env = { API_TOKEN = \"${env:EXEC_TEST_TOKEN}\", API_HOST = "
                                   "\"db.internal.test\" }"));
  int code = 0;
  const auto results = probe_json(dir.file("e.toml"), code,
                                  {{"EXEC_TEST_TOKEN", "tok-8f2e91c4"}, {"HOME", "/root/secret"}});
  ASSERT_EQ(results.count("envdump"), 1u);
  const auto& r = results.at("envdump");
  const std::string cause = r["cause"];
  EXPECT_EQ(cause, "CRITICAL - login as *** refused by ***");
  EXPECT_EQ(r.dump().find("tok-8f2e91c4"), std::string::npos) << r.dump();

  std::map<std::string, std::string> env;
  std::istringstream in(read_file(seen));
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  // The shell adds PWD of its own; nothing else comes from lookout's environment.
  env.erase("PWD");
  EXPECT_EQ(env, (std::map<std::string, std::string>{{"API_HOST", "db.internal.test"},
                                                     {"API_TOKEN", "tok-8f2e91c4"},
                                                     {"LANG", "C"},
                                                     {"PATH", "/usr/local/bin:/usr/bin:/bin"}}));
}

TEST(ExecProbe, CheckNamesACommandThatCannotRun) {
  TempDir dir;
  dir.write("plain", "#!/bin/sh\n");
  dir.write("e.toml", exec_monitor("missing", "/nonexistent/check_x") +
                          exec_monitor("not-exec", dir.file("plain")));
  const auto r = run_lookout({"check", "-c", dir.file("e.toml")});
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find(dir.file("e.toml") + ":4:12: command[0] /nonexistent/check_x is not a file"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(fmt::format("{}:9:12: command[0] {} is not executable", dir.file("e.toml"),
                                   dir.file("plain"))),
            std::string::npos)
      << r.err;
}

TEST(ExecProbe, TheWorkedExamplesCheck) {
  const auto r =
      run_lookout({"check", "-c", std::string(LOOKOUT_SOURCE_DIR) + "/examples/kinds.toml"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
}

}  // namespace
}  // namespace lookout::testing
