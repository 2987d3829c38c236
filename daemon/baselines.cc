// The dns monitors' baselines (on_change = "alert") on the loop: a monitor's first answers
// become its baseline, later runs are held to it, and an accept makes the answers seen last the
// new one. One node keeps them in its SQLite; in cluster mode each location keeps its own in
// PostgreSQL (daemon/cluster_baselines.h), which this node's probes are given as read.
#include <spdlog/spdlog.h>

#include "config/kinds/dns_spec.h"
#include "daemon/daemon.h"

namespace lookout {
void Daemon::keep_answers(const Monitor& m, const ProbeResult& r) {
  const DnsSpec* dns = baseline_spec(m.cfg);
  if (dns == nullptr || !r.answers) return;
  if (cluster_) {
    cluster_->baselines().ran(m.cfg.name, dns_question(*dns), *r.answers, r.new_baseline);
    return;
  }
  if (!r.new_baseline) return;
  store_baseline(m.cfg, *r.answers);
  spdlog::info("monitor {}: baseline of {} answers stored", m.cfg.name, r.answers->size());
}

void Daemon::store_baseline(const MonitorConfig& m, const std::vector<std::string>& answers) {
  Baseline b{dns_question(m.spec_as<DnsSpec>()), answers};
  baselines_[m.name] = b;
  store_->put_baseline(m.name, std::move(b));
}

void Daemon::apply_cluster_baselines(const std::map<std::string, LocationBaseline>& rows) {
  for (auto& [id, m] : monitors_) {
    const DnsSpec* dns = baseline_spec(m->cfg);
    if (dns == nullptr || !m->probe) continue;
    const auto row = rows.find(m->cfg.name);
    // A row for another question is replaced by the next run's answers.
    if (row == rows.end() || row->second.baseline.question != dns_question(*dns)) continue;
    Baseline& held = baselines_[m->cfg.name];
    if (held == row->second.baseline) continue;
    held = row->second.baseline;
    m->probe->set_baseline(held.answers);
  }
}

AcceptResult Daemon::request_accept(const std::string& monitor) {
  auto answer = accept_requests_.ask(monitor, *ack_async_);
  return answer ? std::move(*answer) : AcceptResult{};
}

void Daemon::drain_accept_requests() {
  // One node's accepts are answered once the new baselines are committed, as its posts are.
  std::deque<decltype(accept_requests_)::Request> here;
  std::vector<AcceptResult> answers;
  for (auto& req : accept_requests_.take()) {
    Monitor* m = nullptr;
    for (auto& [id, candidate] : monitors_) {
      if (candidate->cfg.name == req.command) m = candidate.get();
    }
    const DnsSpec* dns = m != nullptr ? baseline_spec(m->cfg) : nullptr;
    if (dns != nullptr && cluster_) {
      // Each location's last answers, as PostgreSQL has them: answered once it took them.
      auto held = std::make_shared<decltype(accept_requests_)::Request>(std::move(req));
      cluster_->baselines().accept(m->cfg.name, dns_question(*dns), [held](AcceptResult r) {
        held->answer.set_value(std::move(r));
      });
      continue;
    }
    AcceptResult result;
    if (m == nullptr) {
      result.code = AcceptResult::Code::kUnknown;
    } else if (dns == nullptr) {
      result.code = AcceptResult::Code::kNotDns;
    } else if (!m->eval.last_answers) {
      result.code = AcceptResult::Code::kNoAnswers;
    } else {
      result.code = AcceptResult::Code::kDone;
      result.answers = *m->eval.last_answers;
      m->probe->set_baseline(*m->eval.last_answers);
      store_baseline(m->cfg, *m->eval.last_answers);
      spdlog::info("monitor {}: {} answers accepted as the new baseline", m->cfg.name,
                   result.answers.size());
    }
    here.push_back(std::move(req));
    answers.push_back(std::move(result));
  }
  if (here.empty()) return;
  if (cluster_) {
    // Nothing was stored: a refusal, answered now.
    decltype(accept_requests_)::answering(std::move(here), std::move(answers))();
    return;
  }
  answer_once_committed(decltype(accept_requests_)::answering(std::move(here), std::move(answers)));
}

}  // namespace lookout
