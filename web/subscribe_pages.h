// The pages of subscribing by email, none of which needs JavaScript: the form, what it answers
// (the same whether or not the address is known, so nobody learns who subscribed), and the
// pages of the links in the mails, whose GET only shows a button (mail scanners fetch links)
// that POSTs to the same address. Pure.
#pragma once

#include <string>

namespace lookout {

enum class SubscribePage {
  kForm,          // GET /subscribe
  kCheckInbox,    // POST /subscribe, any well-formed address
  kBadAddress,    // POST /subscribe, a malformed one (400), with the form again
  kConfirm,       // GET /subscribe/confirm/TOKEN: the button
  kConfirmed,     // POST /subscribe/confirm/TOKEN
  kUnsubscribe,   // GET /unsubscribe/TOKEN: the button
  kUnsubscribed,  // POST /unsubscribe/TOKEN, done or already
  kLinkInvalid,   // a link whose signature is wrong, or a confirmation link that expired
};

// `title` is the status page's; `action` the path a button POSTs to (the link's own path).
std::string render_subscribe_page(SubscribePage which, const std::string& title,
                                  const std::string& action = "");

}  // namespace lookout
