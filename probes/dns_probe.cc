#include "probes/dns_probe.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "core/units.h"
#include "probes/dns_answers.h"
#include "probes/mail_records.h"

namespace lookout {
namespace {

constexpr int kSpfMaxLookups = 10;  // RFC 7208 section 4.6.4
constexpr int kTries = 2;
constexpr const char* kNoSocket =
    "lookout is out of file descriptors (it could not open a socket for the question)";

}  // namespace

DnsProbe::DnsProbe(const MonitorConfig& m, ProbeContext& ctx,
                   std::shared_ptr<const Redactor> redactor)
    : ProbeSession(m, ctx, std::move(redactor)), spec_(m.spec_as<DnsSpec>()) {}

DnsProbe::~DnsProbe() = default;

std::string DnsProbe::server() const {
  return spec_.dns.resolver.empty() ? "the system's resolver" : spec_.dns.resolver;
}

std::string DnsProbe::no_answer() const {
  return fmt::format("no answer for {} {} from {} within {}", spec_.dns.record_name,
                     spec_.dns.query, server(), format_duration(m_.timeout));
}

bool DnsProbe::begin() {
  if (!channel_) {
    // Each try gets a share of the timeout, so c-ares gives up (and says so) before the run's
    // deadline does.
    auto channel = std::make_unique<AresChannel>(
        ctx_.loop, std::max(Duration{50}, m_.timeout / (kTries + 1)), kTries);
    std::string error;
    if (!channel->init(spec_.dns.resolver, error)) {
      spdlog::error("monitor {}: {}", m_.name, error);
      return false;
    }
    channel->ask_from(ctx_.source);
    channel_ = std::move(channel);
  }
  spf_answers_.clear();
  spf_lookups_ = 0;
  spf_pending_ = 0;
  spf_seen_.clear();
  spf_problem_.clear();
  channel_->query(spec_.dns.query, spec_.dns.record,
                  [this](int status, const std::string& message) { on_answer(status, message); });
  return true;
}

// Also ends an SPF include still asked when the run is judged without it.
void DnsProbe::abort() {
  if (channel_) channel_->cancel();
}

ProbeResult DnsProbe::timed_out() {
  ProbeResult r;
  r.cause = no_answer();
  return r;
}

void DnsProbe::on_answer(int status, const std::string& message) {
  const std::string what = fmt::format("{} {}", spec_.dns.record_name, spec_.dns.query);
  switch (status) {
    case ARES_SUCCESS:
      break;
    case ARES_ENODATA:
      fail(ErrorKind::kNoRecords, fmt::format("no {} records for {} (the name exists; {})",
                                              spec_.dns.record_name, spec_.dns.query, server()));
      return;
    case ARES_ENOTFOUND:
      fail(ErrorKind::kNoRecords,
           fmt::format("NXDOMAIN: {} does not exist ({})", spec_.dns.query, server()));
      return;
    case ARES_ESERVFAIL:
      fail(ErrorKind::kDns, fmt::format("SERVFAIL from {} for {}", server(), what));
      return;
    case ARES_EREFUSED:
      fail(ErrorKind::kDns, fmt::format("REFUSED: {} will not answer {}", server(), what));
      return;
    case ARES_ETIMEOUT:
      fail(ErrorKind::kTimeout, no_answer());
      return;
    case AresChannel::kOutOfDescriptors:
      fail(ErrorKind::kResources, kNoSocket);
      return;
    case ARES_ECONNREFUSED:
      fail(ErrorKind::kConnect,
           fmt::format("{} refused the connection (is a DNS server listening there?)", server()));
      return;
    default:
      fail(ErrorKind::kDns, fmt::format("{} from {}: {}", what, server(), ares_strerror(status)));
      return;
  }
  std::string error;
  auto answers = parse_answers(message, spec_.dns.record, error);
  if (!answers) {
    fail(ErrorKind::kProtocol,
         fmt::format("the answer for {} from {} is not valid DNS: {}", what, server(), error));
    return;
  }
  if (spec_.dns.check != MailCheck::kSpf) {
    judge(std::move(*answers));
    return;
  }
  const SpfRecord spf = check_spf(spec_.dns.query, *answers);
  spf_answers_ = std::move(*answers);
  if (!spf.problem.empty()) {
    spf_problem_ = spf.problem;
    judge(std::move(spf_answers_));
    return;
  }
  spf_lookups_ = spf.lookups;
  spf_seen_.insert(spec_.dns.query);
  for (const auto& d : spf.includes) {
    if (!spf_seen_.insert(d).second || spf_lookups_ > kSpfMaxLookups) continue;
    ++spf_pending_;
    channel_->query(d, 16,
                    [this, d](int st, const std::string& msg) { on_spf_include(d, st, msg); });
  }
  if (spf_pending_ == 0) finish_spf();
}

void DnsProbe::finish_spf() {
  if (spf_lookups_ > kSpfMaxLookups && spf_problem_.empty()) {
    spf_problem_ = fmt::format(
        "the SPF record of {} needs more than {} DNS lookups (counting through its includes); "
        "receivers reject it (permerror)",
        spec_.dns.query, kSpfMaxLookups);
  }
  judge(std::move(spf_answers_));
}

void DnsProbe::on_spf_include(const std::string& domain, int status, const std::string& message) {
  --spf_pending_;
  if (status == AresChannel::kOutOfDescriptors) {
    fail(ErrorKind::kResources, kNoSocket);  // may destroy this
    return;
  }
  if (spf_problem_.empty()) {
    std::string error;
    std::optional<std::vector<std::string>> answers;
    if (status == ARES_SUCCESS) answers = parse_answers(message, 16, error);
    if (!answers) {
      spf_problem_ = fmt::format(
          "the SPF record of {} includes {}, whose SPF record cannot be read ({})", spec_.dns.query,
          domain, status == ARES_SUCCESS ? error : ares_strerror(status));
    } else {
      const SpfRecord inner = check_spf(domain, *answers);
      if (!inner.problem.empty()) {
        spf_problem_ = fmt::format("included by {}: {}", spec_.dns.query, inner.problem);
      } else {
        spf_lookups_ += inner.lookups;
        for (const auto& d : inner.includes) {
          if (!spf_seen_.insert(d).second || spf_lookups_ > kSpfMaxLookups) continue;
          ++spf_pending_;
          channel_->query(
              d, 16, [this, d](int st, const std::string& msg) { on_spf_include(d, st, msg); });
        }
      }
    }
  }
  if (spf_pending_ == 0) finish_spf();
}

void DnsProbe::judge(std::vector<std::string> answers) {
  ProbeResult r;
  const DnsVerdict v =
      judge_answers(spec_.dns, answers, spec_.dns.alert_on_change ? baseline_ : std::nullopt);
  r.outcome = v.outcome;
  r.kind = v.kind;
  r.cause = v.cause;
  if (r.outcome == Outcome::kUp) {
    std::string problem;
    switch (spec_.dns.check) {
      case MailCheck::kNone:
        break;
      case MailCheck::kSpf:
        problem = spf_problem_;
        break;
      case MailCheck::kDmarc:
        problem = check_dmarc(spec_.dns.query, answers);
        break;
      case MailCheck::kDkim:
        problem = check_dkim(spec_.dns.query, answers);
        break;
    }
    if (!problem.empty()) {
      r.outcome = Outcome::kDown;
      r.kind = ErrorKind::kExpectation;
      r.cause = std::move(problem);
    }
  }
  // The first answer set becomes the baseline that later runs are held to.
  if (spec_.dns.alert_on_change && !baseline_ && r.outcome == Outcome::kUp) {
    baseline_ = answers;
    r.new_baseline = true;
  }
  nlohmann::json detail{{"answers", answers}};
  if (spec_.dns.check == MailCheck::kSpf) detail["spf_lookups"] = spf_lookups_;
  r.detail = detail.dump();
  r.answers = std::move(answers);
  r.timings.dns_us = r.timings.total_us = elapsed_us();
  r.samples_us.push_back(*r.timings.total_us);
  finish(std::move(r));
}

void DnsProbe::fail(ErrorKind kind, std::string cause) {
  ProbeResult r;
  r.outcome = Outcome::kDown;
  r.kind = kind;
  r.cause = std::move(cause);
  finish(std::move(r));
}

}  // namespace lookout
