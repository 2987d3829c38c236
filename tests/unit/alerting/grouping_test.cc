#include "alerting/grouping.h"

#include <gtest/gtest.h>

#include <set>

namespace lookout {
namespace {

const GroupTiming kTiming{Duration{30'000}, Duration{300'000}, GroupMode::kAlertmanager};
const GroupTiming kLeading{Duration{30'000}, Duration{300'000}, GroupMode::kLeading};

OutboxRow row(const std::string& id, const std::string& event, const std::string& state,
              const std::string& monitor) {
  IncidentRecord i;
  i.id = 1;
  i.monitor = monitor;
  i.state = state == "down" ? State::kDown : State::kDegraded;
  if (event == "incident.resolved") i.resolved_at = WallTime{};
  return OutboxRow{id, 1, event, "hook", "oncall", "", WallTime{}, incident_payload(i, "")};
}

TEST(Grouping, LeadingSendsAQuietGroupsFirstNotificationAtOnce) {
  GroupSchedule g;
  EXPECT_EQ(g.admit("k", 1'000, kLeading), 1'000);
  // Made before that message left: it goes with it.
  EXPECT_EQ(g.admit("k", 1'100, kLeading), 1'000);
  g.sent("k", 1'200);
  // The send made the group hot: what follows gathers until group_wait after it...
  EXPECT_EQ(g.admit("k", 2'000, kLeading), 31'200);
  EXPECT_EQ(g.admit("k", 31'000, kLeading), 31'200);
  EXPECT_EQ(g.admit("other", 2'000, kLeading), 2'000)
      << "another route, channel or number is quiet";
  g.sent("k", 31'200);
  // ...and the gathered message does not keep it hot: the next goes at once, so a resolution
  // is never held back longer than group_wait, whatever group_interval says.
  EXPECT_EQ(g.admit("k", 40'000, kLeading), 40'000);
  g.sent("k", 40'000);
  EXPECT_EQ(g.admit("k", 45'000, kLeading), 70'000);
  g.sent("k", 70'000);
  EXPECT_EQ(g.admit("k", 70'001, kLeading), 70'001);
}

TEST(Grouping, LeadingStormIsTheFirstMessageAndThenOne) {
  // 500 openings over 4 s, the first committed alone: two messages, the second group_wait
  // after the first.
  GroupSchedule g;
  EXPECT_EQ(g.admit("k", 0, kLeading), 0);
  g.sent("k", 250);
  std::set<int64_t> dues;
  for (int i = 1; i < 500; ++i) dues.insert(g.admit("k", 250 + i * 8, kLeading));
  EXPECT_EQ(dues, (std::set<int64_t>{30'250}));
}

TEST(Grouping, AlertmanagerGathersTheFirstForGroupWait) {
  GroupSchedule g;
  EXPECT_EQ(g.admit("k", 1'000, kTiming), 31'000);
  EXPECT_EQ(g.admit("k", 5'000, kTiming), 31'000);
  EXPECT_EQ(g.admit("k", 30'999, kTiming), 31'000);
  // Another route, channel or number gathers on its own.
  EXPECT_EQ(g.admit("other", 5'000, kTiming), 35'000);
}

TEST(Grouping, AlertmanagerLaterChangesWaitForGroupIntervalAfterTheLastSend) {
  GroupSchedule g;
  EXPECT_EQ(g.admit("k", 0, kTiming), 30'000);
  g.sent("k", 30'000);
  // A resolution a minute later joins the next group, five minutes after the first send.
  EXPECT_EQ(g.admit("k", 90'000, kTiming), 330'000);
  EXPECT_EQ(g.admit("k", 200'000, kTiming), 330'000);
  g.sent("k", 330'000);
  // Long after the last send only group_wait applies again.
  EXPECT_EQ(g.admit("k", 1'000'000, kTiming), 1'030'000);
}

TEST(Grouping, ZeroTimesSendAtOnceAndTestsNeverGather) {
  GroupSchedule g;
  EXPECT_EQ(g.admit("k", 7, GroupTiming{}), 7);
  g.sent("k", 7);
  EXPECT_EQ(g.admit("k", 9, GroupTiming{}), 9);
  EXPECT_EQ(g.admit("", 5, kTiming), 5);
  EXPECT_EQ(g.admit("", 6, kTiming), 6);
  OutboxRow test{"evt_t", 0, "test", "hook", "", "", WallTime{}, ""};
  EXPECT_EQ(group_key(test), "");
  OutboxRow sms_a{"evt_a", 1, "incident.opened", "sms", "oncall", "+1555", WallTime{}, ""};
  OutboxRow sms_b = sms_a;
  sms_b.recipient = "+1666";
  EXPECT_NE(group_key(sms_a), group_key(sms_b)) << "each number gets its own message";
}

TEST(Grouping, WorstFirst) {
  std::vector<OutboxRow> rows{
      row("1", "incident.resolved", "down", "a"), row("2", "incident.opened", "degraded", "b"),
      row("3", "incident.acknowledged", "down", "c"), row("4", "incident.opened", "down", "z"),
      row("5", "incident.escalated", "down", "d")};
  order_worst_first(rows);
  std::vector<std::string> ids;
  ids.reserve(rows.size());
  for (const auto& r : rows) ids.push_back(r.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"5", "4", "2", "3", "1"}));
}

TEST(Grouping, PostsAfterTheOpenIncidentsAsTheyCameAndTheyGroupByTheirRoute) {
  const auto post = [](const std::string& id, const std::string& title) {
    PostRecord p;
    p.id = 3;
    p.title = title;
    return OutboxRow{id,
                     0,
                     "incident.post_updated",
                     "hook",
                     "oncall",
                     "",
                     WallTime{},
                     post_payload(p, "https://status.test")};
  };
  std::vector<OutboxRow> rows{row("1", "incident.resolved", "down", "a"),
                              post("p2", "Zebra"),
                              OutboxRow{"t", 0, "test", "hook", "", "", WallTime{}, ""},
                              row("2", "incident.opened", "degraded", "b"),
                              post("p1", "Aardvark"),
                              row("3", "incident.acknowledged", "down", "c")};
  EXPECT_EQ(group_key(rows[1]), group_key(rows[0])) << "a post gathers with its route's incidents";
  order_worst_first(rows);
  std::vector<std::string> ids;
  ids.reserve(rows.size());
  for (const auto& r : rows) ids.push_back(r.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"2", "p2", "p1", "3", "1", "t"}));
}

}  // namespace
}  // namespace lookout
