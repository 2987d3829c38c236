#include "alerting/message.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "tests/support/outbox_rows.h"

namespace lookout {
namespace {

using test::incident_row;
using test::storm;

TEST(Message, IncidentOfReadsThePayloadAndIsNullWithoutOne) {
  const auto inc = incident_of(incident_row("incident.opened"));
  EXPECT_EQ(incident_field(inc, "monitor"), "portal-home");
  EXPECT_EQ(incident_field(inc, "ack_url"), "https://status.test/ack/42.1.abc");
  EXPECT_EQ(incident_field(inc, "id"), "") << "not a string";
  EXPECT_EQ(incident_field(inc, "nonexistent"), "");
  EXPECT_TRUE(incident_of(test::test_row()).is_null());
  OutboxRow garbage = incident_row("incident.opened");
  garbage.payload = "{not json";
  EXPECT_TRUE(incident_of(garbage).is_null());
}

TEST(Message, OneLineFlattensControlCharactersAndCuts) {
  EXPECT_EQ(one_line("bad\r\nBcc: victim@x\x7f", 100), "bad  Bcc: victim@x ");
  const std::string cut = one_line(std::string(300, 'x'), 200);
  EXPECT_EQ(cut.size(), 200u);
  EXPECT_EQ(cut.substr(197), "...");
  EXPECT_EQ(one_line(std::string(200, 'x'), 200), std::string(200, 'x'));
}

TEST(Message, EventLabelsNameTheEventAndState) {
  EXPECT_EQ(event_label("incident.opened", "down"), "DOWN");
  EXPECT_EQ(event_label("incident.updated", "degraded"), "DEGRADED");
  EXPECT_EQ(event_label("incident.escalated", "down"), "ESCALATED DOWN");
  EXPECT_EQ(event_label("incident.reminder", "degraded"), "REMINDER DEGRADED");
  EXPECT_EQ(event_label("incident.acknowledged", "down"), "ACK DOWN");
  EXPECT_EQ(event_label("incident.resolved", "down"), "RESOLVED");
  EXPECT_EQ(event_label("test", ""), "TEST");
  EXPECT_EQ(event_label(incident_row("incident.escalated")), "ESCALATED DOWN");
}

TEST(Message, CountedLabelsKeepTheBatchOrder) {
  EXPECT_EQ(counted_labels(storm(500)), "499 DOWN, 1 RESOLVED");
  auto rows = storm(3);
  std::swap(rows[0], rows[2]);
  EXPECT_EQ(counted_labels(rows), "1 RESOLVED, 2 DOWN");
  EXPECT_EQ(subject_of(rows[0]), "api-002");
  EXPECT_EQ(subject_of(test::post_row()), "Database failover");
}

TEST(Message, ABatchOfOneGoesUnderItsRowsIdAndEvent) {
  const auto one = storm(1);
  EXPECT_EQ(notification_id(one), "evt_0000");
  EXPECT_EQ(notification_event(one), "incident.resolved");
}

TEST(Message, AGroupsIdIsAHashOfItsEventIds) {
  const auto rows = storm(3);
  const std::string ids = "evt_0000\nevt_0001\nevt_0002\n";
  unsigned char digest[EVP_MAX_MD_SIZE];
  size_t len = 0;
  ASSERT_EQ(EVP_Q_digest(nullptr, "SHA256", nullptr, ids.data(), ids.size(), digest, &len), 1);
  std::string expected = "grp_";
  for (size_t i = 0; i < 16; ++i) expected += fmt::format("{:02x}", digest[i]);
  EXPECT_EQ(notification_id(rows), expected);
  EXPECT_EQ(notification_id(rows), notification_id(storm(3))) << "the same on every retry";
  EXPECT_NE(notification_id(storm(2)), expected);
  EXPECT_EQ(notification_event(rows), "group");
}

}  // namespace
}  // namespace lookout

namespace lookout {
namespace {

TEST(Message, InEventOrderSortsABatchByWhenItsEventsHappened) {
  auto rows = storm(4);
  rows[0].created = test::kIncidentStart + Duration{30};
  rows[1].created = test::kIncidentStart + Duration{10};
  rows[2].created = test::kIncidentStart + Duration{30};
  rows[3].created = test::kIncidentStart;
  std::vector<std::string> ids;
  for (const auto& r : in_event_order(rows)) ids.push_back(r.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"evt_0003", "evt_0001", "evt_0000", "evt_0002"}));
}

