#include "web/post_pages.h"

#include <fmt/format.h>

#include <algorithm>

#include "alerting/posts.h"
#include "web/pages.h"
#include "web/post_text.h"
#include "web/svg.h"

namespace lookout {
namespace {

std::string post_update_item(const PostUpdate& u) {
  return fmt::format(
      "<li class=\"post-update\"><span class=\"post-status\">{}</span> {}<p "
      "class=\"post-body\">{}</p></li>",
      post_status_label(u.status), page_time(u.at), post_body_html(u.body));
}

}  // namespace

bool post_visible(const PostRecord& p, const Snapshot& s, bool admin) {
  return admin ||
         post_is_public(p, [&](const std::string& m) { return s.find(m, false) != nullptr; });
}

std::vector<std::string> post_monitors_for(const PostRecord& p, const Snapshot& s, bool admin) {
  std::vector<std::string> out;
  for (const auto& m : p.monitors) {
    if (admin || s.find(m, false) != nullptr) out.push_back(m);
  }
  return out;
}

std::vector<const PostRecord*> visible_posts(const Snapshot& s, bool admin, bool open_only) {
  std::vector<const PostRecord*> out;
  // Kept oldest first; shown newest first.
  for (auto it = s.posts->rbegin(); it != s.posts->rend(); ++it) {
    if ((!open_only || it->open()) && post_visible(*it, s, admin)) out.push_back(&*it);
  }
  return out;
}

const char* post_status_label(PostStatus s) {
  switch (s) {
    case PostStatus::kInvestigating:
      return "Investigating";
    case PostStatus::kIdentified:
      return "Identified";
    case PostStatus::kMonitoring:
      return "Monitoring";
    case PostStatus::kResolved:
      return "Resolved";
  }
  return "Investigating";
}

const char* post_impact_label(PostImpact i) {
  switch (i) {
    case PostImpact::kNone:
      return "No impact";
    case PostImpact::kMinor:
      return "Minor impact";
    case PostImpact::kMajor:
      return "Major impact";
    case PostImpact::kCritical:
      return "Critical impact";
  }
  return "No impact";
}

std::string post_impact_note(const std::string& monitor,
                             const std::vector<const PostRecord*>& open) {
  const PostRecord* newest = nullptr;
  PostImpact worst = PostImpact::kNone;
  for (const PostRecord* p : open) {
    if (std::find(p->monitors.begin(), p->monitors.end(), monitor) == p->monitors.end()) continue;
    if (newest == nullptr) newest = p;  // `open` comes newest first
    worst = std::max(worst, p->impact);
  }
  if (newest == nullptr) return "";
  return fmt::format("<span class=\"post-note impact-{}\"><a href=\"/posts/{}\">{}</a></span>",
                     to_string(worst), newest->id, post_impact_label(worst));
}

std::string open_posts_section(const std::vector<const PostRecord*>& open) {
  if (open.empty()) return "";
  std::string out =
      "<section class=\"posts\" aria-labelledby=\"open-posts\"><h2 id=\"open-posts\">Current "
      "notices</h2><ul>";
  for (const PostRecord* p : open) {
    const PostUpdate& latest = p->updates.back();
    out += fmt::format(
        "<li class=\"post impact-{0}\" data-post=\"{1}\"><div class=\"row\"><a class=\"name\" "
        "href=\"/posts/{1}\">{2}</a><span class=\"post-impact\">{3}</span></div><p><span "
        "class=\"post-status\">{4}</span> {5}</p><p class=\"post-body\">{6}</p></li>",
        to_string(p->impact), p->id, xml_escape(p->title), post_impact_label(p->impact),
        post_status_label(latest.status), page_time(latest.at), post_body_html(latest.body));
  }
  return out + "</ul></section>";
}

std::string render_post_page(const PostPageInput& in) {
  const PostRecord& p = in.post;
  std::string out = page_head(fmt::format("{}: {}", p.title, in.title), true);
  out += fmt::format(
      "<header><p><a href=\"/\">{}</a></p><h1>{}</h1><p class=\"banner post-banner "
      "impact-{}\" role=\"status\">{}: {}</p></header><main>",
      xml_escape(in.title), xml_escape(p.title), p.open() ? to_string(p.impact) : "resolved",
      post_status_label(p.status()), post_impact_label(p.impact));
  out += "<section><h2>Summary</h2><dl>";
  out += fmt::format("<dt>Posted</dt><dd>{}</dd>", page_time(p.created_at));
  if (p.resolved_at) out += fmt::format("<dt>Resolved</dt><dd>{}</dd>", page_time(*p.resolved_at));
  if (!in.monitors.empty()) {
    std::string names;
    for (const auto& m : in.monitors) {
      if (!names.empty()) names += ", ";
      names += fmt::format("<a href=\"/monitor/{0}\">{0}</a>", xml_escape(m));
    }
    out += fmt::format("<dt>Affects</dt><dd>{}</dd>", names);
  }
  out += "</dl></section><section class=\"post-timeline\"><h2>Updates</h2><ul>";
  std::for_each(p.updates.rbegin(), p.updates.rend(),
                [&out](const PostUpdate& u) { out += post_update_item(u); });
  out += fmt::format("</ul></section></main><footer><p>Updated {}.</p></footer></body></html>\n",
                     page_time(in.now));
  return out;
}

const char* post_stylesheet() {
  return R"css(.post{background:var(--card);border:1px solid var(--line);
border-left:4px solid var(--maint);border-radius:8px;padding:10px 12px;margin:8px 0}
.post.impact-minor,.post-banner.impact-minor{border-left-color:var(--degraded)}
.post.impact-major,.post.impact-critical{border-left-color:var(--down)}
.post-banner.impact-none{background:var(--maint)}.post-banner.impact-minor{background:var(--degraded)}
.post-banner.impact-major,.post-banner.impact-critical{background:var(--down)}
.post-banner.impact-resolved{background:var(--up)}
.post p{margin:4px 0}.post-status{font-weight:600}.post-impact{color:var(--muted)}
.post-body{white-space:pre-line;overflow-wrap:anywhere}
.post-update{border-left:2px solid var(--line);padding:4px 10px;margin:8px 0}
.post-note{margin-left:auto;margin-right:8px;font-size:.875rem;font-weight:600}
.post-note.impact-none{color:var(--maint)}.post-note.impact-minor{color:var(--degraded)}
.post-note.impact-major,.post-note.impact-critical{color:var(--down)}
)css";
}

}  // namespace lookout
