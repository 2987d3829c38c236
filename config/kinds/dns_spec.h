// The dns kind: one question to a resolver, its answers judged against a baseline or an
// expectation, or read as a mail policy (SPF, DMARC, DKIM) (probes/dns_probe).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"

namespace lookout {

enum class MailCheck { kNone, kSpf, kDmarc, kDkim };
const char* to_string(MailCheck c);

// A resolver as written ("IP", "IP:port", "[IPv6]:port") in the "IP:port" / "[IPv6]:port" form
// c-ares takes; false when it is not an address.
bool parse_resolver(const std::string& text, std::string& out);

struct DnsCheck {
  std::string query;    // the name asked for (with `check`, derived from the mail domain)
  uint16_t record = 1;  // the RR type number (ns_t_a ...)
  std::string record_name = "A";
  std::string resolver;  // "IP:port" for c-ares; empty: the system's resolvers
  bool alert_on_change = true;
  std::optional<std::vector<std::string>> expect_answers;  // normalised, sorted
  std::optional<Secret> expect_contains;
  MailCheck check = MailCheck::kNone;
  bool operator==(const DnsCheck&) const = default;
};

struct DnsSpec : SpecOf<DnsSpec> {
  DnsCheck dns;
  bool operator==(const DnsSpec&) const = default;
};

// The question a baseline was taken for ("A portal.acme.example"): a baseline kept for another
// question is dropped, since the config asks something else now.
std::string dns_question(const DnsSpec& d);
// The dns spec of a monitor held to a baseline (on_change = "alert"); nullptr for any other.
const DnsSpec* baseline_spec(const MonitorConfig& m);

}  // namespace lookout
