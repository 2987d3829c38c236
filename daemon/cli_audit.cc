// `lookout audit`: checks the arguments, runs the audit, prints the scorecard and writes the
// monitors that keep it true.
#include <fmt/format.h>
#include <re2/re2.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "audit/audit.h"
#include "audit/config_writer.h"
#include "audit/report.h"
#include "config/kinds/dns_spec.h"
#include "config/kinds/journey_spec.h"
#include "core/units.h"
#include "daemon/cli.h"

namespace lookout {
namespace {

constexpr size_t kMaxPrivatePaths = 20;

std::string today(WallTime now) { return rfc3339(now).substr(0, 10); }

size_t terminal_width() {
  if (const char* c = std::getenv("COLUMNS")) {
    try {
      return std::clamp<size_t>(std::stoul(c), 80, 400);
    } catch (const std::exception&) {
    }
  }
  return 140;
}

// The options, or a message naming what is wrong.
std::optional<audit::AuditOptions> options_of(const AuditArgs& a, std::string& error) {
  audit::AuditOptions o;
  o.url = a.url;
  o.http_url = a.http_url;
  o.journey_file = a.journey;
  o.mail_domain = a.mail_domain;
  o.dkim_selectors = a.dkim_selectors;
  o.latency_samples = a.latency_samples;
  static const RE2 domain(R"re([A-Za-z0-9]([A-Za-z0-9\-]{0,62}\.)*[A-Za-z0-9\-]{1,63}\.?)re");
  static const RE2 selector(R"re([A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*)re");
  if (a.private_paths.size() > kMaxPrivatePaths) {
    error = fmt::format("at most {} --private paths", kMaxPrivatePaths);
    return std::nullopt;
  }
  for (const auto& p : a.private_paths) {
    if (p.empty() || p.front() != '/') {
      error = fmt::format("--private \"{}\" must be a path starting with /", p);
      return std::nullopt;
    }
  }
  o.private_paths = a.private_paths;
  if (!a.rate_limit_path.empty()) {
    if (a.rate_limit_path.front() != '/') {
      error = fmt::format("--rate-limit-check \"{}\" must be a path starting with /",
                          a.rate_limit_path);
      return std::nullopt;
    }
    o.rate_limit_path = a.rate_limit_path;
  }
  if (!a.mail_domain.empty() && !RE2::FullMatch(a.mail_domain, domain)) {
    error = fmt::format("--mail-domain \"{}\" is not a DNS name", a.mail_domain);
    return std::nullopt;
  }
  if (!a.dkim_selectors.empty() && a.mail_domain.empty()) {
    error = "--dkim-selector needs --mail-domain";
    return std::nullopt;
  }
  for (const auto& s : a.dkim_selectors) {
    if (!RE2::FullMatch(s, selector)) {
      error = fmt::format("--dkim-selector \"{}\" is not a DKIM selector", s);
      return std::nullopt;
    }
  }
  if (!a.resolver.empty() && !parse_resolver(a.resolver, o.resolver)) {
    error = fmt::format("--resolver \"{}\" is not IP, IP:port or [IPv6]:port", a.resolver);
    return std::nullopt;
  }
  if (!a.ca_file.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(a.ca_file, ec) || access(a.ca_file.c_str(), R_OK) != 0) {
      error = fmt::format("--ca-file {} is not a readable file", a.ca_file);
      return std::nullopt;
    }
    o.ca_file = std::filesystem::absolute(a.ca_file).string();
  }
  if (a.latency_samples < 1 || a.latency_samples > 100) {
    error = "--latency-samples must be between 1 and 100";
    return std::nullopt;
  }
  for (const auto& [flag, text, out] :
       {std::tuple<const char*, const std::string&, Duration*>{"--latency-budget", a.latency_budget,
                                                               &o.latency_budget},
        {"--timeout", a.timeout, &o.timeout}}) {
    const DurationParse d = parse_duration(text);
    if (!d.value || d.value->count() <= 0) {
      error = fmt::format("{} \"{}\": {}", flag, text,
                          d.error.empty() ? "must be more than 0" : d.error);
      return std::nullopt;
    }
    *out = *d.value;
  }
  if (a.mx_port < 1 || a.mx_port > 65535) {
    error = "--mx-port must be between 1 and 65535";
    return std::nullopt;
  }
  o.mx_port = static_cast<uint16_t>(a.mx_port);
  return o;
}

}  // namespace

int cmd_audit(const AuditArgs& a) {
  std::string error;
  const auto options = options_of(a, error);
  std::optional<audit::Targets> targets;
  if (options) targets = audit::derive_targets(*options, error);
  if (!targets) {
    std::cerr << "lookout audit: " << error << "\n";
    return 2;
  }
  std::optional<LoadResult> journey;
  std::string journey_text;
  if (!a.journey.empty()) {
    journey = load_config(a.journey);
    print_config_errors(*journey);
    if (!journey->ok()) return 2;
    const auto& ms = journey->config->monitors;
    if (std::none_of(ms.begin(), ms.end(),
                     [](const MonitorConfig& m) { return m.spec_if<JourneySpec>() != nullptr; })) {
      std::cerr << fmt::format(
          "{}: no monitor of type \"journey\" in it; --journey takes a config with journey "
          "monitors\n",
          a.journey);
      return 2;
    }
    std::ifstream in(a.journey);
    journey_text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  SystemClock clock;
  const audit::AuditReport report =
      audit::run_audit(*options, *targets, journey ? &*journey->config : nullptr, clock);
  if (a.json) {
    std::cout << audit::to_json(report).dump(2) << "\n";
  } else {
    std::cout << audit::render_table(report, terminal_width());
  }
  if (!a.write_config.empty()) {
    const std::string text = audit::write_config(
        *options, report, audit::journey_monitors_toml(journey_text), today(clock.wall()));
    std::ofstream out(a.write_config, std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      std::cerr << fmt::format("lookout audit: cannot write {}: {}\n", a.write_config,
                               std::strerror(errno));
      return 2;
    }
    std::cerr << fmt::format("wrote {}: check it with `lookout check -c {}`\n", a.write_config,
                             a.write_config);
  }
  return audit::exit_code(report.checks);
}

}  // namespace lookout
