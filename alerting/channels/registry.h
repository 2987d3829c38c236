// Every kind of channel, in one table: how to make it and who gets a notification of their
// own. A new kind is its file pair beside this one, a line in the table, its tests and its docs.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/channels/channel.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/secret.h"

namespace lookout {

class CurlBridge;

struct ChannelKind {
  using Factory = std::unique_ptr<Channel> (*)(const ChannelConfig& c, CurlBridge& curl,
                                               const Clock& clock, std::string public_url,
                                               std::shared_ptr<const Redactor> redactor);
  std::string_view type;  // as in the config: type = "TYPE"
  Factory make;
  // Each recipient gets messages of their own (an SMS goes to one number), so an event makes
  // an outbox row per recipient; otherwise one row, and one message that names them all.
  bool row_per_recipient;
  // Whether an acknowledgement in lookout means anything to the provider: Alertmanager has no
  // acknowledgement, so an ack makes no notification for it.
  bool takes_acknowledgement = true;
};

// The entry for `type`; every type the config accepts has one (std::logic_error otherwise).
const ChannelKind& channel_kind(std::string_view type);

std::unique_ptr<Channel> make_channel(const ChannelConfig& c, CurlBridge& curl, const Clock& clock,
                                      std::string public_url,
                                      std::shared_ptr<const Redactor> redactor);

// The recipient of each outbox row an event makes for this channel: each of `to`, or a single
// empty one.
std::vector<std::string> row_recipients(const ChannelConfig& c);

// Whether an event makes a notification for this channel: an acknowledgement does not for a
// provider without one, a post's event not for a type that takes no posts
// (channel_takes_posts).
bool channel_takes(const ChannelConfig& c, std::string_view event);

}  // namespace lookout
