// A stand-in for the on-call and chat providers lookout notifies: one HTTP server on loopback
// that speaks each provider's documented wire format on the paths the channels use, checks the
// credentials and the request shape the provider requires, and answers a wrong request the way
// the provider does (so a channel that sends a wrong shape fails its test). It records every
// request per provider, keeps the state a provider keeps where the channels rely on it (Matrix
// transaction ids, PagerDuty dedup keys, Opsgenie aliases, Pushover receipts), and can be told
// to answer the next requests of a provider with 429 or a 5xx to exercise retries.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace lookout::testing {

enum class Provider {
  kPagerDuty,
  kOpsgenie,
  kSlack,
  kTeams,
  kDiscord,
  kTelegram,
  kMatrix,
  kNtfy,
  kPushover,
  kAlertmanager,
  kGotify,
  kUnmatched,  // a request on a path no provider serves (answered 404)
};
const char* name(Provider p);  // the channel type: "pagerduty", ...; "unmatched"

// What the server accepts. Each value has the provider's own format (PagerDuty routing keys
// are 32 characters, Pushover keys 30, Gotify application tokens start with A) and a
// distinctive text, so a test can look for it where it must never show.
struct ProviderSecrets {
  std::string pagerduty_routing_key = "R0utingKeyCanaryPd7f3a91c2e54b06";
  std::string opsgenie_api_key = "0c4a7e2d-c4na-4f1b-9e8d-0psgenieCanary";
  // An Opsgenie key that is valid but not an API integration's: 403 like Opsgenie.
  std::string opsgenie_user_key = "5b1f0a3c-d2e4-4c6a-8b9d-0psgenieUser";
  std::string slack_secret = "slackCanaryPath9Xq3Lm27VtB4";   // the last part of the webhook path
  std::string teams_sig = "teamsCanarySig8Hq2Wn5ZrK1";        // the sig= of the Workflows URL
  std::string discord_token = "discordCanaryTok3Jd8Pq1LxYv";  // the last part of the webhook path
  std::string telegram_token = "7310045221:AAtelegramCanary0Vh4Km7Pz2Rb9QwEx7Y";
  std::string telegram_chat = "-1001234567890";
  std::string matrix_token = "syt_bWF0cml4_matrixCanaryTok_2Hc8Uq";
  std::string matrix_room = "!lookoutRoom:localhost";
  std::string ntfy_topic = "lookout-oncall";
  std::string ntfy_token = "tk_ntfyCanary7Gx2Mb9Qs4Lw1Ze6RAb";  // empty: the topic is open
  std::string pushover_token = "aPushoverCanaryAppTok3n8Dk3WqZ";
  std::string pushover_user = "uPushoverCanaryUserK3y4Hs9Ln2X";
  std::string alertmanager_user = "am-sender";  // empty: no basic auth
  std::string alertmanager_password = "amCanaryPassw0rd6Fw1Jt8";
  std::string gotify_token = "AgotifyCanary9K";
};

struct ProviderRequest {
  Provider provider = Provider::kUnmatched;
  std::chrono::steady_clock::time_point at;  // when it arrived
  std::string method;
  std::string path;    // decoded, without the query
  std::string target;  // as sent: path and query, still percent-encoded
  httplib::Headers headers;
  std::multimap<std::string, std::string> params;  // query and form fields
  std::string body;
  int status = 0;          // what the server answered
  std::string answer;      // the body it answered
  bool injected = false;   // answered by fail_next(), not by the provider's logic
  bool duplicate = false;  // the provider de-duplicated it (Matrix txn id, PagerDuty dedup_key
                           // of an open alert, Opsgenie alias of an open alert)

  std::string header(const std::string& key) const;  // "" when absent
  // The header as ntfy (or a mail client) reads it: RFC 2047 encoded words decoded.
  std::string header_text(const std::string& key) const;
  std::string param(const std::string& key) const;  // "" when absent
  nlohmann::json json() const;                      // the body parsed; discarded when not JSON
  bool accepted() const { return status >= 200 && status < 300 && !injected; }
};

// One message as a Matrix room shows it: a repeated transaction id does not add one.
struct MatrixEvent {
  std::string txn_id;
  std::string event_id;
  nlohmann::json content;
};

