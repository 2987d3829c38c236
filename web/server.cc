#include "web/server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <tuple>

#include "alerting/ack_token.h"
#include "core/utf8.h"
#include "web/atom_feed.h"
#include "web/gated_server.h"
#include "web/gzip.h"
#include "web/history_page.h"
#include "web/history_params.h"
#include "web/hooks.h"
#include "web/loggable_path.h"
#include "web/maintenance_view.h"
#include "web/metrics.h"
#include "web/pages.h"
#include "web/post_pages.h"
#include "web/status_json.h"
#include "web/statuspage.h"
#include "web/svg.h"

namespace lookout {
namespace {
void json_error(httplib::Response& res, int status, const std::string& message);
}  // namespace

bool token_matches(const std::string& presented, const Secret& expected) {
  const std::string& want = expected.reveal();
  if (presented.size() != want.size() || want.empty()) return false;
  return CRYPTO_memcmp(presented.data(), want.data(), want.size()) == 0;
}

namespace {

// Keep-alive as cpp-httplib is told below: at most this many requests per connection.
constexpr size_t kKeepAliveMax = 100;

// Behind the accept gate: HTTPS with server.tls_cert and server.tls_key (checked when the
// config loaded), else plain HTTP for a reverse proxy or loopback.
std::unique_ptr<GatedServer> make_http_server(const ServerConfig& cfg) {
  GateLimits limits;
  limits.max_per_client = cfg.max_connections_per_client;
  limits.max_connections = cfg.max_connections;
  limits.header_timeout = cfg.header_timeout;
  limits.body_timeout = cfg.body_timeout;
  limits.max_body = cfg.max_request;
  limits.keep_alive_max = kKeepAliveMax;
  if (cfg.tls_cert.empty()) return std::make_unique<GatedServer>(limits);
  const TlsFiles files{cfg.tls_cert, cfg.tls_key};
  return std::make_unique<GatedServer>(limits, &files);
}

}  // namespace

WebServer::WebServer(const ServerConfig& cfg, const Clock& clock, const SnapshotHub& snapshots,
                     StorageReader& storage, LoopCalls calls)
    : cfg_(cfg),
      clock_(clock),
      snapshots_(snapshots),
      storage_(storage),
      calls_(std::move(calls)),
      limiter_(cfg.rate_limit, cfg.rate_window),
      ping_limiter_(cfg.ping_rate_limit, cfg.ping_rate_window),
      svr_(make_http_server(cfg)) {}

bool WebServer::visible(const std::string& monitor, const Snapshot& s, bool admin) const {
  return admin || s.find(monitor, false) != nullptr;
}

bool WebServer::within_rate(const std::string& client, httplib::Response& res) {
  const int64_t wait = limiter_.check(client, clock_.mono());
  if (wait == 0) return true;
  res.set_header("Retry-After", std::to_string(wait));
  json_error(res, 429, fmt::format("too many requests; retry in {} s", wait));
  return false;
}

WebServer::~WebServer() { stop(); }

bool WebServer::authorized(const std::string& header, const Snapshot& s) const {
  if (!s.admin_token) return false;
  static constexpr std::string_view kBearer = "Bearer ";
  static constexpr std::string_view kBasic = "Basic ";
  if (header.size() > kBearer.size() && header.compare(0, kBearer.size(), kBearer) == 0) {
    return token_matches(header.substr(kBearer.size()), *s.admin_token);
  }
  // Browsers: HTTP Basic with any user name and the token as the password.
  if (header.size() > kBasic.size() && header.size() < 1024 &&
      header.compare(0, kBasic.size(), kBasic) == 0) {
    const std::string encoded = header.substr(kBasic.size());
    std::string decoded(encoded.size(), '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                  reinterpret_cast<const unsigned char*>(encoded.data()),
                                  static_cast<int>(encoded.size()));
    if (n < 0) return false;
    decoded.resize(static_cast<size_t>(n));
    size_t pad = 0;
    for (auto it = encoded.rbegin(); it != encoded.rend() && *it == '='; ++it) ++pad;
    decoded.resize(decoded.size() - std::min(pad, decoded.size()));
    const size_t colon = decoded.find(':');
    return colon != std::string::npos && token_matches(decoded.substr(colon + 1), *s.admin_token);
  }
  return false;
}

namespace {

void json_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(nlohmann::json{{"error", message}}.dump(), "application/json");
}

// The loop did not answer in time, or (in cluster mode) the database could not record it.
constexpr char kAckNotTaken[] =
    "the acknowledgement may not be recorded: the daemon did not answer in time or cannot reach "
    "its database; try again (one made twice counts once)";

}  // namespace

