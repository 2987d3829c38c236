// The exec probe: a Nagios / Monitoring-Plugins plugin run with uv_spawn, without a shell, in
// a session (and so a process group) of its own, stdin on /dev/null and stdout and stderr on
// pipes read on the loop. Its exit status is the verdict (probes/plugin_verdict), its output
// the cause and the performance data (probes/perfdata). At the deadline, or when a run is
// cancelled, the whole process group gets SIGKILL, so a plugin's own children go with it;
// libuv reaps, and the child's handles outlive the probe until its exit has been seen.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/kinds/exec_spec.h"
#include "probes/probe_session.h"

namespace lookout {

// The most of a plugin's standard output that is kept; the rest is read and dropped.
inline constexpr size_t kExecMaxOutput = 64 * 1024;
// The most of its standard error that is kept: only its first line is ever used.
inline constexpr size_t kExecMaxStderr = 4 * 1024;

class ExecProbe final : public ProbeSession {
 public:
  ExecProbe(const MonitorConfig& m, ProbeContext& ctx, std::shared_ptr<const Redactor> redactor);
  ~ExecProbe() override;

  struct Child;  // the running plugin: its handles and what it wrote (exec_probe.cc)
  // The plugin exited and both pipes are closed (called by Child).
  void on_child_done(Child& c);

 private:
  bool begin() override;
  void abort() override;
  ProbeResult timed_out() override;
  void spawn_failed(int err);
  std::string masked(std::string text) const;

  const ExecSpec& spec_;          // m_'s
  std::vector<std::string> env_;  // NAME=value, made once
  Child* child_ = nullptr;        // the run's plugin; owns itself, detached at the run's end
};

}  // namespace lookout
