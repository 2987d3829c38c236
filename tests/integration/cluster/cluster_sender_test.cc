// Cluster mode's sending against a real PostgreSQL and webhook targets on loopback: claimed rows
// are sent once, grouped as their route says, and marked sent; a row whose group goes later is
// handed back until then; a failed attempt goes back to the outbox and is sent later with the
// same id; with the eval lease moving to another node, every row is delivered and each node
// sends a row only under its own claim; a row whose claim ran out on the node is not sent.
// A trigger logs every change of the outbox, with the database's time.
#include "alerting/cluster_sender.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>

#include "core/curl_bridge.h"
#include "store/lease_plan.h"
#include "tests/integration/cluster/cluster_helpers.h"
#include "tests/integration/harness.h"
#include "tests/support/http_recorder.h"

namespace lookout::testing {
namespace {

using namespace std::chrono_literals;

const Duration kSenderLease{10'000};

using test::HttpRecorder;

// The event ids a webhook request carries: its own, or each of its group's.
std::vector<std::string> event_ids(const HttpRecorder::Seen& seen) {
  const auto body = nlohmann::json::parse(seen.body);
  if (!body.contains("events")) return {body["id"].get<std::string>()};
  std::vector<std::string> out;
  for (const auto& e : body["events"]) out.push_back(e["id"].get<std::string>());
  return out;
}

// Every id of every request a target had, once per request it came in.
std::multiset<std::string> event_ids(const HttpRecorder& hook) {
  std::multiset<std::string> out;
  for (const auto& seen : hook.seen()) {
    for (std::string& id : event_ids(seen)) out.insert(std::move(id));
  }
  return out;
}

// The system clock, with the monotonic one moved on by `paused`: a node whose loop stood still.
class PausedClock final : public Clock {
 public:
  MonoTime mono() const override { return std::chrono::steady_clock::now() + paused; }
  WallTime wall() const override { return std::chrono::system_clock::now(); }
  Duration paused{0};
};

Config sender_config(const PostgresServer& pg, const std::string& node, const std::string& url,
                     const std::string& route) {
  const std::string text = fmt::format(
      "[server]\npublic_url = \"https://status.test\"\n"
      "[cluster]\ndsn = \"{}\"\nnode = \"{}\"\nlocation = \"fra\"\n"
      "[[monitor]]\nname = \"home\"\ntype = \"http\"\nurl = \"http://127.0.0.1:9/\"\n"
      "[[channel]]\nname = \"ops-webhook\"\ntype = \"webhook\"\nurl = \"{}\"\ntimeout = \"1s\"\n"
      "[[route]]\nname = \"oncall\"\nnotify = [\"ops-webhook\"]\n{}\n",
      pg.dsn(), node, url, route);
  auto r =
      parse_config(text, "/etc/lookout/node.toml", [](const std::string&) { return std::nullopt; });
  if (!r.ok()) {
    throw std::runtime_error("the test's config does not parse: " + r.errors.front().message);
  }
  return std::move(*r.config);
}

// A node that sends: its leases (and the incidents it writes under them) on one connection, its
// sender on another. What the sender believes it holds is `held`, as the test sets it: a node
// that was cut off keeps believing.
struct SendingNode {
  SendingNode(EventLoop& loop, CurlBridge& curl, const Clock& clock, const PostgresServer& pg,
              const std::string& name, const std::string& url, const std::string& route = "")
      : leases(loop, pg, name, kSenderLease),
        conn(loop, Secret::plain(pg.dsn()), nullptr),
        config(sender_config(pg, name, url, route)),
        sender(loop, curl, conn, clock, name,
               ClusterSender::Leases{[this] { return held; }, [](int) { return kSenderLease; }},
               Duration{100}) {
    conn.start();
    sender.configure(config, "");
  }

  // Takes the eval lease of `shard`; the sender believes it from now on.
  void take(int shard) {
    const auto rows = leases.acquire({LeaseSpace::evaluation().lease(shard)});
    if (rows.empty()) throw std::runtime_error("cannot take shard " + std::to_string(shard));
    held[shard] = rows.front().epoch;
  }

  // Opens an incident of `monitor` whose opening event notifies `ids` through `route`.
  void open(const std::string& monitor, const std::vector<std::string>& ids,
            const std::string& route) {
    const int shard = shard_of(monitor);
    const auto reserved = PgDecisions::reserved_ids(
        answer_to(leases.loop, leases.conn, PgDecisions::reserve_incident_ids(1)));
    if (!reserved || reserved->empty()) throw std::runtime_error("no incident id");
    IncidentRecord incident;
    incident.id = reserved->front();
    incident.monitor = incident.group = monitor;
    incident.type = "down";
    incident.state = State::kDown;
    incident.cause = "expected status 200, got 503";
    incident.started_at = std::chrono::system_clock::now();
    EventRecord e{incident.id, "incident.opened", incident.started_at, {}};
    for (const std::string& id : ids) {
      e.notifications.push_back(OutboxRow{
          id, incident.id, e.event, "ops-webhook", route, "", incident.started_at,
          fmt::format(R"({{"id":{},"monitor":"{}"}})", incident.id, monitor), Audience::kOnCall});
    }
    const LeaseFence fence{LeaseSpace::evaluation().lease(shard), leases.registry.node(),
                           held.at(shard)};
    const auto opening = PgDecisions::opening(
        answer_to(leases.loop, leases.conn, PgDecisions::open_incident(fence, incident, {e})));
    if (!opening || !opening->opened) throw std::runtime_error("cannot open " + monitor);
  }

  LeaseNode leases;
  PgConnection conn;
  Config config;
  std::map<int, int64_t> held;
  ClusterSender sender;
};

// One change of an outbox row, as the trigger logged it.
struct OutboxChange {
  std::string id, status;
  int attempts = 0;
  std::string last_error, claimed_by;
  int64_t claim_until_ms = 0, at_ms = 0;
};

class ClusterSenderInPostgres : public ::testing::Test {
 protected:
  void SetUp() override {
    LOOKOUT_NEED_POSTGRES();
    server_ = std::make_unique<PostgresServer>();
    require_schema(loop, *server_);
    server_->sql(R"sql(CREATE TABLE outbox_log (id text, status text, attempts int,
  last_error text, claimed_by text, claim_until timestamptz, at timestamptz);
CREATE FUNCTION log_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO outbox_log VALUES (NEW.id, NEW.status, NEW.attempts, NEW.last_error,
    NEW.claimed_by, NEW.claim_until, clock_timestamp());
  RETURN NEW;
END $$;
CREATE TRIGGER log_outbox AFTER UPDATE ON outbox FOR EACH ROW EXECUTE FUNCTION log_outbox();)sql");
  }

  PostgresServer& pg() const { return *server_; }

  SendingNode& node(const std::string& name, const std::string& url, const Clock& clock,
                    const std::string& route = "") {
    nodes_.push_back(std::make_unique<SendingNode>(loop, curl, clock, *server_, name, url, route));
    return *nodes_.back();
  }

  // The outbox's changes, oldest first.
  std::vector<OutboxChange> changes() const {
    std::vector<OutboxChange> out;
    const std::string text = server_->sql(
        "SELECT id, status, attempts, coalesce(last_error, ''), coalesce(claimed_by, ''), "
        "coalesce(floor(extract(epoch FROM claim_until) * 1000)::bigint, 0), "
        "floor(extract(epoch FROM at) * 1000)::bigint FROM outbox_log ORDER BY at");
    size_t at = 0;
    while (at < text.size()) {
      const size_t end = std::min(text.find('\n', at), text.size());
      std::vector<std::string> f;
      size_t from = at;
      for (size_t bar = text.find('|', from); bar < end; bar = text.find('|', from)) {
        f.push_back(text.substr(from, bar - from));
        from = bar + 1;
      }
      f.push_back(text.substr(from, end - from));
      if (f.size() == 7) {
        out.push_back(OutboxChange{f[0], f[1], std::stoi(f[2]), f[3], f[4], std::stoll(f[5]),
                                   std::stoll(f[6])});
      }
      at = end + 1;
    }
    return out;
  }

  // The claims of `id`, oldest first.
  std::vector<OutboxChange> claims_of(const std::string& id) const {
    std::vector<OutboxChange> out;
    for (OutboxChange& c : changes()) {
      if (c.id == id && c.status == "sending") out.push_back(std::move(c));
    }
    return out;
  }

  std::string unsent() const {
    return server_->sql("SELECT count(*) FROM outbox WHERE status <> 'sent'");
  }

  // A webhook target answering `statuses` in turn (the last again once they run out), each
  // after `delay`. It outlives the transfers' connections, which it would otherwise keep alive
  // until its keep-alive timeout.
  HttpRecorder& target(const std::vector<int>& statuses, std::chrono::milliseconds delay = 0ms) {
    std::vector<HttpRecorder::Answer> answers;
    for (const int status : statuses) answers.emplace_back(status, "{}");
    hooks_.push_back(std::make_unique<HttpRecorder>(std::move(answers), delay));
    return *hooks_.back();
  }

 private:
  std::vector<std::unique_ptr<HttpRecorder>> hooks_;

 protected:
  EventLoop loop;
  SystemClock clock;
  CurlBridge curl{loop, clock};

 private:
  std::unique_ptr<PostgresServer> server_;
  std::vector<std::unique_ptr<SendingNode>> nodes_;
};

// Two monitors of different shards.
std::pair<std::string, std::string> sender_monitors() {
  std::string second = "portal-1";
  for (int i = 2; shard_of(second) == shard_of("portal-0"); ++i) {
    second = "portal-" + std::to_string(i);
  }
  return {"portal-0", second};
}

TEST_F(ClusterSenderInPostgres, ClaimedRowsGoOnceAsTheirRouteGroupsThemAndAreMarkedSent) {
  HttpRecorder& hook = target({200});
  SendingNode& a = node("fra-1", hook.url() + "/hook", clock, "group_wait = \"2s\"");
  const auto [first, second] = sender_monitors();
  a.take(shard_of(first));
  a.take(shard_of(second));
  a.open(first, {"evt_a1", "evt_a2"}, "oncall");
  a.open(second, {"evt_b1"}, "oncall");
  EXPECT_GT(a.sender.claim_for(), Duration{2000});  // the 1s timeout, a second, a tenth
  a.sender.start();

  ASSERT_TRUE(turn_until(
      loop, [&] { return hook.seen().size() == 1; }, 10s));
  // Claimed together, they go as one message.
  EXPECT_EQ(event_ids(hook), (std::multiset<std::string>{"evt_a1", "evt_a2", "evt_b1"}));
  ASSERT_TRUE(turn_until(
      loop, [&] { return a.sender.stats().reported == 3; }, 10s));
  EXPECT_EQ(pg().sql("SELECT string_agg(id || ' ' || status || ' ' || attempts || ' ' || "
                     "claimed_by || ' ' || (sent_at IS NOT NULL) || ' ' || (claim_until IS NULL), "
                     "', ' ORDER BY id) FROM outbox"),
            "evt_a1 sent 1 fra-1 true true, evt_a2 sent 1 fra-1 true true, "
            "evt_b1 sent 1 fra-1 true true");

  // The group is hot for group_wait after its message: a row that comes now is handed back
  // until then rather than held past its claim, and goes alone when the group cools.
  const std::string third = first + "-b";
  a.take(shard_of(third));
  a.open(third, {"evt_c1"}, "oncall");
  a.sender.poke();
  ASSERT_TRUE(turn_until(
      loop, [&] { return hook.seen().size() == 2; }, 10s));
  const auto got = hook.seen();
  EXPECT_EQ(event_ids(got[1]), std::vector<std::string>{"evt_c1"});
  EXPECT_GE(got[1].at_ms - got[0].at_ms, 1900);
  ASSERT_TRUE(turn_until(
      loop, [&] { return unsent() == "0"; }, 10s));
  // Claimed, handed back untried, claimed again when due, sent at the first attempt.
  std::vector<std::string> seen;
  for (const OutboxChange& c : changes()) {
    if (c.id == "evt_c1") seen.push_back(fmt::format("{} {}", c.status, c.attempts));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"sending 0", "pending 0", "sending 0", "sent 1"}));
  EXPECT_EQ(event_ids(hook).count("evt_c1"), 1u);
  EXPECT_EQ(a.sender.stats().not_reported, 0u);

