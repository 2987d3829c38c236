// User patterns: compiled as the config compiles them, then run on a body (RE2 is linear, so
// no input may stall). The first line is the pattern, the rest the body.
#include <re2/re2.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config_parser.h"
#include "probes/extract.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nl = input.find('\n');
  const std::string pattern = nl == std::string::npos ? input : input.substr(0, nl);
  std::string error;
  auto re = lookout::config_detail::compile_pattern(pattern, error);
  if (!re) {
    if (error.empty()) __builtin_trap();
    return 0;
  }
  lookout::HttpObservation obs;
  obs.body = nl == std::string::npos ? "" : input.substr(nl + 1);
  lookout::HttpExpect expect;
  expect.body_regex.re = re;
  (void)lookout::evaluate(expect, obs);
  if (re->NumberOfCapturingGroups() >= 1) {
    lookout::Extract x;
    x.name = "v";
    x.from = lookout::Extract::From::kRegex;
    x.what = pattern;
    x.regex.re = re;
    std::string why;
    (void)lookout::extract_value(x, obs, {}, why);
  }
  return 0;
}
