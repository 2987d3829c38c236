// SPF, DMARC and DKIM records as a mail domain's DNS may hold them; lines are records.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "probes/mail_records.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> records;
  size_t start = 0;
  while (start <= input.size()) {
    const size_t end = std::min(input.find('\n', start), input.size());
    records.push_back(input.substr(start, end - start));
    start = end + 1;
  }
  (void)lookout::check_spf("acme.test", records);
  (void)lookout::check_dmarc("_dmarc.acme.test", records);
  (void)lookout::check_dkim("s1._domainkey.acme.test", records);
  return 0;
}
