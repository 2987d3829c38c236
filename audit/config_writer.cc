#include "audit/config_writer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include <algorithm>
#include <sstream>

#include "audit/url.h"
#include "audit/web_checks.h"
#include "core/units.h"

namespace lookout::audit {
namespace {

bool passed(const std::vector<CheckResult>& checks, std::string_view id) {
  return std::any_of(checks.begin(), checks.end(),
                     [&](const CheckResult& c) { return c.id == id && c.result == Result::kPass; });
}

// A monitor name part: lower case letters, digits and dashes.
std::string slug(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    const char l = static_cast<char>(std::tolower(c));
    if ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9')) {
      out += l;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "root" : out;
}

class Writer {
 public:
  explicit Writer(std::string prefix) : prefix_(std::move(prefix)) {}
  // Starts a [[monitor]] with a unique name made of the prefix and `what`.
  void monitor(const std::string& comment, std::string_view what, std::string_view type,
               const std::string& group) {
    std::string name = prefix_ + "-" + slug(what);
    for (int n = 2; std::find(names_.begin(), names_.end(), name) != names_.end(); ++n)
      name = fmt::format("{}-{}-{}", prefix_, slug(what), n);
    names_.push_back(name);
    out_ << fmt::format("\n# {}\n[[monitor]]\nname = {}\ntype = {}\ngroup = {}\n", comment,
                        toml_quote(name), toml_quote(type), toml_quote(group));
  }
  void line(std::string_view key, const std::string& value) {
    out_ << key << " = " << value << "\n";
  }
  void raw(const std::string& text) { out_ << text; }
  std::string str() const { return out_.str(); }
  size_t count() const { return names_.size(); }