void WebServer::routes() {
  auto& svr = *svr_;
  httplib::Headers headers{
      // Pages load one stylesheet from here and nothing else; no script runs anywhere.
      {"Content-Security-Policy",
       "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri "
       "'none'; form-action 'self'"},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      {"X-Frame-Options", "DENY"},
      {"Cache-Control", "no-store"},
  };
  // Served over HTTPS: browsers keep to it for a year.
  if (!cfg_.tls_cert.empty()) headers.emplace("Strict-Transport-Security", "max-age=31536000");
  svr.set_default_headers(std::move(headers));
  svr.set_payload_max_length(cfg_.max_request);
  svr.set_keep_alive_max_count(kKeepAliveMax);
  // Headers and body go out in separate writes: without this, Nagle's algorithm and delayed
  // ACKs hold every answer back by 40 ms.
  svr.set_tcp_nodelay(true);

  svr.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    const HealthReport h = calls_.health();
    res.status = h.ok ? 200 : 503;
    res.set_content(h.ok ? "ok\n" : h.reason + "\n", "text/plain; charset=utf-8");
  });
  svr.Get("/api/v1/status", [this](const httplib::Request& req, httplib::Response& res) {
    const bool admin = authorized(req.get_header_value("Authorization"), *snapshots_.get());
    serve(req, res,
          cached(admin ? admin_status_ : public_status_,
                 [this, admin] {
                   return status_json(*snapshots_.get(), *storage_.summaries().get(), admin).dump();
                 }),
          "application/json");
  });
  // A private monitor answers exactly like a name that does not exist.
  svr.Get(R"(/api/v1/monitors/([a-z0-9_-]{1,200}))",
          [this](const httplib::Request& req, httplib::Response& res) {
            const auto snap = snapshots_.get();
            const bool admin = authorized(req.get_header_value("Authorization"), *snap);
            const MonitorView* m = snap->find(req.matches[1].str(), admin);
            if (m == nullptr) return json_error(res, 404, "not found");
            nlohmann::json j = monitor_status_json(*m, *storage_.summaries().get(), admin);
            if (admin && m->ping_token) {
              j["ping_url"] = cfg_.public_url + "/ping/" + m->ping_token->reveal();
              // The last ping's body, a string (made valid UTF-8 as it arrived).
              j["last_message"] =
                  m->last_message ? nlohmann::json(m->last_message->text) : nlohmann::json(nullptr);
            }
            res.set_content(j.dump(), "application/json");
          });
  svr.Get(R"(/api/v1/monitors/([a-z0-9_-]{1,200})/history)", [this](const httplib::Request& req,
                                                                    httplib::Response& res) {
    const auto snap = snapshots_.get();
    const bool admin = authorized(req.get_header_value("Authorization"), *snap);
    const std::string name = req.matches[1];
    if (snap->find(name, admin) == nullptr) {
      json_error(res, 404, "not found");
      return;
    }
    const int64_t now = to_unix_ms(clock_.wall());
    const HistoryParams p =
        parse_history_params(req.get_param_value("window"), req.get_param_value("step"), now);
    if (!p.error.empty()) {
      json_error(res, 400, p.error);
      return;
    }
    const auto reads = storage_.reads();
    if (!reads) {
      json_error(res, 503, "the database cannot be read right now");
      return;
    }
    const auto points = reads->series(name, now - p.window_ms, now, p.step_ms);
    res.set_content(history_json(name, p.window_ms, p.step_ms, points).dump(), "application/json");
  });
  svr.Get("/api/v1/cluster", [this](const httplib::Request& req, httplib::Response& res) {
    if (!admin_call(req, res)) return;
    const auto snap = snapshots_.get();
    if (!snap->cluster) return json_error(res, 404, "this lookout is not a node of a cluster");
    const auto& c = *snap->cluster;
    res.set_content(cluster_json(c.storage_ok, c.nodes, c.read_at).dump(), "application/json");
  });
  svr.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
    const auto snap = snapshots_.get();
    const bool admin = authorized(req.get_header_value("Authorization"), *snap);
    // Moved, not copied: at 10,000 monitors the text is about 12 MB.
    res.body = metrics_text(*snap, storage_.health(), admin);
    if (snap->cluster)
      res.body += cluster_metrics_text(snap->cluster->nodes, snap->cluster->spool_rows);
    res.body += gate_metrics_text(svr_->counts());
    res.set_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  });
  ack_routes();
  incident_routes();
  page_routes();
  ping_routes();
  post_routes();
  maintenance_routes();
  feed_routes();
  subscription_routes();
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    const char* msg = res.status == 404   ? "not found"
                      : res.status == 413 ? "request too large"
                      : res.status == 405 ? "method not allowed"
                                          : "bad request";
    json_error(res, res.status, msg);
  });
  svr.set_exception_handler([](const httplib::Request& req, httplib::Response& res,
                               const std::exception_ptr& ep) {
    std::string what = "unknown";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    spdlog::error("internal error answering {} {}: {}", req.method, loggable_path(req.path), what);
    json_error(res, 500, "internal error");
  });
}

namespace {

void page(httplib::Response& res, int status, const std::string& title, const std::string& body) {
  res.status = status;
  res.set_content(
      fmt::format("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                  "<title>{0}</title></head><body><main><h1>{0}</h1>{1}</main></body></html>\n",
                  xml_escape(title), body),
      "text/html; charset=utf-8");
}

const char* outcome_of(const std::string& status) {
  if (status == "sent") return "delivered";
  if (status == "failed") return "failed";
  if (status == "gave_up") return "gave_up";
  return "pending";
}

}  // namespace

bool WebServer::admin_call(const httplib::Request& req, httplib::Response& res) {
  if (!within_rate(req.remote_addr, res)) return false;
  if (!authorized(req.get_header_value("Authorization"), *snapshots_.get())) {
    res.set_header("WWW-Authenticate", "Bearer");
    json_error(res, 401, "this call needs the admin token: Authorization: Bearer TOKEN");
    return false;
  }
  return true;
}

