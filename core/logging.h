// Log set-up: spdlog to stderr, which systemd hands to the journal.
#pragma once

#include <string>

namespace lookout {

// level: trace, debug, info, warn, error. Under systemd (JOURNAL_STREAM set) lines carry no
// timestamp of their own: the journal adds one.
void setup_logging(const std::string& level);

}  // namespace lookout
