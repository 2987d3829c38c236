#include "probes/dnssec_probe.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unbound.h>
#include <uv.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <tuple>

#include "core/units.h"
#include "probes/dns_answers.h"

namespace lookout {
namespace {

constexpr uint16_t kTypeDs = 43;
constexpr uint16_t kTypeDnskey = 48;
constexpr int kClassIn = 1;
// DNSKEY and DS questions of one run's chain; a real chain has a few per zone cut.
constexpr size_t kMaxChainQuestions = 32;

// The zones libunbound answers from its own data unless told not to (RFC 6761 names, the
// private and special-use reverse zones; unbound's localzone.c). Removed, so that any name can
// be validated, also one a test or a lab serves under test. or 10.in-addr.arpa.
std::vector<std::string> dnssec_default_local_zones() {
  std::vector<std::string> zones{"localhost.",
                                 "127.in-addr.arpa.",
                                 "onion.",
                                 "test.",
                                 "invalid.",
                                 "home.arpa.",
                                 "resolver.arpa.",
                                 "service.arpa.",
                                 "0.in-addr.arpa.",
                                 "10.in-addr.arpa.",
                                 "254.169.in-addr.arpa.",
                                 "2.0.192.in-addr.arpa.",
                                 "168.192.in-addr.arpa.",
                                 "100.51.198.in-addr.arpa.",
                                 "113.0.203.in-addr.arpa.",
                                 "255.255.255.255.in-addr.arpa.",
                                 "d.f.ip6.arpa.",
                                 "8.e.f.ip6.arpa.",
                                 "9.e.f.ip6.arpa.",
                                 "a.e.f.ip6.arpa.",
                                 "b.e.f.ip6.arpa.",
                                 "8.b.d.0.1.0.0.2.ip6.arpa."};
  for (int i = 64; i <= 127; ++i) zones.push_back(fmt::format("{}.100.in-addr.arpa.", i));
  for (int i = 16; i <= 31; ++i) zones.push_back(fmt::format("{}.172.in-addr.arpa.", i));
  std::string zeros;
  for (int i = 0; i < 31; ++i) zeros += "0.";
  zones.push_back("0." + zeros + "ip6.arpa.");
  zones.push_back("1." + zeros + "ip6.arpa.");
  return zones;
}

// "IP:port" / "[IPv6]:port" as libunbound's "IP@port".
std::string dnssec_forwarder(const std::string& resolver) {
  const auto colon = resolver.rfind(':');
  std::string host = resolver.substr(0, colon);
  if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
  return fmt::format("{}@{}", host, resolver.substr(colon + 1));
}

// A zone as the signatures name it ("acme.example", ".") as the anchors do ("acme.example.").
std::string dnssec_fqdn(const std::string& zone) { return zone == "." ? zone : zone + "."; }

nlohmann::json dnssec_signature_json(const RrsigRecord& s) {
  return {{"owner", s.owner},
          {"type", rr_type_name(s.type_covered)},
          {"signer", s.signer},
          {"key_tag", s.key_tag},
          {"algorithm", s.algorithm},
          {"inception", rfc3339(from_unix_ms(s.inception * 1000))},
          {"expiration", rfc3339(from_unix_ms(s.expiration * 1000))}};
}

struct UbResultFree {
  void operator()(ub_result* r) const {
    if (r != nullptr) ub_resolve_free(r);
  }
};
using UbResult = std::unique_ptr<ub_result, UbResultFree>;

}  // namespace

struct DnssecProbe::Poll {
  uv_poll_t handle{};
  DnssecProbe* probe = nullptr;
};

DnssecProbe::DnssecProbe(const MonitorConfig& m, ProbeContext& ctx,
                         std::shared_ptr<const Redactor> redactor)
    : ProbeSession(m, ctx, std::move(redactor)), spec_(m.spec_as<DnssecSpec>()) {
  for (const auto& a : spec_.trust_anchors) anchor_zones_.insert(a.zone);
  if (spec_.trust_anchors.empty()) anchor_zones_.insert(".");
}

DnssecProbe::~DnssecProbe() {
  if (poll_ != nullptr) {
    uv_poll_stop(&poll_->handle);
    uv_close(reinterpret_cast<uv_handle_t*>(&poll_->handle),
             [](uv_handle_t* h) { delete static_cast<Poll*>(h->data); });
  }
  for (auto& a : answered_) UbResult(a.result).reset();
  // No callback comes after this; with a thread of its own, it tells the thread to quit and
  // joins it, which it does at once.
  if (ub_ != nullptr) ub_ctx_delete(ub_);
}

std::string DnssecProbe::server() const {
  return spec_.resolver.empty() ? "the system's resolver" : spec_.resolver;
}

std::string DnssecProbe::make_context() {
  ub_ = ub_ctx_create();
  if (ub_ == nullptr) return "libunbound could not make a context (out of memory)";
  // Its errors would go to stderr, beside lookout's log; the run's cause says what failed.
  ub_ctx_debugout(ub_, nullptr);
  // A thread of its own resolves and validates; answers come back through ub_fd(). Without
  // threads libunbound would fork a process holding a copy of the daemon and its descriptors.
  int rc = ub_ctx_async(ub_, 1);
  // One context per monitor: small caches (the defaults are megabytes each).
  for (const char* opt : {"msg-cache-size:", "rrset-cache-size:", "key-cache-size:"}) {
    if (rc == 0) rc = ub_ctx_set_option(ub_, opt, "256k");
  }
  if (rc == 0) rc = ub_ctx_set_option(ub_, "neg-cache-size:", "64k");
  if (rc == 0) rc = ub_ctx_set_option(ub_, "outgoing-range:", "64");
  if (rc != 0) return fmt::format("libunbound refused its options: {}", ub_strerror(rc));
  if (!ctx_.source.empty()) {
    rc = ub_ctx_set_option(ub_, "outgoing-interface:", ctx_.source.text().c_str());
    if (rc != 0)
      return fmt::format("libunbound refused [cluster] source_address {}: {}", ctx_.source.text(),
                         ub_strerror(rc));
  }
  if (spec_.resolver.empty()) {
    rc = ub_ctx_resolvconf(ub_, nullptr);
    if (rc != 0)
      return fmt::format(
          "the system's resolvers could not be read from "
          "/etc/resolv.conf: {}",
          ub_strerror(rc));
  } else {
    // A forwarder gets the whole question with RD set: a recursive resolver resolves it, an
    // authoritative one answers for its own zones. Either must pass the DNSSEC records on.
    rc = ub_ctx_set_fwd(ub_, dnssec_forwarder(spec_.resolver).c_str());
    if (rc != 0)
      return fmt::format("libunbound refused the resolver {}: {}", spec_.resolver, ub_strerror(rc));
  }
  if (spec_.trust_anchors.empty()) {
    rc = ub_ctx_add_ta_file(ub_, spec_.trust_anchor_file.c_str());
    if (rc != 0)
      return fmt::format("the trust anchor {} could not be read: {}", spec_.trust_anchor_file,
                         ub_strerror(rc));
  } else {
    for (const auto& a : spec_.trust_anchors) {
      rc = ub_ctx_add_ta(ub_, a.record.c_str());
      if (rc != 0)
        return fmt::format("libunbound refused the trust anchor of {}: {}", a.zone,
                           ub_strerror(rc));
    }
  }
  // The first removal also ends the setup (libunbound reads the anchors then).
  for (const auto& zone : dnssec_default_local_zones()) {
    rc = ub_ctx_zone_remove(ub_, zone.c_str());
    if (rc != 0) return fmt::format("libunbound could not be set up: {}", ub_strerror(rc));
  }
  auto poll = std::make_unique<Poll>();
  poll->probe = this;
  poll->handle.data = poll.get();
  if (uv_poll_init(ctx_.loop.raw(), &poll->handle, ub_fd(ub_)) != 0) {
    return "libunbound's answer pipe could not be watched";
  }
  poll_ = poll.release();
  return "";
}

bool DnssecProbe::begin() {
  answer_ = {};
  answers_.clear();
  signatures_.clear();
  asked_.clear();
  answer_us_.reset();
  chain_note_.clear();
  if (ub_ == nullptr) {
    std::string error = make_context();
    if (!error.empty()) {
      spdlog::error("monitor {}: {}", m_.name, error);
      if (ub_ != nullptr) ub_ctx_delete(ub_);
      ub_ = nullptr;
      next_turn([this, error] { fail(ErrorKind::kInternal, error); });
      return true;
    }
  }
  uv_poll_start(&poll_->handle, UV_READABLE, [](uv_poll_t* h, int /*status*/, int /*events*/) {
    static_cast<Poll*>(h->data)->probe->on_readable();
  });
  const int rc = ask(spec_.query, spec_.record, false);
  if (rc != 0) {
    const ErrorKind kind = rc == UB_FORKFAIL || rc == UB_NOMEM || rc == UB_PIPE
                               ? ErrorKind::kResources
                               : ErrorKind::kInternal;
    next_turn([this, kind, rc] {
      fail(kind, fmt::format("libunbound could not ask: {}", ub_strerror(rc)));
    });
  }
  return true;
}

int DnssecProbe::ask(const std::string& name, uint16_t type, bool chain) {
  auto q = std::make_unique<Question>(Question{this, name, type, chain});
  int id = 0;
  const int rc =
      ub_resolve_async(ub_, name.c_str(), type, kClassIn, q.get(), &DnssecProbe::on_result, &id);
  if (rc != 0) return rc;
  q->id = id;
  questions_[id] = std::move(q);
  return 0;
}

void DnssecProbe::on_result(void* data, int err, ub_result* result) {
  auto* q = static_cast<Question*>(data);
  DnssecProbe* self = q->probe;
  if (q->stale) {
    UbResult(result).reset();
    self->questions_.erase(q->id);
    return;
  }
  self->answered_.push_back({q, err, result});
}

void DnssecProbe::on_readable() {
  // Callbacks only collect the answers: a run that ends may destroy this probe, and with it
  // the context, which must not happen inside ub_process().
  const int rc = ub_process(ub_);
  if (rc != 0 && running()) {
    fail(ErrorKind::kInternal, fmt::format("libunbound: {}", ub_strerror(rc)));
    return;
  }
  while (!answered_.empty()) {
    const Answered a = answered_.front();
    answered_.erase(answered_.begin());
    if (handle(a)) return;
  }
}

bool DnssecProbe::handle(Answered a) {
  UbResult result(a.result);
  const auto it = questions_.find(a.question->id);
  if (it == questions_.end()) return false;
  const std::unique_ptr<Question> q = std::move(it->second);
  questions_.erase(it);
  if (!running()) return false;
  if (!q->chain) return on_answer(a.err, result.get());
  return on_chain(*q, a.err, result.get());
}

bool DnssecProbe::on_answer(int err, ub_result* result) {
  answer_us_ = elapsed_us();
  if (err != 0 || result == nullptr) {
    return fail(ErrorKind::kDns,
                fmt::format("libunbound could not resolve {} {} through {}: {}", spec_.record_name,
                            spec_.query, server(), ub_strerror(err)));
  }
  answer_.rcode = result->rcode;
  answer_.havedata = result->havedata != 0;
  answer_.nxdomain = result->nxdomain != 0;
  answer_.secure = result->secure != 0;
  answer_.bogus = result->bogus != 0;
  answer_.why_bogus = result->why_bogus != nullptr ? result->why_bogus : "";
  const std::string_view packet(static_cast<const char*>(result->answer_packet),
                                result->answer_packet != nullptr ? result->answer_len : 0);
  std::string error;
  if (answer_.havedata) {
    if (auto parsed = parse_answers(packet, spec_.record, error)) answers_ = std::move(*parsed);
  }
  if (!answer_.secure || !answer_.havedata) return judge();
  const int64_t now = to_unix_ms(ctx_.clock.wall()) / 1000;
  auto sigs = parse_rrsigs(packet, now, error);
  if (!sigs) {
    chain_note_ = "the answer's signatures could not be read: " + error;
    return judge();
  }
  signatures_ = std::move(*sigs);
  if (spec_.warn_within.count() == 0) return judge();
  // The chain of trust: each zone that signed the answer, up to its anchor.
  std::set<std::string> signers;
  for (const auto& s : signatures_) signers.insert(s.signer);
  for (const auto& zone : signers) {
    if (!ask_chain(zone, kTypeDnskey)) return true;
  }
  return questions_.empty() ? judge() : false;
}

bool DnssecProbe::ask_chain(const std::string& zone, uint16_t type) {
  if (!asked_.insert(fmt::format("{} {}", rr_type_name(type), zone)).second) return true;
  if (asked_.size() > kMaxChainQuestions) {
    chain_note_ =
        fmt::format("the chain was read for {} RRsets and no further", kMaxChainQuestions);
    return true;
  }
  const int rc = ask(zone, type, true);
  if (rc != 0) {
    fail(rc == UB_FORKFAIL || rc == UB_NOMEM || rc == UB_PIPE ? ErrorKind::kResources
                                                              : ErrorKind::kInternal,
         fmt::format("libunbound could not ask: {}", ub_strerror(rc)));
    return false;
  }
  return true;
}

bool DnssecProbe::on_chain(const Question& q, int err, ub_result* result) {
  const std::string what = fmt::format("{} {}", rr_type_name(q.type), q.name);
  if (err != 0 || result == nullptr || result->secure == 0 || result->havedata == 0) {
    // The answer validated through this RRset a moment ago: only a change in between can
    // make it fail now. Its signatures are then not counted, and the detail says so.
    chain_note_ =
        fmt::format("{} was not read as secure ({})", what,
                    err != 0            ? ub_strerror(err)
                    : result == nullptr ? "no result"
                    : result->bogus != 0
                        ? dnssec_bogus_reason(result->why_bogus != nullptr ? result->why_bogus : "")
                        : "insecure or empty");
  } else {
    const std::string_view packet(static_cast<const char*>(result->answer_packet),
                                  result->answer_packet != nullptr ? result->answer_len : 0);
    std::string error;
    const int64_t now = to_unix_ms(ctx_.clock.wall()) / 1000;
    auto sigs = parse_rrsigs(packet, now, error);
    if (!sigs) {
      chain_note_ = fmt::format("the signatures of {} could not be read: {}", what, error);
    } else {
      std::set<std::string> parents;
      for (auto& s : *sigs) {
        if (s.type_covered != q.type) continue;
        if (q.type == kTypeDs) parents.insert(s.signer);
        signatures_.push_back(std::move(s));
      }
      if (q.type == kTypeDnskey && anchor_zones_.count(dnssec_fqdn(q.name)) == 0) {
        if (!ask_chain(q.name, kTypeDs)) return true;
      }
      for (const auto& parent : parents) {
        if (!ask_chain(parent, kTypeDnskey)) return true;
      }
    }
  }
  return questions_.empty() ? judge() : false;
}

bool DnssecProbe::judge() {
  ProbeResult r;
  const int64_t now = to_unix_ms(ctx_.clock.wall()) / 1000;
  std::sort(signatures_.begin(), signatures_.end(), [](const RrsigRecord& a, const RrsigRecord& b) {
    return std::tie(a.expiration, a.owner, a.type_covered, a.key_tag) <
           std::tie(b.expiration, b.owner, b.type_covered, b.key_tag);
  });
  signatures_.erase(std::unique(signatures_.begin(), signatures_.end()), signatures_.end());
  const auto earliest = earliest_expiry(signatures_);
  const DnssecVerdict v = judge_dnssec(spec_, answer_, earliest, now, server());
  r.outcome = v.outcome;
  r.kind = v.kind;
  r.cause = v.cause;
  nlohmann::json sigs = nlohmann::json::array();
  for (const auto& s : signatures_) sigs.push_back(dnssec_signature_json(s));
  nlohmann::json anchors = nlohmann::json::array();
  for (const auto& z : anchor_zones_) anchors.push_back(z);
  nlohmann::json detail{
      {"security", dnssec_security(answer_)},
      {"rcode", dnssec_rcode_name(answer_.rcode)},
      {"why_bogus", answer_.bogus ? nlohmann::json(dnssec_bogus_reason(answer_.why_bogus))
                                  : nlohmann::json(nullptr)},
      {"answers", answers_},
      {"signatures", sigs},
      {"earliest_expiry", earliest ? dnssec_signature_json(*earliest) : nlohmann::json(nullptr)},
      {"resolver", spec_.resolver.empty() ? "system" : spec_.resolver},
      {"trust_anchors", anchors},
  };
  if (!chain_note_.empty()) detail["chain"] = chain_note_;
  // A query written as a secret is also the owner of the answer's signatures.
  r.detail = secrets() != nullptr ? secrets()->apply(detail.dump()) : detail.dump();
  r.timings.dns_us = answer_us_;
  r.timings.total_us = elapsed_us();
  if (answer_us_) r.samples_us.push_back(*answer_us_);
  finish(std::move(r));  // may destroy this
  return true;
}

bool DnssecProbe::fail(ErrorKind kind, std::string cause) {
  ProbeResult r;
  r.outcome = Outcome::kDown;
  r.kind = kind;
  r.cause = std::move(cause);
  finish(std::move(r));  // may destroy this
  return true;
}

ProbeResult DnssecProbe::timed_out() {
  ProbeResult r;
  if (!answer_us_) {
    r.cause = fmt::format("no validated answer for {} {} from {} within {}", spec_.record_name,
                          spec_.query, server(), format_duration(m_.timeout));
  } else {
    std::string waiting;
    for (const auto& [id, q] : questions_) {
      if (!q->stale) waiting = fmt::format("{} {}", rr_type_name(q->type), q->name);
    }
    r.cause = fmt::format("the chain of trust of {} was not read within {} (still waiting for {})",
                          spec_.query, format_duration(m_.timeout), waiting);
    r.timings.dns_us = answer_us_;
  }
  return r;
}

void DnssecProbe::abort() {
  if (poll_ != nullptr) uv_poll_stop(&poll_->handle);
  for (auto& a : answered_) {
    UbResult(a.result).reset();
    questions_.erase(a.question->id);
  }
  answered_.clear();
  for (auto it = questions_.begin(); it != questions_.end();) {
    if (!it->second->stale && ub_cancel(ub_, it->first) == 0) {
      it = questions_.erase(it);
    } else {
      // Being answered already: its callback still comes, and drops it.
      it->second->stale = true;
      ++it;
    }
  }
}

}  // namespace lookout