// Jobs report in (healthchecks.io's paths). The token is the only credential: it is looked up
// by its digest, so an unknown one costs the same as a known one and answers like any unknown
// path, and it is never logged.
void WebServer::ping_routes() {
  auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    const auto snap = snapshots_.get();
    auto ping = ping_of(req.matches.size() > 2 ? req.matches[2].str() : "");
    const auto& tokens = *snap->ping_tokens;
    const auto it = tokens.find(ping_token_digest(req.matches[1].str()));
    if (!ping || it == tokens.end()) return json_error(res, 404, "not found");
    const std::string& monitor = it->second;
    if (const int64_t wait = ping_limiter_.check(monitor, clock_.mono()); wait > 0) {
      res.set_header("Retry-After", std::to_string(wait));
      return json_error(res, 429, fmt::format("too many pings; retry in {} s", wait));
    }
    ping->at = clock_.wall();
    // A job may send any bytes: what is kept (and shown as JSON) is valid UTF-8, each byte
    // that is not replaced by U+FFFD.
    ping->rid = valid_utf8(req.get_param_value("rid").substr(0, 64));
    ping->body = valid_utf8(std::string_view(req.body).substr(0, kMaxPingBody));
    switch (calls_.ping(monitor, std::move(*ping))) {
      case PingTaken::kTaken:
        break;
      case PingTaken::kBehind:
        return json_error(res, 503, "lookout is behind on pings; try again");
      case PingTaken::kNotRecorded:
        return json_error(res, 503,
                          "the ping could not be recorded: the cluster's database cannot be "
                          "reached; try again");
    }
    res.set_content("OK", "text/plain");
  };
  const char* path = R"(/ping/([A-Za-z0-9_-]{16,128})(?:/([a-z0-9]{1,5}))?)";
  svr_->Get(path, handler);  // HEAD too: cpp-httplib answers it with the GET handler
  svr_->Post(path, handler);
}

namespace {

nlohmann::json post_json(const PostRecord& p, std::vector<std::string> monitors) {
  nlohmann::json updates = nlohmann::json::array();
  for (const auto& u : p.updates)
    updates.push_back({{"status", to_string(u.status)}, {"body", u.body}, {"at", rfc3339(u.at)}});
  return {{"id", p.id},
          {"title", p.title},
          {"status", to_string(p.status())},
          {"impact", to_string(p.impact)},
          {"monitors", std::move(monitors)},
          {"created_at", rfc3339(p.created_at)},
          {"resolved_at", p.resolved_at ? nlohmann::json(rfc3339(*p.resolved_at)) : nullptr},
          {"updates", std::move(updates)}};
}

// A JSON string member of a request body, or nullopt when it is there but not a string.
std::optional<std::string> post_field(const nlohmann::json& body, const char* key) {
  if (!body.contains(key) || body[key].is_null()) return std::string();
  if (!body[key].is_string()) return std::nullopt;
  return body[key].get<std::string>();
}

// A list of strings in a request body ([] when absent), or nullopt when it is something else.
std::optional<std::vector<std::string>> name_list(const nlohmann::json& body, const char* key) {
  std::vector<std::string> out;
  if (!body.contains(key)) return out;
  if (!body[key].is_array()) return std::nullopt;
  for (const auto& m : body[key]) {
    if (!m.is_string()) return std::nullopt;
    out.push_back(m.get<std::string>());
  }
  return out;
}

}  // namespace

// Posts people write: made and updated through the loop (their one owner), read from the
// snapshot. A post about private monitors only is private, and a public one never names a
// private monitor to a reader without the token.
void WebServer::post_routes() {
  auto& svr = *svr_;
  auto answer_change = [this](httplib::Response& res, const std::optional<PostChange>& change) {
    if (!change) return json_error(res, 503, "the daemon did not answer in time; try again");
    switch (change->code) {
      case PostChange::Code::kInvalid:
        return json_error(res, 400, change->error);
      case PostChange::Code::kUnknownPost:
        return json_error(res, 404, "not found");
      case PostChange::Code::kUnavailable:
        return json_error(res, 503, change->error);
      case PostChange::Code::kDone:
        break;
    }
    forget_rendered_pages();
    res.status = 201;
    res.set_header("Location", fmt::format("/posts/{}", change->post.id));
    res.set_content(post_json(change->post, change->post.monitors).dump(), "application/json");
  };
  svr.Post("/api/v1/posts",
           [this, answer_change](const httplib::Request& req, httplib::Response& res) {
             if (!admin_call(req, res)) return;
             const auto body = nlohmann::json::parse(req.body, nullptr, false);
             if (!body.is_object()) return json_error(res, 400, "the body is not a JSON object");
             PostCommand command;
             const auto title = post_field(body, "title");
             const auto status = post_field(body, "status");
             const auto impact = post_field(body, "impact");
             const auto text = post_field(body, "body");
             if (!title || !status || !impact || !text)
               return json_error(res, 400, "title, status, impact and body are strings");
             const auto names = name_list(body, "monitors");
             if (!names) return json_error(res, 400, "monitors is a list of names");
             command.draft = {*title, *status, *impact, *text, *names};
             answer_change(res, calls_.post(std::move(command)));
           });
  svr.Post(R"(/api/v1/posts/([0-9]{1,18})/updates)",
           [this, answer_change](const httplib::Request& req, httplib::Response& res) {
             if (!admin_call(req, res)) return;
             const auto body = nlohmann::json::parse(req.body, nullptr, false);
             if (!body.is_object()) return json_error(res, 400, "the body is not a JSON object");
             const auto status = post_field(body, "status");
             const auto text = post_field(body, "body");
             if (!status || !text) return json_error(res, 400, "status and body are strings");
             PostCommand command;
             command.id = std::stoll(req.matches[1]);
             command.draft.status = *status;
             command.draft.body = *text;
             answer_change(res, calls_.post(std::move(command)));
           });
  svr.Get("/api/v1/posts", [this](const httplib::Request& req, httplib::Response& res) {
    const auto snap = snapshots_.get();
    const bool admin = authorized(req.get_header_value("Authorization"), *snap);
    const std::string state = req.has_param("state") ? req.get_param_value("state") : "all";
    if (state != "open" && state != "resolved" && state != "all")
      return json_error(res, 400, "state is open, resolved or all");
    nlohmann::json posts = nlohmann::json::array();
    for (const PostRecord* p : visible_posts(*snap, admin, state == "open")) {
      if (state == "resolved" && p->open()) continue;
      posts.push_back(post_json(*p, post_monitors_for(*p, *snap, admin)));
    }
    res.set_content(nlohmann::json{{"posts", std::move(posts)}}.dump(), "application/json");
  });
  svr.Get(R"(/posts/([0-9]{1,18}))", [this](const httplib::Request& req, httplib::Response& res) {
    const auto snap = snapshots_.get();
    const bool admin = authorized(req.get_header_value("Authorization"), *snap);
    const int64_t id = std::stoll(req.matches[1]);
    for (const PostRecord& p : *snap->posts) {
      if (p.id != id || !post_visible(p, *snap, admin)) continue;
      return res.set_content(
          render_post_page({p, post_monitors_for(p, *snap, admin), snap->title, clock_.wall()}),
          "text/html; charset=utf-8");
    }
    page(res, 404, "Not found", "<p>There is no such post.</p>");
  });
}

