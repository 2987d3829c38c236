// CPU time of this process and of a PostgreSQL server, for the cluster benchmarks' load tools.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace lookout::bench {

inline double own_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The fields of /proc/PID/stat after the command name (which may hold spaces): [0] is the state,
// [1] the parent, [11] and [12] utime and stime, [13] and [14] those of waited-for children.
inline std::vector<std::string> stat_fields(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/stat");
  std::string line;
  std::getline(in, line);
  std::vector<std::string> out;
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return out;
  std::istringstream rest(line.substr(close + 2));
  for (std::string f; rest >> f;) out.push_back(f);
  return out;
}

// CPU seconds of the server: the postmaster, each process it started that still runs, and those
// that ended (reaped by the postmaster, so counted in its children's times).
inline double server_cpu_seconds(int server_pid) {
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  const auto cpu = [&](const std::vector<std::string>& f, bool with_children) {
    if (f.size() < 15) return 0.0;
    double s = std::stod(f[11]) + std::stod(f[12]);
    if (with_children) s += std::stod(f[13]) + std::stod(f[14]);
    return s / tick;
  };
  const std::string server = std::to_string(server_pid);
  double total = cpu(stat_fields(server), true);
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string pid = entry.path().filename();
    const bool process =
        std::all_of(pid.begin(), pid.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!process || pid == server) continue;
    const auto f = stat_fields(pid);
    if (f.size() >= 15 && f[1] == server) total += cpu(f, false);
  }
  return total;
}

}  // namespace lookout::bench
