#include "probes/exec_probe.h"

#include <fmt/format.h>
#include <linux/close_range.h>
#include <unistd.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "core/secret.h"
#include "core/units.h"
#include "probes/perfdata.h"
#include "probes/plugin_verdict.h"

namespace lookout {

struct ExecProbe::Child {
  uv_process_t proc{};
  uv_pipe_t out{}, err{};
  ExecProbe* owner = nullptr;  // null once its run ended: the handles then only close
  int open = 0;                // handles not closed yet; the last close frees this
  int pid = 0;
  bool exited = false, out_done = false, err_done = false;
  int64_t status = 0;
  int signal = 0;
  std::optional<int64_t> exit_us;  // from the run's start to the plugin's exit
  std::string out_text, err_text;  // the first kExecMaxOutput / kExecMaxStderr bytes
  size_t out_bytes = 0;            // all it wrote to stdout, kept or not
  char read_buf[16 * 1024];

  void close(uv_handle_t* h) {
    if (uv_is_closing(h) == 0) uv_close(h, &Child::on_close);
  }
  void close_pipes() {
    close(reinterpret_cast<uv_handle_t*>(&out));
    close(reinterpret_cast<uv_handle_t*>(&err));
  }
  void maybe_done() {
    if (owner != nullptr && exited && out_done && err_done) owner->on_child_done(*this);
  }

  static void on_close(uv_handle_t* h) {
    auto* c = static_cast<Child*>(h->data);
    if (--c->open > 0) return;
    if (c->owner != nullptr) c->owner->child_ = nullptr;
    delete c;
  }

  static void on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
    // Each read is consumed in on_read before the next: one buffer serves both pipes.
    auto* c = static_cast<Child*>(h->data);
    *buf = uv_buf_init(c->read_buf, sizeof c->read_buf);
  }

  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
    auto* c = static_cast<Child*>(s->data);
    const bool is_out = s == reinterpret_cast<uv_stream_t*>(&c->out);
    if (nread > 0) {
      std::string& text = is_out ? c->out_text : c->err_text;
      const size_t cap = is_out ? kExecMaxOutput : kExecMaxStderr;
      const size_t n = static_cast<size_t>(nread);
      // Past the cap the output is read and dropped, so the plugin can finish writing and exit.
      if (text.size() < cap) text.append(buf->base, std::min(n, cap - text.size()));
      if (is_out) c->out_bytes += n;
      return;
    }
    if (nread == 0) return;  // EAGAIN
    // End of output, or a read error: either way nothing more comes from this pipe.
    uv_read_stop(s);
    c->close(reinterpret_cast<uv_handle_t*>(s));
    (is_out ? c->out_done : c->err_done) = true;
    c->maybe_done();  // may free this
  }

  static void on_exit(uv_process_t* p, int64_t status, int term_signal) {
    auto* c = static_cast<Child*>(p->data);
    c->exited = true;
    c->status = status;
    c->signal = term_signal;
    // What the plugin left running in its group would hold the pipes open and outlive it.
    // libuv reaped the plugin just now, in this turn, so its group id is not yet anyone else's.
    kill(-c->pid, SIGKILL);
    if (c->owner != nullptr) c->exit_us = c->owner->elapsed_us();
    c->close(reinterpret_cast<uv_handle_t*>(p));
    c->maybe_done();  // may free this
  }
};

namespace {

// The plugin gets the standard streams and nothing else of lookout's: not its sockets, its
// database or its log. libuv's own descriptors are close-on-exec already; this marks the rest
// (a library's socket opened without SOCK_CLOEXEC) before each fork. Best effort: without
// close_range (an old kernel, a seccomp filter) nothing changes.
void exec_mark_descriptors_cloexec() { close_range(3, ~0U, CLOSE_RANGE_CLOEXEC); }

bool exec_out_of_resources(int err) {
  return err == UV_EMFILE || err == UV_ENFILE || err == UV_EAGAIN || err == UV_ENOMEM;
}

nlohmann::json exec_optional(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

std::string exec_first_line(std::string_view text) {
  return plugin_text(text.substr(0, text.find('\n')));
}

}  // namespace

ExecProbe::ExecProbe(const MonitorConfig& m, ProbeContext& ctx,
                     std::shared_ptr<const Redactor> redactor)
    : ProbeSession(m, ctx, std::move(redactor)), spec_(m.spec_as<ExecSpec>()) {
  std::set<std::string> named;
  for (const auto& [name, value] : spec_.env) {
    env_.push_back(name + "=" + value.reveal());
    named.insert(name);
  }
  if (named.count("PATH") == 0) env_.push_back(fmt::format("PATH={}", kExecDefaultPath));
  // Plugins print numbers and messages for the C locale: "0.5", not "0,5".
  if (named.count("LANG") == 0) env_.emplace_back("LANG=C");
}

ExecProbe::~ExecProbe() { abort(); }

bool ExecProbe::begin() {
  if (spec_.command.empty()) return false;
  auto* c = new Child;
  c->owner = this;
  c->proc.data = c->out.data = c->err.data = c;
  uv_loop_t* loop = ctx_.loop.raw();
  uv_pipe_init(loop, &c->out, 0);
  uv_pipe_init(loop, &c->err, 0);
  c->open = 3;

  std::vector<char*> args;
  for (const auto& a : spec_.command) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  for (const auto& e : env_) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);

