#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace lookout::testing {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    throw std::runtime_error("cannot bind a TCP socket");
  }
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

bool wait_until(const std::function<bool()>& condition, Ms timeout, Ms poll) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(poll);
  }
  return condition();
}

// LOOKOUT_TEST_BINARY runs the same tests against another build of the daemon (the
// ThreadSanitizer one).
std::string lookout_binary() {
  const char* other = std::getenv("LOOKOUT_TEST_BINARY");
  return other != nullptr && *other != '\0' ? other : LOOKOUT_BINARY;
}

Process::Process(std::vector<std::string> args, const std::map<std::string, std::string>& env,
                 const std::string& log_dir) {
  static std::atomic<int> counter{0};
  const int n = counter++;
  out_path_ = fmt::format("{}/proc-{}-{}.out", log_dir, getpid(), n);
  err_path_ = fmt::format("{}/proc-{}-{}.err", log_dir, getpid(), n);
  pid_ = fork();
  if (pid_ == 0) {
    const int out = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(err, 2);
    const int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
}

Process::~Process() {
  if (!status_) {
    kill(pid_, SIGKILL);
    wait(5000ms);
  }
}

void Process::signal(int sig) const { kill(pid_, sig); }

std::optional<int> Process::wait(Ms timeout) {
  if (status_) return status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return status_;
    }
    std::this_thread::sleep_for(10ms);
  } while (std::chrono::steady_clock::now() < deadline);
  return std::nullopt;
}

RunResult run_lookout(const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env) {
  TempDir logs;
  std::vector<std::string> argv{lookout_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  Process p(argv, env, logs.path());
  const auto code = p.wait(120'000ms);
  return {code.value_or(-1), p.out(), p.err()};
}

HttpAnswer http_get(int port, const std::string& path, const httplib::Headers& headers) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_connection_timeout(2, 0);
  cli.set_read_timeout(5, 0);
  auto res = cli.Get(path, headers);
  if (!res) return {};
  return {res->status, res->body, res->headers};
}

TargetServer::TargetServer() : svr_(std::make_unique<httplib::Server>()) {}
TargetServer::TargetServer(const std::string& cert, const std::string& key)
    : svr_(std::make_unique<httplib::SSLServer>(cert.c_str(), key.c_str())) {}

TargetServer::TargetServer(std::unique_ptr<httplib::Server> server) : svr_(std::move(server)) {}

TargetServer::~TargetServer() {
  svr_->stop();
  if (thread_.joinable()) thread_.join();
}

void TargetServer::start() {
  svr_->new_task_queue = [] { return new httplib::ThreadPool(64); };
  svr_->set_keep_alive_timeout(1);
  svr_->set_pre_routing_handler([this](const httplib::Request&, httplib::Response&) {
    ++hits;
    return httplib::Server::HandlerResponse::Unhandled;
  });
  port_ = svr_->bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("target server could not bind");
  thread_ = std::thread([this] { svr_->listen_after_bind(); });
  wait_until([this] { return svr_->is_running(); }, 5000ms, 5ms);
}

void add_standard_routes(TargetServer& t) {
  auto& s = t.routes();
  s.Get("/ok", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("all good: Sign in", "text/plain");
  });
  s.Get("/fail", [](const httplib::Request&, httplib::Response& res) {
    res.status = 500;
    res.set_content("broken", "text/plain");
  });
  s.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(3000ms);
    res.set_content("late", "text/plain");
  });
  s.Get("/big", [](const httplib::Request&, httplib::Response& res) {
    constexpr size_t kTotal = 50u * 1024 * 1024;
    res.set_content_provider(kTotal, "application/octet-stream",
                             [](size_t offset, size_t length, httplib::DataSink& sink) {
                               static const std::string chunk(64 * 1024, 'x');
                               const size_t n = std::min(length, chunk.size());
                               (void)offset;
                               return sink.write(chunk.data(), n);
                             });
  });
  s.Get("/loop",
        [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/loop"); });
  s.Get("/json", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok","version":3})", "application/json");
  });
}

