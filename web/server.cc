#include "web/server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "web/metrics.h"
#include "web/status_json.h"

namespace lookout {

bool token_matches(const std::string& presented, const Secret& expected) {
  const std::string& want = expected.reveal();
  if (presented.size() != want.size() || want.empty()) return false;
  return CRYPTO_memcmp(presented.data(), want.data(), want.size()) == 0;
}

WebServer::WebServer(const ServerConfig& cfg, const Clock& clock, const SnapshotHub& snapshots,
                     const SummaryCache& summaries, const std::string& db_path, HealthFn health, StoreHealthFn store_health)
    : cfg_(cfg),
      clock_(clock),
      snapshots_(snapshots),
      summaries_(summaries),
      reads_(db_path),
      health_(std::move(health)),
      store_health_(std::move(store_health)),
      svr_(std::make_unique<httplib::Server>()) {}

WebServer::~WebServer() { stop(); }

bool WebServer::authorized(const std::string& header, const Snapshot& s) const {
  if (!s.admin_token) return false;
  static constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() || header.compare(0, kBearer.size(), kBearer) != 0) return false;
  return token_matches(header.substr(kBearer.size()), *s.admin_token);
}

namespace {

void json_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(nlohmann::json{{"error", message}}.dump(), "application/json");
}

}  // namespace

void WebServer::routes() {
  auto& svr = *svr_;
  svr.set_default_headers({
      {"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      {"X-Frame-Options", "DENY"},
      {"Cache-Control", "no-store"},
  });
  svr.set_payload_max_length(cfg_.max_request);
  svr.set_keep_alive_max_count(100);
  svr.set_keep_alive_timeout(2);
  svr.set_read_timeout(5, 0);
  svr.set_write_timeout(5, 0);
  svr.new_task_queue = [] { return new httplib::ThreadPool(8); };

  svr.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    const HealthReport h = health_();
    res.status = h.ok ? 200 : 503;
    res.set_content(h.ok ? "ok\n" : h.reason + "\n", "text/plain; charset=utf-8");
  });
  svr.Get("/api/v1/status", [this](const httplib::Request& req, httplib::Response& res) {
    const auto snap = snapshots_.get();
    const bool admin = authorized(req.get_header_value("Authorization"), *snap);
    res.set_content(status_json(*snap, *summaries_.get(), admin).dump(), "application/json");
  });
  // A private monitor answers exactly like a name that does not exist.
  svr.Get(R"(/api/v1/monitors/([a-z0-9_-]{1,200})/history)", [this](const httplib::Request& req, httplib::Response& res) {
    const auto snap = snapshots_.get();
    const bool admin = authorized(req.get_header_value("Authorization"), *snap);
    const std::string name = req.matches[1];
    const auto it = std::find_if(snap->monitors.begin(), snap->monitors.end(),
                                 [&](const MonitorView& m) { return m.name == name; });
    if (it == snap->monitors.end() || (!it->is_public && !admin)) {
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
    std::vector<HistoryReader::Point> points;
    {
      auto lease = reads_.take();
      if (!lease) {
        json_error(res, 503, "the database cannot be read right now");
        return;
      }
      HistoryReader reader(lease->get());
      if (const auto id = reader.monitor_id(name)) {
        points = reader.series(*id, now - p.window_ms, now, p.step_ms);
      } else {
        for (int64_t t = align_down(now - p.window_ms, p.step_ms); t <= now; t += p.step_ms) points.push_back({t, {}});
      }
    }
    res.set_content(history_json(name, p.window_ms, p.step_ms, points).dump(), "application/json");
  });
  svr.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
    const auto snap = snapshots_.get();
    const bool admin = authorized(req.get_header_value("Authorization"), *snap);
    res.set_content(metrics_text(*snap, store_health_(), admin), "text/plain; version=0.0.4; charset=utf-8");
  });
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    const char* msg = res.status == 404   ? "not found"
                      : res.status == 413 ? "request too large"
                      : res.status == 405 ? "method not allowed"
                                          : "bad request";
    json_error(res, res.status, msg);
  });
  svr.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    spdlog::error("internal error answering {} {}: {}", req.method, req.path, what);
    json_error(res, 500, "internal error");
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
    error = fmt::format("cannot listen on {}:{} (server.listen): the address is in use or not available here",
                        cfg_.listen_host, cfg_.listen_port);
    return false;
  }
  thread_ = std::thread([this] { svr_->listen_after_bind(); });
  return true;
}

void WebServer::stop() {
  if (svr_) svr_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace lookout
