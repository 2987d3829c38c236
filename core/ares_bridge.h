// c-ares on the libuv loop: the channel's socket-state callback starts and stops uv_poll
// watchers, one uv_timer follows ares_timeout(), and answers come back as raw DNS messages.
// No lookup ever blocks the loop. One channel per dns monitor, since each may ask its own
// resolver.
#pragma once

#include <ares.h>
#include <sys/socket.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/event_loop.h"
#include "core/source_address.h"

namespace lookout {

class AresChannel {
 public:
  // status is an ARES_* code, or kOutOfDescriptors; `message` the raw answer when one came
  // (also for NXDOMAIN).
  using Done = std::function<void(int status, std::string message)>;
  // No socket could be opened for the question: the process is at its descriptor limit.
  static constexpr int kOutOfDescriptors = -1;

  AresChannel(EventLoop& loop, Duration try_timeout, int tries);
  ~AresChannel();
  AresChannel(const AresChannel&) = delete;
  AresChannel& operator=(const AresChannel&) = delete;

  // `servers` as "IP:port" / "[IPv6]:port"; empty: the system's resolvers. False with `error`.
  bool init(const std::string& servers, std::string& error);
  // Questions go out from `source` (after init()); the dns monitors' questions are what they
  // check, so they follow [cluster] source_address.
  void ask_from(const SourceAddress& source);
  // One question, no search list. `done` runs once on the loop unless cancel() comes first.
  void query(const std::string& name, int type, Done done);
  // The addresses of a host name, as getaddrinfo gives them (/etc/hosts first, then DNS; a
  // literal address comes back as itself), in the order to try. `family` is AF_UNSPEC,
  // AF_INET or AF_INET6; `port` is set in each address (0 for none, as ICMP has). `status` as
  // for query().
  using Resolved = std::function<void(int status, std::vector<sockaddr_storage> addresses)>;
  void resolve(const std::string& host, int family, uint16_t port, Resolved done);
  // Drops every pending question without calling its `done`.
  void cancel();

 private:
  struct Watch;
  struct Pending;
  struct PendingLookup;
  static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable);
  static void on_answer(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
  static void on_addrinfo(void* arg, int status, int timeouts, ares_addrinfo* result);
  void hand_out(std::function<void()> f);
  void process(ares_socket_t read_fd, ares_socket_t write_fd);
  void arm_timer();

  EventLoop& loop_;
  Duration try_timeout_;
  int tries_;
  ares_channel channel_ = nullptr;
  std::unordered_map<ares_socket_t, Watch*> watches_;
  Timer timer_;
  // Answers are handed out on the next turn, outside c-ares's own call stack: an owner may
  // destroy this channel from its callback.
  std::vector<std::function<void()>> ready_;
  Timer ready_timer_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  uint64_t generation_ = 0;  // answers of questions asked before the last cancel() are dropped
};

// A host written as an IPv4 or IPv6 address, as a socket address with `port`: it needs no
// lookup, nor a channel to ask one. nullopt for a name.
std::optional<sockaddr_storage> literal_address(const std::string& host, uint16_t port);

}  // namespace lookout
