// The ping probe: the host resolved through c-ares (its first address), then `count` ICMP
// echoes 200 ms apart from one non-blocking socket watched with uv_poll on the loop, each
// reply's round trip taken from the monotonic time its echo left. Replies are awaited until
// shortly before the run's timeout, or until every echo is answered; then the loss and the
// median round trip are judged (probes/ping_verdict.h).
#pragma once

#include <sys/socket.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/kinds/ping_spec.h"
#include "core/ares_bridge.h"
#include "probes/ping_socket.h"
#include "probes/probe_session.h"

namespace lookout {

class PingProbe final : public ProbeSession {
 public:
  PingProbe(const MonitorConfig& m, ProbeContext& ctx, std::shared_ptr<const Redactor> redactor);
  ~PingProbe() override;

 private:
  struct Watch;

  bool begin() override;
  void abort() override;
  ProbeResult timed_out() override;

  void on_resolved(int status, std::vector<sockaddr_storage> addresses);
  // Opens the socket and pings `target`.
  void send_echoes(const sockaddr_storage& target);
  void send_echo();
  void on_readable();
  int received() const;
  void judge();
  void fail(ErrorKind kind, std::string cause);
  void close_socket();

  const PingSpec& spec_;  // m_'s
  std::unique_ptr<AresChannel> resolver_;
  Timer send_timer_;
  Timer listen_timer_;
  Watch* watch_ = nullptr;
  int fd_ = -1;
  IcmpFamily family_ = IcmpFamily::kV4;
  IcmpSocketType socket_type_ = IcmpSocketType::kNone;
  sockaddr_storage target_{};
  std::string address_;  // target_ as text, empty until resolved
  uint16_t id_;          // a raw socket's echo id; a datagram socket's kernel sets its own
  // Sequence numbers go on across runs, so a late reply to an earlier run's echo matches none
  // of this run's.
  uint16_t next_seq_ = 0;
  uint16_t first_seq_ = 0;
  std::vector<MonoTime> sent_at_;             // by seq - first_seq_
  std::vector<std::optional<int64_t>> rtts_;  // the same index; nullopt: no reply (yet)
  std::optional<int64_t> dns_us_;
  std::string send_error_;  // the last failed send's reason
};

}  // namespace lookout
