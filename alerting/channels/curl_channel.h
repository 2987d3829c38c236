// The I/O every channel shares: one libcurl transfer on the loop's multi, and the base class
// that keeps its transfers in flight until they finish, redacts what they report and never
// reports inside send().
#pragma once

#include <curl/curl.h>

#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alerting/channels/channel.h"
#include "alerting/channels/http_delivery.h"
#include "core/clock.h"
#include "core/secret.h"

namespace lookout {

class CurlBridge;

// One request on the bridge. Owns its easy handle while it runs; `done` gets the curl code,
// the HTTP (or SMTP) response code and the start of the answer.
class Transfer {
 public:
  using Done = std::function<void(CURLcode, long, const std::string&)>;
  Transfer(CurlBridge& curl, const ChannelConfig& c);
  ~Transfer();
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  CURL* easy() { return easy_; }
  // The answer's Retry-After, once the transfer is done and the answer had one.
  std::optional<Duration> retry_after() const;
  void header(const std::string& h);
  void recipient(const std::string& r);
  void post(std::string body);
  void upload(std::string message);
  bool start(Done done);

 private:
  static size_t on_answer(char* data, size_t size, size_t n, void* p);
  static size_t on_read(char* buf, size_t size, size_t n, void* p);

  CurlBridge& curl_;
  CURL* easy_;
  curl_slist* headers_ = nullptr;
  curl_slist* rcpt_ = nullptr;
  std::string body_, answer_;
  size_t read_ = 0;
  char errbuf_[CURL_ERROR_SIZE]{};
  Done done_;
};

class CurlChannel : public Channel {
 public:
  CurlChannel(const ChannelConfig& c, CurlBridge& curl, const Clock& clock, std::string public_url,
              std::shared_ptr<const Redactor> redactor);
  const ChannelConfig& config() const override { return c_; }

 protected:
  using Make = std::function<void(Transfer&)>;
  using Judge = std::function<DeliveryOutcome(CURLcode, long, const std::string&)>;
  // Runs one transfer set up by `make`; the outcome is judged by `judge` and passed to `done`
  // on a later turn. A judge that finds the provider's wait in the answer's body sets
  // retry_after; an answer's Retry-After header counts when it asks for longer.
  void run(const Make& make, Judge judge, Done done);
  // Sends `request` over http or https, judged by http_outcome, or by `judge` for a provider
  // whose success is more than a 2xx (Telegram's "ok": true).
  void post(const HttpPost& request, Done done);
  void post(const HttpPost& request, Judge judge, Done done);
  // Sends `requests` one after the other, each once the one before was delivered: the outcome
  // is the first that was not (naming which of them) or, when all were, the last; with none,
  // delivered ("nothing to send") on a later turn.
  void post_each(std::vector<HttpPost> requests, Judge judge, Done done);

  const Clock& clock() const { return clock_; }
  const std::string& public_url() const { return public_url_; }

 private:
  void post_from(std::shared_ptr<const std::vector<HttpPost>> requests, size_t i, Judge judge,
                 Done done);

  ChannelConfig c_;
  CurlBridge& curl_;
  const Clock& clock_;
  std::string public_url_;
  std::shared_ptr<const Redactor> redactor_;
  std::list<std::unique_ptr<Transfer>> inflight_;
};

}  // namespace lookout
