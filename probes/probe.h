// The probe interface and its result. A failure is a value with a kind and a cause a person
// can act on, never an exception.
//
// The callback contract: if start() returns false the completion callback never runs;
// otherwise it runs exactly once, on the loop thread, also on timeout and on cancel().
// The callback may destroy the probe. Every kind keeps it through ProbeSession
// (probes/probe_session.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/source_address.h"

namespace lookout {

class CurlBridge;
class EventLoop;
struct MonitorConfig;
class Redactor;

// Ordered so that a larger value is worse: "down wins".
enum class Outcome : uint8_t { kUp = 0, kDegraded = 1, kDown = 2 };
const char* to_string(Outcome o);

enum class ErrorKind : uint8_t {
  kNone,
  kExpectation,  // a response came but did not match expect.*
  kSlow,         // a response matched but above expect.max_latency
  kTimeout,
  kDns,
  kNoRecords,  // dns: the name holds no record of the type (NODATA) or does not exist (NXDOMAIN)
  kConnect,    // refused, reset, unreachable
  kTls,
  kRedirects,  // more redirects than allowed
  kBodyTooLarge,
  kProtocol,  // garbage or an empty reply
  kCancelled,
  kInternal,
  kLate,       // heartbeat: no ping by its due time plus grace, or a run past max_runtime
  kJobFailed,  // heartbeat: the job reported a failure (/fail, a non-zero exit status)
  // The daemon, not the target, was short of something (file descriptors, a thread): the run
  // is put back and started again, never judged.
  kResources,
  // The target's server refused to answer for now (HTTP 429, a WHOIS query limit): says nothing
  // about what it watches.
  kRateLimited,
};
const char* to_string(ErrorKind k);

// Durations of each phase in microseconds; nullopt when the phase did not happen.
struct PhaseTimings {
  std::optional<int64_t> dns_us;
  std::optional<int64_t> connect_us;
  std::optional<int64_t> tls_us;
  std::optional<int64_t> first_byte_us;  // from the request sent (connected) to the first byte
  std::optional<int64_t> total_us;       // set only when a response came
};

// exec: one value of a plugin's performance data, in base units (probes/perfdata.h).
struct PerfdataValue {
  std::string label;
  double value = 0;
  bool operator==(const PerfdataValue&) const = default;
};

struct ProbeResult {
  Outcome outcome = Outcome::kDown;
  ErrorKind kind = ErrorKind::kInternal;
  std::string cause;  // empty when up; already stripped of secrets
  PhaseTimings timings;
  int http_status = 0;  // 0 without a response
  WallTime started_at;
  MonoTime started_mono;
  // Latencies for the SLO window and the rollups: each sample of a latency run, the total of
  // an http run or a journey; empty without a response.
  std::vector<int64_t> samples_us;
  // Per kind, as JSON stored with the run: a journey's steps, a latency run's samples, a dns
  // run's answers, a cert run's chain. Never holds a secret or an extracted value.
  std::string detail;
  std::optional<WallTime> cert_not_after;  // cert: the earliest not-after of the verified chain
  // dns: the answer set seen (normalised), and whether this run made it the baseline.
  std::optional<std::vector<std::string>> answers;
  bool new_baseline = false;
  // exec: the values of the plugin's performance data, each label once. Every exec run sets it
  // (empty when it gave none), so a value does not outlive the output that had it.
  std::optional<std::vector<PerfdataValue>> perfdata;
};

class Probe {
 public:
  using Done = std::function<void(ProbeResult)>;
  virtual ~Probe() = default;
  virtual bool start(Done done) = 0;
  virtual void cancel() = 0;
  // dns with on_change = "alert": the accepted answer set (stored, or accepted by a person).
  virtual void set_baseline(const std::vector<std::string>& /*answers*/) {}
};

// Microseconds as milliseconds for JSON (a run's detail, `probe --json`); null when unset.
nlohmann::json ms_json(const std::optional<int64_t>& us);

// What probes share on the loop thread.
struct ProbeContext {
  EventLoop& loop;
  CurlBridge& curl;
  const Clock& clock;
  SourceAddress source;  // where every probe connects from; empty: the system chooses
};

// The probe that runs a monitor of its kind (probes/registry.cc). The probe keeps a reference
// to `m` (one copy of a monitor's config, not one per holder), so `m` must outlive it.
std::unique_ptr<Probe> make_probe(const MonitorConfig& m, ProbeContext& ctx,
                                  std::shared_ptr<const Redactor> redactor);
// Whether a kind of this name has a probe.
bool has_probe(std::string_view kind);

}  // namespace lookout
