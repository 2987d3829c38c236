// The exec kind: a Nagios / Monitoring-Plugins plugin run without a shell, judged by its exit
// status, with the performance data of its output as metrics (probes/exec_probe).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "config/config.h"

namespace lookout {

// The plugin's PATH when `env` does not set one: the system's programs, nothing writable by
// the service.
inline constexpr const char* kExecDefaultPath = "/usr/local/bin:/usr/bin:/bin";

struct ExecSpec : SpecOf<ExecSpec> {
  // argv, command[0] an absolute path. Plain text: a process's arguments are readable by every
  // user in /proc/PID/cmdline, so a secret belongs in `env`.
  std::vector<std::string> command;
  // The plugin's whole environment beside PATH and LANG, sorted by name; values may be secrets.
  std::vector<std::pair<std::string, Secret>> env;
  bool operator==(const ExecSpec&) const = default;
};

}  // namespace lookout
