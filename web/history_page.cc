#include "web/history_page.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <ctime>

#include "web/pages.h"
#include "web/post_pages.h"
#include "web/svg.h"

namespace lookout {
namespace {

struct HistoryEntry {
  WallTime at;  // when it began: the month it is listed under
  std::string html;
};

std::string post_item(const PostRecord& p) {
  return fmt::format(
      "<li class=\"post-past impact-{0}\" data-post=\"{1}\"><a href=\"/posts/{1}\">{2}</a> "
      "<span class=\"post-impact\">{3}</span>, posted {4}{5}</li>",
      to_string(p.impact), p.id, xml_escape(p.title), post_impact_label(p.impact),
      page_time(p.created_at), p.resolved_at ? ", resolved " + page_time(*p.resolved_at) : "");
}

}  // namespace

std::string month_heading(WallTime t) {
  static constexpr std::array<const char*, 12> kMonths{
      "January", "February", "March",     "April",   "May",      "June",
      "July",    "August",   "September", "October", "November", "December"};
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{} {}", kMonths.at(static_cast<size_t>(tm.tm_mon)), tm.tm_year + 1900);
}

std::string render_history_page(const HistoryPageInput& in) {
  std::vector<HistoryEntry> entries;
  for (const PostRecord* p : in.posts) entries.push_back({p->created_at, post_item(*p)});
  for (const auto& i : in.incidents) entries.push_back({i.started_at, page_incident_item(i)});
  std::stable_sort(entries.begin(), entries.end(),
                   [](const HistoryEntry& a, const HistoryEntry& b) { return a.at > b.at; });
  std::string out = page_head(fmt::format("History: {}", in.title), false);
  out += fmt::format(
      "<header><p><a href=\"/\">{}</a></p><h1>History</h1><p>Resolved notices and incidents of "
      "the last {} days, newest first.</p></header><main>",
      xml_escape(in.title), in.days);
  if (entries.empty()) out += "<p>Nothing happened in this time.</p>";
  std::string month;
  for (const HistoryEntry& e : entries) {
    const std::string heading = month_heading(e.at);
    if (heading != month) {
      if (!month.empty()) out += "</ul></section>";
      month = heading;
      out += fmt::format("<section class=\"incidents history-month\"><h2>{}</h2><ul>", heading);
    }
    out += e.html;
  }
  if (!month.empty()) out += "</ul></section>";
  out +=
      fmt::format("</main><footer><p>Updated {}.</p></footer></body></html>\n", page_time(in.now));
  return out;
}

}  // namespace lookout
