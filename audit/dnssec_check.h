// The audit's DNSSEC line: the dnssec kind's run on the audited host, judged for a launch.
// Pure, so each verdict is tested on hand-made runs.
#pragma once

#include <string>

#include "audit/check.h"
#include "probes/probe.h"

namespace lookout::audit {

// `run` is a dnssec run of `host` from the root's trust anchor. Secure passes (a signature of
// the chain running out soon warns); an unsigned zone is skipped, since signing is a choice and
// nothing is broken; bogus fails, since validating resolvers then answer SERVFAIL for the host;
// a run that could not validate at all (no answer, a resolver that withholds the root's keys)
// warns.
CheckResult judge_dnssec(const ProbeResult& run, const std::string& host);

}  // namespace lookout::audit
