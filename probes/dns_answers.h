// DNS answers in presentation form, from raw DNS messages, and the dns monitor's verdict.
// Names are lower case without the trailing dot, MX reads "10 mx.example", the strings of one
// TXT record are joined, TTLs are dropped, and a set is sorted without duplicates, so a
// reordering is never a change. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/kinds/dns_spec.h"
#include "probes/probe.h"

namespace lookout {

// The answer records of type `qtype` in `message`; nullopt with `error` when it does not parse.
std::optional<std::vector<std::string>> parse_answers(std::string_view message, uint16_t qtype,
                                                      std::string& error);

// A value written in the config (expect.answers) in the same form as parsed answers.
std::string normalise_answer(uint16_t qtype, std::string_view text);

struct AnswerDiff {
  std::vector<std::string> added, removed;
  bool empty() const { return added.empty() && removed.empty(); }
};
AnswerDiff diff_answers(const std::vector<std::string>& before,
                        const std::vector<std::string>& now);

struct DnsVerdict {
  Outcome outcome = Outcome::kUp;
  ErrorKind kind = ErrorKind::kNone;
  std::string cause;
};

// expect.answers, expect.contains and the baseline (when on_change = "alert" and one is set).
DnsVerdict judge_answers(const DnsCheck& check, const std::vector<std::string>& answers,
                         const std::optional<std::vector<std::string>>& baseline);

}  // namespace lookout