// A silent location's meta-incident has no monitor page: its link is the cluster's view.
TEST(Notice, ASilentLocationLinksToTheClustersView) {
  OutboxRow row = incident_row("incident.opened");
  row.payload =
      R"({"id":42,"monitor":"location nyc","group":"","type":"location","state":"down",)"
      R"("cause":"location nyc has sent no results for 45s","started_at":"2026-12-01T02:00:00.000Z",)"
      R"("ack_url":null})";
  const Notice n = notice_of(row, "https://status.test");
  EXPECT_EQ(n.monitor_url, "https://status.test/api/v1/cluster");
  EXPECT_EQ(n.title(), "DOWN location nyc: location nyc has sent no results for 45s");
  EXPECT_EQ(n.ack_url, "");
}

TEST(Notice, NamesMonitorStateCauseSinceThePageAndTheAckLinkWhileOpen) {
  const Notice n = notice_of(test::incident_row("incident.opened"), "https://status.test");
  EXPECT_EQ(n.incident_id, 42);
  EXPECT_EQ(n.label, "DOWN");
  EXPECT_EQ(n.state, "down");
  EXPECT_EQ(n.since, "2026-12-01T02:00:00.000Z");
  EXPECT_EQ(n.monitor_url, "https://status.test/monitor/portal-home");
  EXPECT_EQ(n.ack_url, "https://status.test/ack/42.1.abc");
  EXPECT_EQ(n.title(), "DOWN portal-home: expected status 200, got 503");
  EXPECT_EQ(n.text(),
            "DOWN portal-home: expected status 200, got 503\n"
            "state down since 2026-12-01T02:00:00.000Z\n"
            "https://status.test/monitor/portal-home\n"
            "acknowledge: https://status.test/ack/42.1.abc\n");
  for (const char* closed : {"incident.resolved", "incident.acknowledged"}) {
    EXPECT_EQ(notice_of(test::incident_row(closed), "https://status.test").ack_url, "") << closed;
  }
  EXPECT_EQ(notice_of(test::incident_row("incident.resolved"), "").title(), "RESOLVED portal-home");
}

TEST(Notice, StateTextSaysAcknowledgedAndResolved) {
  const auto state = [](const char* event) {
    return notice_of(test::incident_row(event), "https://status.test").state_text();
  };
  EXPECT_EQ(state("incident.opened"), "down");
  EXPECT_EQ(state("incident.reminder"), "down");
  EXPECT_EQ(state("incident.acknowledged"), "down, acknowledged");
  EXPECT_EQ(state("incident.resolved"), "resolved");
  EXPECT_EQ(notice_of(test::test_row(), "").state_text(), "test");
}

TEST(Message, TimeOfDayShortensAnRfc3339Time) {
  EXPECT_EQ(time_of_day("2026-12-01T02:00:07.123Z"), "02:00:07Z");
  EXPECT_EQ(time_of_day("2026-12-01T23:59:59Z"), "23:59:59Z");
  EXPECT_EQ(time_of_day(""), "");
  EXPECT_EQ(time_of_day("yesterday"), "yesterday");
}

TEST(Notice, ATestNamesNoIncidentAndACauseIsOneShortLine) {
  const Notice t = notice_of(test::test_row(), "https://status.test");
  EXPECT_TRUE(t.test);
  EXPECT_EQ(t.title(), "TEST lookout: this channel delivers");
  const Notice n =
      notice_of(test::incident_row("incident.opened", "a\r\nb" + std::string(400, 'x')),
                "https://status.test");
  EXPECT_EQ(n.cause.size(), 300u);
  EXPECT_EQ(n.cause.substr(0, 4), "a  b");
}

TEST(Digest, CountsShowsTheWorstTenAndLinksThePageForTheRest) {
  const Digest d = digest_of(test::storm(25), "https://status.test");
  EXPECT_EQ(d.title, "lookout: 24 DOWN, 1 RESOLVED");
  ASSERT_EQ(d.shown.size(), Digest::kShown);
  EXPECT_EQ(d.shown.front().monitor, "api-000");
  EXPECT_EQ(d.more, 15u);
  const std::string text = d.text();
  EXPECT_NE(text.find("DOWN api-009:"), std::string::npos) << text;
  EXPECT_EQ(text.find("api-010"), std::string::npos) << text;
  EXPECT_NE(text.find("... and 15 more: https://status.test/\n"), std::string::npos) << text;
  EXPECT_EQ(digest_of(test::storm(2), "https://status.test").text(),
            "lookout: 1 DOWN, 1 RESOLVED\nDOWN api-000: expected status 200, got 503\n"
            "RESOLVED api-001\nhttps://status.test/\n");
}

}  // namespace
}  // namespace lookout