// Maintenance windows through the API, beside the config's [[maintenance]] blocks: made and
// deleted by the loop (the alert engine keeps them), listed from the snapshot.
void WebServer::maintenance_routes() {
  auto& svr = *svr_;
  auto answer = [this](httplib::Response& res, const std::optional<MaintenanceChange>& change,
                       bool created) {
    if (!change) {
      // The loop still makes the change it did not answer in time.
      return json_error(res, 503,
                        "the daemon did not answer in time: the change may still be made; GET "
                        "/api/v1/maintenance shows whether it was");
    }
    switch (change->code) {
      case MaintenanceChange::Code::kInvalid:
        return json_error(res, 400, change->error);
      case MaintenanceChange::Code::kUnavailable:
        return json_error(res, 503, change->error);
      case MaintenanceChange::Code::kUnknown:
        return json_error(res, 404, "not found");
      case MaintenanceChange::Code::kFromConfig:
        return json_error(res, 409,
                          "this window is a [[maintenance]] block of the config: remove it there");
      case MaintenanceChange::Code::kDone:
        break;
    }
    forget_rendered_pages();
    if (!created) {
      res.status = 204;
      return;
    }
    const ListedMaintenance listed{std::to_string(change->window.id), false, change->window};
    res.status = 201;
    res.set_content(maintenance_json(listed, *snapshots_.get(), true, clock_.wall()).dump(),
                    "application/json");
  };
  svr.Post("/api/v1/maintenance",
           [this, answer](const httplib::Request& req, httplib::Response& res) {
             if (!admin_call(req, res)) return;
             const auto body = nlohmann::json::parse(req.body, nullptr, false);
             if (!body.is_object()) return json_error(res, 400, "the body is not a JSON object");
             MaintenanceCommand command;
             MaintenanceDraft& d = command.draft;
             const auto title = post_field(body, "title");
             const auto text = post_field(body, "body");
             const auto start = post_field(body, "start");
             const auto duration = post_field(body, "duration");
             if (!title || !text || !start || !duration)
               return json_error(res, 400, "title, body, start and duration are strings");
             d.title = *title;
             d.body = *text;
             d.start = *start;
             d.duration = *duration;
             const auto names = name_list(body, "monitors");
             if (!names) return json_error(res, 400, "monitors is a list of names or globs");
             d.monitors = *names;
             answer(res, calls_.maintenance(std::move(command)), true);
           });
  svr.Delete(R"(/api/v1/maintenance/([a-z0-9-]{1,40}))",
             [this, answer](const httplib::Request& req, httplib::Response& res) {
               if (!admin_call(req, res)) return;
               MaintenanceCommand command;
               command.remove_id = req.matches[1];
               answer(res, calls_.maintenance(std::move(command)), false);
             });
  svr.Get("/api/v1/maintenance", [this](const httplib::Request& req, httplib::Response& res) {
    const auto snap = snapshots_.get();
    const bool admin = authorized(req.get_header_value("Authorization"), *snap);
    const WallTime now = clock_.wall();
    nlohmann::json list = nlohmann::json::array();
    for (const ListedMaintenance* w : visible_maintenance(*snap, admin, now))
      list.push_back(maintenance_json(*w, *snap, admin, now));
    res.set_content(nlohmann::json{{"maintenance", std::move(list)}}.dump(), "application/json");
  });
}

std::string WebServer::base_url() const {
  if (!cfg_.public_url.empty()) return cfg_.public_url;
  const std::string host = cfg_.listen_host.find(':') != std::string::npos
                               ? "[" + cfg_.listen_host + "]"
                               : cfg_.listen_host;
  return fmt::format("{}://{}:{}", cfg_.tls_cert.empty() ? "http" : "https", host,
                     cfg_.listen_port);
}

