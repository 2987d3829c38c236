// How the subcommands that act on the running daemon (`accept`, `post`) reach it: its listen
// address (a daemon listening on every address is reached on loopback), the admin token as a
// bearer token, and HTTPS pinned to the daemon's own key when it serves TLS, since the daemon's
// certificate is made out for its public name, not for the loopback address asked here.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "config/config.h"

namespace lookout {

struct AdminAnswer {
  // Why the daemon was not asked or did not answer, ready to print; empty when it answered.
  std::string error;
  long status = 0;
  std::string body;
  nlohmann::json json;  // the body parsed; discarded when it is not JSON
  // The daemon's own `{"error"}` text, else the body, then the HTTP status: "... (HTTP 400)".
  std::string refusal() const;
};

// `method` is GET or POST; a POST sends `json_body` as application/json.
AdminAnswer call_daemon(const Config& config, const std::string& config_path,
                        const std::string& method, const std::string& path,
                        const std::string& json_body = {});

}  // namespace lookout
