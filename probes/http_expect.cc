#include "probes/http_expect.h"

#include <fmt/format.h>
#include <re2/re2.h>
#include <strings.h>

#include "core/text.h"
#include "core/units.h"

namespace lookout {
namespace {

std::string describe_rule(const StatusRule& r) {
  if (r.lo == r.hi) return std::to_string(r.lo);
  return fmt::format("{}xx", r.lo / 100);
}

// Keeps text quoted in a cause short, so a cause stays one line.
std::string quote(const std::string& s) { return "\"" + shorten(s, 60, "...") + "\""; }
std::string quote(const Secret& s) {
  return s.is_secret() ? std::string(kSecretInCause) : quote(s.reveal());
}

const std::string* find_header(const HttpObservation& obs, const std::string& name) {
  const std::string* found = nullptr;
  for (const auto& [k, v] : obs.headers) {
    if (strcasecmp(k.c_str(), name.c_str()) == 0) found = &v;  // the last one wins, as in a browser
  }
  return found;
}

bool json_equal(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_number_float() || b.is_number_float()) return a.get<double>() == b.get<double>();
    if (a.is_number_unsigned() && b.is_number_unsigned())
      return a.get<uint64_t>() == b.get<uint64_t>();
    if (a.is_number_unsigned() || b.is_number_unsigned()) {
      const auto& u = a.is_number_unsigned() ? a : b;
      const auto& s = a.is_number_unsigned() ? b : a;
      return s.get<int64_t>() >= 0 && static_cast<uint64_t>(s.get<int64_t>()) == u.get<uint64_t>();
    }
    return a.get<int64_t>() == b.get<int64_t>();
  }
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!json_equal(a[i], b[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto other = b.find(it.key());
      if (other == b.end() || !json_equal(it.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

// A response value for a cause. Structured values are summarised: dumping one would recurse
// as deep as a hostile body nests.
std::string describe_value(const nlohmann::json& v) {
  if (v.is_array()) return fmt::format("an array of {} items", v.size());
  if (v.is_object()) return fmt::format("an object with {} keys", v.size());
  return shorten(v.dump(), 60, "...");
}

}  // namespace

std::string describe_status(const std::vector<StatusRule>& rules) {
  std::string out;
  for (size_t i = 0; i < rules.size(); ++i) {
    if (i > 0) out += (i + 1 == rules.size()) ? " or " : ", ";
    out += describe_rule(rules[i]);
  }
  return out;
}

Verdict evaluate(const HttpExpect& expect, const HttpObservation& obs) {
  std::vector<std::string> failures;

  bool status_ok = false;
  for (const auto& r : expect.status)
    status_ok = status_ok || (obs.status >= r.lo && obs.status <= r.hi);
  if (!status_ok)
    failures.push_back(
        fmt::format("expected status {}, got {}", describe_status(expect.status), obs.status));

  if (expect.body_contains && obs.body.find(expect.body_contains->reveal()) == std::string::npos) {
    failures.push_back(fmt::format("body does not contain {}", quote(*expect.body_contains)));
  }
  if (expect.body_regex && !RE2::PartialMatch(obs.body, *expect.body_regex)) {
    failures.push_back(expect.body_regex_secret
                           ? fmt::format("body does not match {}", kSecretInCause)
                           : fmt::format("body does not match /{}/", expect.body_regex->pattern()));
  }
  if (!expect.json.empty()) {
    auto doc = nlohmann::json::parse(obs.body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
      failures.emplace_back("body is not valid JSON");
    } else {
      for (const auto& [ptr, want] : expect.json) {
        const nlohmann::json::json_pointer p(ptr);
        // nlohmann 3.11.2's contains() throws, instead of answering false, for a token that is
        // not an index into an array ("/" or "/x" on a list): found by fuzzing.
        const nlohmann::json* found = nullptr;
        try {
          if (doc.contains(p)) found = &doc.at(p);
        } catch (const nlohmann::json::exception&) {
        }
        if (found == nullptr) {
          failures.push_back(fmt::format("no {} in body", ptr));
          continue;
        }
        const auto& got = *found;
        if (!json_equal(got, want)) {
          failures.push_back(fmt::format("{} is {}, expected {}", ptr, describe_value(got),
                                         shorten(want.dump(), 60, "...")));
        }
      }
    }
  }
  for (const auto& [name, needle] : expect.headers) {
    const std::string* v = find_header(obs, name);
    if (v == nullptr) {
      failures.push_back(fmt::format("header {} is missing", name));
    } else if (v->find(needle.reveal()) == std::string::npos) {
      failures.push_back(fmt::format("header {} is {}, expected it to contain {}", name, quote(*v),
                                     quote(needle)));
    }
  }

  if (!failures.empty()) {
    std::string cause = failures.front();
    for (size_t i = 1; i < failures.size(); ++i) cause += "; " + failures[i];
    return {Outcome::kDown, ErrorKind::kExpectation, cause};
  }
  if (expect.max_latency && obs.total > *expect.max_latency) {
    return {Outcome::kDegraded, ErrorKind::kSlow,
            fmt::format("took {}, above expect.max_latency {}", format_duration(obs.total),
                        format_duration(*expect.max_latency))};
  }
  return {};
}

}  // namespace lookout