RawServer::RawServer(Mode mode) : mode_(mode) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    throw std::runtime_error("cannot bind a TCP socket");
  listen(listen_fd_, 512);
  socklen_t len = sizeof(addr);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  if (pipe(wake_) != 0) throw std::runtime_error("pipe failed");
  thread_ = std::thread([this] { serve(); });
}

RawServer::~RawServer() {
  const char c = 'x';
  (void)!write(wake_[1], &c, 1);
  thread_.join();
  close(listen_fd_);
  close(wake_[0]);
  close(wake_[1]);
}

void RawServer::serve() {
  std::vector<int> held;
  std::mt19937 rng(42);
  auto drip_due = std::chrono::steady_clock::now();
  for (;;) {
    std::vector<pollfd> fds{{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    if (poll(fds.data(), fds.size(), 100) < 0) continue;
    if (fds[0].revents != 0) break;
    if (fds[1].revents & POLLIN) {
      const int c = accept(listen_fd_, nullptr, nullptr);
      if (c >= 0) {
        // Read what the client sent (the request), briefly.
        pollfd p{c, POLLIN, 0};
        char buf[4096];
        if (poll(&p, 1, 500) > 0) (void)!read(c, buf, sizeof(buf));
        switch (mode_) {
          case Mode::kCloseAfterRequest:
            close(c);
            break;
          case Mode::kGarbage: {
            std::string junk(2048, '\0');
            for (auto& ch : junk) ch = static_cast<char>(rng() & 0xff);
            (void)!write(c, junk.data(), junk.size());
            close(c);
            break;
          }
          case Mode::kReset: {
            linger l{1, 0};
            setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
            close(c);
            break;
          }
          case Mode::kDrip: {
            const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
            (void)!write(c, head.data(), head.size());
            held.push_back(c);
            break;
          }
          case Mode::kSilent:
            held.push_back(c);
            break;
          case Mode::kStatus: {
            const int code = status.load();
            const std::string answer =
                fmt::format("HTTP/1.1 {} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
                            code, code < 400 ? "ok" : "no");
            (void)!send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
            close(c);
            break;
          }
        }
      }
    }
    if (mode_ == Mode::kDrip && std::chrono::steady_clock::now() >= drip_due) {
      drip_due = std::chrono::steady_clock::now() + 200ms;
      for (int c : held) (void)!send(c, "x", 1, MSG_NOSIGNAL);
    }
  }
  for (int c : held) close(c);
}

MuteResolver::MuteResolver() : fd_(socket(AF_INET, SOCK_DGRAM, 0)) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("cannot bind a UDP socket");
  socklen_t len = sizeof addr;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
}

MuteResolver::~MuteResolver() { close(fd_); }

std::map<std::string, nlohmann::json> probe_json(const std::string& config, int& code,
                                                 const std::map<std::string, std::string>& env) {
  const auto r = run_lookout({"probe", "-c", config, "--json"}, env);
  code = r.code;
  std::map<std::string, nlohmann::json> out;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("monitor")) out[j["monitor"].get<std::string>()] = j;
  }
  if (out.empty()) ADD_FAILURE() << "lookout probe printed no JSON lines; stderr: " << r.err;
  return out;
}

Certs make_certs(const TempDir& dir) {
  Certs c;
  c.ca_cert = dir.file("ca.pem");
  c.leaf_cert = dir.file("leaf.pem");
  c.leaf_key = dir.file("leaf.key");
  c.self_cert = dir.file("self.pem");
  c.self_key = dir.file("self.key");
  const std::string& d = dir.path();
  dir.write("leaf.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  const std::string script = fmt::format(
      "set -e; cd {d}; "
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out "
      "ca.pem -days 30 "
      "-subj '/CN=lookout test CA' 2>/dev/null; "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out "
      "leaf.csr "
      "-subj '/CN=localhost' 2>/dev/null; "
      "openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days "
      "20 "
      "-extfile leaf.ext 2>/dev/null; "
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout self.key -out "
      "self.pem -days 20 "
      "-subj '/CN=localhost' -addext 'subjectAltName=IP:127.0.0.1' 2>/dev/null",
      fmt::arg("d", d));
  if (std::system(script.c_str()) != 0)
    throw std::runtime_error("openssl failed to make test certificates");
  return c;
}