  uv_stdio_container_t stdio[3];
  stdio[0].flags = UV_IGNORE;  // /dev/null
  stdio[1].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[1].data.stream = reinterpret_cast<uv_stream_t*>(&c->out);
  stdio[2].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[2].data.stream = reinterpret_cast<uv_stream_t*>(&c->err);

  uv_process_options_t o{};
  o.exit_cb = &Child::on_exit;
  o.file = args[0];
  o.args = args.data();
  o.env = env.data();
  o.cwd = "/";
  // A session of its own makes the plugin the leader of a new process group: one kill() then
  // reaches every process it started. Its exit is still reported.
  o.flags = UV_PROCESS_DETACHED;
  o.stdio_count = 3;
  o.stdio = stdio;

  exec_mark_descriptors_cloexec();
  const int rc = uv_spawn(loop, &c->proc, &o);
  c->proc.data = c;
  child_ = c;
  if (rc != 0) {
    // The handles were set up either way and close like any other; the run ends on the next
    // turn, as begin() must not end it from inside.
    c->owner = nullptr;
    child_ = nullptr;
    c->close(reinterpret_cast<uv_handle_t*>(&c->proc));
    c->close_pipes();
    next_turn([this, rc] { spawn_failed(rc); });
    return true;
  }
  c->pid = c->proc.pid;
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->out), &Child::on_alloc, &Child::on_read);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->err), &Child::on_alloc, &Child::on_read);
  return true;
}

void ExecProbe::abort() {
  Child* c = std::exchange(child_, nullptr);
  if (c == nullptr) return;
  c->owner = nullptr;
  // The plugin and whatever it started; the process handle stays open until libuv has reaped
  // the plugin (closing it sooner would leave a zombie), then closes in on_exit.
  if (!c->exited && c->pid > 0) kill(-c->pid, SIGKILL);
  c->close_pipes();
}

void ExecProbe::spawn_failed(int err) {
  ProbeResult r;
  r.outcome = Outcome::kDown;
  r.perfdata.emplace();
  if (exec_out_of_resources(err)) {
    r.kind = ErrorKind::kResources;
    r.cause = fmt::format("lookout could not start the plugin: {}", uv_strerror(err));
  } else {
    r.kind = ErrorKind::kInternal;
    r.cause = fmt::format("cannot run {}: {}", spec_.command[0], uv_strerror(err));
  }
  finish(std::move(r));  // may destroy this
}

std::string ExecProbe::masked(std::string text) const {
  return redactor_ ? redactor_->apply(std::move(text)) : text;
}

ProbeResult ExecProbe::timed_out() {
  ProbeResult r;
  r.cause = fmt::format("timeout after {}", format_duration(deadline()));
  r.perfdata.emplace();
  nlohmann::json detail{{"command", spec_.command}, {"timed_out", true}};
  if (child_ != nullptr) {
    detail["output_bytes"] = child_->out_bytes;
    detail["output"] = masked(split_plugin_output(child_->out_text).status_line);
    detail["exited"] = child_->exited;
  }
  r.detail = detail.dump();
  return r;
}

void ExecProbe::on_child_done(Child& c) {
  const PluginOutput out = split_plugin_output(c.out_text);
  const std::string err_line = masked(exec_first_line(c.err_text));
  PluginExit e;
  e.status = c.status;
  e.signal = c.signal;
  // A plugin that failed before it could print its status line often says why on stderr.
  e.line = masked(out.status_line.empty() ? err_line : out.status_line);
  const PluginVerdict v = judge_plugin(e);

  ProbeResult r;
  r.outcome = v.outcome;
  r.kind = v.kind;
  r.cause = v.cause;
  if (c.exit_us) {
    r.timings.total_us = *c.exit_us;
    r.samples_us.push_back(*c.exit_us);
  }

  std::vector<PerfdataValue> values;
  std::set<std::string> seen;
  nlohmann::json items = nlohmann::json::array();
  for (auto& item : parse_perfdata(out.perfdata)) {
    item.label = masked(std::move(item.label));
    items.push_back({{"label", item.label},
                     {"value", exec_optional(item.value)},
                     {"uom", item.uom},
                     {"warn", item.warn},
                     {"crit", item.crit},
                     {"min", exec_optional(item.min)},
                     {"max", exec_optional(item.max)}});
    // One series per label: a label a plugin repeats keeps its first value.
    if (item.value && seen.insert(item.label).second) values.push_back({item.label, *item.value});
  }
  r.perfdata = std::move(values);

  nlohmann::json detail{
      {"command", spec_.command},
      {"exit_status", c.signal != 0 ? nlohmann::json(nullptr) : nlohmann::json(c.status)},
      {"signal",
       c.signal != 0 ? nlohmann::json(plugin_signal_name(c.signal)) : nlohmann::json(nullptr)},
      {"output", masked(out.status_line)},
      {"output_bytes", c.out_bytes},
      {"truncated", c.out_bytes > c.out_text.size()},
      {"perfdata", std::move(items)}};
  if (!err_line.empty()) detail["stderr"] = err_line;
  r.detail = detail.dump();
  finish(std::move(r));  // may destroy this
}

}  // namespace lookout
