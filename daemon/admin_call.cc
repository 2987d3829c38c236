#include "daemon/admin_call.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <array>
#include <cstdio>
#include <memory>

namespace lookout {
namespace {

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// "sha256//<base64 of the SHA-256 of the certificate's public key>", libcurl's pin syntax; ""
// when the file holds no certificate (the config check has read it before, so this is rare).
std::string key_pin(const std::string& cert_file) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(cert_file.c_str(), "r"), &std::fclose);
  if (!f) return {};
  std::unique_ptr<X509, void (*)(X509*)> cert(PEM_read_X509(f.get(), nullptr, nullptr, nullptr),
                                              &X509_free);
  if (!cert) return {};
  unsigned char* der = nullptr;
  const int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert.get()), &der);
  if (len <= 0) return {};
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(der, static_cast<size_t>(len), digest.data());
  OPENSSL_free(der);
  std::array<unsigned char, 4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1> b64{};
  EVP_EncodeBlock(b64.data(), digest.data(), static_cast<int>(digest.size()));
  return "sha256//" + std::string(reinterpret_cast<const char*>(b64.data()));
}

}  // namespace

std::string AdminAnswer::refusal() const {
  const std::string why = json.is_object() && json.contains("error") && json["error"].is_string()
                              ? json["error"].get<std::string>()
                              : body;
  return fmt::format("{} (HTTP {})", why, status);
}

AdminAnswer call_daemon(const Config& config, const std::string& config_path,
                        const std::string& method, const std::string& path,
                        const std::string& json_body) {
  AdminAnswer a;
  if (!config.server.admin_token) {
    a.error = fmt::format("{}: this needs server.admin_token in the config", config_path);
    return a;
  }
  std::string host = config.server.listen_host;
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  const bool tls = !config.server.tls_cert.empty();
  const std::string url =
      fmt::format("{}://{}:{}{}", tls ? "https" : "http", host, config.server.listen_port, path);
  const std::string auth = "Authorization: Bearer " + config.server.admin_token->reveal();
  const std::string pin = tls ? key_pin(config.server.tls_cert) : std::string();
  if (tls && pin.empty()) {
    a.error = fmt::format("{}: cannot read the public key of server.tls_cert {}", config_path,
                          config.server.tls_cert);
    return a;
  }

  CURL* e = curl_easy_init();
  curl_slist* headers = curl_slist_append(nullptr, auth.c_str());
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  if (method == "POST") {
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, json_body.c_str());
  } else if (method != "GET") {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  if (tls) {
    // The pin proves it is this daemon; name and chain checks would fail on a loopback address.
    curl_easy_setopt(e, CURLOPT_PINNEDPUBLICKEY, pin.c_str());
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10'000L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &a.body);
  const CURLcode code = curl_easy_perform(e);
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &a.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(e);
  if (code != CURLE_OK) {
    a.error =
        fmt::format("cannot reach the daemon at {}: {} (is lookout running with this config?)", url,
                    curl_easy_strerror(code));
    return a;
  }
  a.json = nlohmann::json::parse(a.body, nullptr, false);
  return a;
}

}  // namespace lookout
