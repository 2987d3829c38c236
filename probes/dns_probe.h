// The dns probe: one question to the monitor's resolver (or the system's) through c-ares on
// the loop; the answers normalised and judged against expect.*, the baseline and, with
// `check`, the mail-record rules. An SPF check follows include: and redirect= to count DNS
// lookups, within the run's timeout.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/kinds/dns_spec.h"
#include "core/ares_bridge.h"
#include "probes/probe_session.h"

namespace lookout {

class DnsProbe final : public ProbeSession {
 public:
  DnsProbe(const MonitorConfig& m, ProbeContext& ctx, std::shared_ptr<const Redactor> redactor);
  ~DnsProbe() override;

  void set_baseline(const std::vector<std::string>& answers) override { baseline_ = answers; }

 private:
  bool begin() override;
  void abort() override;
  ProbeResult timed_out() override;

  void on_answer(int status, const std::string& message);
  void on_spf_include(const std::string& domain, int status, const std::string& message);
  // Every include answered: the lookup count is judged with the rest.
  void finish_spf();
  void judge(std::vector<std::string> answers);
  void fail(ErrorKind kind, std::string cause);
  std::string server() const;
  std::string no_answer() const;

  const DnsSpec& spec_;  // m_'s
  std::unique_ptr<AresChannel> channel_;
  std::optional<std::vector<std::string>> baseline_;
  // An SPF run in progress: the record's answers, lookups counted, domains still asked.
  std::vector<std::string> spf_answers_;
  int spf_lookups_ = 0;
  int spf_pending_ = 0;
  std::set<std::string> spf_seen_;
  std::string spf_problem_;
};

}  // namespace lookout
