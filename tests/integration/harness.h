// What the integration tests share: a temporary folder, the real `lookout` binary as a child
// process, HTTP and TLS targets on loopback, raw-socket targets that misbehave, and
// certificates made with openssl at run time. No fake network anywhere.
#pragma once

#include <fmt/format.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/temp_dir.h"

namespace lookout::testing {

using namespace std::chrono_literals;
using Ms = std::chrono::milliseconds;
using test::TempDir;

std::string read_file(const std::string& path);
int free_port();
bool wait_until(const std::function<bool()>& condition, Ms timeout, Ms poll = 50ms);

class Process {
 public:
  Process(std::vector<std::string> args, const std::map<std::string, std::string>& env,
          const std::string& log_dir);
  ~Process();
  int pid() const { return pid_; }
  void signal(int sig) const;
  // The exit code once it exited within `timeout` (128 + signal when killed).
  std::optional<int> wait(Ms timeout);
  std::string out() const { return read_file(out_path_); }
  std::string err() const { return read_file(err_path_); }

 private:
  int pid_ = -1;
  std::optional<int> status_;
  std::string out_path_, err_path_;
};

// Runs the binary to completion; returns {exit code, stdout, stderr}.
struct RunResult {
  int code;
  std::string out;
  std::string err;
};
RunResult run_lookout(const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env = {});
std::string lookout_binary();
// `lookout probe --json` on a config: each monitor's line by name (exit code in `code`).
std::map<std::string, nlohmann::json> probe_json(
    const std::string& config, int& code, const std::map<std::string, std::string>& env = {});

struct HttpAnswer {
  int status = 0;  // 0: no answer
  std::string body;
  httplib::Headers headers;
};
HttpAnswer http_get(int port, const std::string& path, const httplib::Headers& headers = {});

// An HTTP (or HTTPS) server in the test process, on 127.0.0.1 and a port of its own.
class TargetServer {
 public:
  TargetServer();
  TargetServer(const std::string& cert, const std::string& key);   // HTTPS
  explicit TargetServer(std::unique_ptr<httplib::Server> server);  // one set up by the caller
  ~TargetServer();
  httplib::Server& routes() { return *svr_; }
  void start();
  int port() const { return port_; }
  std::atomic<int> hits{0};

 private:
  std::unique_ptr<httplib::Server> svr_;
  std::thread thread_;
  int port_ = 0;
};

// Adds the endpoints of the hostile-target tests: /ok, /fail (500), /slow (3 s), /big
// (50 MiB), /loop (redirects to itself), /json.
void add_standard_routes(TargetServer& t);

// A TCP server that speaks no HTTP, for misbehaviour an HTTP library cannot produce.
class RawServer {
 public:
  // kStatus answers every request with `status` and closes: a target that keeps up with
  // thousands of monitors (its listen backlog is 512; cpp-httplib's is 5).
  enum class Mode { kCloseAfterRequest, kGarbage, kSilent, kDrip, kReset, kStatus };
  explicit RawServer(Mode mode);
  ~RawServer();
  int port() const { return port_; }
  std::atomic<int> status{200};

 private:
  void serve();
  Mode mode_;
  int listen_fd_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};
  std::thread thread_;
};

// A DNS server that never answers: a UDP socket on 127.0.0.1 that nobody reads.
class MuteResolver {
 public:
  MuteResolver();
  ~MuteResolver();
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A CA, a leaf for 127.0.0.1 and localhost signed by it, and a self-signed leaf.
struct Certs {
  std::string ca_cert;
  std::string leaf_cert, leaf_key;
  std::string self_cert, self_key;
};
Certs make_certs(const TempDir& dir);

// The real daemon on a free port with the given monitors, run from a config in `dir`.
class Daemon {
 public:
  Daemon(const TempDir& dir, const std::string& monitors_toml, const std::string& extra_toml = "",
         std::map<std::string, std::string> env = {});
  ~Daemon();
  void start();
  int port() const { return port_; }
  Process& process() { return *proc_; }
  const std::string& config_path() const { return config_; }
  const std::string& db_path() const { return db_; }
  nlohmann::json status(const std::string& admin_token = "") const;
  // The monitor's entry of /api/v1/status (null when absent).
  nlohmann::json monitor(const std::string& name, const std::string& admin_token = "") const;
  std::string metrics() const;
  void rewrite_config(const std::string& monitors_toml, const std::string& extra_toml = "");

 private:
  std::string compose(const std::string& monitors_toml, const std::string& extra_toml) const;
  const TempDir& dir_;
  int port_;
  std::string config_, db_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<Process> proc_;
};

// A real SMTP server (Debian's python3-aiosmtpd) writing what it receives to a Maildir.
class SmtpServer {
 public:
  struct Options {
    std::string auth;       // "user:password": AUTH required
    std::string cert, key;  // STARTTLS required
  };
  explicit SmtpServer(const TempDir& dir, const Options& options = {});
  ~SmtpServer();
  int port() const { return port_; }
  std::vector<std::string> messages()
      const;  // whole messages, with the X-MailFrom/X-RcptTo it adds

 private:
  std::string maildir_;
  int port_;
  std::unique_ptr<Process> proc_;
};

// A real authoritative DNS server (Knot) on 127.0.0.1 and a free port, serving zones the test
// writes; set_zone() rewrites one and reloads it.
class KnotServer {
 public:
  KnotServer(const TempDir& dir, const std::map<std::string, std::string>& zones);
  ~KnotServer();
  int port() const { return port_; }
  std::string address() const { return fmt::format("127.0.0.1:{}", port_); }
  void set_zone(const std::string& zone, const std::string& text);

 private:
  std::string conf_, zones_dir_;
  int port_;
  std::unique_ptr<Process> proc_;
};

std::string base64(const std::string& s);

// A DKIM p= value: a fresh RSA public key, base64 DER, in TXT strings of at most 255.
std::string dkim_key_strings(int bits);

// Sums a counter or gauge of the Prometheus text for the given label text ("" for none).
double metric_value(const std::string& metrics, const std::string& name,
                    const std::string& labels = "");

}  // namespace lookout::testing
