// `/feed.atom`: an Atom 1.0 feed (RFC 4287) of what readers of the page may see: one entry per
// post (updated at its last update, its content every update), and one per opening and per
// resolution of a public monitor's incident; the newest 50. Entry ids are the entries' own
// addresses under public_url, so they stay the same from one fetch to the next. Pure.
#pragma once

#include <string>
#include <vector>

#include "store/records.h"

namespace lookout {

struct FeedInput {
  std::string title;                      // the status page's: the feed's title and author
  std::string public_url;                 // without a trailing slash
  std::vector<const PostRecord*> posts;   // public ones
  std::vector<IncidentRecord> incidents;  // of public monitors, open and resolved
  WallTime now;
};

inline constexpr size_t kFeedEntries = 50;

std::string render_atom_feed(const FeedInput& in);

}  // namespace lookout
