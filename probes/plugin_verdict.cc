#include "probes/plugin_verdict.h"

#include <fmt/format.h>

#include <cstring>

namespace lookout {

std::string plugin_signal_name(int signal) {
  const char* abbrev = sigabbrev_np(signal);
  return abbrev != nullptr ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", signal);
}

PluginVerdict judge_plugin(const PluginExit& e) {
  PluginVerdict v;
  const std::string& line = e.line;
  if (e.signal != 0) {
    v.outcome = Outcome::kDown;
    v.kind = ErrorKind::kJobFailed;
    v.cause = fmt::format("UNKNOWN: killed by {}{}{}", plugin_signal_name(e.signal),
                          line.empty() ? "" : ": ", line);
    return v;
  }
  switch (e.status) {
    case 0:
      return v;
    case 1:
      // The plugin measured and found the target outside its thresholds: its line says how.
      v.outcome = Outcome::kDegraded;
      v.kind = ErrorKind::kExpectation;
      v.cause = line.empty() ? "WARNING (exit 1) without output" : line;
      return v;
    case 2:
      v.outcome = Outcome::kDown;
      v.kind = ErrorKind::kExpectation;
      v.cause = line.empty() ? "CRITICAL (exit 2) without output" : line;
      return v;
    case 3:
      // The plugin could not check (bad arguments, no permission, a missing tool).
      v.outcome = Outcome::kDown;
      v.kind = ErrorKind::kJobFailed;
      v.cause = fmt::format("UNKNOWN: {}", line.empty() ? "no output" : line);
      return v;
    default:
      v.outcome = Outcome::kDown;
      v.kind = ErrorKind::kJobFailed;
      v.cause = fmt::format("UNKNOWN (exit {}): {}", e.status, line.empty() ? "no output" : line);
      return v;
  }
}

}  // namespace lookout