namespace lookout {
namespace {

using test::post_row;

TEST(PostNotice, APostsRowIsNoIncidentAndNoTest) {
  const OutboxRow row = post_row();
  EXPECT_TRUE(incident_of(row).is_null()) << "a post is not an incident";
  EXPECT_EQ(post_of(row)["id"], 7);
  EXPECT_TRUE(post_of(test::incident_row("incident.opened")).is_null());
  EXPECT_TRUE(post_of(test::test_row()).is_null());
  const Notice n = notice_of(row, test::kPublicUrl);
  EXPECT_FALSE(n.test);
  EXPECT_EQ(n.incident_id, 0);
  EXPECT_EQ(n.monitor, "");
  ASSERT_TRUE(n.post);
  EXPECT_EQ(n.post->id, 7);
  EXPECT_EQ(n.post->title, "Database failover");
  EXPECT_EQ(n.post->status, "investigating");
  EXPECT_EQ(n.post->impact, "major");
  EXPECT_EQ(n.post->monitors, (std::vector<std::string>{"portal-home", "billing-db"}));
  EXPECT_EQ(n.post->created_at, "2026-12-01T02:00:00.000Z");
  EXPECT_EQ(n.post->resolved_at, "");
  EXPECT_EQ(n.post->body, "Replicas lag behind.\nFailing over.");
  EXPECT_EQ(n.post->summary(), "Replicas lag behind. Failing over.");
  EXPECT_EQ(n.post->url, test::kPostPage);
  EXPECT_FALSE(notice_of(test::incident_row("incident.opened"), "").post);
}

TEST(PostNotice, LabelsTitlesAndTextSayWhatPeopleWrote) {
  EXPECT_EQ(post_label("incident.posted", "investigating"), "POST");
  EXPECT_EQ(post_label("incident.post_updated", "monitoring"), "POST UPDATE");
  EXPECT_EQ(post_label("incident.post_updated", "resolved"), "POST RESOLVED");
  EXPECT_EQ(post_label("incident.posted", "resolved"), "POST RESOLVED");
  const Notice posted = notice_of(post_row(), test::kPublicUrl);
  EXPECT_EQ(posted.label, "POST");
  EXPECT_EQ(posted.state_text(), "investigating");
  EXPECT_EQ(posted.title(), "POST [major] Database failover: investigating");
  EXPECT_EQ(posted.text(),
            "POST [major] Database failover: investigating\n"
            "Replicas lag behind. Failing over.\n"
            "about portal-home, billing-db\n"
            "https://status.test/posts/7\n");
  const Notice update =
      notice_of(post_row("incident.post_updated", "identified", "The primary's disk."), "");
  EXPECT_EQ(update.title(), "POST UPDATE [major] Database failover: identified");
  const Notice resolved = notice_of(post_row("incident.post_updated", "resolved", ""), "");
  EXPECT_EQ(resolved.title(), "POST RESOLVED [major] Database failover");
  EXPECT_EQ(resolved.post->resolved_at, "2026-12-01T02:10:00.000Z");
  EXPECT_EQ(resolved.text(),
            "POST RESOLVED [major] Database failover\nabout portal-home, billing-db\n"
            "https://status.test/posts/7\n");
  // No impact, no monitors, a long update with control characters: one short line.
  OutboxRow plain = post_row("incident.posted", "investigating",
                             "line one\r\nline\ttwo " + std::string(400, 'x'));
  auto j = nlohmann::json::parse(plain.payload);
  j["impact"] = "none";
  j["monitors"] = nlohmann::json::array();
  plain.payload = j.dump();
  const Notice p = notice_of(plain, "");
  EXPECT_EQ(p.title(), "POST Database failover: investigating");
  EXPECT_EQ(p.post->summary().size(), 300u);
  EXPECT_EQ(p.post->summary().substr(0, 20), "line one  line two x");
  EXPECT_EQ(p.text().find("about"), std::string::npos);
}

TEST(PostNotice, APayloadThatDoesNotParseLeavesThePostEmpty) {
  OutboxRow broken = post_row();
  broken.payload = "{not json";
  const Notice n = notice_of(broken, "");
  ASSERT_TRUE(n.post);
  EXPECT_EQ(n.post->id, 0);
  EXPECT_EQ(n.post->title, "");
  EXPECT_EQ(event_label(broken), "POST");
}

TEST(Digest, APostInAStormIsCountedAndListed) {
  auto rows = test::storm(3);
  rows.insert(rows.begin() + 2, post_row("incident.post_updated", "monitoring", "Caught up."));
  EXPECT_EQ(counted_labels(rows), "2 DOWN, 1 POST UPDATE, 1 RESOLVED");
  const Digest d = digest_of(rows, test::kPublicUrl);
  EXPECT_EQ(d.title, "lookout: 2 DOWN, 1 POST UPDATE, 1 RESOLVED");
  EXPECT_EQ(d.text(),
            "lookout: 2 DOWN, 1 POST UPDATE, 1 RESOLVED\n"
            "DOWN api-000: expected status 200, got 503\n"
            "DOWN api-001: expected status 200, got 503\n"
            "POST UPDATE [major] Database failover: monitoring\n"
            "RESOLVED api-002\nhttps://status.test/\n");
}

}  // namespace
}  // namespace lookout
