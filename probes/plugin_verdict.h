// A plugin's exit judged as Nagios judges it: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, and
// anything else (another status, a signal) UNKNOWN too. Pure.
#pragma once

#include <cstdint>
#include <string>

#include "probes/probe.h"

namespace lookout {

struct PluginExit {
  int64_t status = 0;  // the exit status, when the plugin exited
  int signal = 0;      // the signal that ended it, or 0
  std::string line;    // its status line (stdout's, else stderr's first line), cleaned
};

struct PluginVerdict {
  Outcome outcome = Outcome::kUp;
  ErrorKind kind = ErrorKind::kNone;
  std::string cause;  // empty when up
};

PluginVerdict judge_plugin(const PluginExit& e);

// "SIGKILL" for 9; "signal N" for one without a name.
std::string plugin_signal_name(int signal);

}  // namespace lookout