class ProviderServer {
 public:
  explicit ProviderServer(ProviderSecrets secrets = {});
  ProviderServer(const ProviderServer&) = delete;
  ProviderServer& operator=(const ProviderServer&) = delete;

  int port() const { return server_.port(); }
  const ProviderSecrets& secrets() const { return secrets_; }
  // Every credential above, for tests that check none of them leaks.
  std::vector<std::string> credentials() const;

  // The `url` of a channel pointing here. API-base providers (pagerduty, opsgenie, telegram,
  // matrix, pushover, alertmanager, gotify) take base(); the webhook ones their whole URL.
  std::string base() const;
  std::string slack_url() const;
  std::string teams_url() const;
  std::string discord_url() const;
  std::string ntfy_url() const;

  // Every request the provider got, in order of arrival; accepted() keeps those it took.
  std::vector<ProviderRequest> requests(Provider p) const;
  std::vector<ProviderRequest> accepted(Provider p) const;
  size_t count(Provider p) const;
  // The messages of the Matrix room, one per transaction id, in order.
  std::vector<MatrixEvent> matrix_room() const;
  // Whether a Pushover emergency receipt was cancelled (by receipt or by one of its tags).
  bool pushover_cancelled(const std::string& receipt) const;

  // How fail_next() answers: `status` (429 or a 5xx) in the provider's own words. With
  // `retry_after_s`, the header Retry-After: S and, for Telegram, Matrix and Discord, the
  // provider's own hint in the body (parameters.retry_after, retry_after_ms, retry_after);
  // `header = false` leaves only that hint. With `after_processing` the provider acts on the
  // request first, as when a proxy times out after the provider took it.
  struct Failure {
    int status = 503;
    std::optional<int> retry_after_s = std::nullopt;
    bool header = true;
    // The hint in the body when it differs from the header (seconds; Matrix in ms of them).
    std::optional<int> hint_s = std::nullopt;
    bool after_processing = false;
  };
  // The next `n` requests of `p` fail so.
  void fail_next(Provider p, int n, Failure f);
  void stop_failing(Provider p);

 private:
  struct Fault {
    int remaining = 0;
    Failure failure;
  };
  struct Answer {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    bool duplicate = false;
  };
  using Logic = Answer (ProviderServer::*)(const httplib::Request&);

  void route(const std::string& method, const std::string& pattern, Provider p, Logic logic);
  void handle(Provider p, Logic logic, const httplib::Request& req, httplib::Response& res);
  std::optional<Fault> take_fault(Provider p);
  static Answer fault_answer(Provider p, const Failure& f);

  Answer pagerduty(const httplib::Request& req);
  Answer pagerduty_change(const httplib::Request& req);
  Answer opsgenie_create(const httplib::Request& req);
  Answer opsgenie_action(const httplib::Request& req);
  Answer slack(const httplib::Request& req);
  Answer teams(const httplib::Request& req);
  Answer discord(const httplib::Request& req);
  Answer telegram(const httplib::Request& req);
  Answer matrix(const httplib::Request& req);
  Answer ntfy(const httplib::Request& req);
  Answer pushover_message(const httplib::Request& req);
  Answer pushover_cancel(const httplib::Request& req);
  Answer pushover_cancel_by_tag(const httplib::Request& req);
  Answer alertmanager(const httplib::Request& req);
  Answer gotify(const httplib::Request& req);
  Answer unmatched(const httplib::Request& req);
  std::optional<Answer> opsgenie_auth(const httplib::Request& req);
  std::string made_up_id();  // unique within the server, like the providers' request ids

  const ProviderSecrets secrets_;
  mutable std::mutex mu_;
  std::vector<ProviderRequest> log_;
  std::map<Provider, Fault> faults_;
  std::atomic<uint64_t> serial_{0};                     // for the ids the providers make up
  std::set<std::string> pagerduty_open_;                // triggered, not resolved
  std::map<std::string, std::string> opsgenie_alerts_;  // alias -> "open", "acked", "closed"
  std::map<std::string, std::string> matrix_txns_;      // txn id -> event id
  std::vector<MatrixEvent> matrix_room_;
  std::map<std::string, std::vector<std::string>> pushover_receipts_;  // receipt -> its tags
  std::set<std::string> pushover_cancelled_;
  TargetServer server_;  // last: it stops, and no handler runs, before the state above goes
};

}  // namespace lookout::testing