  bool stopped = false;
  a.sender.stop([&] { stopped = true; });
  EXPECT_TRUE(turn_until(
      loop, [&] { return stopped; }, 5s));
}

TEST_F(ClusterSenderInPostgres, AFailedAttemptGoesBackToTheOutboxAndIsSentLaterWithTheSameId) {
  HttpRecorder& hook = target({503, 200});
  SendingNode& a = node("fra-1", hook.url() + "/hook", clock);
  const std::string monitor = sender_monitors().first;
  a.take(shard_of(monitor));
  a.open(monitor, {"evt_r1"}, "oncall");
  a.sender.start();

  ASSERT_TRUE(turn_until(
      loop, [&] { return unsent() == "0"; }, 15s));
  const auto got = hook.seen();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(event_ids(got[0]), std::vector<std::string>{"evt_r1"});
  EXPECT_EQ(event_ids(got[1]), std::vector<std::string>{"evt_r1"});
  // The first retry waits 1s, less a quarter of jitter.
  EXPECT_GE(got[1].at_ms - got[0].at_ms, 700);

  // Claimed, back to pending with its attempt and error and no claim, claimed again, sent.
  std::vector<std::string> seen;
  for (const OutboxChange& c : changes()) {
    seen.push_back(fmt::format("{} {} {} {}", c.status, c.attempts, c.claimed_by,
                               c.last_error.find("503") != std::string::npos ? "503" : "-"));
    if (c.status != "sending") {
      EXPECT_EQ(c.claim_until_ms, 0);
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"sending 0 fra-1 -", "pending 1 fra-1 503",
                                            "sending 1 fra-1 503", "sent 2 fra-1 -"}));
}

