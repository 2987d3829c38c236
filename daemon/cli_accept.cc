// `lookout accept NAME`: asks the running daemon (server.listen, with the admin token) to take
// a dns monitor's current answers as its baseline.
#include <curl/curl.h>
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "config/config.h"
#include "config/kinds/dns_spec.h"
#include "daemon/cli.h"

namespace lookout {
namespace {

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

}  // namespace

int cmd_accept(const std::string& config_path, const std::string& monitor) {
  const LoadResult loaded = load_config(config_path);
  print_config_errors(loaded);
  if (!loaded.ok()) return 2;
  const Config& config = *loaded.config;
  const MonitorConfig* m = config.find(monitor);
  if (m == nullptr || m->spec_if<DnsSpec>() == nullptr) {
    std::cerr << fmt::format("{}: no dns monitor named \"{}\"\n", config_path, monitor);
    return 1;
  }
  if (!config.server.admin_token) {
    std::cerr << fmt::format("{}: accepting needs server.admin_token in the config\n", config_path);
    return 1;
  }
  // A daemon listening on every address is reached on loopback.
  std::string host = config.server.listen_host;
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  const std::string url = fmt::format("http://{}:{}/api/v1/monitors/{}/accept", host,
                                      config.server.listen_port, monitor);
  const std::string auth = "Authorization: Bearer " + config.server.admin_token->reveal();

  CURL* e = curl_easy_init();
  curl_slist* headers = curl_slist_append(nullptr, auth.c_str());
  std::string body;
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_POST, 1L);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10'000L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
  const CURLcode code = curl_easy_perform(e);
  long status = 0;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(e);
  if (code != CURLE_OK) {
    std::cerr << fmt::format(
        "cannot reach the daemon at {}: {} (is lookout running with this config?)\n", url,
        curl_easy_strerror(code));
    return 1;
  }
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (status != 200) {
    const std::string why =
        j.is_object() && j.contains("error") ? j["error"].get<std::string>() : body;
    std::cerr << fmt::format("{}: not accepted: {} (HTTP {})\n", monitor, why, status);
    return 1;
  }
  std::cout << fmt::format("{}: accepted {} answers as the new baseline\n", monitor,
                           j.is_object() && j.contains("answers") ? j["answers"].size() : 0);
  if (j.is_object() && j.contains("answers")) {
    for (const auto& a : j["answers"]) std::cout << "  " << a.get<std::string>() << "\n";
  }
  return 0;
}

}  // namespace lookout
