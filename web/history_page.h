// `/history`: what happened, by month, newest first: resolved posts and the resolved incidents
// of the monitors the reader may see. Pure, like the other pages.
#pragma once

#include <string>
#include <vector>

#include "store/records.h"

namespace lookout {

struct HistoryPageInput {
  std::string title;                      // the status page's
  std::vector<const PostRecord*> posts;   // resolved, visible to the reader
  std::vector<IncidentRecord> incidents;  // resolved, of monitors visible to the reader
  WallTime now;
  int days = 0;  // how far back the page looks
};
std::string render_history_page(const HistoryPageInput& in);

// "December 2026" for a time in that month (UTC).
std::string month_heading(WallTime t);

}  // namespace lookout