// A claim's time on the database: from the claim to its report, or to its end without one.
struct ClaimWindow {
  std::string by;
  int64_t from_ms = 0, to_ms = 0;
};

std::vector<ClaimWindow> claim_windows(const std::vector<OutboxChange>& log,
                                       const std::string& id) {
  std::vector<ClaimWindow> out;
  for (const OutboxChange& c : log) {
    if (c.id != id) continue;
    if (c.status == "sending") {
      out.push_back(ClaimWindow{c.claimed_by, c.at_ms, c.claim_until_ms});
    } else if (!out.empty() && c.claimed_by == out.back().by) {
      out.back().to_ms = std::min(out.back().to_ms, c.at_ms);
    }
  }
  return out;
}

// fra-1 sends through a slow target that fails every other time; once it has begun, its lease
// is taken over by nyc-1 behind its back, while fra-1 goes on believing it holds the shard.
TEST_F(ClusterSenderInPostgres, WithTheLeaseMovingEveryRowIsDeliveredAndSentOnlyUnderAClaim) {
  std::vector<int> alternating;
  for (int i = 0; i < 100; ++i) alternating.push_back(i % 2 == 0 ? 200 : 503);
  HttpRecorder& hook_a = target(alternating, 400ms);
  HttpRecorder& hook_b = target({200});
  SendingNode& a = node("fra-1", hook_a.url() + "/hook", clock);
  SendingNode& b = node("nyc-1", hook_b.url() + "/hook", clock);
  const std::string monitor = sender_monitors().first;
  const int shard = shard_of(monitor);
  a.take(shard);
  std::vector<std::string> ids;
  for (int i = 1; i <= 30; ++i) ids.push_back(fmt::format("evt_{:02}", i));
  // No route: each row goes alone, eight at a time, so the last ones wait past their claim.
  a.open(monitor, ids, "");
  a.sender.start();
  ASSERT_TRUE(turn_until(
      loop, [&] { return !hook_a.seen().empty(); }, 10s));

  pg().sql(
      "UPDATE leases SET expires_at = clock_timestamp() - interval '1 millisecond' WHERE name = "
      "'" +
      LeaseSpace::evaluation().lease(shard) + "'");
  const int64_t moved_ms = to_unix_ms(std::chrono::system_clock::now());
  b.take(shard);
  b.sender.start();
  ASSERT_TRUE(turn_until(
      loop, [&] { return unsent() == "0"; }, 30s));

  std::set<std::string> delivered;
  for (const auto* hook : {&hook_a, &hook_b}) {
    for (const HttpRecorder::Seen& g : hook->seen()) {
      const auto carried = event_ids(g);
      ASSERT_EQ(carried.size(), 1u);
      if (g.status == 200) delivered.insert(carried.front());
    }
  }
  EXPECT_EQ(delivered, std::set<std::string>(ids.begin(), ids.end()));
  EXPECT_GT(a.sender.dispatcher().stats().claims_run_out, 0u);

  // Each request came while a claim of its sender's ran on its row, and no claim of the other
  // node's did: one node at a time.
  const auto log = changes();
  auto check = [&](const HttpRecorder& hook, const std::string& by) {
    for (const HttpRecorder::Seen& g : hook.seen()) {
      const std::string id = event_ids(g).front();
      bool own = false;
      for (const ClaimWindow& w : claim_windows(log, id)) {
        const bool during = w.from_ms <= g.at_ms && g.at_ms <= w.to_ms;
        if (w.by == by) own = own || during;
        EXPECT_FALSE(w.by != by && during) << id << " sent by " << by;
      }
      EXPECT_TRUE(own) << id << " sent by " << by;
    }
  };
  check(hook_a, "fra-1");
  check(hook_b, "nyc-1");
  EXPECT_FALSE(hook_b.seen().empty());
  // fra-1 claimed nothing once the lease had moved, however long it believed in it.
  for (const OutboxChange& c : log) {
    if (c.status == "sending" && c.claimed_by == "fra-1") {
      EXPECT_LE(c.at_ms, moved_ms) << c.id;
    }
  }
  EXPECT_EQ(pg().sql("SELECT count(*) FROM outbox WHERE status = 'sent' AND claim_until IS NULL"),
            "30");
}

