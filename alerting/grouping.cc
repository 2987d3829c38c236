#include "alerting/grouping.h"

#include <algorithm>

namespace lookout {

std::string group_key(const OutboxRow& row) {
  if (row.route.empty()) return "";
  // A unit separator cannot appear in names the config accepts.
  return row.route + '\x1f' + row.channel + '\x1f' + row.recipient;
}

int64_t GroupSchedule::admit(const std::string& key, int64_t created_ms, GroupTiming timing) {
  if (key.empty()) return created_ms;
  Group& g = groups_[key];
  if (g.forming_until) return *g.forming_until;
  int64_t due = created_ms;
  if (timing.mode == GroupMode::kAlertmanager) {
    due += timing.wait.count();
    if (g.last_sent) due = std::max(due, *g.last_sent + timing.interval.count());
  } else if (g.hot_until && *g.hot_until > created_ms) {
    due = *g.hot_until;
  } else {
    // Also a message that goes at once gathers: what is committed before it leaves goes with it.
    g.forming_leads = true;
    g.wait = timing.wait;
  }
  g.forming_until = due;
  return due;
}

void GroupSchedule::sent(const std::string& key, int64_t now_ms) {
  if (key.empty()) return;
  Group& g = groups_[key];
  if (g.forming_leads) g.hot_until = now_ms + g.wait.count();
  g.forming_until.reset();
  g.forming_leads = false;
  g.last_sent = now_ms;
}

namespace {

struct Ranked {
  int rank;
  std::string monitor;
};

Ranked rank_of(const OutboxRow& row) {
  if (row.event == "test") return {5, ""};
  // After the open incidents: a batch's first row sets its priority and colour on every
  // channel, and a post is news, not a page. Posts keep the order they were written in.
  if (is_post_event(row.event)) return {2, ""};
  PayloadFields f = payload_fields(row.payload);
  if (row.event == "incident.resolved") return {4, std::move(f.monitor)};
  if (row.event == "incident.acknowledged") return {3, std::move(f.monitor)};
  return {f.state == "down" ? 0 : 1, std::move(f.monitor)};
}

}  // namespace

void order_worst_first(std::vector<OutboxRow>& rows) {
  std::vector<std::pair<Ranked, size_t>> keys;
  keys.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) keys.emplace_back(rank_of(rows[i]), i);
  std::stable_sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) {
    return a.first.rank != b.first.rank ? a.first.rank < b.first.rank
                                        : a.first.monitor < b.first.monitor;
  });
  std::vector<OutboxRow> sorted;
  sorted.reserve(rows.size());
  for (const auto& [k, i] : keys) sorted.push_back(std::move(rows[i]));
  rows = std::move(sorted);
}

}  // namespace lookout
