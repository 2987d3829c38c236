// The matrix channel: a message to one room through the client-server API, as plain text and
// HTML. The message, the request and the reading of the homeserver's answer are pure functions
// (matrix_message, matrix_request, matrix_outcome); MatrixChannel only sends what they make.
#pragma once

#include <string>

#include "alerting/channels/curl_channel.h"
#include "alerting/channels/http_delivery.h"
#include "alerting/message.h"

namespace lookout {

// The m.room.message content: {"msgtype": "m.text", "body": plain text, "format":
// "org.matrix.custom.html", "formatted_body": the same as HTML, every value escaped}. One row:
// the title, monitor, state, since, cause, a context line, the monitor page and, while open,
// the ack link. More: the counts, a line per shown notice, and "... and N more" with the
// status page. A post's event: its title, status, impact, monitors, latest update and its
// page.
std::string matrix_message(const Batch& rows, const std::string& public_url);

// PUT {url}/_matrix/client/v3/rooms/<room_id>/send/m.room.message/<txn id> with the access
// token as a bearer token. The transaction id is the notification's id, so the homeserver
// shows a retried notification once.
HttpPost matrix_request(const ChannelConfig& c, const Batch& rows, const std::string& public_url);

// Delivered on 200 ({"event_id": ...}). A 429 (M_LIMIT_EXCEEDED) is retried no sooner than the
// body's retry_after_ms (the longer of it and Retry-After counts), a 5xx is retried, and any other
// error fails for good with its errcode and error ("M_FORBIDDEN: ...").
DeliveryOutcome matrix_outcome(CURLcode code, long status, const std::string& answer);

class MatrixChannel final : public CurlChannel {
 public:
  using CurlChannel::CurlChannel;
  void send(const std::vector<OutboxRow>& rows, Done done) override;
};

}  // namespace lookout
