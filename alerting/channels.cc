// The three channel kinds and the one libcurl transfer they share.
#include "alerting/channels.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <list>
#include <nlohmann/json.hpp>

#include "alerting/message.h"
#include "core/curl_bridge.h"

namespace lookout {

const char* to_string(DeliveryOutcome::Kind k) {
  switch (k) {
    case DeliveryOutcome::Kind::kDelivered:
      return "delivered";
    case DeliveryOutcome::Kind::kRetry:
      return "retry";
    case DeliveryOutcome::Kind::kPermanent:
      return "failed";
  }
  return "retry";
}

namespace {

// One request on the bridge. Owns its easy handle while it runs; `done` gets the curl code,
// the HTTP (or SMTP) response code and the start of the answer.
class Transfer {
 public:
  using Done = std::function<void(CURLcode, long, const std::string&)>;
  Transfer(CurlBridge& curl, const ChannelConfig& c) : curl_(curl), easy_(curl.acquire()) {
    set_transfer_defaults(easy_, c.timeout, c.ca_file, c.insecure);
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &Transfer::on_answer);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, errbuf_);
  }
  ~Transfer() {
    curl_.release(easy_);
    curl_slist_free_all(headers_);
    curl_slist_free_all(rcpt_);
  }
  CURL* easy() { return easy_; }
  void header(const std::string& h) { headers_ = curl_slist_append(headers_, h.c_str()); }
  void recipient(const std::string& r) { rcpt_ = curl_slist_append(rcpt_, r.c_str()); }
  void post(std::string body) {
    body_ = std::move(body);
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body_.size()));
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, body_.c_str());
  }
  void upload(std::string message) {
    body_ = std::move(message);
    curl_easy_setopt(easy_, CURLOPT_READFUNCTION, &Transfer::on_read);
    curl_easy_setopt(easy_, CURLOPT_READDATA, this);
    curl_easy_setopt(easy_, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(easy_, CURLOPT_MAIL_RCPT, rcpt_);
  }
  bool start(Done done) {
    if (headers_ != nullptr) curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers_);
    done_ = std::move(done);
    return curl_.add(easy_, [this](CURLcode code, bool out_of_descriptors) {
      long status = 0;
      curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
      const auto shortage = local_shortage(code, out_of_descriptors, errbuf_);
      const std::string detail = code == CURLE_OK ? answer_
                                 : shortage
                                     ? *shortage
                                     : (errbuf_[0] != '\0' ? errbuf_ : curl_easy_strerror(code));
      Done d = std::move(done_);
      d(code, status, detail);  // may destroy this
    });
  }

 private:
  static size_t on_answer(char* data, size_t size, size_t n, void* p) {
    auto* self = static_cast<Transfer*>(p);
    const size_t len = size * n;
    if (self->answer_.size() < 512)
      self->answer_.append(data, std::min(len, 512 - self->answer_.size()));
    return len;
  }
  static size_t on_read(char* buf, size_t size, size_t n, void* p) {
    auto* self = static_cast<Transfer*>(p);
    const size_t len = std::min(size * n, self->body_.size() - self->read_);
    std::memcpy(buf, self->body_.data() + self->read_, len);
    self->read_ += len;
    return len;
  }

  CurlBridge& curl_;
  CURL* easy_;
  curl_slist* headers_ = nullptr;
  curl_slist* rcpt_ = nullptr;
  std::string body_, answer_;
  size_t read_ = 0;
  char errbuf_[CURL_ERROR_SIZE]{};
  Done done_;
};

DeliveryOutcome http_outcome(CURLcode code, long status, const std::string& detail) {
  if (code != CURLE_OK) return {DeliveryOutcome::Kind::kRetry, detail};
  const std::string what = fmt::format("HTTP {}", status);
  if (status >= 200 && status < 300) return {DeliveryOutcome::Kind::kDelivered, what};
  if (status == 429 || status >= 500 || status == 408) return {DeliveryOutcome::Kind::kRetry, what};
  return {DeliveryOutcome::Kind::kPermanent,
          what + (detail.empty() ? "" : ": " + detail.substr(0, 200))};
}

