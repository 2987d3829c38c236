// The mail-domain records of a dns monitor with check = "spf" | "dmarc" | "dkim": each record
// exists once, parses, and has none of the known mistakes. Pure; the SPF lookup count through
// include: and redirect= is summed by the probe, which fetches those records.
#pragma once

#include <string>
#include <vector>

namespace lookout {

struct SpfRecord {
  std::string problem;                // empty when the record is sound on its own
  int lookups = 0;                    // DNS-querying terms of this record (RFC 7208 4.6.4)
  std::vector<std::string> includes;  // include: and redirect= domains, to count through
};

// `records`: the TXT answers of the domain; only those starting with v=spf1 count.
SpfRecord check_spf(const std::string& domain, const std::vector<std::string>& records);

// The problem with the DMARC / DKIM TXT answers, or "" when they are sound.
std::string check_dmarc(const std::string& name, const std::vector<std::string>& records);
std::string check_dkim(const std::string& name, const std::vector<std::string>& records);

}  // namespace lookout
