// One PostgreSQL connection driven by the loop, for cluster mode. It connects without blocking
// (PQconnectStart, then PQconnectPoll whenever libpq's socket is ready; libpq tries the hosts of
// a multi-host DSN in order and honours target_session_attrs there), sends one statement, script
// or COPY at a time from a queue, and hands each answer to its callback on the loop thread. When
// the connection drops it fails what was sent and queued, and connects again after a backoff:
// callers decide what to retry.
//
// The loop never waits on the database: host names are resolved on libuv's thread pool before
// an attempt (libpq would call getaddrinfo on the loop thread), each host gets connect_timeout
// to answer (libpq leaves that to the caller of PQconnectPoll), and PQgetResult is called only
// once PQisBusy says it will not wait. COPY data goes out as the socket takes it.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/event_loop.h"
#include "core/secret.h"

namespace lookout {

// One answer: an error, or the rows of the statement (text values, nullopt for NULL).
struct PgResult {
  // Empty on success. For the operator: names the server, never the password.
  std::string error;
  std::string sqlstate;  // the server's SQLSTATE of an error it reported ("23505"), else empty
  std::vector<std::vector<std::optional<std::string>>> rows;
  bool ok() const { return error.empty(); }
};

// A value of an answer as a whole number; nullopt for NULL and for anything that is not one
// whole (answers are read strictly: a shape this lookout does not know is not guessed at).
std::optional<int64_t> pg_int(const std::optional<std::string>& value);
// A bytea value in PostgreSQL's hex output ("\x0a1b..."), as the bytes it holds; nullopt for
// NULL and for anything else.
std::optional<std::string> pg_bytes(const std::optional<std::string>& hex);

// Text as PostgreSQL takes it: valid UTF-8 without NUL bytes (a parameter ends at a NUL, text
// and jsonb refuse \u0000); each bad byte and each NUL becomes U+FFFD. Causes and errors quote
// what targets and providers sent. `s` itself when it needs nothing, else the mended text in
// `scratch`.
std::string_view pg_text(std::string_view s, std::string& scratch);
inline std::string pg_text(std::string_view s) {
  std::string scratch;
  return std::string(pg_text(s, scratch));
}

using PgParams = std::vector<std::optional<std::string>>;  // $1, $2, ... as text; nullopt: NULL
using PgCallback = std::function<void(PgResult)>;

// A statement and its parameters, as the pure statement builders (NodeRegistry, the results
// table's partitions) make them for the loop's connection to run.
struct PgStatement {
  std::string sql;
  PgParams params;
};

// Waits between connection attempts: `first`, doubled after each failed one up to `max`.
struct PgBackoff {
  Duration first{250};
  Duration max{5000};
};

class PgConnection {
 public:
  // `redactor` masks the DSN's secrets in every message (libpq never prints a password, but a
  // server's message may quote what it was sent).
  PgConnection(EventLoop& loop, Secret dsn, std::shared_ptr<const Redactor> redactor,
               PgBackoff backoff = {});
  // Callbacks still queued are dropped without a call. Not from inside one of its callbacks.
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Connects, and again whenever the connection drops, until stop().
  void start();
  // Closes the connection; what was sent or queued fails (its callbacks run inside stop()).
  void stop();

  // One statement with $1.. parameters. Its callback runs exactly once, on the loop thread and
  // never inside query(). Each statement stands alone: one that leaves a transaction open is
  // rolled back before the next runs. While the connection is down (between attempts) it fails
  // at once with the reason; sent during an attempt, it waits for that attempt.
  void query(std::string sql, PgParams params, PgCallback done);
  // Several statements without parameters, sent as one (a migration's BEGIN ... COMMIT). The
  // answer is the first error, else the rows of the last statement that returned rows.
  void script(std::string sql, PgCallback done);
  // A script whose last statement is `COPY ... FROM STDIN`, with `data` for it in COPY's text
  // format. The statements run as one transaction (PostgreSQL runs a script without BEGIN as
  // one), so the rows go in with what the statements before them did, or nothing does. The
  // data is handed to libpq 64 KiB at a time, each once the socket has taken the one before,
  // and at most 1 MiB per turn of the loop: a large COPY neither holds the loop nor copies
  // itself into libpq's buffer whole. The answer is that of script().
  void copy(std::string sql, std::string data, PgCallback done);

  // Runs on the loop each time a connection is made, before any queued statement is sent.
  void set_on_connect(std::function<void()> f) { on_connect_ = std::move(f); }
  bool connected() const { return state_ == State::kReady || state_ == State::kBusy; }
  // How many connections were made so far: a reader of transaction ids compares it, since a
  // new connection may be to another server (a failover), whose ids are not the old one's.
  uint64_t connects() const { return connects_; }
  // "host:port" of the server connected to; else every host of the DSN ("db1:5432, db2:5432").
  std::string server() const;
  // Why the last attempt failed or the connection dropped; empty once connected.
  const std::string& last_error() const { return last_error_; }

 private:
  enum class State { kStopped, kResolving, kConnecting, kReady, kBusy, kWaiting };
  struct Item {
    std::string sql;
    PgParams params;
    bool script = false;
    PgCallback done;                  // empty for the connection's own ROLLBACK
    std::optional<std::string> copy;  // the data of copy()
  };
  // A host to try: libpq gets `host` for its messages and TLS, and `hostaddr` so that it looks
  // up no name itself (empty for a Unix socket).
  struct Target {
    std::string host, hostaddr, port;
  };
  struct Watch;

  void enqueue(Item item);
  void resolve();
  void connect(std::vector<Target> targets, std::string resolve_error);
  void start_attempt();
  void advance_connect();
  void host_timed_out();
  void on_connected();
  void watch(int events);
  void unwatch();
  void on_io();
  void send_next();
  void flush();
  void feed_copy();
  void collect();
  void finish_current();
  void lost(std::string error);
  void fail_all(const std::string& error);
  void close();
  size_t position() const;
  std::string hosts() const;
  std::string connect_failure(const std::string& libpq) const;
  std::string libpq_error(const std::string& what) const;
  std::string redact(std::string text) const;

  EventLoop& loop_;
  Secret dsn_;
  std::shared_ptr<const Redactor> redactor_;
  PgBackoff backoff_;
  Duration next_backoff_;
  Duration connect_timeout_{10'000};  // per host; the DSN's connect_timeout when it sets one
  std::string dsn_error_;             // libpq cannot parse the DSN
  std::vector<std::pair<std::string, std::string>> options_;  // the DSN's but host, hostaddr, port
  std::vector<Target> configured_;                            // the DSN's hosts, names unresolved

  // The attempt under way: its hosts, the one tried now, and what went wrong before it.
  std::vector<Target> targets_;
  size_t pos_ = 0;
  std::vector<std::string> setbacks_;
  uint64_t attempt_ = 0;  // a name lookup answers only the attempt that asked

  PGconn* conn_ = nullptr;
  Watch* watch_ = nullptr;
  State state_ = State::kStopped;
  bool flushing_ = false;  // libpq holds output the socket did not take yet
  bool copy_in_ = false;   // the server waits for the data of current_'s COPY
  size_t copy_sent_ = 0;   // bytes of it handed to libpq
  std::deque<Item> queue_;
  std::optional<Item> current_;
  PgResult answer_;  // of current_, as its results come in
  std::string last_error_;
  std::function<void()> on_connect_;
  uint64_t connects_ = 0;
  Timer retry_, deadline_, kick_;
  // Tells a name lookup on the thread pool whether this connection still exists.
  std::shared_ptr<PgConnection*> self_;
};

}  // namespace lookout
