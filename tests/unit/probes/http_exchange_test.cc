// One HTTP request through the loop's libcurl multi, against a real server on loopback: what
// a response, a redirect chain, an oversized body, a refused connection and a slow answer
// come back as.
#include "probes/http_exchange.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "core/clock.h"
#include "core/curl_bridge.h"
#include "core/event_loop.h"

namespace lookout {
namespace {

class Target {
 public:
  Target() {
    svr_.Get("/ok", [](const httplib::Request&, httplib::Response& res) {
      res.set_header("X-Build", "7f3a");
      res.set_content("all good", "text/plain");
    });
    svr_.Get(R"(/hop/(\d+))", [](const httplib::Request& req, httplib::Response& res) {
      const int n = std::stoi(req.matches[1]);
      res.set_redirect(n > 0 ? "/hop/" + std::to_string(n - 1) : "/ok", 302);
    });
    svr_.Get("/peer", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.remote_addr, "text/plain");
    });
    svr_.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(64 * 1024, 'x'), "text/plain");
    });
    svr_.Get("/slow", [this](const httplib::Request&, httplib::Response& res) {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(5), [this] { return released_; });
      res.set_content("late", "text/plain");
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    // stop() before the listener runs would be lost, and the join below would wait forever.
    while (!svr_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Target() {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
    svr_.stop();
    thread_.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  httplib::Server svr_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
};

class HttpExchangeTest : public ::testing::Test {
 protected:
  HttpExchangeResult exchange(const std::string& url, const HttpRequest& options = {},
                              Duration timeout = Duration{5000}) {
    HttpCall call;
    call.url = url;
    call.options = &options;
    call.timeout = timeout;
    HttpExchangeResult out;
    out.cause = "never finished";
    CURL* easy = curl_.acquire();
    {
      HttpExchange x(curl_, source_);
      if (x.start(easy, call, [&out](HttpExchangeResult r) { out = std::move(r); })) loop_.run();
    }
    curl_.release(easy);
    return out;
  }

  Target target_;
  SourceAddress source_;
  SystemClock clock_;
  EventLoop loop_;
  CurlBridge curl_{loop_, clock_};
};

TEST_F(HttpExchangeTest, AResponseComesWithStatusHeadersBodyAndTimings) {
  const auto r = exchange(target_.url("/ok"));
  ASSERT_TRUE(r.responded) << r.cause;
  EXPECT_EQ(r.kind, ErrorKind::kNone);
  EXPECT_EQ(r.obs.status, 200);
  EXPECT_EQ(r.obs.body, "all good");
  bool build_header = false;
  for (const auto& [name, value] : r.obs.headers) {
    if ((name == "X-Build" || name == "x-build") && value == "7f3a") build_header = true;
  }
  EXPECT_TRUE(build_header);
  ASSERT_TRUE(r.timings.total_us.has_value());
  EXPECT_GT(*r.timings.total_us, 0);
  EXPECT_TRUE(r.timings.connect_us.has_value());
}

// `[cluster] source_address`: the connection comes from it (any 127/8 address is this host's),
// and an address that is not this host's fails the run with a cause.
TEST_F(HttpExchangeTest, ATransferConnectsFromTheSourceAddress) {
  auto r = exchange(target_.url("/peer"));
  ASSERT_TRUE(r.responded) << r.cause;
  EXPECT_EQ(r.obs.body, "127.0.0.1");
  source_ = *SourceAddress::parse("127.0.0.2");
  r = exchange(target_.url("/peer"));
  ASSERT_TRUE(r.responded) << r.cause;
  EXPECT_EQ(r.obs.body, "127.0.0.2");
  source_ = *SourceAddress::parse("192.0.2.1");
  r = exchange(target_.url("/peer"));
  EXPECT_FALSE(r.responded);
  EXPECT_EQ(r.kind, ErrorKind::kConnect) << r.cause;
  EXPECT_NE(r.cause.find("192.0.2.1"), std::string::npos) << r.cause;
}

TEST_F(HttpExchangeTest, RedirectsAreFollowedUpToTheLimit) {
  HttpRequest options;
  options.max_redirects = 3;
  const auto followed = exchange(target_.url("/hop/2"), options);
  ASSERT_TRUE(followed.responded) << followed.cause;
  EXPECT_EQ(followed.obs.status, 200);
  EXPECT_EQ(followed.obs.body, "all good");

  const auto too_many = exchange(target_.url("/hop/5"), options);
  EXPECT_FALSE(too_many.responded);
  EXPECT_EQ(too_many.kind, ErrorKind::kRedirects);
  EXPECT_EQ(too_many.cause, "more than 3 redirects");

  options.follow_redirects = false;
  const auto not_followed = exchange(target_.url("/hop/0"), options);
  ASSERT_TRUE(not_followed.responded);
  EXPECT_EQ(not_followed.obs.status, 302);
}

TEST_F(HttpExchangeTest, ABodyOverMaxBodyFailsTheRunWithoutReadingOn) {
  HttpRequest options;
  options.max_body = 1024;
  const auto r = exchange(target_.url("/big"), options);
  EXPECT_FALSE(r.responded);
  EXPECT_EQ(r.kind, ErrorKind::kBodyTooLarge);
  EXPECT_EQ(r.cause, "body is larger than max_body 1KiB; the rest was not downloaded");
  EXPECT_LE(r.obs.body.size(), 1024u);
}

TEST_F(HttpExchangeTest, ARefusedConnectionIsAConnectFailure) {
  // A port that was free a moment ago: bound, never listened on, closed.
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  ::close(s);
  const auto r = exchange("http://127.0.0.1:" + std::to_string(port) + "/");
  EXPECT_FALSE(r.responded);
  EXPECT_EQ(r.kind, ErrorKind::kConnect);
  EXPECT_NE(r.cause.find("cannot connect"), std::string::npos) << r.cause;
}

TEST_F(HttpExchangeTest, AnAnswerSlowerThanTheTimeoutIsATimeoutNotAHang) {
  const auto started = std::chrono::steady_clock::now();
  const auto r = exchange(target_.url("/slow"), {}, Duration{300});
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_FALSE(r.responded);
  EXPECT_EQ(r.kind, ErrorKind::kTimeout);
  EXPECT_LT(took, std::chrono::seconds(4));  // ended by the timeout, not the server
}

}  // namespace
}  // namespace lookout