// What is read without the token by people and machines that follow the page: the history by
// month, the Atom feed and Statuspage's v2 JSON. Public only, whoever asks.
void WebServer::feed_routes() {
  auto& svr = *svr_;
  // The page of the reader's view, rendered from the snapshot and the resolved incidents.
  auto history_page = [this](bool admin) {
    const auto snap = snapshots_.get();
    const WallTime now = clock_.wall();
    constexpr int kDays = 365;
    HistoryPageInput in{snap->title, {}, {}, now, kDays};
    for (const PostRecord* p : visible_posts(*snap, admin, false))
      if (!p->open() && p->created_at >= now - std::chrono::hours(24 * kDays))
        in.posts.push_back(p);
    std::vector<IncidentRecord> incidents;
    if (const auto reads = storage_.reads()) {
      incidents = reads->resolved_incidents(to_unix_ms(now) - kDays * 86'400'000LL, 2000);
    }
    for (auto& i : incidents)
      if (snap->find(i.monitor, admin) != nullptr) in.incidents.push_back(std::move(i));
    return render_history_page(in);
  };
  svr.Get("/history", [this, history_page](const httplib::Request& req, httplib::Response& res) {
    // The public view is kept like the status page (a query of up to a year of incidents is
    // not made for every reader); the admin's is rendered for each request.
    if (authorized(req.get_header_value("Authorization"), *snapshots_.get()))
      return res.set_content(history_page(true), "text/html; charset=utf-8");
    serve(req, res, cached(public_history_, [history_page] { return history_page(false); }),
          "text/html; charset=utf-8");
  });
  svr.Get("/feed.atom", [this](const httplib::Request& req, httplib::Response& res) {
    serve(
        req, res,
        cached(feed_,
               [this] {
                 const auto snap = snapshots_.get();
                 const WallTime now = clock_.wall();
                 FeedInput in{snap->title, base_url(), visible_posts(*snap, false, false), {}, now};
                 // Public monitors' incidents: the open ones from the snapshot, the resolved ones
                 // of the last 90 days from storage.
                 for (const auto& i : snap->open_incidents)
                   if (snap->find(i.monitor, false) != nullptr) in.incidents.push_back(i);
                 if (const auto reads = storage_.reads()) {
                   for (auto& i : reads->resolved_incidents(to_unix_ms(now) - 90 * 86'400'000LL,
                                                            static_cast<int>(kFeedEntries)))
                     if (snap->find(i.monitor, false) != nullptr)
                       in.incidents.push_back(std::move(i));
                 }
                 return render_atom_feed(in);
               }),
        "application/atom+xml; charset=utf-8");
  });
  // Statuspage's short and full answers: the same input, each kept for a second.
  struct StatuspageRoute {
    const char* path;
    Cache* cache;
    nlohmann::json (*answer)(const StatuspageInput&);
  };
  for (const StatuspageRoute r :
       {StatuspageRoute{"/api/v2/status.json", &statuspage_status_, &statuspage_status},
        StatuspageRoute{"/api/v2/summary.json", &statuspage_summary_, &statuspage_summary}}) {
    svr.Get(r.path, [this, r](const httplib::Request& req, httplib::Response& res) {
      serve(req, res,
            cached(*r.cache,
                   [this, r] {
                     return r.answer({*snapshots_.get(), base_url(), clock_.wall()}).dump();
                   }),
            "application/json");
    });
  }
}

