#include "store/pg_connection.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <tuple>

#include "core/units.h"
#include "core/utf8.h"

namespace lookout {
namespace {

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = s.find(',', start);
    out.push_back(s.substr(start, comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

// The numeric address in the form libpq reports it (PQhostaddr), or "" when `s` is none.
std::string canonical_ip(const std::string& s) {
  unsigned char buf[16];
  char text[INET6_ADDRSTRLEN] = {};
  for (const int family : {AF_INET, AF_INET6}) {
    if (inet_pton(family, s.c_str(), buf) == 1 &&
        inet_ntop(family, buf, text, sizeof text) != nullptr) {
      return text;
    }
  }
  return "";
}

bool is_socket(const std::string& host) {
  return host.empty() || host.front() == '/' || host.front() == '@';
}

// libpq's messages on one line: it ends each host's message with "\n" and indents its hints
// on lines of their own with "\t".
std::string one_line(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      const bool hint = i + 1 < text.size() && text[i + 1] == '\t';
      if (!hint && i + 1 < text.size()) out.append("; ");
      if (hint) out += ' ';
    } else if (c == '\t') {
      continue;
    } else if (c != ' ' || (!out.empty() && out.back() != ' ')) {
      out += c;
    }
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  return out;
}

// The server's notices (CREATE TABLE IF NOT EXISTS saying the table is there) would go to
// stderr by default.
void log_notice(void* redactor, const char* message) {
  spdlog::debug("PostgreSQL: {}", static_cast<const Redactor*>(redactor)->apply(one_line(message)));
}

// COPY data goes to libpq in chunks of this size, and at most this much in one turn of the loop.
constexpr size_t kPgCopyChunkBytes = 64 * 1024;
constexpr size_t kPgCopyBytesPerTurn = 1024 * 1024;
// What the server is told when a COPY FROM STDIN came from query() or script(), which have no
// data for it: the COPY fails with it instead of waiting for data forever.
constexpr const char* kPgNoCopyData = "lookout sends COPY data only with PgConnection::copy";

template <typename F>
void guarded_io(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    spdlog::error("internal error in the PostgreSQL connection: {}", e.what());
  }
}

}  // namespace

std::optional<std::string> pg_bytes(const std::optional<std::string>& hex) {
  if (!hex || hex->size() < 2 || hex->compare(0, 2, "\\x") != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve((hex->size() - 2) / 2);
  for (size_t i = 2; i + 1 < hex->size(); i += 2) {
    const int hi = nibble((*hex)[i]);
    const int lo = nibble((*hex)[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

std::optional<int64_t> pg_int(const std::optional<std::string>& value) {
  if (!value) return std::nullopt;
  int64_t out = 0;
  const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), out);
  if (ec != std::errc() || end != value->data() + value->size()) return std::nullopt;
  return out;
}

std::string_view pg_text(std::string_view s, std::string& scratch) {
  const bool plain = std::none_of(s.begin(), s.end(), [](char c) {
    return c == '\0' || static_cast<unsigned char>(c) >= 0x80;
  });
  if (plain) return s;
  const std::string valid = valid_utf8(s);
  scratch.clear();
  scratch.reserve(valid.size());
  for (const char c : valid) {
    if (c == '\0') {
      scratch += "\xEF\xBF\xBD";
    } else {
      scratch += c;
    }
  }
  return scratch;
}

struct PgConnection::Watch {
  uv_poll_t poll{};
  PgConnection* owner = nullptr;
  int events = 0;
};

PgConnection::PgConnection(EventLoop& loop, Secret dsn, std::shared_ptr<const Redactor> redactor,
                           PgBackoff backoff)
    : loop_(loop),
      dsn_(std::move(dsn)),
      redactor_(redactor != nullptr ? std::move(redactor) : std::make_shared<Redactor>()),
      backoff_(backoff),
      next_backoff_(backoff.first),
      retry_(loop),
      deadline_(loop),
      kick_(loop),
      self_(std::make_shared<PgConnection*>(this)) {
  char* why = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(dsn_.reveal().c_str(), &why);
  if (parsed == nullptr) {
    // The config has checked the DSN with the same parser; this is the last line of defence,
    // and libpq's words may quote the DSN.
    dsn_error_ = "the PostgreSQL connection string cannot be parsed; check cluster.dsn";
    PQfreemem(why);
    return;
  }
  std::string host, hostaddr, port;
  for (const PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string key = o->keyword;
    if (key == "host") {
      host = o->val;
    } else if (key == "hostaddr") {
      hostaddr = o->val;
    } else if (key == "port") {
      port = o->val;
    } else {
      // libpq takes values under 2 as 2, and a value it cannot read as none.
      if (key == "connect_timeout" && std::atoi(o->val) > 0) {
        connect_timeout_ = Duration{std::max(2, std::atoi(o->val)) * 1000LL};
      }
      options_.emplace_back(key, o->val);
    }
  }
  PQconninfoFree(parsed);
  // What libpq would take from the environment when the DSN does not say.
  if (host.empty() && hostaddr.empty() && std::getenv("PGHOST") != nullptr) {
    host = std::getenv("PGHOST");
  }
  if (port.empty() && std::getenv("PGPORT") != nullptr) port = std::getenv("PGPORT");
  const auto hosts = split_commas(host);
  const auto addrs = split_commas(hostaddr);
  const auto ports = split_commas(port);
  const size_t n = std::max(hosts.size(), addrs.size());
  for (size_t i = 0; i < n; ++i) {
    Target t;
    t.host = i < hosts.size() ? hosts[i] : "";
    t.hostaddr = i < addrs.size() ? canonical_ip(addrs[i]) : "";
    if (t.hostaddr.empty() && i < addrs.size() && !addrs[i].empty()) t.hostaddr = addrs[i];
    if (t.host.empty() && !t.hostaddr.empty()) t.host = t.hostaddr;
    t.port = ports.size() == 1 ? ports[0] : i < ports.size() ? ports[i] : "";
    configured_.push_back(std::move(t));
  }
}

PgConnection::~PgConnection() {
  *self_ = nullptr;
  close();
}

void PgConnection::start() {
  if (state_ != State::kStopped) return;
  next_backoff_ = backoff_.first;
  resolve();
}

void PgConnection::stop() {
  retry_.stop();
  kick_.stop();
  close();
  ++attempt_;
  state_ = State::kStopped;
  fail_all("the connection to PostgreSQL was closed");
}

void PgConnection::query(std::string sql, PgParams params, PgCallback done) {
  enqueue(Item{std::move(sql), std::move(params), false, std::move(done), std::nullopt});
}

void PgConnection::script(std::string sql, PgCallback done) {
  enqueue(Item{std::move(sql), {}, true, std::move(done), std::nullopt});
}

void PgConnection::copy(std::string sql, std::string data, PgCallback done) {
  enqueue(Item{std::move(sql), {}, true, std::move(done), std::move(data)});
}

void PgConnection::enqueue(Item item) {
  queue_.push_back(std::move(item));
  // On the next turn, so that no callback runs inside query().
  kick_.start(Duration{0}, [this] {
    if (state_ == State::kWaiting) {
      fail_all(last_error_);
    } else if (state_ == State::kStopped) {
      fail_all("the connection to PostgreSQL is not open");
    } else {
      send_next();
    }
  });
}

std::string PgConnection::redact(std::string text) const {
  return redactor_->apply(std::move(text));
}

std::string PgConnection::hosts() const {
  std::string out;
  for (const auto& t : configured_) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{}:{}", t.host.empty() ? "the local socket" : t.host,
                       t.port.empty() ? "5432" : t.port);
  }
  return out;
}

std::string PgConnection::server() const {
  if (conn_ != nullptr && connected()) return fmt::format("{}:{}", PQhost(conn_), PQport(conn_));
  return hosts();
}

std::string PgConnection::libpq_error(const std::string& what) const {
  const std::string libpq = conn_ != nullptr ? one_line(PQerrorMessage(conn_)) : "";
  return redact(libpq.empty() ? what : fmt::format("{}: {}", what, libpq));
}

std::string PgConnection::connect_failure(const std::string& libpq) const {
  std::string why;
  for (const auto& s : setbacks_) why += why.empty() ? s : fmt::format("; {}", s);
  if (!libpq.empty()) why += why.empty() ? libpq : fmt::format("; {}", libpq);
  return redact(fmt::format("cannot connect to PostgreSQL at {}: {}", hosts(), why));
}

void PgConnection::resolve() {
  if (!dsn_error_.empty()) {
    lost(dsn_error_);
    return;
  }
  std::vector<Target> want = configured_;
  bool lookup = false;
  for (auto& t : want) {
    if (!t.hostaddr.empty() || is_socket(t.host)) continue;
    t.hostaddr = canonical_ip(t.host);
    lookup = lookup || t.hostaddr.empty();
  }
  const uint64_t attempt = ++attempt_;
  if (!lookup) {
    connect(std::move(want), "");
    return;
  }
  state_ = State::kResolving;
  struct Found {
    std::vector<Target> targets;
    std::string why;
  };
  auto found = std::make_shared<Found>();
  queue_work(
      loop_,
      [want = std::move(want), found] {
        for (const auto& t : want) {
          if (!t.hostaddr.empty() || is_socket(t.host)) {
            found->targets.push_back(t);
            continue;
          }
          addrinfo hints{};
          hints.ai_family = AF_UNSPEC;
          hints.ai_socktype = SOCK_STREAM;
          addrinfo* res = nullptr;
          if (const int rc = getaddrinfo(t.host.c_str(), nullptr, &hints, &res); rc != 0) {
            found->why +=
                fmt::format("{}{}: {}", found->why.empty() ? "" : "; ", t.host, gai_strerror(rc));
            continue;
          }
          for (const addrinfo* a = res; a != nullptr; a = a->ai_next) {
            char text[INET6_ADDRSTRLEN] = {};
            const void* addr = a->ai_family == AF_INET
                                   ? static_cast<const void*>(
                                         &reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr)
                                   : static_cast<const void*>(
                                         &reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr);
            if (inet_ntop(a->ai_family, addr, text, sizeof text) == nullptr) continue;
            const bool seen = std::any_of(
                found->targets.begin(), found->targets.end(),
                [&](const Target& f) { return f.host == t.host && f.hostaddr == text; });
            if (!seen) found->targets.push_back(Target{t.host, text, t.port});
          }
          freeaddrinfo(res);
        }
      },
      [self = self_, attempt, found] {
        PgConnection* c = *self;
        if (c == nullptr || c->attempt_ != attempt || c->state_ != State::kResolving) return;
        c->connect(std::move(found->targets), std::move(found->why));
      });
}

void PgConnection::connect(std::vector<Target> targets, std::string resolve_error) {
  setbacks_.clear();
  if (!resolve_error.empty()) setbacks_.push_back(std::move(resolve_error));
  if (targets.empty()) {
    lost(connect_failure(""));
    return;
  }
  targets_ = std::move(targets);
  pos_ = 0;
  start_attempt();
}

// Connects to targets_ from pos_ on: libpq tries them in order, and the first that fits
// target_session_attrs wins.
void PgConnection::start_attempt() {
  std::string host, hostaddr, port;
  bool any_host = false, any_addr = false, any_port = false;
  for (size_t i = pos_; i < targets_.size(); ++i) {
    const Target& t = targets_[i];
    const char* sep = i == pos_ ? "" : ",";
    host.append(sep).append(t.host);
    hostaddr.append(sep).append(t.hostaddr);
    port.append(sep).append(t.port);
    any_host = any_host || !t.host.empty();
    any_addr = any_addr || !t.hostaddr.empty();
    any_port = any_port || !t.port.empty();
  }
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : options_) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  for (const auto& [key, value, any] :
       {std::tuple{"host", &host, any_host}, std::tuple{"hostaddr", &hostaddr, any_addr},
        std::tuple{"port", &port, any_port}}) {
    if (!any) continue;
    keys.push_back(key);
    values.push_back(value->c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  conn_ = PQconnectStartParams(keys.data(), values.data(), 0);
  if (conn_ == nullptr) {
    lost("cannot connect to PostgreSQL: out of memory");
    return;
  }
  PQsetNoticeProcessor(conn_, log_notice, const_cast<Redactor*>(redactor_.get()));
  if (PQstatus(conn_) == CONNECTION_BAD) {
    lost(connect_failure(one_line(PQerrorMessage(conn_))));
    return;
  }
  state_ = State::kConnecting;
  pos_ = position();
  deadline_.start(connect_timeout_, [this] { host_timed_out(); });
  // Before the first PQconnectPoll, libpq waits for the socket to be writable.
  watch(UV_WRITABLE);
}

// Which of targets_ libpq is trying now: it moves on when one fails or does not fit.
size_t PgConnection::position() const {
  const std::string host = PQhost(conn_) != nullptr ? PQhost(conn_) : "";
  const std::string addr = PQhostaddr(conn_) != nullptr ? PQhostaddr(conn_) : "";
  for (size_t i = pos_; i < targets_.size(); ++i) {
    if (targets_[i].host == host && targets_[i].hostaddr == addr) return i;
  }
  return pos_;
}

void PgConnection::advance_connect() {
  // libpq may close this socket and open another, even under the same number: the watch goes
  // first, while the socket it watches is still open.
  unwatch();
  const PostgresPollingStatusType status = PQconnectPoll(conn_);
  if (status == PGRES_POLLING_OK) {
    on_connected();
    return;
  }
  if (status == PGRES_POLLING_FAILED) {
    lost(connect_failure(one_line(PQerrorMessage(conn_))));
    return;
  }
  // libpq's connect_timeout is not applied to PQconnectPoll: each host gets it from here.
  if (const size_t now = position(); now != pos_) {
    pos_ = now;
    deadline_.start(connect_timeout_, [this] { host_timed_out(); });
  }
  watch(status == PGRES_POLLING_READING ? UV_READABLE : UV_WRITABLE);
}

// A host that does not answer (its packets dropped) would hold the attempt until TCP gives up,
// minutes later: the attempt starts over from the next host, as libpq's blocking connect does.
void PgConnection::host_timed_out() {
  const std::string errors = one_line(PQerrorMessage(conn_));
  if (!errors.empty()) setbacks_.push_back(errors);
  setbacks_.push_back(fmt::format("{}:{} did not answer within {}", PQhost(conn_), PQport(conn_),
                                  format_duration(connect_timeout_)));
  close();
  if (pos_ + 1 >= targets_.size()) {
    lost(connect_failure(""));
    return;
  }
  ++pos_;
  start_attempt();
}

void PgConnection::on_connected() {
  deadline_.stop();
  if (PQsetnonblocking(conn_, 1) != 0) {
    lost(libpq_error(fmt::format("PostgreSQL at {}", server())));
    return;
  }
  state_ = State::kReady;
  ++connects_;
  next_backoff_ = backoff_.first;
  setbacks_.clear();
  spdlog::info("connected to PostgreSQL at {}{}", server(), last_error_.empty() ? "" : " again");
  last_error_.clear();
  watch(UV_READABLE);
  if (on_connect_) on_connect_();
  send_next();
}

void PgConnection::watch(int events) {
  if (watch_ == nullptr) {
    auto* w = new Watch;
    if (PQsocket(conn_) < 0 || uv_poll_init_socket(loop_.raw(), &w->poll, PQsocket(conn_)) != 0) {
      delete w;
      lost(libpq_error(fmt::format("cannot watch the socket of the connection to {}", server())));
      return;
    }
    w->poll.data = w;
    w->owner = this;
    watch_ = w;
  }
  if (watch_->events == events) return;
  watch_->events = events;
  uv_poll_start(&watch_->poll, events, [](uv_poll_t* p, int status, int) {
    auto* w = static_cast<Watch*>(p->data);
    if (w->owner == nullptr) return;
    if (status < 0) {
      // libuv has stopped the handle (a socket error, such as the server's reset): it must be
      // started again, and a connection past its connect is gone. Read as any other event, the
      // answer could be left waiting on a handle that no longer fires.
      w->events = 0;
      PgConnection* c = w->owner;
      if (c->state_ != State::kConnecting) {
        guarded_io([c, status] {
          // libuv says EBADF for any socket error; the socket knows which.
          int error = 0;
          socklen_t len = sizeof error;
          const bool known =
              getsockopt(PQsocket(c->conn_), SOL_SOCKET, SO_ERROR, &error, &len) == 0 && error != 0;
          c->lost(fmt::format("the connection to PostgreSQL at {} broke: {}", c->server(),
                              known ? std::strerror(error) : uv_strerror(status)));
        });
        return;
      }
    }
    guarded_io([w] { w->owner->on_io(); });
  });
}

void PgConnection::unwatch() {
  if (watch_ == nullptr) return;
  watch_->owner = nullptr;
  uv_poll_stop(&watch_->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&watch_->poll),
           [](uv_handle_t* h) { delete static_cast<Watch*>(h->data); });
  watch_ = nullptr;
}

void PgConnection::close() {
  unwatch();
  deadline_.stop();
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
  flushing_ = false;
  copy_in_ = false;
}

void PgConnection::on_io() {
  if (state_ == State::kConnecting) {
    advance_connect();
    return;
  }
  if (conn_ == nullptr) return;
  if (PQconsumeInput(conn_) == 0) {
    lost(libpq_error(fmt::format("the connection to PostgreSQL at {} broke", server())));
    return;
  }
  if (flushing_) {
    flush();
    if (conn_ == nullptr) return;
  }
  if (state_ == State::kBusy) {
    if (copy_in_) {
      feed_copy();
    } else {
      collect();
    }
    return;
  }
  // Idle: what arrives is a notice, or the server's last word before it closes.
  (void)PQisBusy(conn_);
  while (PGnotify* n = PQnotifies(conn_)) PQfreemem(n);
  if (PQstatus(conn_) == CONNECTION_BAD) {
    lost(libpq_error(fmt::format("the connection to PostgreSQL at {} broke", server())));
  }
}

void PgConnection::send_next() {
  if (state_ != State::kReady || queue_.empty()) return;
  current_ = std::move(queue_.front());
  queue_.pop_front();
  int sent = 0;
  if (current_->script) {
    sent = PQsendQuery(conn_, current_->sql.c_str());
  } else {
    std::vector<const char*> values;
    values.reserve(current_->params.size());
    for (const auto& p : current_->params) values.push_back(p ? p->c_str() : nullptr);
    sent = PQsendQueryParams(conn_, current_->sql.c_str(), static_cast<int>(values.size()), nullptr,
                             values.data(), nullptr, nullptr, 0);
  }
  if (sent == 0) {
    lost(libpq_error(fmt::format("cannot send to PostgreSQL at {}", server())));
    return;
  }
  state_ = State::kBusy;
  flush();
}

void PgConnection::flush() {
  const int rc = PQflush(conn_);
  if (rc < 0) {
    lost(libpq_error(fmt::format("cannot send to PostgreSQL at {}", server())));
    return;
  }
  flushing_ = rc == 1;
  watch(UV_READABLE | (flushing_ ? UV_WRITABLE : 0));
}

// Hands current_'s COPY data to libpq: a chunk only once libpq has passed everything before it
// to the socket, so that its buffer holds one chunk whatever the data's size, and no more than
// kPgCopyBytesPerTurn in one turn of the loop.
void PgConnection::feed_copy() {
  const std::string* data = current_->copy ? &*current_->copy : nullptr;
  size_t this_turn = 0;
  while (copy_in_ && !flushing_) {
    const bool more = data != nullptr && copy_sent_ < data->size();
    if (more && this_turn >= kPgCopyBytesPerTurn) {
      // The rest on a later turn; the socket is writable, so that turn comes at once.
      watch(UV_READABLE | UV_WRITABLE);
      return;
    }
    const size_t n = more ? std::min(kPgCopyChunkBytes, data->size() - copy_sent_) : 0;
    const int rc = more ? PQputCopyData(conn_, data->data() + copy_sent_, static_cast<int>(n))
                        : PQputCopyEnd(conn_, data != nullptr ? nullptr : kPgNoCopyData);
    if (rc < 0) {
      lost(libpq_error(fmt::format("cannot send to PostgreSQL at {}", server())));
      return;
    }
    if (rc == 0) {
      // libpq could not take it without waiting: again once the socket is writable.
      watch(UV_READABLE | UV_WRITABLE);
      return;
    }
    if (more) {
      copy_sent_ += n;
      this_turn += n;
    } else {
      copy_in_ = false;
    }
    flush();
    if (conn_ == nullptr) return;
  }
  // The COPY has ended: its answer may be in libpq's buffer already, read while data went out.
  if (!copy_in_) collect();
}

void PgConnection::collect() {
  while (PQisBusy(conn_) == 0) {
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) {
      finish_current();
      return;
    }
    switch (PQresultStatus(r)) {
      case PGRES_TUPLES_OK: {
        answer_.rows.clear();
        const int n = PQntuples(r), cols = PQnfields(r);
        answer_.rows.reserve(static_cast<size_t>(n));
        for (int i = 0; i < n; ++i) {
          auto& row = answer_.rows.emplace_back();
          row.reserve(static_cast<size_t>(cols));
          for (int c = 0; c < cols; ++c) {
            if (PQgetisnull(r, i, c) != 0) {
              row.emplace_back(std::nullopt);
            } else {
              row.emplace_back(
                  std::string(PQgetvalue(r, i, c), static_cast<size_t>(PQgetlength(r, i, c))));
            }
          }
        }
        break;
      }
      case PGRES_COMMAND_OK:
      case PGRES_EMPTY_QUERY:
        break;
      case PGRES_COPY_IN:
        // The server waits for the data: PQgetResult would answer this again until it has it.
        PQclear(r);
        copy_in_ = true;
        copy_sent_ = 0;
        feed_copy();
        return;
      default:
        if (answer_.error.empty()) {
          const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
          const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
          answer_.sqlstate = state != nullptr ? state : "";
          answer_.error =
              redact(fmt::format("PostgreSQL at {}: {}", server(),
                                 one_line(primary != nullptr ? primary : PQresultErrorMessage(r))));
        }
        break;
    }
    PQclear(r);
  }
}

void PgConnection::finish_current() {
  if (PQstatus(conn_) == CONNECTION_BAD) {
    lost(answer_.error.empty()
             ? libpq_error(fmt::format("the connection to PostgreSQL at {} broke", server()))
             : answer_.error);
    return;
  }
  Item done = std::move(*current_);
  current_.reset();
  PgResult answer = std::move(answer_);
  answer_ = PgResult{};
  state_ = State::kReady;
  // A script that failed inside BEGIN leaves its transaction aborted: the next statement,
  // whoever sent it, must not run inside it.
  if (PQtransactionStatus(conn_) != PQTRANS_IDLE)
    queue_.push_front(Item{"ROLLBACK", {}, true, {}, std::nullopt});
  send_next();
  if (done.done) done.done(std::move(answer));
}

void PgConnection::lost(std::string error) {
  close();
  // One line when the database goes away, not one per attempt while it stays away.
  if (error != last_error_) {
    spdlog::warn("{}; trying again in {}", error, format_duration(next_backoff_));
  } else {
    spdlog::debug("{}; trying again in {}", error, format_duration(next_backoff_));
  }
  last_error_ = error;
  state_ = State::kWaiting;
  retry_.start(next_backoff_, [this] { resolve(); });
  next_backoff_ = std::min(next_backoff_ * 2, backoff_.max);
  fail_all(error);
}

void PgConnection::fail_all(const std::string& error) {
  std::deque<Item> failed = std::move(queue_);
  queue_.clear();
  if (current_) failed.push_front(std::move(*current_));
  current_.reset();
  answer_ = PgResult{};
  for (auto& item : failed) {
    if (item.done) item.done(PgResult{error, "", {}});
  }
}

}  // namespace lookout
