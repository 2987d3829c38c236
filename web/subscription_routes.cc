// Subscribing to the status page by email (CONTRACT "Status page: posts, maintenance, feeds,
// subscribers"): the form, the links of the mails, and the admin's count. Every answer about
// an address is the same whether or not it is known; the loop owns the book.
#include <fmt/format.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "web/gated_server.h"
#include "web/server.h"
#include "web/subscribe_pages.h"

namespace lookout {
namespace {

void subscribe_page(httplib::Response& res, int status, SubscribePage which,
                    const std::string& title, const std::string& action = "") {
  res.status = status;
  res.set_content(render_subscribe_page(which, title, action), "text/html; charset=utf-8");
}

// The form's field, from the url-encoded body.
std::string form_email(const httplib::Request& req) {
  if (req.has_param("email")) return req.get_param_value("email");
  httplib::Params params;
  httplib::detail::parse_query_text(req.body, params);
  const auto it = params.find("email");
  return it == params.end() ? std::string() : it->second;
}

void no_answer(httplib::Response& res) {
  res.status = 503;
  res.set_header("Retry-After", "5");
  res.set_content(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>Try again"
      "</title></head><body><p>The daemon did not answer in time or could not record it; try "
      "again.</p></body></html>\n",
      "text/html; charset=utf-8");
}

// Without [subscriptions] these paths do not exist.
bool subscriptions_off(const Snapshot& snap, httplib::Response& res) {
  if (snap.subscriptions) return false;
  res.status = 404;
  return true;
}

}  // namespace

void WebServer::subscription_routes() {
  auto& svr = *svr_;
  svr.Get("/subscribe", [this](const httplib::Request&, httplib::Response& res) {
    const auto snap = snapshots_.get();
    if (subscriptions_off(*snap, res)) return;
    subscribe_page(res, 200, SubscribePage::kForm, snap->title);
  });
  svr.Post("/subscribe", [this](const httplib::Request& req, httplib::Response& res) {
    const auto snap = snapshots_.get();
    if (subscriptions_off(*snap, res)) return;
    const auto& sub = *snap->subscriptions;
    if (const int64_t wait = subscribe_limiter_.check(req.remote_addr, clock_.mono(),
                                                      sub.rate_limit, sub.rate_window);
        wait > 0) {
      res.set_header("Retry-After", std::to_string(wait));
      return subscribe_page(res, 429, SubscribePage::kForm, snap->title);
    }
    const auto email = normalized_email(form_email(req));
    if (!email) return subscribe_page(res, 400, SubscribePage::kBadAddress, snap->title);
    const auto answer = calls_.subscription({SubscriptionCommand::Kind::kSubscribe, *email, 0});
    if (!answer || *answer == SubscriptionAnswer::kUnavailable) return no_answer(res);
    subscribe_page(res, 200, SubscribePage::kCheckInbox, snap->title);
  });

  // The links of the mails. GET changes nothing (mail scanners fetch links): it shows a button
  // that POSTs to the same path.
  auto link = [this](const httplib::Request& req, httplib::Response& res, bool confirm, bool post) {
    const auto snap = snapshots_.get();
    if (subscriptions_off(*snap, res)) return;
    // A cluster's node knows the key its links are signed with once it joined.
    if (snap->subscriptions->key.empty()) return no_answer(res);
    const std::string token = req.matches[1];
    const auto id = confirm ? verify_confirm_token(snap->subscriptions->key, token,
                                                   to_unix_ms(clock_.wall()) / 1000)
                            : verify_unsubscribe_token(snap->subscriptions->key, token);
    if (!id) return subscribe_page(res, 404, SubscribePage::kLinkInvalid, snap->title);
    if (!post) {
      return subscribe_page(res, 200,
                            confirm ? SubscribePage::kConfirm : SubscribePage::kUnsubscribe,
                            snap->title, req.path);
    }
    const auto answer = calls_.subscription(
        {confirm ? SubscriptionCommand::Kind::kConfirm : SubscriptionCommand::Kind::kUnsubscribe,
         "", *id});
    if (!answer || *answer == SubscriptionAnswer::kUnavailable) return no_answer(res);
    if (confirm && *answer != SubscriptionAnswer::kDone)
      return subscribe_page(res, 404, SubscribePage::kLinkInvalid, snap->title);
    // Unsubscribing is idempotent: a second click, or one after the address was erased, says
    // the same.
    subscribe_page(res, 200, confirm ? SubscribePage::kConfirmed : SubscribePage::kUnsubscribed,
                   snap->title);
  };
  const char* confirm_path = R"(/subscribe/confirm/([0-9A-Za-z._-]{1,80}))";
  const char* unsubscribe_path = R"(/unsubscribe/([0-9A-Za-z._-]{1,80}))";
  svr.Get(confirm_path, [link](const httplib::Request& req, httplib::Response& res) {
    link(req, res, true, false);
  });
  svr.Post(confirm_path, [link](const httplib::Request& req, httplib::Response& res) {
    link(req, res, true, true);
  });
  svr.Get(unsubscribe_path, [link](const httplib::Request& req, httplib::Response& res) {
    link(req, res, false, false);
  });
  // RFC 8058: a mail client POSTs "List-Unsubscribe=One-Click" here, without cookies or a
  // login; the page's button POSTs the same way.
  svr.Post(unsubscribe_path, [link](const httplib::Request& req, httplib::Response& res) {
    link(req, res, false, true);
  });

  // The admin sees how many, never who.
  svr.Get("/api/v1/subscribers", [this](const httplib::Request& req, httplib::Response& res) {
    const auto snap = snapshots_.get();
    if (!authorized(req.get_header_value("Authorization"), *snap)) {
      res.status = 401;
      res.set_header("WWW-Authenticate", "Bearer");
      res.set_content(
          nlohmann::json{{"error", "this call needs the admin token: Authorization: Bearer TOKEN"}}
              .dump(),
          "application/json");
      return;
    }
    const size_t confirmed = snap->subscriptions ? snap->subscriptions->confirmed : 0;
    const size_t pending = snap->subscriptions ? snap->subscriptions->pending : 0;
    res.set_content(nlohmann::json{{"confirmed", confirmed}, {"pending", pending}}.dump(),
                    "application/json");
  });
}

}  // namespace lookout