void WebServer::ack_routes() {
  auto& svr = *svr_;
  svr.Post(R"(/api/v1/incidents/([0-9]{1,18})/ack)",
           [this](const httplib::Request& req, httplib::Response& res) {
             if (!admin_call(req, res)) return;
             const int64_t id = std::stoll(req.matches[1]);
             const auto result = calls_.ack(id, "api");
             if (!result) return json_error(res, 503, kAckNotTaken);
             switch (*result) {
               case AlertEngine::AckResult::kDone:
               case AlertEngine::AckResult::kAlready:
                 res.set_content(nlohmann::json{{"incident", id}, {"acknowledged", true}}.dump(),
                                 "application/json");
                 return;
               case AlertEngine::AckResult::kResolved:
                 return json_error(res, 409, "the incident is already resolved");
               case AlertEngine::AckResult::kUnknown:
                 return json_error(res, 404, "not found");
             }
           });

  // A dns monitor's changed answers become its baseline.
  svr.Post(R"(/api/v1/monitors/([a-z0-9_-]{1,200})/accept)", [this](const httplib::Request& req,
                                                                    httplib::Response& res) {
    if (!admin_call(req, res)) return;
    const std::string name = req.matches[1];
    const AcceptResult result = calls_.accept(name);
    switch (result.code) {
      case AcceptResult::Code::kDone: {
        nlohmann::json body{{"monitor", name}, {"accepted", true}, {"answers", result.answers}};
        if (!result.locations.empty()) body["locations"] = result.locations;
        res.set_content(body.dump(), "application/json");
        return;
      }
      case AcceptResult::Code::kUnknown:
        return json_error(res, 404, "not found");
      case AcceptResult::Code::kNotDns:
        return json_error(res, 409,
                          "only dns monitors with on_change = \"alert\" have answers to accept");
      case AcceptResult::Code::kNoAnswers:
        return json_error(res, 409,
                          "the monitor has not had an answer yet; try again after its next run");
      case AcceptResult::Code::kNoAnswer:
        return json_error(res, 503, "the daemon did not answer in time; try again");
      case AcceptResult::Code::kUnavailable:
        return json_error(res, 503, result.error);
    }
  });

  // Signed links from alerts: GET shows the incident and a button; the button POSTs here.
  auto verify = [this](const std::string& token, const Snapshot& snap) {
    const int64_t now_s = to_unix_ms(clock_.wall()) / 1000;
    return verify_ack_token(snap.ack_key, token, now_s);
  };
  svr.Get(R"(/ack/([0-9A-Za-z._-]{1,80}))", [this, verify](const httplib::Request& req,
                                                           httplib::Response& res) {
    if (!within_rate(req.remote_addr, res)) return;
    const auto snap = snapshots_.get();
    const std::string token = req.matches[1];
    const auto claim = verify(token, *snap);
    if (!claim)
      return page(res, 404, "Link not valid",
                  "<p>This acknowledgement link is not valid or has expired.</p>");
    const auto it =
        std::find_if(snap->open_incidents.begin(), snap->open_incidents.end(),
                     [&](const IncidentRecord& i) { return i.id == claim->incident_id; });
    if (it == snap->open_incidents.end()) {
      return page(res, 409, "Incident resolved",
                  "<p>This incident is already resolved; there is nothing to acknowledge.</p>");
    }
    std::string body = fmt::format(
        "<dl><dt>Monitor</dt><dd>{}</dd><dt>State</dt><dd>{}</dd><dt>Cause</dt><dd>{}</"
        "dd><dt>Since</dt><dd>{}</dd></dl>",
        xml_escape(it->monitor), to_string(it->state), xml_escape(it->cause),
        rfc3339(it->started_at));
    if (it->acknowledged_at) {
      body += fmt::format("<p>Acknowledged at {} (by {}).</p>", rfc3339(*it->acknowledged_at),
                          xml_escape(it->acknowledged_by));
    } else {
      body += fmt::format(
          "<form method=\"post\" action=\"/ack/{}\"><button type=\"submit\">Acknowledge incident "
          "{}</button></form>",
          xml_escape(token), it->id);
    }
    page(res, 200, fmt::format("Incident {}: {}", it->id, it->monitor), body);
  });
  svr.Post(R"(/ack/([0-9A-Za-z._-]{1,80}))", [this, verify](const httplib::Request& req,
                                                            httplib::Response& res) {
    if (!within_rate(req.remote_addr, res)) return;
    const auto snap = snapshots_.get();
    const auto claim = verify(req.matches[1], *snap);
    if (!claim)
      return page(res, 404, "Link not valid",
                  "<p>This acknowledgement link is not valid or has expired.</p>");
    const auto result = calls_.ack(claim->incident_id, "link");
    if (!result) {
      return page(res, 503, "Try again", fmt::format("<p>Not done: {}.</p>", kAckNotTaken));
    }
    if (*result == AlertEngine::AckResult::kResolved ||
        *result == AlertEngine::AckResult::kUnknown) {
      return page(res, 409, "Incident resolved",
                  "<p>This incident is already resolved; there is nothing to acknowledge.</p>");
    }
    page(res, 200, "Acknowledged",
         fmt::format("<p>Incident {} is acknowledged. Escalations and reminders stop.</p>",
                     claim->incident_id));
  });
  // Pushover calls an emergency message's callback (the signed ack link's token, so only a
  // message lookout sent can use it) when someone acknowledges it on their phone. Like PagerDuty's
  // webhook below, it has the ack link's effect and is recorded as one (acknowledged_by "link").
  // A grouped emergency's token names every incident it rang for.
  svr.Post(R"(/hooks/pushover/([0-9A-Za-z._-]{1,300}))",
           [this](const httplib::Request& req, httplib::Response& res) {
             if (!within_rate(req.remote_addr, res)) return;
             const auto snap = snapshots_.get();
             const auto incidents = verify_group_ack_token(snap->ack_key, req.matches[1].str(),
                                                           to_unix_ms(clock_.wall()) / 1000);
             if (!incidents) return json_error(res, 404, "not found");
             if (pushover_callback_acknowledged(req.body)) {
               for (const int64_t id : *incidents) {
                 if (!calls_.ack(id, "link")) return json_error(res, 503, kAckNotTaken);
               }
             }
             res.set_content("{}", "application/json");
           });

  // PagerDuty's v3 webhooks, signed with a pagerduty channel's webhook_secret.
  svr.Post("/hooks/pagerduty", [this](const httplib::Request& req, httplib::Response& res) {
    if (!within_rate(req.remote_addr, res)) return;
    const auto snap = snapshots_.get();
    if (snap->pagerduty_webhook_secrets.empty()) return json_error(res, 404, "not found");
    if (!pagerduty_signature_ok(req.body, req.get_header_value("X-PagerDuty-Signature"),
                                snap->pagerduty_webhook_secrets)) {
      return json_error(res, 401, "the X-PagerDuty-Signature does not match a webhook_secret");
    }
    if (const auto id = pagerduty_acknowledged_incident(req.body)) {
      if (!calls_.ack(*id, "link")) return json_error(res, 503, kAckNotTaken);
    }
    res.set_content("{}", "application/json");
  });
}

