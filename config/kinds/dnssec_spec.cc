// The dnssec kind's keys.
#include "config/kinds/dnssec_spec.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "config/kinds/dns_spec.h"  // parse_resolver
#include "config/kinds/registry.h"

namespace lookout {
namespace {

std::string dnssec_upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

bool dnssec_digits(const std::string& s) {
  return !s.empty() && s.size() <= 10 && std::all_of(s.begin(), s.end(), ::isdigit);
}

// A number field of a record within [lo, hi].
bool dnssec_number(const std::string& s, long lo, long hi, long& out) {
  if (!dnssec_digits(s)) return false;
  out = std::stol(s);
  return out >= lo && out <= hi;
}

// A zone name as written, lower case with one trailing dot; "" when it is not a DNS name.
std::string dnssec_zone_name(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (name == ".") return name;
  if (name.empty() || name.front() == '.' || name.size() > 254) return "";
  if (name.back() != '.') name += '.';
  size_t label = 0;
  for (const char c : name) {
    if (c == '.') {
      if (label == 0 || label > 63) return "";
      label = 0;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') {
      ++label;
    } else {
      return "";
    }
  }
  return name;
}

std::vector<std::string> dnssec_split(const std::string& line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    size_t j = i;
    while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

// The rest of a record from `from` on, as one field (a key or digest may be split by spaces).
std::string dnssec_join(const std::vector<std::string>& t, size_t from) {
  std::string out;
  for (size_t i = from; i < t.size(); ++i) out += t[i];
  return out;
}

// One anchor line; "" with `error` when it is not one.
std::optional<TrustAnchor> dnssec_anchor_line(const std::vector<std::string>& t,
                                              std::string& error) {
  TrustAnchor a;
  a.zone = dnssec_zone_name(t[0]);
  if (a.zone.empty()) {
    error = fmt::format("\"{}\" is not a zone name", t[0]);
    return std::nullopt;
  }
  size_t i = 1;
  // An optional TTL and class before the type, as a zone file writes them.
  if (i + 1 < t.size() && dnssec_digits(t[i]) &&
      (dnssec_upper(t[i + 1]) == "IN" || dnssec_upper(t[i + 1]) == "DNSKEY" ||
       dnssec_upper(t[i + 1]) == "DS")) {
    ++i;
  }
  if (i < t.size() && dnssec_upper(t[i]) == "IN") ++i;
  std::string type = "DNSKEY";  // `NAME. FLAGS PROTO ALG KEY`: a DNSKEY without its type
  if (i < t.size() && !dnssec_digits(t[i])) {
    type = dnssec_upper(t[i]);
    if (type != "DNSKEY" && type != "DS") {
      error = fmt::format("expected DNSKEY or DS after {}, got \"{}\"", t[0], t[i]);
      return std::nullopt;
    }
    ++i;
  }
  long a1 = 0, a2 = 0, a3 = 0;
  const std::string rest = dnssec_join(t, i + 3);
  if (type == "DNSKEY") {
    if (t.size() < i + 4) {
      error = fmt::format("the DNSKEY of {} needs FLAGS PROTOCOL ALGORITHM KEY", a.zone);
      return std::nullopt;
    }
    if (!dnssec_number(t[i], 0, 65535, a1) || (a1 & 0x100) == 0) {
      error = fmt::format(
          "DNSKEY flags \"{}\" are not those of a zone key (257 for a KSK, 256 for a ZSK)", t[i]);
      return std::nullopt;
    }
    if (!dnssec_number(t[i + 1], 3, 3, a2)) {
      error = fmt::format("DNSKEY protocol \"{}\" is not 3", t[i + 1]);
      return std::nullopt;
    }
    if (!dnssec_number(t[i + 2], 1, 255, a3)) {
      error = fmt::format("DNSKEY algorithm \"{}\" is not a number from 1 to 255", t[i + 2]);
      return std::nullopt;
    }
    const bool base64 = std::all_of(rest.begin(), rest.end(), [](unsigned char c) {
      return std::isalnum(c) || c == '+' || c == '/' || c == '=';
    });
    if (!base64 || rest.size() % 4 != 0) {
      error = fmt::format("the DNSKEY of {} has a key that is not base64", a.zone);
      return std::nullopt;
    }
  } else {
    if (t.size() < i + 4) {
      error = fmt::format("the DS of {} needs KEYTAG ALGORITHM DIGESTTYPE DIGEST", a.zone);
      return std::nullopt;
    }
    if (!dnssec_number(t[i], 0, 65535, a1)) {
      error = fmt::format("DS key tag \"{}\" is not a number from 0 to 65535", t[i]);
      return std::nullopt;
    }
    if (!dnssec_number(t[i + 1], 1, 255, a2) || !dnssec_number(t[i + 2], 1, 255, a3)) {
      error =
          fmt::format("DS algorithm \"{}\" and digest type \"{}\" must be numbers from 1 to 255",
                      t[i + 1], t[i + 2]);
      return std::nullopt;
    }
    if (rest.size() % 2 != 0 || !std::all_of(rest.begin(), rest.end(), ::isxdigit)) {
      error = fmt::format("the DS of {} has a digest that is not hexadecimal", a.zone);
      return std::nullopt;
    }
  }
  a.record = fmt::format("{} {} {} {} {} {}", a.zone, type, a1, a2, a3, rest);
  return a;
}

}  // namespace

std::optional<std::vector<TrustAnchor>> parse_trust_anchors(const std::string& text,
                                                            std::string& error) {
  std::vector<TrustAnchor> out;
  size_t start = 0;
  int line_no = 0;
  const bool several_lines = text.find('\n') != std::string::npos;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    line = line.substr(0, line.find(';'));
    const auto tokens = dnssec_split(line);
    if (tokens.empty()) continue;
    std::string why;
    auto anchor = dnssec_anchor_line(tokens, why);
    if (!anchor) {
      error = several_lines ? fmt::format("line {}: {}", line_no, why) : why;
      return std::nullopt;
    }
    out.push_back(std::move(*anchor));
  }
  if (out.empty()) {
    error = "holds no record (write NAME. FLAGS PROTOCOL ALGORITHM KEY, or a DNSKEY or DS record)";
    return std::nullopt;
  }
  return out;
}

namespace config_detail {
namespace {

const std::set<std::string>& dnssec_monitor_keys() {
  static const std::set<std::string> keys{"query", "record", "resolver", "trust_anchor",
                                          "warn_within"};
  return keys;
}

const std::set<std::string>& dnssec_no_expect_keys() {
  static const std::set<std::string> keys;
  return keys;
}

std::shared_ptr<const KindSpec> parse_dnssec(Parser& p, const Layers& layers,
                                             const toml::table& where, MonitorConfig& m) {
  auto spec = std::make_shared<DnssecSpec>();
  static const std::map<std::string, uint16_t> kTypes{{"A", 1},     {"NS", 2},   {"CNAME", 5},
                                                      {"SOA", 6},   {"MX", 15},  {"TXT", 16},
                                                      {"AAAA", 28}, {"SRV", 33}, {"CAA", 257}};
  if (const auto* n = layers.get("query")) {
    if (auto v = p.text(*n, "query")) {
      std::string name = v->reveal();
      while (!name.empty() && name.back() == '.') name.pop_back();
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char ch) { return std::tolower(ch); });
      if (v->is_secret()) p.also_secret(name);
      if (dnssec_zone_name(name).empty()) {
        p.error(n->source(), fmt::format("query \"{}\" is not a DNS name", v->shown()));
      }
      spec->query = name;
    }
  } else {
    p.error(where.source(),
            fmt::format("dnssec monitor \"{}\" has no query (the name to validate)", m.name));
  }
  if (const auto* n = layers.get("record")) {
    if (auto v = p.plain_text(*n, "record")) {
      const std::string up = dnssec_upper(*v);
      const auto it = kTypes.find(up);
      if (it == kTypes.end()) {
        p.error(n->source(),
                fmt::format(
                    "record \"{}\" is not one of A, AAAA, CNAME, MX, NS, TXT, SOA, CAA, SRV", *v));
      } else {
        spec->record = it->second;
        spec->record_name = up;
      }
    }
  }
  if (const auto* n = layers.get("resolver")) {
    if (auto v = p.text(*n, "resolver")) {
      if (!parse_resolver(v->reveal(), spec->resolver)) {
        p.error(n->source(),
                fmt::format("resolver \"{}\" is not IP, IP:port or [IPv6]:port", v->shown()));
      }
    }
  }
  m.host = spec->resolver.empty() ? "dns:system" : "dns:" + spec->resolver;
  if (const auto* n = layers.get("trust_anchor")) {
    if (auto v = p.plain_text(*n, "trust_anchor")) {
      std::string error;
      if (auto anchors = parse_trust_anchors(*v, error)) {
        spec->trust_anchors = std::move(*anchors);
      } else {
        p.error(n->source(), "trust_anchor " + error);
      }
    }
  } else {
    spec->trust_anchor_file = kRootTrustAnchorFile;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(spec->trust_anchor_file, ec)) {
      p.error(where.source(),
              fmt::format("dnssec monitor \"{}\" has no trust_anchor, and the root's ({}, in the "
                          "Debian package dns-root-data) is missing",
                          m.name, spec->trust_anchor_file));
    }
  }
  if (const auto* n = layers.get("warn_within")) {
    if (auto v = p.duration(*n, "warn_within")) spec->warn_within = *v;
  }
  return spec;
}

}  // namespace

extern const KindParser kDnssecKind{"dnssec", dnssec_monitor_keys, dnssec_no_expect_keys,
                                    parse_dnssec};

}  // namespace config_detail
}  // namespace lookout
