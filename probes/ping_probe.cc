#include "probes/ping_probe.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>

#include "core/descriptors.h"
#include "core/units.h"
#include "probes/ping_verdict.h"

namespace lookout {
namespace {

constexpr int kPingResolveTries = 2;
// Replies are awaited until this long before the run's deadline, so that the run is judged
// (the lost echoes as lost) rather than cut off as a timeout.
constexpr Duration kPingJudgeMargin{100};
// Datagrams read per wake-up: a flood of foreign ICMP on a raw socket cannot hold the loop.
constexpr int kPingReadsPerWake = 64;
constexpr std::string_view kPingPayload = "lookout echo....";  // 16 bytes, 8-aligned

// Every raw socket sees every echo reply reaching the host: each probe of this process takes
// its own id, from a random start so that two processes seldom share one.
uint16_t ping_next_id() {
  static std::atomic<uint16_t> next{static_cast<uint16_t>(std::random_device{}())};
  return next.fetch_add(1);
}

std::string ping_address_text(const sockaddr_storage& a) {
  char text[INET6_ADDRSTRLEN] = "";
  if (a.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(a).sin_addr, text, sizeof text);
  } else if (a.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(a).sin6_addr, text, sizeof text);
  }
  return text;
}

}  // namespace

struct PingProbe::Watch {
  uv_poll_t poll{};
  PingProbe* owner = nullptr;
};

PingProbe::PingProbe(const MonitorConfig& m, ProbeContext& ctx,
                     std::shared_ptr<const Redactor> redactor)
    : ProbeSession(m, ctx, std::move(redactor)),
      spec_(m.spec_as<PingSpec>()),
      send_timer_(ctx.loop),
      listen_timer_(ctx.loop),
      id_(ping_next_id()) {}

PingProbe::~PingProbe() { close_socket(); }

bool PingProbe::begin() {
  address_.clear();
  sent_at_.clear();
  rtts_.clear();
  dns_us_.reset();
  send_error_.clear();
  if (const auto literal = literal_address(spec_.host, 0)) {
    // An address needs no lookup: no channel (a thousand monitors of addresses would hold a
    // thousand).
    next_turn([this, a = *literal] { send_echoes(a); });
    return true;
  }
  if (!resolver_) {
    auto resolver = std::make_unique<AresChannel>(
        ctx_.loop, std::max(Duration{50}, m_.timeout / (kPingResolveTries + 1)), kPingResolveTries);
    std::string error;
    if (!resolver->init("", error)) {
      spdlog::error("monitor {}: {}", m_.name, error);
      return false;
    }
    resolver_ = std::move(resolver);
  }
  resolver_->resolve(spec_.host, AF_UNSPEC, 0,
                     [this](int status, std::vector<sockaddr_storage> addresses) {
                       on_resolved(status, std::move(addresses));
                     });
  return true;
}

void PingProbe::abort() {
  if (resolver_) resolver_->cancel();
  send_timer_.stop();
  listen_timer_.stop();
  close_socket();
}

void PingProbe::close_socket() {
  if (watch_ != nullptr) {
    // Closing the handle stops the poll at once; its memory goes in the close callback.
    watch_->owner = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&watch_->poll),
             [](uv_handle_t* h) { delete static_cast<Watch*>(h->data); });
    watch_ = nullptr;
  }
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
}

ProbeResult PingProbe::timed_out() {
  ProbeResult r;
  if (address_.empty()) {
    r.cause = fmt::format("timeout after {} resolving {}", format_duration(m_.timeout), spec_.host);
  } else {
    r.cause = fmt::format("timeout after {} ({} of {} echoes answered)",
                          format_duration(m_.timeout), received(), sent_at_.size());
  }
  r.timings.dns_us = dns_us_;
  return r;
}

void PingProbe::on_resolved(int status, std::vector<sockaddr_storage> addresses) {
  dns_us_ = elapsed_us();
  if (status == AresChannel::kOutOfDescriptors) {
    fail(ErrorKind::kResources,
         "lookout is out of file descriptors (it could not open a socket to resolve the host)");
    return;
  }
  if (status == ARES_ENOTFOUND) {
    fail(ErrorKind::kDns, fmt::format("cannot resolve host {}: no such name", spec_.host));
    return;
  }
  if (status == ARES_ETIMEOUT) {
    fail(ErrorKind::kDns,
         fmt::format("cannot resolve host {}: no answer from the DNS server", spec_.host));
    return;
  }
  if (status != ARES_SUCCESS || addresses.empty()) {
    fail(ErrorKind::kDns,
         fmt::format("cannot resolve host {}: {}", spec_.host,
                     status != ARES_SUCCESS ? ares_strerror(status) : "no address"));
    return;
  }
  // From a source address only its family can be pinged.
  ctx_.source.keep_reachable(addresses);
  if (addresses.empty()) {
    fail(ErrorKind::kConnect, ctx_.source.failure(-EAFNOSUPPORT));
    return;
  }
  send_echoes(addresses.front());
}