// What channels share: the transfers in flight, kept until they finish.
class ChannelBase : public Channel {
 public:
  ChannelBase(const ChannelConfig& c, CurlBridge& curl, const Clock& clock, std::string public_url,
              std::shared_ptr<const Redactor> redactor)
      : c_(c),
        curl_(curl),
        clock_(clock),
        public_url_(std::move(public_url)),
        redactor_(std::move(redactor)) {}
  const ChannelConfig& config() const override { return c_; }

 protected:
  using Make = std::function<void(Transfer&)>;
  // Runs one transfer; the outcome is judged by `judge` and passed to `done` on a later turn.
  void run(const Make& make,
           std::function<DeliveryOutcome(CURLcode, long, const std::string&)> judge, Done done) {
    auto it = inflight_.emplace(inflight_.end(), std::make_unique<Transfer>(curl_, c_));
    make(**it);
    const bool started = (*it)->start(
        [this, it, judge, done](CURLcode code, long status, const std::string& detail) {
          DeliveryOutcome o = judge(code, status, detail);
          if (redactor_) o.detail = redactor_->apply(std::move(o.detail));
          inflight_.erase(it);
          done(std::move(o));
        });
    if (!started) {
      inflight_.erase(it);
      // Never call back inside send(): report on the next turn of the loop.
      curl_.defer([done] {
        done({DeliveryOutcome::Kind::kRetry, "could not start the transfer"});
      });
    }
  }

  ChannelConfig c_;
  CurlBridge& curl_;
  const Clock& clock_;
  std::string public_url_;
  std::shared_ptr<const Redactor> redactor_;
  std::list<std::unique_ptr<Transfer>> inflight_;
};

class WebhookChannel final : public ChannelBase {
 public:
  using ChannelBase::ChannelBase;
  void send(const std::vector<OutboxRow>& rows, Done done) override {
    const std::string body = webhook_body(rows, clock_.wall(), public_url_);
    run(
        [&](Transfer& t) {
          curl_easy_setopt(t.easy(), CURLOPT_URL, c_.url.reveal().c_str());
          curl_easy_setopt(t.easy(), CURLOPT_PROTOCOLS_STR, "http,https");
          t.header("Content-Type: application/json");
          t.header(fmt::format("User-Agent: lookout/{}", LOOKOUT_VERSION));
          t.header("Idempotency-Key: " + notification_id(rows));
          t.header("X-Lookout-Event: " + notification_event(rows));
          if (c_.secret)
            t.header("X-Lookout-Signature: " + webhook_signature(c_.secret->reveal(), body));
          for (const auto& [k, v] : c_.headers) t.header(k + ": " + v.reveal());
          t.post(body);
        },
        http_outcome, std::move(done));
  }
};

std::string form_escape(CURL* easy, const std::string& s) {
  char* e = curl_easy_escape(easy, s.c_str(), static_cast<int>(s.size()));
  std::string out = e != nullptr ? e : "";
  curl_free(e);
  return out;
}

class SmsChannel final : public ChannelBase {
 public:
  using ChannelBase::ChannelBase;
  void send(const std::vector<OutboxRow>& rows, Done done) override {
    send_part(rows.front().recipient, sms_messages(rows, public_url_), 0, std::move(done));
  }

