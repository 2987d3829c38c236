#include "alerting/cluster_sender.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/units.h"
#include "store/lease_plan.h"

namespace lookout {
namespace {
// Rows claimed in one statement; a full answer claims again at once.
constexpr int kClaimLimit = 100;
// Rows claimed and not yet tried at most: more would only wait past their claims.
constexpr size_t kMaxClaimed = 500;
// The time a claim leaves to start an attempt, beyond the channel's timeout.
constexpr Duration kStartWithin{1000};
}  // namespace

ClusterSender::Leases ClusterSender::leases_of(const LeaseKeeper& keeper) {
  return {[&keeper] { return keeper.deciding(); },
          [&keeper](int shard) { return keeper.life(LeaseSpace::evaluation().lease(shard)); }};
}

Duration ClusterSender::claim_time(const std::vector<ChannelConfig>& channels, Duration lease) {
  Duration longest{0};
  for (const ChannelConfig& c : channels) longest = std::max(longest, c.timeout);
  // The local end is a tenth short of the claim: nine tenths must hold the attempt. A claim is
  // made only from a lease with more than the claim left, and renewals leave four fifths of it
  // at their lowest: half the lease is claimed at any moment.
  return std::min(Duration{((longest + kStartWithin).count() * 10 + 8) / 9}, lease / 2);
}

ClusterSender::ClusterSender(EventLoop& loop, CurlBridge& curl, PgConnection& pg,
                             const Clock& clock, std::string node, Leases leases, Duration every)
    : pg_(pg),
      clock_(clock),
      node_(std::move(node)),
      leases_(std::move(leases)),
      every_(every),
      timer_(loop),
      finish_(loop),
      self_(std::make_shared<ClusterSender*>(this)),
      dispatcher_(loop, curl, clock, [this](DeliveryUpdate u) { delivered(std::move(u)); }) {}

ClusterSender::~ClusterSender() { *self_ = nullptr; }

void ClusterSender::configure(const Config& config, const std::string& ack_key) {
  const Duration lease = config.cluster ? config.cluster->lease : Duration{10'000};
  claim_for_ = claim_time(config.channels, lease);
  Duration longest{0};
  for (const ChannelConfig& c : config.channels) longest = std::max(longest, c.timeout);
  // The local claim is nine tenths of claim_for_; an attempt that does not fit in it starts in
  // its first half.
  const Duration local = claim_for_ - claim_for_ / 10;
  dispatcher_.fit_attempts_within(longest + kStartWithin <= local ? Duration::max() : local / 2);
  if (longest + kStartWithin > local) {
    spdlog::info(
        "cluster: the longest channel timeout ({}) does not fit in a claim of the outbox ({}, half "
        "of cluster.lease): an attempt starts in the first half of its claim and may outlive it, "
        "and after a takeover be sent again with the same id; a lease of {} or more avoids it",
        format_duration(longest), format_duration(claim_for_),
        format_duration(Duration{((longest + kStartWithin).count() * 20 + 8) / 9 + 1000}));
  }
  dispatcher_.sign_acks_with(ack_key);
  dispatcher_.configure(config);
}

void ClusterSender::start() {
  timer_.start_repeating(every_, [this] { tick(); });
  poke();
}

void ClusterSender::poke() {
  want_claim_ = true;
  next();
}

void ClusterSender::stop(std::function<void()> done) {
  stopped_ = true;
  want_claim_ = false;
  done_ = std::move(done);
  dispatcher_.stop();
  settle();
}

void ClusterSender::tick() {
  const MonoTime now = clock_.mono();
  // The dispatcher drops a row whose claim ran out before its turn, without an outcome.
  std::erase_if(claims_, [&](const auto& c) { return c.second.until <= now; });
  const size_t before = reports_.size();
  std::erase_if(reports_, [&](const Report& r) { return r.claim.until <= now; });
  stats_.not_reported += before - reports_.size();
  hold_reports_ = false;
  if (!stopped_) want_claim_ = true;
  next();
  settle();
}

void ClusterSender::next() {
  if (busy_) return;
  if (!reports_.empty() && !hold_reports_) {
    reporting_ = std::move(reports_.front());
    reports_.pop_front();
    const PgStatement s = PgDecisions::report_delivery(
        node_, reporting_->claim.epoch, reporting_->update, to_unix_ms(clock_.wall()));
    busy_ = true;
    pg_.query(s.sql, s.params, [self = self_](const PgResult& answer) {
      if (ClusterSender* c = *self; c != nullptr) c->on_reported(answer);
    });
    return;
  }
  if (want_claim_ && !stopped_) claim();
}

void ClusterSender::claim() {
  want_claim_ = false;
  if (claim_for_ <= Duration{0} || claims_.size() >= kMaxClaimed) return;
  const auto held = leases_.deciding();
  if (held.empty()) return;
  const std::vector<std::pair<int, int64_t>> shards(held.begin(), held.end());
  const size_t asked = std::min<size_t>(kClaimLimit, kMaxClaimed - claims_.size());
  const PgStatement s = PgDecisions::claim(node_, shards, claim_for_, static_cast<int>(asked));
  // Counted from before the server set the claim's end.
  const MonoTime sent = clock_.mono();
  busy_ = true;
  pg_.query(s.sql, s.params, [self = self_, sent, asked](const PgResult& answer) {
    if (ClusterSender* c = *self; c != nullptr) c->on_claimed(answer, sent, asked);
  });
}

void ClusterSender::on_claimed(const PgResult& answer, MonoTime sent, size_t asked) {
  busy_ = false;
  auto rows = PgDecisions::claimed(answer);
  if (!rows) {
    failed(answer, "claim notifications");
    next();
    return;
  }
  last_error_.clear();
  stats_.claimed += rows->size();
  const MonoTime until = sent + claim_for_ - claim_for_ / 10;
  const MonoTime now = clock_.mono();
  std::vector<ClaimedRow> handed;
  handed.reserve(rows->size());
  for (ClaimedOutbox& c : *rows) {
    claims_.insert_or_assign(c.pending.row.id, Claim{c.claim_epoch, until});
    // A lease lost early (released to another node) still leaves the claim to this node.
    const MonoTime send_by = std::min(until, now + leases_.life(c.shard));
    handed.push_back(ClaimedRow{std::move(c.pending), send_by});
  }
  if (rows->size() == asked) want_claim_ = true;
  dispatcher_.add_claimed(std::move(handed));
  next();
}

void ClusterSender::delivered(DeliveryUpdate u) {
  const auto it = claims_.find(u.id);
  if (it == claims_.end()) {
    // Its claim ran out locally while it was being sent: the row is claimed again.
    ++stats_.not_reported;
    return;
  }
  reports_.push_back(Report{std::move(u), it->second});
  claims_.erase(it);
  next();
}

void ClusterSender::on_reported(const PgResult& answer) {
  busy_ = false;
  Report sent = std::move(*reporting_);
  reporting_.reset();
  const auto written = PgDecisions::reported(answer);
  if (!written) {
    // Tried again at the next tick while its claim lasts.
    failed(answer, "report a delivery");
    reports_.push_front(std::move(sent));
    hold_reports_ = true;
    next();
    return;
  }
  last_error_.clear();
  ++(*written ? stats_.reported : stats_.not_reported);
  if (!*written) {
    spdlog::info("cluster: the outcome of notification {} came after its claim ended ({})",
                 sent.update.id, sent.update.status);
  }
  next();
  settle();
}

void ClusterSender::failed(const PgResult& answer, const char* what) {
  const std::string error =
      answer.ok() ? "an answer in a shape this lookout does not know" : answer.error;
  if (error != last_error_) {
    spdlog::warn("cluster: cannot {} in PostgreSQL: {}; tried again every {}ms", what, error,
                 every_.count());
    last_error_ = error;
  }
}

void ClusterSender::settle() {
  if (!done_ || busy_ || !reports_.empty() || dispatcher_.in_flight() > 0) return;
  // Not from inside the caller's stop().
  finish_.start(Duration{0}, [this] {
    auto done = std::move(done_);
    done_ = nullptr;
    if (done) done();
  });
}

}  // namespace lookout