void PingProbe::send_echoes(const sockaddr_storage& target) {
  target_ = target;
  address_ = ping_address_text(target_);
  family_ = target_.ss_family == AF_INET6 ? IcmpFamily::kV6 : IcmpFamily::kV4;
  const PingPermission& permission = ping_permission();
  socket_type_ = family_ == IcmpFamily::kV4 ? permission.v4 : permission.v6;
  if (socket_type_ == IcmpSocketType::kNone) {
    fail(ErrorKind::kInternal,
         permission.ok()
             ? fmt::format("cannot ping {}: this host cannot open ICMPv6 sockets", address_)
             : permission.problem);
    return;
  }
  fd_ = open_icmp_socket(family_, socket_type_);
  if (fd_ < 0) {
    if (descriptors_exhausted()) {
      fail(ErrorKind::kResources,
           "lookout is out of file descriptors (it could not open a socket)");
    } else {
      fail(ErrorKind::kInternal, fmt::format("cannot open a {} ICMP socket: {}",
                                             to_string(socket_type_), std::strerror(errno)));
    }
    return;
  }
  if (const int bound = ctx_.source.bind(fd_, family_ == IcmpFamily::kV4 ? AF_INET : AF_INET6);
      bound != 0) {
    close_socket();
    fail(ErrorKind::kConnect, ctx_.source.failure(bound));
    return;
  }
  watch_ = new Watch;
  watch_->owner = this;
  watch_->poll.data = watch_;
  if (uv_poll_init_socket(ctx_.loop.raw(), &watch_->poll, fd_) != 0) {
    delete watch_;
    watch_ = nullptr;
    fail(ErrorKind::kInternal, "cannot watch the ICMP socket on the loop");
    return;
  }
  uv_poll_start(&watch_->poll, UV_READABLE, [](uv_poll_t* h, int, int) {
    auto* w = static_cast<Watch*>(h->data);
    // An error on the socket is read (and so cleared) like a datagram.
    if (w->owner != nullptr) w->owner->on_readable();
  });
  first_seq_ = next_seq_;
  // The loop's time may lag behind the clock after a busy turn: the timers count from now.
  uv_update_time(ctx_.loop.raw());
  const Duration margin = std::min(kPingJudgeMargin, m_.timeout / 10);
  listen_timer_.start(std::max(Duration{0}, time_left() - margin), [this] { judge(); });
  send_echo();
  if (spec_.count > 1) send_timer_.start_repeating(kPingInterval, [this] { send_echo(); });
}

void PingProbe::send_echo() {
  if (static_cast<int>(sent_at_.size()) >= spec_.count) {
    send_timer_.stop();
    return;
  }
  const uint16_t seq = next_seq_++;
  const std::string packet = icmp_echo_request(family_, id_, seq, kPingPayload);
  socklen_t len = family_ == IcmpFamily::kV4 ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  sent_at_.push_back(ctx_.clock.mono());
  rtts_.emplace_back();
  const ssize_t n = sendto(fd_, packet.data(), packet.size(), MSG_DONTWAIT,
                           reinterpret_cast<const sockaddr*>(&target_), len);
  // A failed send is an echo lost; the reason goes into the cause if none comes back.
  if (n < 0) send_error_ = std::strerror(errno);
  if (static_cast<int>(sent_at_.size()) >= spec_.count) send_timer_.stop();
}

int PingProbe::received() const {
  return static_cast<int>(
      std::count_if(rtts_.begin(), rtts_.end(), [](const auto& r) { return r.has_value(); }));
}

void PingProbe::on_readable() {
  char buf[2048];
  for (int i = 0; i < kPingReadsPerWake; ++i) {
    sockaddr_storage from{};
    socklen_t from_len = sizeof from;
    const ssize_t n =
        recvfrom(fd_, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      continue;  // an ICMP error reported on the socket: that echo is simply not answered
    }
    const MonoTime now = ctx_.clock.mono();
    const bool raw = socket_type_ == IcmpSocketType::kRaw;
    const auto seq = match_icmp_echo_reply(
        family_, std::string_view(buf, static_cast<size_t>(n)), raw && family_ == IcmpFamily::kV4,
        raw ? std::optional<uint16_t>(id_) : std::nullopt, from, target_);
    if (!seq) continue;
    const auto index = static_cast<uint16_t>(*seq - first_seq_);
    if (index >= sent_at_.size() || rtts_[index]) continue;  // another run's, or a duplicate
    rtts_[index] =
        std::chrono::duration_cast<std::chrono::microseconds>(now - sent_at_[index]).count();
  }
  if (static_cast<int>(sent_at_.size()) == spec_.count && received() == spec_.count) {
    judge();  // may destroy this
  }
}

void PingProbe::judge() {
  std::vector<int64_t> rtts;
  nlohmann::json rtts_ms = nlohmann::json::array();
  for (const auto& r : rtts_) {
    if (r) rtts.push_back(*r);
    rtts_ms.push_back(ms_json(r));
  }
  const int sent = static_cast<int>(sent_at_.size());
  PingVerdict v = judge_ping(sent, rtts, spec_.max_loss, spec_.max_rtt);
  ProbeResult r;
  r.outcome = v.outcome;
  r.kind = v.kind;
  r.cause = std::move(v.cause);
  if (rtts.empty() && !send_error_.empty())
    r.cause += fmt::format(" (cannot send: {})", send_error_);
  r.timings.dns_us = dns_us_;
  if (v.median_rtt_us) {
    r.timings.total_us = v.median_rtt_us;
    r.samples_us = std::move(rtts);
  }
  r.detail = nlohmann::json{{"address", address_},
                            {"socket", to_string(socket_type_)},
                            {"sent", sent},
                            {"received", received()},
                            {"loss_percent", std::round(v.loss_percent * 10) / 10},
                            {"rtts_ms", std::move(rtts_ms)},
                            {"median_rtt_ms", ms_json(v.median_rtt_us)}}
                 .dump();
  finish(std::move(r));  // may destroy this
}

void PingProbe::fail(ErrorKind kind, std::string cause) {
  ProbeResult r;
  r.outcome = Outcome::kDown;
  r.kind = kind;
  r.cause = std::move(cause);
  r.timings.dns_us = dns_us_;
  if (!address_.empty()) {
    r.detail = nlohmann::json{{"address", address_}}.dump();
  }
  finish(std::move(r));  // may destroy this
}

}  // namespace lookout
