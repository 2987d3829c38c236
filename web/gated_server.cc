#include "web/gated_server.h"

#include <sys/socket.h>

namespace lookout {
namespace {

// The accept loop calls enqueue for each socket; running the task at once keeps the loop's
// only work to accept and hand over.
class InlineTaskQueue : public httplib::TaskQueue {
 public:
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override {}
};

}  // namespace

GatedServer::GatedServer(const GateLimits& limits)
    : gate_(limits, [this](httplib::Stream& strm, bool close_connection, bool& connection_closed) {
        // The gate already answered 100 Continue where the client asked and holds the whole
        // body: cpp-httplib must not send a second one.
        return process_request(strm, close_connection, connection_closed,
                               [](httplib::Request& req) { req.headers.erase("Expect"); });
      }) {
  new_task_queue = [] { return new InlineTaskQueue; };
  gate_.start();
}

GatedServer::~GatedServer() {
  stop();
  gate_.stop();
}

void GatedServer::deepen_backlog() {
  const socket_t sock = svr_sock_;
  if (sock != INVALID_SOCKET) ::listen(sock, SOMAXCONN);
}

void GatedServer::stop_gate() { gate_.stop(); }

bool GatedServer::process_and_close_socket(socket_t sock) {
  gate_.admit(sock);
  return true;
}

}  // namespace lookout
