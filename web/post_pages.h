// Posts on the status page: their text as HTML (escaped, web links made clickable, nothing
// else), the section of open posts above everything on `/`, and a post's own page.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "store/records.h"
#include "web/post_text.h"
#include "web/snapshot.h"

namespace lookout {

// Whether a reader sees the post: the admin always, anyone when it is public (post_is_public).
bool post_visible(const PostRecord& p, const Snapshot& s, bool admin);
// The post's monitors that reader may see: all for the admin, else the public ones.
std::vector<std::string> post_monitors_for(const PostRecord& p, const Snapshot& s, bool admin);
// The posts that reader sees, newest first; only the open ones when `open_only`.
std::vector<const PostRecord*> visible_posts(const Snapshot& s, bool admin, bool open_only);

// "Investigating", "Identified", ...; "No impact", "Minor impact", ...
const char* post_status_label(PostStatus s);
const char* post_impact_label(PostImpact i);

// What a monitor's row on `/` says when open posts name it: the worst impact in words, linked
// to the newest such post ("Major impact" -> /posts/7); empty when none names it.
std::string post_impact_note(const std::string& monitor,
                             const std::vector<const PostRecord*>& open);

// The open posts, newest first, as the first section of `/`: title, latest status, impact and
// latest update. Empty when there is none.
std::string open_posts_section(const std::vector<const PostRecord*>& open);

struct PostPageInput {
  const PostRecord& post;
  std::vector<std::string> monitors;  // those of the post the reader may see
  std::string title;                  // the status page's
  WallTime now;
};
// `/posts/ID`: every update with its status, time and text, newest first.
std::string render_post_page(const PostPageInput& in);

// The rules the post markup needs, appended to the page's stylesheet.
const char* post_stylesheet();

}  // namespace lookout
