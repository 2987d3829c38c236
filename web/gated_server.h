// cpp-httplib's Server with the accept gate in front of its workers (plain HTTP): the listen
// thread only accepts and hands each socket to the gate; cpp-httplib then parses, routes and
// answers complete requests on the gate's workers.
#pragma once

#include <httplib.h>

#include <memory>

#include "web/accept_gate.h"

namespace lookout {

class GatedServer : public httplib::Server {
 public:
  explicit GatedServer(const GateLimits& limits);
  ~GatedServer() override;

  // After bind_to_port: a deeper accept queue than cpp-httplib's 5, so that a burst of
  // connections waits in the kernel rather than being dropped before the gate can judge it.
  void deepen_backlog();
  // After stop() and the listen thread's end.
  void stop_gate();
  GateCounts counts() const { return gate_.counts(); }

 private:
  // Runs on the listen thread (the task queue runs tasks inline): never blocks.
  bool process_and_close_socket(socket_t sock) override;

  AcceptGate gate_;
};

}  // namespace lookout
