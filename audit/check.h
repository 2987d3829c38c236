// One line of the audit's scorecard, and the catalogue that gives each kind of check its title,
// pass criteria, why it matters and how to fix it, so every judge only decides and explains.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lookout::audit {

enum class Result { kPass, kWarn, kFail, kSkipped };
const char* to_string(Result r);

struct CheckResult {
  std::string id;  // the kind, or "kind:subject" ("private_route:/admin", "dkim:s1")
  std::string title;
  std::string criteria;  // what passes
  Result result = Result::kSkipped;
  std::string evidence;  // what was seen; a secret only ever masked
  std::string why;
  std::string fix;
};

// A check of the catalogue's `kind` with its verdict. `subject` names what it was about (a path,
// a selector) in the id and title. An unknown kind is a programming error and throws.
CheckResult make_check(std::string_view kind, Result result, std::string evidence,
                       std::string_view subject = {});

// 0 when nothing failed, 1 when anything did (warnings and skips do not fail an audit).
int exit_code(const std::vector<CheckResult>& checks);

}  // namespace lookout::audit