Daemon::Daemon(const TempDir& dir, const std::string& monitors_toml, const std::string& extra_toml,
               std::map<std::string, std::string> env)
    : dir_(dir),
      port_(free_port()),
      config_(dir.file("lookout.toml")),
      db_(dir.file("lookout.db")),
      env_(std::move(env)) {
  dir_.write("lookout.toml", compose(monitors_toml, extra_toml));
}

Daemon::~Daemon() {
  if (proc_) {
    proc_->signal(SIGTERM);
    proc_->wait(10'000ms);
  }
}

std::string Daemon::compose(const std::string& monitors_toml, const std::string& extra_toml) const {
  std::string text = fmt::format(
      "[server]\nlisten = \"127.0.0.1:{}\"\ntitle = \"test\"\n{}\n[storage]\npath = \"{}\"\n\n{}\n",
      port_, extra_toml, db_, monitors_toml);
  for (size_t p = text.find("@PORT@"); p != std::string::npos; p = text.find("@PORT@"))
    text.replace(p, 6, std::to_string(port_));
  return text;
}

void Daemon::rewrite_config(const std::string& monitors_toml, const std::string& extra_toml) {
  dir_.write("lookout.toml", compose(monitors_toml, extra_toml));
}

void Daemon::start() {
  proc_ = std::make_unique<Process>(
      std::vector<std::string>{lookout_binary(), "run", "-c", config_, "--log-level", "debug"},
      env_, dir_.path());
  const bool up = wait_until(
      [this] { return http_get(port_, "/healthz").status == 200 || proc_->wait(0ms).has_value(); },
      15'000ms);
  if (!up || proc_->wait(0ms)) throw std::runtime_error("lookout did not start: " + proc_->err());
}

nlohmann::json Daemon::status(const std::string& admin_token) const {
  httplib::Headers h;
  if (!admin_token.empty()) h.emplace("Authorization", "Bearer " + admin_token);
  const auto a = http_get(port_, "/api/v1/status", h);
  if (a.status != 200) return nlohmann::json();
  return nlohmann::json::parse(a.body, nullptr, false);
}

nlohmann::json Daemon::monitor(const std::string& name, const std::string& admin_token) const {
  const auto s = status(admin_token);
  if (!s.is_object()) return nullptr;
  for (const auto& m : s["monitors"]) {
    if (m["name"] == name) return m;
  }
  return nullptr;
}

std::string Daemon::metrics() const { return http_get(port_, "/metrics").body; }

double metric_value(const std::string& metrics, const std::string& name,
                    const std::string& labels) {
  const std::string key = labels.empty() ? name + " " : name + "{" + labels + "} ";
  std::istringstream in(metrics);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::stod(line.substr(key.size()));
  }
  return -1;
}

}  // namespace lookout::testing

