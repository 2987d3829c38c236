// Shared helpers of the config loader: typed reads of TOML nodes that record FILE:LINE:COL
// errors instead of throwing, secret resolution, and the [defaults] layering. Internal to
// config/; each monitor kind's keys are parsed in a file of its own (config/kinds/).
#pragma once

#include <fmt/format.h>
#include <toml++/toml.h>

#include <initializer_list>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "config/http_request.h"

namespace re2 {
class RE2;
}

namespace lookout::config_detail {

class Parser {
 public:
  Parser(std::string file, const EnvLookup& env, std::vector<ConfigError>& errors,
         Redactor& redactor, std::vector<ConfigError>& inline_secrets)
      : file_(std::move(file)),
        env_(env),
        errors_(errors),
        redactor_(redactor),
        inline_secrets_(inline_secrets) {}

  void error(const toml::source_region& where, std::string message);
  // A secret's value as lookout rewrites it (lower case, no trailing dot): masked in free text
  // like the value as written.
  void also_secret(const std::string& normalised) { redactor_.add(normalised); }
  void warning(const toml::source_region& where, std::string message);
  const std::string& file() const { return file_; }

  // Typed reads: nullopt (with an error recorded) when the node has the wrong type or value.
  std::optional<Secret> text(const toml::node& n, std::string_view key);
  // A value that is a credential (a token, a password): text() that also notes where it is
  // written inline rather than as ${env:..} or ${file:..}.
  std::optional<Secret> credential(const toml::node& n, std::string_view key);
  // credential() that is masked in logs and causes even when written inline (a provider's key,
  // a URL with a token in it), as one from ${env:..} is.
  std::optional<Secret> masked_credential(const toml::node& n, std::string_view key);
  // Records an error unless `url` starts with one of `schemes` and then names a host.
  void check_url(const toml::node& n, std::string_view key, const Secret& url,
                 std::initializer_list<std::string_view> schemes);
  // credential() for a header or form field whose name says it carries one (Authorization,
  // X-Api-Key, password, token...), else text().
  std::optional<Secret> named_value(const toml::node& n, std::string_view name,
                                    std::string_view key);
  std::optional<std::string> plain_text(const toml::node& n,
                                        std::string_view key);  // secrets refused
  std::optional<bool> boolean(const toml::node& n, std::string_view key);
  std::optional<int64_t> integer(const toml::node& n, std::string_view key, int64_t lo, int64_t hi);
  std::optional<Duration> duration(const toml::node& n, std::string_view key);
  std::optional<uint64_t> size(const toml::node& n, std::string_view key);
  std::optional<std::vector<std::string>> string_list(const toml::node& n, std::string_view key);
  // "COUNT/UNIT", a token bucket of COUNT per second, minute or hour ("10/m"): false (with an
  // error recorded) when it is not.
  bool rate(const toml::node& n, std::string_view key, int& count, Duration& window);
  // A word from a fixed list, as its value; an error names the words.
  template <typename T>
  std::optional<T> one_of(const toml::node& n, std::string_view key,
                          std::initializer_list<std::pair<std::string_view, T>> words) {
    auto v = plain_text(n, key);
    if (!v) return std::nullopt;
    std::string listed;
    size_t i = 0;
    for (const auto& [word, value] : words) {
      if (*v == word) return value;
      listed += fmt::format("{}\"{}\"", i == 0 ? "" : i + 1 == words.size() ? " or " : ", ", word);
      ++i;
    }
    error(n.source(), fmt::format("{} \"{}\" is not {}", key, *v, listed));
    return std::nullopt;
  }

  // Records an error for every key of `table` not in `known`, with a "did you mean" hint.
  void check_keys(const toml::table& table, std::string_view section,
                  const std::set<std::string>& known);

 private:
  std::string file_;
  const EnvLookup& env_;
  std::vector<ConfigError>& errors_;
  Redactor& redactor_;
  std::vector<ConfigError>& inline_secrets_;
};

// The items of an array, or the node itself: where a list is expected, one value may stand
// alone (notify = "ops-email", expect.status = 200), as people write it.
std::vector<const toml::node*> list_items(const toml::node& n);

// A monitor's keys looked up first in its own table, then in [defaults].
struct Layers {
  const toml::table* monitor = nullptr;
  const toml::table* defaults = nullptr;
  const toml::node* get(std::string_view dotted) const;
};

// The closest of `candidates` to `word` when it is close enough to be a typo, else "".
std::string suggest(std::string_view word, const std::set<std::string>& candidates);

// toml value -> JSON, for expect.json.
nlohmann::json to_json(const toml::node& n);

struct KindParser;
// Keys every monitor kind accepts; all the keys of one kind; those of every kind.
const std::set<std::string>& common_monitor_keys();
std::set<std::string> monitor_keys(const KindParser& kind);
std::set<std::string> any_monitor_keys();
const std::set<std::string>& http_expect_keys();
const std::set<std::string>& slo_keys();
// Checks the keys of a sub-table (expect, slo) of a monitor or of [defaults]. The monitor's
// own are checked against its kind; [defaults] once, against every kind (a default a kind does
// not use is ignored).
void check_sub_keys(Parser& p, const toml::table* t, const std::string& prefix,
                    const std::set<std::string>& keys);
// expect.* and slo.* of [defaults], against every kind's keys.
void check_defaults_sub_keys(Parser& p, const toml::table& defaults);

const std::set<std::string>& alerting_monitor_keys();
void parse_monitor_alerting(Parser& p, const Layers& layers, MonitorConfig& m);
// [[channel]], [[route]], [[maintenance]] and their references; after the monitors.
void parse_alerting(Parser& p, const toml::table& root, Config& config);

// [cluster], and a monitor's `locations` (config_cluster.cc).
std::optional<ClusterConfig> parse_cluster(Parser& p, const toml::table& t);
void parse_monitor_locations(Parser& p, const Layers& layers, MonitorConfig& m);
// `locations` without [cluster]: a warning at each, since nothing reads them.
void warn_locations_unused(Parser& p, const toml::table& root);

// One request (url, method, headers, body and the options below); `what` names it in errors.
void parse_http_request(Parser& p, const Layers& layers, const toml::table& where,
                        std::string_view what, const std::string& monitor, HttpRequest& h,
                        std::string& host);
// headers = { Name = "value" }: names without blanks or colons, values without line breaks,
// a credential's value (Authorization, X-Api-Key...) secret.
void parse_request_headers(Parser& p, const toml::node& n,
                           std::vector<std::pair<std::string, Secret>>& headers);
// ca_file (a readable file) and insecure (with its warning), for every kind that speaks TLS.
void parse_tls_trust(Parser& p, const Layers& layers, const std::string& monitor,
                     std::string& ca_file, bool& insecure);
// ca_file, insecure, follow_redirects, max_redirects, max_body.
void parse_http_request_options(Parser& p, const Layers& layers, const std::string& monitor,
                                HttpRequest& h);
void parse_http_expect(Parser& p, const Layers& layers, HttpExpect& e);
void parse_slo(Parser& p, const Layers& layers, MonitorConfig& m);

// A pattern of the config (expect.body_regex, extract regex), compiled as every user pattern
// is: RE2, linear in the text it runs on, its errors returned instead of logged. Null with
// `error` set when it does not compile.
std::shared_ptr<const re2::RE2> compile_pattern(const std::string& pattern, std::string& error);

}  // namespace lookout::config_detail
