// The latency sketch's stored bytes: decoding anything either fails or gives a sketch that
// encodes and decodes to the same quantiles.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "store/sketch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto s = lookout::LatencySketch::decode(bytes);
  if (!s) return 0;
  const auto again = lookout::LatencySketch::decode(s->encode());
  if (!again) __builtin_trap();
  for (double q : {0.0, 0.5, 0.95, 0.99, 1.0}) {
    if (s->quantile(q) != again->quantile(q)) __builtin_trap();
  }
  return 0;
}