void WebServer::incident_routes() {
  svr_->Get("/api/v1/incidents", [this](const httplib::Request& req, httplib::Response& res) {
    const auto snap = snapshots_.get();
    const bool admin = authorized(req.get_header_value("Authorization"), *snap);
    const std::string state = req.has_param("state") ? req.get_param_value("state") : "all";
    if (state != "open" && state != "resolved" && state != "all") {
      return json_error(res, 400, "state must be open, resolved or all");
    }
    int64_t limit = 100;
    if (req.has_param("limit")) {
      const std::string l = req.get_param_value("limit");
      if (l.empty() || l.size() > 5 || l.find_first_not_of("0123456789") != std::string::npos ||
          std::stoll(l) < 1) {
        return json_error(res, 400, "limit must be a number from 1 to 10000");
      }
      limit = std::min<int64_t>(10'000, std::stoll(l));
    }
    const auto reads = storage_.reads();
    if (!reads) return json_error(res, 503, "the database cannot be read right now");
    const IncidentFilter which = state == "open"       ? IncidentFilter::kOpen
                                 : state == "resolved" ? IncidentFilter::kResolved
                                                       : IncidentFilter::kAll;
    const auto rows = reads->list_incidents(
        which, [&](const IncidentRecord& i) { return visible(i.monitor, *snap, admin); },
        static_cast<size_t>(limit));
    auto incidents = nlohmann::json::array();
    std::map<int64_t, size_t> index;
    for (const auto& i : rows) {
      index[i.id] = incidents.size();
      incidents.push_back(incident_json(i));
      incidents.back()["events"] = nlohmann::json::array();
    }
    if (!index.empty()) {
      for (const auto& n :
           reads->incident_notifications(index.begin()->first, index.rbegin()->first)) {
        const auto it = index.find(n.incident_id);
        if (it == index.end()) continue;
        auto opt = [](const std::optional<std::string>& v) {
          return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
        };
        incidents[it->second]["events"].push_back(
            {{"id", opt(n.id)},
             {"event", n.event},
             {"at", rfc3339(n.at)},
             {"channel", opt(n.channel)},
             {"outcome",
              n.status ? nlohmann::json(outcome_of(*n.status)) : nlohmann::json(nullptr)}});
      }
    }
    res.set_content(nlohmann::json{{"incidents", std::move(incidents)}}.dump(), "application/json");
  });
}

std::shared_ptr<const WebServer::Rendered> WebServer::render_now(
    const std::function<std::string()>& render) {
  auto r = std::make_shared<Rendered>();
  r->plain = render();
  r->gzip = gzip(r->plain);
  return r;
}

std::shared_ptr<const WebServer::Rendered> WebServer::cached(
    Cache& cache, const std::function<std::string()>& render) {
  uint64_t generation = 0;
  {
    std::lock_guard lock(cache.mu);
    if (cache.value) {
      // A stale answer is served as it is while the renderer thread makes the next one: no
      // reader waits for a render, only the first one after a start or a post.
      if (clock_.mono() - cache.built >= cache.ttl && !cache.rendering) {
        std::lock_guard jobs(render_mu_);
        if (render_ready_) {
          cache.rendering = true;
          render_jobs_.push_back({&cache, render, cache.generation});
          render_cv_.notify_one();
        }
      }
      return cache.value;
    }
    generation = cache.generation;
  }
  auto r = render_now(render);
  std::lock_guard lock(cache.mu);
  // A render begun before forget_rendered_pages() answers its own reader and is not kept.
  if (generation != cache.generation) return r;
  if (!cache.value || clock_.mono() - cache.built >= cache.ttl) {
    cache.value = r;
    cache.built = clock_.mono();
  }
  return cache.value;
}

void WebServer::render_loop() {
  std::unique_lock lock(render_mu_);
  while (true) {
    render_cv_.wait(lock, [this] { return render_stop_ || !render_jobs_.empty(); });
    if (render_stop_) return;
    RenderJob job = std::move(render_jobs_.front());
    render_jobs_.erase(render_jobs_.begin());
    lock.unlock();
    std::shared_ptr<const Rendered> r;
    try {
      r = render_now(job.render);
    } catch (const std::exception& e) {
      spdlog::error("rendering a page anew failed: {}", e.what());
    } catch (...) {
      spdlog::error("rendering a page anew failed");
    }
    {
      std::lock_guard cache_lock(job.cache->mu);
      if (r && job.generation == job.cache->generation) {
        job.cache->value = std::move(r);
        job.cache->built = clock_.mono();
      }
      job.cache->rendering = false;
    }
    lock.lock();
  }
}

void WebServer::forget_rendered_pages() {
  for (Cache* c : {&public_page_, &admin_page_, &statuspage_status_, &statuspage_summary_, &feed_,
                   &public_history_}) {
    std::lock_guard lock(c->mu);
    c->value.reset();
    ++c->generation;
  }
}

void WebServer::serve(const httplib::Request& req, httplib::Response& res,
                      std::shared_ptr<const Rendered> body, const char* content_type) {
  // A fixed-length content provider goes out as it is: cpp-httplib compresses only other bodies.
  const bool gz = !body->gzip.empty() &&
                  req.get_header_value("Accept-Encoding").find("gzip") != std::string::npos;
  const std::string& bytes = gz ? body->gzip : body->plain;
  if (gz) res.set_header("Content-Encoding", "gzip");
  res.set_header("Vary", "Accept-Encoding");
  res.set_content_provider(
      bytes.size(), content_type,
      [body = std::move(body), &bytes](size_t offset, size_t length, httplib::DataSink& sink) {
        return sink.write(bytes.data() + offset, length);
      });
}

void WebServer::page_routes() {
  auto& svr = *svr_;
  svr.Get("/static/style.css", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "public, max-age=3600");
    static const std::string css = stylesheet() + post_stylesheet();
    res.set_content(css, "text/css; charset=utf-8");
  });
  svr.Get("/login", [this](const httplib::Request& req, httplib::Response& res) {
    if (!within_rate(req.remote_addr, res)) return;
    if (authorized(req.get_header_value("Authorization"), *snapshots_.get())) {
      res.status = 303;
      res.set_header("Location", "/");
      return;
    }
    res.set_header("WWW-Authenticate", "Basic realm=\"lookout\", charset=\"UTF-8\"");
    page(res, 401, "Sign in", "<p>Give any user name and the admin token as the password.</p>");
  });
  svr.Get("/", [this](const httplib::Request& req, httplib::Response& res) {
    const bool admin = authorized(req.get_header_value("Authorization"), *snapshots_.get());
    serve(req, res,
          cached(admin ? admin_page_ : public_page_,
                 [this, admin] {
                   const auto snap = snapshots_.get();
                   const WallTime now = clock_.wall();
                   std::vector<IncidentRecord> resolved;
                   if (const auto reads = storage_.reads()) {
                     resolved = reads->resolved_incidents(to_unix_ms(now) - 14 * 86'400'000LL, 100);
                   }
                   return render_status_page({*snap, *storage_.summaries().get(), resolved, admin,
                                              now, visible_posts(*snap, admin, true),
                                              visible_maintenance(*snap, admin, now)});
                 }),
          "text/html; charset=utf-8");
  });
  svr.Get(R"(/monitor/([a-z0-9_-]{1,200}))",
          [this](const httplib::Request& req, httplib::Response& res) {
            const auto snap = snapshots_.get();
            const bool admin = authorized(req.get_header_value("Authorization"), *snap);
            const std::string name = req.matches[1];
            const MonitorView* view = snap->find(name, admin);
            if (view == nullptr) {
              return page(res, 404, "Not found", "<p>There is no such monitor.</p>");
            }
            const WallTime now = clock_.wall();
            const int64_t now_ms = to_unix_ms(now);
            const auto summaries = storage_.summaries().get();
            const auto sit = summaries->find(name);
            const HistorySummary summary = sit == summaries->end() ? HistorySummary{} : sit->second;
            std::vector<IncidentRecord> incidents;
            std::vector<IncidentEventRow> events;
            std::vector<std::pair<std::string, std::vector<ChartPoint>>> charts;
            if (const auto reads = storage_.reads()) {
              for (const auto& [label, window, step] :
                   {std::tuple{"24 hours", 86'400'000LL, 900'000LL},
                    std::tuple{"7 days", 7 * 86'400'000LL, 7'200'000LL},
                    std::tuple{"90 days", 90 * 86'400'000LL, 86'400'000LL}}) {
                std::vector<ChartPoint> points;
                for (const auto& p : reads->series(name, now_ms - window, now_ms, step)) {
                  points.push_back({p.t_ms, p.agg.quantile_ms(0.5), p.agg.quantile_ms(0.95),
                                    p.agg.quantile_ms(0.99), p.agg.count, p.agg.failures});
                }
                charts.emplace_back(label, std::move(points));
              }
              incidents = reads->monitor_incidents(name, 50);
              std::vector<int64_t> ids;
              ids.reserve(incidents.size());
              for (const auto& i : incidents) ids.push_back(i.id);
              events = reads->incident_events(ids);
            }
            res.set_content(render_monitor_page({*view, summary, std::move(charts), incidents,
                                                 events, snap->title, now}),
                            "text/html; charset=utf-8");
          });
  svr.Get(R"(/badge/([a-z0-9_-]{1,200})\.svg)", [this](const httplib::Request& req,
                                                       httplib::Response& res) {
    const auto snap = snapshots_.get();
    const bool admin = authorized(req.get_header_value("Authorization"), *snap);
    const std::string name = req.matches[1];
    if (snap->find(name, admin) == nullptr) return json_error(res, 404, "not found");
    const auto summaries = storage_.summaries().get();
    const auto sit = summaries->find(name);
    const std::optional<double> uptime =
        sit == summaries->end() ? std::nullopt : sit->second.uptime_30d;
    res.set_header("Cache-Control", "max-age=60");
    res.set_content(badge_svg("uptime 30d", uptime ? fmt::format("{:.2f}%", *uptime) : "no data",
                              uptime_colour(uptime)),
                    "image/svg+xml");
  });
}

bool WebServer::start(std::string& error) {
  routes();
  port_ = cfg_.listen_port;
  if (port_ == 0) {
    port_ = svr_->bind_to_any_port(cfg_.listen_host);
    if (port_ <= 0) {
      error = fmt::format("cannot listen on {} (server.listen)", cfg_.listen_host);
      return false;
    }
  } else if (!svr_->bind_to_port(cfg_.listen_host, cfg_.listen_port)) {
    error = fmt::format(
        "cannot listen on {}:{} (server.listen): the address is in use or not available here",
        cfg_.listen_host, cfg_.listen_port);
    return false;
  }
  if (!svr_->is_valid()) {
    error = svr_->tls_error();
    return false;
  }
  svr_->deepen_backlog();
  renderer_ = std::thread([this] { render_loop(); });
  {
    std::lock_guard lock(render_mu_);
    render_ready_ = true;
  }
  thread_ = std::thread([this] { svr_->listen_after_bind(); });
  return true;
}

void WebServer::stop() {
  if (svr_) svr_->stop();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard lock(render_mu_);
    render_ready_ = false;
    render_stop_ = true;
  }
  render_cv_.notify_all();
  if (renderer_.joinable()) renderer_.join();
  svr_->stop_gate();
}

}  // namespace lookout
