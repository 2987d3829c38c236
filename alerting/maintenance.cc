#include "alerting/maintenance.h"

#include <fmt/format.h>
#include <fnmatch.h>

#include <algorithm>

#include "core/units.h"

namespace lookout {
namespace {

constexpr size_t kWindowTitleMax = 200;
constexpr size_t kWindowBodyMax = 10 * 1024;
// Each glob is matched against every monitor on the loop when a window is made: a hundred
// keeps that within milliseconds for 10,000 monitors.
constexpr size_t kWindowMonitorsMax = 100;
// A window longer than a month is a typo (or an outage nobody should hide from the page).
constexpr Duration kLongest{31LL * 86'400'000};

const std::string kConfigPrefix = "config-";

MaintenanceChange window_invalid(std::string why) {
  MaintenanceChange c;
  c.code = MaintenanceChange::Code::kInvalid;
  c.error = std::move(why);
  return c;
}

}  // namespace

bool maintenance_covers(const MaintenanceRecord& w, const std::string& monitor, WallTime t) {
  if (t < w.start || t >= w.end()) return false;
  return std::any_of(w.monitors.begin(), w.monitors.end(), [&](const std::string& g) {
    return fnmatch(g.c_str(), monitor.c_str(), 0) == 0;
  });
}

void MaintenanceBook::load(std::vector<MaintenanceRecord> stored) {
  api_ = std::move(stored);
  for (const auto& w : api_) next_id_ = std::max(next_id_, w.id + 1);
}

void MaintenanceBook::set_config(const std::vector<MaintenanceWindow>& blocks) {
  config_.clear();
  for (const auto& b : blocks) {
    MaintenanceRecord r;
    r.title = b.title;
    r.body = b.body;
    r.monitors = b.monitors;
    r.start = b.start;
    r.duration = b.duration;
    config_.push_back(std::move(r));
  }
}

MaintenanceChange check_maintenance(const MaintenanceDraft& d, WallTime now,
                                    const std::function<bool(const std::string&)>& matches_any) {
  if (d.title.empty()) return window_invalid("title is required");
  if (d.title.size() > kWindowTitleMax)
    return window_invalid(fmt::format("title is over {} bytes", kWindowTitleMax));
  if (d.body.size() > kWindowBodyMax)
    return window_invalid(fmt::format("body is over {} bytes", kWindowBodyMax));
  if (d.monitors.empty()) return window_invalid("monitors names at least one monitor or glob");
  if (d.monitors.size() > kWindowMonitorsMax)
    return window_invalid(fmt::format("monitors names more than {}", kWindowMonitorsMax));
  for (const auto& m : d.monitors) {
    if (!matches_any(m)) return window_invalid(fmt::format("\"{}\" matches no monitor", m));
  }
  const auto start = parse_rfc3339(d.start);
  if (!start)
    return window_invalid(fmt::format(
        "start \"{}\" is not an RFC 3339 time such as \"2026-12-01T02:00:00Z\"", d.start));
  const DurationParse duration = parse_duration(d.duration);
  if (!duration.value) return window_invalid(fmt::format("duration: {}", duration.error));
  if (duration.value->count() <= 0) return window_invalid("duration must be more than 0s");
  if (*duration.value > kLongest) return window_invalid("duration is at most 31 days");
  if (*start + *duration.value <= now) return window_invalid("the window has already ended");
  MaintenanceChange c;
  c.window = {0, d.title, d.body, d.monitors, *start, *duration.value};
  return c;
}

std::optional<int64_t> api_maintenance_id(const std::string& id) {
  // As listed: digits without a leading zero, so that "07" names nothing, as on one node.
  if (id.empty() || id.size() > 18 || id[0] == '0' ||
      !std::all_of(id.begin(), id.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
    return std::nullopt;
  }
  return std::stoll(id);
}

MaintenanceChange MaintenanceBook::add(const MaintenanceDraft& d, WallTime now,
                                       const std::function<bool(const std::string&)>& matches_any) {
  MaintenanceChange c = check_maintenance(d, now, matches_any);
  if (c.code != MaintenanceChange::Code::kDone) return c;
  c.window.id = next_id_++;
  api_.push_back(c.window);
  return c;
}

MaintenanceChange MaintenanceBook::remove(const std::string& id) {
  MaintenanceChange c;
  if (const auto block = config_block(id)) {
    c.code = *block;
    return c;
  }
  const auto it = std::find_if(api_.begin(), api_.end(), [&](const MaintenanceRecord& w) {
    return std::to_string(w.id) == id;
  });
  if (it == api_.end()) {
    c.code = MaintenanceChange::Code::kUnknown;
    return c;
  }
  c.window = *it;
  api_.erase(it);
  return c;
}

std::optional<MaintenanceChange::Code> MaintenanceBook::config_block(const std::string& id) const {
  if (id.rfind(kConfigPrefix, 0) != 0) return std::nullopt;
  const std::string n = id.substr(kConfigPrefix.size());
  const bool known =
      !n.empty() && n.size() < 6 &&
      std::all_of(n.begin(), n.end(), [](char ch) { return ch >= '0' && ch <= '9'; }) &&
      std::stoul(n) >= 1 && std::stoul(n) <= config_.size();
  return known ? MaintenanceChange::Code::kFromConfig : MaintenanceChange::Code::kUnknown;
}

bool MaintenanceBook::covers(const std::string& monitor, WallTime t) const {
  const auto hit = [&](const MaintenanceRecord& w) { return maintenance_covers(w, monitor, t); };
  return std::any_of(config_.begin(), config_.end(), hit) ||
         std::any_of(api_.begin(), api_.end(), hit);
}

std::optional<WallTime> MaintenanceBook::next_edge(WallTime t) const {
  std::optional<WallTime> next;
  const auto consider = [&](WallTime edge) {
    if (edge > t && (!next || edge < *next)) next = edge;
  };
  for (const auto* list : {&config_, &api_}) {
    for (const auto& w : *list) {
      consider(w.start);
      consider(w.end());
    }
  }
  return next;
}

std::vector<ListedMaintenance> MaintenanceBook::listed(WallTime now) const {
  std::vector<ListedMaintenance> out;
  for (size_t i = 0; i < config_.size(); ++i) {
    if (config_[i].end() > now)
      out.push_back({kConfigPrefix + std::to_string(i + 1), true, config_[i]});
  }
  for (const auto& w : api_) {
    if (w.end() > now) out.push_back({std::to_string(w.id), false, w});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.window.start < b.window.start; });
  return out;
}

}  // namespace lookout
