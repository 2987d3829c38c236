// The exec kind in the config: command and env, what they become, and every mistake as
// FILE:LINE:COL.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "config/config.h"
#include "config/kinds/exec_spec.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/config/config_parse.h"

namespace lookout {
namespace {

using test::messages;

LoadResult exec_config(const std::string& text, std::map<std::string, std::string> env = {}) {
  return parse_config(text, "/etc/lookout/p.toml", test::fake_env(std::move(env)));
}

TEST(ExecConfig, CommandAndEnvAsWritten) {
  const auto r = exec_config(R"toml(
[[monitor]]
name = "disk"
type = "exec"
command = ["/bin/sh", "-c", "echo OK"]
env = { LANG = "C.UTF-8", TOKEN = "${env:PLUGIN_TOKEN}", Z_LAST = "z" }
)toml",
                             {{"PLUGIN_TOKEN", "s3cr3t-token"}});
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].str());
  const auto& m = *r.config->find("disk");
  EXPECT_EQ(m.type, "exec");
  const auto& spec = m.spec_as<ExecSpec>();
  EXPECT_EQ(spec.command, (std::vector<std::string>{"/bin/sh", "-c", "echo OK"}));
  ASSERT_EQ(spec.env.size(), 3u);
  EXPECT_EQ(spec.env[0].first, "LANG");
  EXPECT_EQ(spec.env[1].first, "TOKEN");
  EXPECT_EQ(spec.env[1].second.reveal(), "s3cr3t-token");
  EXPECT_TRUE(spec.env[1].second.is_secret());
  EXPECT_EQ(m.host, "exec");
  // Every env value is masked in free text, the secret one and the inline ones alike.
  EXPECT_EQ(r.config->redactor->apply("said s3cr3t-token and C.UTF-8"), "said *** and ***");
}

TEST(ExecConfig, EveryMistakeAtItsValue) {
  test::TempDir dir;
  dir.write("not-executable", "#!/bin/sh\n");
  chmod(dir.file("not-executable").c_str(), 0644);
  const auto r = exec_config(fmt::format(R"toml(
[[monitor]]
name = "none"
type = "exec"

[[monitor]]
name = "string"
type = "exec"
command = "/bin/sh -c true"

[[monitor]]
name = "relative"
type = "exec"
command = ["check_disk", "-w", "20%"]

[[monitor]]
name = "missing"
type = "exec"
command = ["/nonexistent/check_disk"]

[[monitor]]
name = "noexec"
type = "exec"
command = ["{}"]

[[monitor]]
name = "empty"
type = "exec"
command = []

[[monitor]]
name = "secret-arg"
type = "exec"
command = ["/bin/sh", "${{env:X}}", 5]

[[monitor]]
name = "env"
type = "exec"
command = ["/bin/sh"]
env = {{ "1BAD" = "x", "A-B" = "y", OK = 3 }}

[[monitor]]
name = "env-string"
type = "exec"
command = ["/bin/sh"]
env = "LANG=C"
)toml",
                                         dir.file("not-executable")),
                             {{"X", "xx"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(
      messages(r),
      (std::vector<std::string>{
          "/etc/lookout/p.toml:2:1: exec monitor \"none\" has no command",
          ("/etc/lookout/p.toml:9:11: command must be a non-empty array of strings, as in command "
           "= [\"/usr/lib/nagios/plugins/check_load\", \"-w\", \"5,4,3\"]; it runs without a "
           "shell, one string per argument"),
          ("/etc/lookout/p.toml:14:12: command[0] \"check_disk\" must be an absolute path: the "
           "plugin runs without a shell and without a search in PATH"),
          "/etc/lookout/p.toml:19:12: command[0] /nonexistent/check_disk is not a file",
          fmt::format("/etc/lookout/p.toml:24:12: command[0] {} is not executable",
                      dir.file("not-executable")),
          ("/etc/lookout/p.toml:29:11: command must be a non-empty array of strings, as in "
           "command = [\"/usr/lib/nagios/plugins/check_load\", \"-w\", \"5,4,3\"]; it runs "
           "without a shell, one string per argument"),
          ("/etc/lookout/p.toml:34:23: command[1] cannot come from ${env:...} or ${file:...}: "
           "every user on the machine can read a process's arguments (/proc/PID/cmdline); give "
           "the plugin its secret in env"),
          "/etc/lookout/p.toml:34:35: command[2] must be a string, not an integer",
          ("/etc/lookout/p.toml:40:9: env name \"1BAD\" is not a variable name (A-Z, a-z, 0-9 and "
           "_, not starting with a digit)"),
          ("/etc/lookout/p.toml:40:23: env name \"A-B\" is not a variable name (A-Z, a-z, 0-9 and "
           "_, not starting with a digit)"),
          "/etc/lookout/p.toml:40:41: env.OK must be a string, not an integer",
          "/etc/lookout/p.toml:46:7: env must be a table, as in env = { LANG = \"C\" }",
      }));
}

TEST(ExecConfig, SameAsSeesCommandAndEnv) {
  const std::string base =
      "[[monitor]]\nname = \"m\"\ntype = \"exec\"\ncommand = [\"/bin/sh\", \"-c\", \"true\"]\n";
  auto a = exec_config(base + "env = { T = \"${env:T}\" }\n", {{"T", "one-value"}});
  auto same = exec_config(base + "env = { T = \"${env:T}\" }\n", {{"T", "one-value"}});
  auto other_secret = exec_config(base + "env = { T = \"${env:T}\" }\n", {{"T", "two-value"}});
  auto other_arg = exec_config(
      "[[monitor]]\nname = \"m\"\ntype = \"exec\"\ncommand = [\"/bin/sh\", \"-c\", \"false\"]\n"
      "env = { T = \"${env:T}\" }\n",
      {{"T", "one-value"}});
  ASSERT_TRUE(a.ok() && same.ok() && other_secret.ok() && other_arg.ok());
  EXPECT_TRUE(a.config->monitors[0].same_as(same.config->monitors[0]));
  EXPECT_FALSE(a.config->monitors[0].same_as(other_secret.config->monitors[0]));
  EXPECT_FALSE(a.config->monitors[0].same_as(other_arg.config->monitors[0]));
}

}  // namespace
}  // namespace lookout