 private:
  std::string prefix_;
  std::vector<std::string> names_;
  std::ostringstream out_;
};

std::string inline_table(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::vector<std::string> parts;
  parts.reserve(kv.size());
  for (const auto& [k, v] : kv)
    parts.push_back(fmt::format("{} = {}", toml_quote(k), toml_quote(v)));
  return fmt::format("{{ {} }}", fmt::join(parts, ", "));
}

}  // namespace

std::string toml_quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += fmt::format("\\u{:04X}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::vector<std::pair<std::string, std::string>> kept_headers(
    const HttpObservation& page, const std::vector<CheckResult>& checks) {
  std::vector<std::pair<std::string, std::string>> out;
  auto first = [&](std::string_view name) {
    const auto v = header_values(page, name);
    return v.empty() ? std::string() : v.front();
  };
  if (passed(checks, "hsts")) out.emplace_back("Strict-Transport-Security", "max-age=");
  if (passed(checks, "nosniff")) out.emplace_back("X-Content-Type-Options", "nosniff");
  const std::string csp = first("Content-Security-Policy");
  if (passed(checks, "csp") && !csp.empty()) {
    // The policy's first directive name: the header must stay, with the same shape.
    out.emplace_back("Content-Security-Policy", csp.substr(0, csp.find_first_of(" ;")));
  }
  if (passed(checks, "frame_protection")) {
    if (csp.find("frame-ancestors") != std::string::npos) {
      if (!passed(checks, "csp")) out.emplace_back("Content-Security-Policy", "frame-ancestors");
    } else if (const std::string xfo = first("X-Frame-Options"); !xfo.empty()) {
      out.emplace_back("X-Frame-Options", xfo);
    }
  }
  if (passed(checks, "referrer_policy")) {
    if (const std::string rp = first("Referrer-Policy"); !rp.empty())
      out.emplace_back("Referrer-Policy", rp);
  }
  return out;
}

std::string journey_monitors_toml(std::string_view config_text) {
  toml::table parsed;
  try {
    parsed = toml::parse(config_text);
  } catch (const toml::parse_error&) {
    return "";
  }
  const toml::array* monitors = parsed["monitor"].as_array();
  if (monitors == nullptr) return "";
  toml::array journeys;
  for (const auto& m : *monitors) {
    const auto* t = m.as_table();
    if (t != nullptr && t->get("type") != nullptr &&
        t->get("type")->value_or(std::string()) == "journey")
      journeys.push_back(*t);
  }
  if (journeys.empty()) return "";
  toml::table root;
  root.insert("monitor", std::move(journeys));
  std::ostringstream out;
  out << toml::toml_formatter(
      root, toml::toml_formatter::default_flags & ~toml::format_flags::indentation);
  return out.str() + "\n";
}

std::string write_config(const AuditOptions& o, const AuditReport& r, const std::string& journeys,
                         const std::string& today) {
  const Targets& t = r.targets;
  const auto& checks = r.checks;
  const std::string group = t.host;
  Writer w(slug(t.host));
  auto ca = [&] {
    if (!o.ca_file.empty()) w.line("ca_file", toml_quote(o.ca_file));
  };

  if (passed(checks, "tls_certificate")) {
    w.monitor(
        "The certificate stays valid, names the host and is renewed more than 21 days before "
        "expiry.",
        "certificate", "cert", group);
    w.line("host", toml_quote(t.host));
    w.line("port", std::to_string(t.port));
    ca();
    w.line("interval", toml_quote("1h"));
    w.line("warn_within", toml_quote("30d"));
    w.line("fail_within", toml_quote("21d"));
  }
  if (!t.registered_domain.empty()) {
    // Not an audit check: a lapsed registration takes the whole site down, and nothing else
    // in the config would see it coming.
    w.monitor(fmt::format("The registration of {} is renewed well before it lapses (RDAP, then "
                          "WHOIS).",
                          t.registered_domain),
              "domain", "domain", group);
    w.line("domain", toml_quote(t.registered_domain));
    w.line("interval", toml_quote("12h"));
    w.line("warn_within", toml_quote("30d"));
    w.line("fail_within", toml_quote("7d"));
  }
  if (passed(checks, "dnssec")) {
    w.monitor(fmt::format("{} keeps validating from the root's trust anchor, and no signature of "
                          "its chain runs out unnoticed.",
                          t.host),
              "dnssec", "dnssec", group);
    w.line("query", toml_quote(t.host));
    if (r.facts.dnssec_record != "A") w.line("record", toml_quote(r.facts.dnssec_record));
    if (!o.resolver.empty()) w.line("resolver", toml_quote(o.resolver));
    w.line("interval", toml_quote("15m"));
    w.line("warn_within", toml_quote("3d"));
  }
  auto redirect = [&](const char* id, const std::string& url, std::string_view what) {
    if (!passed(checks, id)) return;
    w.monitor(fmt::format("{} keeps redirecting permanently to HTTPS.", url), what, "http", group);
    w.line("url", toml_quote(url));
    w.line("follow_redirects", "false");
    w.line("expect.status", "[301, 308]");
    w.line("expect.headers", inline_table({{"Location", "https://"}}));
  };
  redirect("https_redirect", t.http_url, "https-redirect");
  redirect("https_redirect_www", t.www_http_url, "www-https-redirect");

  const auto headers = kept_headers(r.page, checks);
  if (!headers.empty()) {
    w.monitor("The security headers that passed stay on the page.", "security-headers", "http",
              group);
    w.line("url", toml_quote(t.https_url));
    ca();
    w.line("expect.headers", inline_table(headers));
  }
  for (const auto& [path, status] : r.facts.refused) {
    w.monitor(fmt::format("{} keeps refusing anonymous calls.", path), "private-" + slug(path),
              "http", group);
    w.line("url", toml_quote(resolve_url(t.https_url, path)));
    ca();
    w.line("follow_redirects", "false");
    w.line("expect.status", "[401, 403]");
  }
  if (!journeys.empty()) {
    w.raw(fmt::format(
        "\n# The journeys of {}, as written there: they keep passing, refused steps included.\n",
        o.journey_file));
    w.raw(journeys);
  }
  if (!o.mail_domain.empty()) {
    const std::string resolver = o.resolver.empty() ? "" : toml_quote(o.resolver);
    auto record = [&](const char* id, const char* check, std::string_view what,
                      const std::string& selector) {
      if (!passed(checks, id)) return;
      w.monitor(fmt::format("The {} record of {} stays sound.", what, o.mail_domain), what, "dns",
                group);
      w.line("query", toml_quote(o.mail_domain));
      w.line("check", toml_quote(check));
      if (!selector.empty()) w.line("selector", toml_quote(selector));
      if (!resolver.empty()) w.line("resolver", resolver);
      w.line("interval", toml_quote("5m"));
    };
    record("spf", "spf", "spf", "");
    record("dmarc", "dmarc", "dmarc", "");
    for (const auto& s : o.dkim_selectors)
      record(("dkim:" + s).c_str(), "dkim", "dkim-" + slug(s), s);
    if (passed(checks, "mx_starttls")) {
      w.monitor(
          fmt::format(
              "The MX records of {} do not change unnoticed (`lookout accept` takes a new set).",
              o.mail_domain),
          "mx", "dns", group);
      w.line("query", toml_quote(o.mail_domain));
      w.line("record", toml_quote("MX"));
      if (!resolver.empty()) w.line("resolver", resolver);
      w.line("on_change", toml_quote("alert"));
      w.line("interval", toml_quote("5m"));
      for (const auto& h : r.facts.mx_hosts) {
        w.monitor(fmt::format("{} keeps offering STARTTLS with a valid certificate.", h),
                  "mx-" + slug(h) + "-certificate", "cert", group);
        w.line("host", toml_quote(h));
        w.line("port", std::to_string(o.mx_port));
        w.line("starttls", toml_quote("smtp"));
        ca();
        w.line("interval", toml_quote("1h"));
      }
    }
  }
  if (passed(checks, "latency_p95")) {
    w.monitor(fmt::format("The page's p95 stays under {} over 15 minutes.",
                          format_duration(o.latency_budget)),
              "latency", "latency", group);
    w.line("url", toml_quote(t.https_url));
    ca();
    w.line("samples", "5");
    w.line("slo.p95", toml_quote(format_duration(o.latency_budget)));
    w.line("slo.window", toml_quote("15m"));
  }

  std::string head = fmt::format(
      "# Written by `lookout audit {}` on {}: monitors that keep the audit's passing items true.\n"
      "# Checks that failed are not here: fix them, audit again, and write the config anew.\n"
      "# Add [server], [storage], [[channel]] and [[route]] tables (see config.example.toml), or "
      "copy these\n"
      "# monitors into your config; `lookout check -c FILE` validates it.\n",
      t.https_url, today);
  if (w.count() == 0 && journeys.empty())
    head += "# No check passed, so there is nothing to keep yet.\n";
  return head + w.str();
}

}  // namespace lookout::audit