namespace lookout::testing {

SmtpServer::SmtpServer(const TempDir& dir, const Options& options)
    : maildir_(dir.file("maildir")), port_(free_port()) {
  std::vector<std::string> args;
  if (options.auth.empty() && options.cert.empty()) {
    args = {"/usr/bin/python3",
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            fmt::format("127.0.0.1:{}", port_),
            "-c",
            "aiosmtpd.handlers.Mailbox",
            maildir_};
  } else {
    args = {"/usr/bin/python3", std::string(LOOKOUT_TESTS_DIR) + "/integration/smtp_server.py",
            std::to_string(port_), maildir_};
    if (!options.auth.empty()) args.insert(args.end(), {"--auth", options.auth});
    if (!options.cert.empty()) args.insert(args.end(), {"--tls", options.cert, options.key});
  }
  proc_ = std::make_unique<Process>(args, std::map<std::string, std::string>{}, dir.path());
  const bool up = wait_until(
      [this] {
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(static_cast<uint16_t>(port_));
        const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
        close(fd);
        return ok;
      },
      15'000ms);
  if (!up) throw std::runtime_error("aiosmtpd did not start: " + proc_->err());
}

SmtpServer::~SmtpServer() {
  proc_->signal(SIGTERM);
  proc_->wait(5000ms);
}

std::vector<std::string> SmtpServer::messages() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(maildir_ + "/new", ec))
    out.push_back(read_file(e.path()));
  return out;
}

}  // namespace lookout::testing

namespace lookout::testing {

KnotServer::KnotServer(const TempDir& dir, const std::map<std::string, std::string>& zones)
    : conf_(dir.file("knot.conf")), zones_dir_(dir.file("zones")), port_(free_port()) {
  const std::string root = dir.file("knot");
  std::filesystem::create_directories(root + "/run");
  std::filesystem::create_directories(root + "/db");
  std::filesystem::create_directories(zones_dir_);
  std::string conf = fmt::format(
      "server:\n  rundir: \"{0}/run\"\n  listen: 127.0.0.1@{1}\n"
      "database:\n  storage: \"{0}/db\"\n"
      "template:\n  - id: default\n    storage: \"{2}\"\n    file: \"%s.zone\"\n    zonefile-sync: "
      "-1\n"
      "    zonefile-load: whole\n    journal-content: none\n    semantic-checks: off\n"
      "log:\n  - target: stderr\n    any: warning\n"
      "zone:\n",
      root, port_, zones_dir_);
  for (const auto& [name, text] : zones) {
    std::ofstream(zones_dir_ + "/" + name + ".zone") << text;
    conf += fmt::format("  - domain: {}\n", name);
  }
  std::ofstream(conf_) << conf;
  proc_ = std::make_unique<Process>(std::vector<std::string>{"/usr/sbin/knotd", "-c", conf_},
                                    std::map<std::string, std::string>{}, dir.path());
  const std::string probe =
      fmt::format("kdig @127.0.0.1 -p {} +timeout=1 +retry=0 SOA {} >/dev/null 2>&1", port_,
                  zones.begin()->first);
  const bool up = wait_until(
      [&] { return std::system(probe.c_str()) == 0 || proc_->wait(0ms).has_value(); }, 15'000ms);
  if (!up || proc_->wait(0ms)) throw std::runtime_error("knotd did not start: " + proc_->err());
}

KnotServer::~KnotServer() {
  proc_->signal(SIGTERM);
  if (!proc_->wait(5'000ms)) proc_->signal(SIGKILL);
}

void KnotServer::set_zone(const std::string& zone, const std::string& text) {
  std::ofstream(zones_dir_ + "/" + zone + ".zone") << text;
  const std::string cmd = fmt::format("knotc -b -c {} zone-reload {} >/dev/null 2>&1", conf_, zone);
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("knotc zone-reload failed");
}

std::string base64(const std::string& s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string dkim_key_strings(int bits) {
  EVP_PKEY* key = EVP_RSA_gen(static_cast<unsigned>(bits));
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key, &der);
  std::string b64(static_cast<size_t>((len + 2) / 3 * 4 + 1), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), der, len);
  b64.resize(static_cast<size_t>(n));
  OPENSSL_free(der);
  EVP_PKEY_free(key);
  std::string out = "\"v=DKIM1; k=rsa; p=\"";
  for (size_t i = 0; i < b64.size(); i += 200) out += " \"" + b64.substr(i, 200) + "\"";
  return out;
}

}  // namespace lookout::testing
