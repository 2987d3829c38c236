#include "tests/integration/postgres_server.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "tests/integration/harness.h"

namespace lookout::testing {

bool PostgresServer::available() {
  return access(fmt::format("{}/initdb", kBin).c_str(), X_OK) == 0 &&
         access(fmt::format("{}/pg_ctl", kBin).c_str(), X_OK) == 0;
}

PostgresServer::PostgresServer() : port_(free_port()) {
  init_folder();
  // A copy keeps the owner and the folder's mode 0700 that the server insists on.
  run(fmt::format("cp -a {} {}", template_cluster(), data_));
  start();
}

PostgresServer::PostgresServer(Scratch) : port_(0) { init_folder(); }

std::string PostgresServer::template_cluster() {
  // initdb takes over a second of CPU (under load, several of wall time) and the cluster tests
  // start more than a hundred servers: it runs once per build, and each server starts from a
  // copy of what it made, which takes milliseconds. A lock on a file beside it makes the tests
  // that run at once wait for the first one's.
  std::string made = std::string(LOOKOUT_BUILD_DIR) + "/tests/postgres-template";
  const std::string lock_path = made + ".lock";
  const int lock = open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (lock < 0 || flock(lock, LOCK_EX) != 0) {
    throw std::runtime_error(fmt::format("cannot lock {}", lock_path));
  }
  struct Unlock {
    int fd;
    ~Unlock() { close(fd); }
  } unlock{lock};
  if (std::filesystem::exists(made + "/PG_VERSION")) return made;
  // Made in a folder the server's user owns (the build folder may not be reachable by nobody),
  // then copied beside the build as a whole: a test stopped half way leaves no half cluster.
  PostgresServer scratch(Scratch{});
  // No fsync, here or in the server: a throwaway cluster need not survive the machine.
  scratch.run(scratch.as_owner(fmt::format(
      "{}/initdb -D {} -A trust -U lookout --no-sync -E UTF8 --locale=C", kBin, scratch.data_)));
  std::error_code ec;
  std::filesystem::remove_all(made + ".new", ec);
  scratch.run(fmt::format("cp -a {} {}.new", scratch.data_, made));
  std::filesystem::rename(made + ".new", made);
  return made;
}

PostgresServer::PostgresServer(const PostgresServer& primary) : port_(free_port()) {
  init_folder();
  run(
      as_owner(fmt::format("{}/pg_basebackup -h 127.0.0.1 -p {} -U lookout -D {} -R -X stream "
                           "-c fast --no-sync",
                           kBin, primary.port_, data_)));
  start();
  // Started, a standby still has to connect to its primary and catch up: until it streams, a
  // primary that fails takes what the standby lacks with it.
  if (!wait_until([&] { return sql("SELECT status FROM pg_stat_wal_receiver") == "streaming"; },
                  std::chrono::milliseconds(30'000), std::chrono::milliseconds(50))) {
    throw std::runtime_error(fmt::format("the standby on port {} does not stream from port {}: {}",
                                         port_, primary.port_, read_file(log_)));
  }
}

PostgresServer::~PostgresServer() {
  (void)std::system(
      as_owner(fmt::format("{}/pg_ctl -D {} -m immediate -w stop >/dev/null 2>&1", kBin, data_))
          .c_str());
  std::error_code ec;
  if (std::getenv("LOOKOUT_KEEP_TEST_DIRS") == nullptr) std::filesystem::remove_all(root_, ec);
}

void PostgresServer::init_folder() {
  // mkdtemp fills in the six trailing characters of its template.
  std::string tmpl = (std::filesystem::temp_directory_path() / "lookout-pg-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  root_ = tmpl;
  data_ = root_ + "/data";
  log_ = root_ + "/server.log";
  if (geteuid() == 0) {
    const passwd* nobody = getpwnam("nobody");
    if (nobody == nullptr || chown(root_.c_str(), nobody->pw_uid, nobody->pw_gid) != 0) {
      throw std::runtime_error("cannot hand the PostgreSQL folder to nobody");
    }
  }
}

std::string PostgresServer::as_owner(const std::string& command) const {
  const std::string env = "LC_ALL=C";
  if (geteuid() != 0) return fmt::format("{} {}", env, command);
  return fmt::format("{} setpriv --reuid=nobody --regid=nogroup --clear-groups -- {}", env,
                     command);
}

void PostgresServer::run(const std::string& command) const {
  const std::string logged = fmt::format("{} >>{}/commands.log 2>&1", command, root_);
  if (std::system(logged.c_str()) != 0) {
    throw std::runtime_error(fmt::format("{} failed: {}{}", command,
                                         read_file(root_ + "/commands.log"), read_file(log_)));
  }
}

std::string PostgresServer::dsn() const {
  return fmt::format("host=127.0.0.1 port={} user=lookout dbname=postgres", port_);
}

void PostgresServer::start() {
  run(as_owner(fmt::format(
      "{}/pg_ctl -D {} -l {} -w -t 60 -o \"-p {} -k {} -c listen_addresses=127.0.0.1 "
      "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=16MB "
      "-c max_connections=40\" start",
      kBin, data_, log_, port_, root_)));
}

void PostgresServer::stop() {
  run(as_owner(fmt::format("{}/pg_ctl -D {} -m fast -w -t 60 stop", kBin, data_)));
}

void PostgresServer::restart() {
  run(as_owner(fmt::format("{}/pg_ctl -D {} -l {} -m fast -w -t 60 restart", kBin, data_, log_)));
}

void PostgresServer::stop_immediately() {
  run(as_owner(fmt::format("{}/pg_ctl -D {} -m immediate -w -t 60 stop", kBin, data_)));
}

void PostgresServer::promote() {
  run(as_owner(fmt::format("{}/pg_ctl -D {} -w -t 60 promote", kBin, data_)));
  // pg_ctl -w returns once recovery ended; writes are taken from then on, checked here.
  if (!wait_until([&] { return sql("SELECT pg_is_in_recovery()") == "f"; },
                  std::chrono::milliseconds(30'000), std::chrono::milliseconds(50))) {
    throw std::runtime_error(
        fmt::format("the standby on port {} was promoted but still recovers", port_));
  }
}

std::string PostgresServer::sql(const std::string& query) const {
  static int counter = 0;
  const std::string file = fmt::format("{}/query-{}.sql", root_, counter++);
  std::ofstream(file) << query;
  const std::string command = fmt::format(
      "{}/psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p {} -U lookout -d postgres -f {} 2>&1",
      kBin, port_, file);
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) throw std::runtime_error("cannot run psql");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  if (pclose(p) != 0) throw std::runtime_error(fmt::format("psql failed on {}: {}", query, out));
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace lookout::testing
