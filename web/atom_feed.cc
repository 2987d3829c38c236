#include "web/atom_feed.h"

#include <fmt/format.h>

#include <algorithm>

#include "web/pages.h"
#include "web/post_pages.h"
#include "web/svg.h"

namespace lookout {
namespace {

struct FeedEntry {
  std::string id, title, link;
  WallTime published, updated;
  std::string html;  // the content, as HTML (escaped once more in the XML)
};

FeedEntry post_entry(const PostRecord& p, const std::string& base) {
  FeedEntry e;
  e.link = fmt::format("{}/posts/{}", base, p.id);
  e.id = e.link;
  e.title = fmt::format("{} ({})", p.title, post_status_label(p.status()));
  e.published = p.created_at;
  e.updated = p.updates.empty() ? p.created_at : p.updates.back().at;
  e.html = fmt::format("<p>{}</p>", post_impact_label(p.impact));
  for (size_t i = p.updates.size(); i-- > 0;) {
    const PostUpdate& u = p.updates[i];
    e.html += fmt::format("<p><strong>{}</strong> {}</p><p>{}</p>", post_status_label(u.status),
                          page_time(u.at), post_body_html(u.body));
  }
  return e;
}

FeedEntry incident_entry(const IncidentRecord& i, bool resolution, const std::string& base) {
  FeedEntry e;
  e.link = fmt::format("{}/monitor/{}", base, i.monitor);
  e.id = fmt::format("{}#incident-{}-{}", e.link, i.id, resolution ? "resolved" : "opened");
  const std::string word = to_string(i.state);
  e.published = resolution ? *i.resolved_at : i.started_at;
  e.updated = e.published;
  if (resolution) {
    e.title = fmt::format("{} is up again", i.monitor);
    e.html = fmt::format("<p>{} was {} from {} to {}: {}</p>", xml_escape(i.monitor), word,
                         page_time(i.started_at), page_time(*i.resolved_at), xml_escape(i.cause));
  } else {
    e.title = fmt::format("{} is {}", i.monitor, word);
    e.html = fmt::format("<p>{} is {} since {}: {}</p>", xml_escape(i.monitor), word,
                         page_time(i.started_at), xml_escape(i.cause));
  }
  return e;
}

}  // namespace

std::string render_atom_feed(const FeedInput& in) {
  std::vector<FeedEntry> entries;
  for (const PostRecord* p : in.posts) entries.push_back(post_entry(*p, in.public_url));
  for (const auto& i : in.incidents) {
    entries.push_back(incident_entry(i, false, in.public_url));
    if (i.resolved_at) entries.push_back(incident_entry(i, true, in.public_url));
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const FeedEntry& a, const FeedEntry& b) { return a.updated > b.updated; });
  if (entries.size() > kFeedEntries) entries.resize(kFeedEntries);
  const WallTime updated = entries.empty() ? in.now : entries.front().updated;
  std::string out = fmt::format(
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">"
      "<id>{0}/feed.atom</id><title>{1}</title><updated>{2}</updated><author><name>{1}</name>"
      "</author><link rel=\"self\" type=\"application/atom+xml\" href=\"{0}/feed.atom\"/>"
      "<link rel=\"alternate\" type=\"text/html\" href=\"{0}/\"/><generator>lookout</generator>",
      xml_escape(in.public_url), xml_escape(in.title), rfc3339(updated));
  for (const FeedEntry& e : entries) {
    out += fmt::format(
        "<entry><id>{}</id><title>{}</title><published>{}</published><updated>{}</updated>"
        "<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/><content "
        "type=\"html\">{}</content></entry>",
        xml_escape(e.id), xml_escape(e.title), rfc3339(e.published), rfc3339(e.updated),
        xml_escape(e.link), xml_escape(e.html));
  }
  return out + "</feed>\n";
}

}  // namespace lookout
