// expect.json and extract on arbitrary bodies: the first line is a JSON Pointer, the rest the body.
#include <cstddef>
#include <cstdint>
#include <string>

#include "probes/extract.h"
#include "probes/http_expect.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nl = input.find('\n');
  const std::string pointer = nl == std::string::npos ? input : input.substr(0, nl);
  try {
    (void)nlohmann::json::json_pointer(pointer);  // the config refuses what does not parse
  } catch (const nlohmann::json::exception&) {
    return 0;
  }
  lookout::HttpObservation obs;
  obs.status = 200;
  obs.body = nl == std::string::npos ? "" : input.substr(nl + 1);
  obs.headers = {{"Content-Type", "application/json"}, {"X-Token", pointer}};
  lookout::HttpExpect expect;
  expect.json = {{pointer, nlohmann::json("ok")},
                 {"/status", nlohmann::json(1)},
                 {"/a/0", nlohmann::json(nullptr)}};
  expect.headers = {{"X-Token", lookout::Secret::plain(pointer)}};
  (void)lookout::evaluate(expect, obs);

  lookout::Extract x;
  x.name = "v";
  x.from = lookout::Extract::From::kJson;
  x.what = pointer;
  std::string why;
  (void)lookout::extract_value(x, obs, {}, why);
  return 0;
}