// The claim waits behind a lock on the lease while the node's loop stands still for longer than
// the claim: the rows it then gets are not sent, and go once the claim ran out on the server.
TEST_F(ClusterSenderInPostgres, ARowWhoseClaimRanOutOnTheNodeIsNotSent) {
  HttpRecorder& hook = target({200});
  PausedClock paused;
  SendingNode& a = node("fra-1", hook.url() + "/hook", paused);
  const std::string monitor = sender_monitors().first;
  a.take(shard_of(monitor));
  a.open(monitor, {"evt_d1"}, "oncall");

  // Holds the lease's row for 2 s, in a transaction of its own.
  PgConnection blocker(loop, Secret::plain(pg().dsn()), nullptr);
  blocker.start();
  std::optional<PgResult> unlocked;
  blocker.script("BEGIN; SELECT 1 FROM leases WHERE name = '" +
                     LeaseSpace::evaluation().lease(shard_of(monitor)) +
                     "' FOR UPDATE; SELECT pg_sleep(2); COMMIT",
                 [&](PgResult r) { unlocked = std::move(r); });
  auto waiting = [&](const std::string& on) {
    return pg().sql("SELECT count(*) FROM pg_stat_activity WHERE " + on);
  };
  ASSERT_TRUE(turn_until(
      loop, [&] { return waiting("wait_event = 'PgSleep'") == "1"; }, 10s));

  a.sender.start();
  ASSERT_TRUE(turn_until(
      loop, [&] { return waiting("wait_event_type = 'Lock'") == "1"; }, 10s));
  paused.paused = a.sender.claim_for();
  ASSERT_TRUE(turn_until(
      loop, [&] { return unlocked.has_value(); }, 10s));
  ASSERT_TRUE(unlocked->ok()) << unlocked->error;

  ASSERT_TRUE(turn_until(
      loop, [&] { return a.sender.dispatcher().stats().claims_run_out == 1; }, 10s));
  EXPECT_TRUE(hook.seen().empty());
  ASSERT_TRUE(turn_until(
      loop, [&] { return unsent() == "0"; }, 15s));
  const auto got = hook.seen();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(event_ids(got[0]), std::vector<std::string>{"evt_d1"});
  const auto claims = claims_of("evt_d1");
  ASSERT_EQ(claims.size(), 2u);
  EXPECT_GT(got[0].at_ms, claims[0].claim_until_ms);
  EXPECT_EQ(pg().sql("SELECT attempts FROM outbox WHERE id = 'evt_d1'"), "1");
}

