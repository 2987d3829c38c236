// What `lookout audit` reads from an app: a page's scripts, secrets in them, and the headers and
// cookies it judges. The input is the body; its first lines double as header values.
#include <cstddef>
#include <cstdint>
#include <string>

#include "audit/secret_scan.h"
#include "audit/url.h"
#include "audit/web_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lookout::audit;
  const std::string body(reinterpret_cast<const char*>(data), size);
  const PageScripts scripts = find_scripts(body);
  for (const auto& src : scripts.sources) (void)resolve_url("https://a.example/app/", src);
  for (const auto& f : scan_for_secrets(body)) {
    if (f.masked.size() > 4 + std::string("…").size()) __builtin_trap();
  }
  const std::string line = body.substr(0, body.find('\n'));
  lookout::HttpObservation obs;
  obs.status = 200;
  obs.body = body;
  obs.headers = {{"Strict-Transport-Security", line},
                 {"Content-Security-Policy", line},
                 {"X-Frame-Options", line},
                 {"Referrer-Policy", line},
                 {"Server", line},
                 {"Access-Control-Allow-Origin", line},
                 {"Access-Control-Allow-Credentials", "true"},
                 {"Location", line}};
  (void)judge_hsts(obs);
  (void)judge_csp(obs);
  (void)judge_frame_protection(obs);
  (void)judge_referrer_policy(obs);
  (void)judge_version_leak(obs);
  (void)judge_cors(obs, "https://lookout-audit.invalid");
  (void)judge_cookies({{"/", line}, {"/x", body}}, 2);
  Fetched f;
  f.url = "http://a.example/";
  f.responded = true;
  f.obs = obs;
  f.obs.status = 301;
  (void)judge_redirect(f, "a.example", false);
  (void)refusal_leak(body);
  (void)exposed_file("/.env", f, f);
  return 0;
}