 private:
  void send_part(const std::string& recipient, std::vector<std::string> parts, size_t i,
                 Done done) {
    const std::string text = parts[i];
    run(
        [&](Transfer& t) {
          if (c_.provider == "twilio") {
            std::string base = c_.url.reveal();
            while (!base.empty() && base.back() == '/') base.pop_back();
            const std::string url =
                fmt::format("{}/2010-04-01/Accounts/{}/Messages.json", base, c_.account->reveal());
            curl_easy_setopt(t.easy(), CURLOPT_URL, url.c_str());
            curl_easy_setopt(t.easy(), CURLOPT_USERNAME, c_.account->reveal().c_str());
            curl_easy_setopt(t.easy(), CURLOPT_PASSWORD, c_.token->reveal().c_str());
            curl_easy_setopt(t.easy(), CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
            t.header("Content-Type: application/x-www-form-urlencoded");
            t.post(fmt::format("To={}&From={}&Body={}", form_escape(t.easy(), recipient),
                               form_escape(t.easy(), c_.from), form_escape(t.easy(), text)));
          } else {
            curl_easy_setopt(t.easy(), CURLOPT_URL, c_.url.reveal().c_str());
            if (c_.token) t.header("Authorization: Bearer " + c_.token->reveal());
            t.header("Content-Type: application/json");
            auto quoted = [](const std::string& s) {
              const std::string j = nlohmann::json(s).dump();
              return j.substr(1, j.size() - 2);
            };
            std::string body = c_.body_template.empty()
                                   ? R"({"to":"{{to}}","from":"{{from}}","message":"{{message}}"})"
                                   : c_.body_template;
            for (const auto& [key, value] :
                 {std::pair<std::string, std::string>{"{{to}}", recipient},
                  {"{{from}}", c_.from},
                  {"{{message}}", text}}) {
              for (size_t p = body.find(key); p != std::string::npos; p = body.find(key, p + 1)) {
                body.replace(p, key.size(), quoted(value));
              }
            }
            t.post(body);
          }
          curl_easy_setopt(t.easy(), CURLOPT_PROTOCOLS_STR, "http,https");
        },
        http_outcome,
        [this, recipient, parts, i, done](DeliveryOutcome o) {
          if (o.kind != DeliveryOutcome::Kind::kDelivered || i + 1 == parts.size()) {
            done(std::move(o));
          } else {
            send_part(recipient, parts, i + 1, done);
          }
        });
  }
};

class EmailChannel final : public ChannelBase {
 public:
  using ChannelBase::ChannelBase;
  void send(const std::vector<OutboxRow>& rows, Done done) override {
    const std::string message = email_message(c_, rows, public_url_, clock_.wall());
    run(
        [&](Transfer& t) {
          curl_easy_setopt(t.easy(), CURLOPT_URL, c_.smtp_url.reveal().c_str());
          curl_easy_setopt(t.easy(), CURLOPT_PROTOCOLS_STR, "smtp,smtps");
          if (c_.smtp_url.reveal().rfind("smtp://", 0) == 0) {
            curl_easy_setopt(t.easy(), CURLOPT_USE_SSL,
                             c_.starttls ? static_cast<long>(CURLUSESSL_ALL)
                                         : static_cast<long>(CURLUSESSL_NONE));
          }
          if (c_.username)
            curl_easy_setopt(t.easy(), CURLOPT_USERNAME, c_.username->reveal().c_str());
          if (c_.password)
            curl_easy_setopt(t.easy(), CURLOPT_PASSWORD, c_.password->reveal().c_str());
          curl_easy_setopt(t.easy(), CURLOPT_MAIL_FROM, fmt::format("<{}>", c_.from).c_str());
          for (const auto& r : c_.to) t.recipient(fmt::format("<{}>", r));
          t.upload(message);
        },
        [](CURLcode code, long status, const std::string& detail) -> DeliveryOutcome {
          if (code == CURLE_OK)
            return {DeliveryOutcome::Kind::kDelivered, fmt::format("SMTP {}", status)};
          // Wrong credentials or a server without the TLS we require do not fix themselves.
          if (code == CURLE_LOGIN_DENIED || code == CURLE_USE_SSL_FAILED)
            return {DeliveryOutcome::Kind::kPermanent, detail};
          return {DeliveryOutcome::Kind::kRetry, detail};
        },
        std::move(done));
  }
};

}  // namespace

std::unique_ptr<Channel> make_channel(const ChannelConfig& c, CurlBridge& curl, const Clock& clock,
                                      std::string public_url,
                                      std::shared_ptr<const Redactor> redactor) {
  switch (c.type) {
    case ChannelType::kWebhook:
      return std::make_unique<WebhookChannel>(c, curl, clock, std::move(public_url),
                                              std::move(redactor));
    case ChannelType::kSms:
      return std::make_unique<SmsChannel>(c, curl, clock, std::move(public_url),
                                          std::move(redactor));
    case ChannelType::kEmail:
      return std::make_unique<EmailChannel>(c, curl, clock, std::move(public_url),
                                            std::move(redactor));
  }
  return nullptr;
}

}  // namespace lookout