// The database goes away while a row is being sent: its outcome cannot be reported before its
// claim runs out on the node, so it is given up, and once the database is back the row is
// claimed again and sent a second time, with the same id.
TEST_F(ClusterSenderInPostgres, ARowWhoseReportIsLostIsSentAgainWithTheSameId) {
  HttpRecorder& hook = target({200}, 800ms);
  SendingNode& a = node("fra-1", hook.url() + "/hook", clock);
  const std::string monitor = sender_monitors().first;
  a.take(shard_of(monitor));
  // No route: the second send does not wait for the group its first send made hot.
  a.open(monitor, {"evt_l1"}, "");
  a.sender.start();
  ASSERT_TRUE(turn_until(
      loop, [&] { return hook.seen().size() == 1; }, 10s));
  pg().stop();
  ASSERT_TRUE(turn_until(
      loop, [&] { return a.sender.stats().not_reported == 1; }, 10s));
  EXPECT_EQ(a.sender.stats().reported, 0u);
  pg().start();
  ASSERT_TRUE(turn_until(
      loop, [&] { return a.leases.conn.connected(); }, 10s));
  a.take(shard_of(monitor));

  ASSERT_TRUE(turn_until(
      loop, [&] { return unsent() == "0"; }, 20s));
  EXPECT_EQ(event_ids(hook), (std::multiset<std::string>{"evt_l1", "evt_l1"}));
  EXPECT_EQ(pg().sql("SELECT status || ' ' || attempts FROM outbox WHERE id = 'evt_l1'"), "sent 1");
  EXPECT_EQ(claims_of("evt_l1").size(), 2u);
}

}  // namespace
}  // namespace lookout::testing
