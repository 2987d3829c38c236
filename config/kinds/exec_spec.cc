// The exec kind's keys.
#include "config/kinds/exec_spec.h"

#include <unistd.h>

#include <filesystem>

#include "config/kinds/registry.h"

namespace lookout::config_detail {
namespace {

const std::set<std::string>& exec_keys() {
  static const std::set<std::string> keys{"command", "env"};
  return keys;
}

const std::set<std::string>& exec_no_keys() {
  static const std::set<std::string> keys;
  return keys;
}

bool exec_env_name_ok(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (const char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

// The program must exist when the config is checked: a typo found by `lookout check` rather
// than by the first run as an UNKNOWN result.
void check_exec_program(Parser& p, const toml::node& n, const std::string& path) {
  if (path.empty() || path[0] != '/') {
    p.error(n.source(),
            fmt::format("command[0] \"{}\" must be an absolute path: the plugin runs without a "
                        "shell and without a search in PATH",
                        path));
    return;
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    p.error(n.source(), fmt::format("command[0] {} is not a file", path));
    return;
  }
  if (access(path.c_str(), X_OK) != 0) {
    p.error(n.source(), fmt::format("command[0] {} is not executable", path));
  }
}

void parse_exec_command(Parser& p, const toml::node& n, ExecSpec& spec) {
  const auto* arr = n.as_array();
  if (arr == nullptr || arr->empty()) {
    p.error(n.source(),
            "command must be a non-empty array of strings, as in command = "
            "[\"/usr/lib/nagios/plugins/check_load\", \"-w\", \"5,4,3\"]; it runs "
            "without a shell, one string per argument");
    return;
  }
  bool ok = true;
  for (size_t i = 0; i < arr->size(); ++i) {
    const toml::node& item = *arr->get(i);
    const std::string key = fmt::format("command[{}]", i);
    auto text = p.text(item, key);
    if (text && text->is_secret()) {
      p.error(item.source(),
              fmt::format("{} cannot come from ${{env:...}} or ${{file:...}}: every user on the "
                          "machine can read a process's arguments (/proc/PID/cmdline); give the "
                          "plugin its secret in env",
                          key));
      text.reset();
    }
    if (!text) {
      ok = false;
      continue;
    }
    std::string v = text->reveal();
    if (v.find('\0') != std::string::npos) {
      p.error(item.source(), fmt::format("{} holds a NUL character", key));
      ok = false;
      continue;
    }
    if (i == 0) check_exec_program(p, item, v);
    spec.command.push_back(std::move(v));
  }
  if (!ok) spec.command.clear();
}

void parse_exec_env(Parser& p, const toml::node& n, ExecSpec& spec) {
  const auto* t = n.as_table();
  if (t == nullptr) {
    p.error(n.source(), "env must be a table, as in env = { LANG = \"C\" }");
    return;
  }
  for (const auto& [k, v] : *t) {
    const std::string name(k.str());
    if (!exec_env_name_ok(name)) {
      p.error(k.source(), fmt::format("env name \"{}\" is not a variable name (A-Z, a-z, 0-9 and "
                                      "_, not starting with a digit)",
                                      name));
      continue;
    }
    auto value = p.text(v, fmt::format("env.{}", name));
    if (!value) continue;
    if (value->reveal().find('\0') != std::string::npos) {
      p.error(v.source(), fmt::format("env.{} holds a NUL character", name));
      continue;
    }
    // What a plugin is given may be printed back (a usage message, a failed login): masked in
    // its causes and output however it is written.
    if (!value->empty()) p.also_secret(value->reveal());
    spec.env.emplace_back(name, std::move(*value));
  }
}

std::shared_ptr<const KindSpec> parse_exec(Parser& p, const Layers& layers,
                                           const toml::table& where, MonitorConfig& m) {
  auto spec = std::make_shared<ExecSpec>();
  if (const auto* n = layers.get("command")) {
    parse_exec_command(p, *n, *spec);
  } else {
    p.error(where.source(), fmt::format("exec monitor \"{}\" has no command", m.name));
  }
  if (const auto* n = layers.get("env")) parse_exec_env(p, *n, *spec);
  // Plugins run on this machine whatever they check: they share one per-host cap, so no more
  // than [scheduler] max_per_host of them run at once.
  m.host = "exec";
  return spec;
}

}  // namespace

extern const KindParser kExecKind{"exec", exec_keys, exec_no_keys, parse_exec};

}  // namespace lookout::config_detail
