// The dnssec probe: one question validated by libunbound, then the DNSKEY and DS RRsets of its
// chain of trust read from the answer's zone up to the trust anchor, for the signatures'
// expiry. libunbound resolves and validates on a thread of its own (one per monitor, made at
// the first run); its answers come back through a pipe that a uv_poll watches, so the loop
// never blocks (docs/kinds/dnssec.md).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/kinds/dnssec_spec.h"
#include "probes/dnssec_verdict.h"
#include "probes/probe_session.h"
#include "probes/rrsig_expiry.h"

struct ub_ctx;
struct ub_result;

namespace lookout {

class DnssecProbe final : public ProbeSession {
 public:
  DnssecProbe(const MonitorConfig& m, ProbeContext& ctx, std::shared_ptr<const Redactor> redactor);
  ~DnssecProbe() override;

 private:
  // One question in flight: the answer itself, or a DNSKEY or DS RRset of the chain.
  struct Question {
    DnssecProbe* probe;
    std::string name;
    uint16_t type;
    bool chain;          // a DNSKEY or DS RRset of the chain, not the answer
    int id = 0;          // libunbound's
    bool stale = false;  // its run ended, but libunbound may still answer it
  };
  struct Answered {
    Question* question;
    int err;
    ub_result* result;
  };
  struct Poll;

  bool begin() override;
  void abort() override;
  ProbeResult timed_out() override;

  // Makes the context on the first run; "" or what went wrong.
  std::string make_context();
  // 0, or libunbound's error.
  int ask(const std::string& name, uint16_t type, bool chain);
  // Asks for a zone's DNSKEY or DS once a run; false when the run ended instead.
  bool ask_chain(const std::string& zone, uint16_t type);
  static void on_result(void* data, int err, ub_result* result);
  void on_readable();
  // Handles one answer; true when the run ended (then this may be destroyed).
  bool handle(Answered a);
  bool on_answer(int err, ub_result* result);
  bool on_chain(const Question& q, int err, ub_result* result);
  bool judge();
  bool fail(ErrorKind kind, std::string cause);
  std::string server() const;

  const DnssecSpec& spec_;  // m_'s
  std::set<std::string> anchor_zones_;
  ub_ctx* ub_ = nullptr;
  Poll* poll_ = nullptr;                                // freed in its close callback
  std::map<int, std::unique_ptr<Question>> questions_;  // by libunbound's async id
  std::vector<Answered> answered_;
  // The run so far.
  DnssecAnswer answer_;
  std::vector<std::string> answers_;
  std::vector<RrsigRecord> signatures_;
  std::set<std::string> asked_;  // "DNSKEY zone", "DS zone"
  std::optional<int64_t> answer_us_;
  std::string chain_note_;  // why the chain was not read to the anchor, when it was not
};

}  // namespace lookout
