#include "alerting/channels/curl_channel.h"

#include <fmt/format.h>

#include <algorithm>

#include "alerting/backoff.h"
#include "core/curl_bridge.h"

namespace lookout {

Transfer::Transfer(CurlBridge& curl, const ChannelConfig& c) : curl_(curl), easy_(curl.acquire()) {
  set_transfer_defaults(easy_, c.timeout, c.ca_file, c.insecure);
  curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &Transfer::on_answer);
  curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, errbuf_);
}

Transfer::~Transfer() {
  curl_.release(easy_);
  curl_slist_free_all(headers_);
  curl_slist_free_all(rcpt_);
}

void Transfer::header(const std::string& h) { headers_ = curl_slist_append(headers_, h.c_str()); }

void Transfer::recipient(const std::string& r) { rcpt_ = curl_slist_append(rcpt_, r.c_str()); }

void Transfer::post(std::string body) {
  body_ = std::move(body);
  curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body_.size()));
  curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, body_.c_str());
}

void Transfer::upload(std::string message) {
  body_ = std::move(message);
  curl_easy_setopt(easy_, CURLOPT_READFUNCTION, &Transfer::on_read);
  curl_easy_setopt(easy_, CURLOPT_READDATA, this);
  curl_easy_setopt(easy_, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(easy_, CURLOPT_MAIL_RCPT, rcpt_);
}

bool Transfer::start(Done done) {
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

std::optional<Duration> Transfer::retry_after() const {
  // libcurl reads both forms the header takes (seconds, or an HTTP date) as seconds from now.
  curl_off_t seconds = 0;
  if (curl_easy_getinfo(easy_, CURLINFO_RETRY_AFTER, &seconds) != CURLE_OK || seconds <= 0)
    return std::nullopt;
  return Duration{static_cast<int64_t>(seconds) * 1000};
}

size_t Transfer::on_answer(char* data, size_t size, size_t n, void* p) {
  auto* self = static_cast<Transfer*>(p);
  const size_t len = size * n;
  if (self->answer_.size() < 512)
    self->answer_.append(data, std::min(len, 512 - self->answer_.size()));
  return len;
}

size_t Transfer::on_read(char* buf, size_t size, size_t n, void* p) {
  auto* self = static_cast<Transfer*>(p);
  // Raw bytes for libcurl, which takes the count returned and no terminator.
  const size_t len = self->body_.copy(buf, size * n, self->read_);
  self->read_ += len;
  return len;
}

CurlChannel::CurlChannel(const ChannelConfig& c, CurlBridge& curl, const Clock& clock,
                         std::string public_url, std::shared_ptr<const Redactor> redactor)
    : c_(c),
      curl_(curl),
      clock_(clock),
      public_url_(std::move(public_url)),
      redactor_(std::move(redactor)) {}

void CurlChannel::run(const Make& make, Judge judge, Done done) {
  auto it = inflight_.emplace(inflight_.end(), std::make_unique<Transfer>(curl_, c_));
  make(**it);
  const bool started = (*it)->start([this, it, judge = std::move(judge), done](
                                        CURLcode code, long status, const std::string& detail) {
    DeliveryOutcome o = judge(code, status, detail);
    // The retry waits for the longer of the answer's Retry-After and a wait the judge read
    // from the body (Telegram, Matrix, Discord): never sooner than either asks.
    if (o.kind == DeliveryOutcome::Kind::kRetry)
      o.retry_after = longer_wait(o.retry_after, (*it)->retry_after());
    if (redactor_) o.detail = redactor_->apply(std::move(o.detail));
    inflight_.erase(it);
    done(std::move(o));
  });
  if (!started) {
    inflight_.erase(it);
    // Never call back inside send(): report on the next turn of the loop.
    curl_.defer([done = std::move(done)] {
      done({DeliveryOutcome::Kind::kRetry, "could not start the transfer"});
    });
  }
}

void CurlChannel::post(const HttpPost& request, Done done) {
  post(request, http_outcome, std::move(done));
}

void CurlChannel::post(const HttpPost& request, Judge judge, Done done) {
  run(
      [&](Transfer& t) {
        curl_easy_setopt(t.easy(), CURLOPT_URL, request.url.c_str());
        curl_easy_setopt(t.easy(), CURLOPT_PROTOCOLS_STR, "http,https");
        if (request.basic_auth) {
          curl_easy_setopt(t.easy(), CURLOPT_USERNAME, request.basic_auth->user.c_str());
          curl_easy_setopt(t.easy(), CURLOPT_PASSWORD, request.basic_auth->password.c_str());
          curl_easy_setopt(t.easy(), CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        }
        for (const auto& h : request.headers) t.header(h);
        t.post(request.body);
        if (request.method != "POST")
          curl_easy_setopt(t.easy(), CURLOPT_CUSTOMREQUEST, request.method.c_str());
      },
      std::move(judge), std::move(done));
}

void CurlChannel::post_each(std::vector<HttpPost> requests, Judge judge, Done done) {
  if (requests.empty()) {
    // Nothing for the provider (Alertmanager has no acknowledgement): done, on the next turn.
    curl_.defer([done = std::move(done)] {
      done({DeliveryOutcome::Kind::kDelivered, "nothing to send"});
    });
    return;
  }
  post_from(std::make_shared<const std::vector<HttpPost>>(std::move(requests)), 0, std::move(judge),
            std::move(done));
}

void CurlChannel::post_from(std::shared_ptr<const std::vector<HttpPost>> requests, size_t i,
                            Judge judge, Done done) {
  const HttpPost& request = (*requests)[i];
  post(request, judge,
       [this, requests, i, judge, done = std::move(done)](DeliveryOutcome o) mutable {
         const size_t n = requests->size();
         if (o.kind == DeliveryOutcome::Kind::kDelivered && i + 1 < n) {
           post_from(std::move(requests), i + 1, std::move(judge), std::move(done));
           return;
         }
         if (n > 1) {
           o.detail = o.kind == DeliveryOutcome::Kind::kDelivered
                          ? fmt::format("{} ({} requests)", o.detail, n)
                          : fmt::format("request {} of {}: {}", i + 1, n, o.detail);
         }
         done(std::move(o));
       });
}

}  // namespace lookout
