#include "alerting/message.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "alerting/location_incidents.h"
#include "core/digest.h"

namespace lookout {

namespace {

nlohmann::json parsed_payload(const OutboxRow& row) {
  if (row.payload.empty()) return nullptr;
  auto j = nlohmann::json::parse(row.payload, nullptr, false);
  return j.is_object() ? j : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json incident_of(const OutboxRow& row) {
  return is_post_event(row.event) ? nlohmann::json(nullptr) : parsed_payload(row);
}

nlohmann::json post_of(const OutboxRow& row) {
  return is_post_event(row.event) ? parsed_payload(row) : nlohmann::json(nullptr);
}

std::string incident_field(const nlohmann::json& incident, const char* key) {
  const auto it = incident.find(key);
  return it != incident.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string one_line(std::string s, size_t max) {
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  if (s.size() > max) s = s.substr(0, max - 3) + "...";
  return s;
}

std::string event_label(const std::string& event, const std::string& state) {
  std::string s = state;
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (event == "incident.resolved") return "RESOLVED";
  if (event == "incident.acknowledged") return "ACK " + s;
  if (event == "incident.escalated") return "ESCALATED " + s;
  if (event == "incident.reminder") return "REMINDER " + s;
  if (event == "test") return "TEST";
  return s;
}

std::string post_label(const std::string& event, const std::string& status) {
  if (status == "resolved") return "POST RESOLVED";
  return event == kPostPosted ? "POST" : "POST UPDATE";
}

std::string event_label(const OutboxRow& row) {
  if (is_post_event(row.event))
    return post_label(row.event, incident_field(post_of(row), "status"));
  return event_label(row.event, payload_fields(row.payload).state);
}

std::string counted_labels(const Batch& rows) {
  std::vector<std::pair<std::string, size_t>> counts;
  for (const auto& r : rows) {
    const std::string l = event_label(r);
    auto it =
        std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.first == l; });
    if (it == counts.end()) {
      counts.emplace_back(l, 1);
    } else {
      ++it->second;
    }
  }
  std::string out;
  for (const auto& [l, n] : counts) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", n, l);
  return out;
}

std::string subject_of(const OutboxRow& row) {
  if (is_post_event(row.event)) return one_line(incident_field(post_of(row), "title"), 200);
  return payload_fields(row.payload).monitor;
}

std::string time_of_day(const std::string& rfc3339) {
  if (rfc3339.size() < 20 || rfc3339[10] != 'T' || rfc3339.back() != 'Z') return rfc3339;
  return rfc3339.substr(11, 8) + "Z";
}

std::string status_url(const std::string& public_url) { return public_url + "/"; }

std::string notification_id(const Batch& rows) {
  if (rows.size() == 1) return rows.front().id;
  std::string ids;
  for (const auto& r : rows) ids += r.id + '\n';
  return "grp_" + sha256_hex(ids).substr(0, 32);
}

std::string notification_event(const Batch& rows) {
  return rows.size() == 1 ? rows.front().event : "group";
}

std::string PostNotice::summary(size_t max) const { return one_line(body, max); }

std::string PostNotice::monitors_text() const {
  if (monitors.empty()) return "the whole service";
  return one_line(fmt::format("{}", fmt::join(monitors, ", ")), 500);
}

PostNotice post_notice(const nlohmann::json& post) {
  PostNotice p;
  if (!post.is_object()) return p;
  if (auto id = post.find("id"); id != post.end() && id->is_number_integer())
    p.id = id->get<int64_t>();
  p.title = one_line(incident_field(post, "title"), 200);
  p.status = incident_field(post, "status");
  p.impact = incident_field(post, "impact");
  if (auto m = post.find("monitors"); m != post.end() && m->is_array()) {
    for (const auto& name : *m) {
      if (name.is_string()) p.monitors.push_back(name.get<std::string>());
    }
  }
  p.created_at = incident_field(post, "created_at");
  p.resolved_at = incident_field(post, "resolved_at");
  p.url = incident_field(post, "url");
  if (auto u = post.find("update"); u != post.end() && u->is_object()) {
    p.body = incident_field(*u, "body");
    p.at = incident_field(*u, "at");
  }
  return p;
}

Notice notice_of(const OutboxRow& row, const std::string& public_url) {
  Notice n;
  n.event = row.event;
  n.label = event_label(row);
  if (is_post_event(row.event)) {
    n.post = post_notice(post_of(row));
    return n;
  }
  const auto inc = incident_of(row);
  if (inc.is_null()) {
    n.test = true;
    return n;
  }
  if (auto id = inc.find("id"); id != inc.end() && id->is_number_integer())
    n.incident_id = id->get<int64_t>();
  n.monitor = incident_field(inc, "monitor");
  n.group = incident_field(inc, "group");
  n.type = incident_field(inc, "type");
  n.state = incident_field(inc, "state");
  n.cause = one_line(incident_field(inc, "cause"), 300);
  n.since = incident_field(inc, "started_at");
  // A silent location has no monitor page; the cluster's view lists its nodes and when each
  // was last seen.
  n.monitor_url = n.type == kLocationIncidentType ? public_url + "/api/v1/cluster"
                                                  : public_url + "/monitor/" + n.monitor;
  if (row.event != "incident.resolved" && row.event != "incident.acknowledged")
    n.ack_url = incident_field(inc, "ack_url");
  return n;
}

std::string Notice::title() const {
  if (test) return "TEST lookout: this channel delivers";
  if (post) {
    std::string out = label;
    if (!post->impact.empty() && post->impact != "none") out += fmt::format(" [{}]", post->impact);
    out += " " + post->title;
    if (!post->resolved()) out += ": " + post->status;
    return out;
  }
  return cause.empty() || resolved() ? fmt::format("{} {}", label, monitor)
                                     : fmt::format("{} {}: {}", label, monitor, cause);
}

std::string Notice::state_text() const {
  if (test) return "test";
  if (post) return post->status;
  if (resolved()) return "resolved";
  if (event == "incident.acknowledged") return state + ", acknowledged";
  return state;
}

std::string Notice::text() const {
  if (test) return "TEST lookout: this channel delivers. Nothing is wrong.";
  std::string out = title() + "\n";
  if (post) {
    if (const std::string s = post->summary(); !s.empty()) out += s + "\n";
    if (!post->monitors.empty()) out += fmt::format("about {}\n", post->monitors_text());
    out += post->url + "\n";
    return out;
  }
  out += fmt::format("{} since {}\n", resolved() ? "was down" : "state " + state, since);
  out += monitor_url + "\n";
  if (!ack_url.empty()) out += "acknowledge: " + ack_url + "\n";
  return out;
}

Digest digest_of(const Batch& rows, const std::string& public_url) {
  Digest d;
  d.title = "lookout: " + counted_labels(rows);
  for (size_t i = 0; i < rows.size() && i < Digest::kShown; ++i)
    d.shown.push_back(notice_of(rows[i], public_url));
  d.more = rows.size() - d.shown.size();
  d.status_url = status_url(public_url);
  return d;
}

std::string Digest::text() const {
  std::string out = title + "\n";
  for (const auto& n : shown) out += n.title() + "\n";
  if (more > 0) {
    out += fmt::format("... and {} more: {}\n", more, status_url);
  } else {
    out += status_url + "\n";
  }
  return out;
}

Batch in_event_order(Batch rows) {
  std::stable_sort(rows.begin(), rows.end(),
                   [](const OutboxRow& a, const OutboxRow& b) { return a.created < b.created; });
  return rows;
}

}  // namespace lookout
