// `lookout post new|update|list`: incident posts written and read through the running daemon's
// admin API, so that the loop that owns the posts numbers, stores and publishes them.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "config/config.h"
#include "daemon/admin_call.h"
#include "daemon/cli.h"

namespace lookout {
namespace {

// One line of `post list`: id, status, created_at, title.
std::string post_line(const nlohmann::json& p) {
  return fmt::format("{:>5}  {:<13}  {}  {}", p.value("id", 0), p.value("status", ""),
                     p.value("created_at", ""), p.value("title", ""));
}

}  // namespace

int cmd_post(const std::string& config_path, const PostArgs& args) {
  const LoadResult loaded = load_config(config_path);
  print_config_errors(loaded);
  if (!loaded.ok()) return 2;
  const Config& config = *loaded.config;

  AdminAnswer a;
  if (args.action == "new") {
    nlohmann::json post = {{"title", args.title},
                           {"status", args.status},
                           {"body", args.body},
                           {"monitors", args.monitors}};
    if (!args.impact.empty()) post["impact"] = args.impact;
    a = call_daemon(config, config_path, "POST", "/api/v1/posts", post.dump());
  } else if (args.action == "update") {
    const nlohmann::json update = {{"status", args.status}, {"body", args.body}};
    a = call_daemon(config, config_path, "POST", fmt::format("/api/v1/posts/{}/updates", args.id),
                    update.dump());
  } else {
    a = call_daemon(config, config_path, "GET", "/api/v1/posts?state=" + args.state);
  }
  if (!a.error.empty()) {
    std::cerr << a.error << "\n";
    return 1;
  }
  const bool listed = args.action == "list" && a.status == 200;
  if (!listed && a.status != 201) {
    std::cerr << fmt::format("post refused: {}\n", a.refusal());
    return 1;
  }
  if (!a.json.is_object()) {
    std::cerr << fmt::format("the daemon answered something else than a post: {}\n", a.body);
    return 1;
  }
  if (args.action == "new") {
    std::cout << a.json.value("id", 0) << "\n";
  } else if (args.action == "update") {
    std::cout << post_line(a.json) << "\n";
  } else if (a.json.contains("posts") && a.json["posts"].is_array()) {
    for (const auto& p : a.json["posts"]) std::cout << post_line(p) << "\n";
  }
  return 0;
}

}  // namespace lookout
